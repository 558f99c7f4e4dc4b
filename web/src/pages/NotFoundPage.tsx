import { Link } from 'react-router-dom';
import { Card } from '../components/ui';

export function NotFoundPage() {
  return (
    <Card testId="not-found">
      <h1 className="text-lg font-semibold">Page not found</h1>
      <p className="mt-1 text-sm text-slate-600">
        There is nothing here.{' '}
        <Link to="/" className="text-indigo-600 underline">
          Go to the dashboard
        </Link>
        .
      </p>
    </Card>
  );
}

export function NoAccess({ scope }: { scope: string }) {
  return (
    <Card testId="no-access">
      <h1 className="text-lg font-semibold">No access</h1>
      <p className="mt-1 text-sm text-slate-600">
        This page needs the <code className="rounded bg-slate-100 px-1">{scope}</code> scope, which your session does
        not have.
      </p>
    </Card>
  );
}

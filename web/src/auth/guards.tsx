/** Route guards: who may see a page (signed in, signed out, holding a scope). */
import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router-dom';
import { Loading } from '../components/ui';
import { NoAccess } from '../pages/NotFoundPage';
import { useAuth } from './AuthContext';

function FullPageLoading() {
  return (
    <main className="flex min-h-screen items-center justify-center">
      <Loading text="Restoring your session…" />
    </main>
  );
}

/** Signed-in users only; others go to the sign-in page, which brings them back afterwards. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'loading') return <FullPageLoading />;
  if (status === 'anonymous') {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <>{children}</>;
}

/** The page, or "No access" naming the first scope the session lacks. */
export function RequireScopes({ scopes, children }: { scopes: readonly string[]; children: ReactNode }) {
  const { hasScope } = useAuth();
  const missing = scopes.find((s) => !hasScope(s));
  return missing ? <NoAccess scope={missing} /> : <>{children}</>;
}

/** Signed-out visitors only; a signed-in user goes where they were headed, else home. */
export function GuestOnly({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'loading') return <FullPageLoading />;
  if (status === 'authenticated') {
    const from = (location.state as { from?: string } | null)?.from;
    return <Navigate to={from && from !== '/login' ? from : '/'} replace />;
  }
  return <>{children}</>;
}

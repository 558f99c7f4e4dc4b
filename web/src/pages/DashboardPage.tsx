import { Link } from 'react-router-dom';
import { SCOPES } from '../api/types';
import { useAuth } from '../auth/AuthContext';
import { Badge, Button, Card, LiveMessage, PageHeader } from '../components/ui';
import { formatCountdown, formatDateTime } from '../lib/format';
import { useAction, useNow } from '../lib/hooks';

function Row({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <div className="grid grid-cols-3 gap-3 py-2.5 text-sm">
      <dt className="text-slate-500">{label}</dt>
      <dd className="col-span-2 min-w-0 break-words text-slate-900" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

export function DashboardPage() {
  const { user, session, scopes, hasScope, refreshNow, api } = useAuth();
  const now = useNow(1000);
  const action = useAction();

  const left = session ? Math.max(0, (session.expiresAt - now) / 1000) : 0;
  const nextRefresh = api.nextRefreshIn();
  const pct = session ? Math.min(100, Math.max(0, (left / session.expiresIn) * 100)) : 0;

  const doRefresh = () => action.run('refresh', refreshNow);

  return (
    <div data-testid="dashboard">
      <PageHeader
        title={`Welcome${user?.display_name ? `, ${user.display_name}` : ''}`}
        subtitle="Your account, your organisation and the session you are using."
      />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <Card title="Who you are" className="lg:col-span-2" testId="card-identity">
          <dl className="divide-y divide-slate-100">
            <Row label="Email" testId="dashboard-email">
              {user?.email ?? '—'}
            </Row>
            <Row label="Display name" testId="dashboard-display-name">
              {user?.display_name || <span className="text-slate-500">Not set</span>}
            </Row>
            <Row label="Organisation" testId="dashboard-tenant">
              {user?.tenant ? (
                <>
                  {user.tenant.name} <span className="text-slate-500">({user.tenant.slug})</span>
                </>
              ) : (
                '—'
              )}
            </Row>
            <Row label="Roles" testId="dashboard-roles">
              <div className="flex flex-wrap gap-1.5">
                {(user?.roles ?? []).length === 0 && <span className="text-slate-500">None</span>}
                {(user?.roles ?? []).map((r) => (
                  <Badge key={r} color="indigo">
                    {r}
                  </Badge>
                ))}
              </div>
            </Row>
            <Row label="Scopes" testId="dashboard-scopes">
              <div className="flex flex-wrap gap-1.5">
                {scopes.length === 0 && <span className="text-slate-500">None</span>}
                {scopes.map((s) => (
                  <Badge key={s}>{s}</Badge>
                ))}
              </div>
            </Row>
            <Row label="Member since">{formatDateTime(user?.created_at)}</Row>
          </dl>
        </Card>

        <Card title="This session" testId="card-session">
          <div className="text-sm text-slate-500">Access token expires in</div>
          <div
            className="mt-1 text-3xl font-semibold tabular-nums text-slate-900"
            data-testid="token-countdown"
            aria-live="off"
          >
            {formatCountdown(left)}
          </div>
          <div
            className="mt-3 h-2 w-full overflow-hidden rounded-full bg-slate-100"
            role="progressbar"
            aria-label="Access token lifetime left"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={Math.round(pct)}
          >
            <div
              className={`h-full rounded-full ${pct > 20 ? 'bg-indigo-500' : 'bg-amber-500'}`}
              style={{ width: `${pct}%` }}
            />
          </div>
          <p className="mt-3 text-sm text-slate-600">
            {nextRefresh !== null
              ? `Renews automatically in ${formatCountdown(nextRefresh / 1000)}.`
              : 'Renews automatically when needed.'}
          </p>
          <p className="mt-1 break-all text-xs text-slate-500">
            Session <span data-testid="dashboard-session-id">{session?.sessionId}</span>
          </p>
          <LiveMessage message={action.message} className="mt-3" />
          <div className="mt-4 flex flex-wrap gap-2">
            <Button
              variant="secondary"
              size="sm"
              onClick={doRefresh}
              loading={action.busy === 'refresh'}
              data-testid="refresh-now"
            >
              Renew now
            </Button>
            <Link
              to="/sessions"
              className="inline-flex items-center rounded-md px-2.5 py-1.5 text-xs font-medium text-indigo-600 hover:bg-indigo-50 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
            >
              Manage sessions →
            </Link>
          </div>
        </Card>
      </div>

      <div className="mt-6 grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-4">
        {hasScope(SCOPES.ordersRead) && (
          <QuickLink
            to="/orders"
            title="Orders"
            text={hasScope(SCOPES.ordersWrite) ? 'View, place and cancel orders' : 'View orders'}
          />
        )}
        <QuickLink to="/profile" title="Profile" text="Display name and password" />
        {hasScope(SCOPES.usersManage) && (
          <QuickLink to="/admin" title="Administration" text="Users, lockouts and audit log" />
        )}
        {hasScope(SCOPES.actorsRead) && (
          <QuickLink to="/operator" title="Operator" text="Live actor supervision tree" />
        )}
      </div>
    </div>
  );
}

function QuickLink({ to, title, text }: { to: string; title: string; text: string }) {
  return (
    <Link
      to={to}
      className="block rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200 hover:ring-indigo-300 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
    >
      <div className="font-medium text-slate-900">{title}</div>
      <div className="mt-0.5 text-sm text-slate-500">{text}</div>
    </Link>
  );
}

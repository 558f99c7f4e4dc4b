import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import {
  endUserSession,
  getUser,
  listLockouts,
  listUserSessions,
  resetUserMfa,
  unlockUser,
  updateUser,
  ROLES,
  type Role,
  type UserUpdate,
} from '../../api/admin';
import { SCOPES } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { Alert, Badge, Button, Card, Checkbox, Empty, LiveMessage, Loading } from '../../components/ui';
import { describeUserAgent, formatDateTime, formatRelative } from '../../lib/format';
import { useAction, useQuery } from '../../lib/hooks';
import { lockedUsers } from '../../lib/lockout';
import { useAdminTenant } from './AdminLayout';
import { UserApiKeys } from './UserApiKeys';

export function UserDetailPage() {
  const { id = '' } = useParams();
  const { api, hasScope, user: me } = useAuth();
  const { params, search, tenant } = useAdminTenant();
  const userQ = useQuery(() => getUser(api.http, id, params), [api, id, tenant]);
  const sessionsQ = useQuery(
    () => listUserSessions(api.http, id, params).then((page) => page.items),
    [api, id, tenant],
  );
  const lockoutsQ = useQuery(() => listLockouts(api.http, params).then((page) => page.items), [api, tenant]);
  const lock = lockedUsers(lockoutsQ.data ?? []).get(id);
  /** The roles being edited, until saved or reset; the user's own otherwise. */
  const [draftRoles, setDraftRoles] = useState<Role[] | null>(null);
  const action = useAction();

  const u = userQ.data;
  const roles = draftRoles ?? u?.roles ?? [];
  const canRevoke = hasScope(SCOPES.sessionsManage);
  const run = action.run;
  const msg = action.message;
  const busy = action.busy;

  const patch = (body: UserUpdate, text: string) =>
    run(Object.keys(body)[0], async () => {
      const updated = await updateUser(api.http, id, body, params);
      userQ.setData((prev) => (prev ? { ...prev, ...updated } : updated));
      setDraftRoles(null);
      if (body.is_active === false) sessionsQ.reload();
      return text;
    });

  if (userQ.loading && !u) return <Loading text="Loading user…" />;
  if (userQ.error || !u) {
    return (
      <div className="space-y-4">
        <Alert onRetry={userQ.reload}>{userQ.error ?? 'User not found.'}</Alert>
        <Link to={{ pathname: '/admin/users', search }} className="text-sm text-indigo-600 hover:underline">
          ← Back to users
        </Link>
      </div>
    );
  }

  const active = u.is_active !== false;
  const rolesChanged = [...roles].sort().join() !== [...u.roles].sort().join();

  return (
    <div className="space-y-6" data-testid="admin-user-detail">
      <div>
        <Link to={{ pathname: '/admin/users', search }} className="text-sm text-indigo-600 hover:underline">
          ← Back to users
        </Link>
        <h2 className="mt-2 text-xl font-semibold text-slate-900" data-testid="admin-user-email">
          {u.email}
        </h2>
        <div className="mt-1 flex flex-wrap items-center gap-2 text-sm text-slate-500">
          {u.display_name && <span>{u.display_name}</span>}
          <Badge color={active ? 'green' : 'gray'}>{active ? 'active' : 'disabled'}</Badge>
          <Badge color={u.mfa_enabled ? 'indigo' : 'gray'} testId="admin-user-mfa">
            {u.mfa_enabled ? 'two-factor on' : 'two-factor off'}
          </Badge>
          {lock && (
            <Badge color="amber" testId="admin-user-locked">
              {lock.permanent ? 'locked (permanent)' : `locked until ${formatDateTime(lock.locked_until)}`}
            </Badge>
          )}
          <span>Created {formatDateTime(u.created_at)}</span>
        </div>
      </div>
      <LiveMessage message={msg} testId="admin-user-message" />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <Card title="Roles">
          <fieldset>
            <legend className="sr-only">Roles of {u.email}</legend>
            <div className="space-y-2">
              {ROLES.map((r) => (
                <Checkbox
                  key={r}
                  label={r}
                  checked={roles.includes(r)}
                  onChange={(e) => setDraftRoles(e.target.checked ? [...roles, r] : roles.filter((x) => x !== r))}
                  data-testid={`role-${r}`}
                />
              ))}
            </div>
          </fieldset>
          <div className="mt-4 flex gap-2">
            <Button
              onClick={() => void patch({ roles }, 'Roles saved. They apply from the user’s next token.')}
              disabled={!rolesChanged || roles.length === 0}
              loading={busy === 'roles'}
              data-testid="roles-save"
            >
              Save roles
            </Button>
            {rolesChanged && (
              <Button variant="ghost" onClick={() => setDraftRoles(null)}>
                Reset
              </Button>
            )}
          </div>
        </Card>
        <Card title="Account">
          <div className="space-y-4 text-sm">
            <div className="flex flex-wrap items-center justify-between gap-3">
              <div>
                <div className="font-medium text-slate-900">{active ? 'Disable account' : 'Enable account'}</div>
                <div className="text-slate-500">
                  {active
                    ? 'A disabled user cannot sign in; their sessions end at once.'
                    : 'Let this user sign in again.'}
                </div>
              </div>
              <Button
                variant={active ? 'danger' : 'primary'}
                onClick={() =>
                  patch(
                    { is_active: !active },
                    active ? 'Account disabled; its sessions were ended.' : 'Account enabled.',
                  )
                }
                loading={busy === 'is_active'}
                disabled={u.id === me?.id}
                data-testid="user-toggle-active"
              >
                {active ? 'Disable' : 'Enable'}
              </Button>
            </div>
            <div className="flex flex-wrap items-center justify-between gap-3 border-t border-slate-100 pt-4">
              <div>
                <div className="font-medium text-slate-900">Unlock sign-in</div>
                <div className="text-slate-500">Clear a lockout after too many failed sign-ins.</div>
              </div>
              <Button
                variant="secondary"
                loading={busy === 'unlock'}
                onClick={() =>
                  void run('unlock', async () => {
                    await unlockUser(api.http, id, params);
                    lockoutsQ.setData((prev) => (prev ?? []).filter((l) => l.user_id !== id));
                    return 'Sign-in unlocked.';
                  })
                }
                data-testid="user-unlock"
              >
                Unlock
              </Button>
            </div>
            <div className="flex flex-wrap items-center justify-between gap-3 border-t border-slate-100 pt-4">
              <div>
                <div className="font-medium text-slate-900">Turn off two-factor sign-in</div>
                <div className="text-slate-500">
                  {u.mfa_enabled
                    ? 'For a lost phone: the user signs in with the password alone and sets it up again.'
                    : 'Two-factor sign-in is off for this user.'}
                </div>
              </div>
              <Button
                variant="secondary"
                loading={busy === 'mfa'}
                disabled={!u.mfa_enabled}
                onClick={() =>
                  void run('mfa', async () => {
                    await resetUserMfa(api.http, id, params);
                    userQ.setData((prev) => (prev ? { ...prev, mfa_enabled: false } : prev));
                    return 'Two-factor sign-in turned off for this user.';
                  })
                }
                data-testid="user-reset-mfa"
              >
                Turn off
              </Button>
            </div>
          </div>
        </Card>
      </div>
      <Card
        title="Sessions"
        actions={
          <Button size="sm" variant="ghost" onClick={sessionsQ.reload}>
            Refresh
          </Button>
        }
      >
        {sessionsQ.loading && !sessionsQ.data ? (
          <Loading text="Loading sessions…" />
        ) : sessionsQ.error ? (
          <Alert onRetry={sessionsQ.reload}>{sessionsQ.error}</Alert>
        ) : (sessionsQ.data ?? []).length === 0 ? (
          <Empty title="No active sessions" />
        ) : (
          <ul className="divide-y divide-slate-100" data-testid="admin-user-sessions">
            {(sessionsQ.data ?? []).map((s) => (
              <li
                key={s.session_id}
                className="flex flex-col gap-2 py-3 sm:flex-row sm:items-center sm:justify-between"
              >
                <div className="min-w-0 text-sm">
                  <div className="font-medium text-slate-900" title={s.user_agent ?? undefined}>
                    {describeUserAgent(s.user_agent)}
                  </div>
                  <div className="text-xs text-slate-500">
                    <span className="font-mono">{s.client_ip ?? 'unknown IP'}</span> · signed in{' '}
                    {formatDateTime(s.created_at)} · last active {formatRelative(s.last_seen_at)}
                  </div>
                </div>
                {canRevoke && (
                  <Button
                    size="sm"
                    variant="danger"
                    loading={busy === s.session_id}
                    onClick={() =>
                      void run(s.session_id, async () => {
                        await endUserSession(api.http, s.session_id, params);
                        sessionsQ.setData((prev) => (prev ?? []).filter((x) => x.session_id !== s.session_id));
                        return 'Session ended.';
                      })
                    }
                    data-testid="admin-session-end"
                  >
                    End session
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Card>
      <UserApiKeys userId={id} />
    </div>
  );
}

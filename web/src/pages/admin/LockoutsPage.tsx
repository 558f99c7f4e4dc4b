import { listLockouts, unlockUser, type Lockout } from '../../api/admin';
import { useAuth } from '../../auth/AuthContext';
import {
  Alert,
  Badge,
  Button,
  Card,
  Empty,
  LiveMessage,
  Loading,
  Table,
  td,
  tdNum,
  th,
  thNum,
} from '../../components/ui';
import { formatDateTime } from '../../lib/format';
import { useAction, useNow, usePaged } from '../../lib/hooks';
import { lockState } from '../../lib/lockout';
import { useAdminTenant } from './AdminLayout';

const STATE_BADGE = {
  permanent: { color: 'red', label: 'locked (permanent)' },
  locked: { color: 'amber', label: 'locked' },
  'not locked': { color: 'gray', label: 'not locked' },
} as const;

export function LockoutsPage() {
  const { api } = useAuth();
  const { params, tenant } = useAdminTenant();
  // The server answers a tenant's lockouts in one page.
  const list = usePaged(() => listLockouts(api.http, params), [api, tenant]);
  // Re-render now and then so that an expired lock shows as such.
  const now = useNow(5000);
  const action = useAction();

  const unlock = (row: Lockout, userId: string) =>
    action.run(userId, async () => {
      await unlockUser(api.http, userId, params);
      list.reload();
      return `${row.email} unlocked.`;
    });

  return (
    <div data-testid="admin-lockouts">
      <LiveMessage message={action.message} className="mb-4" testId="lockouts-message" />
      <Card
        title="Sign-in lockouts"
        actions={
          <Button size="sm" variant="ghost" onClick={list.reload} data-testid="lockouts-refresh">
            Refresh
          </Button>
        }
      >
        <p className="mb-4 text-sm text-slate-500">
          Emails with failed sign-ins or an active lock, whether or not an account exists for them. Locks follow the
          lockout ladder; a permanent lock is lifted only by an unlock here.
        </p>
        {list.loading ? (
          <Loading text="Loading lockouts…" />
        ) : list.error && list.items.length === 0 ? (
          <Alert onRetry={list.reload}>{list.error}</Alert>
        ) : list.items.length === 0 ? (
          <Empty title="No lockouts" testId="lockouts-empty">
            Nobody is locked out right now.
          </Empty>
        ) : (
          <>
            <Table caption="Lockouts" testId="lockouts-table">
              <thead>
                <tr>
                  <th scope="col" className={th}>
                    Email
                  </th>
                  <th scope="col" className={th}>
                    State
                  </th>
                  <th scope="col" className={th}>
                    Locked until
                  </th>
                  <th scope="col" className={thNum}>
                    Failures
                  </th>
                  <th scope="col" className={thNum}>
                    Step
                  </th>
                  <th scope="col" className={th}>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {list.items.map((l) => {
                  const state = lockState(l, now);
                  const badge = STATE_BADGE[state];
                  return (
                    <tr
                      key={`${l.user_id ?? ''}|${l.email}`}
                      data-testid="lockout-row"
                      data-email={l.email}
                      data-state={state}
                    >
                      <td className={`${td} font-medium text-slate-900`}>
                        {l.email}
                        {!l.user_id && (
                          <div className="text-xs font-normal text-slate-500">no account with this email</div>
                        )}
                      </td>
                      <td className={td}>
                        <Badge color={badge.color}>{badge.label}</Badge>
                      </td>
                      <td className={`${td} whitespace-nowrap`}>
                        {l.permanent ? 'until unlocked' : state === 'locked' ? formatDateTime(l.locked_until) : '—'}
                      </td>
                      <td className={tdNum}>{l.failures}</td>
                      <td className={tdNum}>{l.step}</td>
                      <td className={`${td} text-right`}>
                        {l.user_id && (
                          <Button
                            size="sm"
                            variant="secondary"
                            loading={action.busy === l.user_id}
                            onClick={() => l.user_id && void unlock(l, l.user_id)}
                            data-testid="lockout-unlock"
                          >
                            Unlock<span className="sr-only">{` ${l.email}`}</span>
                          </Button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </Table>
            {list.hasMore && (
              <div className="mt-4 text-center">
                <Button variant="secondary" onClick={list.loadMore} loading={list.loadingMore}>
                  Load more
                </Button>
              </div>
            )}
          </>
        )}
      </Card>
    </div>
  );
}

import { useState } from 'react';
import { describeError } from '../../api/problem';
import type { Lockout, Page } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { Alert, Badge, Button, Card, Empty, Loading, Table, td, tdNum, th, thNum } from '../../components/ui';
import { formatDateTime } from '../../lib/format';
import { useNow, usePaged } from '../../lib/hooks';
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
  const list = usePaged<Lockout>(
    (cursor) =>
      api.http
        .get<Page<Lockout>>('/admin/lockouts', { params: { limit: 100, ...params, ...(cursor ? { cursor } : {}) } })
        .then((r) => r.data),
    [api, tenant],
  );
  // Re-render now and then so that an expired lock shows as such.
  const now = useNow(5000);
  const [busy, setBusy] = useState<string | null>(null);
  const [msg, setMsg] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);

  const unlock = async (row: Lockout) => {
    if (!row.user_id) return;
    const userId = row.user_id;
    setBusy(userId);
    setMsg(null);
    try {
      await api.http.post(`/admin/users/${encodeURIComponent(userId)}/unlock`, undefined, { params });
      setMsg({ kind: 'success', text: `${row.email} unlocked.` });
      list.reload();
    } catch (e) {
      setMsg({ kind: 'error', text: describeError(e) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div data-testid="admin-lockouts">
      {msg && (
        <div className="mb-4">
          <Alert kind={msg.kind} testId="lockouts-message">
            {msg.text}
          </Alert>
        </div>
      )}
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
                            loading={busy === l.user_id}
                            onClick={() => unlock(l)}
                            aria-label={`Unlock ${l.email}`}
                            data-testid="lockout-unlock"
                          >
                            Unlock
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

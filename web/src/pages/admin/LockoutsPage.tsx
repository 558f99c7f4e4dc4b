import { useState } from 'react';
import { describeError } from '../../api/problem';
import type { Page } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { GenericTable, type Row } from '../../components/GenericTable';
import { Alert, Button, Card, Empty, Loading } from '../../components/ui';
import { usePaged } from '../../lib/hooks';
import { useAdminTenant } from './AdminLayout';

export function LockoutsPage() {
  const { api } = useAuth();
  const { params, tenant } = useAdminTenant();
  const list = usePaged<Row>(
    (cursor) =>
      api.http.get<Page<Row>>('/admin/lockouts', { params: { limit: 100, ...params, ...(cursor ? { cursor } : {}) } }).then((r) => r.data),
    [api, tenant],
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [msg, setMsg] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);

  const unlock = async (row: Row) => {
    const userId = String(row.user_id);
    setBusy(userId);
    setMsg(null);
    try {
      await api.http.post(`/admin/users/${encodeURIComponent(userId)}/unlock`, undefined, { params });
      setMsg({ kind: 'success', text: `${String(row.email ?? 'User')} unlocked.` });
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
          <Alert kind={msg.kind}>{msg.text}</Alert>
        </div>
      )}
      <Card
        title="Sign-in lockouts"
        actions={<Button size="sm" variant="ghost" onClick={list.reload}>Refresh</Button>}
      >
        <p className="mb-4 text-sm text-slate-500">
          Emails with failed sign-ins or an active lock. Locks follow the lockout ladder; a permanent lock needs an unlock here.
        </p>
        {list.loading ? (
          <Loading text="Loading lockouts…" />
        ) : list.error && list.items.length === 0 ? (
          <Alert onRetry={list.reload}>{list.error}</Alert>
        ) : list.items.length === 0 ? (
          <Empty title="No lockouts" testId="lockouts-empty">Nobody is locked out right now.</Empty>
        ) : (
          <>
            <GenericTable
              rows={list.items}
              caption="Lockouts"
              testId="lockouts-table"
              rowTestId="lockout-row"
              preferred={['email', 'tenant', 'failed_attempts', 'failures', 'step', 'locked_until', 'permanent', 'last_failure_at', 'updated_at']}
              hidden={['id', 'user_id', 'tenant_id']}
              actions={(row) =>
                row.user_id ? (
                  <Button size="sm" variant="secondary" loading={busy === String(row.user_id)} onClick={() => unlock(row)} data-testid="lockout-unlock">
                    Unlock
                  </Button>
                ) : null
              }
            />
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

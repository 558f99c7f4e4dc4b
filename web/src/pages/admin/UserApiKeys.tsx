/** The admin user page's API keys: the user's keys that are not revoked, each revocable. */
import { listUserApiKeys, revokeUserApiKey, type ApiKey } from '../../api/apiKeys';
import { useAuth } from '../../auth/AuthContext';
import { Alert, Button, Card, Empty, LiveMessage, Loading } from '../../components/ui';
import { useAction, useQuery } from '../../lib/hooks';
import { KeyFacts } from '../ApiKeysPage';
import { useAdminTenant } from './AdminLayout';

export function UserApiKeys({ userId }: { userId: string }) {
  const { api } = useAuth();
  const { params, tenant } = useAdminTenant();
  const q = useQuery(() => listUserApiKeys(api.http, userId, params).then((page) => page.items), [api, userId, tenant]);
  const action = useAction();

  const revoke = (k: ApiKey) =>
    action.run(k.id, async () => {
      await revokeUserApiKey(api.http, k.id, params);
      q.setData((prev) => (prev ?? []).filter((x) => x.id !== k.id));
      return `Key “${k.name}” revoked.`;
    });

  return (
    <Card
      title="API keys"
      actions={
        <Button size="sm" variant="ghost" onClick={q.reload}>
          Refresh<span className="sr-only"> API keys</span>
        </Button>
      }
    >
      <LiveMessage message={action.message} className="mb-3" testId="admin-api-keys-message" />
      {q.loading && !q.data ? (
        <Loading text="Loading API keys…" />
      ) : q.error ? (
        <Alert onRetry={q.reload}>{q.error}</Alert>
      ) : (q.data ?? []).length === 0 ? (
        <Empty title="No API keys" />
      ) : (
        <ul className="divide-y divide-slate-100" data-testid="admin-user-api-keys">
          {(q.data ?? []).map((k) => (
            <li
              key={k.id}
              className="flex flex-col gap-2 py-3 sm:flex-row sm:items-center sm:justify-between"
              data-testid="admin-api-key-row"
            >
              <KeyFacts apiKey={k} />
              <Button
                size="sm"
                variant="danger"
                loading={action.busy === k.id}
                onClick={() => void revoke(k)}
                data-testid="admin-api-key-revoke"
              >
                Revoke<span className="sr-only"> key {k.name}</span>
              </Button>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

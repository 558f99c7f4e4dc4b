import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { Page } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { GenericTable, type Row } from '../../components/GenericTable';
import { Alert, Button, Card, Empty, Field, Loading } from '../../components/ui';
import { usePaged } from '../../lib/hooks';
import { useAdminTenant } from './AdminLayout';

const KNOWN_EVENTS = [
  'login_succeeded',
  'login_failed',
  'account_locked',
  'logout',
  'token_refreshed',
  'token_reused',
  'session_revoked',
  'password_changed',
  'user_created',
  'user_updated',
];

export function AuditPage() {
  const { api } = useAuth();
  const { params, tenant } = useAdminTenant();
  const [sp, setSp] = useSearchParams();
  const event = sp.get('event') ?? '';
  const userId = sp.get('user_id') ?? '';
  const [eventInput, setEventInput] = useState(event);
  const [userInput, setUserInput] = useState(userId);

  const list = usePaged<Row>(
    (cursor) =>
      api.http
        .get<Page<Row>>('/admin/audit', {
          params: {
            limit: 50,
            ...params,
            ...(event ? { event } : {}),
            ...(userId ? { user_id: userId } : {}),
            ...(cursor ? { cursor } : {}),
          },
        })
        .then((r) => r.data),
    [api, tenant, event, userId],
  );

  const seenEvents = Array.from(new Set([...KNOWN_EVENTS, ...list.items.map((r) => String(r.event ?? '')).filter(Boolean)])).sort();

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const next = new URLSearchParams(sp);
    const ev = eventInput.trim();
    const uid = userInput.trim();
    if (ev) next.set('event', ev);
    else next.delete('event');
    if (uid) next.set('user_id', uid);
    else next.delete('user_id');
    setSp(next);
  };

  const clear = () => {
    setEventInput('');
    setUserInput('');
    const next = new URLSearchParams(sp);
    next.delete('event');
    next.delete('user_id');
    setSp(next);
  };

  return (
    <div data-testid="admin-audit">
      <Card title="Audit log" className="mb-6">
        <form onSubmit={apply} className="grid items-end gap-3 sm:grid-cols-[1fr_1fr_auto]" data-testid="audit-filters">
          <Field label="Event" list="audit-events" value={eventInput} onChange={(e) => setEventInput(e.target.value)} placeholder="Any event" data-testid="audit-event" />
          <datalist id="audit-events">
            {seenEvents.map((e) => (
              <option key={e} value={e} />
            ))}
          </datalist>
          <Field label="User id" value={userInput} onChange={(e) => setUserInput(e.target.value)} placeholder="Any user" spellCheck={false} data-testid="audit-user-id" />
          <div className="flex gap-2">
            <Button type="submit" data-testid="audit-apply">Filter</Button>
            {(event || userId) && (
              <Button variant="ghost" onClick={clear}>
                Clear
              </Button>
            )}
          </div>
        </form>
      </Card>
      <Card>
        {list.loading ? (
          <Loading text="Loading audit events…" />
        ) : list.error && list.items.length === 0 ? (
          <Alert onRetry={list.reload}>{list.error}</Alert>
        ) : list.items.length === 0 ? (
          <Empty title="No audit events" testId="audit-empty">{event || userId ? 'Nothing matches these filters.' : 'Nothing has been recorded yet.'}</Empty>
        ) : (
          <>
            <GenericTable
              rows={list.items}
              caption="Audit events"
              testId="audit-table"
              rowTestId="audit-row"
              preferred={['created_at', 'at', 'timestamp', 'event', 'email', 'user_id', 'actor_id', 'session_id', 'ip', 'client_ip', 'details', 'data']}
              hidden={['id', 'tenant_id']}
            />
            {list.error && <div className="mt-3"><Alert>{list.error}</Alert></div>}
            <div className="mt-4 flex items-center justify-between text-sm text-slate-500">
              <span data-testid="audit-count">{list.items.length} events shown</span>
              {list.hasMore && (
                <Button variant="secondary" onClick={list.loadMore} loading={list.loadingMore} data-testid="audit-load-more">
                  Load more
                </Button>
              )}
            </div>
          </>
        )}
      </Card>
    </div>
  );
}

import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { listAudit } from '../../api/admin';
import { useAuth } from '../../auth/AuthContext';
import { Alert, Badge, Button, Card, Empty, Field, Loading, Table, td, th } from '../../components/ui';
import { describeUserAgent, formatDateTime } from '../../lib/format';
import { usePaged } from '../../lib/hooks';
import { useAdminTenant } from './AdminLayout';

/** Events the server records (`event`; `outcome` says how it went). */
const KNOWN_EVENTS = [
  'register',
  'login',
  'lockout',
  'refresh',
  'logout',
  'session_ended',
  'token_reuse_detected',
  'password_change',
  'profile_updated',
  'admin_order_cancelled',
  'admin_user_created',
  'admin_user_updated',
  'admin_unlock',
  'admin_session_ended',
  'tenant_created',
  'tenant_updated',
  'api_key_created',
  'api_key_revoked',
  'api_key_refused',
];

export function AuditPage() {
  const { api } = useAuth();
  const { params, tenant } = useAdminTenant();
  const [sp, setSp] = useSearchParams();
  const event = sp.get('event') ?? '';
  const userId = sp.get('user_id') ?? '';
  const [eventInput, setEventInput] = useState(event);
  const [userInput, setUserInput] = useState(userId);

  const list = usePaged(
    (cursor) =>
      listAudit(api.http, {
        limit: 50,
        ...params,
        ...(event ? { event } : {}),
        ...(userId ? { user_id: userId } : {}),
        ...(cursor ? { cursor } : {}),
      }),
    [api, tenant, event, userId],
  );

  const seenEvents = Array.from(
    new Set([...KNOWN_EVENTS, ...list.items.map((r) => String(r.event ?? '')).filter(Boolean)]),
  ).sort();

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
        <form
          onSubmit={apply}
          className="grid grid-cols-1 items-end gap-3 sm:grid-cols-[1fr_1fr_auto]"
          data-testid="audit-filters"
        >
          <Field
            label="Event"
            list="audit-events"
            value={eventInput}
            onChange={(e) => setEventInput(e.target.value)}
            placeholder="Any event"
            data-testid="audit-event"
          />
          <datalist id="audit-events">
            {seenEvents.map((e) => (
              <option key={e} value={e} />
            ))}
          </datalist>
          <Field
            label="User id"
            value={userInput}
            onChange={(e) => setUserInput(e.target.value)}
            placeholder="Any user"
            spellCheck={false}
            data-testid="audit-user-id"
          />
          <div className="flex gap-2">
            <Button type="submit" data-testid="audit-apply">
              Filter
            </Button>
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
          <Empty title="No audit events" testId="audit-empty">
            {event || userId ? 'Nothing matches these filters.' : 'Nothing has been recorded yet.'}
          </Empty>
        ) : (
          <>
            <Table caption="Audit events" testId="audit-table">
              <thead>
                <tr>
                  <th scope="col" className={th}>
                    When
                  </th>
                  <th scope="col" className={th}>
                    Event
                  </th>
                  <th scope="col" className={th}>
                    Outcome
                  </th>
                  <th scope="col" className={th}>
                    User
                  </th>
                  <th scope="col" className={th}>
                    Client
                  </th>
                  <th scope="col" className={th}>
                    Detail
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {list.items.map((e) => (
                  <tr
                    key={e.id}
                    data-testid="audit-row"
                    data-event={e.event}
                    data-outcome={e.outcome}
                    data-user-id={e.user_id ?? ''}
                  >
                    <td className={`${td} whitespace-nowrap`} title={e.at}>
                      {formatDateTime(e.at)}
                    </td>
                    <td className={`${td} font-medium text-slate-900`}>{e.event}</td>
                    <td className={td}>
                      <Badge color={outcomeColor(e.outcome)}>{e.outcome}</Badge>
                    </td>
                    <td className={`${td} font-mono text-xs`}>
                      {e.user_id ? (
                        <button
                          type="button"
                          className="text-left text-indigo-700 hover:underline"
                          title="Show this user's events"
                          onClick={() => {
                            setUserInput(e.user_id ?? '');
                            const next = new URLSearchParams(sp);
                            next.set('user_id', e.user_id ?? '');
                            setSp(next);
                          }}
                        >
                          {e.user_id.slice(0, 8)}…
                        </button>
                      ) : (
                        <span className="text-slate-500">—</span>
                      )}
                    </td>
                    <td className={`${td} text-xs`}>
                      <div className="font-mono">{e.ip ?? '—'}</div>
                      <div className="text-slate-500" title={e.user_agent ?? undefined}>
                        {describeUserAgent(e.user_agent)}
                      </div>
                    </td>
                    <td className={`${td} text-xs`} title={e.request_id ? `request ${e.request_id}` : undefined}>
                      <Detail value={e.detail} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
            {list.error && (
              <div className="mt-3">
                <Alert>{list.error}</Alert>
              </div>
            )}
            <div className="mt-4 flex items-center justify-between text-sm text-slate-500">
              <span data-testid="audit-count">{list.items.length} events shown</span>
              {list.hasMore && (
                <Button
                  variant="secondary"
                  onClick={list.loadMore}
                  loading={list.loadingMore}
                  data-testid="audit-load-more"
                >
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

function outcomeColor(outcome: string): 'green' | 'red' | 'amber' | 'gray' {
  if (/^(success|ok|created|updated)$/.test(outcome)) return 'green';
  if (/fail|denied|refused|reuse/.test(outcome)) return 'red';
  if (/lock|ended|revoked/.test(outcome)) return 'amber';
  return 'gray';
}

/** A detail value as text: strings as they are, anything else as JSON. */
function detailText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

/** The detail object of an event as `key value` lines. */
function Detail({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="text-slate-500">—</span>;
  if (typeof value !== 'object' || Array.isArray(value)) return <span className="break-all">{detailText(value)}</span>;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return <span className="text-slate-500">—</span>;
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-2">
      {entries.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="text-slate-500">{k.replace(/_/g, ' ')}</dt>
          <dd className="break-all text-slate-700">{detailText(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

import { useState } from 'react';
import { endSession, listSessions, type SessionInfo } from '../api/auth';
import { useAuth } from '../auth/AuthContext';
import { Alert, Badge, Button, Card, Empty, LiveMessage, Loading, PageHeader } from '../components/ui';
import { describeUserAgent, formatDateTime, formatRelative } from '../lib/format';
import { useAction, useQuery } from '../lib/hooks';

export function SessionsPage() {
  const { api, endLocally, logoutAll } = useAuth();
  const q = useQuery(() => listSessions(api.http), [api]);
  const action = useAction();
  const [confirmAll, setConfirmAll] = useState(false);

  const sessions = [...(q.data?.items ?? [])].sort((a, b) => Number(b.current) - Number(a.current));

  const end = (s: SessionInfo) =>
    action.run(s.session_id, async () => {
      await endSession(api.http, s.session_id);
      if (s.current) {
        endLocally({ kind: 'success', text: 'You ended this session and were signed out.' });
        return;
      }
      q.setData((prev) => (prev ? { ...prev, items: prev.items.filter((x) => x.session_id !== s.session_id) } : prev));
      return 'Session ended.';
    });

  const signOutEverywhere = async () => {
    // On success the app signs out and leaves this page; on failure the question closes.
    if (!(await action.run('all', () => logoutAll()))) setConfirmAll(false);
  };

  return (
    <div data-testid="sessions-page">
      <PageHeader
        title="Your sessions"
        subtitle="Every device and browser signed in to your account. End any you do not recognise."
        actions={
          confirmAll ? (
            <div className="flex flex-wrap items-center gap-2" role="group" aria-label="Confirm sign out everywhere">
              <span className="text-sm text-slate-600">Sign out of every session, including this one?</span>
              <Button
                variant="danger"
                onClick={signOutEverywhere}
                loading={action.busy === 'all'}
                data-testid="logout-all-confirm"
              >
                Yes, sign out everywhere
              </Button>
              <Button variant="secondary" onClick={() => setConfirmAll(false)} disabled={action.busy === 'all'}>
                Cancel
              </Button>
            </div>
          ) : (
            <Button variant="secondary" onClick={() => setConfirmAll(true)} data-testid="logout-all">
              Sign out everywhere
            </Button>
          )
        }
      />
      <LiveMessage
        message={action.message}
        className="mb-4"
        testId={action.message?.kind === 'error' ? 'sessions-error' : 'sessions-message'}
      />
      <Card>
        {q.loading && !q.data ? (
          <Loading text="Loading sessions…" />
        ) : q.error ? (
          <Alert onRetry={q.reload}>{q.error}</Alert>
        ) : sessions.length === 0 ? (
          <Empty title="No active sessions" />
        ) : (
          <ul className="divide-y divide-slate-100" data-testid="sessions-list">
            {sessions.map((s) => (
              <li
                key={s.session_id}
                className="flex flex-col gap-3 py-4 sm:flex-row sm:items-center sm:justify-between"
                data-testid="session-row"
                data-current={s.current}
                data-session-id={s.session_id}
              >
                <div className="min-w-0">
                  <div className="flex flex-wrap items-center gap-2">
                    <span className="font-medium text-slate-900" title={s.user_agent ?? undefined}>
                      {describeUserAgent(s.user_agent)}
                    </span>
                    {s.current && (
                      <Badge color="green" testId="session-current-badge">
                        This device
                      </Badge>
                    )}
                  </div>
                  <div className="mt-1 grid gap-x-6 gap-y-0.5 text-xs text-slate-500 sm:grid-cols-2">
                    <span>
                      IP <span className="font-mono text-slate-700">{s.client_ip ?? 'unknown'}</span>
                    </span>
                    <span>Signed in {formatDateTime(s.created_at)}</span>
                    <span title={formatDateTime(s.last_seen_at)}>Last active {formatRelative(s.last_seen_at)}</span>
                    <span>Expires {formatDateTime(s.expires_at)}</span>
                  </div>
                </div>
                <Button
                  variant={s.current ? 'secondary' : 'danger'}
                  size="sm"
                  onClick={() => void end(s)}
                  loading={action.busy === s.session_id}
                  data-testid="session-end"
                >
                  {s.current ? 'Sign out' : 'End session'}
                  <span className="sr-only">
                    {s.current
                      ? ' of this session'
                      : ` on ${describeUserAgent(s.user_agent)} from ${s.client_ip ?? 'an unknown address'}`}
                  </span>
                </Button>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}

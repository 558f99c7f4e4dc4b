import { useEffect, useState } from 'react';
import { getActors } from '../api/operators';
import { describeError } from '../api/problem';
import type { ActorsView } from '../api/operators';
import { useAuth } from '../auth/AuthContext';
import { Alert, Badge, Button, Card, Empty, Loading, PageHeader, Table, td, tdNum, th, thNum } from '../components/ui';
import { formatNumber, formatUptime } from '../lib/format';

export const POLL_MS = 2000;

export function OperatorPage() {
  const { api } = useAuth();
  const [data, setData] = useState<ActorsView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [polls, setPolls] = useState(0);
  const [paused, setPaused] = useState(false);

  // Poll while not paused (pausing ends this loop; resuming starts a new one at once).
  useEffect(() => {
    if (paused) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const controller = new AbortController();

    const poll = async () => {
      timer = null;
      if (!alive) return;
      if (document.visibilityState !== 'hidden') {
        try {
          const view = await getActors(api.http, controller.signal);
          if (!alive) return;
          setData(view);
          setError(null);
          setUpdatedAt(new Date());
          setPolls((n) => n + 1);
        } catch (e) {
          if (!alive) return;
          setError(describeError(e));
        }
      }
      if (alive) timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      alive = false;
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [api, paused]);

  const kinds = data?.kinds ?? [];
  const supervisors = data?.supervisors ?? [];
  const totals = kinds.reduce(
    (acc, k) => ({
      live: acc.live + k.live,
      restarts: acc.restarts + k.restarts,
      failures: acc.failures + k.failures,
      mailbox: acc.mailbox + k.mailbox_depth,
    }),
    { live: 0, restarts: 0, failures: 0, mailbox: 0 },
  );

  return (
    <div data-testid="operator-page" data-polls={polls}>
      <PageHeader
        title="Operator"
        subtitle="The actor supervision tree of this node, refreshed every 2 seconds."
        actions={
          <div className="flex items-center gap-3">
            <span className="flex items-center gap-2 text-sm text-slate-500">
              <span
                className={`inline-block h-2 w-2 rounded-full ${paused ? 'bg-slate-400' : error ? 'bg-rose-500' : 'bg-emerald-500 animate-pulse'}`}
                aria-hidden="true"
              />
              <span aria-live="polite">{paused ? 'Paused' : error ? 'Reconnecting…' : 'Live'}</span>
              {updatedAt && (
                <span className="hidden sm:inline" data-testid="operator-updated">
                  · {updatedAt.toLocaleTimeString()}
                </span>
              )}
            </span>
            <Button size="sm" variant="secondary" onClick={() => setPaused((p) => !p)} data-testid="operator-pause">
              {paused ? 'Resume' : 'Pause'}
            </Button>
          </div>
        }
      />
      {error && (
        <div className="mb-4">
          <Alert kind={data ? 'warning' : 'error'} testId="operator-error">
            {data ? `Showing the last good data. ${error}` : error}
          </Alert>
        </div>
      )}
      {!data && !error ? (
        <Loading text="Loading the supervision tree…" />
      ) : data ? (
        <>
          <div className="mb-6 grid grid-cols-2 gap-4 lg:grid-cols-5">
            <Stat label="Node" value={data.node} mono testId="operator-node" />
            <Stat label="Uptime" value={formatUptime(data.uptime_s)} testId="operator-uptime" />
            <Stat label="Live actors" value={formatNumber(totals.live)} testId="operator-live-total" />
            <Stat label="Restarts" value={formatNumber(totals.restarts)} warn={totals.restarts > 0} />
            <Stat label="Failures" value={formatNumber(totals.failures)} bad={totals.failures > 0} />
          </div>
          <Card title="Actor kinds" className="mb-6">
            {kinds.length === 0 ? (
              <Empty title="No actor kinds reported" />
            ) : (
              <Table caption="Actor kinds" testId="actors-kinds">
                <thead>
                  <tr>
                    <th scope="col" className={th}>
                      Kind
                    </th>
                    <th scope="col" className={thNum}>
                      Live
                    </th>
                    <th scope="col" className={thNum}>
                      Activations
                    </th>
                    <th scope="col" className={thNum}>
                      Passivations
                    </th>
                    <th scope="col" className={thNum}>
                      Restarts
                    </th>
                    <th scope="col" className={thNum}>
                      Failures
                    </th>
                    <th scope="col" className={thNum}>
                      Mailbox
                    </th>
                    <th scope="col" className={thNum}>
                      p50 ms
                    </th>
                    <th scope="col" className={thNum}>
                      p99 ms
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {kinds.map((k) => (
                    <tr key={k.kind} data-testid="actor-kind-row" data-kind={k.kind}>
                      <td className={`${td} font-medium text-slate-900`}>{k.kind}</td>
                      <td className={tdNum} data-testid="actor-live" data-value={k.live}>
                        {formatNumber(k.live)}
                      </td>
                      <td className={tdNum}>{formatNumber(k.activations)}</td>
                      <td className={tdNum}>{formatNumber(k.passivations)}</td>
                      <td className={tdNum}>
                        {k.restarts > 0 ? <Badge color="amber">{formatNumber(k.restarts)}</Badge> : '0'}
                      </td>
                      <td className={tdNum}>
                        {k.failures > 0 ? <Badge color="red">{formatNumber(k.failures)}</Badge> : '0'}
                      </td>
                      <td className={tdNum}>{formatNumber(k.mailbox_depth)}</td>
                      <td className={tdNum}>{formatNumber(k.handle_time_ms?.p50, 2)}</td>
                      <td className={tdNum}>{formatNumber(k.handle_time_ms?.p99, 2)}</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </Card>
          <Card title="Supervisors">
            {supervisors.length === 0 ? (
              <Empty title="No supervisors reported" />
            ) : (
              <Table caption="Supervisors" testId="actors-supervisors">
                <thead>
                  <tr>
                    <th scope="col" className={th}>
                      Name
                    </th>
                    <th scope="col" className={th}>
                      Kind
                    </th>
                    <th scope="col" className={thNum}>
                      Children
                    </th>
                    <th scope="col" className={thNum}>
                      Restarts
                    </th>
                    <th scope="col" className={thNum}>
                      Failures
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {supervisors.map((s) => (
                    <tr key={`${s.name}/${s.kind}`} data-testid="supervisor-row">
                      <td className={`${td} font-mono text-xs text-slate-900`}>{s.name}</td>
                      <td className={td}>{s.kind}</td>
                      <td className={tdNum}>{formatNumber(s.children)}</td>
                      <td className={tdNum}>
                        {s.restarts > 0 ? <Badge color="amber">{formatNumber(s.restarts)}</Badge> : '0'}
                      </td>
                      <td className={tdNum}>
                        {s.failures > 0 ? <Badge color="red">{formatNumber(s.failures)}</Badge> : '0'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </Card>
        </>
      ) : null}
    </div>
  );
}

function Stat({
  label,
  value,
  mono,
  warn,
  bad,
  testId,
}: {
  label: string;
  value: string;
  mono?: boolean;
  warn?: boolean;
  bad?: boolean;
  testId?: string;
}) {
  return (
    <div className="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
      <div className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</div>
      <div
        className={`mt-1 break-all text-xl font-semibold tabular-nums ${bad ? 'text-rose-700' : warn ? 'text-amber-700' : 'text-slate-900'} ${mono ? 'font-mono text-base' : ''}`}
        title={value}
        data-testid={testId}
      >
        {value}
      </div>
    </div>
  );
}

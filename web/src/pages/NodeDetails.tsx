/**
 * One node's actor system in detail: its stats, each actor kind's counters and handle times,
 * and its shard supervisors (the single-node answer of `GET /admin/actors`).
 */
import type { ActorsView } from '../api/operators';
import { Badge, Card, Empty, Table, td, tdNum, th, thNum } from '../components/ui';
import { formatNumber, formatUptime } from '../lib/format';

export function NodeDetails({ view }: { view: ActorsView }) {
  const kinds = view.kinds;
  const supervisors = view.supervisors;
  const totals = kinds.reduce(
    (acc, k) => ({
      live: acc.live + k.live,
      restarts: acc.restarts + k.restarts,
      failures: acc.failures + k.failures,
    }),
    { live: 0, restarts: 0, failures: 0 },
  );
  return (
    <>
      <div className="mb-6 grid grid-cols-2 gap-4 lg:grid-cols-5">
        <Stat label="Node" value={view.node} mono testId="operator-node" />
        <Stat label="Uptime" value={formatUptime(view.uptime_s)} testId="operator-uptime" />
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
      </Card>{' '}
    </>
  );
}

export function Stat({
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

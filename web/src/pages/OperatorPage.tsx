import { useEffect, useMemo, useState } from 'react';
import { getActorsHistory, getCluster } from '../api/operators';
import type { ActorsHistory, ActorsView, ClusterActorsView } from '../api/operators';
import { describeError } from '../api/problem';
import { useAuth } from '../auth/AuthContext';
import { TimeChart } from '../components/TimeChart';
import { Alert, Badge, Button, Card, Loading, PageHeader, SelectField, cx } from '../components/ui';
import { colorOf, handleP99, liveActors, restarts, throughput } from '../lib/actorCharts';
import { formatNumber, formatUptime } from '../lib/format';
import { NodeDetails } from './NodeDetails';

/** The cluster view is polled this often (each node reports every 2 s). */
export const POLL_MS = 2000;
/** The history gains a point each 10 s: fetching it more often would show nothing new. */
export const HISTORY_MS = 10_000;

/** A node as the page shows it: live (in the cluster view) or only remembered (history). */
interface NodeRow {
  name: string;
  reporting: boolean;
  lastReportAt: string | null;
  /** Its latest snapshot seen by this page, if any. */
  view: ActorsView | null;
}

export function OperatorPage() {
  const { api } = useAuth();
  const [cluster, setCluster] = useState<ClusterActorsView | null>(null);
  const [history, setHistory] = useState<ActorsHistory | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [polls, setPolls] = useState(0);
  const [paused, setPaused] = useState(false);
  const [chosen, setChosen] = useState<string | null>(null);
  /** The last snapshot of every node seen, so a node that stops reporting keeps its numbers. */
  const [seen, setSeen] = useState<Record<string, ActorsView>>({});

  // Poll while not paused (pausing ends this loop; resuming starts a new one at once).
  useEffect(() => {
    if (paused) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let historyAt = 0;
    const controller = new AbortController();

    const poll = async () => {
      timer = null;
      if (!alive) return;
      if (document.visibilityState !== 'hidden') {
        try {
          const wantHistory = Date.now() - historyAt >= HISTORY_MS;
          const [view, past] = await Promise.all([
            getCluster(api.http, controller.signal),
            wantHistory ? getActorsHistory(api.http, 15, controller.signal) : Promise.resolve(null),
          ]);
          if (!alive) return;
          setSeen((prev) => ({ ...prev, ...Object.fromEntries(view.nodes.map((n) => [n.node, n])) }));
          setCluster(view);
          if (past) {
            historyAt = Date.now();
            setHistory(past);
          }
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

  const nodes = useMemo<NodeRow[]>(() => {
    const rows = new Map<string, NodeRow>();
    for (const n of cluster?.nodes ?? []) {
      rows.set(n.node, { name: n.node, reporting: true, lastReportAt: null, view: n });
    }
    for (const h of history?.nodes ?? []) {
      const row = rows.get(h.node);
      if (row) row.lastReportAt = h.last_report_at;
      // In the history but no longer live: it stopped reporting (or the history is older than
      // the cluster view, in which case `reporting` says so).
      else rows.set(h.node, { name: h.node, reporting: false, lastReportAt: h.last_report_at, view: null });
    }
    return [...rows.values()]
      .map((r) => ({ ...r, view: r.view ?? seen[r.name] ?? null }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }, [cluster, history, seen]);
  const names = nodes.map((n) => n.name);
  const stopped = nodes.filter((n) => !n.reporting);
  const charts = useMemo(
    () =>
      history && {
        live: liveActors(history),
        throughput: throughput(history),
        p99: handleP99(history),
        restarts: restarts(history),
      },
    [history],
  );
  const here = cluster?.node ?? null;
  const detailName = chosen && nodes.some((n) => n.name === chosen && n.view) ? chosen : here;
  const detail = nodes.find((n) => n.name === detailName)?.view ?? null;

  return (
    <div data-testid="operator-page" data-polls={polls}>
      <PageHeader
        title="Operator"
        subtitle="Every node's actor system, refreshed every 2 seconds, with the last 15 minutes charted."
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
          <Alert kind={cluster ? 'warning' : 'error'} testId="operator-error">
            {cluster ? `Showing the last good data. ${error}` : error}
          </Alert>
        </div>
      )}
      {stopped.length > 0 && (
        <div className="mb-4">
          <Alert kind="warning" testId="operator-stopped">
            {stopped.length === 1 ? 'A node stopped reporting: ' : `${stopped.length} nodes stopped reporting: `}
            {stopped.map((n) => n.name).join(', ')}.
          </Alert>
        </div>
      )}
      {!cluster && !error ? (
        <Loading text="Loading the cluster's actor systems…" />
      ) : cluster ? (
        <>
          <Card title={`Nodes (${nodes.filter((n) => n.reporting).length} reporting)`} className="mb-6">
            <ul className="grid grid-cols-1 gap-3 md:grid-cols-2 xl:grid-cols-3" data-testid="operator-nodes">
              {nodes.map((n) => (
                <NodeCard key={n.name} row={n} here={n.name === here} color={colorOf(n.name, names)} />
              ))}
            </ul>
          </Card>
          <Card title="Last 15 minutes" className="mb-6" testId="operator-charts">
            {!charts ? (
              <Loading text="Loading the history…" />
            ) : (
              <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
                <TimeChart title="Live actors per kind" unit="actors" data={charts.live} testId="chart-live" />
                <TimeChart
                  title="Activations and passivations per second"
                  unit="/s"
                  digits={2}
                  data={charts.throughput}
                  testId="chart-throughput"
                />
                <TimeChart title="p99 handle time" unit="ms" digits={3} data={charts.p99} testId="chart-p99" />
                <TimeChart
                  title="Restarts per 10 seconds"
                  unit="restarts"
                  data={charts.restarts}
                  testId="chart-restarts"
                />
              </div>
            )}
          </Card>
          <div className="mb-4 flex flex-wrap items-end justify-between gap-3">
            <h2 className="text-lg font-semibold text-slate-900">Node details</h2>
            <SelectField
              label="Node"
              className="w-full sm:w-80"
              value={detailName ?? ''}
              onChange={(e) => setChosen(e.target.value)}
              options={nodes.filter((n) => n.view).map((n) => ({ value: n.name, label: n.name }))}
              data-testid="operator-node-select"
            />
          </div>
          {detail && <NodeDetails view={detail} />}
        </>
      ) : null}
    </div>
  );
}

function NodeCard({ row, here, color }: { row: NodeRow; here: boolean; color: string }) {
  const live = row.view?.kinds.reduce((n, k) => n + k.live, 0);
  const restarts = row.view?.kinds.reduce((n, k) => n + k.restarts, 0);
  const mailbox = row.view?.kinds.reduce((n, k) => n + k.mailbox_depth, 0);
  return (
    <li
      className={cx(
        'min-w-0 rounded-lg p-3 ring-1',
        row.reporting ? 'bg-white ring-slate-200' : 'bg-rose-50 ring-2 ring-rose-400',
      )}
      data-testid="node-card"
      data-node={row.name}
      data-reporting={row.reporting}
    >
      <div className="flex min-w-0 items-start gap-2">
        <svg width="10" height="10" aria-hidden="true" className="mt-1.5 shrink-0">
          <circle cx="5" cy="5" r="5" fill={color} />
        </svg>
        <span className="min-w-0 break-all font-mono text-sm font-medium text-slate-900">{row.name}</span>
      </div>
      <div className="mt-2 flex flex-wrap gap-2">
        {here && <Badge color="indigo">This node</Badge>}
        {row.reporting ? (
          <Badge color="green">Reporting</Badge>
        ) : (
          <Badge color="red" testId="node-not-reporting">
            Not reporting
          </Badge>
        )}
      </div>
      <dl className="mt-2 grid grid-cols-2 gap-x-3 gap-y-1 text-xs text-slate-600">
        {!row.reporting && (
          <>
            <dt>Last report</dt>
            <dd className="tabular-nums">
              {row.lastReportAt ? new Date(row.lastReportAt).toLocaleTimeString() : 'unknown'}
            </dd>
          </>
        )}
        <dt>Uptime</dt>
        <dd className="tabular-nums">{row.view ? formatUptime(row.view.uptime_s) : '—'}</dd>
        <dt>Live actors</dt>
        <dd className="tabular-nums" data-testid="node-live">
          {formatNumber(live)}
        </dd>
        <dt>Restarts</dt>
        <dd className="tabular-nums">{formatNumber(restarts)}</dd>
        <dt>Mailboxes</dt>
        <dd className="tabular-nums">{formatNumber(mailbox)}</dd>
      </dl>
    </li>
  );
}

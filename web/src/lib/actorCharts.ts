/**
 * The operator page's charts, from the actors' history (`GET /admin/actors/history`): one x axis
 * (the union of every node's 10 s steps) and one line per node (and kind, where the chart is per
 * kind). Counters in a point are deltas over its interval, so rates are delta ÷ `interval_s`.
 * Plain data: the chart component draws it, and reads it out as a table for screen readers.
 */
import type { ActorsHistory, ActorsPoint, NodeHistory } from '../api/operators';

/** One line of a chart. */
export interface Series {
  /** "node · kind" or "node · what": also the column header of the data table. */
  label: string;
  node: string;
  /** Colour (per node) and dash pattern (per kind or measure), so lines differ in more than colour. */
  color: string;
  dash: number[];
  /** One value per x; null where the node had no point (or, for p99, handled nothing). */
  values: (number | null)[];
}

export interface ChartData {
  /** Step ends, in Unix seconds, ascending. */
  x: number[];
  series: Series[];
}

/** Line colours, each at least 3:1 against white (WCAG 1.4.11). */
export const PALETTE = ['#4338ca', '#047857', '#b45309', '#be123c', '#0369a1', '#7e22ce', '#334155'];
const DASHES: Record<string, number[]> = { session: [], lockout: [6, 3], api_key: [2, 3] };
const OTHER_DASH = [10, 3, 2, 3];

export function dashOf(kind: string): number[] {
  return DASHES[kind] ?? OTHER_DASH;
}

/** A node's colour: by its place among all nodes' names, sorted, so it stays put between polls. */
export function colorOf(node: string, nodes: string[]): string {
  const index = [...nodes].sort().indexOf(node);
  return PALETTE[(index < 0 ? 0 : index) % PALETTE.length];
}

const seconds = (t: string) => Math.round(new Date(t).getTime() / 1000);

/** Every step end any node has a point for. */
function axis(nodes: NodeHistory[]): number[] {
  const all = new Set<number>();
  for (const n of nodes) for (const k of n.kinds) for (const p of k.points) all.add(seconds(p.t));
  return [...all].sort((a, b) => a - b);
}

function kindsOf(nodes: NodeHistory[]): string[] {
  const kinds: string[] = [];
  for (const n of nodes) for (const k of n.kinds) if (!kinds.includes(k.kind)) kinds.push(k.kind);
  return kinds;
}

/** One line per node and kind: `read` of each point. */
function perKind(history: ActorsHistory, read: (p: ActorsPoint) => number | null): ChartData {
  const x = axis(history.nodes);
  const names = history.nodes.map((n) => n.node);
  const series: Series[] = [];
  for (const node of history.nodes) {
    for (const kind of kindsOf([node])) {
      const at = new Map<number, number | null>();
      for (const k of node.kinds.filter((k) => k.kind === kind))
        for (const p of k.points) at.set(seconds(p.t), read(p));
      series.push({
        label: `${node.node} · ${kind}`,
        node: node.node,
        color: colorOf(node.node, names),
        dash: dashOf(kind),
        values: x.map((t) => at.get(t) ?? null),
      });
    }
  }
  return { x, series };
}

/** One line per node and measure: `read` summed over the node's kinds at each step. */
function perNode(
  history: ActorsHistory,
  measures: { name: string; dash: number[]; read: (p: ActorsPoint) => number }[],
): ChartData {
  const x = axis(history.nodes);
  const names = history.nodes.map((n) => n.node);
  const series: Series[] = [];
  for (const node of history.nodes) {
    for (const m of measures) {
      const at = new Map<number, number>();
      for (const k of node.kinds) {
        for (const p of k.points) at.set(seconds(p.t), (at.get(seconds(p.t)) ?? 0) + m.read(p));
      }
      series.push({
        label: measures.length > 1 ? `${node.node} · ${m.name}` : node.node,
        node: node.node,
        color: colorOf(node.node, names),
        dash: m.dash,
        values: x.map((t) => at.get(t) ?? null),
      });
    }
  }
  return { x, series };
}

const rate = (count: number, p: ActorsPoint) => (p.interval_s > 0 ? count / p.interval_s : 0);

/** Live actors per node and kind, at the end of each step. */
export const liveActors = (h: ActorsHistory) => perKind(h, (p) => p.live);

/** p99 handle time (ms) of the messages of each step, per node and kind. */
export const handleP99 = (h: ActorsHistory) => perKind(h, (p) => p.p99_ms ?? null);

/** Activations and passivations per second, per node (all kinds). */
export const throughput = (h: ActorsHistory) =>
  perNode(h, [
    { name: 'activations/s', dash: [], read: (p) => rate(p.activations, p) },
    { name: 'passivations/s', dash: [6, 3], read: (p) => rate(p.passivations, p) },
  ]);

/** Actor restarts per step, per node (all kinds). */
export const restarts = (h: ActorsHistory) => perNode(h, [{ name: 'restarts', dash: [], read: (p) => p.restarts }]);

/** The last value of a line, and its highest, for the chart's text summary. */
export function summarize(s: Series): { last: number | null; max: number | null } {
  const present = s.values.filter((v): v is number => v !== null);
  return { last: present.at(-1) ?? null, max: present.length ? Math.max(...present) : null };
}

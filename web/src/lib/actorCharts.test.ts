import { describe, expect, it } from 'vitest';
import type { ActorsHistory, ActorsPoint } from '../api/operators';
import { PALETTE, colorOf, dashOf, handleP99, liveActors, restarts, summarize, throughput } from './actorCharts';

function point(t: number, over: Partial<ActorsPoint> = {}): ActorsPoint {
  return {
    t: new Date(t * 1000).toISOString(),
    interval_s: 10,
    live: 0,
    activations: 0,
    passivations: 0,
    restarts: 0,
    failures: 0,
    mailbox_depth: 0,
    p99_ms: null,
    ...over,
  };
}

const history: ActorsHistory = {
  step_s: 10,
  minutes: 15,
  nodes: [
    {
      node: 'b',
      reporting: false,
      last_report_at: new Date(20_000).toISOString(),
      kinds: [{ kind: 'session', points: [point(10, { live: 1, activations: 5 }), point(20, { live: 2 })] }],
    },
    {
      node: 'a',
      reporting: true,
      last_report_at: new Date(30_000).toISOString(),
      kinds: [
        { kind: 'session', points: [point(20, { live: 3, activations: 20, passivations: 10, p99_ms: 1.5 })] },
        { kind: 'lockout', points: [point(20, { live: 1, activations: 10, restarts: 2, interval_s: 20 })] },
      ],
    },
  ],
};

describe('the operator charts', () => {
  it('put every node on one time axis, with gaps where a node has no point', () => {
    const live = liveActors(history);
    expect(live.x).toEqual([10, 20]);
    expect(live.series.map((s) => s.label)).toEqual(['b · session', 'a · session', 'a · lockout']);
    expect(live.series.map((s) => s.values)).toEqual([
      [1, 2],
      [null, 3],
      [null, 1],
    ]);
  });

  it('colour lines by node (stable, sorted by name) and dash them by kind', () => {
    const live = liveActors(history);
    expect(live.series[0].color).toBe(PALETTE[1]);
    expect(live.series[1].color).toBe(PALETTE[0]);
    expect(live.series[2].dash).toEqual(dashOf('lockout'));
    expect(dashOf('session')).toEqual([]);
    expect(colorOf('a', ['b', 'a'])).toBe(PALETTE[0]);
  });

  it('turn deltas into rates per second over each point interval, summed over kinds', () => {
    const rates = throughput(history);
    const a = rates.series.find((s) => s.label === 'a · activations/s');
    // 20 in 10 s (session) + 10 in 20 s (lockout).
    expect(a?.values).toEqual([null, 2.5]);
    expect(rates.series.find((s) => s.label === 'a · passivations/s')?.values).toEqual([null, 1]);
    expect(rates.series.find((s) => s.label === 'b · activations/s')?.values).toEqual([0.5, 0]);
    expect(restarts(history).series.map((s) => [s.label, s.values])).toEqual([
      ['b', [0, 0]],
      ['a', [null, 2]],
    ]);
  });

  it('leave p99 empty where nothing was handled, and summarise a line by its last and highest value', () => {
    const p99 = handleP99(history);
    expect(p99.series[0].values).toEqual([null, null]);
    expect(p99.series[1].values).toEqual([null, 1.5]);
    expect(summarize(liveActors(history).series[0])).toEqual({ last: 2, max: 2 });
    expect(summarize(p99.series[0])).toEqual({ last: null, max: null });
  });
});

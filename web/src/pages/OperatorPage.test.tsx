// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../api/client';
import type { ActorsHistory, ActorsView, ClusterActorsView } from '../api/operators';
import { fakeAuth, renderAt } from '../test/auth';
import { OperatorPage } from './OperatorPage';

// jsdom has no canvas: a stand-in for uPlot that records what it was given.
const plots: { series: number; data: unknown[] }[] = [];
vi.mock('uplot', () => ({
  default: class {
    constructor(options: { series: unknown[] }, data: unknown[]) {
      plots.push({ series: options.series.length - 1, data });
    }
    setData() {}
    setSize() {}
    destroy() {}
  },
}));

function view(node: string, live: number): ActorsView {
  return {
    node,
    uptime_s: 60,
    kinds: [
      {
        kind: 'session',
        live,
        activations: live,
        passivations: 0,
        restarts: 0,
        failures: 0,
        mailbox_depth: 0,
        handle_time_ms: { p50: 0.1, p99: 0.5 },
      },
    ],
    supervisors: [{ name: 'session-shard-0', kind: 'session', children: live, restarts: 0, failures: 0 }],
  };
}

const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 12, 0, s)).toISOString();
const point = (s: number, live: number) => ({
  t: at(s),
  interval_s: 10,
  live,
  activations: 1,
  passivations: 0,
  restarts: 0,
  failures: 0,
  mailbox_depth: 0,
  p99_ms: 0.4,
});

const cluster: ClusterActorsView = { node: 'node-a', nodes: [view('node-a', 3)] };
const history: ActorsHistory = {
  step_s: 10,
  minutes: 15,
  nodes: [
    {
      node: 'node-a',
      reporting: true,
      last_report_at: at(30),
      kinds: [{ kind: 'session', points: [point(10, 2), point(20, 3)] }],
    },
    { node: 'node-b', reporting: false, last_report_at: at(12), kinds: [{ kind: 'session', points: [point(10, 5)] }] },
  ],
};

/** An API client whose axios instance answers the cluster view and the history. */
function api(): ApiClient {
  const request = vi.fn((config: { url: string; params?: { scope?: string } }) => {
    if (config.url === '/admin/actors' && config.params?.scope === 'cluster') return Promise.resolve({ data: cluster });
    if (config.url === '/admin/actors/history') return Promise.resolve({ data: history });
    return Promise.reject(new Error(`unexpected ${config.url}`));
  });
  return { http: { request } } as unknown as ApiClient;
}

beforeEach(() => {
  vi.useFakeTimers();
  plots.length = 0;
  vi.stubGlobal(
    'ResizeObserver',
    class {
      observe() {}
      disconnect() {}
    },
  );
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('the operator page', () => {
  it('lists every node and highlights one that stopped reporting', async () => {
    renderAt(<OperatorPage />, { auth: fakeAuth({ api: api() }), url: '/operator' });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    const cards = screen.getAllByTestId('node-card');
    expect(cards.map((c) => [c.getAttribute('data-node'), c.getAttribute('data-reporting')])).toEqual([
      ['node-a', 'true'],
      ['node-b', 'false'],
    ]);
    expect(within(cards[0]).getByText('This node')).toBeTruthy();
    expect(within(cards[1]).getByTestId('node-not-reporting').textContent).toBe('Not reporting');
    expect(screen.getByTestId('operator-stopped').textContent).toContain('node-b');
    // The details show the node that answered.
    expect(screen.getByTestId('operator-node').textContent).toBe('node-a');
  });

  it('draws four charts, each with a legend of every line and its data as a table', async () => {
    renderAt(<OperatorPage />, { auth: fakeAuth({ api: api() }), url: '/operator' });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(plots.length).toBe(4);
    const live = screen.getByTestId('chart-live');
    expect(live.getAttribute('data-series')).toBe('2');
    expect(live.getAttribute('data-points')).toBe('3');
    const legend = within(live)
      .getAllByRole('listitem')
      .map((li) => li.textContent);
    expect(legend[0]).toMatch(/node-a · session.*now 3, max 3 actors/);
    expect(legend[1]).toMatch(/node-b · session.*now 5, max 5 actors/);
    expect(within(live).queryByRole('table')).toBeNull();
    const details = within(live).getByText('Live actors per kind: data table').closest('details')!;
    details.open = true;
    fireEvent(details, new Event('toggle'));
    const table = within(live).getByRole('table');
    const rows = within(table).getAllByRole('row');
    // A header row and one row per step, newest first; node-b has no point at the later one.
    expect(rows.length).toBe(3);
    expect(
      within(rows[1])
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['3', '—']);
    expect(
      within(rows[2])
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['2', '5']);
    // The canvas is for eyes only: the legend and the table say the same.
    expect(within(live).getByTestId('chart-canvas').getAttribute('aria-hidden')).toBe('true');
  });
});

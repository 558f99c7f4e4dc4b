/**
 * A line chart over time (uPlot, drawn on a canvas), with what makes it readable without seeing
 * it: a legend that says each line's latest and highest value, and the data as a table (in a
 * disclosure) for screen readers and keyboard users. The canvas itself is hidden from assistive
 * technology. It takes the width of its box, so it fits a phone's screen.
 */
import { useEffect, useId, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { summarize, type ChartData } from '../lib/actorCharts';
import { formatNumber } from '../lib/format';
import { Empty, Table, cx, focusRing, td, tdNum, th, thNum } from './ui';

const HEIGHT = 180;

export interface TimeChartProps {
  title: string;
  /** What a value means, e.g. "actors" or "ms". */
  unit: string;
  data: ChartData;
  /** Fraction digits of the values in the legend and the table. */
  digits?: number;
  testId?: string;
}

/** A short line in the series' colour and dash: the legend's key. */
function Swatch({ color, dash }: { color: string; dash: number[] }) {
  return (
    <svg width="28" height="10" aria-hidden="true" className="shrink-0">
      <line x1="1" y1="5" x2="27" y2="5" stroke={color} strokeWidth="2.5" strokeDasharray={dash.join(' ')} />
    </svg>
  );
}

const timeOf = (t: number) => new Date(t * 1000).toLocaleTimeString();

/** "14:05" on whole minutes, ":30" between them: short enough for a phone's axis. */
function tickLabel(t: number): string {
  const d = new Date(t * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return d.getSeconds() === 0 ? `${pad(d.getHours())}:${pad(d.getMinutes())}` : `:${pad(d.getSeconds())}`;
}

export function TimeChart({ title, unit, data, digits = 0, testId }: TimeChartProps) {
  const id = useId();
  const box = useRef<HTMLDivElement>(null);
  const figure = useRef<HTMLElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The table is built only while its disclosure is open: four of them, 90 rows each, would
  // otherwise sit in the page for nobody.
  const [tableOpen, setTableOpen] = useState(false);
  // The plot is rebuilt when its lines change (a node came or went), else only fed new data.
  const shape = JSON.stringify(data.series.map((s) => [s.label, s.color, s.dash]));
  const aligned: uPlot.AlignedData = [data.x, ...data.series.map((s) => s.values)];
  const empty = data.x.length === 0;

  useEffect(() => {
    const el = box.current;
    if (!el || empty) return;
    const lines = JSON.parse(shape) as [string, string, number[]][];
    const options: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
      axes: [
        {
          stroke: '#475569',
          grid: { stroke: '#e2e8f0' },
          ticks: { stroke: '#cbd5e1' },
          space: 50,
          values: (_u, splits) => splits.map(tickLabel),
        },
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' }, size: 48 },
      ],
      series: [{}, ...lines.map(([label, stroke, dash]) => ({ label, stroke, dash, width: 2 }))],
      hooks: {
        // For tests and curious operators: how many times the canvas was drawn.
        draw: [() => figure.current?.setAttribute('data-drawn', String(Number(figure.current.dataset.drawn ?? 0) + 1))],
      },
    };
    const u = new uPlot(options, aligned, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // `aligned` is fed by the effect below; only a new shape rebuilds the plot.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, empty]);

  useEffect(() => {
    plot.current?.setData(aligned);
  });

  const rows = data.x.map((t, i) => ({ t, values: data.series.map((s) => s.values[i]) })).reverse();
  return (
    <figure
      ref={figure}
      className="min-w-0"
      aria-describedby={`${id}-legend`}
      data-testid={testId}
      data-points={data.series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0)}
      data-series={data.series.length}
    >
      <figcaption>
        <h3 className="text-sm font-semibold text-slate-900">{title}</h3>
      </figcaption>
      {empty ? (
        <div className="mt-2">
          <Empty title="No points yet">A node&apos;s first point arrives within 20 seconds of its first report.</Empty>
        </div>
      ) : (
        <div ref={box} className="mt-2 w-full overflow-hidden" aria-hidden="true" data-testid="chart-canvas" />
      )}
      <ul id={`${id}-legend`} className="mt-2 flex flex-col gap-1 text-xs text-slate-700">
        {data.series.map((s) => {
          const { last, max } = summarize(s);
          return (
            <li key={s.label} className="flex min-w-0 flex-wrap items-center gap-x-2">
              <Swatch color={s.color} dash={s.dash} />
              <span className="min-w-0 break-words font-mono">{s.label}</span>
              <span className="ml-auto whitespace-nowrap tabular-nums">
                now {formatNumber(last, digits)}, max {formatNumber(max, digits)} {unit}
              </span>
            </li>
          );
        })}
      </ul>
      {!empty && (
        <details className="mt-2" onToggle={(e) => setTableOpen(e.currentTarget.open)}>
          <summary
            className={cx('cursor-pointer rounded text-xs font-medium text-indigo-700', focusRing)}
            data-testid={testId && `${testId}-table-toggle`}
          >
            {title}: data table
          </summary>
          {tableOpen && (
            <div className="mt-2">
              <Table caption={`${title} (${unit}), every 10 seconds, newest first`}>
                <thead>
                  <tr>
                    <th scope="col" className={th}>
                      Time
                    </th>
                    {data.series.map((s) => (
                      <th key={s.label} scope="col" className={thNum}>
                        {s.label}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {rows.map((r) => (
                    <tr key={r.t}>
                      <th scope="row" className={cx(td, 'whitespace-nowrap font-normal')}>
                        {timeOf(r.t)}
                      </th>
                      {r.values.map((v, i) => (
                        <td key={data.series[i].label} className={tdNum}>
                          {formatNumber(v, digits)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </Table>
            </div>
          )}
        </details>
      )}
    </figure>
  );
}

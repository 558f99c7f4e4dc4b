import type { ReactNode } from 'react';
import { formatDateTime, humanize } from '../lib/format';
import { Badge, Table, td, th } from './ui';

export type Row = Record<string, unknown>;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

export function formatCell(value: unknown): ReactNode {
  if (value === null || value === undefined || value === '') return <span className="text-slate-400">—</span>;
  if (typeof value === 'boolean') return <Badge color={value ? 'green' : 'gray'}>{value ? 'yes' : 'no'}</Badge>;
  if (typeof value === 'string' && ISO.test(value))
    return <span className="whitespace-nowrap">{formatDateTime(value)}</span>;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ');
  if (typeof value === 'object') {
    return (
      <code className="block max-w-md overflow-x-auto whitespace-pre-wrap break-all rounded bg-slate-50 px-1.5 py-1 text-xs">
        {JSON.stringify(value)}
      </code>
    );
  }
  return String(value);
}

/** Column order: `preferred` first (when present in any row), then the rest as they appear. */
export function columnsOf(rows: Row[], preferred: string[], hidden: string[] = []): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  const cols = preferred.filter((k) => seen.has(k));
  for (const k of seen) if (!cols.includes(k) && !hidden.includes(k)) cols.push(k);
  return cols;
}

/** A table for list items whose exact fields the app does not depend on. */
export function GenericTable({
  rows,
  preferred,
  hidden,
  caption,
  testId,
  rowTestId,
  actions,
}: {
  rows: Row[];
  preferred: string[];
  hidden?: string[];
  caption: string;
  testId?: string;
  rowTestId?: string;
  actions?: (row: Row) => ReactNode;
}) {
  const cols = columnsOf(rows, preferred, hidden);
  return (
    <Table caption={caption} testId={testId}>
      <thead>
        <tr>
          {cols.map((c) => (
            <th key={c} scope="col" className={th}>
              {humanize(c)}
            </th>
          ))}
          {actions && (
            <th scope="col" className={th}>
              <span className="sr-only">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {rows.map((r, i) => (
          <tr key={String(r.id ?? i)} data-testid={rowTestId}>
            {cols.map((c) => (
              <td key={c} className={td}>
                {formatCell(r[c])}
              </td>
            ))}
            {actions && <td className={`${td} text-right`}>{actions(r)}</td>}
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

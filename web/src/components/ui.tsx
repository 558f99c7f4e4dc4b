import {
  useId,
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
} from 'react';

export function cx(...parts: (string | false | null | undefined)[]): string {
  return parts.filter(Boolean).join(' ');
}

export const focusRing =
  'focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2';

type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost';

const BUTTON: Record<ButtonVariant, string> = {
  primary: 'bg-indigo-600 text-white hover:bg-indigo-500 disabled:bg-indigo-300',
  secondary: 'bg-white text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 disabled:text-slate-400',
  danger: 'bg-rose-600 text-white hover:bg-rose-500 disabled:bg-rose-300',
  ghost: 'text-slate-700 hover:bg-slate-100 disabled:text-slate-400',
};

export function Button({
  variant = 'primary',
  size = 'md',
  loading = false,
  className,
  children,
  disabled,
  type = 'button',
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant; size?: 'sm' | 'md'; loading?: boolean }) {
  return (
    <button
      type={type}
      disabled={disabled || loading}
      aria-busy={loading || undefined}
      className={cx(
        'inline-flex items-center justify-center gap-2 rounded-md font-medium shadow-sm transition-colors disabled:cursor-not-allowed',
        size === 'sm' ? 'px-2.5 py-1.5 text-xs' : 'px-3.5 py-2 text-sm',
        BUTTON[variant],
        focusRing,
        className,
      )}
      {...rest}
    >
      {loading && <Spinner className="h-4 w-4" />}
      {children}
    </button>
  );
}

export function Spinner({ className = 'h-5 w-5', label }: { className?: string; label?: string }) {
  return (
    <svg
      className={cx('animate-spin', className)}
      viewBox="0 0 24 24"
      fill="none"
      role={label ? 'img' : undefined}
      aria-hidden={label ? undefined : true}
      aria-label={label}
    >
      <circle className="opacity-25" cx="12" cy="12" r="10" stroke="currentColor" strokeWidth="4" />
      <path className="opacity-75" fill="currentColor" d="M4 12a8 8 0 018-8v4a4 4 0 00-4 4H4z" />
    </svg>
  );
}

export function Loading({ text = 'Loading…' }: { text?: string }) {
  return (
    <div className="flex items-center gap-3 py-10 justify-center text-slate-500" role="status" data-testid="loading">
      <Spinner />
      <span>{text}</span>
    </div>
  );
}

const ALERT: Record<string, string> = {
  error: 'bg-rose-50 text-rose-800 ring-rose-200',
  warning: 'bg-amber-50 text-amber-900 ring-amber-200',
  success: 'bg-emerald-50 text-emerald-800 ring-emerald-200',
  info: 'bg-sky-50 text-sky-900 ring-sky-200',
};

export function Alert({
  kind = 'error',
  children,
  onRetry,
  testId,
  live = true,
}: {
  kind?: 'error' | 'warning' | 'success' | 'info';
  children: ReactNode;
  onRetry?: () => void;
  testId?: string;
  /** Announce it (role alert/status); false inside a live region that already does. */
  live?: boolean;
}) {
  return (
    <div
      role={live ? (kind === 'error' || kind === 'warning' ? 'alert' : 'status') : undefined}
      data-testid={testId ?? `alert-${kind}`}
      className={cx(
        'flex items-start justify-between gap-3 rounded-md px-4 py-3 text-sm ring-1 ring-inset',
        ALERT[kind],
      )}
    >
      <div className="min-w-0 break-words">{children}</div>
      {onRetry && (
        <Button size="sm" variant="secondary" onClick={onRetry}>
          Retry
        </Button>
      )}
    </div>
  );
}

/**
 * The outcome of the last action (a toast that stays in place): a live region that is always
 * mounted, so screen readers announce each new message — errors at once, others politely.
 */
export function LiveMessage({
  message,
  testId,
  className,
}: {
  message: { kind: 'success' | 'error'; text: string } | null;
  testId?: string;
  className?: string;
}) {
  return (
    <div
      aria-live={message?.kind === 'error' ? 'assertive' : 'polite'}
      aria-atomic="true"
      className={message ? className : undefined}
    >
      {message && (
        <Alert kind={message.kind} testId={testId} live={false}>
          {message.text}
        </Alert>
      )}
    </div>
  );
}

/** Text only screen readers hear, announced politely whenever it changes. */
export function Announcer({ text, testId }: { text: string; testId?: string }) {
  return (
    <div className="sr-only" aria-live="polite" aria-atomic="true" data-testid={testId}>
      {text}
    </div>
  );
}

export function Empty({ title, children, testId }: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div
      className="rounded-lg border border-dashed border-slate-300 px-6 py-10 text-center"
      data-testid={testId ?? 'empty'}
    >
      <p className="font-medium text-slate-700">{title}</p>
      {children && <div className="mt-1 text-sm text-slate-500">{children}</div>}
    </div>
  );
}

const BADGE: Record<string, string> = {
  gray: 'bg-slate-100 text-slate-700 ring-slate-200',
  indigo: 'bg-indigo-50 text-indigo-700 ring-indigo-200',
  green: 'bg-emerald-50 text-emerald-700 ring-emerald-200',
  red: 'bg-rose-50 text-rose-700 ring-rose-200',
  amber: 'bg-amber-50 text-amber-800 ring-amber-200',
};

export function Badge({
  color = 'gray',
  children,
  testId,
}: {
  color?: 'gray' | 'indigo' | 'green' | 'red' | 'amber';
  children: ReactNode;
  testId?: string;
}) {
  return (
    <span
      data-testid={testId}
      className={cx(
        'inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset whitespace-nowrap',
        BADGE[color],
      )}
    >
      {children}
    </span>
  );
}

export function Card({
  title,
  actions,
  children,
  className,
  testId,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  testId?: string;
}) {
  return (
    <section className={cx('rounded-lg bg-white shadow-sm ring-1 ring-slate-200', className)} data-testid={testId}>
      {(title || actions) && (
        <header className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-100 px-4 py-3 sm:px-5">
          {title && <h2 className="text-base font-semibold text-slate-900">{title}</h2>}
          {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
        </header>
      )}
      <div className="px-4 py-4 sm:px-5">{children}</div>
    </section>
  );
}

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-3">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
        {subtitle && <p className="mt-1 text-sm text-slate-500">{subtitle}</p>}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </div>
  );
}

const INPUT =
  'block w-full rounded-md border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:outline-none focus:ring-2 focus:ring-inset focus:ring-indigo-600 disabled:bg-slate-50 disabled:text-slate-500';

export function Field({
  label,
  hint,
  error,
  className,
  id,
  ...input
}: InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: ReactNode; error?: string | null }) {
  const auto = useId();
  const fid = id ?? auto;
  const describedBy =
    [hint ? `${fid}-hint` : null, error ? `${fid}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={className}>
      <label htmlFor={fid} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={fid}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        className={cx(INPUT, 'mt-1', error && 'ring-rose-400')}
        {...input}
      />
      {hint && (
        <div id={`${fid}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </div>
      )}
      {error && (
        <p id={`${fid}-error`} className="mt-1 text-xs text-rose-700">
          {error}
        </p>
      )}
    </div>
  );
}

export function SelectField({
  label,
  options,
  className,
  id,
  ...select
}: SelectHTMLAttributes<HTMLSelectElement> & { label: string; options: { value: string; label: string }[] }) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className={className}>
      <label htmlFor={fid} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <select id={fid} className={cx(INPUT, 'mt-1')} {...select}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Checkbox({
  label,
  className,
  id,
  ...input
}: InputHTMLAttributes<HTMLInputElement> & { label: ReactNode }) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className={cx('flex items-center gap-2', className)}>
      <input
        id={fid}
        type="checkbox"
        className={cx('h-4 w-4 rounded border-slate-300 text-indigo-600 accent-indigo-600', focusRing)}
        {...input}
      />
      <label htmlFor={fid} className="text-sm text-slate-700">
        {label}
      </label>
    </div>
  );
}

/**
 * A table that scrolls sideways inside its card when it is wider than the screen (phones), so
 * the page itself never does. The scrolling box is a focusable, labelled region: keyboard users
 * scroll it with the arrow keys.
 */
export function Table({ children, testId, caption }: { children: ReactNode; testId?: string; caption: string }) {
  return (
    <div
      className={cx('relative -mx-4 overflow-x-auto sm:mx-0', focusRing, 'focus-visible:ring-offset-0')}
      data-testid={testId}
      role="region"
      aria-label={caption}
      // A box that scrolls must take focus, or keyboard users cannot scroll it (WCAG 2.1.1).
      // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex
      tabIndex={0}
    >
      <table className="min-w-full divide-y divide-slate-200 text-sm">
        <caption className="sr-only">{caption}</caption>
        {children}
      </table>
    </div>
  );
}

export const th = 'px-3 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-500 whitespace-nowrap';
export const td = 'px-3 py-2 align-top text-slate-700';
export const tdNum = 'px-3 py-2 text-right tabular-nums text-slate-700 whitespace-nowrap';
export const thNum =
  'px-3 py-2 text-right text-xs font-semibold uppercase tracking-wide text-slate-500 whitespace-nowrap';

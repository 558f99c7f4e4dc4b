import { utf8Length } from '../lib/format';
import { cx } from './ui';

export const PASSWORD_MIN_BYTES = 8;
export const PASSWORD_MAX_BYTES = 72;

export function passwordProblems(pw: string): string | null {
  const n = utf8Length(pw);
  if (n < PASSWORD_MIN_BYTES) return `Use at least ${PASSWORD_MIN_BYTES} bytes.`;
  if (n > PASSWORD_MAX_BYTES) return `Use at most ${PASSWORD_MAX_BYTES} bytes.`;
  return null;
}

function Rule({ ok, children, testId }: { ok: boolean; children: string; testId: string }) {
  return (
    <li
      className={cx('flex items-center gap-1.5', ok ? 'text-emerald-700' : 'text-slate-500')}
      data-testid={testId}
      data-ok={ok}
    >
      <span aria-hidden="true">{ok ? '✓' : '○'}</span>
      <span>
        {children}
        <span className="sr-only">{ok ? ' (met)' : ' (not met)'}</span>
      </span>
    </li>
  );
}

/** Live password rules: 8–72 bytes (UTF-8), and the server refuses common passwords. */
export function PasswordRules({ password }: { password: string }) {
  const n = utf8Length(password);
  return (
    <ul className="space-y-0.5" aria-live="polite" data-testid="password-rules">
      <Rule ok={n >= PASSWORD_MIN_BYTES} testId="rule-min">{`At least ${PASSWORD_MIN_BYTES} bytes`}</Rule>
      <Rule
        ok={n > 0 && n <= PASSWORD_MAX_BYTES}
        testId="rule-max"
      >{`At most ${PASSWORD_MAX_BYTES} bytes (now ${n})`}</Rule>
      <li className="text-slate-500">Not a common password (checked by the server)</li>
    </ul>
  );
}

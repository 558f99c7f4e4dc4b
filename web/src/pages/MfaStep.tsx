/**
 * The second step of a two-factor sign-in (on the sign-in page): a code from the authenticator
 * app, or one of the recovery codes. Wrong codes count toward the account's lockout like wrong
 * passwords, so a lock shows the same countdown; a pending sign-in that the server no longer
 * takes (five wrong codes, five minutes) sends the user back to the password step.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { PendingSignIn } from '../api/client';
import { codeOf, describeError, retryAfterOf, statusOf } from '../api/problem';
import { useAuth } from '../auth/AuthContext';
import { Alert, Announcer, Button, Field } from '../components/ui';
import { formatCountdown } from '../lib/format';
import { countdownAnnouncement, useRetryAfter } from '../lib/retryAfter';

type Method = 'totp' | 'recovery';

/** Six digits, as typed (spaces ignored). */
const SIX_DIGITS = /^\d{6}$/;

export function MfaStep({ pending, onRestart }: { pending: PendingSignIn; onRestart: (message: string) => void }) {
  const { verifyMfa } = useAuth();
  const [method, setMethod] = useState<Method>('totp');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [permanentLock, setPermanentLock] = useState(false);
  const [block, setBlock] = useState<'locked' | 'rate' | null>(null);
  const [busy, setBusy] = useState(false);
  const wait = useRetryAfter();
  const blocked = wait.active && block !== null;
  const typed = method === 'totp' ? code.replace(/\s/g, '') : code.trim();
  const ready = method === 'totp' ? SIX_DIGITS.test(typed) : typed.length > 0;
  const announcement = blocked
    ? `${block === 'locked' ? 'This account is locked after too many failed attempts.' : 'Too many requests.'} ${countdownAnnouncement(wait.seconds, false)}`
    : wait.over && block !== null
      ? countdownAnnouncement(0, true, 'enter a code')
      : '';

  // The server forgets the pending sign-in after five minutes: go back to the password then.
  useEffect(() => {
    const id = setTimeout(
      () => onRestart('The sign-in took too long. Enter your password again.'),
      Math.max(0, pending.expiresAt - Date.now()),
    );
    return () => clearTimeout(id);
  }, [pending.expiresAt, onRestart]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (blocked || busy || !ready) return;
    setBusy(true);
    setError(null);
    setPermanentLock(false);
    try {
      await verifyMfa(
        method === 'totp'
          ? { mfa_token: pending.mfaToken, code: typed }
          : { mfa_token: pending.mfaToken, recovery_code: typed },
      );
      // GuestOnly redirects once the auth state flips.
    } catch (err) {
      const problem = codeOf(err);
      const status = statusOf(err);
      if (status === 423 || problem === 'account_locked') {
        const s = retryAfterOf(err);
        if (s === null) {
          setPermanentLock(true);
          setError('This account is locked. An administrator must unlock it.');
        } else {
          setBlock('locked');
          wait.start(s);
        }
      } else if (status === 429 || problem === 'rate_limited') {
        setBlock('rate');
        wait.start(retryAfterOf(err) ?? 30);
      } else if (problem === 'mfa_invalid') {
        setError(
          method === 'totp'
            ? 'That code is not right, or it was used already. Enter the code your app shows now.'
            : 'That recovery code is not right, or it was used already.',
        );
        setCode('');
      } else if (problem === 'token_invalid') {
        onRestart('This sign-in can no longer be finished (too many wrong codes, or it was used). Sign in again.');
      } else {
        setError(describeError(err));
      }
      setBusy(false);
    }
  };

  const switchMethod = () => {
    setMethod(method === 'totp' ? 'recovery' : 'totp');
    setCode('');
    setError(null);
  };

  return (
    <form onSubmit={submit} className="space-y-4" noValidate data-testid="mfa-form">
      <p className="text-sm text-slate-600">
        {method === 'totp'
          ? 'Your password was right. Enter the 6-digit code your authenticator app shows for Tradesage.'
          : 'Enter one of the recovery codes you saved when you set up two-factor sign-in. Each works once.'}
      </p>
      {blocked && block === 'locked' && (
        <Alert kind="warning" testId="mfa-locked" live={false}>
          Too many failed attempts: this account is locked. Try again in{' '}
          <strong data-testid="mfa-countdown">{formatCountdown(wait.seconds)}</strong>.
        </Alert>
      )}
      {blocked && block === 'rate' && (
        <Alert kind="warning" testId="mfa-rate-limited" live={false}>
          Too many requests. Try again in <strong data-testid="mfa-countdown">{formatCountdown(wait.seconds)}</strong>.
        </Alert>
      )}
      <Announcer testId="mfa-countdown-announcer" text={announcement} />
      {error && (
        <Alert kind={permanentLock ? 'warning' : 'error'} testId="mfa-error">
          {error}
        </Alert>
      )}
      {method === 'totp' ? (
        <Field
          key="totp"
          label="Authentication code"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={7}
          spellCheck={false}
          value={code}
          onChange={(e) => setCode(e.target.value)}
          hint="6 digits; it changes every 30 seconds."
          data-testid="mfa-code"
        />
      ) : (
        <Field
          key="recovery"
          label="Recovery code"
          name="recovery_code"
          autoComplete="off"
          spellCheck={false}
          value={code}
          onChange={(e) => setCode(e.target.value)}
          hint="Like 7K3M-Q9TZ-4WXB-2HRC; dashes and case do not matter."
          data-testid="mfa-recovery-code"
        />
      )}
      <Button type="submit" className="w-full" loading={busy} disabled={blocked || !ready} data-testid="mfa-submit">
        {blocked ? `Try again in ${formatCountdown(wait.seconds)}` : 'Verify and sign in'}
      </Button>
      <div className="flex flex-wrap justify-between gap-2">
        <Button variant="ghost" size="sm" onClick={switchMethod} data-testid="mfa-switch-method">
          {method === 'totp' ? 'Use a recovery code instead' : 'Use the authenticator app instead'}
        </Button>
        <Button
          variant="ghost"
          size="sm"
          onClick={() => onRestart('Sign in again with your password.')}
          data-testid="mfa-back"
        >
          Back to sign-in
        </Button>
      </div>
    </form>
  );
}

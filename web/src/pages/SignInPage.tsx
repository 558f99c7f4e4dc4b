import { useCallback, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import type { PendingSignIn } from '../api/client';
import { codeOf, describeError, retryAfterOf, statusOf } from '../api/problem';
import { useAuth } from '../auth/AuthContext';
import { AuthShell } from '../components/Layout';
import { Alert, Announcer, Button, Field } from '../components/ui';
import { formatCountdown } from '../lib/format';
import { countdownAnnouncement, useRetryAfter } from '../lib/retryAfter';
import { MfaStep } from './MfaStep';

type Block = { kind: 'locked' | 'rate'; key: string } | null;

export function SignInPage() {
  const { login, notice, clearNotice } = useAuth();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [tenant, setTenant] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [permanentLock, setPermanentLock] = useState(false);
  const [busy, setBusy] = useState(false);
  const [block, setBlock] = useState<Block>(null);
  /** The password was right and a second factor is asked for: the code step is shown. */
  const [pending, setPending] = useState<PendingSignIn | null>(null);
  const [restarted, setRestarted] = useState<string | null>(null);
  const wait = useRetryAfter();
  const restart = useCallback((message: string) => {
    setPending(null);
    setPassword('');
    setRestarted(message);
  }, []);

  const key = `${tenant.trim().toLowerCase() || 'default'}|${email.trim().toLowerCase()}`;
  // A lockout is per (tenant, email); a rate limit is per client.
  const blocked = wait.active && block !== null && (block.kind === 'rate' || block.key === key);
  const announcement = blocked
    ? `${block.kind === 'locked' ? 'This account is locked after too many failed attempts.' : 'Too many requests.'} ${countdownAnnouncement(wait.seconds, false)}`
    : wait.over && block !== null
      ? countdownAnnouncement(0, true, 'sign in')
      : '';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (blocked || busy) return;
    setBusy(true);
    setError(null);
    setPermanentLock(false);
    setRestarted(null);
    clearNotice();
    try {
      const next = await login({ email: email.trim(), password, ...(tenant.trim() ? { tenant: tenant.trim() } : {}) });
      // Signed in: GuestOnly redirects once the auth state flips. Else the code step follows.
      if (next) {
        setPending(next);
        setBusy(false);
      }
    } catch (err) {
      const code = codeOf(err);
      const status = statusOf(err);
      if (status === 423 || code === 'account_locked') {
        const s = retryAfterOf(err);
        if (s === null) {
          setPermanentLock(true);
          setError('This account is locked. An administrator must unlock it.');
        } else {
          setBlock({ kind: 'locked', key });
          wait.start(s);
          setError(null);
        }
      } else if (status === 429 || code === 'rate_limited') {
        setBlock({ kind: 'rate', key });
        wait.start(retryAfterOf(err) ?? 30);
      } else if (code === 'invalid_credentials') {
        setError('Email or password is incorrect.');
      } else {
        setError(describeError(err));
      }
      setBusy(false);
    }
  };

  if (pending) {
    return (
      <AuthShell title="Two-factor sign-in" subtitle={email.trim()}>
        <MfaStep pending={pending} onRestart={restart} />
      </AuthShell>
    );
  }

  return (
    <AuthShell title="Sign in to Tradesage" subtitle="Use the email and password of your account.">
      <form onSubmit={submit} className="space-y-4" noValidate data-testid="login-form">
        {notice && (
          <Alert kind={notice.kind} testId="login-notice">
            {notice.text}
          </Alert>
        )}
        {restarted && (
          <Alert kind="info" testId="login-restarted">
            {restarted}
          </Alert>
        )}
        {/* The countdown ticks every second: the alerts are not live regions, the announcer
            below speaks for them now and then. */}
        {blocked && block?.kind === 'locked' && (
          <Alert kind="warning" testId="login-locked" live={false}>
            Too many failed attempts: this account is locked. Try again in{' '}
            <strong data-testid="login-countdown">{formatCountdown(wait.seconds)}</strong>.
          </Alert>
        )}
        {blocked && block?.kind === 'rate' && (
          <Alert kind="warning" testId="login-rate-limited" live={false}>
            Too many requests. Try again in{' '}
            <strong data-testid="login-countdown">{formatCountdown(wait.seconds)}</strong>.
          </Alert>
        )}
        <Announcer testId="login-countdown-announcer" text={announcement} />
        {error && (
          <Alert kind={permanentLock ? 'warning' : 'error'} testId="login-error">
            {error}
          </Alert>
        )}
        <Field
          label="Email"
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          data-testid="login-email"
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          data-testid="login-password"
        />
        <Field
          label="Organisation (optional)"
          name="tenant"
          autoComplete="organization"
          placeholder="default"
          hint="Your organisation's short name. Leave empty for the default one."
          value={tenant}
          onChange={(e) => setTenant(e.target.value)}
          data-testid="login-tenant"
        />
        <Button
          type="submit"
          className="w-full"
          loading={busy}
          disabled={blocked || !email.trim() || !password}
          data-testid="login-submit"
        >
          {blocked ? `Try again in ${formatCountdown(wait.seconds)}` : 'Sign in'}
        </Button>
      </form>
      <p className="mt-6 text-center text-sm text-slate-600">
        New here?{' '}
        <Link to="/register" className="font-medium text-indigo-600 hover:underline" data-testid="link-register">
          Create an account
        </Link>
      </p>
    </AuthShell>
  );
}

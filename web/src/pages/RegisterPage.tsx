import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { register } from '../api/auth';
import { codeOf, describeError, retryAfterOf, statusOf } from '../api/problem';
import { useAuth } from '../auth/AuthContext';
import { AuthShell } from '../components/Layout';
import { PasswordRules, passwordProblems } from '../components/PasswordRules';
import { Alert, Announcer, Button, Field } from '../components/ui';
import { formatCountdown } from '../lib/format';
import { countdownAnnouncement, useRetryAfter } from '../lib/retryAfter';

export function RegisterPage() {
  const { api, login } = useAuth();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [tenant, setTenant] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const wait = useRetryAfter();

  const pwProblem = passwordProblems(password);
  const mismatch = confirm.length > 0 && confirm !== password;
  const valid = email.trim() !== '' && !pwProblem && confirm === password;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!valid || busy || wait.active) return;
    setBusy(true);
    setError(null);
    const t = tenant.trim();
    try {
      await register(api.http, {
        email: email.trim(),
        password,
        ...(displayName.trim() ? { display_name: displayName.trim() } : {}),
        ...(t ? { tenant: t } : {}),
      });
    } catch (err) {
      const status = statusOf(err);
      if (status === 429 || codeOf(err) === 'rate_limited') {
        wait.start(retryAfterOf(err) ?? 30);
      } else if (codeOf(err) === 'conflict' || status === 409) {
        setError('An account with this email already exists. Sign in instead.');
      } else {
        setError(describeError(err));
      }
      setBusy(false);
      return;
    }
    try {
      await login({ email: email.trim(), password, ...(t ? { tenant: t } : {}) });
      navigate('/', { replace: true });
    } catch (err) {
      // The account exists; signing in is a separate step that can fail on its own.
      navigate('/login', { replace: true });
      setError(describeError(err));
    }
  };

  return (
    <AuthShell title="Create your account" subtitle="New accounts can view orders; an administrator can grant more.">
      <form onSubmit={submit} className="space-y-4" noValidate data-testid="register-form">
        {wait.active && (
          <Alert kind="warning" testId="register-rate-limited" live={false}>
            Too many requests. Try again in <strong>{formatCountdown(wait.seconds)}</strong>.
          </Alert>
        )}
        <Announcer
          text={
            wait.active
              ? `Too many requests. ${countdownAnnouncement(wait.seconds, false)}`
              : countdownAnnouncement(0, wait.over)
          }
        />
        {error && <Alert testId="register-error">{error}</Alert>}
        <Field
          label="Email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={touched && !email.trim() ? 'Enter your email.' : null}
          data-testid="register-email"
        />
        <Field
          label="Display name (optional)"
          autoComplete="name"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          data-testid="register-display-name"
        />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          hint={<PasswordRules password={password} />}
          error={touched && pwProblem ? pwProblem : null}
          data-testid="register-password"
        />
        <Field
          label="Confirm password"
          type="password"
          autoComplete="new-password"
          required
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
          error={mismatch || (touched && confirm !== password) ? 'The passwords do not match.' : null}
          data-testid="register-confirm"
        />
        <Field
          label="Organisation (optional)"
          placeholder="default"
          hint="Join an organisation that allows sign-up by its short name. Leave empty for the default one."
          value={tenant}
          onChange={(e) => setTenant(e.target.value)}
          data-testid="register-tenant"
        />
        <Button type="submit" className="w-full" loading={busy} disabled={wait.active} data-testid="register-submit">
          Create account
        </Button>
      </form>
      <p className="mt-6 text-center text-sm text-slate-600">
        Already have an account?{' '}
        <Link to="/login" className="font-medium text-indigo-600 hover:underline" data-testid="link-login">
          Sign in
        </Link>
      </p>
    </AuthShell>
  );
}

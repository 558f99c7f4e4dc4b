import { useEffect, useState, type FormEvent } from 'react';
import { codeOf, describeError } from '../api/problem';
import type { User } from '../api/types';
import { useAuth } from '../auth/AuthContext';
import { PasswordRules, passwordProblems } from '../components/PasswordRules';
import { Alert, Button, Card, Field, PageHeader } from '../components/ui';

export function ProfilePage() {
  return (
    <div data-testid="profile-page">
      <PageHeader title="Profile" subtitle="How you appear, and how you sign in." />
      <div className="grid gap-6 lg:grid-cols-2">
        <DisplayNameCard />
        <PasswordCard />
      </div>
    </div>
  );
}

function DisplayNameCard() {
  const { api, user, setUser } = useAuth();
  const [name, setName] = useState(user?.display_name ?? '');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  useEffect(() => setName(user?.display_name ?? ''), [user?.display_name]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setMsg(null);
    try {
      const res = await api.http.patch<User>('/users/me', { display_name: name.trim() });
      setUser(res.data);
      setMsg({ kind: 'success', text: 'Display name saved.' });
    } catch (err) {
      setMsg({ kind: 'error', text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title="Display name">
      <form onSubmit={submit} className="space-y-4" data-testid="profile-form">
        {msg && (
          <Alert kind={msg.kind} testId="profile-message">
            {msg.text}
          </Alert>
        )}
        <Field label="Email" value={user?.email ?? ''} disabled readOnly hint="Your email cannot be changed here." />
        <Field
          label="Display name"
          value={name}
          maxLength={200}
          onChange={(e) => setName(e.target.value)}
          data-testid="profile-display-name"
        />
        <Button
          type="submit"
          loading={busy}
          disabled={name.trim() === (user?.display_name ?? '')}
          data-testid="profile-save"
        >
          Save
        </Button>
      </form>
    </Card>
  );
}

function PasswordCard() {
  const { api } = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const [msg, setMsg] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);

  const problem = passwordProblems(next);
  const mismatch = confirm.length > 0 && confirm !== next;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!current || problem || next !== confirm) return;
    setBusy(true);
    setMsg(null);
    try {
      await api.http.post('/users/me/password', { current_password: current, new_password: next });
      setCurrent('');
      setNext('');
      setConfirm('');
      setTouched(false);
      setMsg({ kind: 'success', text: 'Password changed. Your other sessions were signed out.' });
    } catch (err) {
      const code = codeOf(err);
      setMsg({
        kind: 'error',
        text: code === 'invalid_credentials' ? 'The current password is incorrect.' : describeError(err),
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title="Change password">
      <form onSubmit={submit} className="space-y-4" noValidate data-testid="password-form">
        {msg && (
          <Alert kind={msg.kind} testId="password-message">
            {msg.text}
          </Alert>
        )}
        <Field
          label="Current password"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          error={touched && !current ? 'Enter your current password.' : null}
          data-testid="password-current"
        />
        <Field
          label="New password"
          type="password"
          autoComplete="new-password"
          value={next}
          onChange={(e) => setNext(e.target.value)}
          hint={<PasswordRules password={next} />}
          error={touched && problem ? problem : null}
          data-testid="password-new"
        />
        <Field
          label="Confirm new password"
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
          error={mismatch || (touched && confirm !== next) ? 'The passwords do not match.' : null}
          data-testid="password-confirm"
        />
        <Button type="submit" loading={busy} data-testid="password-submit">
          Change password
        </Button>
      </form>
    </Card>
  );
}

import { useState, type FormEvent } from 'react';
import { codeOf } from '../api/problem';
import { changePassword, updateMe } from '../api/users';
import { useAuth } from '../auth/AuthContext';
import { PasswordRules, passwordProblems } from '../components/PasswordRules';
import { Button, Card, Field, LiveMessage, PageHeader } from '../components/ui';
import { useAction } from '../lib/hooks';

export function ProfilePage() {
  return (
    <div data-testid="profile-page">
      <PageHeader title="Profile" subtitle="How you appear, and how you sign in." />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <DisplayNameCard />
        <PasswordCard />
      </div>
    </div>
  );
}

function DisplayNameCard() {
  const { api, user, setUser } = useAuth();
  // What the user typed, until saved; the saved name otherwise (it may change elsewhere).
  const [draft, setDraft] = useState<string | null>(null);
  const name = draft ?? user?.display_name ?? '';
  const action = useAction();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run('save', async () => {
      setUser(await updateMe(api.http, { display_name: name.trim() }));
      setDraft(null);
      return 'Display name saved.';
    });
  };

  return (
    <Card title="Display name">
      <form onSubmit={submit} className="space-y-4" data-testid="profile-form">
        <LiveMessage message={action.message} testId="profile-message" />
        <Field label="Email" value={user?.email ?? ''} disabled readOnly hint="Your email cannot be changed here." />
        <Field
          label="Display name"
          value={name}
          maxLength={200}
          onChange={(e) => setDraft(e.target.value)}
          data-testid="profile-display-name"
        />
        <Button
          type="submit"
          loading={action.busy === 'save'}
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
  const [touched, setTouched] = useState(false);
  const action = useAction();

  const problem = passwordProblems(next);
  const mismatch = confirm.length > 0 && confirm !== next;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!current || problem || next !== confirm) return;
    void action.run(
      'password',
      async () => {
        await changePassword(api.http, { current_password: current, new_password: next });
        setCurrent('');
        setNext('');
        setConfirm('');
        setTouched(false);
        return 'Password changed. Your other sessions were signed out.';
      },
      (err) => (codeOf(err) === 'invalid_credentials' ? 'The current password is incorrect.' : undefined),
    );
  };

  return (
    <Card title="Change password">
      <form onSubmit={submit} className="space-y-4" noValidate data-testid="password-form">
        <LiveMessage message={action.message} testId="password-message" />
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
        <Button type="submit" loading={action.busy === 'password'} data-testid="password-submit">
          Change password
        </Button>
      </form>
    </Card>
  );
}

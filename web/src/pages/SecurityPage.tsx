/**
 * Two-factor sign-in for the signed-in user: set it up (the password, then a QR code drawn here
 * from the otpauth URI, with the secret as text too, then the app's first code), save the
 * recovery codes (copy or download; they are shown once), get new ones, or turn it off.
 */
import { QRCodeSVG } from 'qrcode.react';
import { useState, type FormEvent, type ReactNode } from 'react';
import { codeOf, problemOf } from '../api/problem';
import {
  beginEnrolment,
  confirmEnrolment,
  disableMfa,
  recoveryCodesText,
  renewRecoveryCodes,
  type Enrolment,
  type RecoveryCodes,
  type SecondFactor,
} from '../api/mfa';
import { useAuth } from '../auth/AuthContext';
import { CopyButton } from '../components/CopyButton';
import { Alert, Badge, Button, Card, Field, LiveMessage, PageHeader } from '../components/ui';
import { useAction, type Message } from '../lib/hooks';

/** What a wrong password or code on this page means to the user. */
function wrongFactor(err: unknown): string | undefined {
  const code = codeOf(err);
  if (code === 'validation_failed' && problemOf(err)?.field === 'password') return 'The password is not right.';
  if (code === 'mfa_invalid')
    return 'That code is not right, or it was used already. Enter the code your app shows now.';
  return undefined;
}

/** "JBSW Y3DP EHPK 3PXP": easier to read and type than 32 letters in a row. */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

export function SecurityPage() {
  const { user, mustEnrolMfa } = useAuth();
  /** Recovery codes just handed out: shown until the user says they saved them. */
  const [codes, setCodes] = useState<RecoveryCodes | null>(null);
  /** What the last change did, when the card that made it is gone (turned off). */
  const [done, setDone] = useState<Message | null>(null);
  const on = !!user?.mfa_enabled;

  return (
    <div data-testid="security-page">
      <PageHeader
        title="Security"
        subtitle="Two-factor sign-in asks for a code from an authenticator app after your password."
      />
      <LiveMessage message={done} className="mb-4" testId="security-message" />
      {mustEnrolMfa && (
        <Alert kind="warning" testId="security-required">
          Your organisation requires two-factor sign-in. Set it up below to use the rest of Tradesage.
        </Alert>
      )}
      <div className="mt-6 grid grid-cols-1 gap-6 lg:grid-cols-2">
        <Card
          title="Two-factor sign-in"
          actions={
            <Badge color={on ? 'green' : 'gray'} testId="mfa-status">
              {on ? 'on' : 'off'}
            </Badge>
          }
        >
          {codes ? (
            <RecoveryCodesPanel codes={codes} account={user?.email ?? ''} onDone={() => setCodes(null)} />
          ) : on ? (
            <p className="text-sm text-slate-600" data-testid="mfa-on-note">
              Signing in asks for a code from your authenticator app (or one of your recovery codes).
            </p>
          ) : (
            <EnrolForm
              onEnabled={(c) => {
                setDone(null);
                setCodes(c);
              }}
            />
          )}
        </Card>
        {on && !codes && (
          <div className="space-y-6">
            <RenewCodesCard onRenewed={setCodes} />
            <DisableCard onDisabled={() => setDone({ kind: 'success', text: 'Two-factor sign-in is off.' })} />
          </div>
        )}
      </div>
    </div>
  );
}

/** The password, then the QR code, the secret and the first code. */
function EnrolForm({ onEnabled }: { onEnabled: (codes: RecoveryCodes) => void }) {
  const { api, reloadUser } = useAuth();
  const [password, setPassword] = useState('');
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [code, setCode] = useState('');
  const action = useAction();

  const start = (e: FormEvent) => {
    e.preventDefault();
    if (!password) return;
    void action.run(
      'start',
      async () => {
        setEnrolment(await beginEnrolment(api.http, password));
        setPassword('');
      },
      wrongFactor,
    );
  };

  const confirm = (e: FormEvent) => {
    e.preventDefault();
    const typed = code.replace(/\s/g, '');
    if (!/^\d{6}$/.test(typed)) {
      action.setMessage({ kind: 'error', text: 'Enter the 6 digits your app shows.' });
      return;
    }
    void action.run(
      'confirm',
      async () => {
        const codes = await confirmEnrolment(api.http, typed);
        await reloadUser().catch(() => undefined);
        onEnabled(codes);
      },
      wrongFactor,
    );
  };

  if (!enrolment) {
    return (
      <form onSubmit={start} className="space-y-4" noValidate data-testid="mfa-enrol-form">
        <p className="text-sm text-slate-600">
          You need an authenticator app on your phone (any app that shows 6-digit codes, such as Google Authenticator,
          Microsoft Authenticator, 1Password or Aegis). Confirm your password to begin.
        </p>
        <LiveMessage message={action.message} testId="mfa-enrol-message" />
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          data-testid="mfa-enrol-password"
        />
        <Button type="submit" loading={action.busy === 'start'} disabled={!password} data-testid="mfa-enrol-start">
          Set up two-factor sign-in
        </Button>
      </form>
    );
  }

  return (
    <form onSubmit={confirm} className="space-y-4" noValidate data-testid="mfa-confirm-form">
      <Step n={1}>Scan this QR code with your authenticator app.</Step>
      <figure className="flex flex-col items-center gap-2">
        <div className="rounded-md bg-white p-2 ring-1 ring-slate-200" data-testid="mfa-qr">
          <QRCodeSVG
            value={enrolment.otpauth_uri}
            size={184}
            marginSize={2}
            role="img"
            aria-label="QR code holding the two-factor secret for your authenticator app"
          />
        </div>
        <figcaption className="text-center text-xs text-slate-500">
          Cannot scan it? Type this key into the app instead (time-based, 6 digits):
        </figcaption>
        <code
          className="max-w-full break-all rounded bg-slate-100 px-2 py-1 text-center font-mono text-sm text-slate-900"
          data-testid="mfa-secret"
          data-secret={enrolment.secret}
        >
          {groupSecret(enrolment.secret)}
        </code>
        <CopyButton text={enrolment.secret} label="Copy key" testId="mfa-secret-copy" />
      </figure>
      <Step n={2}>Enter the code the app now shows for Tradesage.</Step>
      <LiveMessage message={action.message} testId="mfa-confirm-message" />
      <Field
        label="Code from the app"
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={7}
        spellCheck={false}
        value={code}
        onChange={(e) => setCode(e.target.value)}
        data-testid="mfa-confirm-code"
      />
      <div className="flex flex-wrap gap-2">
        <Button type="submit" loading={action.busy === 'confirm'} data-testid="mfa-confirm-submit">
          Turn on
        </Button>
        <Button variant="ghost" onClick={() => setEnrolment(null)} data-testid="mfa-enrol-cancel">
          Cancel
        </Button>
      </div>
    </form>
  );
}

function Step({ n, children }: { n: number; children: ReactNode }) {
  return (
    <p className="flex items-start gap-2 text-sm text-slate-700">
      <span className="inline-flex h-5 w-5 shrink-0 items-center justify-center rounded-full bg-indigo-600 text-xs font-semibold text-white">
        {n}
      </span>
      <span>{children}</span>
    </p>
  );
}

/** The recovery codes, shown this once: copy, download, then done. */
function RecoveryCodesPanel({ codes, account, onDone }: { codes: RecoveryCodes; account: string; onDone: () => void }) {
  const download = () => {
    const blob = new Blob([recoveryCodesText(codes, account)], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = 'tradesage-recovery-codes.txt';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <div className="space-y-4" data-testid="recovery-codes">
      <Alert kind="success" testId="recovery-codes-note">
        Two-factor sign-in is on. Save these recovery codes somewhere safe: each signs you in once if you lose your
        phone. They are shown only now.
      </Alert>
      <ol className="grid grid-cols-1 gap-2 sm:grid-cols-2" aria-label="Recovery codes">
        {codes.map((c) => (
          <li
            key={c}
            className="rounded bg-slate-100 px-2 py-1 text-center font-mono text-sm text-slate-900"
            data-testid="recovery-code"
          >
            {c}
          </li>
        ))}
      </ol>
      <div className="flex flex-wrap items-center gap-2">
        <CopyButton text={codes.join('\n')} label="Copy codes" testId="recovery-copy" />
        <Button size="sm" variant="secondary" onClick={download} data-testid="recovery-download">
          Download (.txt)
        </Button>
        <Button size="sm" onClick={onDone} data-testid="recovery-done">
          I saved them
        </Button>
      </div>
    </div>
  );
}

/** A code from the app, or (device lost) a recovery code; answers the body field to send. */
function FactorField({
  recovery,
  value,
  onChange,
  onSwitch,
  testId,
}: {
  recovery: boolean;
  value: string;
  onChange: (v: string) => void;
  onSwitch: () => void;
  testId: string;
}) {
  return (
    <div className="space-y-1">
      <Field
        key={recovery ? 'recovery' : 'code'}
        label={recovery ? 'Recovery code' : 'Code from the app'}
        inputMode={recovery ? undefined : 'numeric'}
        autoComplete={recovery ? 'off' : 'one-time-code'}
        spellCheck={false}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        data-testid={testId}
      />
      <Button size="sm" variant="ghost" onClick={onSwitch}>
        {recovery ? 'Use a code from the app instead' : 'Use a recovery code instead'}
      </Button>
    </div>
  );
}

function factorOf(recovery: boolean, value: string): SecondFactor {
  return recovery ? { recovery_code: value.trim() } : { code: value.replace(/\s/g, '') };
}

function RenewCodesCard({ onRenewed }: { onRenewed: (codes: RecoveryCodes) => void }) {
  const { api } = useAuth();
  const [recovery, setRecovery] = useState(false);
  const [value, setValue] = useState('');
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!value.trim()) return;
    void action.run(
      'renew',
      async () => {
        onRenewed(await renewRecoveryCodes(api.http, factorOf(recovery, value)));
        setValue('');
      },
      wrongFactor,
    );
  };
  return (
    <Card title="Recovery codes">
      <form onSubmit={submit} className="space-y-4" noValidate data-testid="mfa-renew-form">
        <p className="text-sm text-slate-600">Lost them, or used most? Get a new set; the old one stops working.</p>
        <LiveMessage message={action.message} testId="mfa-renew-message" />
        <FactorField
          recovery={recovery}
          value={value}
          onChange={setValue}
          onSwitch={() => setRecovery(!recovery)}
          testId="mfa-renew-code"
        />
        <Button
          type="submit"
          variant="secondary"
          loading={action.busy === 'renew'}
          disabled={!value.trim()}
          data-testid="mfa-renew-submit"
        >
          Get new recovery codes
        </Button>
      </form>
    </Card>
  );
}

function DisableCard({ onDisabled }: { onDisabled: () => void }) {
  const { api, reloadUser } = useAuth();
  const [password, setPassword] = useState('');
  const [recovery, setRecovery] = useState(false);
  const [value, setValue] = useState('');
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!password || !value.trim()) return;
    void action.run(
      'disable',
      async () => {
        await disableMfa(api.http, { password, ...factorOf(recovery, value) });
        onDisabled();
        await reloadUser().catch(() => undefined);
      },
      wrongFactor,
    );
  };
  return (
    <Card title="Turn off two-factor sign-in">
      <form onSubmit={submit} className="space-y-4" noValidate data-testid="mfa-disable-form">
        <p className="text-sm text-slate-600">Your password and a code are needed.</p>
        <LiveMessage message={action.message} testId="mfa-disable-message" />
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          data-testid="mfa-disable-password"
        />
        <FactorField
          recovery={recovery}
          value={value}
          onChange={setValue}
          onSwitch={() => setRecovery(!recovery)}
          testId="mfa-disable-code"
        />
        <Button
          type="submit"
          variant="danger"
          loading={action.busy === 'disable'}
          disabled={!password || !value.trim()}
          data-testid="mfa-disable-submit"
        >
          Turn off
        </Button>
      </form>
    </Card>
  );
}

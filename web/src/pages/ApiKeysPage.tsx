/**
 * The caller's API keys: make one (name, scopes limited to the caller's own, allowed networks,
 * expiry), see it once with a copy button, list the keys with their last use, revoke one.
 */
import { useState, type FormEvent } from 'react';
import { createApiKey, listApiKeys, revokeApiKey, type ApiKey, type NewApiKey } from '../api/apiKeys';
import { problemOf } from '../api/problem';
import { useAuth } from '../auth/AuthContext';
import { CopyButton } from '../components/CopyButton';
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Empty,
  Field,
  LiveMessage,
  Loading,
  PageHeader,
  SelectField,
} from '../components/ui';
import { activeCount, EXPIRY_CHOICES, expiryOf, MAX_ACTIVE_KEYS, parseAllowedIps, scopesToSend } from '../lib/apiKeys';
import { formatDateTime, formatRelative } from '../lib/format';
import { useAction, useNow, useQuery } from '../lib/hooks';

export function ApiKeysPage() {
  const { api, user } = useAuth();
  const q = useQuery(() => listApiKeys(api.http), [api]);
  const action = useAction();
  const [created, setCreated] = useState<NewApiKey | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const keys = q.data?.items ?? [];
  const now = useNow(60_000);
  const full = activeCount(keys, now) >= MAX_ACTIVE_KEYS;

  const revoke = (k: ApiKey) =>
    action.run(k.id, async () => {
      await revokeApiKey(api.http, k.id);
      setConfirm(null);
      q.setData((prev) => (prev ? { ...prev, items: prev.items.filter((x) => x.id !== k.id) } : prev));
      return `Key “${k.name}” revoked. It stops working everywhere within a second.`;
    });

  return (
    <div data-testid="api-keys-page">
      <PageHeader
        title="API keys"
        subtitle="Keys let your programs use the API as you, with the scopes you choose. A key cannot sign in, change your password or two-factor settings, or manage keys."
      />
      <LiveMessage
        message={action.message}
        className="mb-4"
        testId={action.message?.kind === 'error' ? 'api-keys-error' : 'api-keys-message'}
      />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        {created ? (
          <CreatedKey created={created} onDone={() => setCreated(null)} />
        ) : (
          <NewKeyForm
            ownScopes={user?.scopes ?? []}
            full={full}
            onCreated={(k) => {
              setCreated(k);
              const { key: _shownOnce, ...listed } = k;
              q.setData((prev) => (prev ? { ...prev, items: [listed, ...prev.items] } : prev));
            }}
          />
        )}
        <Card title="Your keys">
          {q.loading && !q.data ? (
            <Loading text="Loading keys…" />
          ) : q.error ? (
            <Alert onRetry={q.reload}>{q.error}</Alert>
          ) : keys.length === 0 ? (
            <Empty title="No API keys yet" testId="api-keys-empty" />
          ) : (
            <ul className="divide-y divide-slate-100" data-testid="api-keys-list">
              {keys.map((k) => (
                <li key={k.id} className="py-4" data-testid="api-key-row" data-key-id={k.id}>
                  <KeyFacts apiKey={k} />
                  <div className="mt-3 flex flex-wrap items-center gap-2">
                    {confirm === k.id ? (
                      <div className="flex flex-wrap items-center gap-2" role="group" aria-label={`Revoke ${k.name}?`}>
                        <span className="text-sm text-slate-700">
                          Revoke “{k.name}”? Programs using it stop at once.
                        </span>
                        <Button
                          variant="danger"
                          size="sm"
                          onClick={() => void revoke(k)}
                          loading={action.busy === k.id}
                          data-testid="api-key-revoke-confirm"
                        >
                          Yes, revoke
                        </Button>
                        <Button variant="secondary" size="sm" onClick={() => setConfirm(null)}>
                          Cancel
                        </Button>
                      </div>
                    ) : (
                      <Button variant="danger" size="sm" onClick={() => setConfirm(k.id)} data-testid="api-key-revoke">
                        Revoke<span className="sr-only"> key {k.name}</span>
                      </Button>
                    )}
                  </div>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </div>
  );
}

/** A key's name, prefix, scopes, networks and dates (also on the admin user page). */
export function KeyFacts({ apiKey: k }: { apiKey: ApiKey }) {
  return (
    <div className="min-w-0">
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium text-slate-900" data-testid="api-key-name">
          {k.name}
        </span>
        {k.scopes.map((s) => (
          <Badge key={s} color="indigo">
            {s}
          </Badge>
        ))}
      </div>
      <div className="mt-1 break-all font-mono text-xs text-slate-600">{k.prefix}…</div>
      <div className="mt-1 grid gap-x-6 gap-y-0.5 text-xs text-slate-600 sm:grid-cols-2">
        <span>Created {formatDateTime(k.created_at)}</span>
        <span data-testid="api-key-last-used" title={k.last_used_at ? formatDateTime(k.last_used_at) : undefined}>
          {k.last_used_at ? `Last used ${formatRelative(k.last_used_at)}` : 'Never used'}
        </span>
        <span>{k.expires_at ? `Expires ${formatDateTime(k.expires_at)}` : 'Never expires'}</span>
        <span className="break-all">
          {k.allowed_ips.length ? `From ${k.allowed_ips.join(', ')}` : 'From any address'}
        </span>
      </div>
    </div>
  );
}

function NewKeyForm({
  ownScopes,
  full,
  onCreated,
}: {
  ownScopes: readonly string[];
  full: boolean;
  onCreated: (k: NewApiKey) => void;
}) {
  const { api } = useAuth();
  const action = useAction();
  const [name, setName] = useState('');
  const [ticked, setTicked] = useState<string[]>([...ownScopes]);
  const [ips, setIps] = useState('');
  const [expiry, setExpiry] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = 'Give the key a name.';
    if (ticked.length === 0) found.scopes = 'Tick at least one scope.';
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    void action.run(
      'create',
      async () => {
        const body = {
          name: name.trim(),
          scopes: scopesToSend(ticked, ownScopes),
          allowed_ips: parseAllowedIps(ips),
          expires_at: expiryOf(expiry),
        };
        onCreated(await createApiKey(api.http, body));
      },
      (err) => {
        const problem = problemOf(err);
        if (problem?.code === 'validation_failed' && problem.field) {
          setErrors({ [problem.field]: problem.detail?.replace(/^[a-z_]+: /, '') ?? 'Not accepted.' });
          return 'Check the highlighted field.';
        }
        if (problem?.code === 'conflict') return `You already have ${MAX_ACTIVE_KEYS} keys. Revoke one first.`;
        return undefined;
      },
    );
  };

  return (
    <Card title="New key">
      <form onSubmit={submit} noValidate className="space-y-4" data-testid="api-key-form">
        <LiveMessage message={action.message} testId="api-key-form-error" />
        {full && (
          <p className="text-sm text-amber-800" data-testid="api-keys-full">
            You have {MAX_ACTIVE_KEYS} active keys, the most allowed. Revoke one to make another.
          </p>
        )}
        <Field
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={100}
          error={errors.name}
          hint="What uses it, e.g. “trading bot”."
          data-testid="api-key-name-input"
        />
        <fieldset aria-describedby={errors.scopes ? 'api-key-scopes-error' : undefined}>
          <legend className="text-sm font-medium text-slate-700">Scopes</legend>
          <p className="text-xs text-slate-600">Only your own. If you lose one, your keys lose it too.</p>
          <div className="mt-2 space-y-2">
            {ownScopes.map((s) => (
              <Checkbox
                key={s}
                label={s}
                checked={ticked.includes(s)}
                onChange={(e) => setTicked(e.target.checked ? [...ticked, s] : ticked.filter((x) => x !== s))}
                data-testid={`api-key-scope-${s}`}
              />
            ))}
          </div>
          {errors.scopes && (
            <p id="api-key-scopes-error" className="mt-1 text-xs text-rose-700">
              {errors.scopes}
            </p>
          )}
        </fieldset>
        <Field
          label="Allowed addresses (optional)"
          value={ips}
          onChange={(e) => setIps(e.target.value)}
          error={errors.allowed_ips}
          hint="Addresses or CIDR ranges, separated by commas, e.g. 203.0.113.0/24. Empty: any address."
          autoComplete="off"
          spellCheck={false}
          data-testid="api-key-ips-input"
        />
        <SelectField
          label="Expires"
          value={expiry}
          onChange={(e) => setExpiry(e.target.value)}
          options={[...EXPIRY_CHOICES]}
          data-testid="api-key-expiry-input"
        />
        {errors.expires_at && <p className="text-xs text-rose-700">{errors.expires_at}</p>}
        <Button type="submit" loading={action.busy === 'create'} disabled={full} data-testid="api-key-submit">
          Create key
        </Button>
      </form>
    </Card>
  );
}

/** The new key, shown this once. */
function CreatedKey({ created, onDone }: { created: NewApiKey; onDone: () => void }) {
  return (
    <Card title="Your new key" testId="api-key-created">
      <div className="space-y-4">
        <p className="text-sm text-slate-700" role="status">
          Copy “{created.name}” now: it will not be shown again. Send it as{' '}
          <code className="font-mono text-xs">Authorization: Bearer &lt;key&gt;</code>.
        </p>
        <pre
          className="whitespace-pre-wrap break-all rounded-md bg-slate-100 p-3 font-mono text-xs text-slate-900"
          data-testid="api-key-value"
        >
          {created.key}
        </pre>
        <div className="flex flex-wrap items-center justify-between gap-3">
          <CopyButton text={created.key} label="Copy key" testId="api-key-copy" />
          <Button variant="secondary" onClick={onDone} data-testid="api-key-done">
            Done, I have copied it
          </Button>
        </div>
      </div>
    </Card>
  );
}

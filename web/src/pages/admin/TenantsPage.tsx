import { useState, type FormEvent } from 'react';
import { codeOf } from '../../api/problem';
import { createTenant, listTenants, updateTenant, type Tenant, type TenantUpdate } from '../../api/tenants';
import { useAuth } from '../../auth/AuthContext';
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
  Table,
  td,
  th,
} from '../../components/ui';
import { formatDateTime } from '../../lib/format';
import { useAction, usePaged } from '../../lib/hooks';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function TenantsPage() {
  const { api } = useAuth();
  const list = usePaged((cursor) => listTenants(api.http, { limit: 100, ...(cursor ? { cursor } : {}) }), [api]);
  const [editing, setEditing] = useState<{ id: string; name: string } | null>(null);
  const action = useAction();

  const patch = (t: Tenant, body: TenantUpdate, text: string) =>
    action.run(t.id, async () => {
      const updated = await updateTenant(api.http, t.id, body);
      list.update((items) => items.map((x) => (x.id === t.id ? { ...x, ...updated } : x)));
      setEditing(null);
      return text;
    });

  return (
    <div data-testid="admin-tenants">
      <CreateTenant
        onCreated={(t) => {
          list.update((items) => [...items, t]);
          action.setMessage({ kind: 'success', text: `Organisation ${t.slug} created.` });
        }}
      />
      <LiveMessage message={action.message} className="mb-4" testId="tenants-message" />
      <Card title="Organisations">
        {list.loading ? (
          <Loading text="Loading organisations…" />
        ) : list.error && list.items.length === 0 ? (
          <Alert onRetry={list.reload}>{list.error}</Alert>
        ) : list.items.length === 0 ? (
          <Empty title="No organisations" />
        ) : (
          <>
            <Table caption="Organisations" testId="tenants-table">
              <thead>
                <tr>
                  <th scope="col" className={th}>
                    Name
                  </th>
                  <th scope="col" className={th}>
                    Slug
                  </th>
                  <th scope="col" className={th}>
                    Self sign-up
                  </th>
                  <th scope="col" className={th}>
                    Two-factor
                  </th>
                  <th scope="col" className={th}>
                    Created
                  </th>
                  <th scope="col" className={th}>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {list.items.map((t) => (
                  <tr key={t.id} data-testid="tenant-row" data-slug={t.slug}>
                    <td className={td}>
                      {editing?.id === t.id ? (
                        <form
                          className="flex gap-2"
                          onSubmit={(e) => {
                            e.preventDefault();
                            if (editing.name.trim()) void patch(t, { name: editing.name.trim() }, 'Name saved.');
                          }}
                        >
                          <label className="sr-only" htmlFor={`tenant-name-${t.id}`}>
                            Name of {t.slug}
                          </label>
                          <input
                            id={`tenant-name-${t.id}`}
                            // Renaming was just asked for: the field takes the focus.
                            ref={(el) => el?.focus()}
                            className="w-40 rounded-md border-0 px-2 py-1 text-sm ring-1 ring-inset ring-slate-300 focus:outline-none focus:ring-2 focus:ring-indigo-600"
                            value={editing.name}
                            onChange={(e) => setEditing({ id: t.id, name: e.target.value })}
                            onKeyDown={(e) => e.key === 'Escape' && setEditing(null)}
                          />
                          <Button size="sm" type="submit" loading={action.busy === t.id}>
                            Save
                          </Button>
                        </form>
                      ) : (
                        <span className="font-medium text-slate-900">{t.name}</span>
                      )}
                    </td>
                    <td className={`${td} font-mono text-xs`}>
                      {t.slug}
                      {t.is_active === false && (
                        <span className="ml-2 font-sans">
                          <Badge color="gray">inactive</Badge>
                        </span>
                      )}
                    </td>
                    <td className={td}>
                      <Badge color={t.allow_self_signup ? 'green' : 'gray'}>
                        {t.allow_self_signup ? 'allowed' : 'closed'}
                      </Badge>
                    </td>
                    <td className={td}>
                      <Badge color={t.require_mfa ? 'indigo' : 'gray'} testId="tenant-require-mfa">
                        {t.require_mfa ? 'required' : 'optional'}
                      </Badge>
                    </td>
                    <td className={`${td} whitespace-nowrap`}>{formatDateTime(t.created_at)}</td>
                    <td className={`${td} text-right`}>
                      <div className="flex justify-end gap-2">
                        {editing?.id !== t.id && (
                          <Button
                            size="sm"
                            variant="ghost"
                            onClick={() => setEditing({ id: t.id, name: t.name })}
                            data-testid="tenant-rename"
                          >
                            Rename<span className="sr-only">{` ${t.slug}`}</span>
                          </Button>
                        )}
                        <Button
                          size="sm"
                          variant="secondary"
                          disabled={action.busy === t.id}
                          onClick={() =>
                            void patch(
                              t,
                              { allow_self_signup: !t.allow_self_signup },
                              `Self sign-up ${t.allow_self_signup ? 'closed' : 'opened'} for ${t.slug}.`,
                            )
                          }
                        >
                          {t.allow_self_signup ? 'Close sign-up' : 'Open sign-up'}
                          <span className="sr-only">{` for ${t.slug}`}</span>
                        </Button>
                        <Button
                          size="sm"
                          variant="secondary"
                          disabled={action.busy === t.id}
                          onClick={() =>
                            void patch(
                              t,
                              { require_mfa: !t.require_mfa },
                              t.require_mfa
                                ? `Two-factor sign-in is optional again in ${t.slug}.`
                                : `Two-factor sign-in is now required in ${t.slug}: its users must set it up before anything else.`,
                            )
                          }
                          data-testid="tenant-toggle-require-mfa"
                        >
                          {t.require_mfa ? 'Make two-factor optional' : 'Require two-factor'}
                          <span className="sr-only">{` in ${t.slug}`}</span>
                        </Button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
            {list.hasMore && (
              <div className="mt-4 text-center">
                <Button variant="secondary" onClick={list.loadMore} loading={list.loadingMore}>
                  Load more
                </Button>
              </div>
            )}
          </>
        )}
      </Card>
    </div>
  );
}

function CreateTenant({ onCreated }: { onCreated: (t: Tenant) => void }) {
  const { api } = useAuth();
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [allow, setAllow] = useState(false);
  const [requireMfa, setRequireMfa] = useState(false);
  const [touched, setTouched] = useState(false);
  const action = useAction();
  const slugError = !SLUG.test(slug.trim()) ? 'Lower-case letters, digits and “-”.' : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (slugError || !name.trim()) return;
    void action.run(
      'create',
      async () => {
        onCreated(
          await createTenant(api.http, {
            slug: slug.trim(),
            name: name.trim(),
            allow_self_signup: allow,
            require_mfa: requireMfa,
          }),
        );
        setSlug('');
        setName('');
        setAllow(false);
        setRequireMfa(false);
        setTouched(false);
      },
      (err) => (codeOf(err) === 'conflict' ? 'An organisation with this slug already exists.' : undefined),
    );
  };

  return (
    <Card title="New organisation" className="mb-6">
      <form
        onSubmit={submit}
        noValidate
        className="grid grid-cols-1 items-start gap-4 sm:grid-cols-[1fr_1fr_auto_auto_auto]"
        data-testid="tenant-create"
      >
        <LiveMessage message={action.message} className="sm:col-span-5" />
        <Field
          label="Slug"
          value={slug}
          onChange={(e) => setSlug(e.target.value.toLowerCase())}
          placeholder="acme"
          error={touched ? slugError : null}
          spellCheck={false}
        />
        <Field
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="Acme Capital"
          error={touched && !name.trim() ? 'Enter a name.' : null}
        />
        <Checkbox
          className="sm:mt-8"
          label="Allow self sign-up"
          checked={allow}
          onChange={(e) => setAllow(e.target.checked)}
        />
        <Checkbox
          className="sm:mt-8"
          label="Require two-factor"
          checked={requireMfa}
          onChange={(e) => setRequireMfa(e.target.checked)}
          data-testid="tenant-create-require-mfa"
        />
        <Button type="submit" className="sm:mt-6" loading={action.busy === 'create'}>
          Create
        </Button>
      </form>
    </Card>
  );
}

import { useState, type FormEvent } from 'react';
import { codeOf, describeError } from '../../api/problem';
import type { Page, Tenant } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { Alert, Badge, Button, Card, Checkbox, Empty, Field, Loading, Table, td, th } from '../../components/ui';
import { formatDateTime } from '../../lib/format';
import { usePaged } from '../../lib/hooks';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function TenantsPage() {
  const { api } = useAuth();
  const list = usePaged<Tenant>(
    (cursor) =>
      api.http
        .get<Page<Tenant>>('/tenants', { params: { limit: 100, ...(cursor ? { cursor } : {}) } })
        .then((r) => r.data),
    [api],
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [editing, setEditing] = useState<{ id: string; name: string } | null>(null);
  const [msg, setMsg] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);

  const patch = async (t: Tenant, body: Partial<Tenant>, text: string) => {
    setBusy(t.id);
    setMsg(null);
    try {
      const res = await api.http.patch<Tenant>(`/tenants/${encodeURIComponent(t.id)}`, body);
      list.update((items) => items.map((x) => (x.id === t.id ? { ...x, ...res.data } : x)));
      setMsg({ kind: 'success', text });
      setEditing(null);
    } catch (e) {
      setMsg({ kind: 'error', text: describeError(e) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div data-testid="admin-tenants">
      <CreateTenant
        onCreated={(t) => {
          list.update((items) => [...items, t]);
          setMsg({ kind: 'success', text: `Organisation ${t.slug} created.` });
        }}
      />
      {msg && (
        <div className="mb-4">
          <Alert kind={msg.kind}>{msg.text}</Alert>
        </div>
      )}
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
                            autoFocus
                            className="w-40 rounded-md border-0 px-2 py-1 text-sm ring-1 ring-inset ring-slate-300 focus:outline-none focus:ring-2 focus:ring-indigo-600"
                            value={editing.name}
                            onChange={(e) => setEditing({ id: t.id, name: e.target.value })}
                            onKeyDown={(e) => e.key === 'Escape' && setEditing(null)}
                          />
                          <Button size="sm" type="submit" loading={busy === t.id}>
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
                    <td className={`${td} whitespace-nowrap`}>{formatDateTime(t.created_at)}</td>
                    <td className={`${td} text-right`}>
                      <div className="flex justify-end gap-2">
                        {editing?.id !== t.id && (
                          <Button
                            size="sm"
                            variant="ghost"
                            onClick={() => setEditing({ id: t.id, name: t.name })}
                            aria-label={`Rename ${t.slug}`}
                          >
                            Rename
                          </Button>
                        )}
                        <Button
                          size="sm"
                          variant="secondary"
                          disabled={busy === t.id}
                          onClick={() =>
                            patch(
                              t,
                              { allow_self_signup: !t.allow_self_signup },
                              `Self sign-up ${t.allow_self_signup ? 'closed' : 'opened'} for ${t.slug}.`,
                            )
                          }
                          aria-label={`${t.allow_self_signup ? 'Close' : 'Open'} self sign-up for ${t.slug}`}
                        >
                          {t.allow_self_signup ? 'Close sign-up' : 'Open sign-up'}
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
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const slugError = !SLUG.test(slug.trim()) ? 'Lower-case letters, digits and “-”.' : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (slugError || !name.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const res = await api.http.post<Tenant>('/tenants', {
        slug: slug.trim(),
        name: name.trim(),
        allow_self_signup: allow,
      });
      onCreated(res.data);
      setSlug('');
      setName('');
      setAllow(false);
      setTouched(false);
    } catch (err) {
      setError(codeOf(err) === 'conflict' ? 'An organisation with this slug already exists.' : describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title="New organisation" className="mb-6">
      <form
        onSubmit={submit}
        noValidate
        className="grid items-start gap-4 sm:grid-cols-[1fr_1fr_auto_auto]"
        data-testid="tenant-create"
      >
        {error && (
          <div className="sm:col-span-4">
            <Alert>{error}</Alert>
          </div>
        )}
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
        <Button type="submit" className="sm:mt-6" loading={busy}>
          Create
        </Button>
      </form>
    </Card>
  );
}

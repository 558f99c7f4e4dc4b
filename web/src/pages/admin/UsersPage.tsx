import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import {
  ROLES,
  createUser,
  listLockouts,
  listUsers,
  unlockUser,
  updateUser,
  type AdminUser,
  type Role,
} from '../../api/admin';
import { codeOf } from '../../api/problem';
import { useAuth } from '../../auth/AuthContext';
import { PasswordRules, passwordProblems } from '../../components/PasswordRules';
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
import { useAction, usePaged, useQuery } from '../../lib/hooks';
import { lockedUsers } from '../../lib/lockout';
import { useAdminTenant } from './AdminLayout';

export function UsersPage() {
  const { api, user: me } = useAuth();
  const { params, search, tenant } = useAdminTenant();
  const [query, setQuery] = useState('');
  const [showCreate, setShowCreate] = useState(false);
  const action = useAction();

  const list = usePaged(
    (cursor) => listUsers(api.http, { limit: 50, ...params, ...(cursor ? { cursor } : {}) }),
    [api, tenant],
  );
  // The user view has no lock state: it comes from the tenant's lockouts.
  const lockouts = useQuery(() => listLockouts(api.http, params).then((page) => page.items), [api, tenant]);
  const locks = lockedUsers(lockouts.data ?? []);

  const q = query.trim().toLowerCase();
  const shown = q
    ? list.items.filter((u) => u.email.toLowerCase().includes(q) || (u.display_name ?? '').toLowerCase().includes(q))
    : list.items;

  const setActive = (u: AdminUser, active: boolean) =>
    action.run(u.id, async () => {
      const updated = await updateUser(api.http, u.id, { is_active: active }, params);
      list.update((items) => items.map((x) => (x.id === u.id ? { ...x, ...updated } : x)));
      return `${u.email} ${active ? 'enabled' : 'disabled'}${active ? '' : '; their sessions were ended'}.`;
    });

  const unlock = (u: AdminUser) =>
    action.run(u.id, async () => {
      await unlockUser(api.http, u.id, params);
      lockouts.setData((prev) => (prev ?? []).filter((l) => l.user_id !== u.id));
      return `${u.email} unlocked.`;
    });

  return (
    <div data-testid="admin-users">
      <div className="mb-4 flex flex-wrap items-end justify-between gap-3">
        <Field
          label="Filter loaded users"
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder="Email or name"
          className="w-full sm:w-72"
          data-testid="users-filter"
        />
        <Button onClick={() => setShowCreate((s) => !s)} aria-expanded={showCreate} data-testid="user-create-toggle">
          {showCreate ? 'Close' : 'New user'}
        </Button>
      </div>
      {showCreate && (
        <CreateUser
          params={params}
          onCreated={(u) => {
            list.update((items) => [u, ...items]);
            setShowCreate(false);
            action.setMessage({ kind: 'success', text: `User ${u.email} created.` });
          }}
        />
      )}
      <LiveMessage message={action.message} className="mb-4" testId="users-message" />
      <Card>
        {list.loading ? (
          <Loading text="Loading users…" />
        ) : list.error && list.items.length === 0 ? (
          <Alert onRetry={list.reload}>{list.error}</Alert>
        ) : shown.length === 0 ? (
          <Empty title={q ? 'No user matches the filter' : 'No users yet'} />
        ) : (
          <>
            <Table caption="Users" testId="users-table">
              <thead>
                <tr>
                  <th scope="col" className={th}>
                    User
                  </th>
                  <th scope="col" className={th}>
                    Roles
                  </th>
                  <th scope="col" className={th}>
                    Status
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
                {shown.map((u) => {
                  const active = u.is_active !== false;
                  const lock = locks.get(u.id);
                  const locked = !!lock;
                  return (
                    <tr key={u.id} data-testid="user-row" data-email={u.email} data-locked={locked}>
                      <td className={td}>
                        <Link
                          to={{ pathname: u.id, search }}
                          className="font-medium text-indigo-700 hover:underline focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                        >
                          {u.email}
                        </Link>
                        {u.display_name && <div className="text-xs text-slate-500">{u.display_name}</div>}
                      </td>
                      <td className={td}>
                        <div className="flex flex-wrap gap-1">
                          {u.roles.map((r) => (
                            <Badge key={r} color="indigo">
                              {r}
                            </Badge>
                          ))}
                        </div>
                      </td>
                      <td className={td}>
                        <div className="flex flex-wrap gap-1">
                          <Badge color={active ? 'green' : 'gray'}>{active ? 'active' : 'disabled'}</Badge>
                          {lock && (
                            <span
                              title={
                                lock.permanent
                                  ? 'Locked until an admin unlocks'
                                  : `Locked until ${formatDateTime(lock.locked_until)}`
                              }
                            >
                              <Badge color="amber" testId="user-locked-badge">
                                {lock.permanent ? 'locked (permanent)' : 'locked'}
                              </Badge>
                            </span>
                          )}
                        </div>
                      </td>
                      <td className={`${td} whitespace-nowrap`}>{formatDateTime(u.created_at)}</td>
                      <td className={`${td} text-right`}>
                        <div className="flex justify-end gap-2">
                          {locked && (
                            <Button
                              size="sm"
                              variant="secondary"
                              onClick={() => void unlock(u)}
                              disabled={action.busy === u.id}
                              data-testid="user-unlock"
                            >
                              Unlock<span className="sr-only">{` ${u.email}`}</span>
                            </Button>
                          )}
                          {u.id !== me?.id && (
                            <Button
                              size="sm"
                              variant={active ? 'secondary' : 'primary'}
                              onClick={() => void setActive(u, !active)}
                              loading={action.busy === u.id}
                              data-testid="user-toggle-active"
                            >
                              {active ? 'Disable' : 'Enable'}
                              <span className="sr-only">{` ${u.email}`}</span>
                            </Button>
                          )}
                        </div>
                      </td>
                    </tr>
                  );
                })}
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

function CreateUser({ params, onCreated }: { params: { tenant?: string }; onCreated: (u: AdminUser) => void }) {
  const { api } = useAuth();
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<Role[]>(['viewer']);
  const [touched, setTouched] = useState(false);
  const action = useAction();
  const pwProblem = passwordProblems(password);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!email.trim() || pwProblem || roles.length === 0) return;
    void action.run(
      'create',
      async () => {
        const user = await createUser(
          api.http,
          { email: email.trim(), password, roles, ...(displayName.trim() ? { display_name: displayName.trim() } : {}) },
          params,
        );
        onCreated(user);
      },
      (err) => (codeOf(err) === 'conflict' ? 'A user with this email already exists.' : undefined),
    );
  };

  return (
    <Card title="New user" className="mb-6" testId="user-create">
      <form onSubmit={submit} noValidate className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <LiveMessage message={action.message} className="sm:col-span-2" />
        <Field
          label="Email"
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={touched && !email.trim() ? 'Enter an email.' : null}
          data-testid="user-create-email"
        />
        <Field label="Display name (optional)" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        <Field
          label="Initial password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          hint={<PasswordRules password={password} />}
          error={touched && pwProblem ? pwProblem : null}
          data-testid="user-create-password"
        />
        <fieldset>
          <legend className="text-sm font-medium text-slate-700">Roles</legend>
          <div className="mt-2 space-y-1.5">
            {ROLES.map((r) => (
              <Checkbox
                key={r}
                label={r}
                checked={roles.includes(r)}
                onChange={(e) => setRoles((prev) => (e.target.checked ? [...prev, r] : prev.filter((x) => x !== r)))}
              />
            ))}
          </div>
          {touched && roles.length === 0 && <p className="mt-1 text-xs text-rose-700">Pick at least one role.</p>}
        </fieldset>
        <div className="sm:col-span-2">
          <Button type="submit" loading={action.busy === 'create'} data-testid="user-create-submit">
            Create user
          </Button>
        </div>
      </form>
    </Card>
  );
}

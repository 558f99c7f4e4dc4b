import { NavLink, Outlet, useSearchParams } from 'react-router-dom';
import { listTenants } from '../../api/tenants';
import { SCOPES } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { PageHeader, SelectField, cx, focusRing } from '../../components/ui';
import { useQuery } from '../../lib/hooks';

/** Platform admins may act on another tenant with `?tenant=<slug>`; it lives in the URL. */
export function useAdminTenant(): { tenant: string | null; params: { tenant?: string }; search: string } {
  const [sp] = useSearchParams();
  const tenant = sp.get('tenant') || null;
  return { tenant, params: tenant ? { tenant } : {}, search: tenant ? `?tenant=${encodeURIComponent(tenant)}` : '' };
}

export function AdminLayout() {
  const { api, hasScope, user } = useAuth();
  const platform = hasScope(SCOPES.tenantsManage);
  const [sp, setSp] = useSearchParams();
  const { search, tenant } = useAdminTenant();
  const tenants = useQuery(
    () => (platform ? listTenants(api.http, { limit: 200 }).then((page) => page.items) : Promise.resolve([])),
    [api, platform],
  );

  const tabs = [
    { to: 'users', label: 'Users', testId: 'admin-tab-users', show: true },
    { to: 'lockouts', label: 'Lockouts', testId: 'admin-tab-lockouts', show: true },
    { to: 'audit', label: 'Audit log', testId: 'admin-tab-audit', show: hasScope(SCOPES.auditRead) },
    { to: 'tenants', label: 'Organisations', testId: 'admin-tab-tenants', show: platform },
  ].filter((t) => t.show);

  return (
    <div data-testid="admin-page">
      <PageHeader
        title="Administration"
        subtitle={`Organisation: ${tenant ?? user?.tenant?.slug ?? '—'}`}
        actions={
          platform && (tenants.data?.length ?? 0) > 0 ? (
            <SelectField
              label="Act on organisation"
              value={tenant ?? ''}
              onChange={(e) => {
                const next = new URLSearchParams(sp);
                if (e.target.value) next.set('tenant', e.target.value);
                else next.delete('tenant');
                setSp(next);
              }}
              options={[
                { value: '', label: `Own (${user?.tenant?.slug ?? 'platform'})` },
                ...(tenants.data ?? [])
                  .filter((t) => t.slug !== user?.tenant?.slug)
                  .map((t) => ({ value: t.slug, label: `${t.name} (${t.slug})` })),
              ]}
              data-testid="admin-tenant-select"
            />
          ) : undefined
        }
      />
      <nav aria-label="Administration" className="mb-6 flex gap-1 overflow-x-auto border-b border-slate-200">
        {tabs.map((t) => (
          <NavLink
            key={t.to}
            to={{ pathname: t.to, search }}
            data-testid={t.testId}
            className={({ isActive }) =>
              cx(
                '-mb-px whitespace-nowrap border-b-2 px-3 py-2 text-sm font-medium',
                focusRing,
                isActive
                  ? 'border-indigo-600 text-indigo-700'
                  : 'border-transparent text-slate-600 hover:border-slate-300 hover:text-slate-900',
              )
            }
          >
            {t.label}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </div>
  );
}

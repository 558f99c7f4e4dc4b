/**
 * The app's routes: one list that App.tsx turns into the router and the end-to-end run
 * (e2e/a11y.e2e.mjs) walks at every width and as every role. A page exists only by being here,
 * so no page can escape the checks. Plain data: no React, so the e2e can load it in Node.
 */
import { SCOPES } from './api/types';

/** Who may open a route: signed-out visitors only (sign-in, register) or signed-in users. */
export type Access = 'guest' | 'user';

export interface AppRoute {
  /** The key of the route's page in App.tsx (`PAGES`). */
  readonly id: string;
  /** The path as React Router matches it: absolute, parameters as `:name`, `*` for the rest. */
  readonly path: string;
  readonly access: Access;
  /** Scopes the page needs, on top of its layout's; without them it shows "No access". */
  readonly scopes?: readonly string[];
  /** The layout the page is shown in, below the main one (see `LAYOUTS`). */
  readonly layout?: keyof typeof LAYOUTS;
  /** A route that only sends on to another (relative to the route's own path). */
  readonly redirect?: string;
}

/** Nested layouts: their path prefix and the scopes every page in them needs. */
export const LAYOUTS = {
  admin: { path: '/admin', scopes: [SCOPES.usersManage] },
} as const;

export const ROUTES = [
  { id: 'signIn', path: '/login', access: 'guest' },
  { id: 'register', path: '/register', access: 'guest' },
  { id: 'dashboard', path: '/', access: 'user' },
  { id: 'sessions', path: '/sessions', access: 'user' },
  { id: 'profile', path: '/profile', access: 'user' },
  { id: 'security', path: '/security', access: 'user' },
  { id: 'apiKeys', path: '/api-keys', access: 'user' },
  { id: 'orders', path: '/orders', access: 'user', scopes: [SCOPES.ordersRead] },
  { id: 'operator', path: '/operator', access: 'user', scopes: [SCOPES.actorsRead] },
  { id: 'admin', path: '/admin', access: 'user', layout: 'admin', redirect: 'users' },
  { id: 'adminUsers', path: '/admin/users', access: 'user', layout: 'admin' },
  { id: 'adminUser', path: '/admin/users/:id', access: 'user', layout: 'admin' },
  { id: 'adminLockouts', path: '/admin/lockouts', access: 'user', layout: 'admin' },
  { id: 'adminAudit', path: '/admin/audit', access: 'user', layout: 'admin', scopes: [SCOPES.auditRead] },
  { id: 'adminTenants', path: '/admin/tenants', access: 'user', layout: 'admin', scopes: [SCOPES.tenantsManage] },
  { id: 'notFound', path: '*', access: 'user' },
] as const satisfies readonly AppRoute[];

export type RouteId = (typeof ROUTES)[number]['id'];

/** Every scope a route needs, its layout's included. */
export function routeScopes(route: AppRoute): string[] {
  return [...(route.layout ? LAYOUTS[route.layout].scopes : []), ...(route.scopes ?? [])];
}

/** The routes that show a page of their own (not a redirect). */
export type PageRouteId = Exclude<(typeof ROUTES)[number], { redirect: string }>['id'];

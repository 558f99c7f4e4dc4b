/**
 * Tenant administration (role `admin`). Platform admins act on another tenant with
 * `{ tenant: slug }` (see `useAdminTenant`), which every call here takes.
 */
import { request, type BodyOf, type Http, type QueryOf, type ResponseOf } from './http';

/** The tenant to act on (platform admins only; absent: the caller's own). */
export interface TenantParam {
  tenant?: string;
}

export type AdminUser = ResponseOf<'/api/v1/admin/users/{id}', 'get'>;
export type Role = AdminUser['roles'][number];
/** Every role, in the order the forms offer them. */
export const ROLES: readonly Role[] = ['admin', 'trader', 'viewer', 'api_user'];
export type UserUpdate = BodyOf<'/api/v1/admin/users/{id}', 'patch'>;
export type Lockout = ResponseOf<'/api/v1/admin/lockouts', 'get'>['items'][number];
export type AuditEvent = ResponseOf<'/api/v1/admin/audit', 'get'>['items'][number];

export function listUsers(http: Http, query: QueryOf<'/api/v1/admin/users', 'get'>) {
  return request(http, 'get', '/api/v1/admin/users', { query });
}

export function createUser(http: Http, body: BodyOf<'/api/v1/admin/users', 'post'>, tenant: TenantParam) {
  return request(http, 'post', '/api/v1/admin/users', { body, query: tenant });
}

export function getUser(http: Http, id: string, tenant: TenantParam) {
  return request(http, 'get', '/api/v1/admin/users/{id}', { path: { id }, query: tenant });
}

/** Changes roles or `is_active` (disabling ends the user's sessions). */
export function updateUser(http: Http, id: string, body: UserUpdate, tenant: TenantParam) {
  return request(http, 'patch', '/api/v1/admin/users/{id}', { path: { id }, body, query: tenant });
}

/** Lifts the user's sign-in lockout, permanent ones included. */
export function unlockUser(http: Http, id: string, tenant: TenantParam) {
  return request(http, 'post', '/api/v1/admin/users/{id}/unlock', { path: { id }, query: tenant });
}

/** Turns the user's two-factor sign-in off (a lost device); audited. */
export function resetUserMfa(http: Http, id: string, tenant: TenantParam) {
  return request(http, 'delete', '/api/v1/admin/users/{id}/mfa', { path: { id }, query: tenant });
}

export function listUserSessions(http: Http, id: string, tenant: TenantParam) {
  return request(http, 'get', '/api/v1/admin/users/{id}/sessions', { path: { id }, query: tenant });
}

export function endUserSession(http: Http, id: string, tenant: TenantParam) {
  return request(http, 'delete', '/api/v1/admin/sessions/{id}', { path: { id }, query: tenant });
}

export function listLockouts(http: Http, query: QueryOf<'/api/v1/admin/lockouts', 'get'>) {
  return request(http, 'get', '/api/v1/admin/lockouts', { query });
}

/** Audit events, newest first. */
export function listAudit(http: Http, query: QueryOf<'/api/v1/admin/audit', 'get'>) {
  return request(http, 'get', '/api/v1/admin/audit', { query });
}

/**
 * API keys (`Authorization: Bearer tsk_…`): the caller's own — made (the key is in that answer
 * only), listed and revoked — and, for admins, a user's.
 */
import type { TenantParam } from './admin';
import { request, type BodyOf, type Http, type ResponseOf } from './http';

export type ApiKey = ResponseOf<'/api/v1/users/me/api-keys', 'get'>['items'][number];
/** A new key: the listed fields plus `key`, shown this once. */
export type NewApiKey = ResponseOf<'/api/v1/users/me/api-keys', 'post'>;
export type NewApiKeyBody = BodyOf<'/api/v1/users/me/api-keys', 'post'>;

export function listApiKeys(http: Http) {
  return request(http, 'get', '/api/v1/users/me/api-keys', {});
}

export function createApiKey(http: Http, body: NewApiKeyBody) {
  return request(http, 'post', '/api/v1/users/me/api-keys', { body });
}

/** Revokes one of the caller's keys: refused everywhere within a second. */
export function revokeApiKey(http: Http, id: string) {
  return request(http, 'delete', '/api/v1/users/me/api-keys/{id}', { path: { id } });
}

/** A user's keys (admins, scope `users:manage`). */
export function listUserApiKeys(http: Http, userId: string, tenant: TenantParam) {
  return request(http, 'get', '/api/v1/admin/users/{id}/api-keys', { path: { id: userId }, query: tenant });
}

/** Revokes a user's key (admins, scope `users:manage`). */
export function revokeUserApiKey(http: Http, id: string, tenant: TenantParam) {
  return request(http, 'delete', '/api/v1/admin/api-keys/{id}', { path: { id }, query: tenant });
}

/** Tenant management (admins of tenant `platform`). */
import { request, type BodyOf, type Http, type QueryOf, type ResponseOf } from './http';

export type Tenant = ResponseOf<'/api/v1/tenants/{id}', 'get'>;
export type TenantUpdate = BodyOf<'/api/v1/tenants/{id}', 'patch'>;

export function listTenants(http: Http, query: QueryOf<'/api/v1/tenants', 'get'>) {
  return request(http, 'get', '/api/v1/tenants', { query });
}

export function createTenant(http: Http, body: BodyOf<'/api/v1/tenants', 'post'>) {
  return request(http, 'post', '/api/v1/tenants', { body });
}

export function updateTenant(http: Http, id: string, body: TenantUpdate) {
  return request(http, 'patch', '/api/v1/tenants/{id}', { path: { id }, body });
}

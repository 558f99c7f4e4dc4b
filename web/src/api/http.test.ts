import axios, { type AxiosAdapter, type InternalAxiosRequestConfig } from 'axios';
import { describe, expect, it } from 'vitest';
import { listUsers, updateUser } from './admin';
import { request, urlOf } from './http';

/** An axios instance whose adapter records each request and answers `data`. */
function recording(data: unknown = {}) {
  const seen: InternalAxiosRequestConfig[] = [];
  const adapter: AxiosAdapter = (config) => {
    seen.push(config);
    return Promise.resolve({ data, status: 200, statusText: 'OK', headers: {}, config });
  };
  return { http: axios.create({ baseURL: '/api/v1', adapter }), seen };
}

describe('urlOf', () => {
  it('drops the /api/v1 prefix the client already has and fills in encoded path parameters', () => {
    expect(urlOf('/api/v1/users/me')).toBe('/users/me');
    expect(urlOf('/api/v1/admin/users/{id}/sessions', { id: 'a b/c' })).toBe('/admin/users/a%20b%2Fc/sessions');
  });

  it('refuses a path whose parameter is missing rather than calling a wrong URL', () => {
    expect(() => urlOf('/api/v1/orders/{id}', {})).toThrow(/missing path parameter id/);
  });
});

describe('request', () => {
  it('sends the method, the filled path, the query and the body, and answers the JSON body', async () => {
    const { http, seen } = recording({ id: 'u1', is_active: false });
    const user = await request(http, 'patch', '/api/v1/admin/users/{id}', {
      path: { id: 'u1' },
      query: { tenant: 'default' },
      body: { is_active: false },
    });
    expect(user).toEqual({ id: 'u1', is_active: false });
    expect(seen[0].method).toBe('patch');
    expect(seen[0].url).toBe('/admin/users/u1');
    expect(seen[0].params).toEqual({ tenant: 'default' });
    expect(JSON.parse(String(seen[0].data))).toEqual({ is_active: false });
  });

  it('is what the resource functions use', async () => {
    const { http, seen } = recording({ items: [], next_cursor: null });
    await listUsers(http, { limit: 50, tenant: 'default' });
    await updateUser(http, 'u 2', { roles: ['trader'] }, {});
    expect(seen.map((c) => `${c.method} ${c.url}`)).toEqual(['get /admin/users', 'patch /admin/users/u%202']);
    expect(seen[0].params).toEqual({ limit: 50, tenant: 'default' });
  });
});

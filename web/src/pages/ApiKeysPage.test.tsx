// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiKey, NewApiKey } from '../api/apiKeys';
import type { ApiClient } from '../api/client';
import type { User } from '../api/users';
import { fakeAuth, renderAt } from '../test/auth';
import { ApiKeysPage } from './ApiKeysPage';

const existing: ApiKey = {
  id: '0192f0c4-a1b2-7c3d-9e8f-001122334455',
  name: 'old bot',
  prefix: 'tsk_0192f0c4a1b27c3d9e8f001122334455',
  scopes: ['orders:read'],
  allowed_ips: [],
  created_at: '2030-01-01T00:00:00Z',
  expires_at: null,
  last_used_at: null,
};

const made: NewApiKey = {
  ...existing,
  id: '0192f0c4-a1b2-7c3d-9e8f-00112233aaaa',
  name: 'reader',
  prefix: 'tsk_0192f0c4a1b27c3d9e8f00112233aaaa',
  key: 'tsk_0192f0c4a1b27c3d9e8f00112233aaaa_secretsecretsecretsecretsecretsecretsecret1',
};

type Config = { method: string; url: string; data?: unknown };

/** An API client whose axios instance answers the key routes; every call is recorded. */
function api() {
  const request = vi.fn((config: Config) => {
    if (config.method === 'get' && config.url === '/users/me/api-keys') {
      return Promise.resolve({ data: { items: [existing], next_cursor: null } });
    }
    if (config.method === 'post' && config.url === '/users/me/api-keys') return Promise.resolve({ data: made });
    if (config.method === 'delete') return Promise.resolve({ data: undefined });
    return Promise.reject(new Error(`unexpected ${config.method} ${config.url}`));
  });
  return { client: { http: { request } } as unknown as ApiClient, request };
}

const trader = { scopes: ['orders:read', 'orders:write'] } as unknown as User;

async function settle() {
  await act(async () => {
    await Promise.resolve();
  });
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('the API keys page', () => {
  it('offers only the user’s own scopes, sends the ticked ones, and shows the new key once', async () => {
    const { client, request } = api();
    renderAt(<ApiKeysPage />, { auth: fakeAuth({ api: client, user: trader }), url: '/api-keys' });
    await settle();
    expect(screen.getAllByTestId('api-key-row')).toHaveLength(1);
    expect(screen.getByTestId('api-key-last-used').textContent).toBe('Never used');
    expect(screen.queryByTestId('api-key-scope-users:manage')).toBeNull();

    fireEvent.change(screen.getByTestId('api-key-name-input'), { target: { value: ' reader ' } });
    fireEvent.click(screen.getByTestId('api-key-scope-orders:write'));
    fireEvent.change(screen.getByTestId('api-key-ips-input'), { target: { value: '203.0.113.0/24, 10.0.0.1' } });
    fireEvent.submit(screen.getByTestId('api-key-form'));
    await settle();

    const post = request.mock.calls.map(([c]) => c).find((c) => c.method === 'post');
    expect(post?.data).toEqual({
      name: 'reader',
      scopes: ['orders:read'],
      allowed_ips: ['203.0.113.0/24', '10.0.0.1'],
      expires_at: undefined,
    });
    expect(screen.getByTestId('api-key-value').textContent).toBe(made.key);
    const rows = screen.getAllByTestId('api-key-row');
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).not.toContain(made.key);

    const writeText = vi.fn(() => Promise.resolve());
    vi.stubGlobal('navigator', { clipboard: { writeText } });
    fireEvent.click(screen.getByTestId('api-key-copy'));
    await settle();
    expect(writeText).toHaveBeenCalledWith(made.key);
    expect(screen.getByTestId('api-key-copy-status').textContent).toBe('Copied.');

    fireEvent.click(screen.getByTestId('api-key-done'));
    expect(screen.queryByTestId('api-key-value')).toBeNull();
    expect(document.body.textContent).not.toContain(made.key);
  });

  it('asks before revoking and drops the key from the list', async () => {
    const { client, request } = api();
    renderAt(<ApiKeysPage />, { auth: fakeAuth({ api: client, user: trader }), url: '/api-keys' });
    await settle();
    const row = screen.getByTestId('api-key-row');
    fireEvent.click(within(row).getByTestId('api-key-revoke'));
    expect(request.mock.calls.some(([c]) => c.method === 'delete')).toBe(false);
    fireEvent.click(within(row).getByTestId('api-key-revoke-confirm'));
    await settle();
    expect(
      request.mock.calls.some(([c]) => c.method === 'delete' && c.url === `/users/me/api-keys/${existing.id}`),
    ).toBe(true);
    expect(screen.queryByTestId('api-key-row')).toBeNull();
    expect(screen.getByTestId('api-keys-message').textContent).toContain('revoked');
  });

  it('refuses an empty name and no scope before asking the server', async () => {
    const { client, request } = api();
    renderAt(<ApiKeysPage />, { auth: fakeAuth({ api: client, user: trader }), url: '/api-keys' });
    await settle();
    fireEvent.click(screen.getByTestId('api-key-scope-orders:read'));
    fireEvent.click(screen.getByTestId('api-key-scope-orders:write'));
    fireEvent.submit(screen.getByTestId('api-key-form'));
    await settle();
    expect(screen.getByText('Give the key a name.')).toBeTruthy();
    expect(screen.getByText('Tick at least one scope.')).toBeTruthy();
    expect(request.mock.calls.some(([c]) => c.method === 'post')).toBe(false);
  });
});

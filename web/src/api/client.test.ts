import { AxiosError, type AxiosAdapter, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApiClient, refreshDelayMs, type AuthFailure, type SessionSnapshot } from './client';
import type { TokenResponse } from './auth';
import type { User } from './users';

// ---------------------------------------------------------------------------------------------
// A fake server behind a custom axios adapter: no network.
// ---------------------------------------------------------------------------------------------

interface Call {
  method: string;
  url: string;
  authorization: string | undefined;
  xRequestedWith: string | undefined;
  withCredentials: boolean | undefined;
}

type Reply = { status: number; data?: unknown; headers?: Record<string, string> };
type Handler = (call: Call, n: number) => Reply | Promise<Reply>;

const user: User = {
  id: 'u1',
  email: 'ada@example.com',
  display_name: 'Ada',
  tenant: { id: 't1', slug: 'default', name: 'Default', require_mfa: false },
  roles: ['viewer'],
  scopes: ['orders:read'],
  created_at: '2024-01-01T00:00:00Z',
  is_active: true,
  mfa_enabled: false,
};

function tokens(access: string, expiresIn = 900): TokenResponse {
  return { access_token: access, token_type: 'Bearer', expires_in: expiresIn, session_id: 's1', user };
}

function problem(status: number, code: string): Reply {
  return { status, data: { type: 'about:blank', title: code, status, detail: code, code } };
}

function fakeServer(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const counts: Record<string, number> = {};
  const adapter: AxiosAdapter = async (config: InternalAxiosRequestConfig) => {
    const method = (config.method ?? 'get').toUpperCase();
    const url = config.url ?? '';
    const headers = config.headers;
    const call: Call = {
      method,
      url,
      authorization: (headers.get('Authorization') as string | undefined) ?? undefined,
      xRequestedWith: (headers.get('X-Requested-With') as string | undefined) ?? undefined,
      withCredentials: config.withCredentials,
    };
    calls.push(call);
    const key = `${method} ${url}`;
    counts[key] = (counts[key] ?? 0) + 1;
    const handler = routes[key];
    const reply: Reply = handler ? await handler(call, counts[key]) : problem(404, 'not_found');
    const response: AxiosResponse = {
      data: reply.data ?? '',
      status: reply.status,
      statusText: String(reply.status),
      headers: reply.headers ?? {},
      config,
      request: {},
    };
    if (reply.status >= 400) {
      throw new AxiosError(`Request failed with status code ${reply.status}`, 'ERR_BAD_REQUEST', config, {}, response);
    }
    return response;
  };
  const count = (key: string) => counts[key] ?? 0;
  return { adapter, calls, count };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** A GET route that accepts exactly the bearer token `valid()`, else answers `code`. */
function protectedRoute(valid: () => string, code = 'token_expired'): Handler {
  return (call) =>
    call.authorization === `Bearer ${valid()}` ? { status: 200, data: { ok: true } } : problem(401, code);
}

function setup(routes: Record<string, Handler>, opts: { proactiveRefresh?: boolean } = {}) {
  const server = fakeServer(routes);
  const onAuthFailure = vi.fn<(f: AuthFailure) => void>();
  const onSession = vi.fn<(s: SessionSnapshot) => void>();
  const client = createApiClient({
    adapter: server.adapter,
    baseURL: '',
    onAuthFailure,
    onSession,
    rotatedRetryDelayMs: 0,
    proactiveRefresh: opts.proactiveRefresh ?? false,
  });
  return { ...server, client, onAuthFailure, onSession };
}

afterEach(() => {
  vi.useRealTimers();
});

// ---------------------------------------------------------------------------------------------

describe('refresh timing', () => {
  it('refreshes 30 s before expiry for normal TTLs and at 80 % for short ones', () => {
    expect(refreshDelayMs(900)).toBe(870_000);
    expect(refreshDelayMs(150)).toBe(120_000);
    expect(refreshDelayMs(60)).toBe(48_000);
    expect(refreshDelayMs(10)).toBe(8_000);
    expect(refreshDelayMs(0)).toBe(0);
  });
});

describe('login', () => {
  it('asks for cookie delivery and attaches the access token afterwards', async () => {
    let body: unknown;
    const t = setup({
      'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
      'GET /orders': protectedRoute(() => 'A'),
    });
    t.client.http.interceptors.request.use((c) => {
      if (c.url === '/auth/login') body = typeof c.data === 'string' ? JSON.parse(c.data) : c.data;
      return c;
    });
    await t.client.login({ email: 'ada@example.com', password: 'pw-pw-pw-pw' });
    expect(body).toMatchObject({ email: 'ada@example.com', token_delivery: 'cookie' });
    expect(t.calls[0].authorization).toBeUndefined();
    const res = await t.client.http.get('/orders');
    expect(res.status).toBe(200);
    expect(t.calls[1].authorization).toBe('Bearer A');
    expect(t.onSession).toHaveBeenCalledTimes(1);
  });
});

describe('two-factor sign-in', () => {
  it('answers a pending sign-in without a session, and the code step signs in', async () => {
    const t = setup({
      'POST /auth/login': () => ({
        status: 200,
        data: { mfa_required: true, mfa_token: 'opaque', expires_in: 300, methods: ['totp', 'recovery_code'] },
      }),
      'POST /auth/mfa/verify': () => ({ status: 200, data: tokens('B') }),
      'GET /orders': protectedRoute(() => 'B'),
    });
    const first = await t.client.login({ email: 'ada@example.com', password: 'pw-pw-pw-pw' });
    expect(first.session).toBeUndefined();
    expect(first.pending?.mfaToken).toBe('opaque');
    expect(first.pending!.expiresAt - Date.now()).toBeGreaterThan(299_000);
    expect(t.client.getSession()).toBeNull();
    expect(t.onSession).not.toHaveBeenCalled();

    const session = await t.client.verifyMfa({ mfa_token: 'opaque', code: '123456' });
    expect(session.accessToken).toBe('B');
    const verify = t.calls.find((c) => c.url === '/auth/mfa/verify');
    expect(verify?.authorization).toBeUndefined();
    expect(verify?.withCredentials).toBe(true);
    expect((await t.client.http.get('/orders')).status).toBe(200);
    expect(t.onSession).toHaveBeenCalledTimes(1);
  });

  it('leaves a wrong code (401 mfa_invalid) to the caller: no refresh, no sign-out', async () => {
    const t = setup({ 'POST /auth/mfa/verify': () => problem(401, 'mfa_invalid') });
    await expect(t.client.verifyMfa({ mfa_token: 'opaque', code: '000000' })).rejects.toMatchObject({
      response: { status: 401 },
    });
    expect(t.calls.map((c) => c.url)).toEqual(['/auth/mfa/verify']);
    expect(t.onAuthFailure).not.toHaveBeenCalled();
  });
});

describe('401 token_expired → single-flight refresh', () => {
  it('runs exactly one refresh for many parallel 401s and replays every request', async () => {
    let valid = 'A';
    const t = setup({
      'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
      'POST /auth/refresh': async () => {
        await tick(20); // slow refresh: every request must pile up behind it
        valid = 'B';
        return { status: 200, data: tokens('B') };
      },
      'GET /orders': protectedRoute(() => valid),
    });
    await t.client.login({ email: 'a@b.c', password: 'x' });
    valid = 'A-rotated-away'; // the server now considers A expired

    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => t.client.http.get('/orders', { params: { i } })),
    );

    expect(results).toHaveLength(8);
    results.forEach((r) => expect(r.data).toEqual({ ok: true }));
    expect(t.count('POST /auth/refresh')).toBe(1);
    // 8 first attempts + 8 replays, never more.
    expect(t.count('GET /orders')).toBe(16);
    const replays = t.calls.filter((c) => c.url === '/orders' && c.authorization === 'Bearer B');
    expect(replays).toHaveLength(8);
    expect(t.client.getAccessToken()).toBe('B');
    expect(t.onAuthFailure).not.toHaveBeenCalled();
  });

  it('sends the refresh with the CSRF header, credentials and without the access token', async () => {
    let valid = 'A';
    const t = setup({
      'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
      'POST /auth/refresh': () => {
        valid = 'B';
        return { status: 200, data: tokens('B') };
      },
      'GET /me': protectedRoute(() => valid),
    });
    await t.client.login({ email: 'a@b.c', password: 'x' });
    valid = 'gone';
    await t.client.http.get('/me');
    const refresh = t.calls.find((c) => c.url === '/auth/refresh');
    expect(refresh).toBeDefined();
    expect(refresh!.xRequestedWith).toBe('XMLHttpRequest');
    expect(refresh!.withCredentials).toBe(true);
    expect(refresh!.authorization).toBeUndefined();
  });

  it('treats token_invalid on an access token the same way, once', async () => {
    let valid = 'A';
    const t = setup({
      'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
      'POST /auth/refresh': () => {
        valid = 'B';
        return { status: 200, data: tokens('B') };
      },
      'GET /orders': protectedRoute(() => valid, 'token_invalid'),
    });
    await t.client.login({ email: 'a@b.c', password: 'x' });
    valid = 'other';
    await Promise.all([t.client.http.get('/orders'), t.client.http.get('/orders'), t.client.http.get('/orders')]);
    expect(t.count('POST /auth/refresh')).toBe(1);
    expect(t.count('GET /orders')).toBe(6);
  });

  it('replays a request only once: a second 401 after the refresh is returned to the caller', async () => {
    const t = setup({
      'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
      'POST /auth/refresh': () => ({ status: 200, data: tokens('B') }),
      'GET /orders': () => problem(401, 'token_expired'),
    });
    await t.client.login({ email: 'a@b.c', password: 'x' });
    await expect(t.client.http.get('/orders')).rejects.toMatchObject({ response: { status: 401 } });
    expect(t.count('POST /auth/refresh')).toBe(1);
    expect(t.count('GET /orders')).toBe(2);
  });

  it('does not refresh again for a late 401 whose token was already replaced', async () => {
    let valid = 'A';
    let releaseSlow!: () => void;
    const slowGate = new Promise<void>((r) => (releaseSlow = r));
    const t = setup({
      'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
      'POST /auth/refresh': () => {
        valid = 'B';
        return { status: 200, data: tokens('B') };
      },
      'GET /fast': protectedRoute(() => valid),
      'GET /slow': async (call) => {
        await slowGate; // answers only after the refresh is over
        return call.authorization === `Bearer ${valid}` ? { status: 200, data: 'slow' } : problem(401, 'token_expired');
      },
    });
    await t.client.login({ email: 'a@b.c', password: 'x' });
    valid = 'expired';
    const slow = t.client.http.get('/slow'); // sent with A
    await tick();
    await t.client.http.get('/fast'); // 401 → refresh → B → replay
    expect(t.count('POST /auth/refresh')).toBe(1);
    releaseSlow();
    const res = await slow; // 401 for A arrives now → replay with B, no second refresh
    expect(res.data).toBe('slow');
    expect(t.count('POST /auth/refresh')).toBe(1);
    expect(t.count('GET /slow')).toBe(2);
  });

  it('leaves other 401s and non-401 errors alone', async () => {
    const t = setup({
      'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
      'POST /auth/refresh': () => ({ status: 200, data: tokens('B') }),
      'GET /forbidden': () => problem(403, 'forbidden'),
      'GET /missing': () => problem(401, 'token_missing'),
    });
    await t.client.login({ email: 'a@b.c', password: 'x' });
    await expect(t.client.http.get('/forbidden')).rejects.toMatchObject({ response: { status: 403 } });
    await expect(t.client.http.get('/missing')).rejects.toMatchObject({ response: { status: 401 } });
    expect(t.count('POST /auth/refresh')).toBe(0);
    expect(t.onAuthFailure).not.toHaveBeenCalled();
  });
});

describe('refresh answered token_rotated', () => {
  it('retries the refresh exactly once and then replays the request', async () => {
    let valid = 'A';
    const t = setup({
      'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
      'POST /auth/refresh': (_c, n) => {
        if (n === 1) return problem(401, 'token_rotated'); // another tab won the race
        valid = 'C';
        return { status: 200, data: tokens('C') };
      },
      'GET /orders': protectedRoute(() => valid),
    });
    await t.client.login({ email: 'a@b.c', password: 'x' });
    valid = 'expired';
    const results = await Promise.all([t.client.http.get('/orders'), t.client.http.get('/orders')]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(t.count('POST /auth/refresh')).toBe(2);
    expect(t.client.getAccessToken()).toBe('C');
    expect(t.onAuthFailure).not.toHaveBeenCalled();
  });

  it('gives up after the one retry and sends the user to sign-in', async () => {
    const t = setup({
      'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
      'POST /auth/refresh': () => problem(401, 'token_rotated'),
      'GET /orders': () => problem(401, 'token_expired'),
    });
    await t.client.login({ email: 'a@b.c', password: 'x' });
    await expect(t.client.http.get('/orders')).rejects.toBeInstanceOf(AxiosError);
    expect(t.count('POST /auth/refresh')).toBe(2);
    expect(t.onAuthFailure).toHaveBeenCalledTimes(1);
    expect(t.client.getAccessToken()).toBeNull();
  });
});

describe('refresh failure', () => {
  it.each(['token_reused', 'session_revoked', 'token_expired'])(
    'refresh answered 401 %s: clears auth, calls the sign-in callback once, fails all waiting requests',
    async (code) => {
      const t = setup({
        'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
        'POST /auth/refresh': async () => {
          await tick(10);
          return problem(401, code);
        },
        'GET /orders': () => problem(401, 'token_expired'),
      });
      await t.client.login({ email: 'a@b.c', password: 'x' });
      const outcomes = await Promise.allSettled([1, 2, 3, 4].map(() => t.client.http.get('/orders')));
      expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
      expect(t.count('POST /auth/refresh')).toBe(1);
      expect(t.count('GET /orders')).toBe(4); // nothing replayed
      expect(t.onAuthFailure).toHaveBeenCalledTimes(1);
      expect(t.onAuthFailure.mock.calls[0][0].code).toBe(code);
      expect(t.onAuthFailure.mock.calls[0][0].message).toMatch(/sign in/i);
      expect(t.client.getAccessToken()).toBeNull();
    },
  );

  it('a transient refresh failure (503) keeps the session and does not sign out', async () => {
    const t = setup({
      'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
      'POST /auth/refresh': () => problem(503, 'unavailable'),
      'GET /orders': () => problem(401, 'token_expired'),
    });
    await t.client.login({ email: 'a@b.c', password: 'x' });
    await expect(t.client.http.get('/orders')).rejects.toMatchObject({ response: { status: 503 } });
    expect(t.count('POST /auth/refresh')).toBe(1);
    expect(t.onAuthFailure).not.toHaveBeenCalled();
    expect(t.client.getAccessToken()).toBe('A');
  });

  it('401 session_revoked on a normal call signs out once without trying to refresh', async () => {
    const t = setup({
      'POST /auth/login': () => ({ status: 200, data: tokens('A') }),
      'POST /auth/refresh': () => ({ status: 200, data: tokens('B') }),
      'GET /orders': () => problem(401, 'session_revoked'),
    });
    await t.client.login({ email: 'a@b.c', password: 'x' });
    const outcomes = await Promise.allSettled([t.client.http.get('/orders'), t.client.http.get('/orders')]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(t.count('POST /auth/refresh')).toBe(0);
    expect(t.onAuthFailure).toHaveBeenCalledTimes(1);
    expect(t.onAuthFailure.mock.calls[0][0].code).toBe('session_revoked');
  });
});

describe('restore on page load', () => {
  it('restores from the cookie and uses the new access token', async () => {
    const t = setup({
      'POST /auth/refresh': () => ({ status: 200, data: tokens('R') }),
      'GET /users/me': protectedRoute(() => 'R'),
    });
    const s = await t.client.restore();
    expect(s?.accessToken).toBe('R');
    await t.client.http.get('/users/me');
    expect(t.calls.map((c) => `${c.method} ${c.url} ${c.authorization ?? '-'}`)).toEqual([
      'POST /auth/refresh -',
      'GET /users/me Bearer R',
    ]);
  });

  it('resolves null without calling the sign-in callback when there is no session', async () => {
    const t = setup({ 'POST /auth/refresh': () => problem(401, 'token_missing') });
    await expect(t.client.restore()).resolves.toBeNull();
    expect(t.count('POST /auth/refresh')).toBe(1);
    expect(t.onAuthFailure).not.toHaveBeenCalled();
  });
});

describe('proactive refresh', () => {
  it('refreshes 30 s before a 15 min token expires, then again for the next token', async () => {
    vi.useFakeTimers();
    const t = setup(
      {
        'POST /auth/login': () => ({ status: 200, data: tokens('A', 900) }),
        'POST /auth/refresh': (_c, n) => ({ status: 200, data: tokens(`R${n}`, 900) }),
      },
      { proactiveRefresh: true },
    );
    await t.client.login({ email: 'a@b.c', password: 'x' });
    expect(t.client.nextRefreshIn()).toBe(870_000);
    await vi.advanceTimersByTimeAsync(869_000);
    expect(t.count('POST /auth/refresh')).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(t.count('POST /auth/refresh')).toBe(1);
    expect(t.client.getAccessToken()).toBe('R1');
    await vi.advanceTimersByTimeAsync(870_000);
    expect(t.count('POST /auth/refresh')).toBe(2);
    t.client.dispose();
  });

  it('uses 20 % of the TTL as the lead for short TTLs', async () => {
    vi.useFakeTimers();
    const t = setup(
      {
        'POST /auth/login': () => ({ status: 200, data: tokens('A', 60) }),
        'POST /auth/refresh': () => ({ status: 200, data: tokens('B', 60) }),
      },
      { proactiveRefresh: true },
    );
    await t.client.login({ email: 'a@b.c', password: 'x' });
    await vi.advanceTimersByTimeAsync(47_900);
    expect(t.count('POST /auth/refresh')).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(t.count('POST /auth/refresh')).toBe(1);
    t.client.dispose();
  });

  it('stops refreshing after logout; logout is sent with the CSRF header', async () => {
    vi.useFakeTimers();
    const t = setup(
      {
        'POST /auth/login': () => ({ status: 200, data: tokens('A', 60) }),
        'POST /auth/refresh': () => ({ status: 200, data: tokens('B', 60) }),
        'POST /auth/logout': () => ({ status: 204 }),
      },
      { proactiveRefresh: true },
    );
    await t.client.login({ email: 'a@b.c', password: 'x' });
    await t.client.logout();
    const logout = t.calls.find((c) => c.url === '/auth/logout');
    expect(logout?.xRequestedWith).toBe('XMLHttpRequest');
    expect(logout?.withCredentials).toBe(true);
    expect(t.client.getAccessToken()).toBeNull();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(t.count('POST /auth/refresh')).toBe(0);
  });
});

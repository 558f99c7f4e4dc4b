/**
 * The one HTTP client of the app, with the token handling around it.
 *
 * - The access token lives in this closure only (never in Web Storage).
 * - The refresh token lives only in its HttpOnly cookie; cookie-authenticated calls
 *   (refresh, logout) carry `X-Requested-With: XMLHttpRequest` (the server's CSRF rule).
 * - A 401 `token_expired` / `token_invalid` on an authenticated call runs ONE refresh for all
 *   the calls waiting on it (single flight) and replays each of them once.
 * - A refresh answered 401 `token_rotated` (another tab rotated the cookie first) is retried once.
 * - A refresh that fails for good, or a call answered `session_revoked` / `token_reused` /
 *   `session_ip_mismatch`, clears the auth state and calls `onAuthFailure`.
 * - A refresh is scheduled ahead of expiry (30 s before, or 20 % of the TTL for short TTLs).
 *
 * Everything here is plain TypeScript around an axios instance so it can be unit-tested with a
 * fake adapter (see client.test.ts).
 */
import axios, {
  AxiosHeaders,
  isAxiosError,
  type AxiosAdapter,
  type AxiosError,
  type AxiosInstance,
  type InternalAxiosRequestConfig,
} from 'axios';
import { codeOf } from './problem';
import type { LoginAnswer, LoginBody as LoginRequest, TokenResponse, VerifyBody } from './auth';
import { urlOf, type PathWith } from './http';

declare module 'axios' {
  interface AxiosRequestConfig {
    /** Do not attach the access token (refresh, login, register). */
    skipAuth?: boolean;
    /** A 401 on this call must not trigger a refresh + replay. */
    skipAuthRefresh?: boolean;
    /** Set once the call has been replayed after a refresh. */
    _authRetried?: boolean;
    /** The access token the call was sent with. */
    _tokenUsed?: string | null;
  }
}

export const CSRF_HEADER = 'X-Requested-With';
export const CSRF_VALUE = 'XMLHttpRequest';

/** Codes on an authenticated call that mean "get a new access token and try again". */
const REFRESHABLE = new Set(['token_expired', 'token_invalid']);
/** Codes that mean the session is gone: no refresh can help. */
const SESSION_GONE = new Set(['session_revoked', 'token_reused', 'session_ip_mismatch', 'account_disabled']);

export interface AuthFailure {
  /** The problem `code` that ended the session (or `refresh_failed`). */
  code: string;
  /** A message for the sign-in page. */
  message: string;
}

export interface SessionSnapshot {
  accessToken: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
  expiresIn: number;
  sessionId: string;
  user: TokenResponse['user'];
}

/** What the sign-in form sends (the client always asks for cookie delivery). */
export type LoginBody = Omit<LoginRequest, 'token_delivery'>;

/** A sign-in waiting for its second factor (two-factor on): what `verifyMfa` needs. */
export interface PendingSignIn {
  /** Opaque, single-use; the server spends it on the fifth wrong code. */
  mfaToken: string;
  /** Epoch milliseconds after which the server no longer takes it. */
  expiresAt: number;
}

/** A login's outcome: signed in, or a code still to come. */
export type LoginResult =
  { session: SessionSnapshot; pending?: undefined } | { pending: PendingSignIn; session?: undefined };

/** The token endpoints, checked against the server's OpenAPI paths. */
const AUTH: Record<'login' | 'verifyMfa' | 'refresh' | 'logout' | 'logoutAll', PathWith<'post'>> = {
  login: '/api/v1/auth/login',
  verifyMfa: '/api/v1/auth/mfa/verify',
  refresh: '/api/v1/auth/refresh',
  logout: '/api/v1/auth/logout',
  logoutAll: '/api/v1/auth/logout-all',
};

export interface ApiClientOptions {
  /** Use this axios instance (interceptors are added to it). */
  instance?: AxiosInstance;
  /** Or create one with this adapter (tests). */
  adapter?: AxiosAdapter;
  baseURL?: string;
  /** Called after each login / refresh with the new session state. */
  onSession?: (s: SessionSnapshot) => void;
  /** Called when the session is lost (refresh failed for good, session revoked). */
  onAuthFailure?: (f: AuthFailure) => void;
  /** Wait before retrying a refresh answered `token_rotated` (lets the other tab's cookie land). */
  rotatedRetryDelayMs?: number;
  /** Proactive refresh on/off (default on). */
  proactiveRefresh?: boolean;
  now?: () => number;
}

/** Who hears of session changes besides `onSession` / `onAuthFailure` (see `ApiClient.listen`). */
export interface ClientListener {
  onSession?: (s: SessionSnapshot) => void;
  onAuthFailure?: (f: AuthFailure) => void;
}

export interface ApiClient {
  http: AxiosInstance;
  /** Hear of each new session state and of its loss, until the returned function is called. */
  listen(listener: ClientListener): () => void;
  /** The password step: signed in, or (two-factor on) a pending sign-in for `verifyMfa`. */
  login(body: LoginBody): Promise<LoginResult>;
  /** The second step: the pending sign-in's token and a code (or a recovery code). */
  verifyMfa(body: VerifyBody): Promise<SessionSnapshot>;
  /** Refresh now (single flight). Rejects when it fails; a final failure also clears auth. */
  refresh(): Promise<SessionSnapshot>;
  /** Page-load restore from the cookie. Resolves null (quietly) when there is no session. */
  restore(): Promise<SessionSnapshot | null>;
  logout(): Promise<void>;
  logoutAll(): Promise<void>;
  /** Forget the tokens locally (e.g. another tab signed out). Does not call onAuthFailure. */
  clear(): void;
  getAccessToken(): string | null;
  getSession(): SessionSnapshot | null;
  /** Milliseconds from now at which the proactive refresh is scheduled, or null. */
  nextRefreshIn(): number | null;
  dispose(): void;
}

/** How long before expiry to refresh: 30 s, or 20 % of the TTL when the TTL is short. */
export function refreshLeadSeconds(expiresIn: number): number {
  if (expiresIn <= 0) return 0;
  return Math.min(30, expiresIn * 0.2);
}

/** Delay in ms from receiving a token with `expiresIn` seconds of life to refreshing it. */
export function refreshDelayMs(expiresIn: number): number {
  return Math.max(0, Math.round((expiresIn - refreshLeadSeconds(expiresIn)) * 1000));
}

const MESSAGES: Record<string, string> = {
  session_revoked: 'Your session was ended. Please sign in again.',
  token_reused: 'For your security this session was ended (a refresh token was reused). Please sign in again.',
  session_ip_mismatch: 'Your network address changed, so the session was ended. Please sign in again.',
  account_disabled: 'This account has been disabled.',
  token_expired: 'Your session has expired. Please sign in again.',
  token_invalid: 'Your session is no longer valid. Please sign in again.',
  token_missing: 'Your session has expired. Please sign in again.',
  token_rotated: 'Your session was refreshed elsewhere and could not be resumed. Please sign in again.',
};

export function authFailureFor(code: string | undefined): AuthFailure {
  const c = code ?? 'refresh_failed';
  return { code: c, message: MESSAGES[c] ?? 'Your session has ended. Please sign in again.' };
}

class RefreshError extends Error {
  constructor(
    readonly original: unknown,
    readonly terminal: boolean,
  ) {
    super('refresh failed');
  }
}

/** A refresh failure that is not the server refusing the session (network, 429, 5xx). */
function isTransient(err: unknown): boolean {
  if (!isAxiosError(err)) return false;
  const status = err.response?.status;
  return status === undefined || status === 429 || status >= 500;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const now = options.now ?? (() => Date.now());
  const rotatedDelay = options.rotatedRetryDelayMs ?? 250;
  const proactive = options.proactiveRefresh ?? true;

  const http =
    options.instance ??
    axios.create({
      baseURL: options.baseURL ?? '/api/v1',
      withCredentials: true,
      headers: { Accept: 'application/json, application/problem+json' },
      ...(options.adapter ? { adapter: options.adapter } : {}),
    });

  let session: SessionSnapshot | null = null;
  let inflight: Promise<SessionSnapshot> | null = null;
  let inflightNotify = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let timerAt: number | null = null;
  /** Bumped on every clear, so a refresh that started before a sign-out cannot revive it. */
  let generation = 0;
  const listeners = new Set<ClientListener>();

  function cancelTimer() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    timerAt = null;
  }

  function schedule(delayMs: number) {
    cancelTimer();
    if (!proactive) return;
    timerAt = now() + delayMs;
    timer = setTimeout(() => {
      timer = null;
      timerAt = null;
      if (!session) return;
      refreshShared(true).catch((err: unknown) => {
        // Transient trouble: try again a little later while the token still lives.
        if (err instanceof RefreshError && !err.terminal && session) {
          const left = session.expiresAt - now();
          if (left > 2000) schedule(Math.min(10_000, left / 2));
        }
      });
    }, delayMs);
  }

  function apply(t: TokenResponse): SessionSnapshot {
    session = {
      accessToken: t.access_token,
      expiresIn: t.expires_in,
      expiresAt: now() + t.expires_in * 1000,
      sessionId: t.session_id,
      user: t.user,
    };
    schedule(refreshDelayMs(t.expires_in));
    const snapshot = session;
    options.onSession?.(snapshot);
    listeners.forEach((l) => l.onSession?.(snapshot));
    return snapshot;
  }

  function clear() {
    generation++;
    session = null;
    cancelTimer();
  }

  function fail(code: string | undefined) {
    clear();
    const failure = authFailureFor(code);
    options.onAuthFailure?.(failure);
    listeners.forEach((l) => l.onAuthFailure?.(failure));
  }

  async function postRefresh(): Promise<TokenResponse> {
    const res = await http.post<TokenResponse>(urlOf(AUTH.refresh), undefined, {
      skipAuth: true,
      skipAuthRefresh: true,
      withCredentials: true,
      headers: { [CSRF_HEADER]: CSRF_VALUE },
    });
    return res.data;
  }

  async function doRefresh(): Promise<SessionSnapshot> {
    const gen = generation;
    let data: TokenResponse;
    try {
      try {
        data = await postRefresh();
      } catch (err) {
        if (codeOf(err) !== 'token_rotated') throw err;
        // Another tab spent our cookie a moment ago; its response carries the new cookie.
        await sleep(rotatedDelay);
        data = await postRefresh();
      }
    } catch (err) {
      const terminal = !isTransient(err);
      if (terminal && gen === generation) {
        if (inflightNotify) fail(codeOf(err) ?? 'refresh_failed');
        else clear();
      }
      throw new RefreshError(err, terminal);
    }
    if (gen !== generation) throw new RefreshError(new Error('signed out during refresh'), true);
    return apply(data);
  }

  function refreshShared(notify: boolean): Promise<SessionSnapshot> {
    if (notify) inflightNotify = true;
    if (!inflight) {
      inflightNotify = notify;
      inflight = doRefresh().finally(() => {
        inflight = null;
        inflightNotify = false;
      });
    }
    return inflight;
  }

  // Attach the access token; wait for a refresh already under way instead of sending a token
  // that is about to be replaced.
  http.interceptors.request.use(async (config: InternalAxiosRequestConfig) => {
    if (config.skipAuth) return config;
    if (inflight) {
      await inflight.catch(() => undefined);
    } else if (session && now() >= session.expiresAt) {
      // Known to be expired (e.g. the machine slept through the timer): refresh first.
      await refreshShared(true).catch(() => undefined);
    }
    const token = session?.accessToken ?? null;
    config._tokenUsed = token;
    if (token) {
      if (!config.headers) config.headers = new AxiosHeaders();
      config.headers.set('Authorization', `Bearer ${token}`);
    }
    return config;
  });

  http.interceptors.response.use(undefined, async (error: AxiosError) => {
    const config = error.config;
    if (!config || error.response?.status !== 401 || config.skipAuthRefresh) throw error;
    const code = codeOf(error);
    if (code && SESSION_GONE.has(code)) {
      // Only the first of many parallel calls reports it; the rest see no session.
      if (session && config._tokenUsed === session.accessToken) fail(code);
      throw error;
    }
    if (!code || !REFRESHABLE.has(code) || config._authRetried) throw error;
    config._authRetried = true;
    if (!(session && config._tokenUsed !== session.accessToken)) {
      // Nobody has replaced the token this call was sent with: refresh (or join the refresh).
      try {
        await refreshShared(true);
      } catch (refreshErr) {
        throw refreshErr instanceof RefreshError && isAxiosError(refreshErr.original) ? refreshErr.original : error;
      }
    }
    return http.request(config);
  });

  return {
    http,
    listen(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async login(body) {
      const res = await http.post<LoginAnswer>(
        urlOf(AUTH.login),
        { ...body, token_delivery: 'cookie' },
        { skipAuth: true, skipAuthRefresh: true, withCredentials: true },
      );
      const answer = res.data;
      if ('mfa_required' in answer) {
        return { pending: { mfaToken: answer.mfa_token, expiresAt: now() + answer.expires_in * 1000 } };
      }
      generation++;
      return { session: apply(answer) };
    },
    async verifyMfa(body) {
      // Delivered as asked at login: the refresh token comes as a cookie.
      const res = await http.post<TokenResponse>(urlOf(AUTH.verifyMfa), body, {
        skipAuth: true,
        skipAuthRefresh: true,
        withCredentials: true,
      });
      generation++;
      return apply(res.data);
    },
    async refresh() {
      try {
        return await refreshShared(true);
      } catch (err) {
        throw err instanceof RefreshError ? err.original : err;
      }
    },
    async restore() {
      try {
        return await refreshShared(false);
      } catch {
        return null;
      }
    },
    async logout() {
      const token = session?.accessToken ?? null;
      // Stop the proactive refresh and forget the access token at once.
      clear();
      const send = (bearer: string | null) =>
        http.post(urlOf(AUTH.logout), undefined, {
          skipAuth: true,
          skipAuthRefresh: true,
          withCredentials: true,
          headers: {
            [CSRF_HEADER]: CSRF_VALUE,
            ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}),
          },
        });
      try {
        // The refresh cookie identifies the session even when the access token has expired.
        await send(null);
      } catch (err) {
        // No cookie (or it was refused): end the session with the access token instead.
        if (token && isAxiosError(err) && err.response?.status === 401) await send(token);
        else throw err;
      }
    },
    async logoutAll() {
      await http.post(urlOf(AUTH.logoutAll), undefined, {
        withCredentials: true,
        headers: { [CSRF_HEADER]: CSRF_VALUE },
      });
      clear();
    },
    clear,
    getAccessToken: () => session?.accessToken ?? null,
    getSession: () => session,
    nextRefreshIn: () => (timerAt === null ? null : Math.max(0, timerAt - now())),
    dispose() {
      cancelTimer();
    },
  };
}

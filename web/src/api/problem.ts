import { isAxiosError } from 'axios';
import type { Problem } from './types';

/** The problem+json body of a failed API call, if there is one. */
export function problemOf(err: unknown): Problem | null {
  if (!isAxiosError(err) || !err.response) return null;
  const data: unknown = err.response.data;
  // The server's problem+json body (typed by its contract, API.md §2).
  if (data && typeof data === 'object') return data;
  if (typeof data === 'string') {
    try {
      const parsed: unknown = JSON.parse(data);
      if (parsed && typeof parsed === 'object') return parsed;
    } catch {
      /* not JSON */
    }
  }
  return { status: err.response.status };
}

export function codeOf(err: unknown): string | undefined {
  return problemOf(err)?.code;
}

export function statusOf(err: unknown): number | undefined {
  return isAxiosError(err) ? err.response?.status : undefined;
}

/** `Retry-After` in seconds (delta-seconds or HTTP date), or null when absent. */
export function retryAfterOf(err: unknown, now: number = Date.now()): number | null {
  if (!isAxiosError(err) || !err.response) return null;
  const headers = err.response.headers as Record<string, unknown> | undefined;
  let raw: unknown;
  if (headers && typeof (headers as { get?: unknown }).get === 'function') {
    raw = (headers as unknown as { get(name: string): unknown }).get('retry-after');
  }
  if (raw == null && headers) raw = headers['retry-after'] ?? headers['Retry-After'];
  if (typeof raw !== 'string' && typeof raw !== 'number') return null;
  const text = String(raw).trim();
  if (/^\d+$/.test(text)) return parseInt(text, 10);
  const date = Date.parse(text);
  if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - now) / 1000));
  return null;
}

const FRIENDLY: Record<string, string> = {
  invalid_credentials: 'Email or password is incorrect.',
  account_disabled: 'This account has been disabled. Contact an administrator.',
  account_locked: 'Too many failed sign-in attempts. The account is locked.',
  rate_limited: 'Too many requests. Please slow down.',
  forbidden: 'You do not have permission to do that.',
  not_found: 'Not found.',
  conflict: 'That conflicts with existing data.',
  payload_too_large: 'The request is too large.',
  unavailable: 'The service is temporarily unavailable. Please try again shortly.',
  token_missing: 'Please sign in.',
  session_revoked: 'Your session has ended. Please sign in again.',
  token_reused: 'For your security this session was ended. Please sign in again.',
  session_ip_mismatch: 'Your network address changed. Please sign in again.',
  mfa_invalid: 'That code is not right, or it was used already. Enter the current code.',
  mfa_enrollment_required: 'Your organisation requires two-factor sign-in. Set it up on the Security page to continue.',
};

/** A human message for any error thrown by an API call. */
export function describeError(err: unknown): string {
  if (isAxiosError(err)) {
    if (!err.response) return 'Could not reach the server. Check your connection and try again.';
    const p = problemOf(err);
    if (p?.detail) return p.detail;
    if (p?.code && FRIENDLY[p.code]) return FRIENDLY[p.code];
    if (p?.title) return p.title;
    return `Request failed (HTTP ${err.response.status}).`;
  }
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

export function friendlyFor(code: string | undefined): string | undefined {
  return code ? FRIENDLY[code] : undefined;
}

/** Sign-up and the caller's own sessions (sign-in, refresh and sign-out are the client's: client.ts). */
import { request, type BodyOf, type Http, type ResponseOf } from './http';

/** What login answers: the tokens, or (two-factor on) the pending sign-in's token. */
export type LoginAnswer = ResponseOf<'/api/v1/auth/login', 'post'>;
/** A session's tokens: refresh's answer, and login's when no second factor is asked for. */
export type TokenResponse = ResponseOf<'/api/v1/auth/refresh', 'post'>;
/** Login's answer for a user with two-factor on: no tokens yet, a code finishes the sign-in. */
export type MfaRequired = Extract<LoginAnswer, { mfa_required: boolean }>;
/** The second step of a two-factor sign-in: the pending sign-in's token and a code. */
export type VerifyBody = BodyOf<'/api/v1/auth/mfa/verify', 'post'>;
export type LoginBody = BodyOf<'/api/v1/auth/login', 'post'>;
export type RegisterBody = BodyOf<'/api/v1/auth/register', 'post'>;
export type SessionInfo = ResponseOf<'/api/v1/auth/sessions', 'get'>['items'][number];

/** Creates an account (it signs nobody in: sign in afterwards). */
export function register(http: Http, body: RegisterBody) {
  return request(http, 'post', '/api/v1/auth/register', { body, config: { skipAuth: true, skipAuthRefresh: true } });
}

/** The caller's active sessions. */
export function listSessions(http: Http) {
  return request(http, 'get', '/api/v1/auth/sessions', {});
}

/** Ends one of the caller's own sessions (this one included). */
export function endSession(http: Http, id: string) {
  return request(http, 'delete', '/api/v1/auth/sessions/{id}', { path: { id } });
}

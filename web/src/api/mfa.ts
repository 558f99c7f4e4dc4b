/**
 * The caller's two-factor sign-in (TOTP): enrolment (a secret, pending), confirmation with a
 * first code (on, with ten recovery codes), new recovery codes, turning it off. The second step
 * of a sign-in is the client's (client.ts); the admins' reset is in admin.ts.
 */
import { request, type BodyOf, type Http, type ResponseOf } from './http';

export type Enrolment = ResponseOf<'/api/v1/users/me/mfa/totp', 'post'>;
export type RecoveryCodes = ResponseOf<'/api/v1/users/me/mfa/totp/confirm', 'post'>['recovery_codes'];
/** A current code (`code`) or, a device lost, an unused recovery code (`recovery_code`). */
export type SecondFactor = BodyOf<'/api/v1/users/me/mfa/recovery-codes', 'post'>;

/** Starts an enrolment: a new secret, pending until its first code confirms it. */
export function beginEnrolment(http: Http, password: string) {
  return request(http, 'post', '/api/v1/users/me/mfa/totp', { body: { password } });
}

/** The app's first code turns two-factor on; answers the recovery codes (shown once). */
export async function confirmEnrolment(http: Http, code: string): Promise<RecoveryCodes> {
  return (await request(http, 'post', '/api/v1/users/me/mfa/totp/confirm', { body: { code } })).recovery_codes;
}

/** A new set of recovery codes; the old set stops working. */
export async function renewRecoveryCodes(http: Http, factor: SecondFactor): Promise<RecoveryCodes> {
  return (await request(http, 'post', '/api/v1/users/me/mfa/recovery-codes', { body: factor })).recovery_codes;
}

/** Turns two-factor off: the password and a code (or a recovery code). */
export function disableMfa(http: Http, body: BodyOf<'/api/v1/users/me/mfa', 'delete'>) {
  return request(http, 'delete', '/api/v1/users/me/mfa', { body });
}

/** The recovery codes as a text file's content (for "Download"). */
export function recoveryCodesText(codes: readonly string[], account: string): string {
  return [
    `Tradesage recovery codes for ${account}`,
    'Each code signs you in once, in place of a code from your authenticator app.',
    '',
    ...codes,
    '',
  ].join('\n');
}

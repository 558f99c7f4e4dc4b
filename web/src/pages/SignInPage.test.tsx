// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { AxiosError, AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeAuth, renderAt } from '../test/auth';
import { SignInPage } from './SignInPage';

/** A problem+json answer of the server, as axios rejects with it. */
function problem(status: number, code: string, headers: Record<string, string> = {}): AxiosError {
  const config = { headers: new AxiosHeaders() } as InternalAxiosRequestConfig;
  const response: AxiosResponse = {
    status,
    statusText: code,
    data: { type: 'about:blank', title: code, status, detail: code, code },
    headers: new AxiosHeaders(headers),
    config,
  };
  return new AxiosError(`Request failed with status code ${status}`, 'ERR_BAD_REQUEST', config, {}, response);
}

/** The server's answer to a sign-in while locked: 423, with `Retry-After` unless permanent. */
function locked(retryAfter: number | null): AxiosError {
  return problem(423, 'account_locked', retryAfter === null ? {} : { 'retry-after': String(retryAfter) });
}

function signIn(email = 'ada@example.com') {
  fireEvent.change(screen.getByLabelText('Email'), { target: { value: email } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'wrong-password-3' } });
  fireEvent.submit(screen.getByTestId('login-form'));
}

const countdown = () => screen.getByTestId('login-countdown').textContent;
const submit = () => screen.getByTestId<HTMLButtonElement>('login-submit');
const announced = () => screen.getByTestId('login-countdown-announcer').textContent;

/** Lets the rejected sign-in settle, then moves the clock on by `ms`. */
async function advance(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('the lockout countdown on the sign-in page', () => {
  it('counts Retry-After down, keeps the form shut until it ends, and announces it sparingly', async () => {
    const login = vi.fn(() => Promise.reject(locked(30)));
    renderAt(<SignInPage />, { auth: fakeAuth({ login }), url: '/login' });
    signIn();
    await advance(0);

    expect(screen.getByTestId('login-locked')).toBeTruthy();
    expect(countdown()).toBe('0:30');
    expect(submit().disabled).toBe(true);
    expect(submit().textContent).toBe('Try again in 0:30');
    // The ticking alert is no live region; the announcer says it once, in whole tens of seconds.
    expect(screen.getByTestId('login-locked').getAttribute('role')).toBeNull();
    expect(announced()).toBe(
      'This account is locked after too many failed attempts. You can try again in 30 seconds or less.',
    );

    await advance(5_000);
    expect(countdown()).toBe('0:25');
    expect(announced()).toBe(
      'This account is locked after too many failed attempts. You can try again in 30 seconds or less.',
    );
    await advance(6_000);
    expect(countdown()).toBe('0:19');
    expect(announced()).toBe(
      'This account is locked after too many failed attempts. You can try again in 20 seconds or less.',
    );

    await advance(19_500);
    expect(screen.queryByTestId('login-locked')).toBeNull();
    expect(submit().disabled).toBe(false);
    expect(submit().textContent).toBe('Sign in');
    expect(announced()).toBe('You can sign in now.');
    expect(login).toHaveBeenCalledTimes(1);
  });

  it('locks only the email that was locked: another email may sign in at once', async () => {
    renderAt(<SignInPage />, { auth: fakeAuth({ login: vi.fn(() => Promise.reject(locked(30))) }), url: '/login' });
    signIn('ada@example.com');
    await advance(0);
    expect(submit().disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'bob@example.com' } });
    expect(screen.queryByTestId('login-locked')).toBeNull();
    expect(submit().disabled).toBe(false);
  });

  it('says a permanent lock needs an administrator, with no countdown', async () => {
    renderAt(<SignInPage />, { auth: fakeAuth({ login: vi.fn(() => Promise.reject(locked(null))) }), url: '/login' });
    signIn();
    await advance(0);
    expect(screen.getByTestId('login-error').textContent).toMatch(/administrator must unlock/);
    expect(screen.queryByTestId('login-countdown')).toBeNull();
  });
});

describe('the second step of a two-factor sign-in', () => {
  const pending = () => ({ mfaToken: 'opaque-token', expiresAt: Date.now() + 300_000 });
  const enterCode = (value: string) => {
    fireEvent.change(screen.getByLabelText('Authentication code'), { target: { value } });
    fireEvent.submit(screen.getByTestId('mfa-form'));
  };

  it('asks for the code after a right password and sends it with the pending token', async () => {
    const verifyMfa = vi.fn(() => Promise.resolve());
    renderAt(<SignInPage />, {
      auth: fakeAuth({ login: vi.fn(() => Promise.resolve(pending())), verifyMfa }),
      url: '/login',
    });
    signIn();
    await advance(0);
    expect(screen.queryByTestId('login-form')).toBeNull();
    expect(screen.getByRole('heading', { name: 'Two-factor sign-in' })).toBeTruthy();
    expect(screen.getByTestId<HTMLButtonElement>('mfa-submit').disabled).toBe(true);
    enterCode('123 456');
    await advance(0);
    expect(verifyMfa).toHaveBeenCalledWith({ mfa_token: 'opaque-token', code: '123456' });
  });

  it('takes a recovery code instead', async () => {
    const verifyMfa = vi.fn(() => Promise.resolve());
    renderAt(<SignInPage />, {
      auth: fakeAuth({ login: vi.fn(() => Promise.resolve(pending())), verifyMfa }),
      url: '/login',
    });
    signIn();
    await advance(0);
    fireEvent.click(screen.getByTestId('mfa-switch-method'));
    fireEvent.change(screen.getByLabelText('Recovery code'), { target: { value: ' 7K3M-Q9TZ-4WXB-2HRC ' } });
    fireEvent.submit(screen.getByTestId('mfa-form'));
    await advance(0);
    expect(verifyMfa).toHaveBeenLastCalledWith({ mfa_token: 'opaque-token', recovery_code: '7K3M-Q9TZ-4WXB-2HRC' });
  });

  it('says a wrong code is wrong and takes another', async () => {
    const verifyMfa = vi.fn(() => Promise.reject(problem(401, 'mfa_invalid')));
    renderAt(<SignInPage />, {
      auth: fakeAuth({ login: vi.fn(() => Promise.resolve(pending())), verifyMfa }),
      url: '/login',
    });
    signIn();
    await advance(0);
    enterCode('000000');
    await advance(0);
    expect(screen.getByTestId('mfa-error').textContent).toMatch(/not right/);
    expect(screen.getByLabelText<HTMLInputElement>('Authentication code').value).toBe('');
    expect(screen.getByTestId('mfa-form')).toBeTruthy();
  });

  it('counts down a lock that wrong codes set, and keeps the code step shut until it ends', async () => {
    const verifyMfa = vi.fn(() => Promise.reject(locked(60)));
    renderAt(<SignInPage />, {
      auth: fakeAuth({ login: vi.fn(() => Promise.resolve(pending())), verifyMfa }),
      url: '/login',
    });
    signIn();
    await advance(0);
    enterCode('000000');
    await advance(0);
    expect(screen.getByTestId('mfa-countdown').textContent).toBe('1:00');
    expect(screen.getByTestId('mfa-countdown-announcer').textContent).toBe(
      'This account is locked after too many failed attempts. You can try again in 60 seconds or less.',
    );
    fireEvent.change(screen.getByLabelText('Authentication code'), { target: { value: '111111' } });
    expect(screen.getByTestId<HTMLButtonElement>('mfa-submit').disabled).toBe(true);
    await advance(30_000);
    expect(screen.getByTestId('mfa-countdown').textContent).toBe('0:30');
    await advance(30_500);
    expect(screen.queryByTestId('mfa-locked')).toBeNull();
    expect(screen.getByTestId<HTMLButtonElement>('mfa-submit').disabled).toBe(false);
    expect(screen.getByTestId('mfa-countdown-announcer').textContent).toBe('You can enter a code now.');
  });

  it('goes back to the password when the pending sign-in is spent or times out', async () => {
    const verifyMfa = vi.fn(() => Promise.reject(problem(401, 'token_invalid')));
    renderAt(<SignInPage />, {
      auth: fakeAuth({ login: vi.fn(() => Promise.resolve(pending())), verifyMfa }),
      url: '/login',
    });
    signIn();
    await advance(0);
    enterCode('000000');
    await advance(0);
    expect(screen.getByTestId('login-form')).toBeTruthy();
    expect(screen.getByTestId('login-restarted').textContent).toMatch(/can no longer be finished/);
    expect(screen.getByLabelText<HTMLInputElement>('Password').value).toBe('');

    signIn();
    await advance(0);
    expect(screen.getByTestId('mfa-form')).toBeTruthy();
    await advance(300_000);
    expect(screen.getByTestId('login-restarted').textContent).toMatch(/took too long/);
  });
});

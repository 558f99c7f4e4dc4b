// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { AxiosError, AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeAuth, renderAt } from '../test/auth';
import { SignInPage } from './SignInPage';

/** The server's answer to a sign-in while locked: 423, with `Retry-After` unless permanent. */
function locked(retryAfter: number | null): AxiosError {
  const config = { headers: new AxiosHeaders() } as InternalAxiosRequestConfig;
  const status = 423;
  const response: AxiosResponse = {
    status,
    statusText: 'Locked',
    data: { type: 'about:blank', title: 'Locked', status, detail: 'account locked', code: 'account_locked' },
    headers: new AxiosHeaders(retryAfter === null ? {} : { 'retry-after': String(retryAfter) }),
    config,
  };
  return new AxiosError('Request failed with status code 423', 'ERR_BAD_REQUEST', config, {}, response);
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

// @vitest-environment jsdom
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeAuth, renderAt } from '../test/auth';
import { GuestOnly, RequireAuth, RequireScopes } from './guards';

afterEach(cleanup);

const secret = <p data-testid="secret">the page</p>;

describe('RequireAuth', () => {
  it('shows that the session is being restored, not the page, while the auth state loads', () => {
    renderAt(<RequireAuth>{secret}</RequireAuth>, { auth: fakeAuth({ status: 'loading' }), url: '/orders' });
    expect(screen.getByRole('status').textContent).toMatch(/restoring your session/i);
    expect(screen.queryByTestId('secret')).toBeNull();
  });

  it('sends a signed-out visitor to sign-in, remembering where they were going', () => {
    renderAt(<RequireAuth>{secret}</RequireAuth>, {
      auth: fakeAuth({ status: 'anonymous' }),
      url: '/orders?cursor=abc',
      path: '/orders',
    });
    expect(screen.getByTestId('where').textContent).toBe('/login from /orders?cursor=abc');
    expect(screen.queryByTestId('secret')).toBeNull();
  });

  it('shows the page to a signed-in user', () => {
    renderAt(<RequireAuth>{secret}</RequireAuth>, { auth: fakeAuth({ status: 'authenticated' }), url: '/orders' });
    expect(screen.getByTestId('secret')).toBeTruthy();
  });
});

describe('RequireScopes', () => {
  it('says "No access" and names the first scope the session lacks', () => {
    renderAt(<RequireScopes scopes={['users:manage', 'audit:read']}>{secret}</RequireScopes>, {
      auth: fakeAuth({ status: 'authenticated', scopes: ['users:manage'] }),
      url: '/admin/audit',
    });
    expect(screen.getByTestId('no-access').textContent).toContain('audit:read');
    expect(screen.queryByTestId('secret')).toBeNull();
  });

  it('shows the page when the session holds every scope', () => {
    renderAt(<RequireScopes scopes={['users:manage', 'audit:read']}>{secret}</RequireScopes>, {
      auth: fakeAuth({ status: 'authenticated', scopes: ['audit:read', 'users:manage', 'orders:read'] }),
      url: '/admin/audit',
    });
    expect(screen.getByTestId('secret')).toBeTruthy();
    expect(screen.queryByTestId('no-access')).toBeNull();
  });
});

describe('GuestOnly', () => {
  it('shows sign-in to a signed-out visitor', () => {
    renderAt(<GuestOnly>{secret}</GuestOnly>, { auth: fakeAuth({ status: 'anonymous' }), url: '/login' });
    expect(screen.getByTestId('secret')).toBeTruthy();
  });

  it('sends a signed-in user on to where they were going', () => {
    renderAt(<GuestOnly>{secret}</GuestOnly>, {
      auth: fakeAuth({ status: 'authenticated' }),
      url: '/login',
      state: { from: '/admin/users?tenant=default' },
    });
    expect(screen.getByTestId('where').textContent).toBe('/admin/users');
    expect(screen.queryByTestId('secret')).toBeNull();
  });

  it('sends a signed-in user home when they came from nowhere or from sign-in itself', () => {
    renderAt(<GuestOnly>{secret}</GuestOnly>, {
      auth: fakeAuth({ status: 'authenticated' }),
      url: '/login',
      state: { from: '/login' },
    });
    expect(screen.getByTestId('where').textContent).toBe('/');
  });

  it('waits for the auth state before deciding', () => {
    renderAt(<GuestOnly>{secret}</GuestOnly>, { auth: fakeAuth({ status: 'loading' }), url: '/login' });
    expect(screen.queryByTestId('secret')).toBeNull();
    expect(screen.queryByTestId('where')).toBeNull();
  });
});

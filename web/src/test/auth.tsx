/** Test helpers: a made-up auth state around a component, inside a router. */
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import { vi } from 'vitest';
import type { ApiClient } from '../api/client';
import { AuthContext, type AuthContextValue } from '../auth/AuthContext';

/** An auth context value: signed out, no scopes, every action a mock; `over` changes any of it. */
export function fakeAuth(over: Partial<AuthContextValue> = {}): AuthContextValue {
  const scopes = over.scopes ?? [];
  return {
    status: 'anonymous',
    user: null,
    session: null,
    notice: null,
    api: {} as ApiClient,
    scopes,
    hasScope: (s) => scopes.includes(s),
    login: vi.fn(() => Promise.resolve(null)),
    verifyMfa: vi.fn(() => Promise.resolve()),
    mustEnrolMfa: false,
    logout: vi.fn(() => Promise.resolve()),
    logoutAll: vi.fn(() => Promise.resolve()),
    endLocally: vi.fn(),
    refreshNow: vi.fn(() => Promise.resolve()),
    reloadUser: vi.fn(() => Promise.resolve()),
    setUser: vi.fn(),
    clearNotice: vi.fn(),
    ...over,
  };
}

/** Shows where the router is, and the `from` it was given (what a redirect carries). */
export function WhereAmI() {
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from;
  return (
    <p data-testid="where">
      {location.pathname}
      {from ? ` from ${from}` : ''}
    </p>
  );
}

/**
 * Renders `element` at `url` (route `path`) with the auth state `auth`; every other path shows
 * `WhereAmI`, so a redirect is visible.
 */
export function renderAt(
  element: ReactNode,
  { auth, url, path = url, state }: { auth: AuthContextValue; url: string; path?: string; state?: unknown },
) {
  return render(
    <AuthContext.Provider value={auth}>
      <MemoryRouter
        future={{ v7_startTransition: true, v7_relativeSplatPath: true }}
        initialEntries={[
          { pathname: url.split('?')[0], search: url.includes('?') ? `?${url.split('?')[1]}` : '', state },
        ]}
      >
        <Routes>
          <Route path={path.split('?')[0]} element={element} />
          <Route path="*" element={<WhereAmI />} />
        </Routes>
      </MemoryRouter>
    </AuthContext.Provider>,
  );
}

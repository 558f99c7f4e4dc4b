// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthContext } from '../auth/AuthContext';
import { fakeAuth } from '../test/auth';
import { Layout } from './Layout';

afterEach(cleanup);

function renderLayoutAt(url: string, mustEnrolMfa: boolean) {
  render(
    <AuthContext.Provider value={fakeAuth({ status: 'authenticated', mustEnrolMfa })}>
      <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }} initialEntries={[url]}>
        <Routes>
          <Route element={<Layout />}>
            <Route path="/orders" element={<p data-testid="page">orders</p>} />
            <Route path="/security" element={<p data-testid="page">security</p>} />
          </Route>
        </Routes>
      </MemoryRouter>
    </AuthContext.Provider>,
  );
}

describe('the enrolment prompt of a tenant that requires two-factor sign-in', () => {
  it('stands in for every page but the security page until the user enrols', () => {
    renderLayoutAt('/orders', true);
    expect(screen.queryByTestId('page')).toBeNull();
    const link = screen.getByTestId('mfa-enrolment-link');
    expect(link.getAttribute('href')).toBe('/security');
    cleanup();
    renderLayoutAt('/security', true);
    expect(screen.getByTestId('page').textContent).toBe('security');
    expect(screen.queryByTestId('mfa-enrolment-prompt')).toBeNull();
  });

  it('is not shown to anyone else', () => {
    renderLayoutAt('/orders', false);
    expect(screen.getByTestId('page').textContent).toBe('orders');
    expect(screen.queryByTestId('mfa-enrolment-prompt')).toBeNull();
  });
});

import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Link, NavLink, Outlet, useLocation } from 'react-router-dom';
import { SCOPES } from '../api/types';
import { useAuth } from '../auth/AuthContext';
import { Button, cx, focusRing } from './ui';

interface NavItem {
  to: string;
  label: string;
  testId: string;
  scope?: string;
  end?: boolean;
}

const NAV: NavItem[] = [
  { to: '/', label: 'Dashboard', testId: 'nav-dashboard', end: true },
  { to: '/sessions', label: 'Sessions', testId: 'nav-sessions' },
  { to: '/orders', label: 'Orders', testId: 'nav-orders', scope: SCOPES.ordersRead },
  { to: '/profile', label: 'Profile', testId: 'nav-profile' },
  { to: '/security', label: 'Security', testId: 'nav-security' },
  { to: '/api-keys', label: 'API keys', testId: 'nav-api-keys' },
  { to: '/admin', label: 'Admin', testId: 'nav-admin', scope: SCOPES.usersManage },
  { to: '/operator', label: 'Operator', testId: 'nav-operator', scope: SCOPES.actorsRead },
];

export function Logo() {
  return (
    <span className="flex items-center gap-2 font-semibold text-slate-900">
      <svg viewBox="0 0 32 32" className="h-7 w-7" aria-hidden="true">
        <rect width="32" height="32" rx="7" fill="#4f46e5" />
        <path
          d="M7 21l6-6 4 4 8-9"
          stroke="#fff"
          strokeWidth="3"
          fill="none"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      </svg>
      <span>Tradesage</span>
    </span>
  );
}

export function Layout() {
  const { user, hasScope, logout, mustEnrolMfa } = useAuth();
  // The menu is open on the page it was opened on: following one of its links closes it.
  const location = useLocation();
  const [openOn, setOpenOn] = useState<string | null>(null);
  const open = openOn === location.pathname;
  const toggleRef = useRef<HTMLButtonElement>(null);
  // Escape closes the open menu and gives the focus back to its button.
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setOpenOn(null);
      toggleRef.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [open]);
  const [signingOut, setSigningOut] = useState(false);

  const items = NAV.filter((i) => !i.scope || hasScope(i.scope));
  const linkClass = ({ isActive }: { isActive: boolean }) =>
    cx(
      'rounded-md px-3 py-2 text-sm font-medium',
      focusRing,
      isActive ? 'bg-indigo-50 text-indigo-700' : 'text-slate-600 hover:bg-slate-100 hover:text-slate-900',
    );

  const signOut = async () => {
    setSigningOut(true);
    await logout();
  };

  return (
    <div className="min-h-screen">
      <a
        href="#main"
        className={cx(
          'sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2',
          focusRing,
        )}
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-40 border-b border-slate-200 bg-white/95 backdrop-blur">
        <div className="mx-auto flex h-14 max-w-6xl items-center gap-4 px-4 sm:px-6">
          <Link to="/" className={cx('rounded', focusRing)} aria-label="Tradesage home">
            <Logo />
          </Link>
          <nav aria-label="Main" className="hidden flex-1 items-center gap-1 md:flex">
            {items.map((i) => (
              <NavLink key={i.to} to={i.to} end={i.end} className={linkClass} data-testid={i.testId}>
                {i.label}
              </NavLink>
            ))}
          </nav>
          <div className="ml-auto hidden items-center gap-3 md:flex">
            <span
              className="max-w-[16rem] break-all text-right text-sm text-slate-600"
              data-testid="nav-user-email"
              title={user?.email}
            >
              {user?.email}
            </span>
            <Button variant="secondary" size="sm" onClick={signOut} loading={signingOut} data-testid="signout-button">
              Sign out
            </Button>
          </div>
          <button
            type="button"
            className={cx('ml-auto rounded-md p-2 text-slate-600 hover:bg-slate-100 md:hidden', focusRing)}
            aria-expanded={open}
            ref={toggleRef}
            aria-controls="mobile-nav"
            aria-label={open ? 'Close menu' : 'Open menu'}
            data-testid="nav-menu-toggle"
            onClick={() => setOpenOn(open ? null : location.pathname)}
          >
            <svg
              viewBox="0 0 24 24"
              className="h-6 w-6"
              fill="none"
              stroke="currentColor"
              strokeWidth="2"
              aria-hidden="true"
            >
              {open ? <path d="M6 6l12 12M18 6L6 18" /> : <path d="M4 6h16M4 12h16M4 18h16" />}
            </svg>
          </button>
        </div>
        {open && (
          <nav id="mobile-nav" aria-label="Main" className="border-t border-slate-200 px-4 pb-4 pt-2 md:hidden">
            <div className="flex flex-col gap-1">
              {items.map((i) => (
                <NavLink key={i.to} to={i.to} end={i.end} className={linkClass} data-testid={`${i.testId}-mobile`}>
                  {i.label}
                </NavLink>
              ))}
            </div>
            <div className="mt-3 flex items-center justify-between gap-3 border-t border-slate-100 pt-3">
              <span className="min-w-0 break-all text-sm text-slate-600">{user?.email}</span>
              <Button
                variant="secondary"
                size="sm"
                onClick={signOut}
                loading={signingOut}
                data-testid="signout-button-mobile"
              >
                Sign out
              </Button>
            </div>
          </nav>
        )}
      </header>
      <main id="main" className="mx-auto max-w-6xl px-4 py-6 sm:px-6 sm:py-8" tabIndex={-1}>
        {/* Until the user enrols, the server refuses everything else (403 mfa_enrollment_required). */}
        {mustEnrolMfa && location.pathname !== '/security' ? <EnrolmentPrompt /> : <Outlet />}
      </main>
    </div>
  );
}

/** What a user whose organisation requires two-factor sign-in sees until they set it up. */
function EnrolmentPrompt() {
  return (
    <section
      className="mx-auto max-w-xl rounded-lg bg-white px-5 py-6 shadow-sm ring-1 ring-amber-200"
      data-testid="mfa-enrolment-prompt"
    >
      <h1 className="text-xl font-semibold text-slate-900">Set up two-factor sign-in</h1>
      <p className="mt-2 text-sm text-slate-600">
        Your organisation requires a second step at sign-in: a code from an authenticator app. Until you set it up, the
        rest of Tradesage stays closed to your account.
      </p>
      <Link
        to="/security"
        className={cx(
          'mt-4 inline-flex rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500',
          focusRing,
        )}
        data-testid="mfa-enrolment-link"
      >
        Set it up now
      </Link>
    </section>
  );
}

/** The centred card of the sign-in and register pages. */
export function AuthShell({ title, subtitle, children }: { title: string; subtitle?: ReactNode; children: ReactNode }) {
  return (
    <div className="flex min-h-screen flex-col items-center justify-center bg-gradient-to-b from-indigo-50 to-slate-50 px-4 py-10">
      <div className="mb-6">
        <Logo />
      </div>
      <main className="w-full max-w-md rounded-xl bg-white px-5 py-7 shadow-sm ring-1 ring-slate-200 sm:px-8">
        <h1 className="text-xl font-semibold text-slate-900">{title}</h1>
        {subtitle && <p className="mt-1 text-sm text-slate-500">{subtitle}</p>}
        <div className="mt-6">{children}</div>
      </main>
    </div>
  );
}

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { VerifyBody } from '../api/auth';
import {
  createApiClient,
  type ApiClient,
  type LoginBody,
  type PendingSignIn,
  type SessionSnapshot,
} from '../api/client';
import type { User } from '../api/users';
import { getMe } from '../api/users';
import { openAuthChannel, type AuthChannel } from './channel';
import { tokenScopes } from './jwt';

export type AuthStatus = 'loading' | 'authenticated' | 'anonymous';

export interface Notice {
  kind: 'info' | 'warning' | 'error' | 'success';
  text: string;
}

interface AuthState {
  status: AuthStatus;
  user: User | null;
  session: SessionSnapshot | null;
  /** A message for the sign-in page (why the user is there). */
  notice: Notice | null;
}

export interface AuthContextValue extends AuthState {
  api: ApiClient;
  scopes: string[];
  hasScope: (scope: string) => boolean;
  /** The password step; answers the pending sign-in when a second factor is asked for. */
  login: (body: LoginBody) => Promise<PendingSignIn | null>;
  /** The second step of a two-factor sign-in. */
  verifyMfa: (body: VerifyBody) => Promise<void>;
  /** The tenant requires two-factor sign-in and this user has not turned it on yet. */
  mustEnrolMfa: boolean;
  logout: () => Promise<void>;
  logoutAll: () => Promise<void>;
  /** The server ended this session (e.g. it was revoked from the sessions page). */
  endLocally: (notice?: Notice) => void;
  refreshNow: () => Promise<void>;
  reloadUser: () => Promise<void>;
  setUser: (user: User) => void;
  clearNotice: () => void;
}

/** Exported for tests, which provide a made-up value; the app uses `AuthProvider`. */
export const AuthContext = createContext<AuthContextValue | null>(null);

export function AuthProvider({ children, client }: { children: ReactNode; client?: ApiClient }) {
  const [state, setState] = useState<AuthState>({ status: 'loading', user: null, session: null, notice: null });
  const channelRef = useRef<AuthChannel | null>(null);

  const onSession = useCallback((s: SessionSnapshot) => {
    setState({ status: 'authenticated', session: s, user: s.user, notice: null });
  }, []);

  const signedOut = useCallback((notice: Notice | null) => {
    setState({ status: 'anonymous', user: null, session: null, notice });
  }, []);

  const [api] = useState<ApiClient>(() => client ?? createApiClient());

  const reloadUser = useCallback(async () => {
    const user = await getMe(api.http);
    setState((prev) => (prev.status === 'authenticated' ? { ...prev, user } : prev));
  }, [api]);

  // Restore the session from the refresh cookie on page load; listen to the other tabs.
  useEffect(() => {
    let alive = true;
    const channel = openAuthChannel((msg) => {
      if (msg.type === 'logout') {
        api.clear();
        signedOut({ kind: 'info', text: 'You were signed out in another tab.' });
      } else if (msg.type === 'login' && !api.getSession()) {
        void api.restore().then((s) => {
          if (s) void reloadUser().catch(() => undefined);
        });
      }
    });
    channelRef.current = channel;
    const unlisten = api.listen({
      onSession,
      onAuthFailure: (f) => {
        signedOut({ kind: 'warning', text: f.message });
        channel.post({ type: 'logout', reason: f.code });
      },
    });
    void api.restore().then((s) => {
      if (!alive) return;
      if (s) void reloadUser().catch(() => undefined);
      else setState((prev) => (prev.status === 'loading' ? { ...prev, status: 'anonymous' } : prev));
    });
    return () => {
      alive = false;
      unlisten();
      channel.close();
      channelRef.current = null;
    };
  }, [api, reloadUser, signedOut, onSession]);

  const signedIn = useCallback(async () => {
    channelRef.current?.post({ type: 'login' });
    await reloadUser().catch(() => undefined);
  }, [reloadUser]);

  const login = useCallback(
    async (body: LoginBody) => {
      const result = await api.login(body);
      if (result.pending) return result.pending;
      await signedIn();
      return null;
    },
    [api, signedIn],
  );

  const verifyMfa = useCallback(
    async (body: VerifyBody) => {
      await api.verifyMfa(body);
      await signedIn();
    },
    [api, signedIn],
  );

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      /* the local sign-out stands even if the server could not be told */
    }
    channelRef.current?.post({ type: 'logout' });
    signedOut({ kind: 'success', text: 'You have signed out.' });
  }, [api, signedOut]);

  const logoutAll = useCallback(async () => {
    await api.logoutAll();
    channelRef.current?.post({ type: 'logout' });
    signedOut({ kind: 'success', text: 'You were signed out of every session.' });
  }, [api, signedOut]);

  const endLocally = useCallback(
    (notice?: Notice) => {
      api.clear();
      channelRef.current?.post({ type: 'logout' });
      signedOut(notice ?? { kind: 'info', text: 'This session has ended.' });
    },
    [api, signedOut],
  );

  const refreshNow = useCallback(async () => {
    await api.refresh();
  }, [api]);

  const setUser = useCallback((user: User) => setState((prev) => ({ ...prev, user })), []);
  const clearNotice = useCallback(() => setState((prev) => ({ ...prev, notice: null })), []);

  const scopes = useMemo(
    () => tokenScopes(state.session?.accessToken) ?? state.user?.scopes ?? [],
    [state.session?.accessToken, state.user?.scopes],
  );
  const hasScope = useCallback((s: string) => scopes.includes(s), [scopes]);
  const mustEnrolMfa = !!state.user && state.user.tenant.require_mfa && !state.user.mfa_enabled;

  const value = useMemo<AuthContextValue>(
    () => ({
      ...state,
      api,
      scopes,
      hasScope,
      login,
      verifyMfa,
      mustEnrolMfa,
      logout,
      logoutAll,
      endLocally,
      refreshNow,
      reloadUser,
      setUser,
      clearNotice,
    }),
    [
      state,
      api,
      scopes,
      hasScope,
      login,
      verifyMfa,
      mustEnrolMfa,
      logout,
      logoutAll,
      endLocally,
      refreshNow,
      reloadUser,
      setUser,
      clearNotice,
    ],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}

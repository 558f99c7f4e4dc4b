/** The app: auth state, the router, and the pages of the route table (routes.ts). */
import { lazy, Suspense, type ComponentType } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { AuthProvider } from './auth/AuthContext';
import { GuestOnly, RequireAuth, RequireScopes } from './auth/guards';
import { Layout } from './components/Layout';
import { Loading } from './components/ui';
import { ApiKeysPage } from './pages/ApiKeysPage';
import { AdminLayout } from './pages/admin/AdminLayout';
import { AuditPage } from './pages/admin/AuditPage';
import { LockoutsPage } from './pages/admin/LockoutsPage';
import { TenantsPage } from './pages/admin/TenantsPage';
import { UserDetailPage } from './pages/admin/UserDetailPage';
import { UsersPage } from './pages/admin/UsersPage';
import { DashboardPage } from './pages/DashboardPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { OrdersPage } from './pages/OrdersPage';
import { ProfilePage } from './pages/ProfilePage';
import { RegisterPage } from './pages/RegisterPage';
import { SecurityPage } from './pages/SecurityPage';
import { SessionsPage } from './pages/SessionsPage';
import { SignInPage } from './pages/SignInPage';
import { LAYOUTS, ROUTES, type AppRoute, type PageRouteId } from './routes';

/** Loaded when first opened: its charting library is for operators only. */
const OperatorPage = lazy(() => import('./pages/OperatorPage').then((m) => ({ default: m.OperatorPage })));

/** The page of every route (a redirect route has none); the compiler keeps it complete. */
const PAGES: Record<PageRouteId, ComponentType> = {
  signIn: SignInPage,
  register: RegisterPage,
  dashboard: DashboardPage,
  sessions: SessionsPage,
  profile: ProfilePage,
  security: SecurityPage,
  apiKeys: ApiKeysPage,
  orders: OrdersPage,
  operator: OperatorPage,
  adminUsers: UsersPage,
  adminUser: UserDetailPage,
  adminLockouts: LockoutsPage,
  adminAudit: AuditPage,
  adminTenants: TenantsPage,
  notFound: NotFoundPage,
};

const LAYOUT_PAGES: Record<keyof typeof LAYOUTS, ComponentType> = { admin: AdminLayout };

function element(route: AppRoute) {
  if (route.redirect) return <Navigate to={route.redirect} replace />;
  const Page = PAGES[route.id as PageRouteId];
  const page = (
    <Suspense fallback={<Loading />}>
      <Page />
    </Suspense>
  );
  if (route.access === 'guest') return <GuestOnly>{page}</GuestOnly>;
  return route.scopes?.length ? <RequireScopes scopes={route.scopes}>{page}</RequireScopes> : page;
}

function routeOf(route: AppRoute) {
  return route.layout && route.path === LAYOUTS[route.layout].path ? (
    <Route key={route.id} index element={element(route)} />
  ) : (
    <Route key={route.id} path={route.path} element={element(route)} />
  );
}

export function AppRoutes() {
  const routes: readonly AppRoute[] = ROUTES;
  const layouts = Object.entries(LAYOUTS) as [keyof typeof LAYOUTS, (typeof LAYOUTS)[keyof typeof LAYOUTS]][];
  return (
    <Routes>
      {routes.filter((r) => r.access === 'guest').map(routeOf)}
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        {routes.filter((r) => r.access === 'user' && !r.layout).map(routeOf)}
        {layouts.map(([name, layout]) => {
          const LayoutPage = LAYOUT_PAGES[name];
          return (
            <Route
              key={name}
              path={layout.path}
              element={
                <RequireScopes scopes={layout.scopes}>
                  <LayoutPage />
                </RequireScopes>
              }
            >
              {routes.filter((r) => r.layout === name).map(routeOf)}
            </Route>
          );
        })}
      </Route>
    </Routes>
  );
}

export default function App() {
  return (
    <AuthProvider>
      <BrowserRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <AppRoutes />
      </BrowserRouter>
    </AuthProvider>
  );
}

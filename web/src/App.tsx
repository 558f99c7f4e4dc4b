import type { ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { SCOPES } from './api/types';
import { AuthProvider, useAuth } from './auth/AuthContext';
import { Layout } from './components/Layout';
import { Loading } from './components/ui';
import { AdminLayout } from './pages/admin/AdminLayout';
import { AuditPage } from './pages/admin/AuditPage';
import { LockoutsPage } from './pages/admin/LockoutsPage';
import { TenantsPage } from './pages/admin/TenantsPage';
import { UserDetailPage } from './pages/admin/UserDetailPage';
import { UsersPage } from './pages/admin/UsersPage';
import { DashboardPage } from './pages/DashboardPage';
import { NotFoundPage, NoAccess } from './pages/NotFoundPage';
import { OperatorPage } from './pages/OperatorPage';
import { OrdersPage } from './pages/OrdersPage';
import { ProfilePage } from './pages/ProfilePage';
import { RegisterPage } from './pages/RegisterPage';
import { SessionsPage } from './pages/SessionsPage';
import { SignInPage } from './pages/SignInPage';

function FullPageLoading() {
  return (
    <div className="flex min-h-screen items-center justify-center">
      <Loading text="Restoring your session…" />
    </div>
  );
}

function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'loading') return <FullPageLoading />;
  if (status === 'anonymous')
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return <>{children}</>;
}

function RequireScope({ scope, children }: { scope: string; children: ReactNode }) {
  const { hasScope } = useAuth();
  return hasScope(scope) ? <>{children}</> : <NoAccess scope={scope} />;
}

function GuestOnly({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'loading') return <FullPageLoading />;
  if (status === 'authenticated') {
    const from = (location.state as { from?: string } | null)?.from;
    return <Navigate to={from && from !== '/login' ? from : '/'} replace />;
  }
  return <>{children}</>;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route
        path="/login"
        element={
          <GuestOnly>
            <SignInPage />
          </GuestOnly>
        }
      />
      <Route
        path="/register"
        element={
          <GuestOnly>
            <RegisterPage />
          </GuestOnly>
        }
      />
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<DashboardPage />} />
        <Route path="sessions" element={<SessionsPage />} />
        <Route path="profile" element={<ProfilePage />} />
        <Route
          path="orders"
          element={
            <RequireScope scope={SCOPES.ordersRead}>
              <OrdersPage />
            </RequireScope>
          }
        />
        <Route
          path="operator"
          element={
            <RequireScope scope={SCOPES.actorsRead}>
              <OperatorPage />
            </RequireScope>
          }
        />
        <Route
          path="admin"
          element={
            <RequireScope scope={SCOPES.usersManage}>
              <AdminLayout />
            </RequireScope>
          }
        >
          <Route index element={<Navigate to="users" replace />} />
          <Route path="users" element={<UsersPage />} />
          <Route path="users/:id" element={<UserDetailPage />} />
          <Route path="lockouts" element={<LockoutsPage />} />
          <Route
            path="audit"
            element={
              <RequireScope scope={SCOPES.auditRead}>
                <AuditPage />
              </RequireScope>
            }
          />
          <Route
            path="tenants"
            element={
              <RequireScope scope={SCOPES.tenantsManage}>
                <TenantsPage />
              </RequireScope>
            }
          />
        </Route>
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

export default function App() {
  return (
    <AuthProvider>
      <BrowserRouter>
        <AppRoutes />
      </BrowserRouter>
    </AuthProvider>
  );
}

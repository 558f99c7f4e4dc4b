export interface Tenant {
  id: string;
  slug: string;
  name: string;
  allow_self_signup?: boolean;
  is_active?: boolean;
  created_at?: string;
}

export interface User {
  id: string;
  email: string;
  display_name: string | null;
  tenant: Pick<Tenant, 'id' | 'slug' | 'name'>;
  roles: string[];
  scopes: string[];
  created_at: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  session_id: string;
  user: User;
  refresh_token?: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface SessionInfo {
  session_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  client_ip: string | null;
  user_agent: string | null;
  current: boolean;
}

export interface Order {
  id: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: string;
  limit_price: string;
  status: string;
  user_id: string;
  created_at: string;
}

/** A user as seen by an admin (GET /api/v1/admin/users): the user view plus `is_active`. */
export interface AdminUser {
  id: string;
  email: string;
  display_name?: string | null;
  roles: string[];
  scopes?: string[];
  is_active?: boolean;
  created_at?: string;
  tenant?: Pick<Tenant, 'id' | 'slug' | 'name'>;
}

/**
 * A sign-in lockout (GET /api/v1/admin/lockouts). Kept per (tenant, email) whether or not the
 * account exists, so `user_id` is null for unknown emails.
 */
export interface Lockout {
  user_id: string | null;
  email: string;
  failures: number;
  step: number;
  locked_until: string | null;
  permanent: boolean;
}

/** An audit event (GET /api/v1/admin/audit), newest first. */
export interface AuditEvent {
  id: string;
  at: string;
  tenant_id: string | null;
  user_id: string | null;
  event: string;
  outcome: string;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  detail: unknown;
}

export interface ActorKind {
  kind: string;
  live: number;
  activations: number;
  passivations: number;
  restarts: number;
  failures: number;
  mailbox_depth: number;
  handle_time_ms: { p50: number; p99: number };
}

export interface Supervisor {
  name: string;
  kind: string;
  children: number;
  restarts: number;
  failures: number;
}

export interface ActorsView {
  node: string;
  uptime_s: number;
  kinds: ActorKind[];
  supervisors: Supervisor[];
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: unknown;
}

export const SCOPES = {
  ordersRead: 'orders:read',
  ordersWrite: 'orders:write',
  ordersManage: 'orders:manage',
  usersManage: 'users:manage',
  sessionsManage: 'sessions:manage',
  auditRead: 'audit:read',
  tenantsManage: 'tenants:manage',
  actorsRead: 'actors:read',
} as const;

export const ROLES = ['admin', 'trader', 'viewer', 'api_user'] as const;

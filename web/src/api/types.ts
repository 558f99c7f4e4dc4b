export interface Tenant {
  id: string;
  slug: string;
  name: string;
  allow_self_signup?: boolean;
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

/** A user as seen by an admin (GET /api/v1/admin/users). Fields beyond `User` are optional. */
export interface AdminUser {
  id: string;
  email: string;
  display_name?: string | null;
  roles: string[];
  is_active?: boolean;
  locked?: boolean;
  locked_until?: string | null;
  created_at?: string;
  last_login_at?: string | null;
  tenant?: Pick<Tenant, 'id' | 'slug' | 'name'> | string;
  tenant_id?: string;
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
  usersManage: 'users:manage',
  sessionsManage: 'sessions:manage',
  auditRead: 'audit:read',
  tenantsManage: 'tenants:manage',
  actorsRead: 'actors:read',
} as const;

export const ROLES = ['admin', 'trader', 'viewer', 'api_user'] as const;

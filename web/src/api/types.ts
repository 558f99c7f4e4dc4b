/**
 * Names the app shares: scopes and the problem+json body. The API's data types come from the
 * server's OpenAPI description through the resource modules (auth.ts, users.ts, admin.ts, …).
 */

/** A problem+json error body (`code` is stable; see API.md §2). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  /** The request field at fault (`validation_failed` of a field rule). */
  field?: string;
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

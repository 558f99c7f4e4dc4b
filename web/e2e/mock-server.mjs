#!/usr/bin/env node
// A small in-memory STAND-IN for the Tradesage server, for developing and smoke-testing the web
// app without the Rust build. It follows /api/v1 of API.md closely enough for the UI (cookies,
// problem+json codes, Retry-After, refresh rotation with a reuse grace, CSP headers), but it is
// not the server and proves nothing about it. Serves ../dist with SPA fallback.
//
//   node e2e/mock-server.mjs            # http://127.0.0.1:8099
//   MOCK_PORT=8099 MOCK_ACCESS_TTL=60 node e2e/mock-server.mjs
//
// Seeded: platform admin admin@example.com / admin-password-1 (tenant "platform"),
//         trader trader@example.com / trader-password-1 (tenant "default").
import { createServer } from 'node:http';
import { randomUUID, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const PORT = Number(process.env.MOCK_PORT ?? 8099);
const HOST = process.env.MOCK_HOST ?? '127.0.0.1';
const ACCESS_TTL = Number(process.env.MOCK_ACCESS_TTL ?? 900);
const REFRESH_TTL = 30 * 86400;
const GRACE_MS = 10_000;
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const started = Date.now();

const SCOPES = {
  admin: ['users:manage', 'sessions:manage', 'audit:read', 'orders:read', 'orders:write', 'orders:manage'],
  trader: ['orders:read', 'orders:write'],
  viewer: ['orders:read'],
  api_user: ['orders:read', 'orders:write'],
};

const now = () => new Date().toISOString();
const tenants = new Map();
const users = new Map();
const sessions = new Map();
const accessTokens = new Map(); // token -> { sid, exp }
const refreshTokens = new Map(); // token -> { sid, spentAt|null, exp }
const orders = [];
const audit = [];
const failures = new Map(); // tenant|email -> { count, lockedUntil }
const actorStats = { session: { activations: 0, passivations: 0 }, lockout: { activations: 0, passivations: 0 } };

/** The single-node actor view of the mock "node". */
function mockActors() {
  const live = [...sessions.values()].filter((s) => !s.ended).length;
  const rnd = () => Math.round(Math.random() * 100) / 100;
  return {
    node: 'mock@127.0.0.1',
    uptime_s: Math.floor((Date.now() - started) / 1000),
    kinds: [
      {
        kind: 'session',
        live,
        ...actorStats.session,
        restarts: 0,
        failures: 0,
        mailbox_depth: 0,
        handle_time_ms: { p50: 0.12 + rnd() / 10, p99: 1.5 + rnd() },
      },
      {
        kind: 'lockout',
        live: [...failures.values()].filter((f) => f.lockedUntil > Date.now()).length,
        ...actorStats.lockout,
        restarts: 0,
        failures: 0,
        mailbox_depth: 0,
        handle_time_ms: { p50: 0.08, p99: 0.9 },
      },
    ],
    supervisors: [
      { name: 'session-shard-0', kind: 'session', children: live, restarts: 0, failures: 0 },
      { name: 'lockout-shard-0', kind: 'lockout', children: 0, restarts: 0, failures: 0 },
    ],
  };
}

function addTenant(slug, name, allow) {
  const t = { id: randomUUID(), slug, name, allow_self_signup: allow, created_at: now() };
  tenants.set(t.id, t);
  return t;
}
const tenantBySlug = (slug) => [...tenants.values()].find((t) => t.slug === slug);
const platform = addTenant('platform', 'Platform', false);
const deflt = addTenant('default', 'Default', true);

function addUser(tenant, email, password, roles, displayName = null) {
  const u = {
    id: randomUUID(),
    tenant_id: tenant.id,
    email,
    password,
    roles,
    display_name: displayName,
    is_active: true,
    created_at: now(),
  };
  users.set(u.id, u);
  return u;
}
addUser(platform, 'admin@example.com', 'admin-password-1', ['admin'], 'Platform Admin');
addUser(deflt, 'trader@example.com', 'trader-password-1', ['trader'], 'Tess Trader');

function scopesOf(u) {
  const s = new Set(u.roles.flatMap((r) => SCOPES[r] ?? []));
  if (tenants.get(u.tenant_id)?.slug === 'platform' && u.roles.includes('admin')) {
    s.add('tenants:manage');
    s.add('actors:read');
  }
  return [...s];
}
function userView(u) {
  const t = tenants.get(u.tenant_id);
  return {
    id: u.id,
    email: u.email,
    display_name: u.display_name,
    tenant: { id: t.id, slug: t.slug, name: t.name },
    roles: u.roles,
    scopes: scopesOf(u),
    created_at: u.created_at,
  };
}
// Shapes as the real server answers them (src/http/*.rs): the admin user view is the user view
// plus `is_active` (lock state comes from /admin/lockouts).
function adminUserView(u) {
  return { ...userView(u), is_active: u.is_active };
}
/** An audit event as the server records it: `{id, at, tenant_id, user_id, event, outcome, ip, user_agent, request_id, detail}`. */
function log(event, u, detail = {}, outcome = 'success', tenantId = null) {
  audit.unshift({
    id: randomUUID(),
    at: now(),
    tenant_id: u?.tenant_id ?? tenantId,
    user_id: u?.id ?? null,
    event,
    outcome,
    ip: '127.0.0.1',
    user_agent: null,
    request_id: randomUUID(),
    detail,
  });
}

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function mintAccess(s) {
  const u = users.get(s.user_id);
  const iat = Math.floor(Date.now() / 1000);
  const claims = {
    iss: 'tradesage',
    aud: 'tradesage-api-gateway',
    sub: u.id,
    user_id: u.id,
    email: u.email,
    tenant_id: u.tenant_id,
    roles: u.roles,
    scope: scopesOf(u).join(' '),
    session_id: s.session_id,
    token_type: 'access',
    iat,
    nbf: iat,
    exp: iat + ACCESS_TTL,
    jti: randomUUID(),
  };
  const token = `${b64({ alg: 'ES256', typ: 'JWT', kid: 'mock' })}.${b64(claims)}.${randomBytes(16).toString('base64url')}`;
  accessTokens.set(token, { sid: s.session_id, exp: Date.now() + ACCESS_TTL * 1000 });
  return token;
}
function mintRefresh(s) {
  const token = `r.${randomBytes(24).toString('base64url')}`;
  refreshTokens.set(token, { sid: s.session_id, spentAt: null });
  return token;
}
function tokenBody(s) {
  return {
    access_token: mintAccess(s),
    token_type: 'Bearer',
    expires_in: ACCESS_TTL,
    session_id: s.session_id,
    user: userView(users.get(s.user_id)),
  };
}

// ------------------------------------------------------------------------------------------------

class Problem extends Error {
  constructor(status, code, detail, headers = {}) {
    super(detail);
    Object.assign(this, { status, code, detail, headers });
  }
}
const SECURITY = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'X-XSS-Protection': '1; mode=block',
  'Strict-Transport-Security': 'max-age=31536000',
  'Content-Security-Policy': "default-src 'self'",
};
function send(res, status, body, headers = {}) {
  const h = { ...SECURITY, 'X-Request-Id': randomUUID(), ...headers };
  if (body === undefined) {
    res.writeHead(status, h).end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', ...h }).end(JSON.stringify(body));
}
function sendProblem(res, p) {
  const h = { ...SECURITY, 'Content-Type': 'application/problem+json', ...p.headers };
  if (p.status === 401) h['WWW-Authenticate'] = 'Bearer';
  res.writeHead(p.status, h).end(
    JSON.stringify({
      type: 'about:blank',
      title: p.code.replace(/_/g, ' '),
      status: p.status,
      detail: p.detail,
      code: p.code,
    }),
  );
}
const cookieOf = (req, name) =>
  (req.headers.cookie ?? '')
    .split(';')
    .map((c) => c.trim().split('='))
    .find(([k]) => k === name)?.[1] ?? null;
const setRefreshCookie = (t) =>
  `refresh_token=${t}; HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth; Max-Age=${REFRESH_TTL}`;
const clearRefreshCookie = 'refresh_token=; HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth; Max-Age=0';

function authenticate(req) {
  const m = /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new Problem(401, 'token_missing', 'An access token is required.');
  const a = accessTokens.get(m[1]);
  if (!a) throw new Problem(401, 'token_invalid', 'The access token is not valid.');
  const s = sessions.get(a.sid);
  if (!s || s.ended) throw new Problem(401, 'session_revoked', 'The session has ended.');
  if (a.exp <= Date.now()) throw new Problem(401, 'token_expired', 'The access token has expired.');
  s.last_seen_at = now();
  const u = users.get(s.user_id);
  return { s, u, scopes: scopesOf(u) };
}
function need(ctx, scope) {
  if (!ctx.scopes.includes(scope)) throw new Problem(403, 'forbidden', `Scope ${scope} is required.`);
}
function csrf(req) {
  if (!req.headers['x-requested-with'] && req.headers.origin !== `http://${req.headers.host}`) {
    throw new Problem(403, 'forbidden', 'Cookie-authenticated writes need X-Requested-With or a same-origin Origin.');
  }
}
function endSession(s) {
  if (s && !s.ended) {
    s.ended = true;
    actorStats.session.passivations++;
  }
}
function page(items, url) {
  const limit = Math.min(200, Number(url.searchParams.get('limit') ?? 50));
  const offset = Number(url.searchParams.get('cursor') ?? 0);
  const slice = items.slice(offset, offset + limit);
  return { items: slice, next_cursor: offset + limit < items.length ? String(offset + limit) : null };
}
function pwCheck(pw) {
  const n = Buffer.byteLength(pw ?? '', 'utf8');
  if (n < 8 || n > 72) throw new Problem(422, 'validation_failed', 'The password must be 8 to 72 bytes.');
  if (['password', 'password1', '12345678', 'qwertyuiop'].includes(pw))
    throw new Problem(422, 'validation_failed', 'This password is too common.');
}
function adminTenant(ctx, url) {
  const slug = url.searchParams.get('tenant');
  if (slug && ctx.scopes.includes('tenants:manage')) {
    const t = tenantBySlug(slug);
    if (!t) throw new Problem(404, 'not_found', 'No such tenant.');
    return t.id;
  }
  return ctx.u.tenant_id;
}
function newSession(req, u) {
  const mine = [...sessions.values()].filter((x) => x.user_id === u.id && !x.ended);
  if (mine.length >= 10) endSession(mine.sort((a, b) => a.created_at.localeCompare(b.created_at))[0]);
  const s = {
    session_id: randomUUID(),
    user_id: u.id,
    created_at: now(),
    last_seen_at: now(),
    expires_at: new Date(Date.now() + REFRESH_TTL * 1000).toISOString(),
    client_ip: req.socket.remoteAddress?.replace('::ffff:', '') ?? null,
    user_agent: req.headers['user-agent'] ?? null,
    ended: false,
  };
  sessions.set(s.session_id, s);
  actorStats.session.activations++;
  return s;
}

async function api(req, res, url, body) {
  const path = url.pathname.replace(/^\/api\/v1/, '');
  const M = req.method;
  let m;

  if (M === 'POST' && path === '/auth/register') {
    const t = tenantBySlug(body.tenant ?? 'default');
    if (!t || !t.allow_self_signup) throw new Problem(403, 'forbidden', 'This tenant does not allow sign-up.');
    const email = String(body.email ?? '')
      .trim()
      .toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new Problem(422, 'validation_failed', 'A valid email is required.');
    pwCheck(body.password);
    if ([...users.values()].some((u) => u.tenant_id === t.id && u.email === email))
      throw new Problem(409, 'conflict', 'This email is already registered.');
    const u = addUser(t, email, body.password, ['viewer'], body.display_name ?? null);
    log('register', u);
    return send(res, 201, userView(u));
  }
  if (M === 'POST' && path === '/auth/login') {
    const t = tenantBySlug(body.tenant ?? 'default');
    const email = String(body.email ?? '')
      .trim()
      .toLowerCase();
    const key = `${t?.id}|${email}`;
    const f = failures.get(key) ?? { count: 0, lockedUntil: 0, step: 0 };
    if (f.lockedUntil > Date.now()) {
      throw new Problem(
        423,
        'account_locked',
        'Too many failed sign-ins.',
        f.lockedUntil === Infinity ? {} : { 'Retry-After': String(Math.ceil((f.lockedUntil - Date.now()) / 1000)) },
      );
    }
    const u = t && [...users.values()].find((x) => x.tenant_id === t.id && x.email === email);
    if (!u || u.password !== body.password) {
      f.count++;
      failures.set(key, f);
      log('login', u ?? null, { reason: 'invalid_credentials' }, 'failure', t?.id ?? null);
      if (f.count >= 5) {
        f.count = 0;
        f.step = (f.step ?? 0) + 1;
        f.lockedUntil = Date.now() + 60_000;
        actorStats.lockout.activations++;
        log('lockout', u ?? null, { permanent: false, retry_after_s: 60, step: f.step }, 'locked', t?.id ?? null);
        throw new Problem(423, 'account_locked', 'Too many failed sign-ins.', { 'Retry-After': '60' });
      }
      throw new Problem(401, 'invalid_credentials', 'Email or password is incorrect.');
    }
    if (!u.is_active) throw new Problem(403, 'account_disabled', 'This account is disabled.');
    f.count = 0;
    failures.set(key, f);
    const s = newSession(req, u);
    log('login', u, { session_id: s.session_id });
    const out = tokenBody(s);
    const rt = mintRefresh(s);
    if (body.token_delivery === 'body') return send(res, 200, { ...out, refresh_token: rt });
    return send(res, 200, out, { 'Set-Cookie': setRefreshCookie(rt) });
  }
  if (M === 'POST' && path === '/auth/refresh') {
    const fromCookie = cookieOf(req, 'refresh_token');
    if (fromCookie) csrf(req);
    const token = fromCookie ?? /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) throw new Problem(401, 'token_missing', 'No refresh token.');
    const r = refreshTokens.get(token);
    if (!r) throw new Problem(401, 'token_invalid', 'The refresh token is not valid.');
    const s = sessions.get(r.sid);
    if (!s || s.ended) throw new Problem(401, 'session_revoked', 'The session has ended.');
    if (r.spentAt) {
      if (Date.now() - r.spentAt < GRACE_MS)
        throw new Problem(401, 'token_rotated', 'The refresh token was just rotated.');
      endSession(s);
      log('token_reuse_detected', users.get(s.user_id), { session_id: s.session_id }, 'session_ended');
      throw new Problem(401, 'token_reused', 'A spent refresh token was presented; the session was ended.');
    }
    r.spentAt = Date.now();
    s.last_seen_at = now();
    const out = tokenBody(s);
    const rt = mintRefresh(s);
    if (!fromCookie) return send(res, 200, { ...out, refresh_token: rt });
    return send(res, 200, out, { 'Set-Cookie': setRefreshCookie(rt) });
  }
  if (M === 'POST' && path === '/auth/logout') {
    const rt = cookieOf(req, 'refresh_token');
    if (rt) {
      csrf(req);
      const r = refreshTokens.get(rt);
      if (r) endSession(sessions.get(r.sid));
      if (r) log('logout', users.get(sessions.get(r.sid).user_id));
    } else {
      const ctx = authenticate(req);
      endSession(ctx.s);
      log('logout', ctx.u);
    }
    return send(res, 204, undefined, { 'Set-Cookie': clearRefreshCookie });
  }

  const ctx = authenticate(req);

  if (M === 'POST' && path === '/auth/logout-all') {
    for (const s of sessions.values()) if (s.user_id === ctx.u.id) endSession(s);
    log('logout', ctx.u, { all: true });
    return send(res, 204, undefined, { 'Set-Cookie': clearRefreshCookie });
  }
  const sessionView = (s, current) => ({
    session_id: s.session_id,
    created_at: s.created_at,
    last_seen_at: s.last_seen_at,
    expires_at: s.expires_at,
    client_ip: s.client_ip,
    user_agent: s.user_agent,
    current,
  });
  if (M === 'GET' && path === '/auth/sessions') {
    const items = [...sessions.values()]
      .filter((s) => s.user_id === ctx.u.id && !s.ended)
      .map((s) => sessionView(s, s.session_id === ctx.s.session_id));
    return send(res, 200, { items, next_cursor: null });
  }
  if (M === 'DELETE' && (m = /^\/auth\/sessions\/([^/]+)$/.exec(path))) {
    const s = sessions.get(m[1]);
    if (!s || s.user_id !== ctx.u.id || s.ended) throw new Problem(404, 'not_found', 'No such session.');
    endSession(s);
    return send(res, 204);
  }
  if (path === '/users/me' && M === 'GET') return send(res, 200, userView(ctx.u));
  if (path === '/users/me' && M === 'PATCH') {
    ctx.u.display_name = body.display_name ?? ctx.u.display_name;
    return send(res, 200, userView(ctx.u));
  }
  if (M === 'POST' && path === '/users/me/password') {
    if (body.current_password !== ctx.u.password)
      throw new Problem(401, 'invalid_credentials', 'The current password is incorrect.');
    pwCheck(body.new_password);
    ctx.u.password = body.new_password;
    for (const s of sessions.values()) if (s.user_id === ctx.u.id && s.session_id !== ctx.s.session_id) endSession(s);
    log('password_change', ctx.u);
    return send(res, 204);
  }
  if (path === '/orders' && M === 'GET') {
    need(ctx, 'orders:read');
    const mine = orders.filter((o) => users.get(o.user_id)?.tenant_id === ctx.u.tenant_id);
    return send(res, 200, page(mine, url));
  }
  if (path === '/orders' && M === 'POST') {
    need(ctx, 'orders:write');
    if (
      !body.symbol ||
      !['buy', 'sell'].includes(body.side) ||
      !(Number(body.quantity) > 0) ||
      !(Number(body.limit_price) > 0)
    ) {
      throw new Problem(422, 'validation_failed', 'symbol, side, quantity and limit_price are required.');
    }
    const o = {
      id: randomUUID(),
      symbol: String(body.symbol).toUpperCase(),
      side: body.side,
      quantity: String(body.quantity),
      limit_price: String(body.limit_price),
      status: 'open',
      user_id: ctx.u.id,
      created_at: now(),
    };
    orders.unshift(o);
    return send(res, 201, o);
  }
  if (M === 'DELETE' && (m = /^\/orders\/([^/]+)$/.exec(path))) {
    need(ctx, 'orders:write');
    const o = orders.find((x) => x.id === m[1]);
    if (!o) throw new Problem(404, 'not_found', 'No such order.');
    if (o.status !== 'open') throw new Problem(409, 'conflict', 'The order is not open.');
    o.status = 'cancelled';
    return send(res, 200, o);
  }
  if (path === '/admin/actors' && M === 'GET') {
    need(ctx, 'actors:read');
    const view = mockActors();
    if (url.searchParams.get('scope') === 'cluster') return send(res, 200, { node: view.node, nodes: [view] });
    return send(res, 200, view);
  }
  if (path === '/admin/actors/history' && M === 'GET') {
    need(ctx, 'actors:read');
    const minutes = Number(url.searchParams.get('minutes') ?? 15);
    const end = Math.floor(Date.now() / 10_000) * 10;
    const steps = Math.min(minutes * 6, Math.floor((Date.now() - started) / 10_000));
    const points = (kind) =>
      Array.from({ length: steps }, (_, i) => ({
        t: new Date((end - (steps - 1 - i) * 10) * 1000).toISOString(),
        interval_s: 10,
        live: kind === 'session' ? [...sessions.values()].filter((s) => !s.ended).length : 0,
        activations: Math.round(Math.random() * 3),
        passivations: Math.round(Math.random() * 2),
        restarts: 0,
        failures: 0,
        mailbox_depth: 0,
        p99_ms: 1 + Math.random(),
      }));
    return send(res, 200, {
      step_s: 10,
      minutes,
      nodes: [
        {
          node: 'mock@127.0.0.1',
          reporting: true,
          last_report_at: now(),
          kinds: ['session', 'lockout'].map((kind) => ({ kind, points: points(kind) })),
        },
      ],
    });
  }
  if (path.startsWith('/admin/')) need(ctx, 'users:manage');
  if (path === '/admin/users' && M === 'GET') {
    const tid = adminTenant(ctx, url);
    return send(res, 200, page([...users.values()].filter((u) => u.tenant_id === tid).map(adminUserView), url));
  }
  if (path === '/admin/users' && M === 'POST') {
    const t = tenants.get(adminTenant(ctx, url));
    const email = String(body.email ?? '')
      .trim()
      .toLowerCase();
    pwCheck(body.password);
    if ([...users.values()].some((u) => u.tenant_id === t.id && u.email === email))
      throw new Problem(409, 'conflict', 'This email is already registered.');
    const u = addUser(t, email, body.password, body.roles ?? ['viewer'], body.display_name ?? null);
    log('admin_user_created', u, { actor_id: ctx.u.id });
    return send(res, 201, adminUserView(u));
  }
  if ((m = /^\/admin\/users\/([^/]+)(\/unlock|\/sessions)?$/.exec(path))) {
    const u = users.get(m[1]);
    if (!u || u.tenant_id !== adminTenant(ctx, url)) throw new Problem(404, 'not_found', 'No such user.');
    if (!m[2] && M === 'GET') return send(res, 200, adminUserView(u));
    if (!m[2] && M === 'PATCH') {
      if (Array.isArray(body.roles)) u.roles = body.roles;
      if (typeof body.is_active === 'boolean') {
        u.is_active = body.is_active;
        if (!u.is_active) for (const s of sessions.values()) if (s.user_id === u.id) endSession(s);
      }
      log('admin_user_updated', u, { actor_id: ctx.u.id });
      return send(res, 200, adminUserView(u));
    }
    if (m[2] === '/unlock' && M === 'POST') {
      failures.delete(`${u.tenant_id}|${u.email}`);
      log('admin_unlock', u, { actor_id: ctx.u.id });
      return send(res, 204);
    }
    if (m[2] === '/sessions' && M === 'GET') {
      const items = [...sessions.values()]
        .filter((s) => s.user_id === u.id && !s.ended)
        .map((s) => sessionView(s, s.session_id === ctx.s.session_id));
      return send(res, 200, { items, next_cursor: null });
    }
  }
  if (M === 'DELETE' && (m = /^\/admin\/sessions\/([^/]+)$/.exec(path))) {
    need(ctx, 'sessions:manage');
    const s = sessions.get(m[1]);
    if (!s || s.ended) throw new Problem(404, 'not_found', 'No such session.');
    endSession(s);
    return send(res, 204);
  }
  if (path === '/admin/lockouts' && M === 'GET') {
    const tid = adminTenant(ctx, url);
    const items = [...failures.entries()]
      .filter(([k, f]) => k.startsWith(`${tid}|`) && (f.count > 0 || f.lockedUntil > Date.now()))
      .map(([k, f]) => {
        const email = k.split('|')[1];
        const u = [...users.values()].find((x) => x.tenant_id === tid && x.email === email);
        return {
          user_id: u?.id ?? null,
          email,
          failures: f.count,
          step: f.step ?? 0,
          locked_until:
            f.lockedUntil > Date.now() && f.lockedUntil !== Infinity ? new Date(f.lockedUntil).toISOString() : null,
          permanent: f.lockedUntil === Infinity,
        };
      });
    return send(res, 200, { items, next_cursor: null });
  }
  if (path === '/admin/audit' && M === 'GET') {
    need(ctx, 'audit:read');
    const tid = adminTenant(ctx, url);
    const ev = url.searchParams.get('event');
    const uid = url.searchParams.get('user_id');
    const items = audit.filter((a) => a.tenant_id === tid && (!ev || a.event === ev) && (!uid || a.user_id === uid));
    return send(res, 200, page(items, url));
  }
  if (path.startsWith('/tenants')) {
    need(ctx, 'tenants:manage');
    if (path === '/tenants' && M === 'GET') return send(res, 200, page([...tenants.values()], url));
    if (path === '/tenants' && M === 'POST') {
      if (tenantBySlug(body.slug)) throw new Problem(409, 'conflict', 'Slug taken.');
      return send(res, 201, addTenant(body.slug, body.name, !!body.allow_self_signup));
    }
    if ((m = /^\/tenants\/([^/]+)$/.exec(path))) {
      const t = tenants.get(m[1]);
      if (!t) throw new Problem(404, 'not_found', 'No such tenant.');
      if (M === 'GET') return send(res, 200, t);
      if (M === 'PATCH') {
        if (typeof body.name === 'string') t.name = body.name;
        if (typeof body.allow_self_signup === 'boolean') t.allow_self_signup = body.allow_self_signup;
        return send(res, 200, t);
      }
    }
  }
  throw new Problem(404, 'not_found', 'No such endpoint.');
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};
async function serveStatic(req, res, url) {
  let file = normalize(join(DIST, decodeURIComponent(url.pathname)));
  if (!file.startsWith(DIST)) return send(res, 404, { code: 'not_found' });
  try {
    if (!(await stat(file)).isFile()) throw new Error('dir');
  } catch {
    if (extname(url.pathname)) return send(res, 404, { code: 'not_found' });
    file = join(DIST, 'index.html'); // SPA fallback
  }
  const data = await readFile(file);
  res.writeHead(200, { ...SECURITY, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(data);
}

createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  try {
    if (url.pathname === '/health') return send(res, 200, { status: 'ok' });
    if (!url.pathname.startsWith('/api/v1/')) return await serveStatic(req, res, url);
    let body = {};
    if (req.method !== 'GET' && req.method !== 'DELETE') {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const text = Buffer.concat(chunks).toString('utf8');
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new Problem(422, 'validation_failed', 'The body is not JSON.');
        }
      }
    }
    await api(req, res, url, body);
  } catch (e) {
    if (e instanceof Problem) sendProblem(res, e);
    else {
      console.error(e);
      sendProblem(res, new Problem(500, 'unavailable', 'Internal error.'));
    }
  }
}).listen(PORT, HOST, () => console.log(`mock tradesage on http://${HOST}:${PORT} (access TTL ${ACCESS_TTL}s)`));

// What the end-to-end test files share: the server's address, Debian's headless Chromium,
// pages that record their API traffic, and the sign-in form.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BASE = (process.env.TRADESAGE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
export const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS ?? 15_000);
export const ADMIN_EMAIL = process.env.TRADESAGE_ADMIN_EMAIL;
export const ADMIN_PASSWORD = process.env.TRADESAGE_ADMIN_PASSWORD;
export const NO_ADMIN = !(ADMIN_EMAIL && ADMIN_PASSWORD) && 'TRADESAGE_ADMIN_EMAIL/PASSWORD not set';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A JSON call to the API from Node (fixtures): answers the status and the parsed body. */
export async function apiCall(method, path, { token, body } = {}) {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, data: text ? JSON.parse(text) : null };
}

/** The claims of a JWT (read, not verified: the server did that). */
export function jwtClaims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/**
 * Headless Chromium on a fresh temporary user-data-dir (removed on close); every newContext() is
 * a further isolated profile (cookies, storage, BroadcastChannel). Never downloads a browser.
 */
export async function launchBrowser() {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A page in a fresh browser context (own cookies, storage and BroadcastChannel), with a record of
 * its API traffic and console errors on `page.log`. `contextOptions` go to newContext().
 */
export async function openPage(browser, label, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...contextOptions });
  const p = await context.newPage();
  p.setDefaultTimeout(TIMEOUT);
  const log = { label, responses: [], bearers: [], consoleErrors: [], inflight: 0 };
  p.log = log;
  p.on('console', (msg) => {
    // Chromium logs every non-2xx fetch; the 401s (restore, revoked session) and 423s (lockout)
    // are expected. CSP violations and script errors are not.
    if (msg.type() === 'error' && !/status of (401|423)/.test(msg.text())) log.consoleErrors.push(msg.text());
  });
  p.on('pageerror', (err) => log.consoleErrors.push(String(err)));
  const done = (req) => {
    if (req.url().includes('/api/v1/')) log.inflight--;
  };
  p.on('requestfinished', done);
  p.on('requestfailed', done);
  p.on('request', (req) => {
    if (req.url().includes('/api/v1/')) log.inflight++;
    const auth = req.headers().authorization;
    if (req.url().includes('/api/v1/') && auth) {
      const token = auth.replace(/^Bearer /i, '');
      if (log.bearers.at(-1) !== token) log.bearers.push(token);
    }
  });
  p.on('response', (res) => {
    const url = new URL(res.url());
    if (!url.pathname.startsWith('/api/v1/')) return;
    const entry = {
      at: Date.now(),
      method: res.request().method(),
      path: url.pathname,
      status: res.status(),
      code: null,
    };
    if (res.status() >= 400) {
      entry.code = res
        .json()
        .then((b) => b?.code ?? null)
        .catch(() => null);
    }
    log.responses.push(entry);
  });
  return p;
}

/** Waits until the page has had no API call in flight for a moment. */
export async function apiIdle(p, quietMs = 150, timeoutMs = TIMEOUT) {
  const end = Date.now() + timeoutMs;
  let quietSince = Date.now();
  while (Date.now() < end) {
    if (p.log.inflight > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= quietMs) return;
    await sleep(25);
  }
  throw new Error(`${p.log.label}: API calls still in flight after ${timeoutMs} ms`);
}

export async function shot(p, name) {
  await p.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/**
 * Runs a step as a subtest; on failure saves a screenshot of `p` named after it. After a failed
 * step the remaining steps of the same test are skipped (they depend on it).
 */
export async function step(t, p, name, fn) {
  if (t.failedStep) {
    await t.test(name, { skip: `earlier step failed: ${t.failedStep}` }, () => {});
    return;
  }
  await t.test(name, async () => {
    try {
      await fn();
    } catch (err) {
      t.failedStep = name;
      await shot(p, `FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => undefined);
      throw err;
    }
  });
}

export const id = (p, testId) => p.getByTestId(testId);

export async function waitForEmail(p, email) {
  await p.waitForFunction((e) => document.querySelector('[data-testid="dashboard-email"]')?.textContent === e, email);
}

/** Fills and submits the sign-in form; answers the HTTP status of the login call. */
export async function submitLogin(p, email, password, tenant) {
  await id(p, 'login-form').waitFor();
  await id(p, 'login-email').fill(email);
  await id(p, 'login-password').fill(password);
  await id(p, 'login-tenant').fill(tenant ?? '');
  const [res] = await Promise.all([
    p.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/login' && r.request().method() === 'POST'),
    id(p, 'login-submit').click(),
  ]);
  return res.status();
}

export async function signIn(p, email, password, tenant) {
  if (!/\/login$/.test(p.url())) await p.goto(`${BASE}/login`);
  const status = await submitLogin(p, email, password, tenant);
  assert.equal(status, 200, `sign-in of ${email} answered ${status}`);
  await id(p, 'dashboard').waitFor();
  await waitForEmail(p, email);
}

// End-to-end test of the web app against a running Tradesage server, in headless Chromium.
//
//   TRADESAGE_URL=http://127.0.0.1:8080 npm run e2e
//
// Needs: the server running with the built app (web/dist) and /usr/bin/chromium
// (Debian package `chromium`; override with CHROMIUM_PATH). Screenshots go to e2e/artifacts/.
// Optional: TRADESAGE_ADMIN_EMAIL / TRADESAGE_ADMIN_PASSWORD (a platform admin) adds the
// operator-page check.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE = (process.env.TRADESAGE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS ?? 15_000);

const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const EMAIL = `e2e-${stamp}@example.com`;
const PASSWORD = `Sturdy-e2e-pass-${stamp}`;
const DISPLAY = `E2E ${stamp}`;

let browser;
let context;
let page;
const consoleErrors = [];

async function shot(name) {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

const byTestId = (id) => page.getByTestId(id);

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
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
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('console', (msg) => {
    // A 401 during session restore is expected; CSP violations and script errors are not.
    if (msg.type() === 'error' && !/status of 401/.test(msg.text())) consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
});

after(async () => {
  await browser?.close();
});

/** Runs a step; on failure saves a screenshot named after it. */
async function step(t, name, fn) {
  await t.test(name, async () => {
    try {
      await fn();
    } catch (err) {
      await shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => undefined);
      throw err;
    }
  });
}

test('web app: register, sign in, dashboard, sessions, orders, sign out', async (t) => {
  await step(t, 'anonymous visit lands on sign-in', async () => {
    await page.goto(`${BASE}/`);
    await byTestId('login-form').waitFor();
    assert.match(page.url(), /\/login$/);
    await shot('01-sign-in');
  });

  await step(t, 'register a new account (signs in)', async () => {
    await byTestId('link-register').click();
    await byTestId('register-form').waitFor();
    await byTestId('register-email').fill(EMAIL);
    await byTestId('register-display-name').fill(DISPLAY);
    await byTestId('register-password').fill('short');
    assert.equal(await byTestId('rule-min').getAttribute('data-ok'), 'false');
    await byTestId('register-password').fill(PASSWORD);
    assert.equal(await byTestId('rule-min').getAttribute('data-ok'), 'true');
    await byTestId('register-confirm').fill(PASSWORD);
    await shot('02-register');
    await byTestId('register-submit').click();
    await byTestId('dashboard').waitFor();
  });

  await step(t, 'dashboard shows who I am', async () => {
    await page.waitForFunction((email) => document.querySelector('[data-testid="dashboard-email"]')?.textContent === email, EMAIL);
    assert.equal(await byTestId('dashboard-email').textContent(), EMAIL);
    assert.match(await byTestId('dashboard-roles').textContent(), /viewer/);
    assert.match(await byTestId('dashboard-scopes').textContent(), /orders:read/);
    assert.match(await byTestId('token-countdown').textContent(), /^\d+:\d\d(:\d\d)?$/);
    await shot('03-dashboard');
  });

  await step(t, 'no token in Web Storage', async () => {
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.doesNotMatch(stored, /eyJ/, 'a JWT was found in localStorage/sessionStorage');
  });

  await step(t, 'sessions page lists the current session', async () => {
    await byTestId('nav-sessions').click();
    await byTestId('sessions-list').waitFor();
    const rows = await byTestId('session-row').count();
    assert.ok(rows >= 1, `expected at least one session, got ${rows}`);
    assert.equal(await byTestId('session-current-badge').count(), 1);
    await shot('04-sessions');
  });

  await step(t, 'orders page renders; the place form follows orders:write', async () => {
    await byTestId('nav-orders').click();
    await byTestId('orders-page').waitFor();
    // Either the list, its empty state or an error banner ends the loading state.
    await page.waitForSelector('[data-testid="orders-table"], [data-testid="orders-empty"], [data-testid="alert-error"]');
    assert.equal(await byTestId('alert-error').count(), 0, 'orders failed to load');
    const canWrite = (await byTestId('order-form').count()) > 0;
    if (canWrite) {
      await byTestId('order-symbol').fill('ACME');
      await byTestId('order-quantity').fill('3');
      await byTestId('order-price').fill('12.50');
      await byTestId('order-submit').click();
      await byTestId('order-row').first().waitFor();
    } else {
      // New users are viewers: orders:read only.
      await byTestId('orders-readonly-note').waitFor();
      assert.equal(await byTestId('order-form').count(), 0);
    }
    await shot('05-orders');
  });

  await step(t, 'profile: change display name', async () => {
    await byTestId('nav-profile').click();
    await byTestId('profile-form').waitFor();
    await byTestId('profile-display-name').fill(`${DISPLAY} renamed`);
    await byTestId('profile-save').click();
    await byTestId('profile-message').waitFor();
    assert.match(await byTestId('profile-message').textContent(), /saved/i);
  });

  await step(t, 'reload restores the session from the refresh cookie', async () => {
    await page.goto(`${BASE}/`);
    await byTestId('dashboard').waitFor();
    await page.waitForFunction((email) => document.querySelector('[data-testid="dashboard-email"]')?.textContent === email, EMAIL);
  });

  await step(t, 'phone-width layout', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await byTestId('nav-menu-toggle').click();
    await byTestId('nav-sessions-mobile').waitFor();
    await shot('06-dashboard-phone');
    await byTestId('nav-menu-toggle').click();
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  await step(t, 'sign out returns to sign-in and stays signed out after reload', async () => {
    await byTestId('signout-button').click();
    await byTestId('login-form').waitFor();
    await byTestId('login-notice').waitFor();
    await page.reload();
    await byTestId('login-form').waitFor();
    assert.match(page.url(), /\/login$/);
  });

  await step(t, 'sign in with the form', async () => {
    await byTestId('login-email').fill(EMAIL);
    await byTestId('login-password').fill('wrong-password-123');
    await byTestId('login-submit').click();
    await byTestId('login-error').waitFor();
    await shot('07-sign-in-error');
    await byTestId('login-password').fill(PASSWORD);
    await byTestId('login-submit').click();
    await byTestId('dashboard').waitFor();
    await page.waitForFunction((email) => document.querySelector('[data-testid="dashboard-email"]')?.textContent === email, EMAIL);
  });

  await step(t, 'sign out', async () => {
    await byTestId('signout-button').click();
    await byTestId('login-form').waitFor();
    await shot('08-signed-out');
  });

  await step(t, 'no script or CSP errors in the console', async () => {
    assert.deepEqual(consoleErrors, []);
  });
});

test('web app: operator page (platform admin)', { skip: !(process.env.TRADESAGE_ADMIN_EMAIL && process.env.TRADESAGE_ADMIN_PASSWORD) && 'TRADESAGE_ADMIN_EMAIL/PASSWORD not set' }, async (t) => {
  await step(t, 'platform admin signs in', async () => {
    await page.goto(`${BASE}/login`);
    await byTestId('login-email').fill(process.env.TRADESAGE_ADMIN_EMAIL);
    await byTestId('login-password').fill(process.env.TRADESAGE_ADMIN_PASSWORD);
    await byTestId('login-tenant').fill('platform');
    await byTestId('login-submit').click();
    await byTestId('dashboard').waitFor();
  });

  await step(t, 'operator page shows the supervision tree', async () => {
    await byTestId('nav-operator').click();
    await byTestId('actors-kinds').waitFor();
    const kinds = await page.locator('[data-testid="actor-kind-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
    assert.ok(kinds.includes('session'), `kinds: ${kinds.join(',')}`);
    assert.ok(kinds.includes('lockout'), `kinds: ${kinds.join(',')}`);
    const first = await byTestId('operator-updated').textContent();
    await page.waitForFunction((prev) => document.querySelector('[data-testid="operator-updated"]')?.textContent !== prev, first, { timeout: 6000 });
    await shot('09-operator');
  });

  await step(t, 'admin pages render', async () => {
    await byTestId('nav-admin').click();
    await byTestId('users-table').waitFor();
    await byTestId('admin-tab-audit').click();
    await page.waitForSelector('[data-testid="audit-table"], [data-testid="audit-empty"]');
    await shot('10-audit');
    await byTestId('admin-tab-lockouts').click();
    await page.waitForSelector('[data-testid="lockouts-table"], [data-testid="lockouts-empty"]');
    await byTestId('signout-button').click();
    await byTestId('login-form').waitFor();
  });
});

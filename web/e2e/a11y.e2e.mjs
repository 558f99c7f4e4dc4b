// The phone, accessibility and keyboard sweep: every route of the app's route table
// (src/routes.ts), at 390 px and at 1280 px, signed out and signed in as each role, in headless
// Chromium against a running server (scripts/e2e.sh starts it). At each stop:
//   - the document does not scroll sideways (scrollWidth <= clientWidth) and no text is cut off;
//   - axe-core (from node_modules, injected with addScriptTag) finds no WCAG 2.1 A/AA violation;
//   - Tab alone reaches every control, and each shows where the focus is.
// Signed in, at 390 px, the menu button opens the navigation and its links work from the keyboard.
//
// A new route is walked as soon as it is in the route table; one with a parameter (`:id`) or the
// catch-all needs a sample URL in SAMPLES below, or the sweep fails saying so. Each route must be
// seen as itself (not "No access", not redirected) by at least one role.
//
// Needs the platform admin of scripts/e2e.sh (TRADESAGE_ADMIN_EMAIL/PASSWORD): it creates a tenant
// admin, a trader and a viewer in tenant `default`, and some orders and lockouts to fill tables.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  BASE,
  NO_ADMIN,
  apiCall as call,
  apiIdle,
  id,
  launchBrowser,
  openPage,
  shot,
  submitLogin,
} from './browser.mjs';
import {
  assertAxeInstalled,
  axeViolations,
  focusTop,
  keyboardProblems,
  layoutProblems,
  loadRouteTable,
  tabTo,
} from './checks.mjs';
import { stepAt, totp } from './totp.mjs';

const WIDTHS = [
  { width: 390, height: 844 },
  { width: 1280, height: 860 },
];
const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const PASSWORD = `Sturdy-a11y-pass-${stamp}`;
/** A user with two-factor on, so that the sign-in page's second step is checked too. */
const MFA_EMAIL = `a11y-mfa-${stamp}@example.com`;

/** Sample URLs of the routes whose path alone is not a URL, from what the sweep knows (`ctx`). */
const SAMPLES = {
  '/admin/users/:id': (ctx) => `/admin/users/${ctx.userId}`,
  '*': () => '/no-such-page',
};

/**
 * Further states of a page that only an action shows (forms opened, validation errors, a
 * question): each is checked too, where the role has the control (`data-testid`) that opens it;
 * `then` goes on from there. The page is visited afresh afterwards.
 */
const STATES = {
  '/login': [
    {
      name: 'two-factor second step',
      control: 'login-email',
      then: async (page) => {
        await id(page, 'login-email').fill(MFA_EMAIL);
        await id(page, 'login-password').fill(PASSWORD);
        await id(page, 'login-submit').click();
        await id(page, 'mfa-form').waitFor();
      },
    },
  ],
  '/register': [{ name: 'errors', control: 'register-submit' }],
  '/security': [
    {
      name: 'set up: QR code and key',
      control: 'mfa-enrol-password',
      then: async (page, role) => {
        await id(page, 'mfa-enrol-password').fill(role.password);
        await id(page, 'mfa-enrol-start').click();
        await id(page, 'mfa-qr').waitFor();
      },
    },
  ],
  '/sessions': [{ name: 'sign out everywhere?', control: 'logout-all' }],
  '/api-keys': [
    { name: 'errors', control: 'api-key-submit' },
    {
      name: 'the new key, shown once',
      control: 'api-key-name-input',
      then: async (page) => {
        await id(page, 'api-key-name-input').fill('a11y sweep');
        await id(page, 'api-key-submit').click();
        await id(page, 'api-key-value').waitFor();
      },
    },
  ],
  '/orders': [{ name: 'errors', control: 'order-submit' }],
  '/admin/users': [
    { name: 'new user, errors', control: 'user-create-toggle', then: (page) => id(page, 'user-create-submit').click() },
  ],
  '/admin/tenants': [{ name: 'rename', control: 'tenant-rename' }],
  '/operator': [{ name: 'a chart as a table', control: 'chart-live-table-toggle' }],
};

/** The roles, in sweep order; `userId` is filled in by the fixtures. */
const ROLES = [
  { name: 'signed out' },
  { name: 'platform admin', email: ADMIN_EMAIL, password: ADMIN_PASSWORD, tenant: 'platform' },
  { name: 'tenant admin', email: `a11y-admin-${stamp}@example.com`, password: PASSWORD, roles: ['admin'] },
  { name: 'trader', email: `a11y-trader-${stamp}@example.com`, password: PASSWORD, roles: ['trader'] },
  { name: 'viewer', email: `a11y-viewer-${stamp}@example.com`, password: PASSWORD, roles: ['viewer'] },
];

let browser;
let routeTable;

async function login(email, password, tenant) {
  const res = await call('POST', '/auth/login', { body: { email, password, tenant, token_delivery: 'body' } });
  return res;
}

/** The URL the sweep visits for a route, or an error naming what is missing. */
function sampleUrl(route, ctx) {
  if (!route.path.includes(':') && route.path !== '*') return route.path;
  const sample = SAMPLES[route.path];
  if (!sample) {
    throw new Error(
      `route ${route.id} (${route.path}) has no sample URL: add one to SAMPLES in e2e/a11y.e2e.mjs so the sweep can check it`,
    );
  }
  return sample(ctx);
}

/** Client-side navigation (as a click on a link does): no reload, axe stays injected. */
async function navigate(page, url) {
  await page.evaluate((u) => {
    window.history.pushState({}, '', u);
    window.dispatchEvent(new PopStateEvent('popstate'));
  }, url);
}

/** The page has its data: no API call in flight, no loading indicator, a main landmark. */
async function settle(page) {
  await apiIdle(page);
  await page.waitForFunction(
    () => !document.querySelector('[data-testid="loading"]') && document.querySelector('main'),
  );
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** What the page shows now, to tell a route seen as itself from "No access" or a redirect. */
function shown(page) {
  return page.evaluate(() => ({
    path: window.location.pathname,
    noAccess: !!document.querySelector('[data-testid="no-access"]'),
    notFound: !!document.querySelector('[data-testid="not-found"]'),
    links: [...document.querySelectorAll('a[href^="/"]')].map((a) => new URL(a.href).pathname),
  }));
}

/** Runs every check on the page as it is; answers the problems found, each labelled. */
async function checkHere(page, where, totals) {
  const problems = [];
  const layout = await layoutProblems(page);
  totals.sideways += layout.filter((p) => p.startsWith('the page scrolls sideways')).length;
  problems.push(...layout);
  const violations = await axeViolations(page);
  totals.violations += violations.length;
  problems.push(...violations.map((v) => `axe ${v.id} (${v.impact}): ${v.help} — ${v.nodes.join(' | ')}`));
  problems.push(...(await keyboardProblems(page)));
  totals.stops++;
  if (problems.length > 0) {
    await shot(page, `A11Y-${where.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => undefined);
  }
  return problems.map((p) => `${where}: ${p}`);
}

before(async () => {
  await assertAxeInstalled();
  routeTable = await loadRouteTable();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('the checks find what they look for (a page built to fail each)', { timeout: 60_000 }, async () => {
  const page = await openPage(browser, 'a11y self-check', { viewport: WIDTHS[0] });
  await page.setContent(`<!doctype html><html lang="en"><head><title>bad</title>
    <style>.plain:focus { outline: none; box-shadow: none; } .wide { width: 600px; }
      .clip { width: 40px; overflow: hidden; white-space: nowrap; }</style></head>
    <body><main>
      <h1>Bad page</h1>
      <div class="wide">wider than a phone</div>
      <p class="clip">this text is cut off</p>
      <p style="color: #bbb">too faint</p>
      <button class="plain">no focus ring</button>
      <div style="overflow: auto; width: 100px; height: 40px"><p style="width: 400px">scrolls, cannot be focused</p></div>
      <button aria-label="Delete">Open sign-up</button>
      <button tabindex="-1">out of the tab order</button>
    </main></body></html>`);
  const layout = await layoutProblems(page);
  assert.ok(
    layout.some((p) => p.startsWith('the page scrolls sideways: 6')),
    layout.join('\n'),
  );
  assert.ok(
    layout.some((p) => p.startsWith('text cut off')),
    layout.join('\n'),
  );
  const axe = (await axeViolations(page)).map((v) => v.id);
  for (const rule of ['color-contrast', 'scrollable-region-focusable', 'label-content-name-mismatch']) {
    assert.ok(axe.includes(rule), `axe did not report ${rule}: ${axe.join(', ')}`);
  }
  const keyboard = await keyboardProblems(page);
  assert.ok(
    keyboard.some((p) => p.startsWith('no visible focus on <button> "no focus ring"')),
    keyboard.join('\n'),
  );
  assert.ok(
    keyboard.some((p) => /not reached with Tab: .*out of the tab order/.test(p)),
    keyboard.join('\n'),
  );
  await page.context().close();
});

test(
  'every route at 390 and 1280 px, signed out and as each role: fits, no axe violation, keyboard',
  { timeout: 600_000, skip: NO_ADMIN },
  async (t) => {
    const started = Date.now();
    const routes = routeTable.ROUTES;

    // Fixtures: the roles' users (tenant default), orders, and lockouts in both tenants.
    const admin = await login(ADMIN_EMAIL, ADMIN_PASSWORD, 'platform');
    assert.equal(admin.status, 200, `platform admin sign-in: ${JSON.stringify(admin.data)}`);
    const adminToken = admin.data.access_token;
    ROLES[1].userId = admin.data.user.id;
    for (const role of ROLES.filter((r) => r.roles)) {
      const res = await call('POST', '/admin/users?tenant=default', {
        token: adminToken,
        body: { email: role.email, password: role.password, roles: role.roles, display_name: `A11y ${role.name}` },
      });
      assert.equal(res.status, 201, `create ${role.name}: ${JSON.stringify(res.data)}`);
      role.userId = res.data.id;
    }
    const trader = ROLES.find((r) => r.name === 'trader');
    const traderLogin = await login(trader.email, trader.password);
    assert.equal(traderLogin.status, 200);
    for (const [symbol, side, quantity, limit_price] of [
      ['AAPL', 'buy', '10', '187.25'],
      ['BRK.B', 'sell', '2.5', '412.10'],
    ]) {
      const res = await call('POST', '/orders', {
        token: traderLogin.data.access_token,
        body: { symbol, side, quantity, limit_price },
      });
      assert.equal(res.status, 201, `place order: ${JSON.stringify(res.data)}`);
    }
    // A user with two-factor on (its first code computed here, as an authenticator app would).
    const mfaUser = await call('POST', '/admin/users?tenant=default', {
      token: adminToken,
      body: { email: MFA_EMAIL, password: PASSWORD, roles: ['viewer'], display_name: 'A11y two-factor' },
    });
    assert.equal(mfaUser.status, 201, `create the two-factor user: ${JSON.stringify(mfaUser.data)}`);
    const mfaToken = (await login(MFA_EMAIL, PASSWORD)).data.access_token;
    const enrolled = await call('POST', '/users/me/mfa/totp', { token: mfaToken, body: { password: PASSWORD } });
    assert.equal(enrolled.status, 200);
    const confirmed = await call('POST', '/users/me/mfa/totp/confirm', {
      token: mfaToken,
      body: { code: totp(enrolled.data.secret, stepAt()) },
    });
    assert.equal(confirmed.status, 200, `two-factor on: ${JSON.stringify(confirmed.data)}`);
    for (const tenant of ['default', 'platform']) {
      const res = await login(`a11y-nobody-${stamp}@example.com`, 'not-the-password', tenant);
      assert.equal(res.status, 401);
    }

    for (const route of routes) {
      if (route.path.includes(':') || route.path === '*') sampleUrl(route, { userId: 'x' }); // fails early if missing
    }

    const totals = { stops: 0, violations: 0, sideways: 0 };
    const failures = [];
    /** route id → roles that saw the route as itself. */
    const seenAsItself = new Map(routes.map((r) => [r.id, []]));
    const links = new Set();

    for (const role of ROLES) {
      const page = await openPage(browser, `a11y ${role.name}`, { bypassCSP: true });
      await t.test(role.name, async () => {
        // axe is injected as a script tag, which the server's CSP (script-src 'self') would refuse;
        // this context bypasses CSP for that. app.e2e.mjs checks the app under the real CSP.
        await page.goto(`${BASE}/login`);
        if (role.email) {
          assert.equal(await submitLogin(page, role.email, role.password, role.tenant), 200, `sign-in as ${role.name}`);
          await id(page, 'dashboard').waitFor();
        } else {
          await id(page, 'login-form').waitFor();
        }
        for (const [i, route] of routes.entries()) {
          const url = sampleUrl(route, role);
          await navigate(page, url);
          // Alternate the order of the widths so that each route costs one resize.
          const widths = i % 2 === 0 ? WIDTHS : [...WIDTHS].reverse();
          for (const size of widths) {
            await page.setViewportSize(size);
            await settle(page);
            failures.push(...(await checkHere(page, `${role.name} ${size.width}px ${url}`, totals)));
          }
          const s = await shown(page);
          s.links.forEach((l) => links.add(l));
          const target = route.redirect ? `${route.path}/${route.redirect}` : url;
          const itself =
            route.path === '*' ? s.notFound : s.path === new URL(target, BASE).pathname && !s.noAccess && !s.notFound;
          if (itself) seenAsItself.get(route.id).push(role.name);
          for (const state of STATES[route.path] ?? []) {
            const where = `${role.name} ${page.viewportSize().width}px ${url} (${state.name})`;
            const control = id(page, state.control).first();
            if ((await control.count()) === 0) continue; // this role has no such control here
            await control.click();
            await state.then?.(page, role);
            await settle(page);
            failures.push(...(await checkHere(page, where, totals)));
            await navigate(page, '/no-such-page');
            await navigate(page, url);
            await settle(page);
          }
        }
        if (role.email) {
          // At phone width the navigation sits behind the menu button: open it and follow a link
          // with the keyboard alone.
          const where = `${role.name} 390px menu`;
          await page.setViewportSize(WIDTHS[0]);
          await navigate(page, '/');
          await settle(page);
          await focusTop(page);
          const toggle = id(page, 'nav-menu-toggle');
          const link = id(page, 'nav-sessions-mobile');
          if (!(await tabTo(page, toggle))) {
            failures.push(`${where}: Tab does not reach the menu button`);
          } else {
            await page.keyboard.press('Enter');
            if ((await toggle.getAttribute('aria-expanded')) !== 'true' || !(await link.isVisible())) {
              failures.push(`${where}: Enter on the menu button does not open the menu`);
            } else {
              failures.push(...(await checkHere(page, `${where} open`, totals)));
              await toggle.focus();
              await page.keyboard.press('Escape');
              const closed = (await toggle.getAttribute('aria-expanded')) === 'false' && (await link.count()) === 0;
              const back = await toggle.evaluate((el) => el === document.activeElement);
              if (!closed || !back) failures.push(`${where}: Escape does not close the menu and return to its button`);
              await page.keyboard.press('Enter');
              if (!(await tabTo(page, link))) {
                failures.push(`${where}: Tab does not reach the menu's links`);
              } else {
                await page.keyboard.press('Enter');
                await page.waitForURL(/\/sessions$/);
                await link.waitFor({ state: 'detached' });
              }
            }
          }
        }
      });
      await page.context().close();
    }

    const unknownLinks = [...links].filter((l) => {
      const matches = (path) => new RegExp(`^${path.replace(/:[^/]+/g, '[^/]+')}$`).test(l);
      return !routes.some((r) => r.path !== '*' && matches(r.path));
    });
    const unseen = routes.filter((r) => seenAsItself.get(r.id).length === 0).map((r) => `${r.id} (${r.path})`);
    const seconds = Math.round((Date.now() - started) / 1000);
    t.diagnostic(
      `${routes.length} routes × ${WIDTHS.length} widths × ${ROLES.length} roles (signed out included): ` +
        `${totals.stops} stops, ${totals.violations} axe violations, ${totals.sideways} sideways scrolls, ${seconds} s`,
    );
    assert.deepEqual(unknownLinks, [], 'links to paths that no route of the table matches');
    assert.deepEqual(unseen, [], 'routes that no role saw as themselves');
    assert.deepEqual(failures, []);
  },
);

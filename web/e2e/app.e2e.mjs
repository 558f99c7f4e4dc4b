// End-to-end tests of the web app against a running Tradesage server, in headless Chromium.
//
//   TRADESAGE_URL=http://127.0.0.1:8080 npm run e2e        (scripts/e2e.sh starts the server)
//
// Needs: the server running with the built app (web/dist) and /usr/bin/chromium (Debian package
// `chromium`; override with CHROMIUM_PATH; no browser is ever downloaded). Screenshots go to
// e2e/artifacts/ (gitignored), a FAILED-*.png for each failed step.
//
// Some steps rely on the server's configuration as scripts/e2e.sh sets it:
//   ACCESS_TOKEN_TTL=5s (E2E_ACCESS_TTL_S)    the app must keep working across token expiries
//   LOCKOUT_THRESHOLD=3 (E2E_LOCKOUT_THRESHOLD), first ladder step 30 s
//   TRADESAGE_ADMIN_EMAIL / TRADESAGE_ADMIN_PASSWORD, a platform admin: the admin and operator
//   tests (skipped without them).
//
// The tests share state and run in order: one user ("A") registers in the main browser context,
// a second context signs A in again (sessions), a third is the platform admin, a fourth signs a
// second user in (operator page).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  BASE,
  NO_ADMIN,
  apiIdle,
  id,
  launchBrowser,
  openPage as openBrowserPage,
  shot,
  signIn,
  sleep,
  step,
  submitLogin,
  waitForEmail,
} from './browser.mjs';

const ACCESS_TTL_S = Number(process.env.E2E_ACCESS_TTL_S ?? 5);
const LOCKOUT_THRESHOLD = Number(process.env.E2E_LOCKOUT_THRESHOLD ?? 3);
const TEST_TIMEOUT = 180_000;

const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const EMAIL = `e2e-${stamp}@example.com`;
const PASSWORD = `Sturdy-e2e-pass-${stamp}`;
const DISPLAY = `E2E ${stamp}`;
const EMAIL_B = `e2e-b-${stamp}@example.com`;
const PASSWORD_B = `Sturdy-e2e-pass-b-${stamp}`;

let browser;
/** Every page opened, for the console check and the final clean-up. */
const pages = [];
/** The main context: user A. */
let page;

/** A page in a fresh browser context, kept for the console check and the clean-up. */
async function openPage(label) {
  const p = await openBrowserPage(browser, label);
  pages.push(p);
  return p;
}

/** No error banner and no sign-in form on the page right now. */
async function assertNoHiccup(p, where) {
  assert.equal(await id(p, 'login-form').count(), 0, `${where}: the sign-in page showed up`);
  assert.doesNotMatch(new URL(p.url()).pathname, /^\/login/, `${where}: redirected to sign-in`);
  assert.equal(await id(p, 'alert-error').count(), 0, `${where}: an error banner showed up`);
  assert.equal(await id(p, 'alert-warning').count(), 0, `${where}: a warning banner showed up`);
}

/** "0:28" / "1:02:05" → seconds. */
function countdownSeconds(text) {
  const parts = text.trim().split(':').map(Number);
  assert.ok(parts.length >= 2 && parts.every(Number.isInteger), `not a countdown: ${JSON.stringify(text)}`);
  return parts.reduce((acc, n) => acc * 60 + n, 0);
}

before(async () => {
  browser = await launchBrowser();
  page = await openPage('user A');
});

after(async () => {
  await browser?.close();
});

test('register and sign in; pages of a signed-in user', { timeout: TEST_TIMEOUT }, async (t) => {
  await step(t, page, 'anonymous visit lands on sign-in', async () => {
    await page.goto(`${BASE}/`);
    await id(page, 'login-form').waitFor();
    assert.match(page.url(), /\/login$/);
    await shot(page, '01-sign-in');
  });

  await step(t, page, 'register a new account (signs in)', async () => {
    await id(page, 'link-register').click();
    await id(page, 'register-form').waitFor();
    await id(page, 'register-email').fill(EMAIL);
    await id(page, 'register-display-name').fill(DISPLAY);
    await id(page, 'register-password').fill('short');
    assert.equal(await id(page, 'rule-min').getAttribute('data-ok'), 'false');
    await id(page, 'register-password').fill(PASSWORD);
    assert.equal(await id(page, 'rule-min').getAttribute('data-ok'), 'true');
    await id(page, 'register-confirm').fill(PASSWORD);
    await shot(page, '02-register');
    const [res] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/register'),
      id(page, 'register-submit').click(),
    ]);
    assert.equal(res.status(), 201);
    await id(page, 'dashboard').waitFor();
  });

  await step(t, page, 'dashboard shows who I am', async () => {
    await waitForEmail(page, EMAIL);
    assert.match(await id(page, 'dashboard-roles').textContent(), /viewer/);
    assert.match(await id(page, 'dashboard-scopes').textContent(), /orders:read/);
    assert.match(await id(page, 'token-countdown').textContent(), /^\d+:\d\d(:\d\d)?$/);
    assert.match(await id(page, 'dashboard-session-id').textContent(), /^[0-9a-f-]{36}$/);
    await shot(page, '03-dashboard');
  });

  await step(t, page, 'no token in Web Storage or readable cookies', async () => {
    const stored = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie,
    );
    assert.doesNotMatch(stored, /eyJ/, 'a JWT was found in Web Storage or document.cookie');
    const cookies = await page.context().cookies(`${BASE}/api/v1/auth/refresh`);
    const refresh = cookies.find((c) => c.name === 'refresh_token');
    assert.ok(refresh, 'no refresh_token cookie');
    assert.equal(refresh.httpOnly, true);
    assert.equal(refresh.sameSite, 'Strict');
    assert.equal(refresh.path, '/api/v1/auth');
  });

  await step(t, page, 'sessions page lists the current session', async () => {
    await id(page, 'nav-sessions').click();
    await id(page, 'sessions-list').waitFor();
    assert.equal(await id(page, 'session-row').count(), 1);
    assert.equal(await id(page, 'session-current-badge').count(), 1);
    await shot(page, '04-sessions');
  });

  await step(t, page, 'orders page renders; the place form follows orders:write', async () => {
    await id(page, 'nav-orders').click();
    await id(page, 'orders-page').waitFor();
    await page.waitForSelector(
      '[data-testid="orders-table"], [data-testid="orders-empty"], [data-testid="alert-error"]',
    );
    assert.equal(await id(page, 'alert-error').count(), 0, 'orders failed to load');
    // New users are viewers: orders:read only.
    await id(page, 'orders-readonly-note').waitFor();
    assert.equal(await id(page, 'order-form').count(), 0);
    await shot(page, '05-orders');
  });

  await step(t, page, 'profile: change display name', async () => {
    await id(page, 'nav-profile').click();
    await id(page, 'profile-form').waitFor();
    await id(page, 'profile-display-name').fill(`${DISPLAY} renamed`);
    const [res] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/users/me' && r.request().method() === 'PATCH'),
      id(page, 'profile-save').click(),
    ]);
    assert.equal(res.status(), 200);
    assert.equal((await res.json()).display_name, `${DISPLAY} renamed`);
    await id(page, 'profile-message').waitFor();
    assert.match(await id(page, 'profile-message').textContent(), /saved/i);
    await shot(page, '06-profile');
  });

  await step(t, page, 'reload restores the session from the refresh cookie', async () => {
    await page.goto(`${BASE}/`);
    await id(page, 'dashboard').waitFor();
    await waitForEmail(page, EMAIL);
  });

  await step(t, page, 'phone-width layout', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await id(page, 'nav-menu-toggle').click();
    await id(page, 'nav-sessions-mobile').waitFor();
    await shot(page, '07-dashboard-phone');
    await id(page, 'nav-menu-toggle').click();
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  await step(t, page, 'sign out returns to sign-in and stays signed out after reload', async () => {
    await id(page, 'signout-button').click();
    await id(page, 'login-form').waitFor();
    await id(page, 'login-notice').waitFor();
    await page.reload();
    await id(page, 'login-form').waitFor();
    assert.match(page.url(), /\/login$/);
  });

  await step(t, page, 'sign in with the form (a wrong password first)', async () => {
    assert.equal(await submitLogin(page, EMAIL, 'wrong-password-123'), 401);
    await id(page, 'login-error').waitFor();
    assert.match(await id(page, 'login-error').textContent(), /incorrect/i);
    await shot(page, '08-sign-in-error');
    await signIn(page, EMAIL, PASSWORD);
  });
});

test(
  `short-lived access token (${ACCESS_TTL_S}s): the user keeps working past expiry`,
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const routes = [
      ['nav-orders', '[data-testid="orders-table"], [data-testid="orders-empty"], [data-testid="alert-error"]'],
      ['nav-sessions', '[data-testid="sessions-list"], [data-testid="alert-error"]'],
      ['nav-profile', '[data-testid="profile-form"]'],
      ['nav-dashboard', '[data-testid="dashboard-email"]'],
    ];
    const spanMs = Math.max(12_000, ACCESS_TTL_S * 2400);

    await step(t, page, `navigate between pages for ${spanMs / 1000} s without a hiccup`, async () => {
      const from = page.log.responses.length;
      const bearersFrom = page.log.bearers.length;
      const start = Date.now();
      let visits = 0;
      while (Date.now() - start < spanMs) {
        const [nav, ready] = routes[visits++ % routes.length];
        await id(page, nav).click();
        await page.waitForSelector(ready);
        // Let the page's calls (and any refresh + replay) settle before looking for banners.
        await apiIdle(page);
        await assertNoHiccup(page, `visit ${visits} (${nav}) at ${((Date.now() - start) / 1000).toFixed(1)} s`);
        await sleep(400);
      }
      await id(page, 'nav-dashboard').click();
      await waitForEmail(page, EMAIL);
      await assertNoHiccup(page, 'the end');

      const seen = page.log.responses.slice(from);
      const refreshes = seen.filter((r) => r.path === '/api/v1/auth/refresh');
      const failedRefreshes = refreshes.filter((r) => r.status !== 200);
      // One renewal per TTL at the very least (the app renews ahead of expiry, so more).
      const expectedMin = Math.max(1, Math.floor(spanMs / 1000 / ACCESS_TTL_S));
      t.diagnostic(
        `${visits} page visits, ${seen.length} API calls, ${refreshes.length} refreshes, ` +
          `${seen.filter((r) => r.status === 401 && r.path !== '/api/v1/auth/refresh').length} replayed 401s, ` +
          `${page.log.bearers.length - bearersFrom + 1} access tokens`,
      );
      assert.ok(
        refreshes.length >= expectedMin,
        `expected at least ${expectedMin} refresh calls in ${spanMs} ms, saw ${refreshes.length}`,
      );
      assert.deepEqual(failedRefreshes, [], 'a refresh call failed');
      assert.ok(page.log.bearers.length - bearersFrom >= expectedMin, 'the access token was never replaced');
      // Every call the pages made ended well (a 401 token_expired is replayed after the refresh).
      const failed = seen.filter((r) => r.status >= 400 && r.status !== 401);
      assert.deepEqual(failed, [], 'API calls failed');
      await shot(page, '09-after-token-expiries');
    });
  },
);

test(
  'sessions page ends another session; that tab is signed out on its next request',
  { timeout: TEST_TIMEOUT },
  async (t) => {
    let other;
    let otherSession;
    /** The other tab's calls from the moment its session is ended. */
    let otherFrom = 0;

    await step(t, page, 'the same user signs in from a second browser', async () => {
      other = await openPage('user A, second browser');
      await signIn(other, EMAIL, PASSWORD);
      otherSession = (await id(other, 'dashboard-session-id').textContent()).trim();
      const mine = (await id(page, 'dashboard-session-id').textContent()).trim();
      assert.match(otherSession, /^[0-9a-f-]{36}$/);
      assert.notEqual(otherSession, mine);
    });

    await step(t, page, 'the sessions page lists both; end the other one', async () => {
      await id(page, 'nav-sessions').click();
      await id(page, 'sessions-list').waitFor();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="session-row"]').length === 2);
      const row = page.locator(`[data-testid="session-row"][data-session-id="${otherSession}"]`);
      assert.equal(await row.getAttribute('data-current'), 'false');
      assert.equal(await page.locator('[data-testid="session-row"][data-current="true"]').count(), 1);
      await shot(page, '10-sessions-two');
      otherFrom = other.log.responses.length;
      const [res] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/auth/sessions/${otherSession}`),
        row.getByTestId('session-end').click(),
      ]);
      assert.equal(res.status(), 204);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="session-row"]').length === 1);
      assert.equal(await page.locator(`[data-testid="session-row"][data-session-id="${otherSession}"]`).count(), 0);
      await assertNoHiccup(page, 'sessions page after ending the other session');
    });

    await step(t, other, 'the other tab is signed out on its next request', async () => {
      // The next request: an in-app navigation (unless its token renewal came first).
      await id(other, 'nav-orders')
        .click({ timeout: 2000 })
        .catch(() => undefined);
      await id(other, 'login-form').waitFor();
      assert.match(other.url(), /\/login$/);
      await id(other, 'login-notice').waitFor();
      assert.match(await id(other, 'login-notice').textContent(), /session was ended|session has ended/i);
      const refused = other.log.responses.slice(otherFrom).filter((r) => r.status === 401);
      assert.ok(refused.length >= 1, 'no call of the other tab was refused');
      const codes = await Promise.all(refused.map((r) => r.code));
      assert.ok(codes.includes('session_revoked'), `codes: ${codes.join(',')}`);
      await shot(other, '11-other-tab-signed-out');
      // It stays signed out: the refresh cookie belongs to the ended session.
      await other.reload();
      await id(other, 'login-form').waitFor();
    });

    await step(t, page, 'this tab is still signed in', async () => {
      await id(page, 'nav-dashboard').click();
      await waitForEmail(page, EMAIL);
      await assertNoHiccup(page, 'dashboard');
    });
  },
);

test(
  `lockout: ${LOCKOUT_THRESHOLD} wrong passwords lock the account with a countdown`,
  { timeout: TEST_TIMEOUT },
  async (t) => {
    await step(t, page, 'sign out', async () => {
      await id(page, 'signout-button').click();
      await id(page, 'login-form').waitFor();
    });

    await step(
      t,
      page,
      `${LOCKOUT_THRESHOLD - 1} wrong passwords answer 401, the next 423 with a countdown`,
      async () => {
        for (let i = 1; i < LOCKOUT_THRESHOLD; i++) {
          assert.equal(await submitLogin(page, EMAIL, `wrong-password-${i}`), 401, `attempt ${i}`);
          await id(page, 'login-error').waitFor();
        }
        assert.equal(await submitLogin(page, EMAIL, `wrong-password-${LOCKOUT_THRESHOLD}`), 423);
        await id(page, 'login-locked').waitFor();
        assert.equal(await id(page, 'login-error').count(), 0);
        assert.equal(
          await id(page, 'login-submit').isDisabled(),
          true,
          'the submit button must wait for the countdown',
        );
        const first = countdownSeconds(await id(page, 'login-countdown').textContent());
        assert.ok(first > 5 && first <= 30, `countdown starts at ${first}s`);
        // Screen readers hear of it from a live region, not from the ticking text itself.
        assert.match(await id(page, 'login-countdown-announcer').textContent(), /locked.*try again in \d+ seconds/);
        await shot(page, '12-lockout-countdown');
        await sleep(2500);
        const later = countdownSeconds(await id(page, 'login-countdown').textContent());
        assert.ok(later < first, `the countdown did not decrease: ${first}s then ${later}s`);
        assert.ok(later >= first - 4, `the countdown ran too fast: ${first}s then ${later}s`);
      },
    );

    await step(t, page, 'while locked even the right password answers 423', async () => {
      await page.reload();
      assert.equal(await submitLogin(page, EMAIL, PASSWORD), 423);
      await id(page, 'login-locked').waitFor();
      assert.match(page.url(), /\/login$/);
    });
  },
);

test(
  'admin (platform, acting on tenant default) unlocks the user, who can then sign in',
  { timeout: TEST_TIMEOUT, skip: NO_ADMIN },
  async (t) => {
    let admin;

    await step(t, page, 'the platform admin signs in with tenant "platform"', async () => {
      admin = await openPage('platform admin');
      await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD, 'platform');
      assert.match(await id(admin, 'dashboard-scopes').textContent(), /tenants:manage/);
    });

    await step(t, admin, 'users of tenant default (tenant picker): the user shows as locked', async () => {
      await id(admin, 'nav-admin').click();
      await id(admin, 'admin-page').waitFor();
      await id(admin, 'users-table').waitFor();
      // Own tenant (platform) first: user A is not there.
      assert.equal(await admin.locator(`[data-testid="user-row"][data-email="${EMAIL}"]`).count(), 0);
      await id(admin, 'admin-tenant-select').selectOption('default');
      await admin.waitForURL(/[?&]tenant=default\b/);
      const row = admin.locator(`[data-testid="user-row"][data-email="${EMAIL}"]`);
      await row.waitFor();
      await admin.waitForFunction(
        (e) =>
          document.querySelector(`[data-testid="user-row"][data-email="${e}"]`)?.getAttribute('data-locked') === 'true',
        EMAIL,
      );
      assert.equal(await row.getByTestId('user-locked-badge').count(), 1);
      await shot(admin, '13-admin-users-default');
    });

    await step(t, admin, 'user detail page', async () => {
      await admin.locator(`[data-testid="user-row"][data-email="${EMAIL}"] a`).first().click();
      await id(admin, 'admin-user-detail').waitFor();
      assert.equal((await id(admin, 'admin-user-email').textContent()).trim(), EMAIL);
      assert.match(admin.url(), /[?&]tenant=default\b/);
      assert.equal(await id(admin, 'role-viewer').isChecked(), true);
      await id(admin, 'admin-user-locked').waitFor();
      await shot(admin, '14-admin-user-detail');
    });

    await step(t, admin, 'lockouts tab: unlock the user', async () => {
      await id(admin, 'admin-tab-lockouts').click();
      await id(admin, 'lockouts-table').waitFor();
      assert.match(admin.url(), /[?&]tenant=default\b/);
      const row = admin.locator(`[data-testid="lockout-row"][data-email="${EMAIL}"]`);
      await row.waitFor();
      assert.equal(await row.getAttribute('data-state'), 'locked');
      await shot(admin, '15-admin-lockouts');
      const [res] = await Promise.all([
        admin.waitForResponse((r) => /\/api\/v1\/admin\/users\/[^/]+\/unlock$/.test(new URL(r.url()).pathname)),
        row.getByTestId('lockout-unlock').click(),
      ]);
      assert.equal(res.status(), 204);
      assert.equal(new URL(res.url()).searchParams.get('tenant'), 'default');
      await id(admin, 'lockouts-message').waitFor();
      assert.match(await id(admin, 'lockouts-message').textContent(), /unlocked/);
      await admin.waitForFunction((e) => {
        const r = document.querySelector(`[data-testid="lockout-row"][data-email="${e}"]`);
        return (
          !document.querySelector('[data-testid="loading"]') && (!r || r.getAttribute('data-state') === 'not locked')
        );
      }, EMAIL);
      await shot(admin, '16-admin-lockouts-unlocked');
    });

    await step(t, admin, 'audit tab of tenant default shows the lockout', async () => {
      await id(admin, 'admin-tab-audit').click();
      await id(admin, 'audit-table').waitFor();
      assert.ok(
        (await admin.locator('[data-testid="audit-row"][data-event="lockout"]').count()) >= 1,
        'no lockout event',
      );
      await id(admin, 'audit-event').fill('lockout');
      await id(admin, 'audit-apply').click();
      await admin.waitForURL(/[?&]event=lockout\b/);
      await admin.waitForFunction(() => {
        const rows = [...document.querySelectorAll('[data-testid="audit-row"]')];
        return rows.length > 0 && rows.every((r) => r.getAttribute('data-event') === 'lockout');
      });
      await shot(admin, '17-admin-audit');
    });

    await step(t, admin, 'organisations tab lists default and platform', async () => {
      await id(admin, 'admin-tab-tenants').click();
      await id(admin, 'tenants-table').waitFor();
      await admin.locator('[data-testid="tenant-row"][data-slug="default"]').waitFor();
      await admin.locator('[data-testid="tenant-row"][data-slug="platform"]').waitFor();
      await shot(admin, '18-admin-tenants');
    });

    await step(t, page, 'the unlocked user signs in', async () => {
      // A fresh sign-in page (the old one still counts down the lock it was told about).
      await page.goto(`${BASE}/login`);
      await signIn(page, EMAIL, PASSWORD);
      await assertNoHiccup(page, 'dashboard after unlock');
    });
  },
);

test(
  'operator page: live session actors rise after a sign-in',
  { timeout: TEST_TIMEOUT, skip: NO_ADMIN },
  async (t) => {
    const admin = pages.find((p) => p.log.label === 'platform admin');
    const liveSessions = () =>
      admin.evaluate(() => {
        const cell = document.querySelector(
          '[data-testid="actor-kind-row"][data-kind="session"] [data-testid="actor-live"]',
        );
        return cell ? Number(cell.getAttribute('data-value')) : null;
      });
    const polls = () =>
      admin.evaluate(() =>
        Number(document.querySelector('[data-testid="operator-page"]')?.getAttribute('data-polls') ?? 0),
      );
    let before;
    let pollsBefore;

    await step(t, admin ?? page, 'operator page shows the supervision tree and polls', async () => {
      assert.ok(admin, 'the admin page of the previous test is missing');
      await id(admin, 'nav-operator').click();
      await id(admin, 'actors-kinds').waitFor();
      const kinds = await admin
        .locator('[data-testid="actor-kind-row"]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
      assert.ok(kinds.includes('session'), `kinds: ${kinds.join(',')}`);
      assert.ok(kinds.includes('lockout'), `kinds: ${kinds.join(',')}`);
      assert.ok((await id(admin, 'supervisor-row').count()) >= 1, 'no supervisors');
      const p0 = await polls();
      await admin.waitForFunction(
        (p) => Number(document.querySelector('[data-testid="operator-page"]')?.getAttribute('data-polls')) > p,
        p0,
        { timeout: 6000 },
      );
      before = await liveSessions();
      pollsBefore = await polls();
      // At least this admin, user A and nothing ended concurrently.
      assert.ok(Number.isInteger(before) && before >= 2, `live session actors: ${before}`);
      await shot(admin, '19-operator');
    });

    await step(
      t,
      admin ?? page,
      'another user signs in from another browser; the number rises within a few polls',
      async () => {
        const res = await fetch(`${BASE}/api/v1/auth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: EMAIL_B, password: PASSWORD_B, display_name: 'E2E B' }),
        });
        assert.equal(res.status, 201, `register B: ${res.status} ${await res.text()}`);
        const third = await openPage('user B');
        await signIn(third, EMAIL_B, PASSWORD_B);
        await admin.waitForFunction(
          (n) =>
            Number(
              document
                .querySelector('[data-testid="actor-kind-row"][data-kind="session"] [data-testid="actor-live"]')
                ?.getAttribute('data-value'),
            ) > n,
          before,
          { timeout: 10_000 },
        );
        const after = await liveSessions();
        const took = (await polls()) - pollsBefore;
        t.diagnostic(`live session actors ${before} → ${after} after ${took} poll(s)`);
        assert.ok(after > before, `live session actors did not rise: ${before} → ${after}`);
        assert.ok(took <= 4, `took ${took} polls`);
        await shot(admin, '20-operator-after-sign-in');
      },
    );
  },
);

test('clean-up: everyone signs out; no script or CSP errors', { timeout: TEST_TIMEOUT }, async (t) => {
  for (const p of pages) {
    await step(t, p, `${p.log.label}: sign out`, async () => {
      if ((await id(p, 'signout-button').count()) === 0) return;
      await id(p, 'signout-button').click();
      await id(p, 'login-form').waitFor();
    });
  }
  await step(t, page, 'no script or CSP errors in any console', async () => {
    assert.deepEqual(
      pages.flatMap((p) => p.log.consoleErrors.map((e) => `${p.log.label}: ${e}`)),
      [],
    );
  });
});

// Two-factor sign-in in the browser, against a running server (scripts/e2e.sh starts it):
// a user enrols on the security page (QR code and key), saves the recovery codes, signs out,
// signs in with the password and a code computed here as an authenticator app would (TOTP in
// Node with node:crypto), then with a recovery code, and turns it off; and an organisation
// that requires two-factor shows its users the enrolment prompt until the platform admin makes
// it optional again in the admin pages.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  BASE,
  NO_ADMIN,
  apiCall,
  id,
  jwtClaims,
  launchBrowser,
  openPage,
  shot,
  signIn,
  step,
  submitLogin,
} from './browser.mjs';
import { Authenticator, stepAt, totp } from './totp.mjs';

const TEST_TIMEOUT = 180_000;
const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const EMAIL = `e2e-mfa-${stamp}@example.com`;
const PASSWORD = `Sturdy-mfa-pass-${stamp}`;

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/** A 6-digit code that is none of the secret's codes around now. */
function wrongCode(secret) {
  const now = stepAt();
  const near = [-2, -1, 0, 1, 2].map((d) => totp(secret, now + d));
  return ['000000', '111111', '222222'].find((c) => !near.includes(c));
}

/** Submits the second step's form; answers the HTTP status of the verify call. */
async function submitCode(page) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/mfa/verify'),
    id(page, 'mfa-submit').click(),
  ]);
  return res.status();
}

test("the Node TOTP gives RFC 6238's SHA-1 codes (6-digit ends of the 8-digit vectors)", () => {
  const seed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890"
  assert.equal(totp(seed, Math.floor(59 / 30)), '287082');
  assert.equal(totp(seed, Math.floor(1111111109 / 30)), '081804');
  assert.equal(totp(seed, Math.floor(2000000000 / 30)), '279037');
});

test(
  'two-factor: enrol on the security page, sign out, sign in with a computed code',
  { timeout: TEST_TIMEOUT },
  async (t) => {
    let page;
    let app;
    let codes;

    await step(t, null, 'register (API) and sign in', async () => {
      const res = await apiCall('POST', '/auth/register', { body: { email: EMAIL, password: PASSWORD } });
      assert.equal(res.status, 201, JSON.stringify(res.data));
      page = await openPage(browser, 'two-factor user');
      await signIn(page, EMAIL, PASSWORD);
    });

    await step(t, page, 'the security page shows a QR code and the key', async () => {
      await id(page, 'nav-security').click();
      await id(page, 'security-page').waitFor();
      assert.equal((await id(page, 'mfa-status').textContent()).trim(), 'off');
      await id(page, 'mfa-enrol-password').fill(PASSWORD);
      const [res] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/users/me/mfa/totp'),
        id(page, 'mfa-enrol-start').click(),
      ]);
      assert.equal(res.status(), 200);
      await id(page, 'mfa-qr').waitFor();
      // Drawn in the browser from the otpauth URI: an SVG, no image fetched from anywhere.
      assert.equal(await id(page, 'mfa-qr').locator('svg[role="img"]').count(), 1);
      const secret = await id(page, 'mfa-secret').getAttribute('data-secret');
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.equal((await id(page, 'mfa-secret').textContent()).replace(/\s/g, ''), secret);
      app = new Authenticator(secret);
      await shot(page, 'mfa-01-enrol');
    });

    await step(t, page, 'the first code turns it on; ten recovery codes to download', async () => {
      await id(page, 'mfa-confirm-code').fill(await app.next());
      const [res] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/users/me/mfa/totp/confirm'),
        id(page, 'mfa-confirm-submit').click(),
      ]);
      assert.equal(res.status(), 200);
      await id(page, 'recovery-codes').waitFor();
      codes = (await id(page, 'recovery-code').allTextContents()).map((c) => c.trim());
      assert.equal(codes.length, 10);
      assert.ok(
        codes.every((c) => /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/.test(c)),
        codes.join(' '),
      );
      await page.waitForFunction(() => document.querySelector('[data-testid="mfa-status"]')?.textContent === 'on');
      const [download] = await Promise.all([page.waitForEvent('download'), id(page, 'recovery-download').click()]);
      const text = await readFile(await download.path(), 'utf8');
      assert.ok(
        codes.every((c) => text.includes(c)),
        'the downloaded file holds every code',
      );
      await shot(page, 'mfa-02-recovery-codes');
      await id(page, 'recovery-done').click();
      await id(page, 'mfa-on-note').waitFor();
    });

    await step(t, page, 'sign out', async () => {
      await id(page, 'signout-button').click();
      await id(page, 'login-form').waitFor();
    });

    await step(t, page, 'sign in: the password, a wrong code, then the computed code', async () => {
      assert.equal(await submitLogin(page, EMAIL, PASSWORD), 200);
      await id(page, 'mfa-form').waitFor();
      assert.equal(
        await page
          .context()
          .cookies()
          .then((c) => c.some((x) => x.name === 'refresh_token')),
        false,
      );
      await shot(page, 'mfa-03-second-step');
      await id(page, 'mfa-code').fill(wrongCode(app.secret));
      assert.equal(await submitCode(page), 401);
      await id(page, 'mfa-error').waitFor();
      await id(page, 'mfa-code').fill(await app.next());
      assert.equal(await submitCode(page), 200);
      // Back where the sign-out left off: the sign-in page brings a user back to it.
      await page.waitForURL(/\/security$/);
      await id(page, 'security-page').waitFor();
      assert.deepEqual(jwtClaims(page.log.bearers.at(-1)).amr, ['pwd', 'otp']);
    });

    await step(t, page, 'sign out, and in again with a recovery code', async () => {
      await id(page, 'signout-button').click();
      await id(page, 'login-form').waitFor();
      assert.equal(await submitLogin(page, EMAIL, PASSWORD), 200);
      await id(page, 'mfa-switch-method').click();
      await id(page, 'mfa-recovery-code').fill(codes[0].toLowerCase());
      assert.equal(await submitCode(page), 200);
      await id(page, 'security-page').waitFor();
      assert.deepEqual(jwtClaims(page.log.bearers.at(-1)).amr, ['pwd', 'otp']);
    });

    await step(t, page, 'turn it off with the password and a recovery code', async () => {
      await id(page, 'mfa-disable-form').waitFor();
      await id(page, 'mfa-disable-password').fill(PASSWORD);
      await id(page, 'mfa-disable-form').getByRole('button', { name: 'Use a recovery code instead' }).click();
      await id(page, 'mfa-disable-code').fill(codes[1]);
      await id(page, 'mfa-disable-submit').click();
      await id(page, 'security-message').waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="mfa-status"]')?.textContent === 'off');
      await id(page, 'mfa-enrol-form').waitFor();
    });

    await step(t, page, 'no script or CSP error on the way (the QR code is drawn under the real CSP)', async () => {
      assert.deepEqual(page.log.consoleErrors, []);
    });
  },
);

test(
  'an organisation that requires two-factor prompts its users until the admin makes it optional',
  { timeout: TEST_TIMEOUT, skip: NO_ADMIN },
  async (t) => {
    const slug = `strict-${stamp}`.slice(0, 32);
    const email = `e2e-strict-${stamp}@example.com`;
    let user;
    let admin;

    await step(t, null, 'fixtures: the organisation (two-factor required) and its user', async () => {
      const login = await apiCall('POST', '/auth/login', {
        body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, tenant: 'platform', token_delivery: 'body' },
      });
      assert.equal(login.status, 200);
      const token = login.data.access_token;
      const tenant = await apiCall('POST', '/tenants', { token, body: { slug, name: 'Strict', require_mfa: true } });
      assert.equal(tenant.status, 201, JSON.stringify(tenant.data));
      const created = await apiCall('POST', `/admin/users?tenant=${slug}`, {
        token,
        body: { email, password: PASSWORD, roles: ['trader'] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.data));
    });

    await step(t, null, 'the user signs in and meets the enrolment prompt', async () => {
      user = await openPage(browser, 'user of a strict organisation');
      await user.goto(`${BASE}/login`);
      assert.equal(await submitLogin(user, email, PASSWORD, slug), 200);
      await id(user, 'mfa-enrolment-prompt').waitFor();
      await shot(user, 'mfa-04-prompt');
      await id(user, 'nav-orders').click();
      await id(user, 'mfa-enrolment-prompt').waitFor();
      await id(user, 'mfa-enrolment-link').click();
      await id(user, 'security-required').waitFor();
      await id(user, 'mfa-enrol-form').waitFor();
    });

    await step(t, null, 'the platform admin makes two-factor optional there, in the admin pages', async () => {
      admin = await openPage(browser, 'platform admin (strict organisation)');
      await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD, 'platform');
      await id(admin, 'nav-admin').click();
      await id(admin, 'admin-tab-tenants').click();
      const row = admin.locator(`[data-testid="tenant-row"][data-slug="${slug}"]`);
      await row.waitFor();
      assert.equal((await row.getByTestId('tenant-require-mfa').textContent()).trim(), 'required');
      const [res] = await Promise.all([
        admin.waitForResponse((r) => r.request().method() === 'PATCH' && /\/api\/v1\/tenants\//.test(r.url())),
        row.getByTestId('tenant-toggle-require-mfa').click(),
      ]);
      assert.equal(res.status(), 200);
      await admin.waitForFunction(
        (s) =>
          document
            .querySelector(`[data-testid="tenant-row"][data-slug="${s}"] [data-testid="tenant-require-mfa"]`)
            ?.textContent.trim() === 'optional',
        slug,
      );
    });

    await step(t, null, "the user's pages open again", async () => {
      await user.reload();
      await id(user, 'security-page').waitFor();
      await id(user, 'nav-orders').click();
      await id(user, 'orders-page').waitFor();
      assert.equal(await id(user, 'mfa-enrolment-prompt').count(), 0);
      assert.deepEqual([...user.log.consoleErrors, ...admin.log.consoleErrors], []);
    });
  },
);

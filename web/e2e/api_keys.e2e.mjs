// API keys in the browser, against a running server (scripts/e2e.sh starts it): a user makes a
// key on the API keys page, sees it once and copies it, a program (here Node) calls
// GET /api/v1/orders with it, the user revokes it on the page, and the program is refused with
// 401 `token_invalid`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiCall, id, launchBrowser, openPage, signIn, step } from './browser.mjs';

const TEST_TIMEOUT = 120_000;
const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const EMAIL = `e2e-keys-${stamp}@example.com`;
const PASSWORD = `Sturdy-keys-pass-${stamp}`;

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('API keys: make one, call /api/v1/orders with it, revoke it and see 401', { timeout: TEST_TIMEOUT }, async (t) => {
  let page;
  let key;

  await step(t, null, 'register (API) and sign in', async () => {
    const res = await apiCall('POST', '/auth/register', { body: { email: EMAIL, password: PASSWORD } });
    assert.equal(res.status, 201, JSON.stringify(res.data));
    page = await openPage(browser, 'key owner', { permissions: ['clipboard-read', 'clipboard-write'] });
    await signIn(page, EMAIL, PASSWORD);
  });

  await step(t, page, 'the API keys page makes a key and shows it once', async () => {
    await id(page, 'nav-api-keys').first().click();
    await id(page, 'api-keys-page').waitFor();
    await id(page, 'api-keys-empty').waitFor();
    await id(page, 'api-key-name-input').fill('e2e bot');
    assert.equal(await id(page, 'api-key-scope-orders:read').isChecked(), true, 'the owner’s scopes are ticked');
    await id(page, 'api-key-submit').click();
    await id(page, 'api-key-value').waitFor();
    key = (await id(page, 'api-key-value').textContent()).trim();
    assert.match(key, /^tsk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    await id(page, 'api-key-copy').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="api-key-copy-status"]')?.textContent);
    assert.equal(await id(page, 'api-key-copy-status').textContent(), 'Copied.');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
    assert.equal(await id(page, 'api-key-row').count(), 1);
    await id(page, 'api-key-done').click();
    assert.equal(await id(page, 'api-key-value').count(), 0, 'the key is gone from the page');
  });

  await step(t, page, 'a program reads orders with the key', async () => {
    const res = await apiCall('GET', '/orders', { token: key });
    assert.equal(res.status, 200, JSON.stringify(res.data));
    assert.ok(Array.isArray(res.data.items));
    const refused = await apiCall('GET', '/auth/sessions', { token: key });
    assert.equal(refused.status, 403, 'a key never reaches /auth/*');
  });

  await step(t, page, 'the list shows its last use after a reload', async () => {
    await page.reload();
    await id(page, 'api-key-row').waitFor();
    assert.match(await id(page, 'api-key-last-used').textContent(), /^Last used/);
  });

  await step(t, page, 'revoked on the page, the key is refused with 401', async () => {
    await id(page, 'api-key-revoke').click();
    await id(page, 'api-key-revoke-confirm').click();
    await id(page, 'api-keys-message').waitFor();
    assert.equal(await id(page, 'api-key-row').count(), 0);
    const res = await apiCall('GET', '/orders', { token: key });
    assert.equal(res.status, 401);
    assert.equal(res.data.code, 'token_invalid');
  });
});

// The operator page with two nodes, in headless Chromium: scripts/e2e.sh starts a second server
// on the same PostgreSQL database and Redis key prefix as the first (E2E_NODE2_URL, its process
// E2E_NODE2_PID). The page lists both nodes, its four charts draw a line per node on their
// canvases (coloured pixels, not only axes) with a legend and a data table for screen readers,
// and once the second node stops it is marked as not reporting while its past points stay.
//
// Runs after a11y.e2e.mjs and app.e2e.mjs (node --test takes the files in name order), so both
// nodes have been reporting for minutes and their history holds points.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  BASE,
  NO_ADMIN,
  id,
  launchBrowser,
  openPage,
  shot,
  signIn,
  step,
} from './browser.mjs';

const NODE2_URL = process.env.E2E_NODE2_URL;
const NODE2_PID = Number(process.env.E2E_NODE2_PID);
const SKIP = NO_ADMIN || (!NODE2_URL && 'E2E_NODE2_URL not set (scripts/e2e.sh starts the second node)');
const CHARTS = ['chart-live', 'chart-throughput', 'chart-p99', 'chart-restarts'];

let browser;
let page;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/** The name of the node that answers at `url`. */
async function nodeName(url, token) {
  const res = await fetch(`${url}/api/v1/admin/actors`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `actor view of ${url}`);
  return (await res.json()).node;
}

/** Per chart: its data attributes, legend, and how many of its canvas pixels are coloured. */
function readCharts(p) {
  return p.evaluate((ids) => {
    return ids.map((testId) => {
      const figure = document.querySelector(`[data-testid="${testId}"]`);
      const canvas = figure?.querySelector('canvas');
      let coloured = 0;
      if (canvas && canvas.width > 0 && canvas.height > 0) {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        // Axes, ticks and grid are greys (r = g = b); only the lines have a hue.
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
          if (a > 0 && (Math.abs(r - g) > 24 || Math.abs(g - b) > 24 || Math.abs(r - b) > 24)) coloured++;
        }
      }
      return {
        testId,
        points: Number(figure?.getAttribute('data-points') ?? 0),
        drawn: Number(figure?.getAttribute('data-drawn') ?? 0),
        canvasWidth: canvas?.getBoundingClientRect().width ?? 0,
        coloured,
        legend: [...(figure?.querySelectorAll('li') ?? [])].map((li) => li.textContent),
        table: figure?.querySelectorAll('details table tbody tr').length ?? 0,
      };
    });
  }, CHARTS);
}

test(
  'operator page: two nodes, charts drawing, a node that stops is highlighted',
  { timeout: 120_000, skip: SKIP },
  async (t) => {
    page = await openPage(browser, 'operator (cluster)', { viewport: { width: 390, height: 844 } });
    let token;
    let names;

    await step(t, page, 'both nodes are listed', async () => {
      const login = await fetch(`${BASE}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: ADMIN_EMAIL,
          password: ADMIN_PASSWORD,
          tenant: 'platform',
          token_delivery: 'body',
        }),
      });
      assert.equal(login.status, 200);
      token = (await login.json()).access_token;
      names = [await nodeName(BASE, token), await nodeName(NODE2_URL, token)];
      assert.notEqual(names[0], names[1]);
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, 'platform');
      await page.goto(`${BASE}/operator`);
      await page.waitForFunction(
        (expected) => {
          const cards = [...document.querySelectorAll('[data-testid="node-card"][data-reporting="true"]')];
          return expected.every((n) => cards.some((c) => c.getAttribute('data-node') === n));
        },
        names,
        { timeout: 15_000 },
      );
    });

    await step(t, page, 'each chart draws a line per node, with a legend and a data table, within 390 px', async () => {
      // The history is fetched every 10 s; each node has points by now (it reported for minutes).
      await page.waitForFunction(
        (ids) =>
          ids.every((testId) => {
            const f = document.querySelector(`[data-testid="${testId}"]`);
            return Number(f?.getAttribute('data-drawn') ?? 0) > 0 && Number(f?.getAttribute('data-points') ?? 0) > 0;
          }),
        CHARTS,
        { timeout: 25_000 },
      );
      // Each chart's data table is built when its disclosure opens.
      for (const testId of CHARTS) {
        await id(page, `${testId}-table-toggle`).click();
        await page.locator(`[data-testid="${testId}"] details table tbody tr`).first().waitFor();
      }
      const charts = await readCharts(page);
      for (const c of charts) {
        t.diagnostic(`${c.testId}: ${c.points} points, ${c.coloured} coloured pixels, drawn ${c.drawn}×`);
        for (const n of names)
          assert.ok(
            c.legend.some((l) => l.includes(n)),
            `${c.testId}: no line of ${n} in ${c.legend}`,
          );
        assert.ok(c.canvasWidth > 0 && c.canvasWidth <= 390, `${c.testId}: ${c.canvasWidth} px wide`);
        assert.ok(c.table > 0, `${c.testId}: no rows in its data table`);
      }
      // Live actors and throughput have lines of non-zero values: they show up as coloured pixels.
      for (const c of charts.filter((c) => c.testId === 'chart-live' || c.testId === 'chart-throughput')) {
        assert.ok(c.coloured > 50, `${c.testId}: the canvas has no coloured line (${c.coloured} pixels)`);
      }
      const sideways = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      assert.ok(sideways <= 0, `the page scrolls sideways by ${sideways} px`);
      await shot(page, '30-operator-two-nodes');
    });

    await step(t, page, 'the second node stops: it is marked as not reporting and keeps its lines', async () => {
      assert.ok(Number.isInteger(NODE2_PID) && NODE2_PID > 0, 'E2E_NODE2_PID not set');
      process.kill(NODE2_PID, 'SIGTERM');
      // Out of the cluster view 10 s after its last report (every 2 s), seen at the next poll.
      await page.waitForFunction(
        (n) =>
          document.querySelector(`[data-testid="node-card"][data-node="${n}"]`)?.getAttribute('data-reporting') ===
          'false',
        names[1],
        { timeout: 25_000 },
      );
      await id(page, 'operator-stopped').waitFor();
      assert.match(
        await id(page, 'operator-stopped').textContent(),
        new RegExp(names[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
      );
      const first = page.locator(`[data-testid="node-card"][data-node="${names[0]}"]`);
      assert.equal(await first.getAttribute('data-reporting'), 'true');
      const legend = await page.locator('[data-testid="chart-live"] li').allTextContents();
      assert.ok(
        legend.some((l) => l.includes(names[1])),
        `its past points stay charted: ${legend}`,
      );
      await shot(page, '31-operator-node-stopped');
      assert.deepEqual(page.log.consoleErrors, [], 'no script or CSP errors');
    });
  },
);

// Page checks for the end-to-end sweep (a11y.e2e.mjs): the route table, sideways scrolling and
// cut-off text, axe-core's WCAG 2.1 A/AA rules, and a keyboard walk with visible focus.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

/** The axe-core rule sets the sweep runs (WCAG 2.1 levels A and AA). */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
/**
 * Rules of those levels that axe ships as experimental (off unless named): a visible label that
 * differs from the accessible name (WCAG 2.5.3, level A) is one of the sweep's targets.
 */
export const AXE_EXPERIMENTAL = ['label-content-name-mismatch'];

/**
 * The app's route table (src/routes.ts), bundled with esbuild and imported, so the sweep walks
 * exactly the routes the app has.
 */
export async function loadRouteTable() {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('../src/routes.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

/** The path of axe-core's browser build, for Playwright's addScriptTag. */
export const AXE_PATH = require.resolve('axe-core/axe.min.js');

/** Fails early with a clear message when axe-core is not installed. */
export async function assertAxeInstalled() {
  await readFile(AXE_PATH);
}

/**
 * Sideways scrolling of the document and text cut off by an element that hides its overflow.
 * Answers a list of problems (empty when the page fits its width).
 */
export function layoutProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const doc = document.documentElement;
    const width = doc.clientWidth;
    const describe = (el) => {
      const id = el.getAttribute('data-testid');
      const text = (el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
      return `<${el.tagName.toLowerCase()}${id ? ` data-testid="${id}"` : ''}${el.className && typeof el.className === 'string' ? ` class="${el.className.slice(0, 60)}"` : ''}> "${text}"`;
    };
    /** Inside a box that scrolls sideways by itself (a table's card), overflow is expected. */
    const inScroller = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const ox = getComputedStyle(p).overflowX;
        if (ox === 'auto' || ox === 'scroll') return true;
      }
      return false;
    };
    /** Visually hidden on purpose (screen-reader text). */
    const srOnly = (el) => {
      const r = el.getBoundingClientRect();
      return r.width <= 1 || r.height <= 1;
    };
    if (doc.scrollWidth > width) {
      const wide = [...document.body.querySelectorAll('*')]
        // An absolutely placed box escapes a scroller that is not its containing block.
        .filter((el) => {
          const escapes = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
          return el.getBoundingClientRect().right > width + 0.5 && (escapes || !inScroller(el));
        })
        // The innermost culprits say most.
        .filter((el, _, all) => !all.some((o) => o !== el && el.contains(o)))
        .slice(0, 5)
        .map((el) => `${describe(el)} ends at ${Math.round(el.getBoundingClientRect().right)} px`);
      problems.push(`the page scrolls sideways: ${doc.scrollWidth} px wide in ${width} px (${wide.join('; ')})`);
    }
    for (const el of document.body.querySelectorAll('*')) {
      const style = getComputedStyle(el);
      const clips = (v) => v === 'hidden' || v === 'clip';
      if (!clips(style.overflowX) && style.textOverflow !== 'ellipsis') continue;
      if (srOnly(el) || !(el.textContent ?? '').trim()) continue;
      if (el.scrollWidth > el.clientWidth + 1) problems.push(`text cut off: ${describe(el)}`);
    }
    return problems;
  });
}

/** axe-core's WCAG 2.1 A/AA violations on the page as it is now (axe injected once per load). */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ path: AXE_PATH });
  }
  return page.evaluate(
    async ({ tags, experimental }) => {
      const result = await window.axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        rules: Object.fromEntries(experimental.map((id) => [id, { enabled: true }])),
        resultTypes: ['violations'],
      });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes
          .slice(0, 5)
          .map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`),
      }));
    },
    { tags: AXE_TAGS, experimental: AXE_EXPERIMENTAL },
  );
}

/** Moves the focus to the top of the document, where a keyboard user arriving on the page starts. */
export async function focusTop(page) {
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    document.body.setAttribute('tabindex', '-1');
    document.body.focus();
    document.body.removeAttribute('tabindex');
  });
}

/** Presses Tab until `locator` has the focus (at most `max` times); answers whether it got it. */
export async function tabTo(page, locator, max = 15) {
  for (let i = 0; i <= max; i++) {
    if (await locator.evaluate((el) => el === document.activeElement)) return true;
    await page.keyboard.press('Tab');
  }
  return false;
}

/**
 * Walks the page with Tab alone: every visible control must be reached, in a sensible number of
 * presses, and show where the focus is (an outline or a ring that it does not have unfocused).
 * Answers a list of problems.
 */
export async function keyboardProblems(page) {
  const total = await page.evaluate(() => {
    // A disclosure's summary is a control too (it takes focus and toggles its details).
    const SELECTOR =
      'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), details > summary:first-of-type, [tabindex]:not([tabindex="-1"])';
    document.activeElement?.blur?.();
    let n = 0;
    for (const el of document.querySelectorAll(SELECTOR)) {
      el.removeAttribute('data-kbd');
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      const hidden =
        r.width === 0 || r.height === 0 || style.visibility === 'hidden' || el.closest('[inert], [aria-hidden="true"]');
      // The skip link is visually hidden until focused: it counts as a control.
      if (hidden && !el.matches('a[href="#main"]')) continue;
      el.setAttribute('data-kbd', String(n++));
      el.setAttribute('data-kbd-rest', `${style.outlineStyle} ${style.outlineWidth}|${style.boxShadow}`);
    }
    return n;
  });
  const reached = new Set();
  const problems = [];
  await focusTop(page);
  for (let i = 0; i < total + 3 && reached.size < total; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      const now = `${style.outlineStyle} ${style.outlineWidth}|${style.boxShadow}`;
      const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
      return {
        idx: el.getAttribute('data-kbd'),
        what: `<${el.tagName.toLowerCase()}> "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40)}"`,
        visible: outline || now !== el.getAttribute('data-kbd-rest'),
      };
    });
    if (!f) continue;
    if (f.idx === null) continue; // focus inside a control (e.g. a date picker's parts)
    if (reached.has(f.idx)) break; // wrapped around
    reached.add(f.idx);
    if (!f.visible) problems.push(`no visible focus on ${f.what}`);
  }
  if (reached.size < total) {
    const missed = await page.evaluate(
      (seen) =>
        [...document.querySelectorAll('[data-kbd]')]
          .filter((el) => !seen.includes(el.getAttribute('data-kbd')))
          .slice(0, 5)
          .map(
            (el) =>
              `<${el.tagName.toLowerCase()}> "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40)}"`,
          ),
      [...reached],
    );
    problems.push(`${total - reached.size} of ${total} controls not reached with Tab: ${missed.join(', ')}`);
  }
  return problems;
}

#!/usr/bin/env node
// Generates src/api/schema.d.ts, the API's types, from the server's OpenAPI description.
//
//   node scripts/api-types.mjs <URL or file of openapi.json>            write src/api/schema.d.ts
//   node scripts/api-types.mjs --check <URL or file of openapi.json>    fail if it is not fresh
//
// `npm run api:types` runs the first with TRADESAGE_URL (default http://127.0.0.1:8080);
// `scripts/e2e.sh --update-api-types` (repository root) builds and starts a server for it, and
// every e2e run does the check against the server it tests.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const OUT = fileURLToPath(new URL('../src/api/schema.d.ts', import.meta.url));
const HEADER = `/**
 * The API's types, generated from the server's /openapi.json by openapi-typescript.
 * Do not edit: regenerate with \`scripts/e2e.sh --update-api-types\` (from the repository root),
 * or \`npm run api:types\` against a running server. scripts/e2e.sh fails when this file is stale.
 */
`;

const args = process.argv.slice(2);
const check = args[0] === '--check';
const source = (check ? args[1] : args[0]) ?? `${process.env.TRADESAGE_URL ?? 'http://127.0.0.1:8080'}/openapi.json`;

async function load(src) {
  if (/^https?:\/\//.test(src)) {
    const res = await fetch(src);
    if (!res.ok) throw new Error(`${src} answered ${res.status}`);
    return res.json();
  }
  return JSON.parse(await readFile(src, 'utf8'));
}

const ast = await openapiTS(await load(source));
const generated = HEADER + astToString(ast);

if (check) {
  const committed = await readFile(OUT, 'utf8').catch(() => '');
  if (committed !== generated) {
    const a = committed.split('\n');
    const b = generated.split('\n');
    const line = a.findIndex((l, i) => l !== b[i]);
    console.error(
      `web/src/api/schema.d.ts is not what the server's /openapi.json gives (first difference at line ${line + 1}:\n` +
        `  committed: ${JSON.stringify(a[line] ?? '<end of file>')}\n  generated: ${JSON.stringify(b[line] ?? '<end of file>')}).\n` +
        'Regenerate it with `scripts/e2e.sh --update-api-types` (from the repository root), check that the web app\n' +
        'still builds (`cd web && npm run lint`), and commit it.',
    );
    process.exit(1);
  }
  console.log('web/src/api/schema.d.ts matches the server');
} else {
  await writeFile(OUT, generated);
  console.log(`wrote ${OUT}`);
}

#!/usr/bin/env node
/**
 * `npm ci`/`npm install` run this (the `prepare` script): compiles the TypeScript once into
 * dist/cli.mjs (+ dist/reencode-worker.mjs) so that `npm start` does not compile at every start
 * (tsx took 6–15 s under load; issue #18). Dependencies stay in node_modules (not bundled).
 * dist/cli.mjs sits one folder below the project, like src/cli.ts, so src/app-root.ts finds
 * views/, public/ and fixtures/ the same way.
 *
 * Without esbuild (a production install, `npm ci --omit=dev`) it does nothing: scripts/start.mjs
 * then runs the sources through tsx, as before.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.log('compile: esbuild is not installed (production install): npm start will run the sources with tsx');
  process.exit(0);
}

const EXTERNAL = ['better-sqlite3', '@node-rs/argon2', 'puppeteer-core', 'pg', 'pg-*', 'read-excel-file', 'write-excel-file', 'qrcode', 'tsx', 'esbuild', 'chinese-days'];
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dependencies are bundled too: Node spent most of a start resolving and reading the hundreds
  // of small files of fastify's and kysely's packages. Native addons and what loads lazily stay
  // in node_modules.
  external: EXTERNAL,
  // Bundled CommonJS packages call require(): give the ES module one.
  banner: { js: "import { createRequire as __zcCreateRequire } from 'node:module'; const require = __zcCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
};
const out = path.join(ROOT, 'dist');
fs.mkdirSync(out, { recursive: true });
const t0 = Date.now();
await esbuild.build({ ...common, entryPoints: [path.join(ROOT, 'src/cli.ts')], outfile: path.join(out, 'cli.mjs') });
await esbuild.build({ ...common, entryPoints: [path.join(ROOT, 'src/lib/reencode-worker.ts')], outfile: path.join(out, 'reencode-worker.mjs') });
console.log(`compile: dist/cli.mjs in ${Date.now() - t0} ms`);

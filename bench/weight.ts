/**
 * bench/weight — compressed bytes of HTML, CSS and JS per page against DESIGN.md §6:
 * first HTML ≤ 14 KB compressed; first-visit CSS+JS ≤ 45 KB compressed; repeat visit
 * (assets cached) counts the HTML only. Runs the app in-process on a temp data dir with
 * the demo data. Usage: node --import tsx bench/weight.ts [--json]   (--json: the rows as JSON, for bench/run.ts)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import zlib from 'node:zlib';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-weight-'));
const env = { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'warn', NODE_ENV: 'production' };
execFileSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { env, stdio: 'ignore' });
const { app } = await buildApp(loadConfig(env));
await app.ready();

// A cookie jar: the session, CSRF and zc_css (app.css sent inline) cookies all matter here.
const jar = new Map<string, string>();
const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
function remember(res: { cookies: unknown }) {
  for (const c of res.cookies as { name: string; value: string }[]) {
    if (c.value) jar.set(c.name, c.value);
    else jar.delete(c.name);
  }
}
async function get(url: string) {
  const res = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'br, gzip', cookie: cookieHeader() } });
  remember(res);
  return res;
}
async function loginAs(type: string, account: string) {
  jar.clear();
  const html = await app.inject({ method: 'GET', url: type === 'staff' ? '/login?type=staff' : '/login', headers: { cookie: cookieHeader() } });
  remember(html);
  const token = /name="_csrf" value="([^"]+)"/.exec(html.body)![1]!;
  const res = await app.inject({ method: 'POST', url: '/login', headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: token, type, account, password: 'Demo#2026pass' }).toString() });
  remember(res);
}

/** First visit: no app.css sent yet (it comes inline, the file is prefetched); repeat: linked, cached. */
async function measure(label: string, url: string) {
  jar.delete('zc_css');
  const res = await get(url);
  const html = res.rawPayload.length;
  const enc = res.headers['content-encoding'];
  const text = enc === 'br' ? zlib.brotliDecompressSync(res.rawPayload).toString() : enc === 'gzip' ? zlib.gunzipSync(res.rawPayload).toString() : res.body;
  const assets = [...text.matchAll(/(?:href|src)="(\/public\/[^"]+)"/g)].map((m) => m[1]!);
  let css = 0;
  let js = 0;
  for (const a of new Set(assets)) {
    const r = await get(a);
    if (a.endsWith('.css')) css += r.rawPayload.length;
    if (a.endsWith('.js')) js += r.rawPayload.length;
  }
  const repeat = (await get(url)).rawPayload.length;
  return { label, status: res.statusCode, encoding: res.headers['content-encoding'] ?? 'none', html, css, js, first: html + css + js, repeat };
}

const rows = [];
rows.push(await measure('/login', '/login'));
await loginAs('applicant', '13800138000');
rows.push(await measure('/me', '/me'));
rows.push(await measure('/me/sections/work', '/me/sections/work'));
rows.push(await measure('/me/profile', '/me/profile'));
await loginAs('staff', 'demo_unit');
rows.push(await measure('/org/reviews', '/org/reviews'));
await app.close();
fs.rmSync(dir, { recursive: true, force: true });

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows));
  process.exit(0);
}
const kb = (n: number) => (n / 1024).toFixed(1).padStart(6);
console.log(`page weight (compressed), ${new Date().toISOString().slice(0, 10)}, node ${process.version}`);
console.log('page                       enc   HTML KB  CSS KB   JS KB  first KB  repeat KB   budget');
for (const r of rows) {
  const ok = r.html <= 14 * 1024 && r.css + r.js <= 45 * 1024 ? 'ok' : 'OVER';
  console.log(`${r.label.padEnd(26)} ${String(r.encoding).padEnd(4)} ${kb(r.html)}  ${kb(r.css)}  ${kb(r.js)}   ${kb(r.first)}    ${kb(r.repeat)}   ${ok}`);
}

/**
 * bench/paint — first paint of /login in real Chromium on an emulated Slow 3G link (2 s round
 * trip, 50 KB/s each way, as issue #18 measured), with app.css inline on a first visit
 * (INLINE_CSS on, the default) side by side with the external stylesheet only (INLINE_CSS=0).
 * Cold: a fresh browser profile (nothing cached, no cookie). Warm: the same profile loading the
 * page again after the first visit finished (stylesheet and scripts cached).
 * Prints min/median per case with the machine and load average; --write appends a section to
 * bench/RESULTS.md. Not a test: it asserts nothing.
 *
 * Usage: node --import tsx bench/paint.ts [runs=5] [--write]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { buildApp, ROOT } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { findBrowser } from '../src/print/browser.js';

const RUNS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5);
const WRITE = process.argv.includes('--write');
const SLOW_3G = { offline: false, latency: 2000, downloadThroughput: 50 * 1024, uploadThroughput: 50 * 1024 };

const chrome = findBrowser(process.env.CHROMIUM_PATH);
if (!chrome) {
  console.error('bench/paint needs Chromium (CHROMIUM_PATH or on PATH)');
  process.exit(1);
}

async function server(inline: boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-paint-'));
  const config = loadConfig({ ...process.env, DATA_DIR: dir, LOG_LEVEL: 'warn', NODE_ENV: 'production', INLINE_CSS: inline ? '1' : '0', HOST: '127.0.0.1', PORT: '0' });
  const built = await buildApp(config);
  await built.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (built.app.server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/login`, close: async () => { await built.app.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

/** One cold visit then one warm visit in a fresh profile; paint times in ms from navigation start. */
async function visit(url: string) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-paint-profile-'));
  const browser = await puppeteer.launch({
    executablePath: chrome!,
    headless: true,
    userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const cdp = await page.createCDPSession();
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', SLOW_3G);
    const measure = async () => {
      await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
      // Let a prefetch finish before the warm visit (it is what makes the warm visit warm).
      await new Promise((r) => setTimeout(r, 5000));
      return page.evaluate(() => {
        const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        return { fcp, load: nav.loadEventStart, html: nav.transferSize };
      });
    };
    const cold = await measure();
    const warm = await measure();
    return { cold, warm };
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]! };
};
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const results: { label: string; cold: number[]; warm: number[]; coldLoad: number[] }[] = [];
for (const [label, inline] of [['inline app.css (INLINE_CSS on)', true], ['external stylesheet (INLINE_CSS=0)', false]] as const) {
  const s = await server(inline);
  const row = { label, cold: [] as number[], warm: [] as number[], coldLoad: [] as number[] };
  try {
    for (let i = 0; i < RUNS; i++) {
      const r = await visit(s.url);
      row.cold.push(r.cold.fcp);
      row.warm.push(r.warm.fcp);
      row.coldLoad.push(r.cold.load);
    }
  } finally {
    await s.close();
  }
  results.push(row);
}

const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
const lines = [
  `First contentful paint of /login on Slow 3G (2 s RTT, 50 KB/s), ${RUNS} runs each, ${new Date().toISOString().slice(0, 16)}Z`,
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, load average ${load}`,
  '',
  '| case | cold FCP min | cold FCP median | warm FCP min | warm FCP median | cold load event median |',
  '|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.label} | ${fmt(stats(r.cold).min)} | ${fmt(stats(r.cold).median)} | ${fmt(stats(r.warm).min)} | ${fmt(stats(r.warm).median)} | ${fmt(stats(r.coldLoad).median)} |`),
];
console.log(lines.join('\n'));
if (WRITE) {
  const file = path.join(ROOT, 'bench/RESULTS.md');
  fs.appendFileSync(file, `\n## First paint (bench/paint.ts)\n\n${lines.join('\n')}\n`);
  console.log(`written to ${path.relative(ROOT, file)}`);
}
process.exit(0);

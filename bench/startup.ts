/**
 * bench/startup — `npm start` from a cold process to the first 200 on /health: the compiled
 * dist/cli.mjs (made by `npm ci`'s prepare, scripts/compile.mjs) side by side with the sources
 * through tsx (ZHICHENG_FROM_SOURCE=1, what npm start did before issue #18), and the single
 * binary when dist/zhicheng-linux-x64 exists. Same data folder (already migrated), runs
 * interleaved; min/median with the machine and the load average. --write appends to
 * bench/RESULTS.md. Not a test: it asserts nothing.
 *
 * Usage: node --import tsx bench/startup.ts [runs=7] [--write]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 7);
const WRITE = process.argv.includes('--write');
const BINARY = path.join(ROOT, 'dist', 'zhicheng-linux-x64');

spawnSync(process.execPath, ['scripts/compile.mjs'], { cwd: ROOT, stdio: 'inherit' });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-startup-'));

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

async function once(cmd: string, args: string[], env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production', ...env }, stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${cmd} ${args.join(' ')} exited ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      if (ok) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

const cases: [string, string, string[], Record<string, string>][] = [
  ['npm start, compiled (dist/cli.mjs)', process.execPath, ['scripts/start.mjs', 'serve'], {}],
  ['npm start, sources through tsx (before)', process.execPath, ['scripts/start.mjs', 'serve'], { ZHICHENG_FROM_SOURCE: '1' }],
];
if (fs.existsSync(BINARY)) cases.push(['single binary', BINARY, ['serve'], {}]);

// Creates and migrates the data folder first (a first start also prints the setup link).
spawnSync(process.execPath, ['scripts/start.mjs', 'migrate'], { cwd: ROOT, env: { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'warn' }, stdio: 'ignore' });
const times = cases.map(() => [] as number[]);
for (let i = 0; i < RUNS; i++) for (const [k, [, cmd, args, env]] of cases.entries()) times[k]!.push(await once(cmd, args, env));
fs.rmSync(dir, { recursive: true, force: true });

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
const lines = [
  `Start → first 200 on /health (migrated SQLite data folder), ${RUNS} runs each, interleaved, ${new Date().toISOString().slice(0, 16)}Z`,
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, load average ${load}`,
  '',
  '| how | min | median |',
  '|---|---|---|',
  ...cases.map(([label], k) => `| ${label} | ${Math.round(Math.min(...times[k]!))} ms | ${Math.round(med(times[k]!))} ms |`),
];
console.log(lines.join('\n'));
if (WRITE) fs.appendFileSync(path.join(ROOT, 'bench/RESULTS.md'), `\n## Start-up (bench/startup.ts)\n\n${lines.join('\n')}\n`);
process.exit(0);

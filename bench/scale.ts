/**
 * bench/scale — the mixed deadline workload (bench/load.ts) on four set-ups, side by side in one
 * run: SQLite 1 process, SQLite 2 workers, PostgreSQL 1 process, PostgreSQL 2 workers.
 *
 * Each set-up starts from a fresh copy of the dataset made by bench/gen.ts (a run submits drafts
 * and approves declarations); the PostgreSQL ones from that copy moved with
 * `zhicheng migrate-to-postgres` into a new database (its time is printed too). Prints req/s,
 * p95, errors and the server's CPU (all its processes) per set-up, with the load average, and
 * with --write puts the table into bench/RESULTS.md (between the scale markers).
 *
 * Usage: node --import tsx bench/scale.ts [--data DIR] [--concurrency 32] [--duration 20]
 *          [--pg postgres://postgres@127.0.0.1:5432/postgres] [--only sqlite1,pg2] [--rounds 3] [--write]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runLoad, type LevelResult } from './load.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : def;
};
const data = path.resolve(opt('data', path.join(os.tmpdir(), 'zhicheng-bench')));
const concurrency = Number(opt('concurrency', '32'));
const duration = Number(opt('duration', '20'));
const adminUrl = opt('pg', process.env.ZC_TEST_PG || 'postgres://postgres@127.0.0.1:5432/postgres');
const only = opt('only', '').split(',').filter(Boolean);
const write = argv.includes('--write');
// Rounds: every set-up once per round, interleaved; the table gives medians over the rounds.
const rounds = Number(opt('rounds', '1'));

if (!fs.existsSync(path.join(data, 'bench-accounts.json'))) {
  console.error(`no dataset in ${data}: npm run bench:gen first`);
  process.exit(2);
}

interface Setup {
  key: string;
  label: string;
  db: 'sqlite' | 'postgres';
  workers: number;
}
const setups: Setup[] = [
  { key: 'sqlite1', label: 'SQLite, 1 process', db: 'sqlite', workers: 1 },
  { key: 'sqlite2', label: 'SQLite, 2 workers', db: 'sqlite', workers: 2 },
  { key: 'pg1', label: 'PostgreSQL, 1 process', db: 'postgres', workers: 1 },
  { key: 'pg2', label: 'PostgreSQL, 2 workers', db: 'postgres', workers: 2 },
].filter((s) => !only.length || only.includes(s.key)) as Setup[];

const dbUrl = (name: string) => {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
};

async function admin(q: string) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

interface Row {
  round: number;
  setup: Setup;
  level: LevelResult;
  moveSeconds?: number;
  errors: number;
}

const rows: Row[] = [];
const loadBefore = os.loadavg();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-scale-'));
try {
  for (let round = 0; round < rounds; round++) for (const s of setups) {
    const dir = path.join(work, s.key);
    fs.cpSync(data, dir, { recursive: true });
    const env: Record<string, string> = { WORKERS: String(s.workers), BACKUP_ENABLED: 'false' };
    let moveSeconds: number | undefined;
    if (s.db === 'postgres') {
      const name = `zc_bench_${s.key}`;
      await admin(`drop database if exists ${name} with (force)`);
      await admin(`create database ${name}`);
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate-to-postgres', dbUrl(name), '--data-dir', dir], { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`migrate-to-postgres failed:\n${r.stdout}\n${r.stderr}`);
      moveSeconds = (performance.now() - t0) / 1000;
      env.DATABASE_URL = dbUrl(name);
    }
    console.log(`\n== ${rounds > 1 ? `round ${round + 1}: ` : ''}${s.label}${moveSeconds ? ` (dataset moved to PostgreSQL in ${moveSeconds.toFixed(1)} s)` : ''}`);
    const result = await runLoad(dir, { steps: [concurrency], duration, env });
    rows.push({ round, setup: s, level: result.levels[0]!, moveSeconds, errors: result.errors.length });
    if (s.db === 'postgres') await admin(`drop database if exists zc_bench_${s.key} with (force)`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
const loadAfter = os.loadavg();

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');
const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? (v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2) : NaN;
};
const baseOf = (r: Row) => rows.find((x) => x.round === r.round && x.setup.db === r.setup.db && x.setup.workers === 1)?.level.total.rps;
const table = [
  `| set-up | req/s (mixed) | vs 1 process | ${rounds > 1 ? 'vs 1 process, each round | ' : ''}p50 ms | p95 ms | p99 ms | errors | server CPU % (all processes) | PostgreSQL CPU % | client CPU % | machine CPU % of ${os.cpus().length * 100} |`,
  `|---|---|---|${rounds > 1 ? '---|' : ''}---|---|---|---|---|---|---|---|`,
  ...setups.map((s) => {
    const mine = rows.filter((r) => r.setup === s);
    const m = (f: (r: Row) => number) => median(mine.map(f));
    const ratios = mine.map((r) => r.level.total.rps / (baseOf(r) ?? NaN));
    const db = (r: Row) => (s.db === 'sqlite' ? 0 : r.level.dbCpuPct);
    return `| ${s.label} | ${fmt(m((r) => r.level.total.rps))} | ${fmt(median(ratios), 2)}× | ${rounds > 1 ? `${ratios.map((x) => fmt(x, 2)).join(', ')} | ` : ''}${fmt(m((r) => r.level.total.p50))} | ${fmt(m((r) => r.level.total.p95))} | ${fmt(m((r) => r.level.total.p99))} | ${mine.reduce((n, r) => n + r.level.total.errors, 0)} | ${fmt(m((r) => r.level.serverCpuPct))} | ${s.db === 'sqlite' ? '—' : fmt(m(db))} | ${fmt(m((r) => r.level.clientCpuPct))} | ${fmt(m((r) => r.level.serverCpuPct + db(r) + r.level.clientCpuPct))} |`;
  }),
].join('\n');
const moved = rows.find((r) => r.moveSeconds)?.moveSeconds;
const header = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; concurrency ${concurrency} (${Math.round(concurrency / 4)} reviewers), ${duration} s each${rounds > 1 ? `, ${rounds} rounds (set-ups interleaved; medians)` : ''}, load client on the same machine; load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}.${moved ? ` The dataset (SQLite) moved to PostgreSQL by migrate-to-postgres in ${moved.toFixed(1)} s.` : ''}`;
console.log(`\n${header}\n\n${table}`);

if (write) {
  const file = path.join(ROOT, 'bench/RESULTS.md');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const section = `<!-- scale:begin -->\n## Scale-out: SQLite and PostgreSQL, one process and two workers (bench/scale.ts)\n\n${header}\n\n${table}\n<!-- scale:end -->`;
  const next = /<!-- scale:begin -->[\s\S]*<!-- scale:end -->/.test(text) ? text.replace(/<!-- scale:begin -->[\s\S]*<!-- scale:end -->/, section) : `${text.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(file, next);
  console.log(`\nwritten to ${path.relative(ROOT, file)}`);
}

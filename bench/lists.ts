/**
 * bench/lists — big offices' lists (issue #18): GET /org/reviews and /org/stats for a supervisor
 * and a committee office at 1k / 10k / 50k declarations, side by side with another checkout
 * (the code before the change) when --base is given.
 *
 * Datasets are made once by bench/gen.ts (applicants = declarations, 30 blobs) under
 * .cache/lists/d<N> (gitignored) and reused; each code path works on its own copy of the database
 * (run-<label>-<N>), since a newer checkout migrates it (indexes) and an older one would refuse a
 * database with migrations it does not know. With ZC_BENCH_PG=postgres://… each copy is also moved
 * into a PostgreSQL database of its own (zc_lists_<label>_<N>, through migrate-to-postgres) and
 * measured there.
 *
 * Every figure comes from a child process per (code path, dataset, database): the app built
 * in-process (buildApp), a supervisor and a committee office signed in, then each page requested
 * --requests times through app.inject after 3 warm-up requests, alternating the pages. Prints
 * min / median / p95 in ms, the machine and the load average; --write replaces the "Lists" section
 * of bench/RESULTS.md.
 *
 * Usage: node --import tsx bench/lists.ts [--sizes 1000,10000,50000] [--requests 30]
 *          [--base <commit>] [--only base|head] [--write]
 * --base: `git archive <commit>` is unpacked into .cache/lists/base-<sha> (node_modules linked).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = path.join(ROOT, '.cache', 'lists');
const PAGES = ['/org/reviews', '/org/stats'] as const;

interface Measure { label: string; size: number; db: 'sqlite' | 'postgres'; who: string; page: string; min: number; median: number; p95: number; n: number; total?: number }

function args(argv: string[]) {
  const o = { sizes: [1000, 10_000, 50_000], requests: 30, base: '', only: '', write: false, worker: false, root: ROOT, data: '', dbUrl: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--sizes') o.sizes = argv[++i]!.split(',').map(Number);
    else if (a === '--requests') o.requests = Number(argv[++i]);
    else if (a === '--base') o.base = argv[++i]!;
    else if (a === '--only') o.only = argv[++i]!;
    else if (a === '--write') o.write = true;
    else if (a === '--worker') o.worker = true;
    else if (a === '--root') o.root = argv[++i]!;
    else if (a === '--data') o.data = argv[++i]!;
    else if (a === '--db-url') o.dbUrl = argv[++i]!;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}
const opt = args(process.argv.slice(2));

// ---------------------------------------------------------------------------------------
// Worker: one code path on one database, prints one JSON line

async function worker() {
  const imp = (p: string) => import(pathToFileURL(path.join(opt.root, p)).href);
  const { buildApp } = await imp('src/app.ts');
  const { loadConfig } = await imp('src/config.ts');
  // The guards against overload and abuse are off: a busy shared machine would otherwise answer 503.
  const env: Record<string, string> = { DATA_DIR: opt.data, NODE_ENV: 'production', LOG_LEVEL: 'warn', RATE_LIMIT: 'off', MAX_EVENT_LOOP_DELAY_MS: '0', MAX_ANON_INFLIGHT: '0', MAX_ANON_INFLIGHT_PER_IP: '0', ANON_MAX_EVENT_LOOP_DELAY_MS: '0' };
  if (opt.dbUrl) env.DATABASE_URL = opt.dbUrl;
  const config = loadConfig(env);
  const { app } = await buildApp(config);
  await app.ready();
  const accounts = JSON.parse(fs.readFileSync(path.join(opt.data, 'bench-accounts.json'), 'utf8'));
  const staff = accounts.reviewers as { username: string; orgKind: string; orgId: number; todo: number }[];
  // The biggest offices: the supervisor and the committee with the most waiting.
  const pick = (kind: string) => staff.filter((s) => s.orgKind === kind).sort((a, b) => b.todo - a.todo)[0];
  const who = [pick('supervisor'), pick('committee')].filter(Boolean) as typeof staff;
  const out: Omit<Measure, 'label' | 'size' | 'db'>[] = [];
  for (const s of who) {
    const cookies = new Map<string, string>();
    const jar = (res: any) => {
      for (const c of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
      }
    };
    const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const get = async (url: string) => {
      const res = await app.inject({ method: 'GET', url, headers: { cookie: cookie(), accept: 'text/html' } });
      jar(res);
      return res;
    };
    const page = await get('/login?type=staff');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const login = await app.inject({
      method: 'POST', url: '/login', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf, type: 'staff', account: s.username, password: accounts.password }).toString(),
    });
    jar(login);
    if (login.statusCode !== 303 || /login|2fa/.test(String(login.headers.location))) throw new Error(`login of ${s.username}: ${login.statusCode} → ${login.headers.location}`);
    const samples: Record<string, number[]> = {};
    const totals: Record<string, number> = {};
    for (let i = 0; i < opt.requests + 3; i++) {
      for (const url of PAGES) {
        const t0 = performance.now();
        const res = await get(url);
        const ms = performance.now() - t0;
        if (res.statusCode !== 200) throw new Error(`${url} as ${s.username}: ${res.statusCode}`);
        if (i === 0) totals[url] = Number((url === '/org/reviews' ? /共 (\d+) 条/ : /申报总数[^\d]*(\d+)/).exec(res.body)?.[1] ?? NaN);
        if (i >= 3) (samples[url] ??= []).push(ms);
      }
    }
    for (const url of PAGES) {
      const xs = samples[url]!.sort((a, b) => a - b);
      const q = (p: number) => xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]!;
      out.push({ who: `${s.orgKind} (${s.username})`, page: url, min: xs[0]!, median: q(0.5), p95: q(0.95), n: xs.length, total: totals[url] });
    }
  }
  await app.close();
  console.log(JSON.stringify(out));
}

// ---------------------------------------------------------------------------------------
// Orchestration

function dataset(size: number): string {
  const dir = path.join(CACHE, `d${size}`);
  if (fs.existsSync(path.join(dir, 'bench-accounts.json'))) return dir;
  console.log(`generating ${size} declarations → ${dir} (bench/gen.ts; minutes for 50k)`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/gen.ts', dir, '--force', '--applicants', String(size), '--declarations', String(size), '--blobs', '30'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bench/gen.ts failed for ${size}`);
  return dir;
}

/** A working copy of a dataset for one code path (database, key, accounts; no uploads). */
function copyFor(label: string, size: number, src: string): string {
  const dir = path.join(CACHE, `run-${label}-${size}`);
  const stamp = fs.statSync(path.join(src, 'zhicheng.db')).mtimeMs;
  const mark = path.join(dir, '.from');
  if (fs.existsSync(mark) && Number(fs.readFileSync(mark, 'utf8')) === stamp) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['zhicheng.db', 'master.key', 'bench-accounts.json']) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  fs.writeFileSync(mark, String(stamp));
  return dir;
}

/** The base commit unpacked next to the cache (its own src/, our node_modules). */
function baseRoot(ref: string): { root: string; sha: string } {
  const sha = execFileSync('git', ['rev-parse', '--short=12', ref], { cwd: ROOT, encoding: 'utf8' }).trim();
  const root = path.join(CACHE, `base-${sha}`);
  if (!fs.existsSync(path.join(root, 'src', 'app.ts'))) {
    fs.mkdirSync(root, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} | tar -x -C '${root}'`], { cwd: ROOT });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  }
  return { root, sha };
}

/** ZC_BENCH_PG: the copy moved into a PostgreSQL database of its own (once). */
function pgFor(label: string, size: number, root: string, data: string): string {
  const admin = process.env.ZC_BENCH_PG!;
  const name = `zc_lists_${label}_${size}`.replace(/[^a-z0-9_]/g, '_');
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const mark = path.join(data, `.pg-${name}`);
  if (fs.existsSync(mark)) return url.toString();
  const psql = (q: string) => execFileSync('psql', [admin, '-qtAc', q], { encoding: 'utf8' });
  psql(`drop database if exists ${name}`);
  psql(`create database ${name}`);
  console.log(`moving ${data} into PostgreSQL ${name} (migrate-to-postgres)`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate-to-postgres', url.toString()], { cwd: root, env: { ...process.env, DATA_DIR: data, NODE_ENV: 'production', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`migrate-to-postgres failed for ${name}`);
  execFileSync('psql', [url.toString(), '-qtAc', 'vacuum analyze'], { encoding: 'utf8' });
  fs.writeFileSync(mark, '1');
  return url.toString();
}

function measure(label: string, root: string, size: number, data: string, dbUrl = ''): Measure[] {
  const a = ['--import', 'tsx', fileURLToPath(import.meta.url), '--worker', '--root', root, '--data', data, '--requests', String(opt.requests)];
  if (dbUrl) a.push('--db-url', dbUrl);
  const r = spawnSync(process.execPath, a, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`worker ${label} ${size}: ${r.stderr.slice(-2000)}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return (JSON.parse(line) as Measure[]).map((m) => ({ ...m, label, size, db: dbUrl ? 'postgres' : 'sqlite' }));
}

function machine() {
  const cpus = os.cpus();
  const mem = `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`;
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${mem}, ${os.type()} ${os.release()}, Node ${process.version}`;
}
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function main() {
  const paths: { label: string; root: string; note: string }[] = [];
  if (opt.base && opt.only !== 'head') {
    const b = baseRoot(opt.base);
    paths.push({ label: 'before', root: b.root, note: `${opt.base} (${b.sha})` });
  }
  if (opt.only !== 'base') {
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'migrations'], { cwd: ROOT, encoding: 'utf8' }).trim() ? '+changes' : '';
    paths.push({ label: 'after', root: ROOT, note: `${head}${dirty}` });
  }
  const started = new Date();
  const loadBefore = load();
  console.log(`machine: ${machine()}; load average ${loadBefore}`);
  const all: Measure[] = [];
  for (const size of opt.sizes) {
    const src = dataset(size);
    for (const p of paths) {
      const data = copyFor(p.label, size, src);
      const dbs: string[] = [''];
      if (process.env.ZC_BENCH_PG) dbs.push(pgFor(p.label, size, p.root, data));
      for (const url of dbs) {
        const ms = measure(p.label, p.root, size, data, url);
        all.push(...ms);
        for (const m of ms) console.log(`${String(size).padStart(6)} ${m.db.padEnd(8)} ${p.label.padEnd(6)} ${m.who.padEnd(34)} ${m.page.padEnd(12)} min ${m.min.toFixed(1).padStart(6)}  median ${m.median.toFixed(1).padStart(6)}  p95 ${m.p95.toFixed(1).padStart(6)} ms  (${m.total} shown as total)`);
      }
    }
  }
  const loadAfter = load();
  console.log(`load average after: ${loadAfter}`);
  if (opt.write) writeResults(all, paths, started, loadBefore, loadAfter);
}

function writeResults(all: Measure[], paths: { label: string; note: string }[], started: Date, before: string, after: string) {
  const file = path.join(ROOT, 'bench', 'RESULTS.md');
  const f = (x: number) => x.toFixed(1);
  const lines: string[] = [
    '## Lists (bench/lists.ts)',
    '',
    `Issue #18, big offices' lists: \`npm run bench:lists -- --base <commit> --write\`. ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC; ${machine()}; load average (1/5/15 min) ${before} before, ${after} after${Number(before.split(' ')[0]) > 1.5 ? ' — **the machine was busy with other work: compare the columns of one run, not absolute figures**' : ''}.`,
    `Code paths: ${paths.map((p) => `**${p.label}** = ${p.note}`).join(', ')}. Datasets by bench/gen.ts (applicants = declarations). In-process \`app.inject\` after sign-in, ${opt.requests} requests per page after 3 warm-up, pages alternating; ms per request (server side, whole page: menu count, queries, Nunjucks).`,
    '',
    `| declarations | db | who | page | shown | ${paths.map((p) => `${p.label} min / median / p95`).join(' | ')} |`,
    `|---:|---|---|---|---:|${paths.map(() => '---:').join('|')}|`,
  ];
  const keys = [...new Set(all.map((m) => `${m.size}|${m.db}|${m.who}|${m.page}`))];
  for (const k of keys) {
    const [size, db, who, page] = k.split('|');
    const row = paths.map((p) => all.find((m) => `${m.size}|${m.db}|${m.who}|${m.page}` === k && m.label === p.label));
    const shown = row.find(Boolean)?.total;
    lines.push(`| ${Number(size).toLocaleString('en')} | ${db} | ${who} | ${page} | ${shown ?? ''} | ${row.map((m) => (m ? `${f(m.min)} / **${f(m.median)}** / ${f(m.p95)}` : '–')).join(' | ')} |`);
  }
  lines.push('');
  const section = lines.join('\n');
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Bench results\n';
  const re = /## Lists \(bench\/lists\.ts\)[\s\S]*?(?=\n## |$)/;
  text = re.test(text) ? text.replace(re, section.trimEnd() + '\n') : `${text.trimEnd()}\n\n${section}`;
  fs.writeFileSync(file, text);
  console.log(`wrote the Lists section of ${path.relative(ROOT, file)}`);
}

if (opt.worker) await worker();
else await main();

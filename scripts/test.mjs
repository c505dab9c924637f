#!/usr/bin/env node
/**
 * `npm test` after the type check: the whole suite on SQLite (unit, integration, security, e2e)
 * and, at the same time, every test that touches the database again on PostgreSQL.
 *
 * PostgreSQL: ZC_TEST_PG (an admin URL; default postgres://127.0.0.1:5432/postgres as the
 * current OS user). Each test app gets a database of its own (test/helpers/pg.ts). When no
 * server answers, the PostgreSQL half is skipped with a note, unless ZC_TEST_PG_REQUIRED=1
 * (CI), which makes it a failure. ZC_TEST_ONLY=sqlite|postgres runs one half.
 *
 * The SQLite half prints as it goes; the PostgreSQL half is written to .tap-postgres.log and
 * summarised at the end (its failures printed in full).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const extra = process.argv.slice(2);
const only = process.env.ZC_TEST_ONLY ?? '';
const pgUrl = process.env.ZC_TEST_PG || 'postgres://127.0.0.1:5432/postgres';
const required = process.env.ZC_TEST_PG_REQUIRED === '1';
const LOG = path.join(root, '.tap-postgres.log');

/** Tests about the SQLite file itself (backup, kill -9, CLI on a data folder) or with no database. */
const SQLITE_ONLY = new Set([
  'test/integration/backup.test.ts',
  'test/integration/durability.test.ts',
  'test/integration/cli.test.ts',
  'test/integration/pressure.test.ts',
  'test/integration/bench-dataset.test.ts',
]);

const list = (dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.test.ts')).map((f) => `${dir}/${f}`).sort();
const pgFiles = [...list('test/integration'), ...list('test/security')].filter((f) => !SQLITE_ONLY.has(f));

function run(args, env, out) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'node_modules/tap/dist/esm/run.mjs'), ...args], {
      env: { ...process.env, ...env },
      stdio: out ? ['ignore', out, out] : 'inherit',
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Drops the test databases whose test process is gone (a few at a time: each drop waits for a checkpoint). */
async function dropLeftovers(c) {
  const { rows } = await c.query("select datname from pg_database where datname like 'zc\\_t\\_%'");
  const dead = rows.map((r) => r.datname).filter((datname) => {
    const pid = Number(/^zc_t_(\d+)_/.exec(datname)?.[1]);
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
  const one = async (client) => {
    for (let name = dead.shift(); name; name = dead.shift()) await client.query(`drop database if exists ${name} with (force)`).catch(() => {});
  };
  const extra = await Promise.all([1, 2, 3].map(async () => {
    const x = new pg.Client({ connectionString: pgUrl });
    await x.connect();
    return x;
  }));
  try {
    await Promise.all([c, ...extra].map(one));
  } finally {
    await Promise.all(extra.map((x) => x.end().catch(() => {})));
  }
}

async function reachable() {
  const c = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    // Test databases left by runs that died (their pid is gone) are dropped.
    await dropLeftovers(c);
    return true;
  } catch (err) {
    return String(err?.message ?? err);
  } finally {
    await c.end().catch(() => {});
  }
}

// tap rebuilds its test class when the configured plugins differ from the installed set (always
// after a fresh `npm ci`, since package.json drops @tapjs/typescript). Two halves starting at once
// would both rebuild and one would load a half-written build (CI failed so): build once, first.
const built = await run(['build'], {}, null);
if (built !== 0) {
  console.error('tap build failed');
  process.exit(1);
}

const halves = [];
// The SQLite half must not inherit ZC_TEST_PG (CI exports it): it would put every test app on
// PostgreSQL and SQLite would go untested.
if (only !== 'postgres') halves.push(['sqlite', run(extra, { ZC_TEST_PG: '' }, null)]);
if (only !== 'sqlite') {
  const ok = await reachable();
  if (ok === true) {
    const fd = fs.openSync(LOG, 'w');
    halves.push(['postgres', run([...pgFiles, ...extra], { ZC_TEST_PG: pgUrl }, fd).finally(() => fs.closeSync(fd))]);
  } else if (required) {
    console.error(`\nPostgreSQL 测试无法运行 (ZC_TEST_PG_REQUIRED=1): ${pgUrl}: ${ok}`);
    halves.push(['postgres', Promise.resolve(1)]);
  } else {
    console.error(`\n注意：未连接到 PostgreSQL（${pgUrl}: ${ok}），跳过 PostgreSQL 测试。设置 ZC_TEST_PG=postgres://user@host:5432/postgres 以运行。`);
  }
}

const results = await Promise.all(halves.map(async ([name, p]) => [name, await p]));
// Test processes drop their databases as they end (test/helpers/pg.ts); one that was killed
// leaves them behind: dropped here rather than at the next run.
if (halves.some(([name]) => name === 'postgres')) {
  const c = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
  await c.connect().then(() => dropLeftovers(c), () => {}).finally(() => c.end().catch(() => {}));
}
for (const [name, code] of results) {
  if (name !== 'postgres' || !fs.existsSync(LOG)) continue;
  const text = fs.readFileSync(LOG, 'utf8');
  const summary = text.split('\n').filter((l) => /^# \{ total|^# time=/.test(l));
  console.log(`\n==> PostgreSQL (${pgFiles.length} files, log: ${path.relative(root, LOG)})`);
  if (code !== 0) {
    // Each failing file's block, as tap printed it.
    const blocks = text.split(/\n(?=# Subtest: )/).filter((b) => /\nnot ok \d+ - /.test(b));
    console.log(blocks.length ? blocks.join('\n') : text.slice(-20_000));
  }
  console.log(summary.join('\n') || text.slice(-2000));
}
const failed = results.filter(([, code]) => code !== 0).map(([name]) => name);
if (failed.length) console.error(`\n失败 failed: ${failed.join(', ')}`);
process.exit(failed.length ? 1 : 0);

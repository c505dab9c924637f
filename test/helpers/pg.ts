/**
 * PostgreSQL for the test suite. When ZC_TEST_PG is set (an admin URL such as
 * postgres://postgres@127.0.0.1:5432/postgres), every makeApp() gets a database of its own,
 * created from a template that already holds the migrated schema and the dictionaries (a file
 * copy: ~0.1 s instead of migrating and loading fixtures every time). The template's name
 * carries a hash of the migrations and fixtures, so a change builds a new one; databases are
 * dropped when the app closes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ROOT } from '../../src/app-root.js';

export const TEST_PG_URL = process.env.ZC_TEST_PG || '';
export const onPostgres = TEST_PG_URL !== '';

/** The URL of another database on the same server. */
export function dbUrl(name: string): string {
  const u = new URL(TEST_PG_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: TEST_PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function schemaHash(): string {
  const h = crypto.createHash('sha256');
  const files = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const f of [...files(path.join(ROOT, 'migrations')), ...files(path.join(ROOT, 'fixtures')), ...['fixtures.ts', 'ddl.ts', 'migrate.ts', 'postgres.ts'].map((f) => path.join(ROOT, 'src/db', f))].sort()) {
    h.update(f.slice(ROOT.length)).update(fs.readFileSync(f));
  }
  return h.digest('hex').slice(0, 12);
}

let template: Promise<string> | null = null;

/**
 * Builds the template once per schema (under an advisory lock: tap runs files in parallel).
 * `build` migrates and loads the fixtures into the database at the URL it is given.
 */
export function templateDb(build: (url: string) => Promise<void>): Promise<string> {
  template ??= (async () => {
    const name = `zc_tpl_${schemaHash()}`;
    await admin(async (c) => {
      await c.query('select pg_advisory_lock(7346001)');
      try {
        const has = await c.query('select 1 from pg_database where datname = $1', [name]);
        if (has.rowCount) return;
        const building = `${name}_build_${process.pid}`;
        await c.query(`drop database if exists ${building} with (force)`);
        await c.query(`create database ${building}`);
        await build(dbUrl(building));
        await c.query(`alter database ${building} rename to ${name}`);
        // Old templates (an earlier schema) are left to `npm run test:pg-clean`.
      } finally {
        await c.query('select pg_advisory_unlock(7346001)');
      }
    });
    return name;
  })();
  return template;
}

let counter = 0;

/** A fresh database copied from the template; returns its name. */
export async function createTestDb(tpl: string): Promise<string> {
  const name = `zc_t_${process.pid}_${++counter}_${crypto.randomBytes(3).toString('hex')}`;
  await admin(async (c) => {
    // CREATE DATABASE … TEMPLATE refuses while another session is connected to the template;
    // only the builder ever is, under the same lock.
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`create database ${name} template ${tpl}`);
        return;
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test(String((err as Error).message))) throw err;
        await new Promise((r) => setTimeout(r, 100 + attempt * 50));
      }
    }
  });
  return name;
}

const pendingDrops: string[] = [];
let dropOnExit = false;

/**
 * Marks a test database for dropping when this test process ends. DROP DATABASE forces an
 * immediate checkpoint and waits for it (0.3–0.9 s here, most of a test app's cost on
 * PostgreSQL); dropped together at the end, the drops share their checkpoints. scripts/test.mjs
 * also drops what a process that died left behind.
 */
export async function dropTestDb(name: string): Promise<void> {
  pendingDrops.push(name);
  if (dropOnExit) return;
  dropOnExit = true;
  // beforeExit: the event loop is empty (every test done); the drops keep it alive until done.
  process.on('beforeExit', () => {
    if (pendingDrops.length) void dropPendingDbs();
  });
}

/** Drops the databases marked so far, a few at a time. */
export async function dropPendingDbs(): Promise<void> {
  const names = pendingDrops.splice(0);
  const next = async (): Promise<void> => {
    const name = names.shift();
    if (!name) return;
    await admin((c) => c.query(`drop database if exists ${name} with (force)`)).catch(() => {});
    return next();
  };
  await Promise.all(Array.from({ length: 6 }, next));
}

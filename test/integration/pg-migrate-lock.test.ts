/**
 * Two processes starting together on one fresh PostgreSQL database migrate it once (issue #12,
 * "migrate takes a lock"): two migrateToLatest at the same time, each on its own pool (as two
 * processes would be), both succeed; every migration is applied by exactly one of them and
 * recorded once in kysely_migration; the schema is complete (the same tables as SQLite). Then
 * the same with two real `migrate` commands, which also load the dictionaries: both exit 0 and
 * the dictionaries are there once. PostgreSQL only (SQLite's single writer has no such race).
 */
import t, { type Test } from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { sql } from 'kysely';
import { onPostgres, TEST_PG_URL, dbUrl } from '../helpers/pg.js';
import { PROJECT } from '../helpers/child.js';
import { createDb, listTables, openDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrations } from '../../migrations/index.js';

if (!onPostgres) {
  t.plan(0, 'PostgreSQL only: set ZC_TEST_PG to run (SQLite has one writer and no migration race)');
} else {
  const admin = async (q: string) => {
    const c = new pg.Client({ connectionString: TEST_PG_URL });
    await c.connect();
    try {
      return await c.query(q);
    } finally {
      await c.end();
    }
  };
  /** An empty database of its own, dropped at the end of the test. */
  const emptyDb = async (t: Test) => {
    const name = `zc_miglock_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
    await admin(`create database ${name}`);
    t.teardown(() => admin(`drop database if exists ${name} with (force)`));
    return dbUrl(name);
  };
  const expectedTables = async () => {
    const { db, raw } = createDb(':memory:');
    await migrateToLatest(db);
    const tables = await listTables(db);
    await db.destroy();
    if (raw.open) raw.close();
    return tables;
  };
  const all = Object.keys(migrations).sort();

  t.test('two migrateToLatest at once on an empty database: each migration applied exactly once', async (t) => {
    const url = await emptyDb(t);
    const stores = await Promise.all([0, 1, 2].map(() => openDatabase({ databaseUrl: url, dbFile: '', dbPoolMax: 2 })));
    t.teardown(() => Promise.all(stores.map((s) => s.close())));
    const results = await Promise.allSettled(stores.map((s) => migrateToLatest(s.db)));
    t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled'], `all succeed ${results.map((r) => (r.status === 'rejected' ? String(r.reason) : '')).join(' ')}`);
    const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    t.same([...applied].sort(), all, 'every migration applied by exactly one of them');
    const rows = (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(stores[0]!.db)).rows.map((r) => r.name);
    t.same(rows, all, 'kysely_migration: one row per migration, no duplicate');
    t.same(await listTables(stores[0]!.db), await expectedTables(), 'the schema is complete (the tables of a SQLite migrate)');
    t.same(await migrateToLatest(stores[1]!.db), [], 'a later start has nothing to do');
  });

  t.test('two `migrate` commands at once: both exit 0, migrations and dictionaries loaded once', async (t) => {
    const url = await emptyDb(t);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-miglock-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const run = () =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate'], {
          cwd: PROJECT, env: { ...process.env, NODE_ENV: 'test', DATA_DIR: dir, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        p.stdout.on('data', (s) => (out += s));
        p.stderr.on('data', (s) => (out += s));
        p.on('exit', (code) => resolve({ code, out }));
      });
    const [a, b] = await Promise.all([run(), run()]);
    t.equal(a.code, 0, `first: ${a.out}`);
    t.equal(b.code, 0, `second: ${b.out}`);
    t.notMatch(a.out + b.out, /\n\s+at /, 'no stack trace');
    const store = await openDatabase({ databaseUrl: url, dbFile: '', dbPoolMax: 1 });
    t.teardown(() => store.close());
    const names = (await sql<{ name: string }>`select name from kysely_migration`.execute(store.db)).rows.map((r) => r.name).sort();
    t.same(names, all, 'each migration recorded once');
    // Dictionaries loaded by one of the two, not twice (a unique key would refuse, a missing one duplicate).
    const count = async (q: ReturnType<typeof sql<{ n: number }>>) => Number((await q.execute(store.db)).rows[0]!.n);
    t.equal(await count(sql`select count(*) as n from orgs where kind = 'platform'`), 1, 'one platform org');
    t.equal(await count(sql`select count(*) as n from holiday_years`), await count(sql`select count(distinct year) as n from holiday_years`), 'holiday years once');
    t.ok((await count(sql`select count(*) as n from dict_items`)) > 0, 'dictionaries loaded');
  });
}

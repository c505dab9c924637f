/**
 * SQLite under `serve --workers`: a write that finds another process holding the write lock
 * waits on a timer (src/db/sqliteDriver.ts), so the waiting process keeps serving — SQLite's
 * own busy handler would sleep inside the call and stop its event loop. Two handles on one file
 * stand for the two processes. SQLite only: PostgreSQL's waits are asynchronous anyway.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { sql } from 'kysely';
import { createDb, openSqlite, writeTx } from '../../src/db/index.js';
import { BUSY_WAIT_MS } from '../../src/db/sqliteDriver.js';
import { onPostgres } from '../helpers/pg.js';

if (onPostgres) {
  t.plan(0, 'about SQLite file locks');
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-busy-'));
  const file = path.join(dir, 'busy.db');
  const other = openSqlite(file); // "the other worker"
  other.exec('create table notes (id integer primary key, text text not null)');
  const { db, raw } = createDb(file); // "this worker", as the app opens it
  t.teardown(async () => {
    await db.destroy();
    if (raw.open) raw.close();
    other.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const count = () => (other.prepare('select count(*) as n from notes').get() as { n: number }).n;

  /** Runs `work` while the other handle holds the write lock for `holdMs`; counts timer ticks meanwhile. */
  async function whileLocked<T>(holdMs: number, work: () => Promise<T>) {
    other.exec('begin immediate');
    other.prepare('insert into notes (text) values (?)').run('其他进程');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const release = setTimeout(() => other.exec('commit'), holdMs);
    const t0 = performance.now();
    try {
      const value = await work();
      return { value, ms: performance.now() - t0, ticks };
    } catch (err) {
      return { error: err as Error & { code?: string }, ms: performance.now() - t0, ticks };
    } finally {
      clearInterval(timer);
      clearTimeout(release);
      if (other.inTransaction) other.exec('rollback');
    }
  }

  t.test('a write transaction waits for the other process without stopping the event loop', async (t) => {
    const before = count();
    const r = await whileLocked(300, () => writeTx(db, (trx) => trx.insertInto('notes' as never).values({ text: '张伟' } as never).execute()));
    t.notOk(r.error, 'the write went through once the lock was free');
    t.ok(r.ms >= 250, `it waited for the lock (${r.ms.toFixed(0)} ms)`);
    t.ok(r.ticks >= 10, `timers kept running while it waited (${r.ticks} ticks of 10 ms)`);
    t.equal(count(), before + 2, 'both rows are there: the other process’s and this one');
  });

  t.test('an autocommit write waits the same way', async (t) => {
    const before = count();
    const r = await whileLocked(300, () => sql`insert into notes (text) values (${'李娜'})`.execute(db));
    t.notOk(r.error);
    t.ok(r.ms >= 250 && r.ticks >= 10, `waited ${r.ms.toFixed(0)} ms with ${r.ticks} timer ticks`);
    t.equal(count(), before + 2);
  });

  t.test('reads never wait (WAL), and busy_timeout is back for other users of the handle', async (t) => {
    const r = await whileLocked(300, () => db.selectFrom('notes' as never).selectAll().execute());
    t.notOk(r.error);
    t.ok(r.ms < 200, `a read during the other's transaction answers at once (${r.ms.toFixed(0)} ms)`);
    t.equal(raw.pragma('busy_timeout', { simple: true }), BUSY_WAIT_MS);
  });

  t.test('a lock held past the wait fails with SQLITE_BUSY, writes nothing, and leaves no transaction open', async (t) => {
    const before = count();
    const r = await whileLocked(BUSY_WAIT_MS + 1500, () => writeTx(db, (trx) => trx.insertInto('notes' as never).values({ text: '王芳' } as never).execute()));
    t.equal(r.error?.code, 'SQLITE_BUSY');
    t.ok(r.ms >= BUSY_WAIT_MS - 100 && r.ms < BUSY_WAIT_MS + 1000, `gave up after ${r.ms.toFixed(0)} ms`);
    t.ok(r.ticks >= 100, `the event loop ran all the while (${r.ticks} ticks)`);
    t.equal(count(), before, 'the other process rolled back, this one wrote nothing');
    t.equal(raw.inTransaction, false);
    t.equal(raw.pragma('busy_timeout', { simple: true }), BUSY_WAIT_MS);
    await writeTx(db, (trx) => trx.insertInto('notes' as never).values({ text: '王芳' } as never).execute());
    t.equal(count(), before + 1, 'the next write goes through');
  });
}

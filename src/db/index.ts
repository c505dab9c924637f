import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresAdapter, sql, type Transaction } from 'kysely';
import { patientSqliteDialect, BUSY_WAIT_MS } from './sqliteDriver.js';
import type { Database } from './schema.js';
import { openPostgres, type PgOptions } from './postgres.js';

export type DB = Kysely<Database>;
export type Tx = Transaction<Database> | Kysely<Database>;
export type Dialect = 'sqlite' | 'postgres';

/**
 * Every SQLite pragma lives here. WAL + synchronous=FULL: an acknowledged write survives a
 * power cut (official records); busy_timeout lets a second process (worker, backup, CLI) wait
 * instead of failing; foreign_keys is off by default in SQLite.
 */
export function openSqlite(file: string | Buffer): SqliteDatabase.Database {
  if (typeof file === 'string' && file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  // A Buffer is a serialized database opened in memory (tests start from a migrated copy).
  const raw = new SqliteDatabase(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
  raw.pragma('foreign_keys = ON');
  // 32 MB of page cache instead of SQLite's 2 MB: a big office's lists walk indexes of tens of
  // thousands of entries on every page (bench/lists.ts), which the default cache cannot hold.
  raw.pragma('cache_size = -32768');
  return raw;
}

/**
 * Kysely's SQLite driver prepares every statement again on each query (7% of the server's CPU
 * under the load bench). Prepared statements are kept by their SQL text, the most recent 500.
 * Safe because Kysely runs one query at a time on its single connection (a streaming query
 * holds the connection until it ends), and SQLite re-prepares a statement after a schema change.
 */
function withStatementCache(raw: SqliteDatabase.Database, max = 500): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = (source: string) => {
    let st = cache.get(source);
    if (st) {
      cache.delete(source);
    } else {
      st = raw.prepare(source);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
    }
    cache.set(source, st);
    return st;
  };
  return new Proxy(raw, {
    get(target, prop) {
      if (prop === 'prepare') return prepare;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** The embedded store: one SQLite file (the default, the single binary). */
export function createDb(file: string | Buffer): { db: DB; raw: SqliteDatabase.Database } {
  const raw = openSqlite(file);
  const db = new Kysely<Database>({ dialect: patientSqliteDialect(withStatementCache(raw)) });
  return { db, raw };
}

/** An open store of either kind; `close()` releases it (pool or file). */
export interface DbHandle {
  db: DB;
  dialect: Dialect;
  /** What to say in logs and /health: the file, or host/database (never the password). */
  describe: string;
  close(): Promise<void>;
}

export interface DbConfig {
  /** postgres://… selects PostgreSQL; absent = the SQLite file. */
  databaseUrl?: string;
  dbFile: string;
  /**
   * Tests only, never from the environment: a serialized SQLite database (better-sqlite3
   * `serialize()`) opened in memory instead of dbFile — the migrated schema and dictionaries,
   * copied in a millisecond instead of migrated again for every test app.
   */
  sqliteImage?: Buffer;
  dbPoolMax?: number;
  /** PostgreSQL: statement timeout for ordinary queries, ms. */
  dbStatementTimeoutMs?: number;
}

/**
 * Opens the configured store. PostgreSQL is checked with one round trip so that a wrong
 * DATABASE_URL stops the start with a message naming what failed (DbConnectError).
 */
export async function openDatabase(cfg: DbConfig): Promise<DbHandle> {
  if (cfg.databaseUrl) {
    const opts: PgOptions = { url: cfg.databaseUrl, max: cfg.dbPoolMax, statementTimeoutMs: cfg.dbStatementTimeoutMs };
    return openPostgres<Database>(opts);
  }
  const { db, raw } = createDb(cfg.sqliteImage ?? cfg.dbFile);
  return {
    db,
    dialect: 'sqlite',
    describe: cfg.dbFile,
    async close() {
      await db.destroy();
      if (raw.open) raw.close();
    },
  };
}

/** Which database a Kysely instance (or a transaction of it) talks to. */
export function dialectOf(db: Kysely<any>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * The one lock every write transaction takes on PostgreSQL (pg_advisory_xact_lock key).
 * Writes are serialised exactly as SQLite's single writer does, across every process and
 * machine: read-then-write use cases (gap-free certificate numbers, the audit hash chain,
 * idempotent submit) behave the same on both databases. Reads never wait for it.
 */
const WRITE_LOCK = 0x7a630001;

/**
 * A write transaction that takes the write lock at BEGIN, so two read-then-write use cases
 * cannot interleave. SQLite: BEGIN IMMEDIATE (Kysely's SQLite driver holds one connection, so
 * `connection()` serialises callers in this process, and the file lock serialises processes).
 * PostgreSQL: a transaction that first takes the shared advisory write lock.
 */
export async function writeTx<T>(db: DB, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (dialectOf(db) === 'postgres') {
    return db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${sql.lit(WRITE_LOCK)})`.execute(trx);
      return fn(trx);
    });
  }
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn);
      throw err;
    }
  });
}

export function nowIso(d: Date): string {
  return d.toISOString();
}

/** Whether a table exists (the CLI checks before touching a database it did not create). */
export async function tableExists(db: Kysely<any>, name: string): Promise<boolean> {
  const q = dialectOf(db) === 'postgres'
    ? sql<{ n: number }>`select 1 as n from information_schema.tables where table_schema = current_schema() and table_name = ${name}`
    : sql<{ n: number }>`select 1 as n from sqlite_master where type = 'table' and name = ${name}`;
  return (await q.execute(db)).rows.length > 0;
}

/** A unique or primary-key violation, on either database (SQLITE_CONSTRAINT_UNIQUE / 23505). */
export function isUniqueViolation(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  return code === '23505' || code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY') || code.startsWith('SQLITE_CONSTRAINT_UNIQUE');
}

/** The application's tables (not the migrator's), sorted by name. */
export async function listTables(db: Kysely<any>): Promise<string[]> {
  const q = dialectOf(db) === 'postgres'
    ? sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`
    : sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`;
  return (await q.execute(db)).rows.map((r) => r.name).filter((n) => !n.startsWith('kysely_')).sort();
}

/**
 * `declarations as d` for the staff lists and statistics (issue #18), read through the narrow
 * covering index declarations_list (migration 0021). SQLite's planner joins on the rowid, which
 * reads each wide row (cover, route and opinion JSON) — most of a big office's list time —
 * so it is told the index (INDEXED BY); a column outside the index is still read from the row,
 * only where it is needed. PostgreSQL chooses by itself.
 */
export function listDeclarations(db: Kysely<Database>) {
  if (dialectOf(db) === 'postgres') return db.selectFrom('declarations as d');
  return db.selectFrom(sql`declarations as d indexed by declarations_list` as unknown as 'declarations as d');
}

/**
 * `users as u` read through users_unit (id, unit_org_id) (migration 0031): joining every row of a
 * big scope to its applicant's unit from index pages. SQLite without ANALYZE prefers the table's
 * rowid, so it is told (INDEXED BY); PostgreSQL chooses by itself.
 */
export function usersByUnit(db: Kysely<Database>): 'users as u' {
  if (dialectOf(db) === 'postgres') return 'users as u';
  return sql`users as u indexed by users_unit` as unknown as 'users as u';
}

/** The label of the route stage a declaration is at: `route[stage].label` from its JSON (null when absent). */
export function routeStageLabel(db: Kysely<any>) {
  return dialectOf(db) === 'postgres'
    ? sql<string | null>`((d.route::json) -> (d.stage::int)) ->> 'label'`
    : sql<string | null>`json_extract(d.route, '$[' || d.stage || '].label')`;
}

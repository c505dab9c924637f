import type SqliteDatabase from 'better-sqlite3';
import {
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Kysely,
  type QueryResult,
} from 'kysely';

/** How long a write waits for another process's write lock before it fails (SQLite's busy_timeout). */
export const BUSY_WAIT_MS = 5000;

/**
 * Kysely's SQLite dialect, except that a write waiting for another process's write lock waits
 * on a timer. SQLite's own busy handler sleeps inside the call, and better-sqlite3 is
 * synchronous: under `serve --workers`, while one worker committed, the other stood still,
 * event loop and all (bench/scale.ts: two workers 1.14–1.33× one process before, 1.64× with
 * this). Only a statement that can take the lock outside a transaction (BEGIN, an autocommit
 * write) runs with busy_timeout 0 and is retried; inside a BEGIN IMMEDIATE transaction nothing waits, and
 * other users of the handle (backup, CLI) keep busy_timeout. `raw` is the handle Kysely prepares
 * on, with its statement cache (a read is told by its prepared statement).
 */
export function patientSqliteDialect(raw: SqliteDatabase.Database): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new PatientDriver(raw),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db: Kysely<any>) => new SqliteIntrospector(db),
  };
}

class PatientDriver extends SqliteDriver {
  #wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();
  constructor(private raw: SqliteDatabase.Database) {
    super({ database: raw });
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const c = await super.acquireConnection();
    let w = this.#wrapped.get(c);
    if (!w) this.#wrapped.set(c, (w = patient(c, this.raw)));
    return w;
  }
}

const isBusy = (err: unknown) => (err as { code?: unknown })?.code === 'SQLITE_BUSY';

function patient(c: DatabaseConnection, raw: SqliteDatabase.Database): DatabaseConnection {
  return {
    streamQuery: (q, chunk) => c.streamQuery(q, chunk),
    async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
      // Reads never wait in WAL; `prepare` is the statement cache's (src/db/index.ts), so asking
      // costs a map lookup, and raw `sql` reads are recognised too.
      if (raw.inTransaction || raw.prepare(q.sql).reader) return c.executeQuery<R>(q);
      const deadline = Date.now() + BUSY_WAIT_MS;
      raw.pragma('busy_timeout = 0');
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            return await c.executeQuery<R>(q);
          } catch (err) {
            if (!isBusy(err) || Date.now() > deadline) throw err;
            // A commit takes a millisecond or two: try again at once a few times (after the
            // requests already waiting have had their turn), then every 1–4 ms.
            await (attempt < 8 ? new Promise((r) => setImmediate(r)) : new Promise((r) => setTimeout(r, Math.min(4, 2 ** (attempt - 8)))));
          }
        }
      } finally {
        raw.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
      }
    },
  };
}

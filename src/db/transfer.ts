/**
 * Copies every record of a SQLite database into an empty PostgreSQL database that has the same
 * schema (both migrated to the latest version): ids kept, identity sequences moved past them,
 * all in one PostgreSQL transaction (a failure leaves the target empty). Used by
 * `zhicheng migrate-to-postgres` (src/ops/toPostgres.ts).
 */
import type SqliteDatabase from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { listTables } from './index.js';

interface ForeignKey {
  table: string;
  from: string;
}

/** Tables in an order where every referenced table comes first (self-references aside). */
export function copyOrder(tables: string[], fks: Map<string, ForeignKey[]>): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: string) => {
    if (state.get(t) === 'done' || state.get(t) === 'visiting') return;
    state.set(t, 'visiting');
    for (const fk of fks.get(t) ?? []) if (fk.table !== t && tables.includes(fk.table)) visit(fk.table);
    state.set(t, 'done');
    out.push(t);
  };
  for (const t of [...tables].sort()) visit(t);
  return out;
}

export interface TransferProgress {
  (table: string, rows: number, done: boolean): void;
}

export interface TransferResult {
  tables: { name: string; rows: number }[];
  ms: number;
}

const BATCH = 500;

/**
 * `source`: the open SQLite file (read in id/rowid order); `target`: the PostgreSQL database.
 * Refuses a target that already holds rows in any table (other than the migrator's).
 */
export async function copySqliteToPostgres(source: SqliteDatabase.Database, target: Kysely<any>, progress?: TransferProgress): Promise<TransferResult> {
  const started = Date.now();
  const tables = (await listTables(target)).filter((t) => source.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(t));
  const fks = new Map<string, ForeignKey[]>();
  for (const t of tables) fks.set(t, source.pragma(`foreign_key_list(${JSON.stringify(t)})`) as ForeignKey[]);
  const order = copyOrder(tables, fks);
  const result: { name: string; rows: number }[] = [];

  await target.transaction().execute(async (trx) => {
    for (const t of order) {
      const n = Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(t)}`.execute(trx)).rows[0]!.n);
      if (n > 0) throw new Error(`目标数据库不是空的：表 ${t} 已有 ${n} 行 the target database is not empty (${t})`);
    }
    for (const t of order) {
      const cols = (source.pragma(`table_info(${JSON.stringify(t)})`) as { name: string; pk: number }[]).map((c) => c.name);
      // Self-references (orgs.supervisor_org_id → orgs) are filled in a second pass, so a row
      // may point at one copied after it.
      const selfRefs = (fks.get(t) ?? []).filter((fk) => fk.table === t).map((fk) => fk.from);
      const hasId = cols.includes('id');
      const rows = source.prepare(`select * from "${t}" order by ${hasId ? 'id' : 'rowid'}`).iterate() as IterableIterator<Record<string, unknown>>;
      let batch: Record<string, unknown>[] = [];
      let count = 0;
      const later: Record<string, unknown>[] = [];
      const flush = async () => {
        if (!batch.length) return;
        await trx.insertInto(t).values(batch).execute();
        count += batch.length;
        progress?.(t, count, false);
        batch = [];
      };
      for (const row of rows) {
        if (selfRefs.length && selfRefs.some((c) => row[c] !== null)) {
          later.push(row);
          batch.push({ ...row, ...Object.fromEntries(selfRefs.map((c) => [c, null])) });
        } else batch.push(row);
        if (batch.length >= BATCH) await flush();
      }
      await flush();
      for (const row of later) {
        await trx.updateTable(t).set(Object.fromEntries(selfRefs.map((c) => [c, row[c]]))).where('id', '=', row.id as number).execute();
      }
      if (hasId) {
        // The identity column continues after the highest copied id.
        await sql`select setval(pg_get_serial_sequence(${t}, 'id'), coalesce((select max(id) from ${sql.table(t)}), 0) + 1, false)
                  where pg_get_serial_sequence(${t}, 'id') is not null`.execute(trx);
      }
      progress?.(t, count, true);
      result.push({ name: t, rows: count });
    }
  });
  return { tables: result, ms: Date.now() - started };
}

/**
 * `zhicheng migrate-to-postgres <postgres-url>`: a one-off move of an existing SQLite site
 * (DATA_DIR / DB_FILE) into an empty PostgreSQL database. The SQLite file is brought to the
 * latest schema, the target is created with the same migrations, every record is copied with its
 * id (src/db/transfer.ts), and then checked: the row count of every table, and the audit chain
 * verified on the target with the site's master key. Uploaded files go into the target's blob
 * store when BLOB_STORE=db; with the local store they stay where they are (UPLOAD_DIR, to be
 * mounted on every app machine). The source is only read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Config } from '../config.js';
import { createDb, openDatabase, type DB } from '../db/index.js';
import { migrateToLatest } from '../db/migrate.js';
import { copySqliteToPostgres } from '../db/transfer.js';
import { DbConnectError } from '../db/postgres.js';
import { createSecrets, loadMasterKey } from '../lib/secrets.js';
import { verifyChain } from '../features/audit/service.js';
import { createBlobStore } from '../lib/blobs.js';

export class MoveError extends Error {}

export interface MoveResult {
  tables: { name: string; rows: number }[];
  rows: number;
  ms: number;
  audit: { ok: boolean; rows: number };
  files: { copied: number; missing: number; store: 'db' | 'local' };
}

export async function migrateToPostgres(config: Config, targetUrl: string, say: (line: string) => void = () => {}): Promise<MoveResult> {
  if (!/^postgres(ql)?:\/\//.test(targetUrl)) throw new MoveError('目标必须是 postgres:// 地址 the target must be a postgres:// URL');
  if (config.dbFile === ':memory:' || !fs.existsSync(config.dbFile)) throw new MoveError(`SQLite 数据库文件不存在：${config.dbFile}`);
  if (!config.masterKey && !fs.existsSync(path.join(config.dataDir, 'master.key'))) throw new MoveError(`找不到主密钥 ${path.join(config.dataDir, 'master.key')}（迁移后须用同一主密钥）`);
  const secrets = createSecrets(loadMasterKey(config.dataDir, config.masterKey));

  const source = createDb(config.dbFile);
  let target: Awaited<ReturnType<typeof openDatabase>> | null = null;
  try {
    await migrateToLatest(source.db);
    // An unreachable server, unknown database or refused role is a sentence (DbConnectError),
    // printed by the CLI without a stack trace, like a wrong DATABASE_URL at start.
    target = await openDatabase({ databaseUrl: targetUrl, dbFile: '', dbPoolMax: 2 }).catch((err: unknown) => {
      throw err instanceof DbConnectError ? new MoveError(err.message) : err;
    });
    const existing = await sql<{ n: number }>`select count(*) as n from information_schema.tables where table_schema = current_schema()`.execute(target.db);
    if (Number(existing.rows[0]!.n) > 0) throw new MoveError(`目标数据库 ${target.describe} 不是空的：请使用新建的空数据库（createdb）`);
    say(`源 source: ${config.dbFile}`);
    say(`目标 target: ${target.describe}`);
    await migrateToLatest(target.db);
    const copied = await copySqliteToPostgres(source.raw, target.db, (table, rows, done) => {
      if (done ? rows > 0 : rows % 50_000 === 0) say(`  ${table}: ${rows}${done ? '' : ' …'}`);
    });

    // Every table, counted on both sides.
    for (const t of copied.tables) {
      const n = Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(t.name)}`.execute(target.db)).rows[0]!.n);
      const m = Number((source.raw.prepare(`select count(*) as n from "${t.name}"`).get() as { n: number }).n);
      if (n !== m || n !== t.rows) throw new MoveError(`表 ${t.name} 行数不一致：源 ${m}，目标 ${n}`);
    }
    const audit = await verifyChain(target.db, secrets.auditKey);
    if (!audit.ok) throw new MoveError(`迁移后审计日志校验未通过：第 ${audit.firstBad?.id} 条${audit.firstBad?.reason}`);

    const files = await copyFiles(config, source.db, target.db, say);
    // Fresh tables have no planner statistics until autovacuum gets to them: a big site's first
    // lists would be planned blind. One ANALYZE now.
    await sql`analyze`.execute(target.db);
    return { tables: copied.tables, rows: copied.tables.reduce((s, t) => s + t.rows, 0), ms: copied.ms, audit: { ok: true, rows: audit.rows }, files };
  } finally {
    await target?.close();
    await source.db.destroy();
    if (source.raw.open) source.raw.close();
  }
}

/** Into the database when the target site keeps its files there; else they stay in UPLOAD_DIR. */
async function copyFiles(config: Config, sourceDb: DB, targetDb: DB, say: (line: string) => void) {
  const shas = (await sourceDb.selectFrom('files').select('sha256').distinct().execute()).map((r) => r.sha256);
  if (config.blobStore !== 'db') {
    say(`附件 ${shas.length} 个留在 ${config.uploadDir}（BLOB_STORE=local：各应用服务器挂载同一目录，设置 UPLOAD_DIR）`);
    return { copied: 0, missing: 0, store: 'local' as const };
  }
  const from = createBlobStore({ ...config, blobStore: 'local' }, sourceDb);
  const to = createBlobStore(config, targetDb);
  let copied = 0;
  let missing = 0;
  for (const sha of shas) {
    if (await to.has(sha)) continue;
    if (!(await from.has(sha))) {
      missing++;
      continue;
    }
    await to.put(sha, { buffer: await from.read(sha) });
    copied++;
    if (copied % 500 === 0) say(`  附件 files: ${copied}/${shas.length}`);
  }
  say(`附件已复制到数据库 files copied into the database: ${copied}${missing ? `（${missing} 个在源目录中缺失）` : ''}`);
  return { copied, missing, store: 'db' as const };
}

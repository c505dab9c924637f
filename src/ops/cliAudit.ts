/**
 * Audit rows written by the command line (backup, restore, migrate) into the database the
 * command worked on, with the actor `cli` (CLI_ACTOR) and no IP; the detail names the OS account
 * that ran it. Best effort: the command has already done its work, so a row that cannot be
 * written is reported to the caller (and printed), never turned into a failure of the command.
 *
 * The key is only ever READ here (MASTER_KEY, else `<dataDir>/master.key`): creating one would
 * leave a stray key file beside a server that takes MASTER_KEY from its environment. Before
 * appending, the newest row's mac must verify with that key — a key that does not belong to
 * the chain would otherwise append a row that breaks it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { openDatabase, tableExists, writeTx, type DB } from '../db/index.js';
import { createSecrets } from '../lib/secrets.js';
import { audit, macOf, CLI_ACTOR, type AuditEntry } from '../features/audit/service.js';

export type CliAuditEntry = Omit<AuditEntry, 'actor' | 'ip'>;
export type CliAuditResult = { written: true } | { written: false; reason: string };

/** The installation's master key if there is one; never creates it. */
function existingKey(config: Config): Buffer | null {
  if (config.masterKey) return Buffer.from(config.masterKey, 'base64');
  try {
    const key = Buffer.from(fs.readFileSync(path.join(config.dataDir, 'master.key'), 'utf8').trim(), 'base64');
    return key.length === 32 ? key : null;
  } catch {
    return null;
  }
}

/** The OS account running the command (who did it, on the host). */
export function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'unknown';
  }
}

/**
 * Appends one row for a command-line operation. `db`: the command's open connection (migrate);
 * without it the configured database file is opened (it must exist) and closed again.
 */
export async function cliAudit(config: Config, entry: CliAuditEntry, db?: DB): Promise<CliAuditResult> {
  const key = existingKey(config);
  if (!key) return { written: false, reason: '尚无主密钥 no master key yet' };
  if (!db) {
    if (!config.databaseUrl && (config.dbFile === ':memory:' || !fs.existsSync(config.dbFile))) return { written: false, reason: '数据库文件不存在 no database file' };
    const opened = await openDatabase(config);
    try {
      return await cliAudit(config, entry, opened.db);
    } finally {
      await opened.close();
    }
  }
  if (!(await tableExists(db, 'audit_log'))) return { written: false, reason: '数据库中没有审计日志表 no audit_log table' };
  const secrets = createSecrets(key);
  // Only what audit() reads: the clock, the audit key (the row goes into `trx`).
  const ctx = { config, secrets, db } as unknown as AppContext;
  const detail = [entry.detail, `系统用户 ${osUser()}`].filter(Boolean).join('；');
  return writeTx(db, async (trx): Promise<CliAuditResult> => {
    const last = await trx.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (last) {
      const { prev_mac, mac, ...fields } = last;
      if (macOf(secrets.auditKey, prev_mac, fields) !== mac) return { written: false, reason: '主密钥与审计日志不符 the key does not match the audit chain' };
    }
    await audit(ctx, null, { ...entry, detail, actor: CLI_ACTOR }, trx);
    return { written: true };
  });
}

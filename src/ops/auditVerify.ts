import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { openDatabase, type DbHandle } from '../db/index.js';
import { createSecrets, loadMasterKey } from '../lib/secrets.js';
import { verifyChain } from '../features/audit/service.js';

/**
 * Walks the audit trail's HMAC chain (`zhicheng audit-verify`, `npm run audit:verify`).
 * Exit code: 0 intact, 1 tampered, 2 could not check.
 */
export async function auditVerify(config: Config, out: (s: string) => void = console.log, err: (s: string) => void = console.error): Promise<number> {
  let handle: DbHandle | null = null;
  try {
    // Checking must not create anything: a missing database or key is an error, not a new one.
    if (!config.databaseUrl && config.dbFile !== ':memory:' && !fs.existsSync(config.dbFile)) throw new Error(`数据库文件不存在：${config.dbFile}`);
    if (!config.masterKey && !fs.existsSync(path.join(config.dataDir, 'master.key'))) throw new Error(`找不到主密钥 ${path.join(config.dataDir, 'master.key')}`);
    const secrets = createSecrets(loadMasterKey(config.dataDir, config.masterKey));
    handle = await openDatabase(config);
    const r = await verifyChain(handle.db, secrets.auditKey);
    if (r.ok) {
      out(`审计日志校验通过：共 ${r.rows} 条`);
      return 0;
    }
    err(`审计日志校验未通过：第 ${r.firstBad!.id} 条记录${r.firstBad!.reason}（已检查 ${r.rows} 条）`);
    return 1;
  } catch (e) {
    err(`审计日志校验出错：${(e as Error).message}`);
    return 2;
  } finally {
    await handle?.close();
  }
}

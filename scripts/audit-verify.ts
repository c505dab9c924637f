// npm run audit:verify — walks the audit trail's HMAC chain; exit 0 intact, 1 tampered, 2 error.
// Reads the same configuration as the server (DATA_DIR / DB_FILE / MASTER_KEY).
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/index.js';
import { createSecrets, loadMasterKey } from '../src/lib/secrets.js';
import { verifyChain } from '../src/features/audit/service.js';

const config = loadConfig();
const secrets = createSecrets(loadMasterKey(config.dataDir, config.masterKey));
const { db, raw } = createDb(config.dbFile);
try {
  const r = await verifyChain(db, secrets.auditKey);
  if (r.ok) {
    console.log(`审计日志校验通过：共 ${r.rows} 条`);
  } else {
    console.error(`审计日志校验未通过：第 ${r.firstBad!.id} 条记录${r.firstBad!.reason}（已检查 ${r.rows} 条）`);
    process.exitCode = 1;
  }
} catch (err) {
  console.error('审计日志校验出错：', (err as Error).message);
  process.exitCode = 2;
} finally {
  await db.destroy();
  if (raw.open) raw.close();
}

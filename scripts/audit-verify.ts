// npm run audit:verify — walks the audit trail's HMAC chain; exit 0 intact, 1 tampered, 2 error.
// Reads the same configuration as the server (DATA_DIR / DB_FILE / MASTER_KEY); the same check
// is `zhicheng audit-verify` (src/cli.ts).
import { loadConfig } from '../src/config.js';
import { auditVerify } from '../src/ops/auditVerify.js';

process.exitCode = await auditVerify(loadConfig());

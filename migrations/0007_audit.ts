import type { Kysely } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// Audit trail (GB/T 22239 level 3, 安全审计): append-only, HMAC-chained rows. No foreign keys:
// a row must outlive (and not block changes to) the user or org it names. The chain head
// (last id + mac) lives in settings 'audit_head' so a deleted last row is still detected.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('at', 'text', (c) => c.notNull()) // ISO time
    .addColumn('user_id', 'integer')
    .addColumn('username', 'text') // snapshot: staff username, or an applicant's masked account
    .addColumn('name', 'text') // snapshot of the person's name
    .addColumn('role', 'text') // snapshot: 'applicant', 'staff' or the roles list
    .addColumn('org_id', 'integer')
    .addColumn('ip', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('object_type', 'text')
    .addColumn('object_id', 'text')
    .addColumn('result', 'text', (c) => c.notNull()) // 'ok' | 'fail'
    .addColumn('detail', 'text') // short, PII-free
    .addColumn('prev_mac', 'text', (c) => c.notNull())
    .addColumn('mac', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
  await db.schema.createIndex('audit_log_user').on('audit_log').columns(['user_id', 'at']).execute();
  await db.schema.createIndex('audit_log_action').on('audit_log').columns(['action', 'at']).execute();
}

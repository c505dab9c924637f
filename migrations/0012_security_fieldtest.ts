import type { Kysely } from 'kysely';

// Field test #19 (+ #12's shared state): rate-limit counters as rows, the image challenge of
// 获取验证码, and the SMS outbox's "code cleared" flag.
export async function up(db: Kysely<any>): Promise<void> {
  // Fixed-window counters shared by every process (src/lib/counters.ts): one row per key
  // (e.g. 'rl:login:ip:203.0.113.7', 'sms:ip:d:203.0.113.7'); reset_at is an ISO-8601 instant.
  await db.schema
    .createTable('rate_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('reset_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rate_counters_reset').on('rate_counters').column('reset_at').execute();

  // One live image challenge per browser session (src/features/sms/challenge.ts): the session
  // id and the answer are stored as keyed hashes only; a row is consumed by its first check.
  await db.schema
    .createTable('sms_challenges')
    .addColumn('sid_hash', 'text', (c) => c.primaryKey())
    .addColumn('answer_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sms_challenges_expires').on('sms_challenges').column('expires_at').execute();

  // 1 once the verification code in the body has been masked (used or expired).
  await db.schema.alterTable('sms_outbox').addColumn('cleared', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex('sms_outbox_cleared').on('sms_outbox').columns(['cleared', 'created_at']).execute();
  await db.schema.createIndex('sms_outbox_phone').on('sms_outbox').columns(['phone_hmac', 'purpose']).execute();
}

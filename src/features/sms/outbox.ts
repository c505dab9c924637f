/**
 * The local SMS transport's outbox (table sms_outbox, src/features/sms/sender.ts) holds every
 * message as sent: development, tests and demos read codes from it. So that it does not keep
 * codes in clear:
 * - a code is masked in its row (验证码：****12, cleared = 1) as soon as it is used or voided by
 *   wrong tries (verifyCode), and once it has expired (SMS_VALID_MS, 10 minutes) by a job that
 *   runs every minute (startSmsOutboxPurge); a batch account's initial password likewise (初始密码：********);
 * - /admin/sms shows a code only while it can still be used;
 * - rows older than OUTBOX_KEEP_DAYS are deleted by an hourly job.
 */
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { startPeriodic } from '../../lib/jobs.js';
import { purgeChallenges } from './challenge.js';

/** Mirrors SMS_VALID_MS of codes.ts (kept here to avoid an import cycle). */
const CODE_VALID_MS = 10 * 60_000;

export const OUTBOX_KEEP_DAYS = 7;
export const OUTBOX_PURGE_INTERVAL_MS = 3_600_000;
export const OUTBOX_MASK_INTERVAL_MS = 60_000;

/** Deletes outbox rows older than 7 days at `now`; returns how many went. */
export async function purgeSmsOutbox(ctx: AppContext, now = ctx.config.now()): Promise<number> {
  const cutoff = new Date(now.getTime() - OUTBOX_KEEP_DAYS * 86_400_000).toISOString();
  const r = await ctx.db.deleteFrom('sms_outbox').where('created_at', '<', cutoff).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * 验证码：123456 → 验证码：****56 (and any other 6-digit run the same way); 初始密码：Ab#3…
 * (a unit's batch accounts, src/features/units/batchAccounts.ts) → 初始密码：**********
 */
export function maskCodes(body: string): string {
  const mask = (d: string) => '*'.repeat(d.length - 2) + d.slice(-2);
  return body
    .replace(/(初始密码[：:]\s*)([^\s，。,]+)/g, (_m, label: string, pw: string) => label + '*'.repeat(pw.length))
    .replace(/(验证码[：:]\s*)(\d{4,8})/g, (_m, label: string, code: string) => label + mask(code))
    .replace(/(?<![\d*])\d{6}(?!\d)/g, mask);
}

/** Masks the code of each listed row and marks it cleared. */
async function clearRows(db: Kysely<Database>, rows: { id: number; body: string }[]): Promise<number> {
  for (const r of rows) await db.updateTable('sms_outbox').set({ body: maskCodes(r.body), cleared: 1 }).where('id', '=', r.id).execute();
  return rows.length;
}

/** A code of (phone, purpose) was used or voided: mask every message of that pair. `db` may be a transaction. */
export async function clearOutboxCodes(db: Kysely<Database>, phoneHmac: string, purpose: string): Promise<number> {
  const rows = await db.selectFrom('sms_outbox').select(['id', 'body']).where('phone_hmac', '=', phoneHmac).where('purpose', '=', purpose).where('cleared', '=', 0).orderBy('id').execute();
  return clearRows(db, rows);
}

/** Masks the codes of messages older than a code's validity (10 minutes) at `now`. */
export async function clearExpiredOutboxCodes(ctx: AppContext, now = ctx.config.now()): Promise<number> {
  const cutoff = new Date(now.getTime() - CODE_VALID_MS).toISOString();
  const rows = await ctx.db.selectFrom('sms_outbox').select(['id', 'body']).where('cleared', '=', 0).where('created_at', '<=', cutoff).orderBy('id').limit(1000).execute();
  return clearRows(ctx.db, rows);
}

/** A message as /admin/sms shows it: codes in clear only while they are valid and unused. */
export function outboxView<T extends { body: string; created_at: string; cleared?: number }>(row: T, now: Date): T & { masked: boolean } {
  const old = now.getTime() - Date.parse(row.created_at) > CODE_VALID_MS;
  const masked = old || row.cleared === 1;
  return { ...row, body: masked ? maskCodes(row.body) : row.body, masked };
}

/**
 * Every minute: masks expired codes and drops expired image challenges; every hour: deletes
 * rows older than 7 days. Both run at once when started. Returns a stop function (waits for
 * runs in progress). Errors are logged.
 */
export function startSmsOutboxPurge(ctx: AppContext): () => Promise<void> {
  const lease = { db: ctx.db, now: ctx.config.now };
  const stopPurge = startPeriodic(ctx.log, 'sms outbox purge', OUTBOX_PURGE_INTERVAL_MS, () => purgeSmsOutbox(ctx), lease);
  const stopMask = startPeriodic(ctx.log, 'sms code masking', OUTBOX_MASK_INTERVAL_MS, async () => (await clearExpiredOutboxCodes(ctx)) + (await purgeChallenges(ctx)), lease);
  return async () => {
    await stopPurge();
    await stopMask();
  };
}

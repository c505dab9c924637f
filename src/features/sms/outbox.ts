/**
 * The local SMS transport's outbox (table sms_outbox, src/features/sms/sender.ts) holds every
 * message in full, verification codes included: development, tests and demos read codes from it.
 * So that it does not keep them for ever:
 * - rows older than OUTBOX_KEEP_DAYS are deleted by an hourly job (startSmsOutboxPurge);
 * - /admin/sms shows a code only while it can still be used (SMS_VALID_MS, 10 minutes), masked
 *   after that (验证码：****12); a batch account's initial password likewise (初始密码：********).
 */
import type { AppContext } from '../../context.js';
import { SMS_VALID_MS } from './codes.js';
import { startPeriodic } from '../../lib/jobs.js';

export const OUTBOX_KEEP_DAYS = 7;
export const OUTBOX_PURGE_INTERVAL_MS = 3_600_000;

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

/** A message as /admin/sms shows it: codes in clear only while they are valid. */
export function outboxView<T extends { body: string; created_at: string }>(row: T, now: Date): T & { masked: boolean } {
  const old = now.getTime() - Date.parse(row.created_at) > SMS_VALID_MS;
  return { ...row, body: old ? maskCodes(row.body) : row.body, masked: old };
}

/** Purges now and every hour; returns a stop function (waits for a purge in progress). Errors are logged. */
export function startSmsOutboxPurge(ctx: AppContext): () => Promise<void> {
  return startPeriodic(ctx.log, 'sms outbox purge', OUTBOX_PURGE_INTERVAL_MS, () => purgeSmsOutbox(ctx), { db: ctx.db, now: ctx.config.now });
}

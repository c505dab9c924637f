import crypto from 'node:crypto';
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import { phoneHmac } from '../../lib/pii.js';

export type SmsPurpose = 'register' | 'forgot' | 'unlock' | 'phone_old' | 'phone_new';

const PURPOSE_TEXT: Record<SmsPurpose, string> = {
  register: '注册账号',
  forgot: '找回密码',
  unlock: '解锁账号',
  phone_old: '验证原手机号',
  phone_new: '绑定新手机号',
};

// Seed 001: 同一手机号每天仅有 3 次获取验证码的机会.
export const SMS_DAILY_LIMIT = 3;
export const SMS_INTERVAL_MS = 60_000;
export const SMS_VALID_MS = 10 * 60_000;
export const SMS_MAX_ATTEMPTS = 5;

export type Result = { ok: true } | { ok: false; error: string };

/** Midnight of the current day in China Standard Time, as an ISO instant. */
function chinaDayStart(now: Date): string {
  const cst = new Date(now.getTime() + 8 * 3_600_000);
  const midnight = Date.UTC(cst.getUTCFullYear(), cst.getUTCMonth(), cst.getUTCDate()) - 8 * 3_600_000;
  return new Date(midnight).toISOString();
}

function codeHash(ctx: AppContext, phoneKey: string, code: string): string {
  return ctx.secrets.lookupHash(`sms:${phoneKey}:${code}`);
}

function phoneKey(ctx: AppContext, phone: string): string {
  return phoneHmac(ctx.secrets, phone);
}

/** Issues a 6-digit code for `phone` (already validated) within the per-phone limits. */
export async function issueCode(ctx: AppContext, phone: string, purpose: SmsPurpose): Promise<Result> {
  const now = ctx.config.now();
  const key = phoneKey(ctx, phone);
  const code = String(crypto.randomInt(0, 1_000_000)).padStart(6, '0');
  const refused = await writeTx(ctx.db, async (trx) => {
    const recent = await trx
      .selectFrom('sms_codes')
      .select(['created_at'])
      .where('phone_hmac', '=', key)
      .where('created_at', '>=', chinaDayStart(now))
      .orderBy('created_at', 'desc')
      .execute();
    if (recent.length >= SMS_DAILY_LIMIT) return '同一手机号每天仅有3次获取验证码的机会，请明天再试';
    const last = recent[0];
    if (last && now.getTime() - Date.parse(last.created_at) < SMS_INTERVAL_MS) {
      const wait = Math.ceil((SMS_INTERVAL_MS - (now.getTime() - Date.parse(last.created_at))) / 1000);
      return `验证码发送过于频繁，请${wait}秒后再试`;
    }
    await trx
      .insertInto('sms_codes')
      .values({
        phone_hmac: key,
        purpose,
        code_hash: codeHash(ctx, key, code),
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + SMS_VALID_MS).toISOString(),
      })
      .execute();
    return null;
  });
  if (refused) return { ok: false, error: refused };
  await ctx.sms.send(phone, `【职称申报评审系统】您正在${PURPOSE_TEXT[purpose]}，验证码：${code}，10分钟内有效。如非本人操作，请忽略本短信。`, purpose);
  return { ok: true };
}

/**
 * Checks and consumes the newest code for (phone, purpose). Five wrong tries void it.
 * Consumption and the attempt counter are written in one immediate transaction, so two
 * parallel guesses cannot both count as the fifth.
 */
export async function verifyCode(ctx: AppContext, phone: string, purpose: SmsPurpose, input: string): Promise<Result> {
  const code = input.trim();
  if (!code) return { ok: false, error: '请输入短信验证码' };
  const now = ctx.config.now().toISOString();
  const key = phoneKey(ctx, phone);
  return writeTx(ctx.db, async (trx): Promise<Result> => {
    const row = await trx
      .selectFrom('sms_codes')
      .selectAll()
      .where('phone_hmac', '=', key)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (!row) return { ok: false, error: '请先获取短信验证码' };
    if (row.expires_at <= now) return { ok: false, error: '验证码已过期，请重新获取' };
    if (row.attempts >= SMS_MAX_ATTEMPTS) return { ok: false, error: '验证码错误次数过多，已失效，请重新获取' };
    const good = crypto.timingSafeEqual(Buffer.from(row.code_hash), Buffer.from(codeHash(ctx, key, code)));
    if (good) {
      await trx.updateTable('sms_codes').set({ used_at: now }).where('id', '=', row.id).execute();
      return { ok: true };
    }
    const attempts = row.attempts + 1;
    await trx.updateTable('sms_codes').set({ attempts }).where('id', '=', row.id).execute();
    return attempts >= SMS_MAX_ATTEMPTS
      ? { ok: false, error: '验证码错误次数过多，已失效，请重新获取' }
      : { ok: false, error: `验证码错误，还可以尝试${SMS_MAX_ATTEMPTS - attempts}次` };
  });
}

import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import { phoneHmac } from '../../lib/pii.js';
import { hit, peek, secondsUntil } from '../../lib/counters.js';
import { consumeChallenge, CHALLENGE_MESSAGES } from './challenge.js';
import { clearOutboxCodes } from './outbox.js';

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
/** A refusal of 获取验证码; `field: 'captcha'` puts the message next to the image code. */
export type IssueResult = { ok: true } | { ok: false; error: string; field?: 'captcha' };

/**
 * Who asks for a code: the source IP (per-IP caps), the browser session (the image challenge is
 * bound to it) and what was typed into the form (`captcha`, and `captchaRefresh` from 换一张).
 */
export interface SmsRequester {
  ip: string;
  sid: string;
  captcha?: string;
  refresh?: boolean;
}

/** The requester of a 获取验证码 POST (form fields `captcha`, `captchaRefresh`). */
export function smsRequester(req: FastifyRequest): SmsRequester {
  const b = (req.body ?? {}) as Record<string, unknown>;
  const captcha = typeof b.captcha === 'string' ? b.captcha : '';
  // 换一张 comes before 获取验证码 in the form, so Enter in a field "presses" it: with digits
  // typed, that is an attempt to send (a wrong answer also brings a new image).
  return { ip: req.ip, sid: req.session.sessionId, captcha, refresh: !!b.captchaRefresh && !captcha.trim() };
}

/** The error map for a refused send: next to the image code, or next to `codeField`. */
export function issueErrors(r: { error: string; field?: 'captcha' }, codeField = 'smsCode'): Record<string, string> {
  return { [r.field ?? codeField]: r.error };
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Counter keys (rate_counters): per IP per hour / 24 h, and the platform per China day. */
export const smsKeys = {
  ipHour: (ip: string) => `sms:ip:h:${ip}`,
  ipDay: (ip: string) => `sms:ip:d:${ip}`,
  platform: (now: Date) => `sms:all:${chinaDate(now)}`,
};

/** YYYY-MM-DD in China Standard Time. */
function chinaDate(now: Date): string {
  return new Date(now.getTime() + 8 * HOUR_MS).toISOString().slice(0, 10);
}

/** True when an IP has had a code sent within 24 h: its next 获取验证码 needs the image code. */
export async function challengeRequired(ctx: AppContext, ip: string): Promise<boolean> {
  if (!ctx.config.rateLimit) return false;
  return (await peek(ctx.db, smsKeys.ipDay(ip), ctx.config.now())).count >= 1;
}

/** The platform's codes today and whether the daily cap (SMS_DAILY_MAX) is reached. */
export async function platformSmsToday(ctx: AppContext): Promise<{ count: number; max: number; reached: boolean }> {
  const max = ctx.config.smsDailyMax;
  const { count } = await peek(ctx.db, smsKeys.platform(ctx.config.now()), ctx.config.now());
  const sent = Math.min(count, max || count);
  return { count: sent, max, reached: max > 0 && count >= max };
}

export const PLATFORM_CAP_MESSAGE = '今日短信发送量已达平台上限，暂时无法获取验证码，请明天再试或联系平台技术支持';

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

/**
 * Issues a 6-digit code for `phone` (already validated) within the limits, checked in this
 * order in one write transaction:
 * 1. per phone: 1 a minute, 3 a day (seed 001);
 * 2. per requester (RATE_LIMIT on): the image code once this IP had a code within 24 h (the
 *    challenge is consumed, right or wrong), then SMS_IP_HOURLY and SMS_IP_DAILY codes per IP;
 * 3. the platform: SMS_DAILY_MAX codes per China day; the first refusal alerts the platform
 *    admins (a message, and a notice on /admin and /admin/sms while the cap holds).
 * Counters are rows (src/lib/counters.ts), shared by every process. Without `from` (scripts,
 * tests) only 1 and 3 apply.
 */
export async function issueCode(ctx: AppContext, phone: string, purpose: SmsPurpose, from?: SmsRequester): Promise<IssueResult> {
  const now = ctx.config.now();
  const key = phoneKey(ctx, phone);
  const code = String(crypto.randomInt(0, 1_000_000)).padStart(6, '0');
  const guarded = !!from && ctx.config.rateLimit;
  if (guarded && from!.refresh) return { ok: false, field: 'captcha', error: CHALLENGE_MESSAGES.refreshed };
  let alert = false;
  const refused = await writeTx(ctx.db, async (trx): Promise<null | { error: string; field?: 'captcha' }> => {
    const recent = await trx
      .selectFrom('sms_codes')
      .select(['created_at'])
      .where('phone_hmac', '=', key)
      .where('created_at', '>=', chinaDayStart(now))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    if (recent.length >= SMS_DAILY_LIMIT) return { error: '同一手机号每天仅有3次获取验证码的机会，请明天再试' };
    const last = recent[0];
    if (last && now.getTime() - Date.parse(last.created_at) < SMS_INTERVAL_MS) {
      const wait = Math.ceil((SMS_INTERVAL_MS - (now.getTime() - Date.parse(last.created_at))) / 1000);
      return { error: `验证码发送过于频繁，请${wait}秒后再试` };
    }
    if (guarded) {
      const ip = from!.ip;
      if ((await peek(trx, smsKeys.ipDay(ip), now)).count >= 1) {
        const c = await consumeChallenge(ctx, trx, from!.sid, from!.captcha ?? '');
        if (!c.ok) return { error: c.error, field: 'captcha' };
      }
      const hour = await hit(trx, smsKeys.ipHour(ip), HOUR_MS, now);
      if (hour.count > ctx.config.smsIpHourly) {
        return { error: `当前网络获取验证码次数过多，请${Math.ceil(secondsUntil(hour.resetAt, now) / 60)}分钟后再试` };
      }
      const day = await hit(trx, smsKeys.ipDay(ip), DAY_MS, now);
      if (day.count > ctx.config.smsIpDaily) return { error: '当前网络今日获取验证码次数已达上限，请明天再试' };
    }
    if (ctx.config.smsDailyMax > 0) {
      // The key names the China day; the row outlives it by a day, then the purge removes it.
      const all = await hit(trx, smsKeys.platform(now), 2 * DAY_MS, now);
      if (all.count > ctx.config.smsDailyMax) {
        alert = all.count === ctx.config.smsDailyMax + 1;
        return { error: PLATFORM_CAP_MESSAGE };
      }
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
  if (alert) await alertPlatformCap(ctx);
  if (refused) return { ok: false, ...refused };
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
      // A used code is never kept in clear in the local outbox.
      await clearOutboxCodes(trx, key, purpose);
      return { ok: true };
    }
    const attempts = row.attempts + 1;
    await trx.updateTable('sms_codes').set({ attempts }).where('id', '=', row.id).execute();
    if (attempts >= SMS_MAX_ATTEMPTS) await clearOutboxCodes(trx, key, purpose);
    return attempts >= SMS_MAX_ATTEMPTS
      ? { ok: false, error: '验证码错误次数过多，已失效，请重新获取' }
      : { ok: false, error: `验证码错误，还可以尝试${SMS_MAX_ATTEMPTS - attempts}次` };
  });
}

/**
 * The platform's daily SMS cap was just reached: every active system admin (role `admin` of the
 * platform organisation) gets a message, once per day (the first refused send), and the log an
 * error line. /admin and /admin/sms show the notice while the cap holds (platformSmsToday).
 */
async function alertPlatformCap(ctx: AppContext): Promise<void> {
  const max = ctx.config.smsDailyMax;
  ctx.log.error({ smsDailyMax: max }, 'platform daily SMS cap reached: no more codes are sent today');
  const admins = await ctx.db
    .selectFrom('users as u')
    .innerJoin('orgs as o', 'o.id', 'u.org_id')
    .select('u.id')
    .where('o.kind', '=', 'platform')
    .where('u.roles', 'like', '%admin%')
    .where('u.disabled', '=', 0)
    .orderBy('u.id')
    .execute();
  const at = ctx.config.now().toISOString();
  const content = `今日短信发送量已达平台上限（SMS_DAILY_MAX=${max}），今天不再发送验证码。请在“短信发件箱”查看发送情况，确认是否遭到滥用；如确属业务需要，可调高 SMS_DAILY_MAX 后重启服务。`;
  for (const a of admins) {
    await ctx.db.insertInto('messages').values({ user_id: a.id, type: '系统消息', content, created_at: at }).execute();
  }
}

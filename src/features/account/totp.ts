import { qrcode } from '../../lib/qrcode.js';
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { base32Decode, base32Encode, otpauthUri, verifyTotp } from '../../domain/totp.js';

/** Two-factor login (TOTP, RFC 6238) use cases: enrolment, second-factor checks, recovery codes. */

export const ISSUER = '职称申报评审系统';
export const RECOVERY_CODE_COUNT = 10;
// No look-alike characters (0/o, 1/l/i): the codes are read from paper.
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

type Db = Kysely<Database>;

/** 20 random bytes (160 bits, RFC 4226's recommendation) as base32. */
function newSecret(): string {
  return base32Encode(crypto.randomBytes(20));
}

/** xxxxx-xxxxx, about 49 bits each. */
function newRecoveryCode(): string {
  const c = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[crypto.randomInt(RECOVERY_ALPHABET.length)]).join('');
  return `${c.slice(0, 5)}-${c.slice(5)}`;
}

const normalizeRecovery = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');
const recoveryHash = (ctx: AppContext, userId: number, code: string) => ctx.secrets.lookupHash(`totp-recovery:${userId}:${normalizeRecovery(code)}`);

export interface TotpState {
  enabled: boolean;
  enabledAt: string | null;
  recoveryLeft: number;
}

export async function totpState(ctx: AppContext, userId: number): Promise<TotpState> {
  const u = await ctx.db.selectFrom('users').select(['totp_enabled', 'totp_enabled_at']).where('id', '=', userId).executeTakeFirstOrThrow();
  const left = await ctx.db
    .selectFrom('totp_recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { enabled: !!u.totp_enabled, enabledAt: u.totp_enabled_at, recoveryLeft: Number(left.n) };
}

/**
 * The secret being enrolled (kept encrypted on the user until confirmed): created on the first
 * visit and shown again on a reload, so a scanned QR code stays valid. Null when already enabled.
 */
export async function pendingSecret(ctx: AppContext, userId: number): Promise<string | null> {
  return writeTx(ctx.db, async (trx) => {
    const u = await trx.selectFrom('users').select(['totp_enabled', 'totp_secret_enc']).where('id', '=', userId).executeTakeFirstOrThrow();
    if (u.totp_enabled) return null;
    if (u.totp_secret_enc) return ctx.secrets.decrypt(u.totp_secret_enc);
    const secret = newSecret();
    await trx.updateTable('users').set({ totp_secret_enc: ctx.secrets.encrypt(secret) }).where('id', '=', userId).execute();
    return secret;
  });
}

/** The QR code of the otpauth:// URI as inline SVG markup (no script, no style attribute). */
export async function enrolmentQr(secret: string, account: string): Promise<{ uri: string; svg: string }> {
  const uri = otpauthUri({ issuer: ISSUER, account, secret });
  // The Chinese issuer makes a dense code (about 61 modules): 260 px keeps 4 px a module.
  const svg = await (await qrcode()).toString(uri, { type: 'svg', margin: 2, width: 260, errorCorrectionLevel: 'M' });
  return { uri, svg };
}

/** Replaces a user's recovery codes with 10 new ones; returns them in clear (shown once). */
async function replaceRecoveryCodes(ctx: AppContext, trx: Db, userId: number, stamp: string): Promise<string[]> {
  await trx.deleteFrom('totp_recovery_codes').where('user_id', '=', userId).execute();
  const codes: string[] = [];
  while (codes.length < RECOVERY_CODE_COUNT) {
    const c = newRecoveryCode();
    if (!codes.includes(c)) codes.push(c);
  }
  await trx.insertInto('totp_recovery_codes').values(codes.map((c) => ({ user_id: userId, code_hash: recoveryHash(ctx, userId, c), created_at: stamp }))).execute();
  return codes;
}

/** Confirms enrolment with a code from the app: 2FA on, the code's step used, 10 recovery codes. */
export async function confirmEnrolment(ctx: AppContext, userId: number, code: string): Promise<{ ok: true; codes: string[] } | { ok: false; error: string }> {
  if (!/^\d{6}$/.test(code.replace(/\s/g, ''))) return { ok: false, error: '请输入认证应用显示的6位数字验证码' };
  const now = ctx.config.now();
  const stamp = now.toISOString();
  return writeTx(ctx.db, async (trx) => {
    const u = await trx.selectFrom('users').select(['totp_enabled', 'totp_secret_enc']).where('id', '=', userId).executeTakeFirstOrThrow();
    if (u.totp_enabled) return { ok: false as const, error: '双因素认证已启用' };
    if (!u.totp_secret_enc) return { ok: false as const, error: '请先扫描二维码' };
    const key = base32Decode(ctx.secrets.decrypt(u.totp_secret_enc))!;
    const step = verifyTotp(key, code, now.getTime());
    if (step === null) return { ok: false as const, error: '验证码不正确。请确认手机时间准确，并输入认证应用当前显示的验证码' };
    await trx.updateTable('users').set({ totp_enabled: 1, totp_last_step: step, totp_enabled_at: stamp, updated_at: stamp }).where('id', '=', userId).execute();
    return { ok: true as const, codes: await replaceRecoveryCodes(ctx, trx, userId, stamp) };
  });
}

export type SecondFactor =
  | { ok: true; via: 'totp' }
  | { ok: true; via: 'recovery'; left: number }
  | { ok: false; reason: 'wrong' | 'replay' | 'off' };

/**
 * Checks a code typed at login or for a sensitive change: 6 digits = the app's code (each
 * time step accepted once: the update only succeeds for a step after the last one), anything
 * else = a recovery code (each usable once).
 */
export async function checkSecondFactor(ctx: AppContext, userId: number, typed: string): Promise<SecondFactor> {
  const code = typed.trim();
  const now = ctx.config.now();
  const stamp = now.toISOString();
  return writeTx(ctx.db, async (trx): Promise<SecondFactor> => {
    const u = await trx.selectFrom('users').select(['totp_enabled', 'totp_secret_enc', 'totp_last_step']).where('id', '=', userId).executeTakeFirst();
    if (!u || !u.totp_enabled || !u.totp_secret_enc) return { ok: false, reason: 'off' };
    if (/^\d{3}\s?\d{3}$/.test(code)) {
      const key = base32Decode(ctx.secrets.decrypt(u.totp_secret_enc))!;
      const step = verifyTotp(key, code, now.getTime(), { after: u.totp_last_step });
      if (step === null) {
        // Right code of a step already used: say so (the next code comes within 30 s).
        const old = verifyTotp(key, code, now.getTime());
        return { ok: false, reason: old !== null ? 'replay' : 'wrong' };
      }
      const r = await trx
        .updateTable('users')
        .set({ totp_last_step: step })
        .where('id', '=', userId)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1 ? { ok: true, via: 'totp' } : { ok: false, reason: 'replay' };
    }
    if (normalizeRecovery(code).length !== 10) return { ok: false, reason: 'wrong' };
    const r = await trx
      .updateTable('totp_recovery_codes')
      .set({ used_at: stamp })
      .where('user_id', '=', userId)
      .where('code_hash', '=', recoveryHash(ctx, userId, code))
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return { ok: false, reason: 'wrong' };
    const left = await trx.selectFrom('totp_recovery_codes').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirstOrThrow();
    return { ok: true, via: 'recovery', left: Number(left.n) };
  });
}

/** New recovery codes (the old ones stop working). */
export async function regenerateRecoveryCodes(ctx: AppContext, userId: number): Promise<string[]> {
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, (trx) => replaceRecoveryCodes(ctx, trx, userId, stamp));
}

/** Turns 2FA off and forgets the secret and the recovery codes (disable by the user, reset by the security admin). */
export async function clearTotp(trx: Db, userId: number, stamp: string): Promise<void> {
  await trx.updateTable('users').set({ totp_enabled: 0, totp_secret_enc: null, totp_last_step: null, totp_enabled_at: null, updated_at: stamp }).where('id', '=', userId).execute();
  await trx.deleteFrom('totp_recovery_codes').where('user_id', '=', userId).execute();
}

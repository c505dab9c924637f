import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { validateIdNumber, normalizeIdNumber } from '../../domain/idcard.js';
import { validatePhone } from '../../domain/phone.js';
import { hashPassword, verifyPassword, dummyHash } from '../../lib/passwords.js';
import { idColumns, idHmac, phoneColumns, phoneHmac } from '../../lib/pii.js';
import type { FieldErrors } from '../../lib/forms.js';
import { verifyCode } from '../sms/codes.js';
import { clearLoginFailures, newPasswordProblems, recordPassword, reusedPassword, REUSE_MESSAGE } from './passwords.js';
import { claimAtRegistration } from '../exchange/certImport.js';

// Seed 002 §五(四)1 and the issue: the 3rd consecutive wrong password locks the account —
// from that source (IP) only (login_failures), so nobody can lock someone else out everywhere.
export const MAX_FAILED_LOGINS = 3;

export interface RegisterInput {
  name: string;
  idNumber: string;
  phone: string;
  smsCode: string;
  password: string;
  password2: string;
  agree?: string;
}

/** Field checks shared by the SMS button and the final submit (no SMS code here). */
export function checkRegisterFields(v: Partial<RegisterInput>, today: Date): { errors: FieldErrors; id?: string; phone?: string } {
  const errors: FieldErrors = {};
  const name = (v.name ?? '').trim();
  if (!name) errors.name = '请输入姓名';
  else if ([...name].length > 50) errors.name = '姓名不能超过50个字';
  const id = validateIdNumber(v.idNumber ?? '', today);
  if (!id.ok) errors.idNumber = id.error;
  const phone = validatePhone(v.phone ?? '');
  if (!phone.ok) errors.phone = phone.error;
  return { errors, id: id.ok ? id.value : undefined, phone: phone.ok ? phone.value : undefined };
}

function checkNewPassword(errors: FieldErrors, pw: string, pw2: string, ctx: { idNumber?: string; phone?: string }) {
  if (!pw) errors.password = '请输入密码';
  else {
    const problems = newPasswordProblems(pw, ctx);
    if (problems.length) errors.password = problems.join('；');
  }
  if (!errors.password && pw !== pw2) errors.password2 = '两次输入的密码不一致';
}

export async function duplicateErrors(ctx: AppContext, id?: string, phone?: string): Promise<FieldErrors> {
  const errors: FieldErrors = {};
  if (id && (await ctx.db.selectFrom('users').select('id').where('id_hmac', '=', idHmac(ctx.secrets, id)).executeTakeFirst())) {
    errors.idNumber = '该身份证号已注册，请直接登录；如忘记密码请通过“忘记密码”找回';
  }
  if (phone && (await ctx.db.selectFrom('users').select('id').where('phone_hmac', '=', phoneHmac(ctx.secrets, phone)).executeTakeFirst())) {
    errors.phone = '该手机号已注册，请更换手机号或直接登录';
  }
  return errors;
}

export async function register(ctx: AppContext, v: RegisterInput): Promise<{ ok: true; userId: number } | { ok: false; errors: FieldErrors }> {
  const now = ctx.config.now();
  const { errors, id, phone } = checkRegisterFields(v, now);
  checkNewPassword(errors, v.password, v.password2, { idNumber: id, phone });
  if (!v.agree) errors.agree = '请阅读并同意《用户协议》和《隐私政策》';
  Object.assign(errors, await duplicateErrors(ctx, id, phone));
  if (!v.smsCode) errors.smsCode = '请输入短信验证码';
  if (Object.keys(errors).length || !id || !phone) return { ok: false, errors };
  // The code is consumed only once everything else is right, so a typo elsewhere costs no code.
  const sms = await verifyCode(ctx, phone, 'register', v.smsCode);
  if (!sms.ok) return { ok: false, errors: { smsCode: sms.error } };
  const hash = await hashPassword(v.password);
  const stamp = now.toISOString();
  try {
    const row = await ctx.db
      .insertInto('users')
      .values({
        kind: 'applicant',
        name: v.name.trim(),
        ...idColumns(ctx.secrets, id),
        ...phoneColumns(ctx.secrets, phone),
        password_hash: hash,
        password_changed_at: stamp,
        created_at: stamp,
        updated_at: stamp,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordPassword(ctx.db, row.id, hash, stamp);
    // Certificates imported from the old system (导入历史证书) fill 现有职称 at once.
    await claimAtRegistration(ctx, row.id, idHmac(ctx.secrets, id));
    return { ok: true, userId: row.id };
  } catch (err) {
    // Two tabs racing past the duplicate check: the unique index decides.
    if (/UNIQUE/.test(String(err))) return { ok: false, errors: await duplicateErrors(ctx, id, phone) };
    throw err;
  }
}

export type LoginResult =
  | { ok: true; userId: number; totp: boolean }
  | { ok: false; error: string; locked?: boolean; userId?: number; justLocked?: boolean };

export const ADMIN_LOCK_MESSAGE = '账号已被平台管理员锁定，请联系平台管理员。';

function lockMessage(kind: string, unitName: string | null): string {
  if (kind === 'staff') return '账号已锁定，请联系平台管理员解锁。';
  return unitName
    ? `账号已锁定。请联系所在单位（${unitName}）在【专业技术人员管理】中解锁，或通过短信验证码自助解锁。`
    : '账号已锁定。您尚未选择单位，请联系平台技术支持解锁，或通过短信验证码自助解锁。';
}

/** users.failed_logins mirrors the sum over the sources (shown to admins; 0 after an unlock). */
async function syncFailedLogins(trx: Kysely<Database>, userId: number, stamp: string): Promise<void> {
  const sum = await trx.selectFrom('login_failures').select((eb) => eb.fn.sum<number>('failures').as('n')).where('user_id', '=', userId).executeTakeFirst();
  await trx.updateTable('users').set({ failed_logins: Number(sum?.n ?? 0), updated_at: stamp }).where('id', '=', userId).execute();
}

/**
 * Applicants sign in by ID number or phone; staff by username. `source` is the client IP:
 * wrong passwords count per (account, source) and the 3rd locks that pair only. An
 * administrator's lock (users.locked_at) applies everywhere. A right password clears the pair.
 * `totp` says whether a second factor must follow before the session is signed in.
 */
export async function login(ctx: AppContext, kind: 'applicant' | 'staff', account: string, password: string, source = 'unknown'): Promise<LoginResult> {
  const acc = account.trim();
  if (!acc || !password) return { ok: false, error: kind === 'staff' ? '请输入用户名和密码' : '请输入身份证号或手机号和密码' };
  let q = ctx.db
    .selectFrom('users as u')
    .leftJoin('orgs as unit', 'unit.id', 'u.unit_org_id')
    .select(['u.id', 'u.kind', 'u.password_hash', 'u.locked_at', 'u.disabled', 'u.totp_enabled', 'unit.name as unit_name'])
    .where('u.kind', '=', kind);
  if (kind === 'staff') q = q.where('u.username', '=', acc);
  else {
    const id = normalizeIdNumber(acc);
    q = /^\d{17}[\dX]$/.test(id)
      ? q.where('u.id_hmac', '=', idHmac(ctx.secrets, id))
      : q.where('u.phone_hmac', '=', phoneHmac(ctx.secrets, acc.replace(/[\s-]/g, '')));
  }
  const user = await q.executeTakeFirst();
  if (!user) {
    await verifyPassword(await dummyHash(), password); // same cost as a real check
    return { ok: false, error: '账号或密码错误' };
  }
  if (user.disabled) return { ok: false, error: '账号已停用，请联系平台管理员', userId: user.id };
  const locked = { ok: false as const, error: lockMessage(user.kind, user.unit_name ?? null), locked: true, userId: user.id };
  // An administrator's lock: SMS self-unlock does not lift it, so it is not offered.
  if (user.locked_at) return { ok: false, error: user.kind === 'staff' ? locked.error : ADMIN_LOCK_MESSAGE, userId: user.id };
  const pair = await ctx.db.selectFrom('login_failures').select('locked_at').where('user_id', '=', user.id).where('source', '=', source).executeTakeFirst();
  if (pair?.locked_at) return locked;
  const stamp = ctx.config.now().toISOString();
  if (!(await verifyPassword(user.password_hash, password))) {
    return writeTx(ctx.db, async (trx) => {
      const cur = await trx.selectFrom('login_failures').select('failures').where('user_id', '=', user.id).where('source', '=', source).executeTakeFirst();
      const failed = (cur?.failures ?? 0) + 1;
      const lockNow = failed >= MAX_FAILED_LOGINS;
      const row = { failures: failed, locked_at: lockNow ? stamp : null, updated_at: stamp };
      await trx
        .insertInto('login_failures')
        .values({ user_id: user.id, source, ...row })
        .onConflict((oc) => oc.columns(['user_id', 'source']).doUpdateSet(row))
        .execute();
      await syncFailedLogins(trx, user.id, stamp);
      return lockNow
        ? { ...locked, justLocked: true }
        : { ok: false as const, error: `账号或密码错误，再错${MAX_FAILED_LOGINS - failed}次账号将被锁定`, userId: user.id };
    });
  }
  await writeTx(ctx.db, async (trx) => {
    const cleared = await trx.deleteFrom('login_failures').where('user_id', '=', user.id).where('source', '=', source).executeTakeFirst();
    if (Number(cleared.numDeletedRows) > 0) await syncFailedLogins(trx, user.id, stamp);
  });
  return { ok: true, userId: user.id, totp: !!user.totp_enabled };
}

/** Marks a completed sign-in (after the second factor, when there is one). */
export async function recordLogin(ctx: AppContext, userId: number): Promise<void> {
  await ctx.db.updateTable('users').set({ last_login_at: ctx.config.now().toISOString() }).where('id', '=', userId).execute();
}

/** Finds the applicant whose ID number and phone both match (忘记密码, 自助解锁). */
export async function findByIdAndPhone(ctx: AppContext, idNumber: string, phone: string) {
  return ctx.db
    .selectFrom('users')
    .select(['id', 'locked_at'])
    .where('kind', '=', 'applicant')
    .where('id_hmac', '=', idHmac(ctx.secrets, idNumber))
    .where('phone_hmac', '=', phoneHmac(ctx.secrets, phone))
    .executeTakeFirst();
}

export interface ResetInput {
  idNumber: string;
  phone: string;
  smsCode: string;
  password?: string;
  password2?: string;
}

/**
 * 忘记密码 (with a new password) and 自助解锁 (without): both prove ownership with
 * 身份证号 + 手机号 + SMS code, and both clear the wrong-password locks of every source.
 * An administrator's lock stays (self-unlock refuses it before any code is spent).
 */
export async function resetByPhone(ctx: AppContext, v: ResetInput, withPassword: boolean): Promise<{ ok: true; userId: number } | { ok: false; errors: FieldErrors }> {
  const now = ctx.config.now();
  const errors: FieldErrors = {};
  const id = validateIdNumber(v.idNumber ?? '', now);
  if (!id.ok) errors.idNumber = id.error;
  const phone = validatePhone(v.phone ?? '');
  if (!phone.ok) errors.phone = phone.error;
  if (withPassword) checkNewPassword(errors, v.password ?? '', v.password2 ?? '', { idNumber: id.ok ? id.value : undefined, phone: phone.ok ? phone.value : undefined });
  if (!v.smsCode) errors.smsCode = '请输入短信验证码';
  if (Object.keys(errors).length || !id.ok || !phone.ok) return { ok: false, errors };
  const user = await findByIdAndPhone(ctx, id.value, phone.value);
  if (!user) return { ok: false, errors: { phone: '身份证号与注册手机号不匹配' } };
  // Self-unlock lifts the locks of wrong passwords, never an administrator's lock.
  if (!withPassword && user.locked_at) return { ok: false, errors: { phone: ADMIN_LOCK_MESSAGE } };
  // Checked before the SMS code is consumed, like every other field.
  if (withPassword && (await reusedPassword(ctx.db, user.id, v.password!))) return { ok: false, errors: { password: REUSE_MESSAGE } };
  const sms = await verifyCode(ctx, phone.value, withPassword ? 'forgot' : 'unlock', v.smsCode);
  if (!sms.ok) return { ok: false, errors: { smsCode: sms.error } };
  const stamp = now.toISOString();
  const hash = withPassword ? await hashPassword(v.password!) : null;
  const set = hash ? { password_hash: hash, password_changed_at: stamp, must_change_password: 0 } : {};
  await writeTx(ctx.db, async (trx) => {
    const before = await trx.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow();
    await trx
      .updateTable('users')
      .set({ ...set, failed_logins: 0, updated_at: stamp })
      .where('id', '=', user.id)
      .execute();
    // Self-unlock opens the account from every source, not just the one the SMS came from
    // (an administrator's lock, users.locked_at, stays).
    await clearLoginFailures(trx, user.id);
    if (hash) await recordPassword(trx, user.id, hash, stamp, before.password_hash);
  });
  if (withPassword) await endSessions(ctx, user.id);
  return { ok: true, userId: user.id };
}

/** Ends every session of a user, except `keepSid` (the one making the change). */
export async function endSessions(ctx: AppContext, userId: number, keepSid?: string): Promise<void> {
  let q = ctx.db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepSid) q = q.where('sid', '!=', keepSid);
  await q.execute();
}

export async function changePassword(ctx: AppContext, userId: number, v: { old: string; password: string; password2: string }, keepSid: string): Promise<{ ok: true } | { ok: false; errors: FieldErrors }> {
  const user = await ctx.db.selectFrom('users').select(['password_hash', 'id_enc', 'phone_enc']).where('id', '=', userId).executeTakeFirstOrThrow();
  const errors: FieldErrors = {};
  if (!v.old) errors.old = '请输入原密码';
  else if (!(await verifyPassword(user.password_hash, v.old))) errors.old = '原密码不正确';
  checkNewPassword(errors, v.password, v.password2, {
    idNumber: user.id_enc ? ctx.secrets.decrypt(user.id_enc) : undefined,
    phone: user.phone_enc ? ctx.secrets.decrypt(user.phone_enc) : undefined,
  });
  if (!errors.password && v.old && v.password === v.old) errors.password = '新密码不能与原密码相同';
  if (!errors.password && !errors.old && (await reusedPassword(ctx.db, userId, v.password))) errors.password = REUSE_MESSAGE;
  if (Object.keys(errors).length) return { ok: false, errors };
  const stamp = ctx.config.now().toISOString();
  const hash = await hashPassword(v.password);
  await writeTx(ctx.db, async (trx) => {
    await trx
      .updateTable('users')
      .set({ password_hash: hash, password_changed_at: stamp, must_change_password: 0, updated_at: stamp })
      .where('id', '=', userId)
      .execute();
    await recordPassword(trx, userId, hash, stamp, user.password_hash);
  });
  await endSessions(ctx, userId, keepSid);
  return { ok: true };
}

export async function sendMessage(ctx: AppContext, userId: number, type: string, content: string): Promise<void> {
  await ctx.db.insertInto('messages').values({ user_id: userId, type, content, created_at: ctx.config.now().toISOString() }).execute();
}

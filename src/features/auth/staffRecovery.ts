/**
 * 工作人员找回密码 (seed 004, Hangzhou manual 单位帐户密码丢失; issue #15): a staff account of a
 * unit resets its own password without its admin —
 *  - by SMS: its username and a phone that is its own (or its linked personal account's), or,
 *    for the unit's admin, the unit's 联系电话 (a mobile number); the code machinery, limits and
 *    image challenge are those of /forgot (src/features/sms/codes.ts);
 *  - or, as the seed describes, by the unit's name + 统一社会信用代码 + the staff member's 身份证号
 *    (of the personal account linked to the staff account).
 * Nothing says which part did not match: one message for every mismatch.
 */
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import type { FieldErrors } from '../../lib/forms.js';
import { hashPassword } from '../../lib/passwords.js';
import { idHmac, phoneHmac } from '../../lib/pii.js';
import { validateIdNumber } from '../../domain/idcard.js';
import { validatePhone } from '../../domain/phone.js';
import { validateUscc } from '../../domain/uscc.js';
import { newPasswordProblems, reusedPassword, recordPassword, clearLoginFailures, REUSE_MESSAGE } from './passwords.js';
import { verifyCode } from '../sms/codes.js';
import { endSessions, ADMIN_LOCK_MESSAGE } from './service.js';

export const SMS_MISMATCH = '用户名与手机号不匹配（单位管理员也可使用单位联系电话）';
export const UNIT_MISMATCH = '单位名称、统一社会信用代码与工作人员身份证号不匹配';

const ADMIN_ROLES = ['unit_admin', 'org_admin'];

type Body = Record<string, string | undefined>;

/** The enabled staff account `username` that `phone` may recover, or undefined. */
export async function staffByPhone(ctx: AppContext, username: string, phone: string) {
  const u = await ctx.db.selectFrom('users as u')
    .leftJoin('users as p', 'p.id', 'u.person_user_id')
    .leftJoin('orgs as o', 'o.id', 'u.org_id')
    .select(['u.id', 'u.roles', 'u.locked_at', 'u.phone_hmac', 'p.phone_hmac as person_phone', 'o.phone as org_phone', 'o.kind as org_kind'])
    .where('u.kind', '=', 'staff').where('u.username', '=', username.trim()).where('u.disabled', '=', 0)
    .executeTakeFirst();
  if (!u || u.org_kind === 'platform') return undefined; // platform admins recover through the platform
  const h = phoneHmac(ctx.secrets, phone);
  const isAdmin = u.roles.split(',').some((r) => ADMIN_ROLES.includes(r));
  const orgPhone = validatePhone((u.org_phone ?? '').replace(/[\s-]/g, ''));
  if (u.phone_hmac === h || u.person_phone === h || (isAdmin && orgPhone.ok && orgPhone.value === phone)) return u;
  return undefined;
}

function passwordErrors(errors: FieldErrors, b: Body) {
  const pw = b.password ?? '';
  if (!pw) errors.password = '请输入密码';
  else {
    const problems = newPasswordProblems(pw);
    if (problems.length) errors.password = problems.join('；');
  }
  if (!errors.password && pw !== (b.password2 ?? '')) errors.password2 = '两次输入的密码不一致';
}

async function setPassword(ctx: AppContext, userId: number, password: string) {
  const stamp = ctx.config.now().toISOString();
  const hash = await hashPassword(password);
  await writeTx(ctx.db, async (trx) => {
    const before = await trx.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirstOrThrow();
    await trx.updateTable('users').set({ password_hash: hash, password_changed_at: stamp, must_change_password: 0, failed_logins: 0, updated_at: stamp }).where('id', '=', userId).execute();
    await clearLoginFailures(trx, userId);
    await recordPassword(trx, userId, hash, stamp, before.password_hash);
  });
  await endSessions(ctx, userId);
}

export async function resetStaffBySms(ctx: AppContext, b: Body): Promise<{ ok: true; userId: number } | { ok: false; errors: FieldErrors }> {
  const errors: FieldErrors = {};
  if (!(b.username ?? '').trim()) errors.username = '请输入用户名';
  const phone = validatePhone(b.phone ?? '');
  if (!phone.ok) errors.phone = phone.error;
  if (!b.smsCode) errors.smsCode = '请输入短信验证码';
  passwordErrors(errors, b);
  if (Object.keys(errors).length || !phone.ok) return { ok: false, errors };
  const u = await staffByPhone(ctx, b.username!, phone.value);
  if (!u) return { ok: false, errors: { phone: SMS_MISMATCH } };
  if (u.locked_at) return { ok: false, errors: { phone: ADMIN_LOCK_MESSAGE } };
  if (await reusedPassword(ctx.db, u.id, b.password!)) return { ok: false, errors: { password: REUSE_MESSAGE } };
  const sms = await verifyCode(ctx, phone.value, 'forgot', b.smsCode!);
  if (!sms.ok) return { ok: false, errors: { smsCode: sms.error } };
  await setPassword(ctx, u.id, b.password!);
  return { ok: true, userId: u.id };
}

export async function resetStaffByUnit(ctx: AppContext, b: Body): Promise<{ ok: true; userId: number } | { ok: false; errors: FieldErrors }> {
  const errors: FieldErrors = {};
  const unitName = (b.unitName ?? '').trim();
  if (!unitName) errors.unitName = '请输入单位名称';
  const uscc = validateUscc(b.uscc ?? '');
  if (!uscc.ok) errors.uscc = uscc.error;
  const id = validateIdNumber(b.idNumber ?? '', ctx.config.now());
  if (!id.ok) errors.idNumber = id.error;
  passwordErrors(errors, b);
  if (Object.keys(errors).length || !uscc.ok || !id.ok) return { ok: false, errors };
  const h = idHmac(ctx.secrets, id.value);
  const u = await ctx.db.selectFrom('users as u')
    .innerJoin('orgs as o', 'o.id', 'u.org_id')
    .leftJoin('users as p', 'p.id', 'u.person_user_id')
    .select(['u.id', 'u.locked_at'])
    .where('u.kind', '=', 'staff').where('u.disabled', '=', 0)
    .where('o.kind', 'in', ['unit', 'agency']).where('o.removed_at', 'is', null)
    .where('o.name', '=', unitName).where('o.uscc', '=', uscc.value)
    .where((eb) => eb.or([eb('p.id_hmac', '=', h), eb('u.id_hmac', '=', h)]))
    .orderBy('u.id')
    .executeTakeFirst();
  if (!u) return { ok: false, errors: { idNumber: UNIT_MISMATCH } };
  if (u.locked_at) return { ok: false, errors: { idNumber: ADMIN_LOCK_MESSAGE } };
  if (await reusedPassword(ctx.db, u.id, b.password!)) return { ok: false, errors: { password: REUSE_MESSAGE } };
  await setPassword(ctx, u.id, b.password!);
  return { ok: true, userId: u.id };
}

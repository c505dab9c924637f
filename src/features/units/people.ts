/**
 * The unit's people: its 工作人员 (staff accounts of the unit) and its 专业技术人员 (the applicants
 * whose users.unit_org_id is the unit) — seed 002 §五(三)3, seed 004 工作账号管理. 批量新增账号 is
 * ./batchAccounts.ts.
 * Every query is scoped by the unit's id: an id from a URL is never trusted on its own.
 *
 * Every account operation writes its audit row (`req` = the unit clerk's request: actor and
 * source IP) in the same transaction as the change. Rows name the account by id only: never an
 * ID number, phone, password or the imported rows themselves.
 *
 * users.locked_at is an ADMINISTRATOR's lock (applies everywhere, src/features/auth/service.ts):
 * the unit's unlock and password reset clear only the wrong-password counters
 * (failed_logins = 0; the trigger of migration 0009 clears the per-source rows) and never lift it.
 */
import { sql } from 'kysely';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import { charCount, type FieldErrors } from '../../lib/forms.js';
import { hashPassword } from '../../lib/passwords.js';
import { idHmac, phoneHmac } from '../../lib/pii.js';
import { validateIdNumber, normalizeIdNumber } from '../../domain/idcard.js';
import { generatePassword, userStatus } from '../admin/users.js';
import { containsPattern } from '../admin/orgs.js';
import { UNIT_ADMIN, USERNAME_RE, USERNAME_MESSAGE } from './service.js';
import { lockedFromASource } from '../auth/passwords.js';
import { audit } from '../audit/service.js';

type Body = Record<string, string | undefined>;
export type Unit = { id: number; name: string };

const stampOf = (ctx: AppContext) => ctx.config.now().toISOString();

export const oneTime = (pw: string) => `初始密码：${pw}（仅显示一次，请转告本人，首次登录须修改）`;

// ---------------------------------------------------------------------------------------
// 工作人员

export async function listStaff(ctx: AppContext, unitId: number) {
  const rows = await ctx.db
    .selectFrom('users as u')
    .leftJoin('users as p', (j) => j.onRef('p.id', '=', 'u.person_user_id').on('p.kind', '=', 'applicant'))
    .select(['u.id', 'u.username', 'u.name', 'u.roles', 'u.disabled', 'u.locked_at', 'u.must_change_password', 'u.last_login_at', 'p.id_masked as person_id_masked', 'p.name as person_name'])
    .where('u.org_id', '=', unitId)
    .where('u.kind', '=', 'staff')
    .orderBy('u.id')
    .execute();
  return rows.map((r) => ({ ...r, isAdmin: r.roles.split(',').includes(UNIT_ADMIN), status: userStatus(r) }));
}

export async function staffOf(ctx: AppContext, unitId: number, id: number) {
  if (!Number.isSafeInteger(id)) return undefined;
  return ctx.db.selectFrom('users').select(['id', 'name', 'username', 'roles', 'disabled']).where('id', '=', id).where('org_id', '=', unitId).where('kind', '=', 'staff').executeTakeFirst();
}

export async function addStaff(ctx: AppContext, req: FastifyRequest, unit: Unit, b: Body): Promise<{ ok: true; id: number; password: string; linked: boolean } | { ok: false; errors: FieldErrors }> {
  const errors: FieldErrors = {};
  const username = (b.username ?? '').trim();
  const name = (b.name ?? '').trim();
  if (!username) errors.username = '请填写用户名';
  else if (!USERNAME_RE.test(username)) errors.username = USERNAME_MESSAGE;
  else if (await ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) errors.username = '该用户名已被使用';
  if (!name) errors.name = '请填写姓名';
  else if (charCount(name) > 50) errors.name = '姓名不能超过50个字';
  const id = validateIdNumber(b.idNumber ?? '', ctx.config.now());
  let person: { id: number; name: string } | undefined;
  if (!id.ok) errors.idNumber = id.error;
  else {
    person = await ctx.db.selectFrom('users').select(['id', 'name']).where('kind', '=', 'applicant').where('id_hmac', '=', idHmac(ctx.secrets, id.value)).executeTakeFirst();
    if (person && name && person.name !== name) errors.name = '姓名与该身份证号注册的个人账号不一致';
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  const password = generatePassword();
  const hash = await hashPassword(password);
  const stamp = stampOf(ctx);
  const admin = b.unit_admin === '1';
  const created = await writeTx(ctx.db, async (trx) => {
    if (await trx.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) return null;
    const row = await trx
      .insertInto('users')
      .values({
        kind: 'staff', username, name, org_id: unit.id, roles: admin ? UNIT_ADMIN : '', person_user_id: person?.id ?? null,
        password_hash: hash, must_change_password: 1, created_at: stamp, updated_at: stamp,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.insertInto('messages').values({ user_id: row.id, type: '系统消息', content: `您的工作人员账号已由单位“${unit.name}”创建。首次登录须修改初始密码。`, created_at: stamp }).execute();
    await audit(ctx, req, {
      action: 'user_create', objectType: 'user', objectId: row.id,
      detail: `单位新增工作人员，用户名 ${username}，${admin ? '授予单位管理员' : '普通工作人员'}，${person ? '已关联个人账号' : '未关联个人账号'}`,
    }, trx);
    return row.id;
  });
  if (created === null) return { ok: false, errors: { username: '该用户名已被使用' } };
  return { ok: true, id: created, password, linked: !!person };
}

export async function setStaffDisabled(ctx: AppContext, req: FastifyRequest, unit: Unit, id: number, disabled: boolean) {
  const stamp = stampOf(ctx);
  await writeTx(ctx.db, async (trx) => {
    await trx.updateTable('users').set({ disabled: disabled ? 1 : 0, updated_at: stamp }).where('id', '=', id).where('org_id', '=', unit.id).execute();
    if (disabled) await trx.deleteFrom('sessions').where('user_id', '=', id).execute();
    await trx.insertInto('messages').values({ user_id: id, type: '系统消息', content: `您的工作人员账号已被单位“${unit.name}”${disabled ? '停用' : '启用'}。`, created_at: stamp }).execute();
    await audit(ctx, req, { action: disabled ? 'user_disable' : 'user_enable', objectType: 'user', objectId: id, detail: `单位管理员${disabled ? '停用' : '启用'}工作人员账号` }, trx);
  });
}

/** The unit cannot lift an administrator's lock: the person must ask the platform. */
export const ADMIN_LOCKED_NOTE = '已被管理员锁定，请联系平台';

/**
 * A new one-time password for a staff account or a person; their sessions end. The
 * wrong-password locks go (failed_logins = 0), an administrator's lock (locked_at) stays.
 * The caller has already checked that the account is the unit's.
 */
export async function resetPassword(ctx: AppContext, req: FastifyRequest, unit: Unit, userId: number, whom: 'staff' | 'person'): Promise<{ password: string; adminLocked: boolean }> {
  const password = generatePassword();
  const hash = await hashPassword(password);
  const stamp = stampOf(ctx);
  const adminLocked = await writeTx(ctx.db, async (trx) => {
    const cur = await trx.selectFrom('users').select('locked_at').where('id', '=', userId).executeTakeFirstOrThrow();
    await trx.updateTable('users')
      .set({ password_hash: hash, must_change_password: 1, password_changed_at: stamp, failed_logins: 0, updated_at: stamp })
      .where('id', '=', userId)
      .execute();
    await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
    await trx.insertInto('messages').values({
      user_id: userId, type: '单位消息', created_at: stamp,
      content: `您的登录密码已由单位“${unit.name}”重置，请使用单位告知的初始密码登录，并立即修改密码。${cur.locked_at ? '您的账号已被平台管理员锁定，须由平台解锁后方可登录。' : ''}`,
    }).execute();
    await audit(ctx, req, {
      action: 'password_reset', objectType: 'user', objectId: userId,
      detail: `单位重置${whom === 'staff' ? '工作人员' : '专业技术人员'}密码，清除密码错误锁定${cur.locked_at ? '；平台管理员的锁定未解除' : ''}`,
    }, trx);
    return !!cur.locked_at;
  });
  return { password, adminLocked };
}

// ---------------------------------------------------------------------------------------
// 专业技术人员

export interface PeopleQuery {
  q: string;
  status: '' | 'locked';
}

export async function listPeople(ctx: AppContext, unitId: number, f: PeopleQuery, offset: number, size: number) {
  let base = ctx.db.selectFrom('users as u').where('u.kind', '=', 'applicant').where('u.unit_org_id', '=', unitId);
  if (f.q) {
    const id = normalizeIdNumber(f.q);
    const phone = f.q.replace(/[\s-]/g, '');
    // A full ID number or phone finds the person through the look-up hash (never by decrypting).
    base = base.where((eb) => eb.or([
      sql<boolean>`u.name like ${containsPattern(f.q)} escape '\\'`,
      ...(/^\d{17}[\dX]$/.test(id) ? [eb('u.id_hmac', '=', idHmac(ctx.secrets, id))] : []),
      ...(/^1\d{10}$/.test(phone) ? [eb('u.phone_hmac', '=', phoneHmac(ctx.secrets, phone))] : []),
    ]));
  }
  // Locked = by an administrator, or from one source (3 wrong passwords from one IP).
  if (f.status === 'locked') base = base.where((eb) => eb.or([eb('u.locked_at', 'is not', null), eb(lockedFromASource, '=', 1)]));
  const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await base
    .select(['u.id', 'u.name', 'u.id_masked', 'u.phone_masked', 'u.locked_at', 'u.disabled', 'u.last_login_at', 'u.must_change_password', lockedFromASource.as('source_locked')])
    .orderBy('u.name')
    .orderBy('u.id')
    .limit(size)
    .offset(offset)
    .execute();
  return {
    rows: rows.map((r) => ({
      ...r,
      status: r.disabled ? '已停用' : r.locked_at || r.source_locked ? '已锁定' : '正常',
      // An administrator's lock: the unit offers no unlock (it could not lift it).
      adminLocked: !!r.locked_at,
      unlockable: !r.locked_at && !!r.source_locked,
    })),
    total: Number(n),
  };
}

/** One of the unit's people, or undefined (someone else's id is simply not found). */
export async function personOf(ctx: AppContext, unitId: number, id: number) {
  if (!Number.isSafeInteger(id)) return undefined;
  return ctx.db
    .selectFrom('users')
    .select(['id', 'name', 'id_masked', 'phone_masked', 'locked_at', 'disabled', 'last_login_at'])
    .where('id', '=', id)
    .where('kind', '=', 'applicant')
    .where('unit_org_id', '=', unitId)
    .executeTakeFirst();
}

export const MESSAGE_MAX = 500;

export async function messagePerson(ctx: AppContext, unit: Unit, personId: number, raw: string): Promise<string | null> {
  const content = (raw ?? '').trim();
  if (!content) return '请填写信息内容';
  if (charCount(content) > MESSAGE_MAX) return `信息内容不能超过${MESSAGE_MAX}个字`;
  await ctx.db.insertInto('messages').values({ user_id: personId, type: '单位消息', content: `【${unit.name}】${content}`, created_at: stampOf(ctx) }).execute();
  return null;
}

/**
 * 解锁: clears the wrong-password locks of every source (failed_logins = 0 → trigger). Refused,
 * and nothing changes, while an administrator's lock (users.locked_at) is on the account.
 */
export async function unlockPerson(ctx: AppContext, req: FastifyRequest, unit: Unit, personId: number): Promise<{ ok: true } | { ok: false; error: string }> {
  const stamp = stampOf(ctx);
  return writeTx(ctx.db, async (trx) => {
    const p = await trx.selectFrom('users').select('locked_at').where('id', '=', personId).where('kind', '=', 'applicant').where('unit_org_id', '=', unit.id).executeTakeFirst();
    if (!p) return { ok: false as const, error: '人员不存在' };
    if (p.locked_at) {
      await audit(ctx, req, { action: 'account_unlock', objectType: 'user', objectId: personId, result: 'fail', detail: '单位解锁被拒绝：账号已被平台管理员锁定' }, trx);
      return { ok: false as const, error: ADMIN_LOCKED_NOTE };
    }
    await trx.updateTable('users').set({ failed_logins: 0, updated_at: stamp }).where('id', '=', personId).where('unit_org_id', '=', unit.id).execute();
    await trx.insertInto('messages').values({ user_id: personId, type: '单位消息', content: `您的账号已由单位“${unit.name}”解锁，请使用原密码登录。`, created_at: stamp }).execute();
    await audit(ctx, req, { action: 'account_unlock', objectType: 'user', objectId: personId, detail: '单位解锁（清除密码错误锁定）' }, trx);
    return { ok: true as const };
  });
}

export const IN_FLIGHT_MESSAGE = '该人员有进行中的申报，不能移除';

/** 移除: the person leaves the unit, unless a declaration of theirs is in review through it. */
export async function removePerson(ctx: AppContext, req: FastifyRequest, unit: Unit, personId: number): Promise<string | null> {
  const stamp = stampOf(ctx);
  return writeTx(ctx.db, async (trx) => {
    const busy = await trx
      .selectFrom('declarations as d')
      .innerJoin('declaration_stages as s', (j) => j.onRef('s.declaration_id', '=', 'd.id').on('s.org_id', '=', unit.id))
      .select('d.id')
      .where('d.user_id', '=', personId)
      .where('d.status', 'in', ['reviewing', 'returned'])
      .executeTakeFirst();
    if (busy) {
      await audit(ctx, req, { action: 'unit_person_remove', objectType: 'user', objectId: personId, result: 'fail', detail: `${IN_FLIGHT_MESSAGE}（申报 ${busy.id}）` }, trx);
      return IN_FLIGHT_MESSAGE;
    }
    await trx.updateTable('users').set({ unit_org_id: null, updated_at: stamp }).where('id', '=', personId).where('unit_org_id', '=', unit.id).execute();
    await audit(ctx, req, { action: 'unit_person_remove', objectType: 'user', objectId: personId, detail: '移出本单位专业技术人员名单（账号和申报资料保留）' }, trx);
    await trx.insertInto('messages').values({
      user_id: personId, type: '单位消息', created_at: stamp,
      content: `您已被单位“${unit.name}”移出本单位专业技术人员名单。如有疑问请联系单位；如已调动，请在“基本信息”中选择新的工作单位。`,
    }).execute();
    return null;
  });
}

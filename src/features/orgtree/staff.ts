/**
 * 本级人员授权 (seed 004): an organisation's admin adds staff accounts and ticks their duties
 * (src/domain/duties.ts). Every query is scoped by the admin's own org id.
 */
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { DB } from '../../db/index.js';
import { writeTx } from '../../db/index.js';
import { charCount, type FieldErrors } from '../../lib/forms.js';
import { hashPassword } from '../../lib/passwords.js';
import { dutiesOf, dutiesOfKind, pickDuties, DUTIES, DUTY_NAME, type Duty } from '../../domain/duties.js';
import { generatePassword, userStatus } from '../admin/users.js';
import { UNIT_ADMIN, USERNAME_RE, USERNAME_MESSAGE } from '../units/service.js';
import { ORG_ADMIN } from './service.js';
import { audit } from '../audit/service.js';

export type Org = { id: number; name: string; kind: string };
type Body = Record<string, unknown>;

export const dutyChoices = (kind: string) => DUTIES.filter((d) => dutiesOfKind(kind).includes(d.code));
export const dutyNames = (ds: readonly Duty[]) => ds.map((d) => DUTY_NAME[d]).join('、');

const isAdminRoles = (roles: string) => roles.split(',').some((r) => r === ORG_ADMIN || r === UNIT_ADMIN);

export async function listStaff(db: DB, org: Org) {
  const rows = await db.selectFrom('users').select(['id', 'username', 'name', 'roles', 'duties', 'disabled', 'locked_at', 'must_change_password', 'last_login_at'])
    .where('org_id', '=', org.id).where('kind', '=', 'staff').orderBy('id').execute();
  return rows.map((r) => ({ ...r, isAdmin: isAdminRoles(r.roles), duties: dutiesOf(r.duties, org.kind), allDuties: r.duties === null || r.duties === undefined, status: userStatus(r) }));
}

export async function staffMember(db: DB, org: Org, rawId: unknown) {
  const id = Number(rawId);
  if (!Number.isSafeInteger(id)) return undefined;
  const r = await db.selectFrom('users').select(['id', 'username', 'name', 'roles', 'duties', 'disabled', 'locked_at', 'must_change_password', 'last_login_at', 'created_at'])
    .where('id', '=', id).where('org_id', '=', org.id).where('kind', '=', 'staff').executeTakeFirst();
  return r && { ...r, isAdmin: isAdminRoles(r.roles), duties: dutiesOf(r.duties, org.kind), allDuties: r.duties === null || r.duties === undefined, status: userStatus(r) };
}

/** 添加本级人员 with ticked duties; the initial password is returned to be shown once. */
export async function addStaff(ctx: AppContext, req: FastifyRequest, org: Org, b: Body) {
  const errors: FieldErrors = {};
  const username = String(b.username ?? '').trim();
  const name = String(b.name ?? '').trim();
  if (!username) errors.username = '请填写用户名';
  else if (!USERNAME_RE.test(username)) errors.username = USERNAME_MESSAGE;
  else if (await ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) errors.username = '该用户名已被使用';
  if (!name) errors.name = '请填写姓名';
  else if (charCount(name) > 50) errors.name = '姓名不能超过50个字';
  const duties = pickDuties(b.duties, org.kind);
  if (!duties.length) errors.duties = '请至少勾选一项权限';
  if (Object.keys(errors).length) return { ok: false as const, errors };
  const password = generatePassword();
  const hash = await hashPassword(password);
  const stamp = ctx.config.now().toISOString();
  const id = await writeTx(ctx.db, async (trx) => {
    if (await trx.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) return null;
    const row = await trx.insertInto('users').values({
      kind: 'staff', username, name, org_id: org.id, roles: '', duties: duties.join(','), password_hash: hash, must_change_password: 1, created_at: stamp, updated_at: stamp,
    }).returning('id').executeTakeFirstOrThrow();
    await audit(ctx, req, { action: 'user_create', objectType: 'user', objectId: row.id, detail: `本级人员授权：新增工作人员 ${username}，权限 ${dutyNames(duties)}` }, trx);
    return row.id;
  });
  if (id === null) return { ok: false as const, errors: { username: '该用户名已被使用' } as FieldErrors };
  return { ok: true as const, id, password };
}

/** Replaces a staff account's duties (分配角色); its open sessions see the change on their next request. */
export async function setDuties(ctx: AppContext, req: FastifyRequest, org: Org, userId: number, ticked: unknown) {
  const duties = pickDuties(ticked, org.kind);
  const stamp = ctx.config.now().toISOString();
  await writeTx(ctx.db, async (trx) => {
    await trx.updateTable('users').set({ duties: duties.join(','), updated_at: stamp }).where('id', '=', userId).where('org_id', '=', org.id).execute();
    await audit(ctx, req, { action: 'user_duties', objectType: 'user', objectId: userId, detail: `本级人员授权：权限改为 ${dutyNames(duties) || '无'}` }, trx);
  });
  return duties;
}

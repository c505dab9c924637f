/**
 * 组织机构管理 (seed 004, issue #15): an organisation's admin creates its children one level down
 * (each with its first admin account), edits them anywhere in its subtree, and removes an empty
 * one. The tree rules are pure (src/domain/orgtree.ts); this file holds the queries and writes.
 * Every id from a URL goes through `inSubtree` first: another branch's org is a 404.
 */
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { DB } from '../../db/index.js';
import { writeTx } from '../../db/index.js';
import type { OrgKind } from '../../db/schema.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { charCount, type FieldErrors } from '../../lib/forms.js';
import { hashPassword } from '../../lib/passwords.js';
import { childError, childOptions, removalError, subtreeIds, wouldCycle, type OrgContents } from '../../domain/orgtree.js';
import { generatePassword } from '../admin/users.js';
import { ORG_KIND_LABEL, HRB_LEVELS, checkOrgUscc, regionUsable } from '../admin/orgs.js';
import { UNIT_ADMIN, USERNAME_RE, USERNAME_MESSAGE } from '../units/service.js';
import { audit } from '../audit/service.js';

/** 机构管理员 of a non-unit organisation (a unit's is UNIT_ADMIN, kept for its own screens). */
export const ORG_ADMIN = 'org_admin';

/** Runs its organisation's tree and staff: an org admin, a unit admin, or the platform's 系统管理员. */
export function isOrgAdmin(u: CurrentUser | null): boolean {
  if (!u || u.kind !== 'staff' || !u.orgId) return false;
  if (u.orgKind === 'platform') return u.roles.includes('admin');
  return u.roles.includes(ORG_ADMIN) || u.roles.includes(UNIT_ADMIN);
}

const HRB_NAME: Record<string, string> = Object.fromEntries(HRB_LEVELS.map((l) => [l.code, l.name]));

/** The child kinds offered to this org, as one select: 'hrb:city', 'committee', 'unit'… */
export function childChoices(parent: { kind: string; hrb_level: string | null }) {
  return childOptions({ kind: parent.kind, hrbLevel: parent.hrb_level }).map((o) => ({
    code: o.hrbLevel ? `${o.kind}:${o.hrbLevel}` : o.kind,
    name: o.hrbLevel ? `${HRB_NAME[o.hrbLevel]}${ORG_KIND_LABEL.hrb}` : ORG_KIND_LABEL[o.kind] ?? o.kind,
  }));
}

export async function parentMap(db: DB): Promise<Map<number, number | null>> {
  const rows = await db.selectFrom('orgs').select(['id', 'parent_org_id']).where('removed_at', 'is', null).execute();
  return new Map(rows.map((r) => [r.id, r.parent_org_id ?? null]));
}

/** The org if it lies strictly below `rootId` (the caller's own org is edited elsewhere). */
export async function inSubtree(db: DB, rootId: number, rawId: unknown) {
  const id = Number(rawId);
  if (!Number.isSafeInteger(id) || id === rootId) return undefined;
  const map = await parentMap(db);
  if (!map.has(id) || !subtreeIds(map, rootId).includes(id)) return undefined;
  return db.selectFrom('orgs').selectAll().where('id', '=', id).where('removed_at', 'is', null).executeTakeFirst();
}

/** The caller's subtree below its own org, depth-first, with each row's depth (1 = a child). */
export async function subtreeRows(db: DB, rootId: number) {
  const map = await parentMap(db);
  const ids = subtreeIds(map, rootId).filter((id) => id !== rootId);
  if (!ids.length) return [];
  const rows = await db.selectFrom('orgs').select(['id', 'name', 'kind', 'hrb_level', 'parent_org_id', 'disabled', 'phone', 'contact']).where('id', 'in', ids).execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const depth = (id: number) => {
    let d = 0;
    for (let cur: number | null | undefined = id; cur != null && cur !== rootId && d < 50; cur = map.get(cur)) d++;
    return d;
  };
  return ids.map((id) => byId.get(id)!).filter(Boolean).map((r) => ({
    ...r, depth: depth(r.id),
    kindLabel: r.kind === 'hrb' ? `${HRB_NAME[r.hrb_level ?? ''] ?? ''}${ORG_KIND_LABEL.hrb}` : ORG_KIND_LABEL[r.kind] ?? r.kind,
  }));
}

/** What keeps an org from being removed. A declaration counts when the org is its applicant's unit, its plan's committee, or acted on it. */
export async function contents(db: DB, orgId: number): Promise<OrgContents> {
  const count = (r: { n: number | string | bigint }) => Number(r.n);
  const staff = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', orgId).where('kind', '=', 'staff').where('disabled', '=', 0).executeTakeFirstOrThrow();
  const people = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('unit_org_id', '=', orgId).where('kind', '=', 'applicant').executeTakeFirstOrThrow();
  const decls = await db.selectFrom('declarations as d')
    .select((eb) => eb.fn.count<number>('d.id').distinct().as('n'))
    .where((eb) => eb.or([
      eb.exists(eb.selectFrom('users as u').select('u.id').whereRef('u.id', '=', 'd.user_id').where('u.unit_org_id', '=', orgId)),
      eb.exists(eb.selectFrom('plans as p').select('p.id').whereRef('p.id', '=', 'd.plan_id').where('p.committee_org_id', '=', orgId)),
      eb.exists(eb.selectFrom('workflow_events as w').select('w.id').whereRef('w.declaration_id', '=', 'd.id').where('w.org_id', '=', orgId)),
    ]))
    .executeTakeFirstOrThrow();
  const children = await db.selectFrom('orgs').select((eb) => eb.fn.countAll<number>().as('n')).where('parent_org_id', '=', orgId).where('removed_at', 'is', null).executeTakeFirstOrThrow();
  return { staff: count(staff), people: count(people), declarations: count(decls), children: count(children) };
}

export type Body = Record<string, string | undefined>;
interface ChildValues { kind: OrgKind; hrbLevel: 'province' | 'city' | 'county' | null; name: string; uscc: string | null; contact: string | null; phone: string | null; address: string | null; region_code: string | null }

const PHONE_RE = /^[0-9][0-9 +()（）,，、/转-]*$/;

/** The fields shared by the create and edit forms; `kindLocked` on edit (a kind never changes). */
async function checkFields(ctx: AppContext, b: Body, parent: { kind: string; hrb_level: string | null }, existing?: { id: number; kind: OrgKind; hrb_level: string | null; region_code?: string | null }) {
  const errors: FieldErrors = {};
  let kind: OrgKind | undefined;
  let hrbLevel: ChildValues['hrbLevel'] = null;
  if (existing) {
    kind = existing.kind;
    hrbLevel = existing.hrb_level as ChildValues['hrbLevel'];
  } else {
    const pick = (b.kind ?? '').split(':');
    if (!childChoices(parent).some((c) => c.code === b.kind)) errors.kind = '请选择机构类型';
    else {
      kind = pick[0] as OrgKind;
      hrbLevel = (pick[1] ?? null) as ChildValues['hrbLevel'];
    }
  }
  if (kind) {
    const bad = childError({ kind: parent.kind, hrbLevel: parent.hrb_level }, { kind, hrbLevel });
    if (bad) errors[existing ? 'parent_org_id' : 'kind'] = bad;
  }
  const name = (b.name ?? '').trim();
  if (!name) errors.name = '请填写机构名称';
  else if (charCount(name) > 100) errors.name = '机构名称不能超过100个字';
  let uscc: string | null = null;
  const isUnit = kind === 'unit' || kind === 'agency';
  if (isUnit && (b.uscc ?? '').trim()) {
    const v = await checkOrgUscc(ctx.db, (b.uscc ?? '').trim(), existing?.id);
    if (!v.ok) errors.uscc = v.error;
    else uscc = v.value;
  }
  const phone = (b.phone ?? '').trim();
  if (phone && (!PHONE_RE.test(phone) || phone.length > 50)) errors.phone = '联系电话只能包含数字、空格、“-”和“转”';
  const contact = (b.contact ?? '').trim();
  if (charCount(contact) > 50) errors.contact = '联系人不能超过50个字';
  const address = (b.address ?? '').trim();
  if (charCount(address) > 200) errors.address = '地址不能超过200个字';
  const region = (b.region_code ?? '').trim();
  if (region && !(await regionUsable(ctx.db, region, existing?.region_code))) errors.region_code = '请选择行政区域';
  const values: ChildValues | null = kind && !Object.keys(errors).length
    ? { kind, hrbLevel, name, uscc, contact: contact || null, phone: phone || null, address: address || null, region_code: region || null }
    : null;
  return { errors, values };
}

/** Creates a child of `parent` and its first admin; the password is returned to show once. */
export async function createChild(ctx: AppContext, req: FastifyRequest, parent: { id: number; name: string; kind: string; hrb_level: string | null }, b: Body) {
  const { errors, values } = await checkFields(ctx, b, parent);
  const username = (b.username ?? '').trim();
  const adminName = (b.admin_name ?? '').trim();
  if (!username) errors.username = '请填写管理员用户名';
  else if (!USERNAME_RE.test(username)) errors.username = USERNAME_MESSAGE;
  else if (await ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) errors.username = '该用户名已被使用';
  if (!adminName) errors.admin_name = '请填写管理员姓名';
  else if (charCount(adminName) > 50) errors.admin_name = '姓名不能超过50个字';
  if (Object.keys(errors).length || !values) return { ok: false as const, errors };
  const password = generatePassword();
  const hash = await hashPassword(password);
  const stamp = ctx.config.now().toISOString();
  const isUnit = values.kind === 'unit' || values.kind === 'agency';
  const r = await writeTx(ctx.db, async (trx) => {
    // Re-checked under the write lock: two admins saving the same name or code at once.
    if (await trx.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) return { errors: { username: '该用户名已被使用' } };
    if (values.uscc && (await trx.selectFrom('orgs').select('id').where('uscc', '=', values.uscc).executeTakeFirst())) return { errors: { uscc: '该统一社会信用代码已注册' } };
    const org = await trx.insertInto('orgs').values({
      kind: values.kind, name: values.name, hrb_level: values.hrbLevel, uscc: values.uscc, contact: values.contact, phone: values.phone,
      address: values.address, region_code: values.region_code, parent_org_id: parent.id,
      // A unit created by its 主管部门 is bound to it already (no 下属单位审核 needed).
      supervisor_org_id: isUnit && parent.kind === 'supervisor' ? parent.id : null,
      supervisor_status: isUnit && parent.kind === 'supervisor' ? 'approved' : null,
      committee_tier: values.kind === 'committee' ? (parent.kind === 'platform' || parent.hrb_level === 'province' ? 'province' : 'city') : null,
      code: null, committee_level: null, nature: null, unit_level: null, scope: null, organizer: null, plan_months: null, series_code: null,
      legal_rep: null, industry: null, location: null, fax: null, remark: null, license_file_id: null, seal_file_id: null,
      created_at: stamp, updated_at: stamp,
    }).returning('id').executeTakeFirstOrThrow();
    const user = await trx.insertInto('users').values({
      kind: 'staff', username, name: adminName, org_id: org.id, roles: isUnit ? UNIT_ADMIN : ORG_ADMIN,
      password_hash: hash, must_change_password: 1, created_at: stamp, updated_at: stamp,
    }).returning('id').executeTakeFirstOrThrow();
    await audit(ctx, req, { action: 'org_create', objectType: 'org', objectId: org.id, detail: `创建下级机构（${ORG_KIND_LABEL[values.kind]}）：${values.name}，上级 ${parent.name}` }, trx);
    await audit(ctx, req, { action: 'user_create', objectType: 'user', objectId: user.id, detail: `创建下级机构管理员，用户名 ${username}` }, trx);
    return { id: org.id };
  });
  if ('errors' in r) return { ok: false as const, errors: r.errors as unknown as FieldErrors };
  return { ok: true as const, id: r.id, name: values.name, username, password };
}

/** Saves a child's details, its parent (within the subtree: no cycle, one level down) and keeps the 更名记录. */
export async function updateChild(ctx: AppContext, req: FastifyRequest, rootId: number, org: { id: number; name: string; kind: OrgKind; hrb_level: string | null; parent_org_id?: number | null; region_code?: string | null }, b: Body) {
  const parentId = b.parent_org_id ? Number(b.parent_org_id) : org.parent_org_id ?? rootId;
  const errors0: FieldErrors = {};
  const map = await parentMap(ctx.db);
  const sub = subtreeIds(map, rootId);
  let parent: { id: number; kind: string; hrb_level: string | null; name: string } | undefined;
  if (!Number.isSafeInteger(parentId) || !sub.includes(parentId)) errors0.parent_org_id = '请选择上级机构';
  else if (wouldCycle(map, org.id, parentId)) errors0.parent_org_id = '上级机构不能是本机构或其下级机构（组织机构不能形成循环）';
  else parent = await ctx.db.selectFrom('orgs').select(['id', 'kind', 'hrb_level', 'name']).where('id', '=', parentId).executeTakeFirst();
  const { errors, values } = await checkFields(ctx, b, parent ?? { kind: 'unit', hrb_level: null }, org);
  if (errors0.parent_org_id) errors.parent_org_id = errors0.parent_org_id;
  if (Object.keys(errors).length || !values || !parent) return { ok: false as const, errors };
  const stamp = ctx.config.now().toISOString();
  const by = req.user!;
  await writeTx(ctx.db, async (trx) => {
    await trx.updateTable('orgs').set({
      name: values.name, uscc: values.kind === 'unit' || values.kind === 'agency' ? values.uscc : null, contact: values.contact, phone: values.phone,
      address: values.address, region_code: values.region_code, parent_org_id: parent!.id, updated_at: stamp,
    }).where('id', '=', org.id).execute();
    if (values.name !== org.name) {
      await trx.insertInto('org_renames').values({ org_id: org.id, old_name: org.name, new_name: values.name, by_user_id: by.id, by_name: by.name, renamed_at: stamp }).execute();
    }
    const moved = parent!.id !== (org.parent_org_id ?? rootId);
    await audit(ctx, req, {
      action: 'org_update', objectType: 'org', objectId: org.id,
      detail: `${values.name}：${[values.name !== org.name ? `更名（原名 ${org.name}）` : '', moved ? `上级改为 ${parent!.name}` : ''].filter(Boolean).join('，') || '修改机构信息'}`,
    }, trx);
  });
  return { ok: true as const };
}

export async function renames(db: DB, orgId: number) {
  return db.selectFrom('org_renames').select(['old_name', 'new_name', 'by_name', 'renamed_at']).where('org_id', '=', orgId).orderBy('id', 'desc').execute();
}

/** Removes (注销) an empty child: refused with the reason while it has people, declarations or children. */
export async function removeChild(ctx: AppContext, req: FastifyRequest, org: { id: number; name: string }): Promise<string | null> {
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    // Counted again under the write lock: a declaration or account added since the confirmation page.
    const why = removalError(await contents(trx, org.id));
    if (why) return why;
    await trx.updateTable('orgs').set({ removed_at: stamp, disabled: 1, updated_at: stamp }).where('id', '=', org.id).execute();
    await audit(ctx, req, { action: 'org_remove', objectType: 'org', objectId: org.id, detail: `注销下级机构：${org.name}` }, trx);
    return null;
  });
}

/** The staff accounts of a child (its admins first), for the 注销管理员 buttons. */
export async function childStaff(db: DB, orgId: number) {
  return db.selectFrom('users').select(['id', 'username', 'name', 'roles', 'disabled', 'last_login_at']).where('org_id', '=', orgId).where('kind', '=', 'staff').orderBy('id').execute();
}

/** 注销下级机构管理员 (seed 004): the parent disables a child's account; it can be re-created. */
export async function disableChildStaff(ctx: AppContext, req: FastifyRequest, orgId: number, userId: number): Promise<boolean> {
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    const u = await trx.selectFrom('users').select(['id', 'username']).where('id', '=', userId).where('org_id', '=', orgId).where('kind', '=', 'staff').executeTakeFirst();
    if (!u) return false;
    await trx.updateTable('users').set({ disabled: 1, updated_at: stamp }).where('id', '=', u.id).execute();
    await trx.deleteFrom('sessions').where('user_id', '=', u.id).execute();
    await audit(ctx, req, { action: 'user_disable', objectType: 'user', objectId: u.id, detail: `上级机构注销下级机构工作人员账号 ${u.username}` }, trx);
    return true;
  });
}

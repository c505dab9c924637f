import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { sanctionRefusal } from '../../domain/integrity.js';
import { makePage } from '../../lib/paging.js';
import { audit } from '../audit/service.js';
import { checkReason } from './service.js';

type Db = Kysely<Database>;
type Staff = Pick<CurrentUser, 'id' | 'orgId' | 'orgKind' | 'name' | 'username' | 'roles' | 'kind'>;

/** Seed 002 一(一)2: the unit's 上级主管部门, or an HR bureau, suspends its 推荐 for a year. */
export const canSanction = (u: Pick<CurrentUser, 'kind' | 'orgKind'>) => u.kind === 'staff' && (u.orgKind === 'supervisor' || u.orgKind === 'hrb');

/**
 * The units the caller may sanction: a supervisor's own units (binding approved); an HR bureau's
 * units in its region (the region or below it).
 */
export async function sanctionableUnits(db: Db, user: Staff): Promise<{ id: number; name: string }[]> {
  if (user.orgKind === 'supervisor') {
    return db.selectFrom('orgs').select(['id', 'name']).where('kind', 'in', ['unit', 'agency']).where('supervisor_org_id', '=', user.orgId ?? -1).where('supervisor_status', '=', 'approved').orderBy('name').execute();
  }
  const hrb = await db.selectFrom('orgs').select(['region_code']).where('id', '=', user.orgId ?? -1).executeTakeFirst();
  if (!hrb?.region_code) return [];
  const regions = await db.selectFrom('regions').select(['code', 'parent_code']).execute();
  const parent = new Map(regions.map((r) => [r.code, r.parent_code]));
  const within = (code: string | null) => {
    for (let c = code, n = 0; c && n < 10; c = parent.get(c) ?? null, n++) if (c === hrb.region_code) return true;
    return false;
  };
  const units = await db.selectFrom('orgs').select(['id', 'name', 'region_code']).where('kind', 'in', ['unit', 'agency']).orderBy('name').execute();
  return units.filter((u) => within(u.region_code)).map(({ id, name }) => ({ id, name }));
}

/** Why a declaration of `year` through this unit (or the unit's 推荐上报/核验) is refused, or null. */
export async function unitSanctionRefusal(db: Db, unitOrgId: number | null, year: number): Promise<string | null> {
  if (!unitOrgId) return null;
  const rows = await db.selectFrom('unit_sanctions').select(['year', 'reason', 'lifted_at']).where('unit_org_id', '=', unitOrgId).where('year', '=', year).execute();
  if (!rows.length) return null;
  const unit = await db.selectFrom('orgs').select('name').where('id', '=', unitOrgId).executeTakeFirst();
  return sanctionRefusal(unit?.name ?? '该单位', rows, year);
}

export async function listSanctions(ctx: AppContext, orgId: number, p: { page: number; size: number; offset: number }) {
  const base = ctx.db.selectFrom('unit_sanctions as s').where('s.org_id', '=', orgId);
  const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
  const rows = await base
    .innerJoin('orgs as o', 'o.id', 's.unit_org_id')
    .leftJoin('users as u', 'u.id', 's.created_by')
    .select(['s.id', 's.year', 's.reason', 's.created_at', 's.lifted_at', 's.lift_reason', 'o.name as unit', 'u.name as by'])
    .orderBy('s.id', 'desc').limit(p.size).offset(p.offset).execute();
  return makePage(rows, total, p.page, p.size);
}

export type SanctionValues = { unit_org_id: string; year: string; reason: string };
export type SanctionResult = { ok: true; id: number } | { ok: false; errors: Partial<Record<keyof SanctionValues, string>> };

export async function createSanction(ctx: AppContext, user: Staff, v: SanctionValues, ip?: string): Promise<SanctionResult> {
  const errors: Partial<Record<keyof SanctionValues, string>> = {};
  const units = await sanctionableUnits(ctx.db, user);
  const unit = units.find((u) => String(u.id) === v.unit_org_id);
  if (!unit) errors.unit_org_id = '请选择单位';
  const year = Number(v.year);
  if (!/^\d{4}$/.test(v.year) || year < 2000 || year > 2100) errors.year = '暂停年度应为四位年份，如2027';
  const r = checkReason(v.reason, '暂停原因');
  if (r) errors.reason = r;
  if (Object.keys(errors).length || !unit) return { ok: false, errors };
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    const dup = await trx.selectFrom('unit_sanctions').select('id').where('unit_org_id', '=', unit.id).where('year', '=', year).where('lifted_at', 'is', null).executeTakeFirst();
    if (dup) return { ok: false as const, errors: { year: `该单位${year}年度的职称申报推荐工作已暂停` } };
    const row = await trx.insertInto('unit_sanctions').values({ unit_org_id: unit.id, year, reason: v.reason.trim(), org_id: user.orgId!, created_by: user.id, created_at: stamp }).returning('id').executeTakeFirstOrThrow();
    await audit(ctx, null, { action: 'unit_sanction', objectType: 'unit_sanction', objectId: row.id, detail: `暂停${unit.name}${year}年度职称申报推荐工作：${v.reason.trim()}`, actor: user, ip }, trx);
    return { ok: true as const, id: row.id };
  });
}

export async function liftSanction(ctx: AppContext, user: Staff, id: number, reason: string, ip?: string): Promise<{ ok: true } | { ok: false; status: 404 | 409 | 422; error: string }> {
  const bad = checkReason(reason.trim(), '撤销原因');
  if (bad) return { ok: false, status: 422, error: bad };
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    const s = await trx.selectFrom('unit_sanctions').select(['id', 'year', 'unit_org_id', 'lifted_at']).where('id', '=', Number.isSafeInteger(id) ? id : -1).where('org_id', '=', user.orgId ?? -1).executeTakeFirst();
    if (!s) return { ok: false as const, status: 404 as const, error: '记录不存在' };
    if (s.lifted_at) return { ok: false as const, status: 409 as const, error: '已撤销' };
    await trx.updateTable('unit_sanctions').set({ lifted_at: stamp, lifted_by: user.id, lift_reason: reason.trim() }).where('id', '=', id).execute();
    await audit(ctx, null, { action: 'unit_sanction_lift', objectType: 'unit_sanction', objectId: id, detail: `撤销暂停（单位${s.unit_org_id}，${s.year}年度）：${reason.trim()}`, actor: user, ip }, trx);
    return { ok: true as const };
  });
}

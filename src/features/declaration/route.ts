/**
 * The review route of a declaration from the applicant's unit (and, for dispatch workers, the
 * employer named in the profile) and the plan's committee: loads what computeRoute()
 * (src/domain/route.ts) takes. Re-exported by ./service.ts.
 */
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { dispatchOf } from '../../domain/profile.js';
import { computeRoute, type RouteHrb, type RouteResult, type RouteUnit } from '../../domain/route.js';

/** What computeRoute() (and the recognition decider) needs to know about a unit. */
export interface RouteInputs {
  unit: RouteUnit;
  hrbs: RouteHrb[];
  parentRegion: (code: string) => string | null;
}

/** The unit, its supervisor binding, the HR bureaus and the region tree, as the route rules take them. */
export async function routeInputs(db: Kysely<Database>, unitOrgId: number): Promise<RouteInputs> {
  const unit = await db.selectFrom('orgs').selectAll().where('id', '=', unitOrgId).executeTakeFirstOrThrow();
  const region = unit.region_code ? await db.selectFrom('regions').selectAll().where('code', '=', unit.region_code).executeTakeFirst() : undefined;
  const nature = unit.nature ? await db.selectFrom('dict_items').select(['extra']).where('dict', '=', 'unit_nature').where('code', '=', unit.nature).executeTakeFirst() : undefined;
  const isPublic = nature ? (nature.extra ? !!JSON.parse(nature.extra).public : null) : null;
  const sup = unit.supervisor_org_id ? await db.selectFrom('orgs').select(['id', 'name']).where('id', '=', unit.supervisor_org_id).executeTakeFirst() : undefined;
  const hrbs = await db.selectFrom('orgs').select(['id', 'name', 'hrb_level', 'region_code']).where('kind', '=', 'hrb').where('disabled', '=', 0).orderBy('id').execute();
  const regions = await db.selectFrom('regions').select(['code', 'parent_code']).execute();
  const parents = new Map(regions.map((r) => [r.code, r.parent_code]));
  return {
    unit: {
      id: unit.id, kind: unit.kind === 'agency' ? 'agency' : 'unit', name: unit.name, nature: unit.nature, public: isPublic,
      unitLevel: unit.unit_level, regionCode: unit.region_code, regionLevel: (region?.level as any) ?? null,
      supervisor: sup ? { id: sup.id, name: sup.name, status: unit.supervisor_status as any } : null,
    },
    hrbs: hrbs.filter((h) => h.hrb_level && h.region_code).map((h) => ({ id: h.id, name: h.name, level: h.hrb_level as any, regionCode: h.region_code! })),
    parentRegion: (code) => parents.get(code) ?? null,
  };
}

export const NO_UNIT = { ok: false as const, error: '未选择工作单位', detail: '请先在“基本信息”中选择工作单位。检索不到单位：联系单位在本系统注册单位账号。' };

/** routeInputs of the user's unit, or the 未选择工作单位 error. */
export async function routeInputsOfUser(db: Kysely<Database>, userId: number): Promise<RouteInputs | typeof NO_UNIT> {
  const user = await db.selectFrom('users').select(['unit_org_id']).where('id', '=', userId).executeTakeFirstOrThrow();
  return user.unit_org_id ? routeInputs(db, user.unit_org_id) : NO_UNIT;
}

/**
 * 派遣人员: the employer (用工单位) the profile names, or null when it names none (or one no longer
 * a usable unit); undefined when the applicant is not a dispatch worker.
 */
export async function employerOfUser(db: Kysely<Database>, userId: number): Promise<{ id: number; name: string } | null | undefined> {
  const row = await db.selectFrom('profiles').select('data').where('user_id', '=', userId).executeTakeFirst();
  const dispatch = dispatchOf(row ? JSON.parse(row.data) : {});
  if (!dispatch.dispatched) return undefined;
  if (!dispatch.employerOrgId) return null;
  const org = await db.selectFrom('orgs').select(['id', 'name']).where('id', '=', dispatch.employerOrgId).where('kind', '=', 'unit').where('disabled', '=', 0).executeTakeFirst();
  return org ?? null;
}

/**
 * `db`: pass the transaction when called inside writeTx (ctx.db would wait for the connection
 * the transaction holds).
 */
export async function routeFor(ctx: AppContext, userId: number, plan: { committee_org_id: number }, db: Kysely<Database> = ctx.db): Promise<RouteResult | { ok: false; error: string; detail: string }> {
  const inputs = await routeInputsOfUser(db, userId);
  if (!('unit' in inputs)) return inputs;
  const committee = await db.selectFrom('orgs').selectAll().where('id', '=', plan.committee_org_id).executeTakeFirstOrThrow();
  return computeRoute(
    inputs.unit,
    { id: committee.id, name: committee.name, tier: committee.committee_tier === 'province' ? 'province' : 'city' },
    inputs.hrbs,
    inputs.parentRegion,
    await employerOfUser(db, userId),
  );
}

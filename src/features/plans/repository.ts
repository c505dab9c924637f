import { sql, type Selectable } from 'kysely';
import type { DB } from '../../db/index.js';
import type { PlansTable } from '../../db/schema.js';
import { chinaClock } from '../../domain/plans.js';

/**
 * "Open now" in SQL for a plan aliased `p`: the twin of windowState (src/domain/plans.ts). Dates
 * and HH:MM compare as text on both databases; a null time is 00:00 (opening) or 24:00 (closing).
 */
export function openNowSql(now: Date) {
  const { date, time } = chinaClock(now);
  return sql<boolean>`((p.opens_at < ${date} or (p.opens_at = ${date} and coalesce(p.opens_time, '00:00') <= ${time}))
    and (p.closes_at > ${date} or (p.closes_at = ${date} and coalesce(p.closes_time, '24:00') >= ${time})))`;
}

/** Today's date in China Standard Time, YYYY-MM-DD. */
export function chinaToday(now: Date): string {
  return new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

export async function openPlans(db: DB, now: Date, q: string, limit: number, offset: number) {
  let base = db
    .selectFrom('plans as p')
    .innerJoin('orgs as c', 'c.id', 'p.committee_org_id')
    .where(openNowSql(now))
    .where('c.disabled', '=', 0);
  if (q) {
    const like = `%${q.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
    base = base.where((eb) => eb.or([sql<boolean>`c.name like ${like} escape '\\'`, sql<boolean>`p.name like ${like} escape '\\'`, sql<boolean>`coalesce(c.scope, '') like ${like} escape '\\'`]));
  }
  const [{ n }] = await base.select((eb) => eb.fn.countAll<number>().as('n')).execute();
  const rows = await base
    .select(['p.id', 'p.year', 'p.name', 'p.opens_at', 'p.closes_at', 'p.opens_time', 'p.closes_time', 'p.notice', 'c.name as committee', 'c.scope', 'c.phone', 'c.committee_level'])
    .orderBy('p.closes_at')
    .orderBy('p.id')
    .limit(limit)
    .offset(offset)
    .execute();
  return { rows, total: Number(n) };
}

// ---------------------------------------------------------------------------------------
// 评审计划 management (committee offices and platform admins).

export type PlanRecord = Selectable<PlansTable>;

/** The plan's editable columns (everything but id and the stamps). */
export type PlanColumns = Omit<PlanRecord, 'id' | 'created_at' | 'updated_at' | 'eligibility_rules' | 'reject_ratio' | 'min_members'>;

/**
 * One plan, scoped: `committeeOrgId` null means any committee (platform admin); otherwise a
 * plan of another committee is simply not found.
 */
export async function findPlan(db: DB, id: number, committeeOrgId: number | null): Promise<PlanRecord | undefined> {
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  let q = db.selectFrom('plans').selectAll().where('id', '=', id);
  if (committeeOrgId !== null) q = q.where('committee_org_id', '=', committeeOrgId);
  return q.executeTakeFirst();
}

export async function listPlans(db: DB, f: { committeeOrgId: number | null; year: number | null; limit: number; offset: number }) {
  let base = db.selectFrom('plans as p').innerJoin('orgs as c', 'c.id', 'p.committee_org_id');
  if (f.committeeOrgId !== null) base = base.where('p.committee_org_id', '=', f.committeeOrgId);
  if (f.year !== null) base = base.where('p.year', '=', f.year);
  const [{ n }] = await base.select((eb) => eb.fn.countAll<number>().as('n')).execute();
  const rows = await base
    .select([
      'p.id', 'p.year', 'p.name', 'p.levels', 'p.categories', 'p.opens_at', 'p.closes_at', 'p.opens_time', 'p.closes_time', 'p.committee_org_id', 'c.name as committee',
      (eb) => eb.selectFrom('declarations as d').select((e) => e.fn.countAll<number>().as('n')).whereRef('d.plan_id', '=', 'p.id').as('declarations'),
    ])
    .orderBy('p.year', 'desc')
    .orderBy('p.opens_at', 'desc')
    .orderBy('p.id', 'desc')
    .limit(f.limit)
    .offset(f.offset)
    .execute();
  return { rows, total: Number(n) };
}

/** Years that have plans (newest first), for the list filter. */
export async function planYears(db: DB, committeeOrgId: number | null): Promise<number[]> {
  let q = db.selectFrom('plans').select('year').distinct().orderBy('year', 'desc');
  if (committeeOrgId !== null) q = q.where('committee_org_id', '=', committeeOrgId);
  return (await q.execute()).map((r) => r.year);
}

/** Every committee office, for the admin's 评委会 select and filter. */
export function committeeOptions(db: DB) {
  return db.selectFrom('orgs').select(['id', 'name', 'disabled', 'series_code']).where('kind', '=', 'committee').orderBy('name').orderBy('id').execute();
}

export async function declarationCount(db: DB, planId: number): Promise<number> {
  const r = await db.selectFrom('declarations').select((eb) => eb.fn.countAll<number>().as('n')).where('plan_id', '=', planId).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Plans to link a notice to: a committee's own, or all of them (committee null). */
export function planChoices(db: DB, committeeOrgId: number | null) {
  let q = db
    .selectFrom('plans as p')
    .innerJoin('orgs as c', 'c.id', 'p.committee_org_id')
    .select(['p.id', 'p.name', 'p.year', 'c.name as committee'])
    .orderBy('p.year', 'desc')
    .orderBy('p.id', 'desc')
    .limit(500);
  if (committeeOrgId !== null) q = q.where('p.committee_org_id', '=', committeeOrgId);
  return q.execute();
}

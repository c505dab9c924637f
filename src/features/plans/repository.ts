import { sql } from 'kysely';
import type { DB } from '../../db/index.js';

/** A plan is open from 00:00 of opens_at through 24:00 of closes_at, China Standard Time. */
export function chinaToday(now: Date): string {
  return new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

export async function openPlans(db: DB, now: Date, q: string, limit: number, offset: number) {
  const today = chinaToday(now);
  let base = db
    .selectFrom('plans as p')
    .innerJoin('orgs as c', 'c.id', 'p.committee_org_id')
    .where('p.opens_at', '<=', today)
    .where('p.closes_at', '>=', today)
    .where('c.disabled', '=', 0);
  if (q) {
    const like = `%${q.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
    base = base.where((eb) => eb.or([sql<boolean>`c.name like ${like} escape '\\'`, sql<boolean>`p.name like ${like} escape '\\'`, sql<boolean>`coalesce(c.scope, '') like ${like} escape '\\'`]));
  }
  const [{ n }] = await base.select((eb) => eb.fn.countAll<number>().as('n')).execute();
  const rows = await base
    .select(['p.id', 'p.year', 'p.name', 'p.opens_at', 'p.closes_at', 'p.notice', 'c.name as committee', 'c.scope', 'c.phone', 'c.committee_level'])
    .orderBy('p.closes_at')
    .orderBy('p.id')
    .limit(limit)
    .offset(offset)
    .execute();
  return { rows, total: Number(n) };
}

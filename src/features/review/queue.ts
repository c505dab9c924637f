import { sql } from 'kysely';
import type { AppContext } from '../../context.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { scoped } from './scope.js';

/** Filters of the review screen (all optional), as GET parameters. */
export interface QueueFilters {
  year?: number;
  plan?: number;
  /** todo = waiting for this org; done = passed this org; returned|approved|rejected|failed_for_year|draft|reviewing = by status. */
  status?: string;
  q?: string;
}

export function parseFilters(query: unknown): QueueFilters {
  const q = (query ?? {}) as Record<string, string>;
  const n = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
  return { year: n(q.year), plan: n(q.plan), status: q.status || undefined, q: q.q?.trim() || undefined };
}

/**
 * The declarations of the review screen, scoped to the user's organisation, with the columns
 * lists and exports need. Applicant names are stored in clear; ID numbers only masked.
 */
export function queueQuery(ctx: AppContext, user: Pick<CurrentUser, 'orgId'>, f: QueueFilters) {
  const q = scoped(ctx.db, user)
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .innerJoin('plans as p', 'p.id', 'd.plan_id')
    .innerJoin('orgs as c', 'c.id', 'p.committee_org_id')
    .leftJoin('orgs as unit', 'unit.id', 'u.unit_org_id');
  return filtered(q, f);
}

/**
 * How many declarations the filters select. The display joins are left out (only the name
 * search needs users): the count runs on every staff page (the menu's 待审 number), and on a
 * busy committee the joins were most of its cost (bench/RESULTS.md).
 */
export async function queueCount(ctx: AppContext, user: Pick<CurrentUser, 'orgId'>, f: QueueFilters): Promise<number> {
  const base = scoped(ctx.db, user);
  const q = f.q ? filtered(base.innerJoin('users as u', 'u.id', 'd.user_id'), f) : filtered(base as any, f);
  const r = await (q as ReturnType<typeof queueQuery>).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(r?.n ?? 0);
}

function filtered<Q extends ReturnType<typeof scoped>>(q0: Q, f: QueueFilters): Q {
  let q = q0 as unknown as ReturnType<typeof scoped>;
  if (f.year) q = q.where('d.year', '=', f.year);
  if (f.plan) q = q.where('d.plan_id', '=', f.plan);
  if (f.q) {
    const like = `%${f.q.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
    q = q.where(sql<boolean>`u.name like ${like} escape '\\'`);
  }
  if (f.status === 'todo') q = q.where('d.status', '=', 'reviewing').whereRef('s.idx', '=', 'd.stage');
  else if (f.status === 'done') q = q.where((eb) => eb.or([eb('s.idx', '<', eb.ref('d.stage')), eb('d.status', 'in', ['approved', 'passed', 'failed'])]));
  else if (f.status) q = q.where('d.status', '=', f.status as any);
  return q as unknown as Q;
}

export const QUEUE_COLUMNS = [
  'd.id', 'd.user_id', 'd.status', 'd.stage', 'd.route', 'd.cover', 'd.year', 'd.plan_id', 'd.submitted_at', 'd.updated_at', 'd.returns_count', 'd.unit_verified_at',
  'd.publicity_state', 'd.paper_received_at', 's.idx as my_idx', 'u.name as applicant', 'u.id_masked', 'unit.name as unit_name', 'p.name as plan_name', 'c.name as committee',
] as const;

/**
 * One page of the queue, newest first (ties by id). The page's ids first, then their wide
 * columns (route, cover): sorting every row of a busy committee with its JSON was the slow part.
 */
export async function queuePage(ctx: AppContext, user: Pick<CurrentUser, 'orgId'>, f: QueueFilters, size: number, offset: number) {
  const base = queueQuery(ctx, user, f);
  const pageIds = base.select('d.id').orderBy('d.updated_at', 'desc').orderBy('d.id', 'desc').limit(size).offset(offset);
  return base.select([...QUEUE_COLUMNS]).where('d.id', 'in', pageIds).orderBy('d.updated_at', 'desc').orderBy('d.id', 'desc').execute();
}

export const STATUS_FILTERS = [
  { code: 'todo', name: '待审核' },
  { code: 'done', name: '已审核' },
  { code: 'returned', name: '已返回修改' },
  { code: 'draft', name: '已重置' },
  { code: 'approved', name: '电子材料审核通过' },
  { code: 'rejected', name: '不予受理' },
  { code: 'failed_for_year', name: '本年度申报失败' },
];

/** How many declarations wait for the user's organisation now (the menu's 待审 count). */
export async function todoCount(ctx: AppContext, user: Pick<CurrentUser, 'orgId'>): Promise<number> {
  if (!user.orgId) return 0;
  return queueCount(ctx, user, { status: 'todo' });
}

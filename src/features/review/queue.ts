import { sql } from 'kysely';
import type { AppContext } from '../../context.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { scoped, scopedList } from './scope.js';

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
 * search needs users): the count runs on every staff page (the menu's 待审 number). Read through
 * the lists' covering indexes (scopedList): index pages only, even for a big office.
 */
export async function queueCount(ctx: AppContext, user: Pick<CurrentUser, 'orgId'>, f: QueueFilters): Promise<number> {
  const base = scopedList(ctx.db, user);
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
  'd.publicity_state', 'd.paper_received_at', 'd.transfer_from', 's.idx as my_idx', 'u.name as applicant', 'u.id_masked', 'unit.name as unit_name', 'p.name as plan_name', 'c.name as committee',
] as const;

/** A row's place in the queue's order (updated_at desc, id desc): the keyset of a page link. */
export interface Cursor {
  updatedAt: string;
  id: number;
}

/** Where a page starts: an offset (a typed page number), or after / before a row (the 上一页/下一页 links). */
export type PageAt = { offset: number } | { after: Cursor } | { before: Cursor };

export const cursorText = (c: Cursor) => `${c.id}_${c.updatedAt}`;

export function parseCursor(v: unknown): Cursor | undefined {
  const m = typeof v === 'string' ? /^(\d{1,15})_(\d{4}-\d{2}-\d{2}T[\d:.]{5,15}(?:Z|[+-]\d{2}:\d{2}))$/.exec(v) : null;
  return m ? { id: Number(m[1]), updatedAt: m[2]! } : undefined;
}

/** The page to show: a valid cursor of the link followed, else the page number's offset. */
export function pageAt(query: unknown, offset: number): PageAt {
  const q = (query ?? {}) as Record<string, unknown>;
  const after = parseCursor(q.after);
  if (after) return { after };
  const before = parseCursor(q.before);
  if (before) return { before };
  return { offset };
}

/**
 * One page of the queue, newest first (ties by id). The page's ids first — through the covering
 * indexes, by keyset when a page link is followed (no offset to skip) — then the wide columns
 * (route, cover) of those rows only.
 */
export async function queuePage(ctx: AppContext, user: Pick<CurrentUser, 'orgId'>, f: QueueFilters, size: number, at: PageAt) {
  const base0 = scopedList(ctx.db, user);
  let ids = (f.q ? filtered(base0.innerJoin('users as u', 'u.id', 'd.user_id'), f) : filtered(base0 as any, f)) as ReturnType<typeof scopedList>;
  const back = 'before' in at;
  if ('after' in at || 'before' in at) {
    const c = 'after' in at ? at.after : at.before;
    const op = back ? '>' : '<';
    ids = ids.where((eb) => eb.or([eb('d.updated_at', op, c.updatedAt), eb.and([eb('d.updated_at', '=', c.updatedAt), eb('d.id', op, c.id)])]));
  }
  const dir = back ? 'asc' : 'desc';
  let pageQ = ids.select('d.id').orderBy('d.updated_at', dir).orderBy('d.id', dir).limit(size);
  if ('offset' in at && at.offset > 0) pageQ = pageQ.offset(at.offset);
  const pageIds = (await pageQ.execute()).map((r) => r.id);
  if (!pageIds.length) return [];
  return queueQuery(ctx, user, f).select([...QUEUE_COLUMNS]).where('d.id', 'in', pageIds).orderBy('d.updated_at', 'desc').orderBy('d.id', 'desc').execute();
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

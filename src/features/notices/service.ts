import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { compileForm, type FieldErrors } from '../../lib/forms.js';
import { sweepBlobs } from '../files/service.js';
import { removeNoticeFiles } from './files.js';

/**
 * 通知公告: published by a committee office or the platform, read by every signed-in user.
 * Bodies are plain text (shown with line breaks, always escaped). A plan's 申报通知 is
 * published as a notice linked to the plan.
 */

type Trx = Kysely<Database>;

export const TITLE_MAX = 100;
export const BODY_MAX = 5000;

/** Published notices (published_at ≤ now) the user has not opened. */
export async function unreadNoticeCount(ctx: AppContext, userId: number): Promise<number> {
  const now = ctx.config.now().toISOString();
  const r = await ctx.db
    .selectFrom('notices as n')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('n.published_at', '<=', now)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('notice_reads as r').select('r.notice_id').whereRef('r.notice_id', '=', 'n.id').where('r.user_id', '=', userId))))
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** The public list, newest first, each with `unread` for this user. */
export async function listPublished(ctx: AppContext, userId: number, limit: number, offset: number) {
  const now = ctx.config.now().toISOString();
  const base = ctx.db.selectFrom('notices as n').where('n.published_at', '<=', now);
  const [{ n }] = await base.select((eb) => eb.fn.countAll<number>().as('n')).execute();
  const rows = await base
    .innerJoin('orgs as o', 'o.id', 'n.org_id')
    .leftJoin('notice_reads as r', (j) => j.onRef('r.notice_id', '=', 'n.id').on('r.user_id', '=', userId))
    .select(['n.id', 'n.title', 'n.published_at', 'n.plan_id', 'o.name as org', 'r.read_at'])
    .orderBy('n.published_at', 'desc')
    .orderBy('n.id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
  return { rows: rows.map((r) => ({ ...r, unread: !r.read_at })), total: Number(n) };
}

/** One published notice with its org and linked plan (if any). */
export async function findPublished(ctx: AppContext, id: number) {
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  return ctx.db
    .selectFrom('notices as n')
    .innerJoin('orgs as o', 'o.id', 'n.org_id')
    .leftJoin('plans as p', 'p.id', 'n.plan_id')
    .select(['n.id', 'n.title', 'n.body', 'n.published_at', 'n.plan_id', 'o.name as org', 'p.name as plan_name', 'p.opens_at', 'p.closes_at', 'p.opens_time', 'p.closes_time'])
    .where('n.id', '=', id)
    .where('n.published_at', '<=', ctx.config.now().toISOString())
    .executeTakeFirst();
}

/** Newest published notice linked to a plan. */
export async function newestPlanNotice(ctx: AppContext, planId: number): Promise<number | undefined> {
  if (!Number.isSafeInteger(planId) || planId <= 0) return undefined;
  const r = await ctx.db
    .selectFrom('notices')
    .select('id')
    .where('plan_id', '=', planId)
    .where('published_at', '<=', ctx.config.now().toISOString())
    .orderBy('published_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return r?.id;
}

/** Opening a notice marks it read (once). */
export async function markRead(ctx: AppContext, noticeId: number, userId: number): Promise<void> {
  await ctx.db
    .insertInto('notice_reads')
    .values({ notice_id: noticeId, user_id: userId, read_at: ctx.config.now().toISOString() })
    .onConflict((oc) => oc.columns(['notice_id', 'user_id']).doNothing())
    .execute();
}

// ---------------------------------------------------------------------------------------
// Management by the publishing org.

export async function listOrgNotices(ctx: AppContext, orgId: number, limit: number, offset: number) {
  const base = ctx.db.selectFrom('notices as n').where('n.org_id', '=', orgId);
  const [{ n }] = await base.select((eb) => eb.fn.countAll<number>().as('n')).execute();
  const rows = await base
    .leftJoin('plans as p', 'p.id', 'n.plan_id')
    .select([
      'n.id', 'n.title', 'n.published_at', 'n.plan_id', 'p.name as plan_name',
      (eb) => eb.selectFrom('notice_reads as r').select((e) => e.fn.countAll<number>().as('c')).whereRef('r.notice_id', '=', 'n.id').as('reads'),
    ])
    .orderBy('n.published_at', 'desc')
    .orderBy('n.id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
  return { rows, total: Number(n) };
}

/** A notice of the org, or undefined (another org's id is not found). */
export async function findOrgNotice(ctx: AppContext, orgId: number, id: number) {
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  return ctx.db.selectFrom('notices').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
}

export interface NoticeForm {
  title?: string;
  body?: string;
  plan_id?: number;
}

const parseNotice = compileForm<NoticeForm>({
  type: 'object',
  properties: {
    title: { type: 'string', title: '标题', maxLength: TITLE_MAX },
    body: { type: 'string', title: '正文', maxLength: BODY_MAX },
    plan_id: { type: 'integer', title: '关联评审计划', minimum: 1, errorMessage: '请选择关联评审计划' },
  },
  required: ['title', 'body'],
});

/** Validates the form; `planIds` are the plans the org may link to. */
export function checkNotice(body: unknown, planIds: readonly number[]): { values: NoticeForm; errors: FieldErrors } {
  const { values, errors } = parseNotice(body);
  if (values.plan_id !== undefined && !errors.plan_id && !planIds.includes(values.plan_id)) errors.plan_id = '请选择关联评审计划';
  return { values, errors };
}

export async function createNotice(ctx: AppContext, orgId: number, userId: number, v: Required<Pick<NoticeForm, 'title' | 'body'>> & NoticeForm): Promise<number> {
  const stamp = ctx.config.now().toISOString();
  const r = await ctx.db
    .insertInto('notices')
    .values({ org_id: orgId, plan_id: v.plan_id ?? null, title: v.title, body: v.body, author_user_id: userId, published_at: stamp, created_at: stamp })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

/** Edits keep the publication time: a correction is not a new notice. */
export async function updateNotice(ctx: AppContext, id: number, orgId: number, v: Required<Pick<NoticeForm, 'title' | 'body'>> & NoticeForm): Promise<boolean> {
  const r = await ctx.db
    .updateTable('notices')
    .set({ title: v.title, body: v.body, plan_id: v.plan_id ?? null })
    .where('id', '=', id)
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function deleteNotice(ctx: AppContext, id: number, orgId: number): Promise<boolean> {
  if (!Number.isSafeInteger(id) || id <= 0) return false;
  const shas = await writeTx(ctx.db, async (trx) => {
    const n = await trx.selectFrom('notices').select('id').where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
    if (!n) return null;
    await trx.deleteFrom('notice_reads').where('notice_id', '=', id).execute();
    const files = await removeNoticeFiles(trx, id);
    await trx.deleteFrom('notices').where('id', '=', id).execute();
    return files.shas;
  });
  if (!shas) return false;
  await sweepBlobs(ctx, shas);
  return true;
}

export function planNoticeTitle(planName: string): string {
  return `${planName}申报通知`;
}

/**
 * Publishes a plan's 申报通知 as a notice linked to the plan, inside the plan's write
 * transaction. Unchanged text publishes nothing; changed text updates the notice published
 * from the previous text (re-dated and unread again: the requirements changed), or
 * publishes a new one when there is none (it was deleted, or the plan had no text).
 * Clearing the text leaves published notices alone (they are managed in 通知公告).
 */
export async function syncPlanNotice(
  trx: Trx,
  p: { planId: number; orgId: number; planName: string; notice: string | null; previous: string | null; userId: number; now: Date },
): Promise<void> {
  if (!p.notice || p.notice === p.previous) return;
  const stamp = p.now.toISOString();
  const title = planNoticeTitle(p.planName);
  const old = p.previous
    ? await trx.selectFrom('notices').select('id').where('plan_id', '=', p.planId).where('body', '=', p.previous).orderBy('id', 'desc').executeTakeFirst()
    : undefined;
  if (old) {
    await trx.updateTable('notices').set({ title, body: p.notice, org_id: p.orgId, published_at: stamp }).where('id', '=', old.id).execute();
    await trx.deleteFrom('notice_reads').where('notice_id', '=', old.id).execute();
    return;
  }
  await trx
    .insertInto('notices')
    .values({ org_id: p.orgId, plan_id: p.planId, title, body: p.notice, author_user_id: p.userId, published_at: stamp, created_at: stamp })
    .execute();
}

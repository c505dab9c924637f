import type { Kysely, Selectable } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database, DeclarationsTable } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { transition, opinionRequired, ACTION_LABELS, type ReviewAction } from '../../domain/workflow.js';
import { statusText, type Status } from '../../domain/declaration.js';
import { ALL_SECTIONS as SECTIONS } from '../../domain/sections.js';
import { parseRoute, parseCover } from '../declaration/service.js';
import { scoped } from './scope.js';
import { audit } from '../audit/service.js';
import { reopenFirstUnitStage } from '../unitstage/records.js';

export type Actor = Pick<CurrentUser, 'id' | 'orgId' | 'name'>;
type Declaration = Selectable<DeclarationsTable>;

export interface ActionInput {
  action: ReviewAction;
  opinion?: string;
  /** 返回修改: the sections the applicant must change (registry keys). */
  sections?: string[];
  /** Source IP for the audit row (the route passes req.ip). */
  ip?: string;
  /**
   * The stage the caller saw (a batch pins it on its confirmation page): when the declaration
   * is no longer there, nothing is done — a double submit does not approve twice.
   */
  expectStage?: number;
  /** 推荐上报 (src/features/unitstage): the only way a unit stage approves. */
  viaRecommendation?: boolean;
}

export type ActionResult = { ok: true; status: string; stage: number; failedForYear: boolean } | { ok: false; error: string; status?: number };

/** A declaration visible to this staff user (scope), or undefined: ids from URLs go through here. */
export async function visibleDeclaration(ctx: AppContext, user: Pick<CurrentUser, 'orgId'>, id: number) {
  if (!Number.isSafeInteger(id)) return undefined;
  return scoped(ctx.db, user).selectAll('d').where('d.id', '=', id).executeTakeFirst();
}

export const UNIT_APPROVE_MESSAGE = '单位审核请完成基层单位意见、核验和公示后，通过【推荐上报】提交至下一环节';
export const STAGE_CHANGED_MESSAGE = '该申报的状态已变化（可能已办理过），未重复办理';

type Checked = Pick<Declaration, 'status' | 'stage' | 'route' | 'returns_count'>;

/**
 * Why `action` cannot be done on `d` by the user's organisation now, or null. The checks of
 * act() after the scope (which the caller has applied): the stage pinned by a batch, whose turn
 * it is, a unit stage approving only through 推荐上报, and the workflow's transition. The batch
 * confirmation page shows these reasons before anything is done.
 */
export function refusalOf(d: Checked, orgId: number | null, action: ReviewAction, o: { maxReturns: number; expectStage?: number; viaRecommendation?: boolean }): string | null {
  if (o.expectStage !== undefined && d.stage !== o.expectStage) return STAGE_CHANGED_MESSAGE;
  if (!isTheirTurn(d, orgId)) return `该申报当前不在本单位审核环节（${statusText(d.status as Status, null)}），不能办理`;
  const route = parseRoute(d);
  const kind = route[d.stage]?.kind;
  if (action === 'approve' && (kind === 'unit' || kind === 'agency') && !o.viaRecommendation) return UNIT_APPROVE_MESSAGE;
  const t = transition({ status: d.status, stage: d.stage, returns: d.returns_count, maxReturns: o.maxReturns, stages: route.length }, action);
  return t.ok ? null : t.error;
}

/** Whether the user's organisation is the one the declaration waits for now. */
export function isTheirTurn(d: { status: string; stage: number; route: string | null }, orgId: number | null): boolean {
  const route = parseRoute(d);
  return d.status === 'reviewing' && route[d.stage]?.orgId === orgId;
}

const MESSAGES: Record<string, (stage: string, opinion: string) => string> = {
  approve: (stage) => `您的申报已通过${stage}，进入下一审核环节。`,
  approved: () => '您的申报已通过评委会电子材料审核，可以打印申报表。',
  return: (stage, opinion) => `您的申报被${stage}返回修改，请根据审核意见修改后重新提交。审核意见：${opinion}`,
  reset: (stage, opinion) => `您的申报被${stage}重置流程，可修改封面和申报信息后重新申报。审核意见：${opinion}`,
  reject: (stage, opinion) => `您的申报未被受理（${stage}）。审核意见：${opinion}`,
  failed_for_year: (_s, opinion) => `您的返回修改和重置流程次数已用完，本年度申报失败。审核意见：${opinion}`,
};

/**
 * One review action by the organisation whose turn it is. Runs in one immediate
 * transaction (re-reading the declaration), writes the workflow event, then tells the
 * applicant. The unit stage's 推荐上报 uses this too (as approve).
 */
export async function act(ctx: AppContext, actor: Actor, declId: number, input: ActionInput, trxIn?: Kysely<Database>): Promise<ActionResult> {
  const opinion = (input.opinion ?? '').trim();
  if (opinionRequired(input.action) && !opinion) return { ok: false, error: '请填写审核意见', status: 422 };
  if ([...opinion].length > 1000) return { ok: false, error: '审核意见不能超过1000个字', status: 422 };
  // Registry order, whatever order the boxes were posted in.
  const sections = SECTIONS.map((s) => s.key).filter((k) => (input.sections ?? []).includes(k));
  const stamp = ctx.config.now().toISOString();
  const run = async (trx: Kysely<Database>): Promise<ActionResult> => {
    const d = await scoped(trx, actor).selectAll('d').where('d.id', '=', declId).executeTakeFirst();
    if (!d) return { ok: false, error: '申报不存在', status: 404 };
    const plan = await trx.selectFrom('plans').select(['max_returns']).where('id', '=', d.plan_id).executeTakeFirstOrThrow();
    const refused = refusalOf(d, actor.orgId, input.action, { maxReturns: plan.max_returns, expectStage: input.expectStage, viaRecommendation: input.viaRecommendation });
    if (refused) return { ok: false, error: refused, status: 409 };
    const route = parseRoute(d);
    const t = transition({ status: d.status, stage: d.stage, returns: d.returns_count, maxReturns: plan.max_returns, stages: route.length }, input.action);
    if (!t.ok) return { ok: false, error: t.error, status: 409 };
    // A reset reopens the unit stage from the start: its opinion, verification and publicity go.
    const unitReset = t.status === 'draft' ? { unit_verified_at: null, publicity_state: null, recommendation_id: null } : {};
    await trx
      .updateTable('declarations')
      .set({ status: t.status, stage: t.stage, returns_count: t.returns, updated_at: stamp, ...unitReset })
      .where('id', '=', d.id)
      .execute();
    // A route with two unit stages (dispatch workers) starts again at the first unit.
    if (t.status === 'draft') await reopenFirstUnitStage(trx, d.id);
    await trx.insertInto('workflow_events').values({
      declaration_id: d.id, actor_user_id: actor.id, org_id: actor.orgId, stage: d.stage, action: t.failedForYear ? 'fail_year' : input.action,
      opinion: opinion || null, from_status: d.status, to_status: t.status, data: sections.length ? JSON.stringify({ sections }) : null, created_at: stamp,
    }).execute();
    await audit(ctx, null, { action: 'workflow', objectType: 'declaration', objectId: d.id, detail: `${t.failedForYear ? 'fail_year' : input.action}：${d.status}→${t.status}（环节${d.stage}）`, actor, ip: input.ip }, trx);
    // The applicant's message is written in the same transaction: inside a caller's
    // transaction (batch 推荐上报) ctx.db would wait for the connection that trx holds.
    const key = t.failedForYear ? 'failed_for_year' : t.status === 'approved' ? 'approved' : input.action;
    const sectionNote = sections.length ? `（需要修改的内容：${sections.map((k) => SECTIONS.find((x) => x.key === k)!.title).join('、')}）` : '';
    await trx.insertInto('messages').values({ user_id: d.user_id, type: '审核消息', content: MESSAGES[key]!(route[d.stage]?.label ?? '审核部门', opinion) + sectionNote, created_at: stamp }).execute();
    return { ok: true, status: t.status, stage: t.stage, failedForYear: t.failedForYear };
  };
  return trxIn ? run(trxIn) : writeTx(ctx.db, run);
}

export type PaperResult = { ok: true; already: boolean } | { ok: false; error: string; status: 404 | 409 };

export const PAPER_NOT_ALLOWED = '只有评委会办公室可以在电子材料审核通过后登记纸质材料';

/** Why the user's organisation cannot record the paper copy of `d` now, or null (already recorded is not a refusal here). */
export function paperRefusal(d: Pick<Declaration, 'status' | 'route'>, orgId: number | null): string | null {
  const route = parseRoute(d);
  return d.status !== 'approved' || route[route.length - 1]?.orgId !== orgId ? PAPER_NOT_ALLOWED : null;
}

/**
 * 纸质材料已收: the committee office (the route's last stage) records the paper copy of a
 * declaration its e-review approved. One transaction: the date, a 'paper' workflow event, the
 * audit row and a message to the applicant. Re-checked under the write lock, so two clicks (or
 * a batch and a click) record it once: the second answers `already`.
 */
export async function receivePaper(ctx: AppContext, actor: Actor, declId: number, ip?: string): Promise<PaperResult> {
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx): Promise<PaperResult> => {
    const d = await scoped(trx, actor).selectAll('d').where('d.id', '=', declId).executeTakeFirst();
    if (!d) return { ok: false, error: '申报不存在', status: 404 };
    const refused = paperRefusal(d, actor.orgId);
    if (refused) return { ok: false, error: refused, status: 409 };
    const r = await trx.updateTable('declarations').set({ paper_received_at: stamp, updated_at: stamp }).where('id', '=', d.id).where('paper_received_at', 'is', null).executeTakeFirst();
    if (!Number(r.numUpdatedRows)) return { ok: true, already: true };
    await trx.insertInto('workflow_events').values({ declaration_id: d.id, actor_user_id: actor.id, org_id: actor.orgId, stage: d.stage, action: 'paper', from_status: d.status, to_status: d.status, created_at: stamp }).execute();
    await audit(ctx, null, { action: 'paper_received', objectType: 'declaration', objectId: d.id, detail: `登记纸质材料（环节${d.stage}）`, actor, ip }, trx);
    await trx.insertInto('messages').values({ user_id: d.user_id, type: '审核消息', content: '评委会办公室已收到您的纸质申报材料。', created_at: stamp }).execute();
    return { ok: true, already: false };
  });
}

export { ACTION_LABELS, parseCover };

/**
 * 批量通过 and 批量登记纸质材料 on the review screen (issue #19): tick several declarations (or
 * all on the page), confirm once, and each one goes through the same service function as the
 * single action — act() or receivePaper() — in its own transaction, with its own workflow
 * event, message to the applicant and audit row. Nothing here decides on its own.
 *
 *   1. preview(): the ticked ids through the caller's scope, with the reason each one cannot be
 *      done now (the single action's own checks: refusalOf / paperRefusal). The confirmation
 *      page pins each declaration's stage ("id:stage").
 *   2. run(): the confirmed items one by one. act() refuses a declaration that has left the
 *      pinned stage, receivePaper() one already recorded: a double submit does nothing twice.
 */
import type { AppContext } from '../../context.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { statusText, type Status } from '../../domain/declaration.js';
import { parseCover, parseRoute } from '../declaration/service.js';
import { scoped } from './scope.js';
import { act, paperRefusal, receivePaper, refusalOf, type Actor } from './service.js';

export type BatchOp = 'approve' | 'paper';

export const BATCH_OPS: Record<BatchOp, { label: string; done: string; verb: string }> = {
  approve: { label: '批量通过', done: '已通过', verb: '通过' },
  paper: { label: '纸质材料已收', done: '已登记纸质材料', verb: '登记纸质材料' },
};

/** More than a page (20) on purpose: 全选本页 plus a few ticked on the way; bounded all the same. */
export const BATCH_MAX = 100;

export const NOT_IN_SCOPE = '申报不存在或不在本单位的审核范围内';

export function parseOp(v: unknown): BatchOp | null {
  return v === 'approve' || v === 'paper' ? v : null;
}

/** Ids from a form field (one value or many), positive integers only, first occurrence kept. */
export function parseIds(v: unknown): number[] {
  const raw = v === undefined ? [] : Array.isArray(v) ? v : [v];
  const ids = raw.map((x) => String(x).trim()).filter((x) => /^\d{1,15}$/.test(x)).map(Number).filter((n) => n > 0);
  return [...new Set(ids)];
}

export interface BatchItem {
  id: number;
  /** The stage the confirmation page showed: act() refuses the declaration once it has left it. */
  stage: number;
}

/** "12:1" items of the confirmation form. */
export function parseItems(v: unknown): BatchItem[] {
  const raw = v === undefined ? [] : Array.isArray(v) ? v : [v];
  const seen = new Set<number>();
  const out: BatchItem[] = [];
  for (const x of raw) {
    const m = /^(\d{1,15}):(\d{1,3})$/.exec(String(x).trim());
    if (!m) continue;
    const id = Number(m[1]);
    if (id <= 0 || seen.has(id)) continue;
    seen.add(id);
    out.push({ id, stage: Number(m[2]) });
  }
  return out;
}

export interface PreviewRow {
  id: number;
  stage: number;
  applicant: string | null;
  title: string;
  unit: string | null;
  text: string;
  /** Why it cannot be done now; null = it will be done. */
  reason: string | null;
}

/** The ticked declarations as the confirmation page lists them, in the order ticked. */
export async function preview(ctx: AppContext, user: Pick<CurrentUser, 'orgId'>, op: BatchOp, ids: number[]): Promise<PreviewRow[]> {
  if (!ids.length) return [];
  const rows = await scoped(ctx.db, user)
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .innerJoin('plans as p', 'p.id', 'd.plan_id')
    .leftJoin('orgs as unit', 'unit.id', 'u.unit_org_id')
    .select(['d.id', 'd.status', 'd.stage', 'd.route', 'd.cover', 'd.returns_count', 'd.paper_received_at', 'u.name as applicant', 'unit.name as unit_name', 'p.max_returns'])
    .where('d.id', 'in', ids)
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const r = byId.get(id);
    if (!r) return { id, stage: 0, applicant: null, title: '', unit: null, text: '', reason: NOT_IN_SCOPE };
    const route = parseRoute(r);
    const stage = route[r.stage];
    const reason = op === 'approve'
      ? refusalOf(r, user.orgId ?? null, 'approve', { maxReturns: r.max_returns })
      : paperRefusal(r, user.orgId ?? null) ?? (r.paper_received_at ? '纸质材料已登记，不再重复登记' : null);
    return {
      id, stage: r.stage, applicant: r.applicant, title: parseCover(r).title ?? '', unit: r.unit_name,
      text: statusText(r.status as Status, r.status === 'reviewing' || r.status === 'returned' ? stage ?? null : null),
      reason,
    };
  });
}

export interface BatchResult {
  done: { id: number; applicant: string }[];
  refused: { id: number; applicant: string | null; reason: string }[];
}

/**
 * Runs the confirmed items one by one, each in its own transaction through the single action's
 * service function (a refusal of one does not undo the others).
 */
export async function run(ctx: AppContext, actor: Actor, op: BatchOp, items: BatchItem[], opinion: string, ip?: string): Promise<BatchResult> {
  const names = items.length
    ? new Map((await scoped(ctx.db, actor).innerJoin('users as u', 'u.id', 'd.user_id').select(['d.id', 'u.name']).where('d.id', 'in', items.map((i) => i.id)).execute()).map((r) => [r.id, r.name]))
    : new Map<number, string>();
  const result: BatchResult = { done: [], refused: [] };
  for (const item of items) {
    const applicant = names.get(item.id) ?? null;
    const r = op === 'approve'
      ? await act(ctx, actor, item.id, { action: 'approve', opinion, ip, expectStage: item.stage })
      : await receivePaper(ctx, actor, item.id, ip);
    if (!r.ok) result.refused.push({ id: item.id, applicant, reason: r.status === 404 ? NOT_IN_SCOPE : r.error });
    else if ('already' in r && r.already) result.refused.push({ id: item.id, applicant, reason: '纸质材料已登记，未重复登记' });
    else result.done.push({ id: item.id, applicant: applicant ?? '' });
  }
  return result;
}

/** The flash after a batch: how many were done, then each refused one with its reason. */
export function summary(op: BatchOp, r: BatchResult): string {
  const head = `${BATCH_OPS[op].label}：${BATCH_OPS[op].done} ${r.done.length} 份`;
  if (!r.refused.length) return `${head}。`;
  const who = (x: BatchResult['refused'][number]) => x.applicant ?? `申报${x.id}`;
  return `${head}；未办理 ${r.refused.length} 份：${r.refused.map((x) => `${who(x)}：${x.reason}`).join('；')}。`;
}

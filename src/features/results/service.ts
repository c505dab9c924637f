import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { sql, type Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import type { CurrentUser } from '../../plugins/auth.js';
import {
  DEFAULT_PASS_RATIO, docNoError, meetingError, parseRatio, voteResult, votesError,
  type Ratio, type Votes,
} from '../../domain/evaluation.js';
import { addWorkingDays, isValidDate } from '../../domain/workdays.js';
import { LEVEL_NAMES } from '../../domain/declaration.js';
import { loadCalendar } from '../holidays/service.js';
import { chinaToday } from '../plans/repository.js';
import { parseCover, parseRoute, type Snapshot } from '../declaration/service.js';
import type { EvaluationInput } from '../../print/reviewForm.js';
import { audit } from '../audit/service.js';
import { certNumberer } from './certnumber.js';
// 一键下载材料 (the ZIP writer, the timeline CSV, the attachments' entries): materials.ts.
export * from './materials.js';

/**
 * 评后管理 (seed 004 高中级评后管理): 评审会议 and votes → 结果确认 → 评审结果公示 → 发证.
 * Scope: committee staff work on their committee's plans; platform admins on every plan.
 * The plan is the authorisation: a committee is the last stage of every route to its plans,
 * so its declarations are exactly the ones `scoped()` shows that committee.
 */
export type Staff = Pick<CurrentUser, 'id' | 'orgId' | 'orgKind' | 'roles' | 'name'>;

export const isAdmin = (u: Staff) => u.orgKind === 'platform' && u.roles.includes('admin');
export const canManage = (u: Staff) => u.orgKind === 'committee' || isAdmin(u);

const today = (ctx: AppContext) => chinaToday(ctx.config.now());

/** Plans this staff user may manage (newest first). */
export function plansInScope(ctx: AppContext, u: Staff) {
  let q = ctx.db.selectFrom('plans as p').innerJoin('orgs as c', 'c.id', 'p.committee_org_id').select(['p.id', 'p.name', 'p.year', 'p.committee_org_id', 'c.name as committee', 'p.pass_ratio']);
  if (!isAdmin(u)) q = q.where('p.committee_org_id', '=', u.orgId ?? -1);
  return q.orderBy('p.year', 'desc').orderBy('p.id', 'desc');
}

export async function planInScope(ctx: AppContext, u: Staff, planId: number) {
  if (!Number.isSafeInteger(planId) || !canManage(u)) return undefined;
  return plansInScope(ctx, u).where('p.id', '=', planId).executeTakeFirst();
}

export function ratioOf(plan: { pass_ratio?: string | null }): Ratio {
  return parseRatio(plan.pass_ratio) ?? parseRatio(DEFAULT_PASS_RATIO)!;
}

// ---------------------------------------------------------------------------------------
// 评审会议

export async function listEvaluations(ctx: AppContext, u: Staff) {
  const plans = await plansInScope(ctx, u).execute();
  const ids = plans.map((p) => p.id);
  const rows = ids.length
    ? await ctx.db
        .selectFrom('evaluations as e')
        .innerJoin('plans as p', 'p.id', 'e.plan_id')
        .select(['e.id', 'e.plan_id', 'e.meeting_date', 'e.members_expected', 'e.members_present', 'e.confirmed_at', 'e.created_at', 'p.name as plan_name'])
        .select((eb) => eb.selectFrom('evaluation_votes as v').whereRef('v.evaluation_id', '=', 'e.id').select((x) => x.fn.countAll<number>().as('n')).as('voted'))
        .where('e.plan_id', 'in', ids)
        .orderBy('e.id', 'desc')
        .limit(200)
        .execute()
    : [];
  return { plans, rows };
}

export interface MeetingInput {
  plan_id?: string;
  meeting_date?: string;
  members_expected?: string;
  members_present?: string;
}

const int = (s: unknown) => (typeof s === 'string' && /^\d{1,5}$/.test(s.trim()) ? Number(s.trim()) : NaN);

export async function createEvaluation(ctx: AppContext, u: Staff, b: MeetingInput): Promise<{ ok: true; id: number } | { ok: false; errors: Record<string, string> }> {
  const errors: Record<string, string> = {};
  const plan = await planInScope(ctx, u, int(b.plan_id));
  if (!plan) errors.plan_id = '请选择评审计划';
  const date = (b.meeting_date ?? '').trim();
  if (!isValidDate(date)) errors.meeting_date = '请填写评审时间（年-月-日）';
  const m = { expected: int(b.members_expected), present: int(b.members_present) };
  const me = meetingError(m);
  if (me) errors[me.startsWith('应到') ? 'members_expected' : 'members_present'] = me;
  if (Object.keys(errors).length) return { ok: false, errors };
  const row = await ctx.db
    .insertInto('evaluations')
    .values({ plan_id: plan!.id, meeting_date: date, members_expected: m.expected, members_present: m.present, created_by: u.id, created_at: ctx.config.now().toISOString() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { ok: true, id: row.id };
}

export async function getEvaluation(ctx: AppContext, u: Staff, id: number) {
  if (!Number.isSafeInteger(id)) return undefined;
  const e = await ctx.db.selectFrom('evaluations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!e) return undefined;
  const plan = await planInScope(ctx, u, e.plan_id);
  return plan ? { e, plan } : undefined;
}

/** The declarations of a meeting's plan: those awaiting votes ('approved') and those it voted on. */
export async function meetingRows(ctx: AppContext, evaluationId: number, planId: number) {
  const rows = await ctx.db
    .selectFrom('declarations as d')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .leftJoin('orgs as unit', 'unit.id', 'u.unit_org_id')
    .leftJoin('evaluation_votes as v', (j) => j.onRef('v.declaration_id', '=', 'd.id').on('v.evaluation_id', '=', evaluationId))
    .select(['d.id', 'd.status', 'd.cover', 'd.paper_received_at', 'u.name', 'unit.name as unit_name', 'v.agree', 'v.disagree', 'v.abstain', 'v.result'])
    .where('d.plan_id', '=', planId)
    .where('d.submitted_at', 'is not', null)
    .where((eb) => eb.or([eb('d.status', '=', 'approved'), eb('v.declaration_id', 'is not', null)]))
    .orderBy('d.id')
    .execute();
  return rows.map((r) => ({ ...r, cover: parseCover(r) }));
}

export type VoteErrors = Record<number, string>;

/**
 * Saves the posted votes (fields agree_<id>, disagree_<id>, abstain_<id>; a row left blank
 * is skipped). All rows are checked first; nothing is saved when one is wrong.
 */
export async function saveVotes(ctx: AppContext, u: Staff, evaluationId: number, body: Record<string, unknown>): Promise<{ ok: true; saved: number } | { ok: false; errors: VoteErrors; error?: string }> {
  const x = await getEvaluation(ctx, u, evaluationId);
  if (!x) return { ok: false, errors: {}, error: '评审会议不存在' };
  if (x.e.confirmed_at) return { ok: false, errors: {}, error: '评审结果已确认，不能再修改票数' };
  // An online meeting's totals come from the members' ballots (src/features/meeting/voting.ts).
  if (x.e.mode === 'online') return { ok: false, errors: {}, error: '在线表决的会议由评委投票计算结果，不能录入票数' };
  const m = { expected: x.e.members_expected, present: x.e.members_present };
  const ratio = ratioOf(x.plan);
  const str = (k: string) => {
    const v = body[k];
    return (Array.isArray(v) ? v[v.length - 1] : v) as string | undefined;
  };
  return writeTx(ctx.db, async (trx) => {
    const decls = await trx.selectFrom('declarations').select(['id']).where('plan_id', '=', x.plan.id).where('status', '=', 'approved').where('submitted_at', 'is not', null).execute();
    const errors: VoteErrors = {};
    const rows: { id: number; v: Votes }[] = [];
    for (const d of decls) {
      const raw = [str(`agree_${d.id}`), str(`disagree_${d.id}`), str(`abstain_${d.id}`)].map((s) => (typeof s === 'string' ? s.trim() : ''));
      if (raw.every((s) => s === '')) continue;
      const v = { agree: int(raw[0] || '0'), disagree: int(raw[1] || '0'), abstain: int(raw[2] || '0') };
      const err = votesError(v, m);
      if (err) errors[d.id] = err;
      else rows.push({ id: d.id, v });
    }
    if (Object.keys(errors).length) return { ok: false as const, errors };
    for (const r of rows) {
      const values = { ...r.v, result: voteResult(r.v, m, ratio) };
      await trx
        .insertInto('evaluation_votes')
        .values({ evaluation_id: evaluationId, declaration_id: r.id, ...values })
        .onConflict((oc) => oc.columns(['evaluation_id', 'declaration_id']).doUpdateSet(values))
        .execute();
    }
    return { ok: true as const, saved: rows.length };
  });
}

/**
 * 结果确认: every voted declaration still 'approved' becomes 'passed' or 'failed', with its
 * workflow event, its audit row (the source IP from the route's `ip`) and the applicant's
 * message, in one transaction.
 */
export async function confirmEvaluation(ctx: AppContext, u: Staff, evaluationId: number, ip?: string): Promise<{ ok: true; passed: number; failed: number } | { ok: false; error: string }> {
  const x = await getEvaluation(ctx, u, evaluationId);
  if (!x) return { ok: false, error: '评审会议不存在' };
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    const e = await trx.selectFrom('evaluations').selectAll().where('id', '=', evaluationId).executeTakeFirstOrThrow();
    if (e.confirmed_at) return { ok: false as const, error: '评审结果已确认' };
    if (await trx.selectFrom('evaluation_rounds').select('id').where('evaluation_id', '=', evaluationId).where('closed_at', 'is', null).executeTakeFirst()) {
      return { ok: false as const, error: '表决尚未结束，请先结束本轮表决' };
    }
    const votes = await trx
      .selectFrom('evaluation_votes as v')
      .innerJoin('declarations as d', 'd.id', 'v.declaration_id')
      .select(['d.id', 'd.user_id', 'd.stage', 'd.status', 'd.cover', 'v.agree', 'v.disagree', 'v.abstain', 'v.result'])
      .where('v.evaluation_id', '=', evaluationId)
      .where('d.status', '=', 'approved')
      .execute();
    if (!votes.length) return { ok: false as const, error: '尚未录入任何表决结果' };
    let passed = 0;
    for (const v of votes) {
      const to = v.result;
      if (to === 'passed') passed++;
      await trx.updateTable('declarations').set({ status: to, updated_at: stamp }).where('id', '=', v.id).execute();
      const text = to === 'passed' ? '通过' : '未通过';
      await trx.insertInto('workflow_events').values({
        declaration_id: v.id, actor_user_id: u.id, org_id: u.orgId, stage: v.stage, action: 'evaluate',
        opinion: `评审结果：${text}（评审时间${e.meeting_date}，应到${e.members_expected}人，实到${e.members_present}人；同意${v.agree}票，不同意${v.disagree}票，弃权${v.abstain}票）`,
        from_status: v.status, to_status: to, data: JSON.stringify({ evaluationId }), created_at: stamp,
      }).execute();
      await audit(ctx, null, {
        action: 'evaluation_confirm', objectType: 'declaration', objectId: v.id,
        detail: `评审会议 ${evaluationId}：${v.status}→${to}（同意${v.agree}、不同意${v.disagree}、弃权${v.abstain}）`, actor: u, ip,
      }, trx);
      await trx.insertInto('messages').values({ user_id: v.user_id, type: '评审结果', content: `您的职称评审结果：${text}（${parseCover(v).title}）。`, created_at: stamp }).execute();
    }
    await trx.updateTable('evaluations').set({ confirmed_at: stamp }).where('id', '=', evaluationId).execute();
    return { ok: true as const, passed, failed: votes.length - passed };
  });
}

/** The latest recorded evaluation of a declaration, for 表十三–十六 (undefined when none). */
export async function evaluationForForm(db: Kysely<Database>, declarationId: number): Promise<EvaluationInput | undefined> {
  const r = await db
    .selectFrom('evaluation_votes as v')
    .innerJoin('evaluations as e', 'e.id', 'v.evaluation_id')
    .select(['e.meeting_date', 'e.members_expected', 'e.members_present', 'v.agree', 'v.disagree', 'v.abstain', 'v.result'])
    .where('v.declaration_id', '=', declarationId)
    .orderBy('e.confirmed_at', 'desc')
    .orderBy('e.id', 'desc')
    .executeTakeFirst();
  return r ? { date: r.meeting_date, expected: r.members_expected, present: r.members_present, agree: r.agree, disagree: r.disagree, abstain: r.abstain, result: r.result } : undefined;
}

// ---------------------------------------------------------------------------------------
// 评审结果公示

export const MIN_RESULT_PUBLICITY_DAYS = 5;

export async function listPublicities(ctx: AppContext, u: Staff) {
  const plans = await plansInScope(ctx, u).execute();
  const ids = plans.map((p) => p.id);
  const rows = ids.length
    ? await ctx.db.selectFrom('result_publicities as r').innerJoin('plans as p', 'p.id', 'r.plan_id').selectAll('r').select('p.name as plan_name').where('r.plan_id', 'in', ids).orderBy('r.id', 'desc').limit(200).execute()
    : [];
  return { plans, rows: rows.map((r) => ({ ...r, ended: r.end_date < today(ctx) })) };
}

export async function passedOfPlan(db: Kysely<Database>, planId: number) {
  const rows = await db
    .selectFrom('declarations as d')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .leftJoin('orgs as unit', 'unit.id', 'u.unit_org_id')
    .leftJoin('certificates as c', 'c.declaration_id', 'd.id')
    .select(['d.id', 'd.user_id', 'd.stage', 'd.cover', 'u.name', 'unit.name as unit_name', 'c.number', 'c.doc_no', 'c.issued_at'])
    .where('d.plan_id', '=', planId)
    .where('d.status', '=', 'passed')
    .orderBy('d.id')
    .execute();
  return rows.map((r) => ({ ...r, cover: parseCover(r) }));
}

export async function createPublicity(ctx: AppContext, u: Staff, b: { plan_id?: string; start_date?: string; days?: string }): Promise<{ ok: true; id: number; end: string } | { ok: false; errors: Record<string, string> }> {
  const errors: Record<string, string> = {};
  const plan = await planInScope(ctx, u, int(b.plan_id));
  if (!plan) errors.plan_id = '请选择评审计划';
  const start = (b.start_date ?? '').trim();
  if (!isValidDate(start)) errors.start_date = '请填写公示开始日期（年-月-日）';
  const days = b.days === undefined || b.days === '' ? MIN_RESULT_PUBLICITY_DAYS : int(b.days);
  if (!Number.isInteger(days) || days < MIN_RESULT_PUBLICITY_DAYS || days > 60) errors.days = `公示期不少于${MIN_RESULT_PUBLICITY_DAYS}个工作日（不超过60）`;
  if (plan && (await passedOfPlan(ctx.db, plan.id)).length === 0) errors.plan_id = '该计划尚无评审通过人员（请先在评审会议中确认评审结果）';
  if (Object.keys(errors).length) return { ok: false, errors };
  const end = addWorkingDays(start, days, await loadCalendar(ctx.db)).end;
  const row = await ctx.db
    .insertInto('result_publicities')
    .values({ plan_id: plan!.id, start_date: start, days, end_date: end, status: 'open', created_by: u.id, created_at: ctx.config.now().toISOString() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { ok: true, id: row.id, end };
}

export async function getPublicity(ctx: AppContext, u: Staff, id: number) {
  if (!Number.isSafeInteger(id)) return undefined;
  const r = await ctx.db.selectFrom('result_publicities').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) return undefined;
  const plan = await planInScope(ctx, u, r.plan_id);
  return plan ? { r: { ...r, ended: r.end_date < today(ctx) }, plan } : undefined;
}

/**
 * Whether the plan may be issued now: a results publicity created after the last 结果确认 has
 * ended (its end date is before today). Returns the reason when not.
 */
export async function issueBlocker(db: Kysely<Database>, planId: number, todayStr: string): Promise<string | null> {
  const last = await db.selectFrom('evaluations').select((eb) => eb.fn.max('confirmed_at').as('at')).where('plan_id', '=', planId).executeTakeFirst();
  if (!last?.at) return '该计划尚未确认评审结果';
  const pub = await db.selectFrom('result_publicities').selectAll().where('plan_id', '=', planId).where('created_at', '>=', String(last.at)).orderBy('end_date', 'desc').executeTakeFirst();
  if (!pub) return '请先发布评审结果公示';
  if (pub.end_date >= todayStr) return `评审结果公示期至${pub.end_date}，公示期满后方可发证`;
  return null;
}

// ---------------------------------------------------------------------------------------
// 发证

// Crockford base32 (no I, L, O, U): 12 characters = 60 random bits.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export function newVerifyCode(): string {
  let s = '';
  for (const b of crypto.randomBytes(12)) s += ALPHABET[b & 31];
  return s;
}
export function normalizeVerifyCode(raw: string): string | null {
  const s = (raw ?? '').toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return /^[0-9A-HJKMNP-TV-Z]{12}$/.test(s) ? s : null;
}
export const displayVerifyCode = (c: string) => c.match(/.{1,4}/g)!.join('-');

export type IssueResult = { ok: true; issued: { declarationId: number; number: string }[] } | { ok: false; error: string; field?: string };

/**
 * Issues certificates to every passed declaration of the plan that has none, in one immediate
 * transaction: the sequence (per committee + year) is max + 1 read inside it, so concurrent
 * batches serialise and the numbers have neither gaps nor duplicates (the unique indexes on
 * number and (committee, year, seq) are the backstop). 发文字号 is one per batch. One audit row per
 * certificate (the source IP from the route's `ip`).
 */
export async function issueCertificates(ctx: AppContext, u: Staff, planId: number, docNoRaw: string, ip?: string): Promise<IssueResult> {
  const plan = await planInScope(ctx, u, planId);
  if (!plan) return { ok: false, error: '评审计划不存在' };
  const dErr = docNoError(docNoRaw);
  if (dErr) return { ok: false, error: dErr, field: 'doc_no' };
  const docNo = docNoRaw.trim();
  const stamp = ctx.config.now().toISOString();
  const todayStr = today(ctx);
  return writeTx(ctx.db, async (trx) => {
    const blocker = await issueBlocker(trx, plan.id, todayStr);
    if (blocker) return { ok: false as const, error: blocker };
    const todo = (await passedOfPlan(trx, plan.id)).filter((r) => !r.number);
    if (!todo.length) return { ok: false as const, error: '没有待发证的评审通过人员' };
    const year = plan.year;
    const numberer = await certNumberer(trx, plan.committee_org_id, year);
    const issued: { declarationId: number; number: string }[] = [];
    for (const d of todo) {
      const { seq, number } = numberer.next();
      const cert = await trx
        .insertInto('certificates')
        .values({ declaration_id: d.id, committee_org_id: plan.committee_org_id, year, seq, number, doc_no: docNo, verify_code: newVerifyCode(), issued_by: u.id, issued_at: stamp })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx.insertInto('workflow_events').values({
        declaration_id: d.id, actor_user_id: u.id, org_id: u.orgId, stage: d.stage, action: 'certify',
        opinion: `证书编号：${number}；发文字号：${docNo}`, from_status: 'passed', to_status: 'passed', data: JSON.stringify({ certificateId: cert.id }), created_at: stamp,
      }).execute();
      await audit(ctx, null, {
        action: 'certificate_issue', objectType: 'certificate', objectId: cert.id,
        detail: `申报 ${d.id}，证书编号 ${number}，发文字号 ${docNo}`, actor: u, ip,
      }, trx);
      await trx.insertInto('messages').values({
        user_id: d.user_id, type: '评审结果',
        content: `您的职称证书已发放，证书编号：${number}，发文字号：${docNo}（${d.cover.title}，评审结果：通过）。电子证书请在“我的证书”（/me/certificates）查看。`,
        created_at: stamp,
      }).execute();
      issued.push({ declarationId: d.id, number });
    }
    return { ok: true as const, issued };
  });
}

export async function certificatesOfPlans(ctx: AppContext, planIds: number[], limit: number, offset: number) {
  if (!planIds.length) return { rows: [], total: 0 };
  const base = ctx.db.selectFrom('certificates as c').innerJoin('declarations as d', 'd.id', 'c.declaration_id').innerJoin('users as u', 'u.id', 'd.user_id').where('d.plan_id', 'in', planIds);
  const [{ n }] = await base.select((eb) => eb.fn.countAll<number>().as('n')).execute();
  const rows = await base
    .select(['c.id', 'c.number', 'c.doc_no', 'c.issued_at', 'c.year', 'c.seq', 'd.cover', 'u.name'])
    .orderBy('c.committee_org_id').orderBy('c.year', 'desc').orderBy('c.seq', 'desc')
    .limit(limit).offset(offset).execute();
  return { rows: rows.map((r) => ({ ...r, cover: parseCover(r) })), total: Number(n) };
}

/** One certificate with what the e-certificate and the verification page show. */
export function certificateQuery(db: Kysely<Database>) {
  return db
    .selectFrom('certificates as c')
    .innerJoin('declarations as d', 'd.id', 'c.declaration_id')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .innerJoin('orgs as o', 'o.id', 'c.committee_org_id')
    .select(['c.id', 'c.number', 'c.doc_no', 'c.verify_code', 'c.issued_at', 'c.year', 'd.id as declaration_id', 'd.user_id', 'd.cover', 'u.name', 'u.id_masked', 'o.name as committee']);
}

export function certificateView(c: { cover: string; verify_code: string }) {
  const cover = parseCover(c);
  const title = cover.title.split(' - ').slice(1).join(' - ') || cover.title;
  return { cover, certTitle: title, levelName: LEVEL_NAMES[cover.level] ?? cover.level_name, codeDisplay: displayVerifyCode(c.verify_code) };
}

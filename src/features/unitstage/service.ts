/**
 * The unit stage of the review (DESIGN.md §3, seed 003 §1.3): 基层单位意见 (表十二) → 核验通过 →
 * 申报公示 → 完成公示 → 单位推荐上报, for the organisation at the first stage of a route (an
 * employer, or the HR agency/association of freelancers). Every declaration goes through the
 * caller's scope (`scoped()`) and must be waiting for the caller's organisation at a unit stage.
 * 申报公示 is in ./publicity.ts; 表十二 as the review form prints it in ./formBox.ts.
 *
 * 核验, the start and the completion of a 公示 write one audit row per declaration (the clerk, the
 * source IP passed by the route as `ip`) in the transaction of the change; 推荐上报 is audited by
 * act(). The rows never copy the opinion or objection texts.
 */
import type { Kysely, Selectable } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database, DeclarationsTable } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import type { CurrentUser } from '../../plugins/auth.js';
import type { RouteStage } from '../../domain/route.js';
import { statusText, type Status } from '../../domain/declaration.js';
import {
  isUnitStageKind, parseOpinion, stepLine, unitActions, unitStep, validateOpinion, PUBLICITY_STATE_LABELS, STEP_LABELS,
  type OpinionErrors, type UnitActions, type UnitOpinion, type UnitStageState, type UnitStep,
} from '../../domain/unitstage.js';
import { parseCover, parseRoute } from '../declaration/service.js';
import { scoped } from '../review/scope.js';
import { act, isTheirTurn } from '../review/service.js';
import { discardFile, storeFile, type UploadInput } from '../files/service.js';
import { unitSanctionRefusal } from '../integrity/sanctions.js';
import { audit } from '../audit/service.js';
import { vacancyAtVerify } from '../posts/service.js';
import { chinaToday } from '../plans/repository.js';
import { actionsWithCheckers, statusOf } from './checkers.js';
import { archiveUnitStage } from './records.js';
import { checkersBlock, type CheckStatus } from '../../domain/checkers.js';

type Db = Kysely<Database>;
type Decl = Selectable<DeclarationsTable>;
export type Staff = Pick<CurrentUser, 'id' | 'orgId' | 'name'>;

export type Refusal = { ok: false; status: 404 | 409 | 422; error: string };

const NOT_FOUND: Refusal = { ok: false, status: 404, error: '申报不存在' };

/** Thrown inside a write transaction to roll it back with a refusal. */
export class Refused extends Error {
  constructor(public refusal: Refusal) {
    super(refusal.error);
  }
}

// ---------------------------------------------------------------------------------------
// The gate: a declaration of the caller's scope, waiting for the caller's org at a unit stage

export interface UnitDecl {
  ok: true;
  d: Decl;
  route: RouteStage[];
  state: UnitStageState;
  step: UnitStep;
  actions: UnitActions;
  publicityDays: number;
}

type StateSource = Pick<Decl, 'unit_opinion' | 'unit_verified_at' | 'submitted_at' | 'publicity_state' | 'recommendation_id'>;

export function stateOf(d: StateSource, plan: { publicity_required: number }): UnitStageState {
  const op = parseOpinion(d.unit_opinion);
  return {
    hasOpinion: !!op,
    recommends: op?.recommendation === '同意推荐',
    verifiedAt: d.unit_verified_at,
    submittedAt: d.submitted_at,
    publicityState: d.publicity_state,
    recommendationId: d.recommendation_id,
    publicityRequired: !!plan.publicity_required,
  };
}

function notTheirStage(d: Pick<Decl, 'status'>, stage: RouteStage | undefined, theirs: boolean): Refusal {
  if (d.status !== 'reviewing') return { ok: false, status: 409, error: `该申报当前状态为“${statusText(d.status as Status, null)}”，不能办理单位核验、公示或推荐上报` };
  if (!theirs) return { ok: false, status: 409, error: `该申报当前在${stage?.label ?? '其他审核'}环节${stage ? `（${stage.name}）` : ''}，不是本单位的审核环节，不能办理` };
  return { ok: false, status: 409, error: `该申报当前在${stage?.label ?? '审核'}环节，该环节没有单位核验、公示和推荐上报` };
}

export async function gate(db: Db, user: Staff, id: number): Promise<UnitDecl | Refusal> {
  if (!Number.isSafeInteger(id) || id <= 0) return NOT_FOUND;
  const d = await scoped(db, user).selectAll('d').where('d.id', '=', id).executeTakeFirst();
  if (!d) return NOT_FOUND;
  const route = parseRoute(d);
  const stage = route[d.stage];
  const theirs = isTheirTurn(d, user.orgId ?? null);
  if (!theirs || !isUnitStageKind(stage?.kind)) return notTheirStage(d, stage, theirs);
  const plan = await db.selectFrom('plans').select(['publicity_required', 'publicity_days']).where('id', '=', d.plan_id).executeTakeFirstOrThrow();
  const state = stateOf(d, plan);
  return { ok: true, d, route, state, step: unitStep(state), actions: unitActions(state), publicityDays: plan.publicity_days };
}

// ---------------------------------------------------------------------------------------
// The panel on the review detail page

/** What views/unitstage/_panel.njk needs (see the template's header). */
export interface UnitPanel {
  id: number;
  stageLabel: string;
  step: UnitStep;
  stepLabel: string;
  steps: ReturnType<typeof stepLine>;
  opinion: UnitOpinion | null;
  actions: UnitActions;
  verifiedAt: string | null;
  publicityRequired: boolean;
  publicityState: string | null;
  publicityStateLabel: string;
  publicity: { id: number; title: string; startDate: string; endDate: string; status: string; href: string; objection: boolean; note: string | null } | null;
  links: { stage: string; opinion: string; verify: string; publicity: string; publicityNew: string; recommend: string };
  /** 岗位空余 (Q7(1), src/features/posts): a warning, or why 核验 is refused, while 核验 is due. */
  vacancy: { warning: string; error: string } | null;
  /** 职能部门审核: the checkers that apply and their sign-offs (none defined: no rows). */
  checks: CheckStatus;
}

export type PanelDeclaration = Pick<Decl, 'id' | 'user_id' | 'status' | 'route' | 'plan_id' | 'unit_opinion' | 'unit_verified_at' | 'submitted_at' | 'publicity_state' | 'recommendation_id'> & { stage: number };

/**
 * The unit-stage panel for a declaration the caller already holds through their scope; null
 * unless it waits for the caller's organisation at a unit (or agency) stage.
 */
export async function unitPanel(ctx: AppContext, user: Pick<CurrentUser, 'orgId'>, d: PanelDeclaration): Promise<UnitPanel | null> {
  if (!isTheirTurn(d, user.orgId ?? null)) return null;
  const stage = parseRoute(d)[d.stage];
  if (!stage || !isUnitStageKind(stage.kind)) return null;
  const plan = await ctx.db.selectFrom('plans').select(['publicity_required']).where('id', '=', d.plan_id).executeTakeFirst();
  if (!plan) return null;
  const base0 = stateOf(d, plan);
  const checks = await statusOf(ctx, ctx.db, user.orgId!, d);
  const state: UnitStageState = { ...base0, checkersBlock: checkersBlock(checks) };
  const step = unitStep(state);
  const pub = await ctx.db
    .selectFrom('publicity_items as i')
    .innerJoin('publicities as p', 'p.id', 'i.publicity_id')
    .select(['p.id', 'p.title', 'p.start_date', 'p.end_date', 'p.status', 'i.objection', 'i.note'])
    .where('i.declaration_id', '=', d.id)
    .where('p.org_id', '=', user.orgId ?? -1)
    .orderBy('p.id', 'desc')
    .executeTakeFirst();
  const base = `/org/unit-stage/${d.id}`;
  const actions = unitActions(state);
  const v = actions.verify ? await vacancyAtVerify(ctx.db, user.orgId ?? -1, d.id, chinaToday(ctx.config.now())) : null;
  return {
    vacancy: v && (v.ok ? (v.warning ? { warning: v.warning, error: '' } : null) : { warning: '', error: v.error }),
    id: d.id,
    stageLabel: stage.label,
    step,
    stepLabel: STEP_LABELS[step],
    steps: stepLine(state),
    opinion: parseOpinion(d.unit_opinion),
    actions,
    verifiedAt: state.verifiedAt && step !== 'opinion' && step !== 'verify' ? state.verifiedAt : null,
    publicityRequired: state.publicityRequired,
    publicityState: d.publicity_state,
    publicityStateLabel: d.publicity_state ? PUBLICITY_STATE_LABELS[d.publicity_state] : state.publicityRequired ? '未公示' : '本计划无需公示',
    publicity: pub
      ? { id: pub.id, title: pub.title, startDate: pub.start_date, endDate: pub.end_date, status: pub.status, href: `/org/publicity/${pub.id}`, objection: !!pub.objection, note: pub.note }
      : null,
    links: { stage: base, opinion: `${base}/opinion`, verify: `${base}/verify`, publicity: '/org/publicity', publicityNew: '/org/publicity/new', recommend: '/org/recommend' },
    checks,
  };
}

// ---------------------------------------------------------------------------------------
// The org's declarations at the unit stage

export interface QueueRow {
  id: number;
  applicant: string;
  title: string;
  specialty: string;
  planName: string;
  publicityRequired: boolean;
  publicityDays: number;
  submittedAt: string | null;
  verifiedAt: string | null;
  step: UnitStep;
  stepLabel: string;
}

export async function unitQueue(db: Db, user: Staff): Promise<QueueRow[]> {
  const rows = await scoped(db, user)
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .innerJoin('plans as p', 'p.id', 'd.plan_id')
    .where('d.status', '=', 'reviewing')
    .whereRef('s.idx', '=', 'd.stage')
    .where('s.kind', 'in', ['unit', 'agency'])
    .selectAll('d')
    .select(['u.name as applicant', 'p.name as plan_name', 'p.publicity_required', 'p.publicity_days'])
    .orderBy('d.submitted_at')
    .orderBy('d.id')
    .execute();
  return rows
    .filter((d) => isTheirTurn(d, user.orgId ?? null))
    .map((d) => {
      const state = stateOf(d, d);
      const step = unitStep(state);
      const cover = parseCover(d);
      return {
        id: d.id, applicant: d.applicant, title: titleName(cover.title), specialty: cover.specialty, planName: d.plan_name,
        publicityRequired: !!d.publicity_required, publicityDays: d.publicity_days, submittedAt: d.submitted_at, verifiedAt: d.unit_verified_at,
        step, stepLabel: STEP_LABELS[step],
      };
    });
}

/** '卫生技术 - 副主任医师' → '副主任医师'. */
export function titleName(t: string): string {
  return t.split(' - ').slice(1).join(' - ') || t;
}

// ---------------------------------------------------------------------------------------
// 基层单位意见 and 核验通过

export type OpinionResult = { ok: true } | Refusal | { ok: false; status: 422; error: string; errors: OpinionErrors; values: Record<string, string> };

export async function saveOpinion(ctx: AppContext, user: Staff, id: number, body: Record<string, unknown>): Promise<OpinionResult> {
  return writeTx(ctx.db, async (trx) => {
    const g = await gate(trx, user, id);
    if (!g.ok) return g;
    if (!g.actions.editOpinion) return { ok: false, status: 409, error: '该申报已推荐上报，基层单位意见不能修改' };
    const v = validateOpinion(body, { verified: g.step !== 'opinion' && g.step !== 'verify' });
    if (!v.opinion) return { ok: false, status: 422, error: '请修改后重新提交', errors: v.errors, values: v.values };
    const stamp = ctx.config.now().toISOString();
    await trx.updateTable('declarations').set({ unit_opinion: JSON.stringify(v.opinion), updated_at: stamp }).where('id', '=', id).execute();
    return { ok: true };
  });
}

export async function verify(ctx: AppContext, user: Staff, id: number, ip?: string): Promise<{ ok: true; warning: string } | Refusal> {
  return writeTx(ctx.db, async (trx) => {
    const g = await gate(trx, user, id);
    if (!g.ok) return g;
    const sanctioned = await unitSanctionRefusal(trx, user.orgId ?? null, g.d.year);
    if (sanctioned) return { ok: false, status: 409, error: sanctioned };
    const { actions } = await actionsWithCheckers(ctx, trx, user.orgId!, g);
    if (!actions.verify) {
      const error = actions.verifyBlocked || `该申报已核验通过（${STEP_LABELS[g.step]}），无需重复核验`;
      return { ok: false, status: 409, error };
    }
    // Seed 002 Q7(1): a vacant post at the declared level; the plan says warn or block.
    const vacancy = await vacancyAtVerify(trx, user.orgId ?? -1, id, chinaToday(ctx.config.now()));
    if (!vacancy.ok) return { ok: false, status: 409, error: vacancy.error };
    const stamp = ctx.config.now().toISOString();
    await trx.updateTable('declarations').set({ unit_verified_at: stamp, updated_at: stamp }).where('id', '=', id).execute();
    await trx.insertInto('workflow_events').values({
      declaration_id: id, actor_user_id: user.id, org_id: user.orgId, stage: g.d.stage, action: 'verify', opinion: '核验通过',
      from_status: g.d.status, to_status: g.d.status, data: null, created_at: stamp,
    }).execute();
    await audit(ctx, null, { action: 'unit_verify', objectType: 'declaration', objectId: id, detail: `核验通过（环节${g.d.stage}）`, actor: user, ip }, trx);
    return { ok: true, warning: vacancy.warning };
  });
}

// ---------------------------------------------------------------------------------------
// 单位推荐上报

/** An uploaded file (streamed to a temp file by the multipart reader), stored by storeFile. */
export type Upload = UploadInput;

export type RecommendErrors = Partial<Record<'ids' | 'pledge' | 'report', string>>;

export type RecommendResult =
  | { ok: true; id: number; count: number }
  | { ok: false; status: 409 | 422; errors: RecommendErrors };

export async function recommendCandidates(db: Db, user: Staff) {
  const all = await unitQueue(db, user);
  return { ready: all.filter((r) => r.step === 'recommend'), objections: all.filter((r) => r.step === 'objection') };
}

/**
 * 上报: the selected declarations move to the next stage of their routes in one
 * transaction (act 'approve' for each), under one recommendations row with the uploads.
 */
export async function recommend(ctx: AppContext, user: Staff, input: { ids: number[]; pledge: Upload | null; report: Upload | null; tooLarge?: RecommendErrors; ip?: string }): Promise<RecommendResult> {
  const { ready } = await recommendCandidates(ctx.db, user);
  const ids = [...new Set(input.ids)];
  const chosen = ready.filter((r) => ids.includes(r.id));
  const errors: RecommendErrors = { ...(input.tooLarge ?? {}) };
  if (!ids.length) errors.ids = '请勾选推荐上报的人员';
  else if (chosen.length !== ids.length) {
    return { ok: false, status: 409, errors: { ...errors, ids: '所选人员中有不能推荐上报的（未核验、未完成公示、公示有异议或已上报），请刷新后重新选择' } };
  }
  for (const c of chosen) {
    const year = (await ctx.db.selectFrom('declarations').select('year').where('id', '=', c.id).executeTakeFirstOrThrow()).year;
    const sanctioned = await unitSanctionRefusal(ctx.db, user.orgId ?? null, year);
    if (sanctioned) return { ok: false, status: 409, errors: { ...errors, ids: sanctioned } };
  }
  const reportRequired = chosen.some((c) => c.publicityRequired);
  if (!errors.pledge && !input.pledge) errors.pledge = '请上传诚信承诺书';
  if (!errors.report && !input.report && reportRequired) errors.report = '请上传公示情况说明';
  if (Object.keys(errors).length) return { ok: false, status: 422, errors };

  const stored: number[] = [];
  const store = async (u: Upload | null, key: 'pledge' | 'report') => {
    if (!u) return null;
    const r = await storeFile(ctx, user.id, u, 'doc');
    if (!r.ok) {
      errors[key] = r.error;
      return null;
    }
    stored.push(r.fileId);
    return r.fileId;
  };
  const pledgeId = await store(input.pledge, 'pledge');
  const reportId = await store(input.report, 'report');
  const discard = async () => {
    for (const f of stored) await discardFile(ctx, user.id, f);
  };
  if (Object.keys(errors).length) {
    await discard();
    return { ok: false, status: 422, errors };
  }

  const stamp = ctx.config.now().toISOString();
  try {
    const id = await writeTx(ctx.db, async (trx) => {
      const rec = await trx
        .insertInto('recommendations')
        .values({ org_id: user.orgId!, created_by: user.id, pledge_file_id: pledgeId, report_file_id: reportId, count: ids.length, created_at: stamp })
        .returning('id')
        .executeTakeFirstOrThrow();
      for (const declId of ids) {
        const g = await gate(trx, user, declId);
        if (!g.ok) throw new Refused(g);
        if (g.step !== 'recommend') throw new Refused({ ok: false, status: 409, error: '所选人员中有不能推荐上报的，请刷新后重新选择' });
        await trx.updateTable('declarations').set({ recommendation_id: rec.id, updated_at: stamp }).where('id', '=', declId).execute();
        await trx.insertInto('workflow_events').values({
          declaration_id: declId, actor_user_id: user.id, org_id: user.orgId, stage: g.d.stage, action: 'recommend', opinion: null,
          from_status: g.d.status, to_status: g.d.status, data: JSON.stringify({ recommendationId: rec.id }), created_at: stamp,
        }).execute();
        // The source IP goes on each declaration's audit row (act writes it).
        const r = await act(ctx, user, declId, { action: 'approve', opinion: '同意推荐', ip: input.ip, viaRecommendation: true }, trx);
        if (!r.ok) throw new Refused({ ok: false, status: r.status === 404 ? 404 : 409, error: r.error });
        // The next stage is a second unit (a dispatch worker's employer): it starts its own
        // opinion, 核验, publicity and recommendation; this unit's are kept for the form.
        if (isUnitStageKind(g.route[r.stage]?.kind)) await archiveUnitStage(trx, declId, g.d.stage, user.orgId!, stamp);
      }
      return rec.id;
    });
    return { ok: true, id, count: ids.length };
  } catch (err) {
    await discard();
    if (err instanceof Refused) return { ok: false, status: 409, errors: { ids: err.refusal.error } };
    throw err;
  }
}

export async function listRecommendations(ctx: AppContext, user: Staff, limit = 50) {
  const orgId = user.orgId ?? -1;
  const recs = await ctx.db
    .selectFrom('recommendations as r')
    .leftJoin('users as u', 'u.id', 'r.created_by')
    .leftJoin('files as pf', 'pf.id', 'r.pledge_file_id')
    .leftJoin('files as rf', 'rf.id', 'r.report_file_id')
    .select(['r.id', 'r.count', 'r.created_at', 'r.pledge_file_id', 'r.report_file_id', 'u.name as by', 'pf.original_name as pledge_name', 'rf.original_name as report_name'])
    .where('r.org_id', '=', orgId)
    .orderBy('r.id', 'desc')
    .limit(limit)
    .execute();
  if (!recs.length) return [];
  const people = await ctx.db
    .selectFrom('declarations as d')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .select(['d.recommendation_id', 'u.name'])
    .where('d.recommendation_id', 'in', recs.map((r) => r.id))
    .orderBy('d.id')
    .execute();
  return recs.map((r) => ({ ...r, names: people.filter((p) => p.recommendation_id === r.id).map((p) => p.name) }));
}

/** A file of one of the org's recommendations (诚信承诺书 / 公示情况说明), for download. */
export async function recommendationFile(ctx: AppContext, user: Staff, fileId: number) {
  if (!Number.isSafeInteger(fileId) || fileId <= 0) return null;
  const rec = await ctx.db
    .selectFrom('recommendations')
    .select('id')
    .where('org_id', '=', user.orgId ?? -1)
    .where((eb) => eb.or([eb('pledge_file_id', '=', fileId), eb('report_file_id', '=', fileId)]))
    .executeTakeFirst();
  if (!rec) return null;
  return ctx.db.selectFrom('files').select(['id', 'sha256', 'size', 'mime', 'original_name']).where('id', '=', fileId).executeTakeFirst();
}

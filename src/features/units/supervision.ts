/**
 * The binding of a unit to a 主管部门 that the supervisor approves (下属单位审核).
 *
 * Supervisor binding (orgs.supervisor_org_id / supervisor_status), kept so that routeFor()
 * (src/features/declaration/service.ts) and computeRoute() need no change:
 *   - supervisor_org_id is always the CURRENTLY APPROVED supervisor, or null when there is none;
 *     the requested one lives only in supervisor_requests until it approves.
 *   - supervisor_status is the state of the binding: 'approved' (no request waiting),
 *     'pending' (a request waits: for a first choice supervisor_org_id is null, for a change it
 *     still points at the old supervisor), 'rejected' (the first choice was refused).
 *   So while a request waits the route of a public unit fails with 主管单位审核未通过; once the new
 *   supervisor approves, the unit's in-flight declarations whose route changes go back to the unit
 *   (see decideRequest / rerouteUnit).
 */
import { sql, type Kysely } from 'kysely';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { charCount } from '../../lib/forms.js';
import { routeLabel, type RouteStage } from '../../domain/route.js';
import { containsPattern } from '../admin/orgs.js';
import { routeFor, parseRoute } from '../declaration/service.js';
import { writeStages } from '../review/scope.js';
import { audit } from '../audit/service.js';
import type { OrgRow } from './service.js';

type Db = Kysely<Database>;

// ---------------------------------------------------------------------------------------
// 选择或更换主管部门

export async function supervisorOptions(ctx: AppContext, q: string) {
  let query = ctx.db.selectFrom('orgs').select(['id', 'name']).where('kind', '=', 'supervisor').where('disabled', '=', 0);
  if (q) query = query.where(sql<boolean>`name like ${containsPattern(q)} escape '\\'`);
  return query.orderBy('name').limit(200).execute();
}

export async function requestsOfUnit(ctx: AppContext, orgId: number) {
  return ctx.db
    .selectFrom('supervisor_requests as r')
    .innerJoin('orgs as s', 's.id', 'r.supervisor_org_id')
    .leftJoin('users as u', 'u.id', 'r.requested_by')
    .select(['r.id', 'r.status', 'r.opinion', 'r.created_at', 'r.decided_at', 's.name as supervisor', 'u.name as requester'])
    .where('r.unit_org_id', '=', orgId)
    .orderBy('r.id', 'desc')
    .limit(50)
    .execute();
}

export async function requestSupervisor(ctx: AppContext, org: OrgRow, supervisorId: number, actorId: number): Promise<{ ok: true; name: string } | { ok: false; error: string }> {
  const sup = Number.isSafeInteger(supervisorId)
    ? await ctx.db.selectFrom('orgs').select(['id', 'name']).where('id', '=', supervisorId).where('kind', '=', 'supervisor').where('disabled', '=', 0).executeTakeFirst()
    : undefined;
  if (!sup) return { ok: false, error: '请选择主管部门' };
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    const cur = await trx.selectFrom('orgs').select(['supervisor_org_id', 'supervisor_status']).where('id', '=', org.id).executeTakeFirstOrThrow();
    const pending = await trx.selectFrom('supervisor_requests').select('id').where('unit_org_id', '=', org.id).where('status', '=', 'pending').executeTakeFirst();
    if (pending) return { ok: false as const, error: '已有等待审核的主管部门申请，请等待审核或撤回后再提交' };
    if (cur.supervisor_org_id === sup.id && cur.supervisor_status === 'approved') return { ok: false as const, error: `“${sup.name}”已是本单位的主管部门` };
    await trx.insertInto('supervisor_requests').values({ unit_org_id: org.id, supervisor_org_id: sup.id, status: 'pending', requested_by: actorId, created_at: stamp }).execute();
    await trx.updateTable('orgs').set({ supervisor_status: 'pending', updated_at: stamp }).where('id', '=', org.id).execute();
    // Tell the supervisor's staff there is something to review.
    const staff = await trx.selectFrom('users').select('id').where('org_id', '=', sup.id).where('kind', '=', 'staff').where('disabled', '=', 0).execute();
    for (const s of staff) {
      await trx.insertInto('messages').values({
        user_id: s.id, type: '审核消息', created_at: stamp,
        content: `单位“${org.name}”申请${cur.supervisor_org_id ? '更换' : '选择'}贵单位为主管部门，请在“下属单位审核”中审核。`,
      }).execute();
    }
    return { ok: true as const, name: sup.name };
  });
}

/** 撤回: the unit withdraws its waiting request (recorded as not approved, opinion 单位撤回). */
export async function withdrawRequest(ctx: AppContext, org: OrgRow, actorId: number): Promise<boolean> {
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    const r = await trx.selectFrom('supervisor_requests').select('id').where('unit_org_id', '=', org.id).where('status', '=', 'pending').executeTakeFirst();
    if (!r) return false;
    await trx.updateTable('supervisor_requests').set({ status: 'rejected', opinion: '单位已撤回申请', decided_by: actorId, decided_at: stamp }).where('id', '=', r.id).execute();
    const cur = await trx.selectFrom('orgs').select(['supervisor_org_id']).where('id', '=', org.id).executeTakeFirstOrThrow();
    await trx.updateTable('orgs').set({ supervisor_status: cur.supervisor_org_id ? 'approved' : null, updated_at: stamp }).where('id', '=', org.id).execute();
    return true;
  });
}

export const REQUEST_STATUS_LABEL: Record<string, string> = { pending: '待审核', approved: '通过', rejected: '不通过' };

export async function requestsForSupervisor(ctx: AppContext, supervisorId: number, status: string, offset: number, size: number) {
  let base = ctx.db
    .selectFrom('supervisor_requests as r')
    .innerJoin('orgs as o', 'o.id', 'r.unit_org_id')
    .where('r.supervisor_org_id', '=', supervisorId);
  if (status === 'pending' || status === 'approved' || status === 'rejected') base = base.where('r.status', '=', status);
  const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await base
    .leftJoin('orgs as cur', 'cur.id', 'o.supervisor_org_id')
    .select(['r.id', 'r.status', 'r.opinion', 'r.created_at', 'r.decided_at', 'o.id as unit_id', 'o.name as unit', 'o.uscc', 'o.contact', 'o.phone', 'cur.name as current_supervisor', 'o.supervisor_org_id'])
    .orderBy((eb) => eb.case().when('r.status', '=', 'pending').then(0).else(1).end())
    .orderBy('r.id', 'desc')
    .limit(size)
    .offset(offset)
    .execute();
  return { rows, total: Number(n) };
}

/** How many units wait for this supervisor's decision (the 下属单位审核 line of its home page). */
export async function pendingRequestCount(ctx: AppContext, supervisorId: number): Promise<number> {
  const r = await ctx.db.selectFrom('supervisor_requests').select((eb) => eb.fn.countAll<number>().as('n')).where('supervisor_org_id', '=', supervisorId).where('status', '=', 'pending').executeTakeFirstOrThrow();
  return Number(r.n);
}

/** One request addressed to this supervisor, with the unit's registration data. */
export async function requestForSupervisor(ctx: AppContext, supervisorId: number, id: number) {
  if (!Number.isSafeInteger(id)) return undefined;
  return ctx.db
    .selectFrom('supervisor_requests as r')
    .innerJoin('orgs as o', 'o.id', 'r.unit_org_id')
    .leftJoin('orgs as cur', 'cur.id', 'o.supervisor_org_id')
    .leftJoin('users as u', 'u.id', 'r.requested_by')
    .select([
      'r.id', 'r.status', 'r.opinion', 'r.created_at', 'r.decided_at', 'r.unit_org_id', 'u.name as requester',
      'o.name as unit', 'o.kind as unit_kind', 'o.uscc', 'o.legal_rep', 'o.industry', 'o.location', 'o.address', 'o.contact', 'o.phone',
      'o.nature', 'o.unit_level', 'o.region_code', 'o.license_file_id', 'o.supervisor_org_id', 'cur.name as current_supervisor',
    ])
    .where('r.id', '=', id)
    .where('r.supervisor_org_id', '=', supervisorId)
    .executeTakeFirst();
}

/** The unit's declarations in review that have left it (stage > 0): a change of supervisor sends them back. */
export async function leftTheUnit(ctx: AppContext, unitOrgId: number): Promise<number> {
  const r = await ctx.db
    .selectFrom('declarations as d')
    .innerJoin('declaration_stages as s', (j) => j.onRef('s.declaration_id', '=', 'd.id').on('s.idx', '=', 0).on('s.org_id', '=', unitOrgId))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('d.status', 'in', ['reviewing', 'returned'])
    .where('d.stage', '>', 0)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export const SUPERVISOR_CHANGED_OPINION = '单位更换主管部门，申报退回单位重新上报';

export interface DecideResult {
  ok: boolean;
  error?: string;
  /** Declarations sent back to the unit by a change of supervisor. */
  returned?: number;
}

/**
 * 通过 / 不通过 by the supervisor's staff; approving a change re-routes the unit's declarations.
 * Audited in the same transaction (`req`: the supervisor clerk and the source IP); the row says
 * the decision and the unit, not the opinion text.
 */
export async function decideRequest(ctx: AppContext, req: FastifyRequest, actor: { id: number; orgId: number }, id: number, approve: boolean, opinionRaw: string): Promise<DecideResult> {
  const opinion = (opinionRaw ?? '').trim();
  if (!approve && !opinion) return { ok: false, error: '不通过时请填写审核意见' };
  if (charCount(opinion) > 500) return { ok: false, error: '审核意见不能超过500个字' };
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    const r = await trx.selectFrom('supervisor_requests').selectAll().where('id', '=', id).where('supervisor_org_id', '=', actor.orgId).executeTakeFirst();
    if (!r) return { ok: false, error: 'not-found' };
    if (r.status !== 'pending') return { ok: false, error: '该申请已审核，不能重复审核' };
    const unit = await trx.selectFrom('orgs').select(['id', 'name', 'supervisor_org_id']).where('id', '=', r.unit_org_id).executeTakeFirstOrThrow();
    const sup = await trx.selectFrom('orgs').select(['id', 'name']).where('id', '=', actor.orgId).executeTakeFirstOrThrow();
    await trx.updateTable('supervisor_requests')
      .set({ status: approve ? 'approved' : 'rejected', opinion: opinion || null, decided_by: actor.id, decided_at: stamp })
      .where('id', '=', r.id)
      .execute();
    let returned = 0;
    if (approve) {
      await trx.updateTable('orgs').set({ supervisor_org_id: sup.id, supervisor_status: 'approved', updated_at: stamp }).where('id', '=', unit.id).execute();
      if (unit.supervisor_org_id && unit.supervisor_org_id !== sup.id) {
        returned = await rerouteUnit(ctx, trx, unit, sup, actor.id, stamp);
      }
    } else {
      // A refused change keeps the old approved binding; a refused first choice leaves none.
      await trx.updateTable('orgs').set({ supervisor_status: unit.supervisor_org_id ? 'approved' : 'rejected', updated_at: stamp }).where('id', '=', unit.id).execute();
    }
    const staff = await trx.selectFrom('users').select('id').where('org_id', '=', unit.id).where('kind', '=', 'staff').where('disabled', '=', 0).execute();
    const text = approve
      ? `主管部门“${sup.name}”已通过本单位的主管部门申请。${returned ? `本单位 ${returned} 份进行中的申报已退回单位，请重新审核上报。` : ''}`
      : `主管部门“${sup.name}”未通过本单位的主管部门申请。审核意见：${opinion}`;
    for (const s of staff) await trx.insertInto('messages').values({ user_id: s.id, type: '审核消息', content: text, created_at: stamp }).execute();
    const change = unit.supervisor_org_id && unit.supervisor_org_id !== sup.id;
    await audit(ctx, req, {
      action: 'supervisor_decision', objectType: 'org', objectId: unit.id,
      detail: `${approve ? '通过' : '不通过'}单位“${unit.name}”的${change ? '更换主管部门' : '主管部门'}申请（申请 ${r.id}）${returned ? `，${returned}份进行中的申报退回单位` : ''}`,
    }, trx);
    return { ok: true, returned };
  });
}

const routeKey = (stages: readonly Pick<RouteStage, 'kind' | 'orgId'>[]) => stages.map((s) => `${s.kind}:${s.orgId}`).join('>');

/**
 * A change of supervisor (seed 004 “修改归口部门”): every in-flight declaration routed through the
 * unit (status reviewing/returned) gets its route recomputed with the new supervisor. Those that
 * had already left the unit (stage > 0) and whose route changed go back to the unit: stage 0,
 * recommendation cleared (the unit recommends again; its verification and publicity stand),
 * a 'supervisor_changed' event and a message to the applicant. Those still at the unit only get
 * the new route. Runs inside the caller's transaction: every query uses `trx`.
 */
async function rerouteUnit(ctx: AppContext, trx: Db, unit: { id: number; name: string }, sup: { id: number; name: string }, actorId: number, stamp: string): Promise<number> {
  const decls = await trx
    .selectFrom('declarations as d')
    .innerJoin('declaration_stages as s', (j) => j.onRef('s.declaration_id', '=', 'd.id').on('s.idx', '=', 0).on('s.org_id', '=', unit.id))
    .innerJoin('plans as p', 'p.id', 'd.plan_id')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .select(['d.id', 'd.user_id', 'd.status', 'd.stage', 'd.route', 'd.cover', 'p.committee_org_id', 'u.unit_org_id'])
    .where('d.status', 'in', ['reviewing', 'returned'])
    .execute();
  let returned = 0;
  for (const d of decls) {
    const old = parseRoute(d);
    let stages: RouteStage[] | null = null;
    if (d.unit_org_id === unit.id) {
      const r = await routeFor(ctx, d.user_id, { committee_org_id: d.committee_org_id }, trx);
      if (r.ok) stages = r.stages;
    }
    // The applicant left the unit, or the route cannot be computed now (e.g. no county HRB):
    // keep the route and put the new supervisor where the old one was.
    stages ??= old.map((s) => (s.kind === 'supervisor' ? { ...s, orgId: sup.id, name: sup.name } : s));
    if (routeKey(stages) === routeKey(old)) continue;
    const back = d.stage > 0;
    await trx.updateTable('declarations')
      .set({ route: JSON.stringify(stages), updated_at: stamp, ...(back ? { stage: 0, recommendation_id: null } : {}) })
      .where('id', '=', d.id)
      .execute();
    await writeStages(trx, d.id, stages);
    if (!back) continue;
    returned++;
    await trx.insertInto('workflow_events').values({
      declaration_id: d.id, actor_user_id: actorId, org_id: sup.id, stage: d.stage, action: 'supervisor_changed', opinion: SUPERVISOR_CHANGED_OPINION,
      from_status: d.status, to_status: d.status, data: JSON.stringify({ from: old.map((s) => s.orgId), to: stages.map((s) => s.orgId) }), created_at: stamp,
    }).execute();
    let title = '';
    try {
      title = JSON.parse(d.cover).title ?? '';
    } catch {
      /* no title */
    }
    await trx.insertInto('messages').values({
      user_id: d.user_id, type: '审核消息', created_at: stamp,
      content: `您所在单位“${unit.name}”更换了主管部门（${sup.name}），您的${title ? `“${title}”` : ''}申报已退回单位重新审核上报，新的审核路线：${routeLabel(stages)}。${d.status === 'returned' ? '请修改完善后重新提交。' : '您无需重新提交。'}`,
    }).execute();
  }
  return returned;
}

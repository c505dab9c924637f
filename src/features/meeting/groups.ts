import type { AppContext } from '../../context.js';
import type { DB } from '../../db/index.js';
import { writeTx } from '../../db/index.js';
import { groupForSpecialty, specialtyList } from '../../domain/meeting.js';
import { parseRatio } from '../../domain/evaluation.js';
import { parseCover } from '../declaration/service.js';
import { audit } from '../audit/service.js';
import { planInScope, type Staff } from '../results/service.js';

/**
 * 学科组 (seed 004 评委会 → 学科组): the committee office splits a plan's declarations awaiting
 * evaluation by 评审专业; assignment is automatic and can be moved by hand; a group's 初审 records a
 * recommendation per declaration before the plenary meeting. Scope: the plan (planInScope).
 */

export const groupsOfPlan = (db: DB, planId: number) =>
  db
    .selectFrom('eval_groups as g')
    .select(['g.id', 'g.name', 'g.specialties'])
    .select((eb) => eb.selectFrom('eval_group_decls as a').whereRef('a.group_id', '=', 'g.id').select((x) => x.fn.countAll<number>().as('n')).as('count'))
    .where('g.plan_id', '=', planId)
    .orderBy('g.id')
    .execute();

/** The plan's declarations awaiting evaluation (or evaluated), with their group and 初审. */
export async function planDeclarations(db: DB, planId: number) {
  const rows = await db
    .selectFrom('declarations as d')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .leftJoin('orgs as unit', 'unit.id', 'u.unit_org_id')
    .leftJoin('eval_group_decls as a', 'a.declaration_id', 'd.id')
    .select(['d.id', 'd.status', 'd.cover', 'd.user_id', 'u.name', 'u.unit_org_id', 'unit.name as unit_name', 'a.group_id', 'a.moved', 'a.recommendation', 'a.recommendation_note'])
    .where('d.plan_id', '=', planId)
    .where('d.submitted_at', 'is not', null)
    .where('d.status', 'in', ['approved', 'passed', 'failed'])
    .orderBy('d.id')
    .execute();
  return rows.map((r) => ({ ...r, cover: parseCover(r) }));
}

type Result = { ok: true; text: string } | { ok: false; errors: Record<string, string> };

export async function createGroup(ctx: AppContext, u: Staff, planId: number, b: { name?: string; specialties?: string }): Promise<Result> {
  const plan = await planInScope(ctx, u, planId);
  if (!plan) return { ok: false, errors: { plan: '评审计划不存在' } };
  const name = (b.name ?? '').trim();
  const specialties = specialtyList(b.specialties).join(',');
  const errors: Record<string, string> = {};
  if (!name || [...name].length > 30 || /[<>]/.test(name)) errors.name = '请填写学科组名称（不超过30个字）';
  else if (await ctx.db.selectFrom('eval_groups').select('id').where('plan_id', '=', planId).where('name', '=', name).executeTakeFirst()) errors.name = '该计划已有同名学科组';
  if (!specialties) errors.specialties = '请填写该学科组评审的专业（多个专业用逗号分隔）';
  if (Object.keys(errors).length) return { ok: false, errors };
  const row = await ctx.db.insertInto('eval_groups').values({ plan_id: planId, name, specialties, created_at: ctx.config.now().toISOString() }).returning('id').executeTakeFirstOrThrow();
  await audit(ctx, null, { action: 'group_create', objectType: 'eval_group', objectId: row.id, detail: `评审计划 ${planId}：${name}（${specialties}）`, actor: u });
  return { ok: true, text: `已新建学科组：${name}` };
}

/** Automatic assignment by 评审专业; declarations the office moved by hand stay where they are. */
export async function autoAssign(ctx: AppContext, u: Staff, planId: number): Promise<{ ok: true; assigned: number; unplaced: number } | { ok: false; error: string }> {
  const plan = await planInScope(ctx, u, planId);
  if (!plan) return { ok: false, error: '评审计划不存在' };
  const groups = await ctx.db.selectFrom('eval_groups').select(['id', 'specialties']).where('plan_id', '=', planId).orderBy('id').execute();
  if (!groups.length) return { ok: false, error: '请先新建学科组' };
  const decls = (await planDeclarations(ctx.db, planId)).filter((d) => d.status === 'approved' && !d.moved);
  let assigned = 0;
  let unplaced = 0;
  await writeTx(ctx.db, async (trx) => {
    for (const d of decls) {
      const g = groupForSpecialty(groups, d.cover.specialty);
      if (g === null) {
        unplaced++;
        continue;
      }
      if (g === d.group_id) continue;
      assigned++;
      await trx
        .insertInto('eval_group_decls')
        .values({ declaration_id: d.id, group_id: g })
        .onConflict((oc) => oc.column('declaration_id').doUpdateSet({ group_id: g, recommendation: null, recommendation_note: null, recommended_by: null, recommended_at: null }))
        .execute();
    }
    await audit(ctx, null, { action: 'group_assign', objectType: 'plan', objectId: planId, detail: `按评审专业分组：${assigned}份，未能分组${unplaced}份`, actor: u }, trx);
  });
  return { ok: true, assigned, unplaced };
}

const declOfPlan = (db: DB, planId: number, declId: number) =>
  Number.isSafeInteger(declId)
    ? db.selectFrom('declarations').select(['id', 'status']).where('id', '=', declId).where('plan_id', '=', planId).where('submitted_at', 'is not', null).executeTakeFirst()
    : Promise.resolve(undefined);

/** 调整分组: a declaration awaiting evaluation into another group of the same plan. */
export async function moveDeclaration(ctx: AppContext, u: Staff, planId: number, declId: number, groupId: number): Promise<{ ok: true } | { ok: false; error: string; notFound?: boolean }> {
  const plan = await planInScope(ctx, u, planId);
  const d = plan ? await declOfPlan(ctx.db, planId, declId) : undefined;
  if (!plan || !d) return { ok: false, error: '申报不存在', notFound: true };
  if (d.status !== 'approved') return { ok: false, error: '该申报已评审，不能调整分组' };
  const g = Number.isSafeInteger(groupId) ? await ctx.db.selectFrom('eval_groups').select(['id', 'name']).where('id', '=', groupId).where('plan_id', '=', planId).executeTakeFirst() : undefined;
  if (!g) return { ok: false, error: '请选择学科组' };
  await writeTx(ctx.db, async (trx) => {
    await trx
      .insertInto('eval_group_decls')
      .values({ declaration_id: d.id, group_id: g.id, moved: 1 })
      .onConflict((oc) => oc.column('declaration_id').doUpdateSet({ group_id: g.id, moved: 1, recommendation: null, recommendation_note: null, recommended_by: null, recommended_at: null }))
      .execute();
    await audit(ctx, null, { action: 'group_move', objectType: 'declaration', objectId: d.id, detail: `调整至学科组：${g.name}`, actor: u }, trx);
  });
  return { ok: true };
}

/** 学科组初审: the group's recommendation (推荐 / 不推荐) of a declaration placed in a group. */
export async function recommend(ctx: AppContext, u: Staff, planId: number, declId: number, b: { recommendation?: string; note?: string }): Promise<{ ok: true } | { ok: false; error: string; notFound?: boolean }> {
  const plan = await planInScope(ctx, u, planId);
  const d = plan ? await declOfPlan(ctx.db, planId, declId) : undefined;
  if (!plan || !d) return { ok: false, error: '申报不存在', notFound: true };
  const rec = b.recommendation === 'agree' || b.recommendation === 'disagree' ? b.recommendation : null;
  if (!rec) return { ok: false, error: '请选择初审意见（推荐或不推荐）' };
  const note = (b.note ?? '').trim();
  if ([...note].length > 200) return { ok: false, error: '初审说明不超过200个字' };
  if (d.status !== 'approved') return { ok: false, error: '该申报已评审，不能修改初审意见' };
  const placed = await ctx.db.selectFrom('eval_group_decls').select('group_id').where('declaration_id', '=', d.id).executeTakeFirst();
  if (!placed) return { ok: false, error: '该申报尚未分入学科组' };
  await writeTx(ctx.db, async (trx) => {
    await trx.updateTable('eval_group_decls').set({ recommendation: rec, recommendation_note: note || null, recommended_by: u.id, recommended_at: ctx.config.now().toISOString() }).where('declaration_id', '=', d.id).execute();
    await audit(ctx, null, { action: 'group_recommend', objectType: 'declaration', objectId: d.id, detail: `学科组初审：${rec === 'agree' ? '推荐' : '不推荐'}${note ? `（${note}）` : ''}`, actor: u }, trx);
  });
  return { ok: true };
}

/** 表决规则 of the plan: pass ratio, optional reject ratio and quorum (the office sets them here). */
export async function saveRule(ctx: AppContext, u: Staff, planId: number, b: { pass_ratio?: string; reject_ratio?: string; min_members?: string }): Promise<Result> {
  const plan = await planInScope(ctx, u, planId);
  if (!plan) return { ok: false, errors: { plan: '评审计划不存在' } };
  const errors: Record<string, string> = {};
  const pass = (b.pass_ratio ?? '').trim();
  const reject = (b.reject_ratio ?? '').trim();
  const min = (b.min_members ?? '').trim();
  if (!parseRatio(pass)) errors.pass_ratio = '通过比例格式不正确（如 2/3）';
  if (reject && !parseRatio(reject)) errors.reject_ratio = '否决比例格式不正确（如 1/2），不设否决比例请留空';
  if (min && !/^\d{1,3}$/.test(min)) errors.min_members = '最少参加表决人数必须为整数';
  if (Object.keys(errors).length) return { ok: false, errors };
  await ctx.db.updateTable('plans').set({ pass_ratio: pass, reject_ratio: reject || null, min_members: min ? Number(min) : null }).where('id', '=', planId).execute();
  await audit(ctx, null, { action: 'plan_vote_rule', objectType: 'plan', objectId: planId, detail: `通过比例${pass}，否决比例${reject || '无'}，最少${min || '不限'}人`, actor: u });
  return { ok: true, text: '已保存表决规则' };
}

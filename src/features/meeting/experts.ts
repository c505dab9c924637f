import crypto from 'node:crypto';
import type { AppContext } from '../../context.js';
import type { DB } from '../../db/index.js';
import { writeTx } from '../../db/index.js';
import { draw, type DrawInput, type DrawResult, type Expert } from '../../domain/draw.js';
import { audit } from '../audit/service.js';
import { getEvaluation, isAdmin, type Staff } from '../results/service.js';

/**
 * 评委专家库 and 评委抽取 (issue #16). The pool belongs to a committee; a draw is made for a meeting
 * from the groups' numbers, recorded with its seed, its whole input and its result (re-checkable:
 * recheck() re-runs the pure draw on the stored input). A declined expert is replaced by a fresh
 * draw seeded "<seed>#<n>" with everyone drawn so far excluded.
 */

const now = (ctx: AppContext) => ctx.config.now().toISOString();

export function expertsOf(db: DB, committeeId: number, limit = 20, offset = 0) {
  return db.selectFrom('experts').selectAll().where('committee_org_id', '=', committeeId).orderBy('id').limit(limit).offset(offset).execute();
}

export async function expertCount(db: DB, committeeId: number) {
  return Number((await db.selectFrom('experts').select((eb) => eb.fn.countAll<number>().as('n')).where('committee_org_id', '=', committeeId).executeTakeFirstOrThrow()).n);
}

export type ExpertBody = Record<string, string | undefined>;

export async function addExpert(ctx: AppContext, u: Staff, b: ExpertBody): Promise<{ ok: true; id: number } | { ok: false; errors: Record<string, string> }> {
  const committee = u.orgKind === 'committee' ? u.orgId : null;
  const errors: Record<string, string> = {};
  if (!committee) errors.name = '只有评委会办公室可以维护评委专家库';
  const t = (k: string) => (b[k] ?? '').trim();
  const bad = (s: string, n: number) => [...s].length > n || /[<>]/.test(s);
  if (!t('name') || bad(t('name'), 50)) errors.name = errors.name ?? '请填写专家姓名（不超过50个字）';
  if (!t('specialty') || bad(t('specialty'), 50)) errors.specialty = '请填写评审专业';
  if (!t('unit') || bad(t('unit'), 100)) errors.unit = '请填写工作单位';
  if (bad(t('level'), 20)) errors.level = '职称级别不超过20个字';
  if (bad(t('series_code'), 20)) errors.series_code = '系列代码不超过20个字';
  if (t('region_code') && !/^\d{6}$/.test(t('region_code'))) errors.region_code = '行政区域代码为6位数字';
  if (bad(t('integrity_note'), 200)) errors.integrity_note = '诚信记录不超过200个字';
  const conflicts = [...new Set(t('conflicts').split(/[,，\s]+/).filter(Boolean))].map(Number);
  if (conflicts.some((n) => !Number.isSafeInteger(n))) errors.conflicts = '申明回避的申报请填写申报编号，多个用逗号分隔';
  if (Object.keys(errors).length) return { ok: false, errors };
  return writeTx(ctx.db, async (trx) => {
    if (conflicts.length) {
      const found = await trx.selectFrom('declarations as d').innerJoin('plans as p', 'p.id', 'd.plan_id').select('d.id').where('d.id', 'in', conflicts).where('p.committee_org_id', '=', committee!).execute();
      if (found.length !== conflicts.length) return { ok: false as const, errors: { conflicts: '申明回避的申报编号不存在' } };
    }
    const row = await trx
      .insertInto('experts')
      .values({
        committee_org_id: committee!, name: t('name'), specialty: t('specialty'), unit: t('unit'), level: t('level') || null, series_code: t('series_code') || null,
        region_code: t('region_code') || null, available: b.available === '0' ? 0 : 1, integrity_note: t('integrity_note') || null, created_at: now(ctx),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (conflicts.length) await trx.insertInto('expert_conflicts').values(conflicts.map((d) => ({ expert_id: row.id, declaration_id: d }))).execute();
    await audit(ctx, null, { action: 'expert_add', objectType: 'expert', objectId: row.id, detail: `评委专家库新增：${t('name')}（${t('unit')}，${t('specialty')}）`, actor: u }, trx);
    return { ok: true as const, id: row.id };
  });
}

async function poolOf(db: DB, committeeId: number): Promise<Expert[]> {
  const rows = await db.selectFrom('experts').selectAll().where('committee_org_id', '=', committeeId).orderBy('id').execute();
  const conflicts = await db.selectFrom('expert_conflicts as c').innerJoin('experts as e', 'e.id', 'c.expert_id').select(['c.expert_id', 'c.declaration_id']).where('e.committee_org_id', '=', committeeId).execute();
  return rows.map((r) => ({
    id: r.id, name: r.name, unit: r.unit, specialty: r.specialty, available: !!r.available, integrityOk: !r.integrity_note,
    conflicts: conflicts.filter((c) => c.expert_id === r.id).map((c) => c.declaration_id),
  }));
}

/** The meeting's draw state: every draw (seed, result) and the drawn experts with their names. */
export async function drawsOf(db: DB, evaluationId: number) {
  const draws = await db.selectFrom('expert_draws').selectAll().where('evaluation_id', '=', evaluationId).orderBy('id').execute();
  const drawn = await db
    .selectFrom('drawn_experts as x')
    .innerJoin('expert_draws as d', 'd.id', 'x.draw_id')
    .innerJoin('experts as e', 'e.id', 'x.expert_id')
    .innerJoin('eval_groups as g', 'g.id', 'x.group_id')
    .select(['x.draw_id', 'x.expert_id', 'x.group_id', 'x.declined', 'e.name', 'e.unit', 'e.specialty', 'g.name as group_name'])
    .where('d.evaluation_id', '=', evaluationId)
    .orderBy('x.draw_id')
    .orderBy('x.group_id')
    .execute();
  return { draws: draws.map((d) => ({ ...d, shortfalls: (JSON.parse(d.result) as DrawResult).shortfalls })), drawn };
}

type DrawOutcome = { ok: true; drawId: number; result: DrawResult } | { ok: false; error: string; notFound?: boolean };

async function record(ctx: AppContext, u: Staff, evaluationId: number, input: DrawInput, what: string): Promise<DrawOutcome> {
  const result = draw(input);
  return writeTx(ctx.db, async (trx) => {
    const row = await trx
      .insertInto('expert_draws')
      .values({ evaluation_id: evaluationId, seed: input.seed, input: JSON.stringify(input), result: JSON.stringify(result), created_by: u.id, created_at: now(ctx) })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (result.picks.length) await trx.insertInto('drawn_experts').values(result.picks.map((p) => ({ draw_id: row.id, expert_id: p.expertId, group_id: p.groupId }))).execute();
    await audit(ctx, null, { action: 'expert_draw', objectType: 'evaluation', objectId: evaluationId, detail: `${what}，种子 ${input.seed}：抽中专家 ${result.picks.map((p) => p.expertId).join('、') || '无'}${result.shortfalls.length ? `；${result.shortfalls.join('；')}` : ''}`, actor: u }, trx);
    return { ok: true as const, drawId: row.id, result };
  });
}

async function meetingFacts(ctx: AppContext, planId: number) {
  const decls = await ctx.db
    .selectFrom('eval_group_decls as a')
    .innerJoin('declarations as d', 'd.id', 'a.declaration_id')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .leftJoin('orgs as o', 'o.id', 'u.unit_org_id')
    .select(['d.id', 'o.name as unit'])
    .where('d.plan_id', '=', planId)
    .where('d.status', '=', 'approved')
    .execute();
  return { declarations: decls.map((d) => d.id).sort((a, b) => a - b), applicantUnits: [...new Set(decls.map((d) => d.unit ?? ''))].filter(Boolean).sort() };
}

/** 抽取评委: numbers per group (fields count_<groupId>); the seed typed, or a fresh random one. */
export async function runDraw(ctx: AppContext, u: Staff, evaluationId: number, b: Record<string, string | undefined>): Promise<DrawOutcome> {
  const x = await getEvaluation(ctx, u, evaluationId);
  if (!x || x.e.mode !== 'online') return { ok: false, error: '评审会议不存在', notFound: true };
  if (x.e.confirmed_at) return { ok: false, error: '评审结果已确认' };
  if (await ctx.db.selectFrom('expert_draws').select('id').where('evaluation_id', '=', evaluationId).executeTakeFirst()) return { ok: false, error: '本次会议已抽取评委；有专家不能参加时请使用“不能参加，补抽”' };
  const groups = await ctx.db.selectFrom('eval_groups').select(['id', 'name', 'specialties']).where('plan_id', '=', x.plan.id).orderBy('id').execute();
  const needs = groups.map((g) => ({ groupId: g.id, name: g.name, specialties: g.specialties, count: Number((b[`count_${g.id}`] ?? '').trim() || 0) }));
  if (needs.some((n) => !Number.isInteger(n.count) || n.count < 0 || n.count > 99)) return { ok: false, error: '抽取人数必须为0至99的整数' };
  if (!needs.some((n) => n.count > 0)) return { ok: false, error: '请填写各学科组的抽取人数' };
  const seed = (b.seed ?? '').trim() || crypto.randomBytes(8).toString('hex');
  if ([...seed].length > 64) return { ok: false, error: '随机种子不超过64个字符' };
  const input: DrawInput = { seed, pool: await poolOf(ctx.db, x.plan.committee_org_id), groups: needs.filter((n) => n.count > 0), ...(await meetingFacts(ctx, x.plan.id)) };
  return record(ctx, u, evaluationId, input, '抽取评委');
}

/** 不能参加，补抽: the expert is marked declined and one fresh expert is drawn for the same group. */
export async function declineAndReplace(ctx: AppContext, u: Staff, evaluationId: number, expertId: number): Promise<DrawOutcome> {
  const x = await getEvaluation(ctx, u, evaluationId);
  if (!x || x.e.mode !== 'online') return { ok: false, error: '评审会议不存在', notFound: true };
  const { draws, drawn } = await drawsOf(ctx.db, evaluationId);
  const it = drawn.find((d) => d.expert_id === expertId && !d.declined);
  if (!it || !draws.length) return { ok: false, error: '该专家不在本次抽取结果中', notFound: true };
  await ctx.db.updateTable('drawn_experts').set({ declined: 1 }).where('draw_id', '=', it.draw_id).where('expert_id', '=', expertId).execute();
  const units = new Map((await poolOf(ctx.db, x.plan.committee_org_id)).map((e) => [e.id, e.unit]));
  const taken = drawn.map((d) => ({ expertId: d.expert_id, unit: units.get(d.expert_id) ?? d.unit, declined: !!d.declined || d.expert_id === expertId }));
  const group = await ctx.db.selectFrom('eval_groups').select(['id', 'name', 'specialties']).where('id', '=', it.group_id).executeTakeFirstOrThrow();
  const input: DrawInput = {
    seed: `${draws[0]!.seed}#${draws.length}`, pool: await poolOf(ctx.db, x.plan.committee_org_id),
    groups: [{ groupId: group.id, name: group.name, specialties: group.specialties, count: 1 }], ...(await meetingFacts(ctx, x.plan.id)), taken,
  };
  return record(ctx, u, evaluationId, input, `${it.name}不能参加，补抽`);
}

/** 复核: re-runs every recorded draw of the meeting on its stored input; true when all agree. */
export async function recheck(ctx: AppContext, u: Staff, evaluationId: number): Promise<{ ok: boolean; checked: number } | undefined> {
  const x = await getEvaluation(ctx, u, evaluationId);
  if (!x) return undefined;
  const rows = await ctx.db.selectFrom('expert_draws').select(['input', 'result']).where('evaluation_id', '=', evaluationId).execute();
  const ok = rows.every((r) => JSON.stringify(draw(JSON.parse(r.input) as DrawInput)) === r.result);
  return { ok, checked: rows.length };
}

export const canKeepPool = (u: Staff) => u.orgKind === 'committee' && !isAdmin(u);

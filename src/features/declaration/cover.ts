import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import { isOpen, planCategories, planSeries, windowText } from '../../domain/plans.js';
import { EDITABLE, FINAL, LEVEL_NAMES, majorsConsistent, type Status } from '../../domain/declaration.js';
import { loadProfile } from '../profile/service.js';
import { coverColumns, getPlan, routeFor, type Cover } from './service.js';

// Step 1 of 职称申报: 封面填写 (the committee's plan, level, title, specialty, category).

export interface CoverInput {
  /** 申报年份 chosen first (seed 001 §4.1.1); absent = any year. */
  year?: string;
  plan_id?: string;
  specialty?: string;
  level?: string;
  title?: string;
  category?: string;
}

/**
 * Titles (资格名称) the cover offers for a plan and level, from the titles dictionary: only the
 * plan's series, which is its committee's unless 不限 was chosen on purpose (planSeries). A disabled
 * title or series is not offered, except `keep` (the title the declaration already has).
 */
export async function titleOptions(ctx: AppContext, plan: { series_code: string | null; any_series?: number | null; committee_series?: string | null }, level: string, keep?: string) {
  let q = ctx.db.selectFrom('titles as t').innerJoin('series as s', 's.code', 't.series_code').select(['t.name', 's.name as series', 't.disabled', 's.disabled as series_disabled']).where('t.level', '=', level);
  const series = planSeries(plan, plan.committee_series ?? null);
  if (series) q = q.where('t.series_code', '=', series);
  const rows = await q.orderBy('s.sort').orderBy('t.sort').orderBy('t.id').execute();
  return [...new Set(rows.map((r) => ({ label: `${r.series} - ${r.name}`, off: r.disabled || r.series_disabled })).filter((r) => !r.off || r.label === keep).map((r) => r.label))];
}

/** The title the applicant's latest declaration names (kept on its cover though disabled since). */
export async function currentTitle(ctx: AppContext, userId: number): Promise<string | undefined> {
  const d = await ctx.db.selectFrom('declarations').select('cover').where('user_id', '=', userId).orderBy('id', 'desc').executeTakeFirst();
  try {
    return d ? (JSON.parse(d.cover).title as string | undefined) : undefined;
  } catch {
    return undefined;
  }
}

export async function saveCover(ctx: AppContext, userId: number, input: CoverInput) {
  const errors: Record<string, string> = {};
  const warnings: string[] = [];
  const plan = await getPlan(ctx, Number(input.plan_id));
  if (!plan) errors.plan_id = '请选择评委会';
  else if (!isOpen(plan, ctx.config.now())) errors.plan_id = `该评委会的申报通道未开放或已关闭，请选择开放中的评委会（${windowText(plan)}）`;
  else if (input.year && Number(input.year) !== plan.year) errors.plan_id = `所选评委会不是${input.year}年度的评审计划，请重新选择`;
  const levels = plan ? plan.levels.split(',').filter(Boolean) : [];
  if (!input.level || !levels.includes(input.level)) errors.level = '请选择申报等级';
  const specialties = plan?.specialties ? plan.specialties.split('\n').map((s) => s.trim()).filter(Boolean) : [];
  const specialty = (input.specialty ?? '').trim();
  if (!specialty) errors.specialty = '请选择申报专业';
  else if (specialties.length && !specialties.includes(specialty)) errors.specialty = '请选择该评委会受理的申报专业';
  else if ([...specialty].length > 50) errors.specialty = '申报专业不能超过50个字';
  const title = (input.title ?? '').trim();
  if (plan && input.level && !errors.level) {
    const opts = await titleOptions(ctx, plan, input.level, await currentTitle(ctx, userId));
    if (!title || !opts.includes(title)) errors.title = '请选择申报职称';
  } else if (!title) errors.title = '请选择申报职称';
  const cats = plan ? planCategories(plan) : [];
  const category = cats.find((c) => c.code === input.category);
  if (!category) errors.category = '请选择参评类别';
  if (Object.keys(errors).length || !plan || !category) return { ok: false as const, errors, warnings };

  // The unit decides the route: its problems are the seed's messages, shown before submit.
  const route = await routeFor(ctx, userId, plan);
  if (!route.ok) return { ok: false as const, errors: { route: `${route.error}：${route.detail}` }, warnings };

  const profile = await loadProfile(ctx, userId);
  if (!majorsConsistent(profile.major as string, profile.specialty as string)) {
    const msg = '所学专业和从事专业不一致';
    if (plan.major_mismatch === 'block') return { ok: false as const, errors: { route: `${msg}：该评委会要求所学专业与现从事专业一致，请核对“基本信息”` }, warnings };
    warnings.push(`${msg}，请确认符合该评委会的申报要求`);
  }

  const cover: Cover = {
    year: plan.year, plan_id: plan.id, committee: plan.committee, plan_name: plan.name, specialty,
    level: input.level!, level_name: LEVEL_NAMES[input.level!] ?? input.level!, title, category: category.code, category_name: category.name,
  };
  const stamp = ctx.config.now().toISOString();
  const result = await writeTx(ctx.db, async (trx) => {
    const mine = await trx.selectFrom('declarations').selectAll().where('user_id', '=', userId).where('year', '=', plan.year).orderBy('id', 'desc').execute();
    const samePlan = mine.find((d) => d.plan_id === plan.id);
    if (samePlan && !EDITABLE.includes(samePlan.status as Status)) return { error: '您本年度已申报过该评委会，不能重复申报' };
    // The cover can only change while the declaration is a draft (a reset makes it one again).
    const draft = mine.find((d) => d.status === 'draft');
    if (samePlan?.status === 'returned') return { error: '申报已返回修改：封面信息需由审核部门【重置流程】后方可修改' };
    if (!draft && mine.some((d) => !FINAL.includes(d.status as Status))) return { error: '您本年度已有进行中的申报，不能再新建申报' };
    if (draft) {
      if (samePlan && samePlan.id !== draft.id) return { error: '您本年度已申报过该评委会，不能重复申报' };
      await trx.updateTable('declarations').set({ plan_id: plan.id, cover: JSON.stringify(cover), ...coverColumns(cover), route: JSON.stringify(route.stages), updated_at: stamp }).where('id', '=', draft.id).execute();
      await trx.insertInto('workflow_events').values({ declaration_id: draft.id, actor_user_id: userId, action: 'save_cover', from_status: 'draft', to_status: 'draft', created_at: stamp }).execute();
      return { id: draft.id };
    }
    const row = await trx
      .insertInto('declarations')
      .values({ user_id: userId, plan_id: plan.id, year: plan.year, status: 'draft', cover: JSON.stringify(cover), ...coverColumns(cover), route: JSON.stringify(route.stages), created_at: stamp, updated_at: stamp })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.insertInto('workflow_events').values({ declaration_id: row.id, actor_user_id: userId, action: 'save_cover', from_status: null, to_status: 'draft', created_at: stamp }).execute();
    return { id: row.id };
  });
  if ('error' in result) return { ok: false as const, errors: { plan_id: result.error! }, warnings };
  return { ok: true as const, id: result.id, warnings, route: route.stages };
}

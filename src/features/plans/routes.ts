import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WHO_RULES } from '../../domain/whoMay.js';
import type { AppContext } from '../../context.js';
import { requireUser } from '../../plugins/auth.js';
import { audit } from '../audit/service.js';
import { pageParams, makePage } from '../../lib/paging.js';
import type { FieldErrors } from '../../lib/forms.js';
import { SECTIONS } from '../../domain/sections.js';
import { ANY_SERIES, CATEGORIES, CLOSE_TIME_DEFAULT, LEVELS, windowText, WINDOW_LABEL, daysUntilClose, planCategories, planLevels, windowState } from '../../domain/plans.js';
import { committeeOptions, declarationCount, findPlan, listPlans, planYears, type PlanRecord } from './repository.js';
import { canManagePlans, checkPlan, committeeSeriesOf, computePlanWindow, createPlan, isPlatformAdmin, newPlanValues, planScope, planValues, updatePlan, type PlanFormValues } from './service.js';

/**
 * For /org/plans and /org/notices: staff of a committee office, or a platform admin.
 * Everyone else signed in gets 403; anonymous users go to the login page.
 */
export async function requirePlanManager(req: FastifyRequest, reply: FastifyReply) {
  const r = await requireUser(req, reply);
  if (reply.sent) return r;
  if (!canManagePlans(req.user!)) return reply.code(403).page('errors/error.njk', { title: '无权访问', message: '您没有访问该页面的权限。' }, 403);
}

/** 评审计划: committee offices open their annual plans (申报通道) and set the rules. */
export default async function planRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const crumbs = (last?: string) => [{ label: '评审计划', href: last ? '/org/plans' : undefined }, ...(last ? [{ label: last }] : [])];

  const formPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    data: { plan?: PlanRecord; values: PlanFormValues; errors?: FieldErrors; computed?: string },
  ) => {
    const errors = data.errors ?? {};
    const admin = isPlatformAdmin(req.user!);
    const seriesRows = await ctx.db.selectFrom('series').select(['code', 'name']).orderBy('sort').orderBy('code').execute();
    // 不限 is one more choice, never the default (the empty option says 请选择).
    const series = [...seriesRows, { code: ANY_SERIES, name: '不限（所有系列）' }];
    const ownCommittee = data.plan ? data.plan.committee_org_id : admin ? null : req.user!.orgId;
    const ownSeries = ownCommittee ? await committeeSeriesOf(ctx, ownCommittee) : null;
    const seriesHint = ownSeries
      ? `本评委会评审“${seriesRows.find((s) => s.code === ownSeries)?.name ?? ownSeries}”系列，申报人只能申报该系列的职称；选择“不限”则可申报所有系列的职称`
      : '申报人只能申报所选系列的职称；选择“不限”则可申报所有系列的职称';
    const committees = admin ? (await committeeOptions(ctx.db)).map((c) => ({ code: c.id, name: c.disabled ? `${c.name}（已停用）` : c.name })) : [];
    const decls = data.plan ? await declarationCount(ctx.db, data.plan.id) : 0;
    const state = data.plan ? windowState(data.plan, ctx.config.now()) : null;
    const tier = ownCommittee ? (await ctx.db.selectFrom('orgs').select('committee_tier').where('id', '=', ownCommittee).executeTakeFirst())?.committee_tier : null;
    // The 收审材料日期 calculator is for provincial committees (an admin may pick any committee).
    const provincial = admin || tier === 'province';
    return reply.page(
      'plans/form.njk',
      {
        ...data,
        errors,
        admin,
        series,
        seriesHint,
        committees,
        levels: LEVELS,
        categories: CATEGORIES,
        whoRules: WHO_RULES,
        sections: SECTIONS.map((s) => ({ code: s.key, name: s.title, registryRequired: s.required })),
        decls,
        provincial,
        stateLabel: state ? WINDOW_LABEL[state] : '',
        title: data.plan ? `编辑评审计划：${data.plan.name}` : '新增评审计划',
        breadcrumbs: crumbs(data.plan ? data.plan.name : '新增评审计划'),
      },
      Object.keys(errors).length ? 422 : 200,
    );
  };

  const loadPlan = (req: FastifyRequest) => findPlan(ctx.db, Number((req.params as { id: string }).id), planScope(req.user!));

  app.get('/org/plans', { preHandler: requirePlanManager }, async (req, reply) => {
    const query = req.query as Record<string, string | undefined>;
    const admin = isPlatformAdmin(req.user!);
    const scope = planScope(req.user!);
    const yearNum = Number(query.year);
    const year = Number.isInteger(yearNum) && yearNum >= 2000 && yearNum <= 2100 ? yearNum : null;
    const committees = admin ? await committeeOptions(ctx.db) : [];
    const cNum = Number(query.committee);
    const committee = admin && Number.isInteger(cNum) && committees.some((c) => c.id === cNum) ? cNum : null;
    const { page, size, offset } = pageParams(query);
    const { rows, total } = await listPlans(ctx.db, { committeeOrgId: admin ? committee : scope, year, limit: size, offset });
    const now = ctx.config.now();
    const list = makePage(
      rows.map((r) => {
        const state = windowState(r, now);
        const days = daysUntilClose(r, now);
        return {
          ...r,
          declarations: Number(r.declarations ?? 0),
          state,
          stateLabel: WINDOW_LABEL[state] + (state === 'open' ? (days === 0 ? `（今日${r.closes_time || CLOSE_TIME_DEFAULT}截止）` : `（剩余${days}天）`) : ''),
          window: windowText(r),
          levelNames: planLevels(r).map((l) => l.name).join('、'),
          categoryNames: planCategories(r).map((c) => c.name).join('、'),
        };
      }),
      total, page, size,
    );
    return reply.page('plans/list.njk', {
      list, admin, year: year ?? '', committee: committee ?? '', years: await planYears(ctx.db, admin ? committee : scope),
      committees: committees.map((c) => ({ code: c.id, name: c.name })), title: '评审计划', breadcrumbs: crumbs(),
    });
  });

  app.get('/org/plans/new', { preHandler: requirePlanManager }, async (req, reply) => {
    const u = req.user!;
    let committee: { id: number; series_code: string | null } | undefined;
    if (!isPlatformAdmin(u) && u.orgId) {
      committee = await ctx.db.selectFrom('orgs').select(['id', 'series_code']).where('id', '=', u.orgId).executeTakeFirst();
    }
    return formPage(req, reply, { values: newPlanValues(ctx.config.now(), committee) });
  });

  /** 计算 (a submit button, no JS): re-render the form with the computed window, nothing saved. */
  const compute = async (req: FastifyRequest, reply: FastifyReply, plan?: PlanRecord) => {
    const { values } = await checkPlan(ctx, req.body, { user: req.user!, existing: plan });
    const r = await computePlanWindow(ctx, req.body, { user: req.user!, existing: plan, base: values });
    return formPage(req, reply, { plan, values: r.values, errors: r.errors, computed: r.computed });
  };

  app.post('/org/plans/new', { preHandler: requirePlanManager }, async (req, reply) => {
    if ((req.body as Record<string, unknown> | undefined)?._compute) return compute(req, reply);
    const { values, errors, row } = await checkPlan(ctx, req.body, { user: req.user! });
    if (!row) return formPage(req, reply, { values, errors });
    const id = await createPlan(ctx, row, req.user!.id);
    await audit(ctx, req, { action: 'config_change', objectType: 'plan', objectId: id, detail: `新建评审计划：${row.name}` });
    return reply.flashRedirect(`/org/plans/${id}`, `评审计划“${row.name}”已创建${row.notice ? '，申报通知已发布到通知公告' : ''}`);
  });

  app.get('/org/plans/:id', { preHandler: requirePlanManager }, async (req, reply) => {
    const plan = await loadPlan(req);
    if (!plan) return reply.callNotFound();
    return formPage(req, reply, { plan, values: planValues(plan, await committeeSeriesOf(ctx, plan.committee_org_id)) });
  });

  app.post('/org/plans/:id', { preHandler: requirePlanManager }, async (req, reply) => {
    const plan = await loadPlan(req);
    if (!plan) return reply.callNotFound();
    if ((req.body as Record<string, unknown> | undefined)?._compute) return compute(req, reply, plan);
    const { values, errors, row } = await checkPlan(ctx, req.body, { user: req.user!, existing: plan });
    if (!row) return formPage(req, reply, { plan, values, errors });
    await updatePlan(ctx, plan, row, req.user!.id);
    await audit(ctx, req, { action: 'config_change', objectType: 'plan', objectId: plan.id, detail: `修改评审计划：${row.name}` });
    const published = row.notice && row.notice !== plan.notice;
    return reply.flashRedirect(`/org/plans/${plan.id}`, `评审计划已保存${published ? '，申报通知已发布到通知公告' : ''}`);
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireStaff } from '../../plugins/auth.js';
import { PLEDGE_TEXT, isPrintable } from '../../domain/declaration.js';
import { CHOICE_NAMES, DECISION_NAMES } from '../../domain/meeting.js';
import { ratioText } from '../../domain/evaluation.js';
import { reviewFormModel } from '../../print/reviewForm.js';
import { reviewFormInputs } from '../declaration/formInputs.js';
import { versionOf, type Declaration } from '../declaration/service.js';
import { audit } from '../audit/service.js';
import { canManage, getEvaluation, planInScope } from '../results/service.js';
import * as groups from './groups.js';
import * as voting from './voting.js';
import * as experts from './experts.js';
import { meetingBriefs } from './briefs.js';
import sheetRoutes from './sheets.js';
import { briefsPdf, printProblem } from '../../print/documents.js';
import { attachmentHeader } from '../../lib/xlsx.js';
import { makePage, pageParams } from '../../lib/paging.js';

type Body = Record<string, string | undefined>;
const num = (req: FastifyRequest, k = 'id') => Number((req.params as Record<string, string>)[k]);
const many = (v: unknown): number[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => Number(x));

/** 学科组, online meetings (office) and the members' ballot pages (/vote). */
export default async function meetingRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const staff = { preHandler: requireStaff };
  const forbidden = (reply: FastifyReply) => reply.code(403).page('errors/error.njk', { title: '无权访问', message: '只有评委会办公室和平台管理员可以办理评审会议。' }, 403);
  const office = (req: FastifyRequest) => canManage(req.user!) && !voting.isMember(req.user!);

  await sheetRoutes(app, ctx);

  // ---- 学科组 ----
  async function groupsPage(req: FastifyRequest, reply: FastifyReply, errors: Record<string, string> = {}, values: Body = {}, status = 200) {
    const plan = await planInScope(ctx, req.user!, num(req));
    if (!plan) return reply.callNotFound();
    const full = await ctx.db.selectFrom('plans').select(['pass_ratio', 'reject_ratio', 'min_members']).where('id', '=', plan.id).executeTakeFirstOrThrow();
    const list = await groups.groupsOfPlan(ctx.db, plan.id);
    const decls = await groups.planDeclarations(ctx.db, plan.id);
    const rule = { pass_ratio: values.pass_ratio ?? full.pass_ratio, reject_ratio: values.reject_ratio ?? full.reject_ratio ?? '', min_members: values.min_members ?? (full.min_members === null ? '' : String(full.min_members)) };
    return reply.page('meeting/groups.njk', {
      plan, groups: list, decls, errors, values, rule, title: '学科组',
      breadcrumbs: [{ label: '评审会议', href: '/org/evaluations' }, { label: `${plan.name} · 学科组` }],
    }, status);
  }

  app.get('/org/plans/:id/groups', staff, async (req, reply) => (office(req) ? groupsPage(req, reply) : forbidden(reply)));

  app.post('/org/plans/:id/groups', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const b = (req.body ?? {}) as Body;
    const r = await groups.createGroup(ctx, req.user!, num(req), b);
    if (!r.ok) return r.errors.plan ? reply.callNotFound() : groupsPage(req, reply, r.errors, b, 422);
    return reply.flashRedirect(`/org/plans/${num(req)}/groups`, r.text);
  });

  app.post('/org/plans/:id/groups/assign', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const r = await groups.autoAssign(ctx, req.user!, num(req));
    if (!r.ok) return r.error === '评审计划不存在' ? reply.callNotFound() : reply.flashRedirect(`/org/plans/${num(req)}/groups`, r.error, 'error');
    return reply.flashRedirect(`/org/plans/${num(req)}/groups`, `已按评审专业分组${r.assigned}份${r.unplaced ? `；${r.unplaced}份未能匹配学科组，请手动调整` : ''}`);
  });

  app.post('/org/plans/:id/groups/move', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const b = (req.body ?? {}) as Body;
    const r = await groups.moveDeclaration(ctx, req.user!, num(req), Number(b.declaration_id), Number(b.group_id));
    if (!r.ok) return r.notFound ? reply.callNotFound() : reply.flashRedirect(`/org/plans/${num(req)}/groups#d-${b.declaration_id}`, r.error, 'error');
    return reply.flashRedirect(`/org/plans/${num(req)}/groups#d-${b.declaration_id}`, '已调整分组');
  });

  app.post('/org/plans/:id/groups/recommend', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const b = (req.body ?? {}) as Body;
    const r = await groups.recommend(ctx, req.user!, num(req), Number(b.declaration_id), b);
    if (!r.ok) return r.notFound ? reply.callNotFound() : reply.flashRedirect(`/org/plans/${num(req)}/groups#d-${b.declaration_id}`, r.error, 'error');
    return reply.flashRedirect(`/org/plans/${num(req)}/groups#d-${b.declaration_id}`, '已保存学科组初审意见');
  });

  app.post('/org/plans/:id/vote-rule', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const b = (req.body ?? {}) as Body;
    const r = await groups.saveRule(ctx, req.user!, num(req), b);
    if (!r.ok) return r.errors.plan ? reply.callNotFound() : groupsPage(req, reply, r.errors, b, 422);
    return reply.flashRedirect(`/org/plans/${num(req)}/groups`, r.text);
  });

  // ---- 在线表决会议 (office) ----
  app.post('/org/evaluations/online', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const r = await voting.createOnlineMeeting(ctx, req.user!, (req.body ?? {}) as Body);
    if (!r.ok) return reply.flashRedirect('/org/evaluations', Object.values(r.errors).join('；'), 'error');
    return reply.flashRedirect(`/org/evaluations/${r.id}`, '已创建在线表决会议，请登记评委');
  });

  app.post('/org/evaluations/:id/members', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const b = (req.body ?? {}) as Body;
    const r = await voting.registerMember(ctx, req.user!, num(req), b);
    if (!r.ok) {
      if (r.notFound) return reply.callNotFound();
      return onlinePage(req, reply, { errors: r.errors, values: b }, 422);
    }
    // The initial password is shown once, on this answer (never stored in a flash or a URL).
    if (r.password) return onlinePage(req, reply, { created: { name: r.name, username: (b.username ?? '').trim(), password: r.password } });
    return reply.flashRedirect(`/org/evaluations/${num(req)}`, `已登记评委：${r.name}`);
  });

  app.post('/org/evaluations/:id/rounds', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const r = await voting.openRound(ctx, req.user!, num(req), b.reconsider === '1' ? many(b.decl) : null);
    if (!r.ok) return r.notFound ? reply.callNotFound() : reply.flashRedirect(`/org/evaluations/${num(req)}`, r.error, 'error');
    return reply.flashRedirect(`/org/evaluations/${num(req)}`, `第${r.no}轮${r.no === 1 ? '表决' : '复议'}已开始（${r.count}份申报）`);
  });

  // 结束本轮 cannot be undone: a confirm page first (the page's button is a link to it).
  app.get('/org/evaluations/:id/rounds/close', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const x = await getEvaluation(ctx, req.user!, num(req));
    if (!x || x.e.mode !== 'online') return reply.callNotFound();
    const open = (await voting.roundsOf(ctx.db, x.e.id)).find((r) => !r.closed_at);
    if (!open) return reply.flashRedirect(`/org/evaluations/${x.e.id}`, '当前没有进行中的表决', 'error');
    return reply.page('components/confirm.njk', {
      title: '结束本轮表决', message: `确定结束第${open.no}轮${open.no === 1 ? '表决' : '复议'}吗？结束后评委不能再投票，系统按评审计划的通过比例计算结果；结束后不能重新开放本轮。`,
      action: `/org/evaluations/${x.e.id}/rounds/close`, cancel: `/org/evaluations/${x.e.id}#round-${open.no}`, confirmLabel: '确认结束本轮表决',
    });
  });

  app.post('/org/evaluations/:id/rounds/close', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const r = await voting.closeRound(ctx, req.user!, num(req));
    if (!r.ok) return r.notFound ? reply.callNotFound() : reply.flashRedirect(`/org/evaluations/${num(req)}`, r.error, 'error');
    return reply.flashRedirect(`/org/evaluations/${num(req)}`, `第${r.no}轮表决已结束，结果已计算`);
  });

  async function onlinePage(req: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200) {
    const x = await getEvaluation(ctx, req.user!, num(req));
    if (!x || x.e.mode !== 'online') return reply.callNotFound();
    return reply.page('meeting/online.njk', await onlineModel(ctx, x, extra), status);
  }

  // ---- 评委专家库 and 评委抽取 ----
  async function expertsPage(req: FastifyRequest, reply: FastifyReply, errors: Record<string, string> = {}, values: Body = {}, status = 200) {
    const committee = req.user!.orgId!;
    const { page, size, offset } = pageParams(req.query, 20);
    const rows = await experts.expertsOf(ctx.db, committee, size, offset);
    const list = makePage(rows, await experts.expertCount(ctx.db, committee), page, size);
    return reply.page('meeting/experts.njk', { list, errors, values, title: '评委专家库', breadcrumbs: [{ label: '评委专家库' }] }, status);
  }
  app.get('/org/experts', staff, async (req, reply) => (office(req) && experts.canKeepPool(req.user!) ? expertsPage(req, reply) : forbidden(reply)));
  app.post('/org/experts', staff, async (req, reply) => {
    if (!office(req) || !experts.canKeepPool(req.user!)) return forbidden(reply);
    const b = (req.body ?? {}) as Body;
    const r = await experts.addExpert(ctx, req.user!, b);
    if (!r.ok) return expertsPage(req, reply, r.errors, b, 422);
    return reply.flashRedirect('/org/experts', `已加入评委专家库：${(b.name ?? '').trim()}`);
  });

  const drawBack = (req: FastifyRequest) => `/org/evaluations/${num(req)}#draw`;
  app.post('/org/evaluations/:id/draw', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const r = await experts.runDraw(ctx, req.user!, num(req), (req.body ?? {}) as Body);
    if (!r.ok) return r.notFound ? reply.callNotFound() : reply.flashRedirect(drawBack(req), r.error, 'error');
    return reply.flashRedirect(drawBack(req), `已抽取评委${r.result.picks.length}人${r.result.shortfalls.length ? `；${r.result.shortfalls.join('；')}` : ''}`, r.result.shortfalls.length ? 'error' : 'ok');
  });
  app.get('/org/evaluations/:id/draw/:expertId/decline', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const x = await getEvaluation(ctx, req.user!, num(req));
    if (!x || x.e.mode !== 'online') return reply.callNotFound();
    const pick = (await experts.drawsOf(ctx.db, x.e.id)).drawn.find((p) => p.expert_id === num(req, 'expertId') && !p.declined);
    if (!pick) return reply.callNotFound();
    return reply.page('components/confirm.njk', {
      title: '专家不能参加，补抽', message: `确定将“${pick.name}”（${pick.unit}，${pick.group_name}）记为不能参加并从评委专家库补抽1人吗？记为不能参加后不能撤销。`,
      action: `/org/evaluations/${x.e.id}/draw/${pick.expert_id}/decline`, cancel: drawBack(req), confirmLabel: '确认补抽',
    });
  });
  app.post('/org/evaluations/:id/draw/:expertId/decline', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const r = await experts.declineAndReplace(ctx, req.user!, num(req), num(req, 'expertId'));
    if (!r.ok) return r.notFound ? reply.callNotFound() : reply.flashRedirect(drawBack(req), r.error, 'error');
    return reply.flashRedirect(drawBack(req), r.result.picks.length ? '已补抽1人' : `未能补抽：${r.result.shortfalls.join('；')}`, r.result.picks.length ? 'ok' : 'error');
  });
  app.post('/org/evaluations/:id/draw/check', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const r = await experts.recheck(ctx, req.user!, num(req));
    if (!r) return reply.callNotFound();
    return reply.flashRedirect(drawBack(req), r.ok ? `复核一致：按记录的随机种子重新抽取${r.checked}次，结果与记录相同` : '复核不一致：抽取记录与重新计算的结果不同', r.ok ? 'ok' : 'error');
  });

  // ---- 评审简表: the batch of a meeting in queue order (preview and PDF, one template) ----
  app.get('/org/evaluations/:id/briefs', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const x = await getEvaluation(ctx, req.user!, num(req));
    if (!x) return reply.callNotFound();
    const html = await reply.viewAsync('print/brief.njk', { title: x.plan.name, briefs: await meetingBriefs(ctx, x.plan.id), fontFamily: 'serif' });
    return reply.type('text/html; charset=utf-8').send(html);
  });
  app.get('/org/evaluations/:id/briefs.pdf', staff, async (req, reply) => {
    if (!office(req)) return forbidden(reply);
    const x = await getEvaluation(ctx, req.user!, num(req));
    if (!x) return reply.callNotFound();
    const briefs = await meetingBriefs(ctx, x.plan.id);
    const r = await briefsPdf(ctx, reply, x.plan.name, briefs);
    if (r.kind !== 'ok') return printProblem(req, reply, r, `/org/evaluations/${x.e.id}/briefs`);
    await audit(ctx, req, { action: 'export', objectType: 'evaluation', objectId: x.e.id, detail: `评审简表 PDF（${briefs.length}份）` });
    return reply
      .header('Content-Type', 'application/pdf')
      .header('Content-Disposition', attachmentHeader(`评审简表-${x.e.meeting_date}.pdf`, `briefs-${x.e.id}.pdf`))
      .header('Cache-Control', 'no-store')
      .send(r.pdf);
  });

  // ---- 评委 (members) ----
  const member = { preHandler: requireStaff };
  const notMember = (reply: FastifyReply) => reply.code(403).page('errors/error.njk', { title: '无权访问', message: '只有登记参加评审会议的评委可以投票。' }, 403);

  app.get('/vote', member, async (req, reply) => {
    if (!voting.isMember(req.user!)) return notMember(reply);
    const rows = await voting.memberMeetings(ctx.db, req.user!.id);
    return reply.page('meeting/member-home.njk', { rows, title: '评审表决', breadcrumbs: [{ label: '评审表决' }] });
  });

  async function ballotPage(req: FastifyRequest, reply: FastifyReply, error: string | null = null, posted: Record<string, unknown> = {}, status = 200) {
    const b = await voting.ballot(ctx, req.user!.id, num(req));
    if (!b) return reply.callNotFound();
    return reply.page('meeting/ballot.njk', { ...b, error, posted, choices: CHOICE_NAMES, title: '评审表决', breadcrumbs: [{ label: '评审表决', href: '/vote' }, { label: b.m.plan_name }] }, status);
  }

  app.get('/vote/:id', member, async (req, reply) => (voting.isMember(req.user!) ? ballotPage(req, reply) : notMember(reply)));

  app.post('/vote/:id', member, async (req, reply) => {
    if (!voting.isMember(req.user!)) return notMember(reply);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const r = await voting.castBallots(ctx, req.user!, num(req), body, req.ip);
    if (!r.ok) return r.notFound ? reply.callNotFound() : ballotPage(req, reply, r.error, body, 422);
    return reply.flashRedirect(`/vote/${num(req)}`, `已投票${r.cast}份（投票不记名，提交后不能修改）`);
  });

  // The full review form of a declaration in the member's group (read-only preview).
  app.get('/vote/:id/d/:declId', member, async (req, reply) => {
    if (!voting.isMember(req.user!)) return notMember(reply);
    const declId = num(req, 'declId');
    if (!(await voting.memberMayRead(ctx.db, req.user!.id, num(req), declId))) return reply.callNotFound();
    const d = (await ctx.db.selectFrom('declarations').selectAll().where('id', '=', declId).executeTakeFirstOrThrow()) as Declaration;
    const v = await versionOf(ctx, d);
    if (!v) return reply.callNotFound();
    const inputs = await reviewFormInputs(ctx, d, {});
    const form = reviewFormModel(v.snapshot, { ...inputs, today: v.created_at.slice(0, 10), preview: !isPrintable(d.status), pledge: PLEDGE_TEXT });
    await audit(ctx, req, { action: 'meeting_read', objectType: 'declaration', objectId: d.id, detail: `评委查阅申报评审表（会议 ${num(req)}）` });
    return reply.page('meeting/member-form.njk', { form, photoUrl: '', loadFormCss: true, back: `/vote/${num(req)}`, title: '申报评审表', breadcrumbs: [{ label: '评审表决', href: '/vote' }, { label: '申报评审表' }] });
  });
}

/** The office's page of an online meeting (also rendered by GET /org/evaluations/:id). */
export async function onlineModel(ctx: AppContext, x: NonNullable<Awaited<ReturnType<typeof getEvaluation>>>, extra: Record<string, unknown> = {}) {
  const view = await voting.officeView(ctx, x.e.id, x.plan.id);
  const groupList = await groups.groupsOfPlan(ctx.db, x.plan.id);
  const rule = view.rule;
  return {
    e: x.e, plan: x.plan, ...view, groups: groupList, draw: await experts.drawsOf(ctx.db, x.e.id), decisions: DECISION_NAMES, errors: {}, values: {},
    ruleText: `同意票数 ≥ 实到人数的 ${ratioText(rule.pass)}${rule.reject ? `；不同意票数 ≥ 实到人数的 ${ratioText(rule.reject)} 为否决` : ''}${rule.minMembers ? `；参加表决的评委少于 ${rule.minMembers} 人的表决无效` : ''}`,
    title: '评审会议', breadcrumbs: [{ label: '评审会议', href: '/org/evaluations' }, { label: `${x.e.meeting_date} 在线表决` }],
    ...extra,
  };
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireUser } from '../../plugins/auth.js';
import { pageParams, makePage } from '../../lib/paging.js';
import type { FieldErrors } from '../../lib/forms.js';
import { WINDOW_LABEL, windowState } from '../../domain/plans.js';
import { planChoices, findPlan } from '../plans/repository.js';
import { isPlatformAdmin } from '../plans/service.js';
import { requirePlanManager } from '../plans/routes.js';
import {
  BODY_MAX, TITLE_MAX, checkNotice, createNotice, deleteNotice, findOrgNotice, findPublished, listOrgNotices, listPublished, markRead,
  newestPlanNotice, planNoticeTitle, updateNotice, type NoticeForm,
} from './service.js';
import { audit } from '../audit/service.js';
import { sendStoredFile } from '../files/send.js';
import { noticeFileRoutes, noticeFiles } from './files.js';

/**
 * 通知公告: /notices for every signed-in user (read, unread marked); /org/notices for the
 * publishing org (committee offices: their own; platform admins: the platform's).
 */
export default async function noticeRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  // ---- reading ------------------------------------------------------------------------
  app.get('/notices', { preHandler: requireUser }, async (req, reply) => {
    const { page, size, offset } = pageParams(req.query);
    const { rows, total } = await listPublished(ctx, req.user!.id, size, offset);
    return reply.page('notices/list.njk', { list: makePage(rows, total, page, size), title: '通知公告', breadcrumbs: [{ label: '通知公告' }] });
  });

  app.get('/notices/:id', { preHandler: requireUser }, async (req, reply) => {
    const notice = await findPublished(ctx, Number((req.params as { id: string }).id));
    if (!notice) return reply.callNotFound();
    await markRead(ctx, notice.id, req.user!.id);
    const state = notice.opens_at && notice.closes_at ? windowState({ opens_at: notice.opens_at, closes_at: notice.closes_at, opens_time: notice.opens_time, closes_time: notice.closes_time }, ctx.config.now()) : null;
    return reply.page('notices/detail.njk', {
      notice, stateLabel: state ? WINDOW_LABEL[state] : '', title: notice.title, files: await noticeFiles(ctx.db, notice.id),
      breadcrumbs: [{ label: '通知公告', href: '/notices' }, { label: '通知详情' }],
    });
  });

  // 通知附件: a download (Content-Disposition attachment), for whoever may read the notice.
  app.get('/notices/:id/files/:fileId', { preHandler: requireUser }, async (req, reply) => {
    const p = req.params as { id: string; fileId: string };
    const notice = await findPublished(ctx, Number(p.id));
    if (!notice) return reply.callNotFound();
    const f = (await noticeFiles(ctx.db, notice.id)).find((x) => x.id === Number(p.fileId));
    if (!f) return reply.callNotFound();
    await audit(ctx, req, { action: 'file_download', objectType: 'notice', objectId: notice.id, detail: `通知附件 ${f.id}` });
    return sendStoredFile(req, reply, ctx.blobs, f, true);
  });

  // A plan's 申报通知 (linked from the applicant's 开评评委会 list): its newest linked notice,
  // or the plan's own text when no notice is published for it.
  app.get('/notices/plan/:planId', { preHandler: requireUser }, async (req, reply) => {
    const planId = Number((req.params as { planId: string }).planId);
    const id = await newestPlanNotice(ctx, planId);
    if (id) return reply.code(303).header('Location', `/notices/${id}`).send();
    const plan = await findPlan(ctx.db, planId, null);
    if (!plan || !plan.notice) return reply.callNotFound();
    const org = await ctx.db.selectFrom('orgs').select('name').where('id', '=', plan.committee_org_id).executeTakeFirst();
    return reply.page('notices/detail.njk', {
      notice: { title: planNoticeTitle(plan.name), body: plan.notice, org: org?.name ?? '', published_at: plan.updated_at ?? plan.created_at, plan_name: plan.name, opens_at: plan.opens_at, closes_at: plan.closes_at, opens_time: plan.opens_time, closes_time: plan.closes_time },
      stateLabel: WINDOW_LABEL[windowState(plan, ctx.config.now())], title: planNoticeTitle(plan.name),
      breadcrumbs: [{ label: '通知公告', href: '/notices' }, { label: '申报通知' }],
    });
  });

  // ---- publishing ---------------------------------------------------------------------
  const orgOf = (req: FastifyRequest) => req.user!.orgId ?? -1;
  const plansFor = async (req: FastifyRequest) => {
    const admin = isPlatformAdmin(req.user!);
    const rows = await planChoices(ctx.db, admin ? null : orgOf(req));
    return rows.map((p) => ({ code: p.id, name: admin ? `${p.committee} · ${p.name}` : `${p.name}（${p.year}年度）` }));
  };
  const crumbs = (last?: string) => [{ label: '通知公告管理', href: last ? '/org/notices' : undefined }, ...(last ? [{ label: last }] : [])];

  const formPage = async (req: FastifyRequest, reply: FastifyReply, data: { notice?: { id: number; title: string }; values: Record<string, unknown>; errors?: FieldErrors }) => {
    const errors = data.errors ?? {};
    const values = { title: '', body: '', ...data.values, plan_id: data.values.plan_id ?? '' };
    return reply.page(
      'notices/form.njk',
      { ...data, values, errors, files: data.notice ? await noticeFiles(ctx.db, data.notice.id) : [], plans: await plansFor(req), titleMax: TITLE_MAX, bodyMax: BODY_MAX, title: data.notice ? '编辑通知' : '发布通知', breadcrumbs: crumbs(data.notice ? data.notice.title : '发布通知') },
      Object.keys(errors).length ? 422 : 200,
    );
  };

  const planIds = async (req: FastifyRequest) => (await plansFor(req)).map((p) => p.code);
  const raw = (body: unknown) => {
    const b = (body ?? {}) as Record<string, unknown>;
    const s = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
    return { title: s('title').trim(), body: s('body'), plan_id: s('plan_id') };
  };

  app.get('/org/notices', { preHandler: requirePlanManager }, async (req, reply) => {
    const { page, size, offset } = pageParams(req.query);
    const { rows, total } = await listOrgNotices(ctx, orgOf(req), size, offset);
    return reply.page('notices/manage.njk', {
      list: makePage(rows.map((r) => ({ ...r, reads: Number(r.reads ?? 0) })), total, page, size), title: '通知公告管理', breadcrumbs: crumbs(),
    });
  });

  app.get('/org/notices/new', { preHandler: requirePlanManager }, async (req, reply) => {
    const q = Number((req.query as Record<string, string | undefined>).plan);
    return formPage(req, reply, { values: { plan_id: (await planIds(req)).includes(q) ? q : '' } });
  });

  app.post('/org/notices/new', { preHandler: requirePlanManager }, async (req, reply) => {
    const { values, errors } = checkNotice(req.body, await planIds(req));
    if (Object.keys(errors).length) return formPage(req, reply, { values: raw(req.body), errors });
    const id = await createNotice(ctx, orgOf(req), req.user!.id, values as Required<Pick<NoticeForm, 'title' | 'body'>> & NoticeForm);
    await audit(ctx, req, { action: 'notice_publish', objectType: 'notice', objectId: id });
    return reply.flashRedirect(`/org/notices/${id}`, '通知已发布');
  });

  app.get('/org/notices/:id', { preHandler: requirePlanManager }, async (req, reply) => {
    const n = await findOrgNotice(ctx, orgOf(req), Number((req.params as { id: string }).id));
    if (!n) return reply.callNotFound();
    return formPage(req, reply, { notice: n, values: { title: n.title, body: n.body, plan_id: n.plan_id ?? '' } });
  });

  // The upload and removal of its files: their own multipart scope (files.ts).
  await app.register(noticeFileRoutes, { ctx });

  app.get('/org/notices/:id/files/:aid/delete', { preHandler: requirePlanManager }, async (req, reply) => {
    const n = await findOrgNotice(ctx, orgOf(req), Number((req.params as { id: string }).id));
    const f = n ? (await noticeFiles(ctx.db, n.id)).find((x) => x.attachment_id === Number((req.params as { aid: string }).aid)) : undefined;
    if (!n || !f) return reply.callNotFound();
    return reply.page('components/confirm.njk', {
      title: '删除附件', message: `确定删除通知“${n.title}”的附件“${f.name}”吗？`, action: `/org/notices/${n.id}/files/${f.attachment_id}/delete`, cancel: `/org/notices/${n.id}#files`, confirmLabel: '确认删除',
      breadcrumbs: crumbs('删除附件'),
    });
  });

  app.post('/org/notices/:id', { preHandler: requirePlanManager }, async (req, reply) => {
    const n = await findOrgNotice(ctx, orgOf(req), Number((req.params as { id: string }).id));
    if (!n) return reply.callNotFound();
    const { values, errors } = checkNotice(req.body, await planIds(req));
    if (Object.keys(errors).length) return formPage(req, reply, { notice: n, values: raw(req.body), errors });
    await updateNotice(ctx, n.id, orgOf(req), values as Required<Pick<NoticeForm, 'title' | 'body'>> & NoticeForm);
    await audit(ctx, req, { action: 'notice_update', objectType: 'notice', objectId: n.id });
    return reply.flashRedirect(`/org/notices/${n.id}`, '通知已保存');
  });

  app.get('/org/notices/:id/delete', { preHandler: requirePlanManager }, async (req, reply) => {
    const n = await findOrgNotice(ctx, orgOf(req), Number((req.params as { id: string }).id));
    if (!n) return reply.callNotFound();
    return reply.page('components/confirm.njk', {
      title: '删除通知', message: `确定删除通知“${n.title}”吗？删除后申报人将无法再查看，且无法恢复。`, detail: n.body,
      action: `/org/notices/${n.id}/delete`, cancel: `/org/notices/${n.id}`, confirmLabel: '确认删除',
      breadcrumbs: crumbs('删除通知'),
    });
  });

  app.post('/org/notices/:id/delete', { preHandler: requirePlanManager }, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const ok = await deleteNotice(ctx, id, orgOf(req));
    if (!ok) return reply.callNotFound();
    await audit(ctx, req, { action: 'notice_delete', objectType: 'notice', objectId: id });
    return reply.flashRedirect('/org/notices', '通知已删除');
  });
}

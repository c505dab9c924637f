import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { refuseWithoutDuty, requireStaff } from '../../plugins/auth.js';
import { makePage, pageParams } from '../../lib/paging.js';
import { SERVICE_STATUS_TEXT, refuseError } from '../../domain/certServices.js';
import { audit } from '../audit/service.js';
import { sendStoredFile } from '../files/send.js';
import * as svc from './service.js';

const idOf = (req: FastifyRequest) => Number((req.params as { id: string }).id);
const crumbs = (...items: { label: string; href?: string }[]) => [{ label: '首页', href: '/org' }, { label: '证书服务', href: '/org/cert-services' }, ...items];

/**
 * The office's side (/org/cert-services): the requests addressed to it (an HR bureau: 外地调入确认
 * and the replacements of its recognitions; a committee office: the replacements of its
 * certificates), 确认 after a confirmation page, 不予确认 with its reason. Someone else's id: 404.
 * The duty: 证书管理 where the organisation has it (committee offices, the platform), else 资格审查经办.
 */
export default async function certServiceStaffRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const guard = {
    preHandler: async (req: FastifyRequest, reply: FastifyReply) => {
      await requireStaff(req, reply);
      if (reply.sent) return reply;
      const duty = req.user!.orgKind === 'committee' || req.user!.orgKind === 'platform' ? 'certificate' : 'review';
      if (await refuseWithoutDuty(req, reply, duty)) return reply;
    },
  };

  app.get('/org/cert-services', guard, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const { page, size, offset } = pageParams(q, 20);
    const { rows, total } = await svc.officeList(ctx.db, req.user!, q.status, size, offset);
    return reply.page('certservices/staff-list.njk', {
      title: '证书服务', list: makePage(rows.map((s) => ({ ...s, statusText: svc.statusText(s), kindText: svc.KIND_TEXT[s.kind] })), total, page, size),
      todo: await svc.officeTodo(ctx.db, req.user!.orgId), statuses: Object.entries(SERVICE_STATUS_TEXT).map(([code, name]) => ({ code, name })), query: { status: q.status ?? '' },
      breadcrumbs: [{ label: '首页', href: '/org' }, { label: '证书服务' }],
    });
  });

  async function detailPage(req: FastifyRequest, reply: FastifyReply, s: svc.ServiceRow, errors: Record<string, string> = {}, values: Record<string, string> = {}, status = 200) {
    return reply.page('certservices/detail.njk', {
      title: `${svc.KIND_TEXT[s.kind]} - ${s.name}`, s, statusText: svc.statusText(s), kindText: svc.KIND_TEXT[s.kind], files: await svc.filesOf(ctx.db, s), slots: svc.SLOTS,
      mine: false, open: s.status === 'office', errors, values, fileHref: (f: { id: number }) => `/org/cert-services/${s.id}/files/${f.id}`,
      breadcrumbs: crumbs({ label: s.name }),
    }, status);
  }

  app.get('/org/cert-services/:id', guard, async (req, reply) => {
    const s = await svc.officeService(ctx.db, req.user!, idOf(req));
    if (!s) return reply.callNotFound();
    return detailPage(req, reply, s);
  });

  app.get('/org/cert-services/:id/files/:fileId', guard, async (req, reply) => {
    const s = await svc.officeService(ctx.db, req.user!, idOf(req));
    if (!s) return reply.callNotFound();
    const fileId = Number((req.params as { fileId: string }).fileId);
    const f = (await svc.filesOf(ctx.db, s)).find((x) => x.id === fileId);
    if (!f) return reply.callNotFound();
    await audit(ctx, req, { action: 'file_download', objectType: 'file', objectId: f.id, detail: `证书服务 ${s.id}` });
    return sendStoredFile(req, reply, ctx.blobs, f, (req.query as Record<string, string>).download === '1');
  });

  // 确认: a confirmation page first (the certificate is issued at once and cannot be taken back).
  app.get('/org/cert-services/:id/confirm', guard, async (req, reply) => {
    const s = await svc.officeService(ctx.db, req.user!, idOf(req));
    if (!s) return reply.callNotFound();
    if (s.status !== 'office') return reply.flashRedirect(`/org/cert-services/${s.id}`, '该申请已办结，不能重复处理', 'error');
    const message = s.kind === 'reissue'
      ? `确定为${s.name}补办证书吗？将发放新证书，原证书（${s.orig_number}）作废，核验时显示为“已补办”。`
      : `确定确认${s.name}的外地职称证书（${s.orig_number}，${s.orig_issuer}）吗？确认后发放本系统证书并记入其“现有职称情况”。`;
    return reply.page('components/confirm.njk', {
      title: s.kind === 'reissue' ? '确认补办' : '确认职称资格', message, action: `/org/cert-services/${s.id}/confirm`, cancel: `/org/cert-services/${s.id}`, confirmLabel: '确认',
      breadcrumbs: crumbs({ label: s.name, href: `/org/cert-services/${s.id}` }, { label: '确认' }),
    });
  });

  for (const action of ['confirm', 'refuse'] as const) {
    app.post(`/org/cert-services/:id/${action}`, guard, async (req, reply) => {
      const s = await svc.officeService(ctx.db, req.user!, idOf(req));
      if (!s) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      const reason = svc.str(body.reason);
      if (action === 'refuse' && svc.str(body.confirmed) !== '1') {
        // A confirmation page that carries the typed reason (no JavaScript needed).
        if (s.status !== 'office') return reply.flashRedirect(`/org/cert-services/${s.id}`, '该申请已办结，不能重复处理', 'error');
        const e = refuseError(reason);
        if (e) return detailPage(req, reply, s, { reason: e }, { reason }, 422);
        return reply.page('certservices/confirm-refuse.njk', {
          title: s.kind === 'reissue' ? '不予补办' : '不予确认', message: `确定对${s.name}的申请作出“${s.kind === 'reissue' ? '不予补办' : '不予确认'}”吗？申请人将收到以下理由：`, reason,
          action: `/org/cert-services/${s.id}/refuse`, cancel: `/org/cert-services/${s.id}`, breadcrumbs: crumbs({ label: s.name, href: `/org/cert-services/${s.id}` }, { label: '不予通过' }),
        });
      }
      const r = await svc.decide(ctx, req.user!, s, action, reason, req.ip);
      if (!r.ok) {
        if (r.field) return detailPage(req, reply, s, { [r.field]: r.error }, { reason }, 422);
        return reply.flashRedirect(`/org/cert-services/${s.id}`, r.error, 'error');
      }
      return reply.flashRedirect(`/org/cert-services/${s.id}`, action === 'confirm' ? `已确认，证书编号：${r.number}` : '已不予确认，申请人将收到理由');
    });
  }
}

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireApplicant, requireStaff } from '../../plugins/auth.js';
import { registerUploads, UPLOAD_ROUTE } from '../../lib/multipart.js';
import { audit } from '../audit/service.js';
import { sendStoredFile } from '../files/send.js';
import { sizeMessage, EMPTY_MESSAGE } from '../files/service.js';
import { uploadFormLimits, uploadTmpDir } from '../files/routes.js';
import { cancelSupplement, ownSupplementFile, removeSupplementFile, requestSupplement, supplementFileForStaff, supplementsOf, uploadSupplement } from './service.js';
import { visibleDeclaration } from '../review/service.js';

/** 补充材料: the stage asks (/org/reviews/:id), the applicant uploads (/me/declaration). */
export default async function supplementRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const readForm = await registerUploads(app, { tmpDir: uploadTmpDir(ctx) });

  app.post('/org/reviews/:id/supplements', { preHandler: requireStaff }, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const r = await requestSupplement(ctx, req.user!, id, { items: String(b.items ?? ''), note: String(b.note ?? '') }, req);
    if (!r.ok) {
      if (r.status === 404) return reply.callNotFound();
      return reply.flashRedirect(`/org/reviews/${id}#supplement`, r.error, 'error');
    }
    return reply.flashRedirect(`/org/reviews/${id}#supplements`, '已要求申报人补充材料（申报仍在本环节审核，不计入返回修改次数）');
  });

  // 撤销补充材料要求: a confirmation page, then the POST (the stage that asked, while still open).
  app.get('/org/reviews/:id/supplements/:rid/cancel', { preHandler: requireStaff }, async (req, reply) => {
    const p = req.params as { id: string; rid: string };
    const d = await visibleDeclaration(ctx, req.user!, Number(p.id));
    const s = d ? (await supplementsOf(ctx, d.id)).find((x) => x.id === Number(p.rid) && x.org_id === req.user!.orgId) : undefined;
    if (!d || !s) return reply.callNotFound();
    if (s.submitted_at || s.cancelled_at) return reply.flashRedirect(`/org/reviews/${d.id}#supplements`, s.cancelled_at ? '该补充材料要求已撤销' : '申报人已全部上传，不能撤销', 'error');
    return reply.page('components/confirm.njk', {
      title: '撤销补充材料要求', message: `确定撤销于 ${s.created_at.slice(0, 10)} 要求的补充材料吗？申报人将不必再上传，已上传的文件保留在记录中。`,
      detail: s.items.map((i) => i.label).join('、'), action: `/org/reviews/${d.id}/supplements/${s.id}/cancel`, cancel: `/org/reviews/${d.id}#supplements`, confirmLabel: '确认撤销',
    });
  });

  app.post('/org/reviews/:id/supplements/:rid/cancel', { preHandler: requireStaff }, async (req, reply) => {
    const p = req.params as { id: string; rid: string };
    const r = await cancelSupplement(ctx, req.user!, Number(p.id), Number(p.rid), req);
    if (!r.ok && r.status === 404) return reply.callNotFound();
    return r.ok ? reply.flashRedirect(`/org/reviews/${p.id}#supplements`, '已撤销补充材料要求') : reply.flashRedirect(`/org/reviews/${p.id}#supplements`, r.error, 'error');
  });

  app.get('/org/reviews/:id/supplements/:fileId', { preHandler: requireStaff }, async (req, reply) => {
    const p = req.params as { id: string; fileId: string };
    const f = await supplementFileForStaff(ctx, req.user!, Number(p.id), Number(p.fileId));
    if (!f) return reply.callNotFound();
    await audit(ctx, req, { action: 'file_download', objectType: 'file', objectId: f.id, detail: `申报 ${p.id} 补充材料` });
    return sendStoredFile(req, reply, ctx.blobs, f, (req.query as Record<string, string>).download === '1');
  });

  // A wrong file is removed while the request is open: a confirmation page, then the POST.
  app.get('/me/supplements/:id/:item/files/:fileId/remove', { preHandler: requireApplicant }, async (req, reply) => {
    const p = req.params as { id: string; item: string; fileId: string };
    const f = await ownSupplementFile(ctx, req.user!.id, Number(p.id), p.item, Number(p.fileId));
    if (!f) return reply.callNotFound();
    return reply.page('components/confirm.njk', {
      title: '删除补充材料', message: `确定删除“${f.item.label}”的文件“${f.name}”吗？删除后可重新上传。`,
      action: `/me/supplements/${f.request.id}/${f.item.key}/files/${f.fileId}/remove`, cancel: '/me/declaration#supplements', confirmLabel: '确认删除',
    });
  });

  app.post('/me/supplements/:id/:item/files/:fileId/remove', { preHandler: requireApplicant }, async (req, reply) => {
    const p = req.params as { id: string; item: string; fileId: string };
    const r = await removeSupplementFile(ctx, req.user!.id, Number(p.id), p.item, Number(p.fileId), req);
    if (!r.ok && r.status === 404) return reply.callNotFound();
    return r.ok ? reply.flashRedirect('/me/declaration#supplements', '已删除，请重新上传正确的文件') : reply.flashRedirect('/me/declaration#supplements', r.error, 'error');
  });

  // One named item, one file (the CSRF token first, then `file`).
  app.post('/me/supplements/:id/:item', { ...UPLOAD_ROUTE, preHandler: requireApplicant }, async (req, reply) => {
    const p = req.params as { id: string; item: string };
    const back = '/me/declaration#supplements';
    const refuse = (m: string) => reply.flashRedirect(back, m, 'error');
    if (!req.isMultipart()) return refuse(EMPTY_MESSAGE);
    const form = await readForm(req, uploadFormLimits(ctx, 'doc'), { total: sizeMessage(ctx, 'doc') });
    if (!form.ok) return refuse(form.error);
    if (form.tooLarge.length) return refuse(sizeMessage(ctx, 'doc'));
    const file = form.files.file;
    if (!file) return refuse(EMPTY_MESSAGE);
    const r = await uploadSupplement(ctx, req.user!.id, Number(p.id), p.item, file, req);
    if (!r.ok) return r.status === 404 ? reply.callNotFound() : refuse(r.error);
    return reply.flashRedirect(back, r.complete ? '补充材料已全部上传，审核部门可以查看' : '上传成功');
  });
}

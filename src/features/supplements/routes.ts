import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireApplicant, requireStaff } from '../../plugins/auth.js';
import { registerUploads, UPLOAD_ROUTE } from '../../lib/multipart.js';
import { audit } from '../audit/service.js';
import { sendStoredFile } from '../files/send.js';
import { sizeMessage, EMPTY_MESSAGE } from '../files/service.js';
import { uploadFormLimits, uploadTmpDir } from '../files/routes.js';
import { requestSupplement, supplementFileForStaff, uploadSupplement } from './service.js';

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

  app.get('/org/reviews/:id/supplements/:fileId', { preHandler: requireStaff }, async (req, reply) => {
    const p = req.params as { id: string; fileId: string };
    const f = await supplementFileForStaff(ctx, req.user!, Number(p.id), Number(p.fileId));
    if (!f) return reply.callNotFound();
    await audit(ctx, req, { action: 'file_download', objectType: 'file', objectId: f.id, detail: `申报 ${p.id} 补充材料` });
    return sendStoredFile(req, reply, ctx.blobs, f, (req.query as Record<string, string>).download === '1');
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

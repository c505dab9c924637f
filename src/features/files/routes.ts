import { sendStoredFile } from './send.js';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { registerUploads, requestBudget, UPLOAD_ROUTE, type FormLimits } from '../../lib/multipart.js';
import type { AppContext } from '../../context.js';
import { requireApplicant } from '../../plugins/auth.js';
import { audit } from '../audit/service.js';
import {
  attach, deleteAttachment, discardFile, downloadName, getAttachment, getOwnFile, maxBytes, resolveSlot, sizeMessage,
  storeFile, EMPTY_MESSAGE, type FileKind, type OwnerType,
} from './service.js';
import { lockedForApplicant } from '../recognition/queries.js';

type Query = Record<string, string | undefined>;

/** A same-site path to return to: starts with one '/', no backslash or control characters. */
export function safeBack(raw: unknown, def = '/me'): string {
  if (typeof raw !== 'string' || raw.length > 500) return def;
  if (!raw.startsWith('/') || raw.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(raw)) return def;
  return raw;
}

export { contentDisposition } from './send.js';

/** Where uploads are streamed before they are checked (same file system as the blobs). */
export function uploadTmpDir(ctx: AppContext): string {
  return path.join(ctx.config.uploadDir, 'tmp');
}

/** The single-file upload form of a slot: `file` only, no text fields. */
export function uploadFormLimits(ctx: AppContext, kind: FileKind): FormLimits {
  const files = { file: maxBytes(ctx, kind) };
  return { files, fields: 2, fieldBytes: 1000, totalBytes: requestBudget(files, 2, 1000, ctx.config.uploadMaxFileBytes) };
}

/** The id of an upload slot on its page (views/files/_attachments.njk): where its errors show. */
export function slotElementId(ownerType: OwnerType, ownerId: number, slot: string): string {
  return `att-${ownerType}-${ownerId}-${slot}`;
}

/** `back` with its #fragment replaced by the slot's id, so the page opens at the message. */
function atSlot(back: string, id: string): string {
  const i = back.indexOf('#');
  return `${i < 0 ? back : back.slice(0, i)}#${id}`;
}

/** A refused multipart request (too many parts, a field too long, a body over the total…). */
export function uploadRefused(reply: FastifyReply, r: { status: number; error: string }, back = '/') {
  return reply.page('errors/error.njk', { title: '上传失败', message: r.error, back }, r.status);
}

/**
 * 附件: upload to a slot of a section row or of the profile, view/download, delete.
 * Only the owner reaches a file for now (reviewers on the route come with the review flow).
 */
export default async function filesRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  // Multipart bodies in this scope only, read strictly (src/lib/multipart.ts).
  const readForm = await registerUploads(app, { tmpDir: uploadTmpDir(ctx) });

  app.post('/me/attachments', { ...UPLOAD_ROUTE, preHandler: requireApplicant }, async (req, reply) => {
    const uid = req.user!.id;
    const q = req.query as Query;
    const back = safeBack(q.back);
    const ownerType: OwnerType | null = q.owner === 'row' || q.owner === 'profile' || q.owner === 'declaration' || q.owner === 'recognition' ? q.owner : null;
    if (!ownerType) return reply.callNotFound();
    const ownerId = ownerType === 'profile' && (q.id === undefined || q.id === '') ? uid : Number(q.id);
    const slot = await resolveSlot(ctx, uid, ownerType, ownerId, q.slot ?? '');
    if (!slot) {
      // A recognition with its unit (or gone up) has no slot for the applicant: say why, at the
      // top of the page (its slots are not shown then). Anything else is not theirs: 404.
      const locked = ownerType === 'recognition' ? await lockedForApplicant(ctx.db, uid, ownerId) : null;
      return locked ? reply.flashRedirect(back, locked, 'error') : reply.callNotFound();
    }
    // Every refusal goes back to the same page, its message next to the slot (JS on or off).
    const slotId = slotElementId(ownerType, ownerId, slot.key);
    const refuse = (message: string) => reply.flashRedirect(atSlot(back, slotId), message, 'error', slotId);
    if (!req.isMultipart()) return refuse(EMPTY_MESSAGE);

    // The upload form: the CSRF token (first), one `file`, nothing else. Any other part refuses
    // the request; a file up to twice the document limit is read through and gets its size
    // message, a larger body is cut short with the same message.
    const form = await readForm(req, uploadFormLimits(ctx, slot.kind), { total: sizeMessage(ctx, slot.kind) });
    if (!form.ok) return refuse(form.error);
    if (form.tooLarge.length) return refuse(sizeMessage(ctx, slot.kind));
    const file = form.files.file;
    if (!file) return refuse(EMPTY_MESSAGE);

    const stored = await storeFile(ctx, uid, file, slot.kind);
    if (!stored.ok && stored.busy) {
      // Too many images being processed: say so at once (the file input cannot be kept anyway).
      return reply.header('Retry-After', '30').page('errors/error.njk', { title: '系统繁忙', message: stored.error, back }, 503);
    }
    if (!stored.ok) return refuse(stored.error);
    const attachmentId = await attach(ctx, uid, ownerType, ownerId, slot.key, stored.fileId);
    if (attachmentId === null) {
      // The row went away between the check and now.
      await discardFile(ctx, uid, stored.fileId);
      return reply.callNotFound();
    }
    await audit(ctx, req, { action: 'file_upload', objectType: 'file', objectId: stored.fileId, detail: `${ownerType}:${ownerId}:${slot.key}` });
    return reply.flashRedirect(back, '上传成功');
  });

  // 选择已上传的文件: attach a file the user already has (e.g. from a section row) to a slot.
  app.post('/me/attachments/pick', { preHandler: requireApplicant }, async (req, reply) => {
    const uid = req.user!.id;
    const b = (req.body ?? {}) as Record<string, string>;
    const back = safeBack(b.back);
    const ownerType: OwnerType | null = b.owner === 'row' || b.owner === 'declaration' ? b.owner : null;
    if (!ownerType) return reply.callNotFound();
    const id = await attach(ctx, uid, ownerType, Number(b.id), String(b.slot ?? ''), Number(b.file_id));
    if (id === null) return reply.callNotFound();
    return reply.flashRedirect(back, '已添加附件');
  });

  app.get('/me/files/:id', { preHandler: requireApplicant }, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const file = await getOwnFile(ctx, req.user!.id, id);
    if (!file) return reply.callNotFound();
    await audit(ctx, req, { action: 'file_download', objectType: 'file', objectId: id });
    return sendStoredFile(req, reply, ctx.blobs, file, (req.query as Query).download === '1');
  });

  app.get('/me/attachments/:id/delete', { preHandler: requireApplicant }, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const a = await getAttachment(ctx, req.user!.id, id);
    if (!a) return reply.callNotFound();
    const back = safeBack((req.query as Query).back);
    return reply.page('components/confirm.njk', {
      title: '删除附件',
      message: `确定删除附件“${a.name}”吗？`,
      action: `/me/attachments/${a.id}/delete?back=${encodeURIComponent(back)}`,
      cancel: back,
      confirmLabel: '确认删除',
    });
  });

  app.post('/me/attachments/:id/delete', { preHandler: requireApplicant }, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    if (!(await deleteAttachment(ctx, req.user!.id, id))) {
      const a = await getAttachment(ctx, req.user!.id, id);
      const locked = a?.ownerType === 'recognition' ? await lockedForApplicant(ctx.db, req.user!.id, a.ownerId) : null;
      return locked ? reply.flashRedirect(safeBack((req.query as Query).back), locked, 'error') : reply.callNotFound();
    }
    await audit(ctx, req, { action: 'file_delete', objectType: 'attachment', objectId: id });
    return reply.flashRedirect(safeBack((req.query as Query).back), '附件已删除');
  });
}

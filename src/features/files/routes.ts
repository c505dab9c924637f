import { sendStoredFile } from './send.js';
import fs from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { AppContext } from '../../context.js';
import { requireApplicant } from '../../plugins/auth.js';
import { audit } from '../audit/service.js';
import {
  attach, deleteAttachment, discardFile, downloadName, getAttachment, getOwnFile, maxBytes, resolveSlot, sizeMessage,
  storeFile, EMPTY_MESSAGE, type OwnerType,
} from './service.js';

type Query = Record<string, string | undefined>;

/** A same-site path to return to: starts with one '/', no backslash or control characters. */
export function safeBack(raw: unknown, def = '/me'): string {
  if (typeof raw !== 'string' || raw.length > 500) return def;
  if (!raw.startsWith('/') || raw.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(raw)) return def;
  return raw;
}

export { contentDisposition } from './send.js';

function isMultipartRequest(req: FastifyRequest): boolean {
  return /^multipart\/form-data\b/i.test(String(req.headers['content-type'] ?? ''));
}

/**
 * 附件: upload to a slot of a section row or of the profile, view/download, delete.
 * Only the owner reaches a file for now (reviewers on the route come with the review flow).
 */
export default async function filesRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const { uploadMaxFileBytes, uploadMaxPhotoBytes } = ctx.config;
  // Registered here only: nowhere else in the app accepts multipart bodies. One more byte
  // than the largest limit so "exactly at the limit" passes and anything above is detected.
  await app.register(multipart, {
    limits: { fileSize: Math.max(uploadMaxFileBytes, uploadMaxPhotoBytes) + 1, files: 1, fields: 10, parts: 12, fieldSize: 1000 },
  });

  // The app-wide CSRF check runs in preHandler, before a multipart body is read, and looks at
  // body._csrf or the x-csrf-token header. A no-JS multipart form therefore carries the token
  // in its action URL (?_csrf=…); copy it into the header for multipart requests only.
  app.addHook('onRequest', async (req) => {
    if (req.method !== 'POST' || !isMultipartRequest(req) || req.headers['x-csrf-token']) return;
    const token = (req.query as Query)?._csrf;
    if (typeof token === 'string' && token !== '') req.headers['x-csrf-token'] = token;
  });

  app.post('/me/attachments', { preHandler: requireApplicant }, async (req, reply) => {
    const uid = req.user!.id;
    const q = req.query as Query;
    const back = safeBack(q.back);
    const ownerType: OwnerType | null = q.owner === 'row' || q.owner === 'profile' || q.owner === 'declaration' ? q.owner : null;
    if (!ownerType) return reply.callNotFound();
    const ownerId = ownerType === 'profile' && (q.id === undefined || q.id === '') ? uid : Number(q.id);
    const slot = await resolveSlot(ctx, uid, ownerType, ownerId, q.slot ?? '');
    if (!slot) return reply.callNotFound();
    if (!req.isMultipart()) return reply.flashRedirect(back, EMPTY_MESSAGE, 'error');

    const read = await readUpload(req, maxBytes(ctx, slot.kind));
    if (read === 'too-large') return reply.flashRedirect(back, sizeMessage(ctx, slot.kind), 'error');
    if (read === null) return reply.flashRedirect(back, EMPTY_MESSAGE, 'error');

    const stored = await storeFile(ctx, uid, read, slot.kind);
    if (!stored.ok) return reply.flashRedirect(back, stored.error, 'error');
    const attachmentId = await attach(ctx, uid, ownerType, ownerId, slot.key, stored.fileId);
    if (attachmentId === null) {
      // The row went away between the check and now.
      await discardFile(ctx, uid, stored.fileId);
      return reply.callNotFound();
    }
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
    return sendStoredFile(req, reply, file, (req.query as Query).download === '1');
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
    if (!(await deleteAttachment(ctx, req.user!.id, id))) return reply.callNotFound();
    return reply.flashRedirect(safeBack((req.query as Query).back), '附件已删除');
  });
}

/**
 * Reads the single `file` part into memory, stopping at `limit` + 1 bytes.
 * 'too-large' when over the limit; null when there is no (non-empty) file part.
 */
async function readUpload(req: FastifyRequest, limit: number): Promise<{ filename: string; buffer: Buffer } | 'too-large' | null> {
  let part;
  try {
    part = await req.file({ limits: { fileSize: limit + 1 }, throwFileSizeLimit: false });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 413) return 'too-large';
    throw err;
  }
  if (!part || part.fieldname !== 'file') {
    part?.file.resume();
    return null;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of part.file) {
    total += (chunk as Buffer).length;
    if (total <= limit) chunks.push(chunk as Buffer);
  }
  if (part.file.truncated || total > limit) return 'too-large';
  if (total === 0) return null;
  return { filename: part.filename ?? '', buffer: Buffer.concat(chunks, total) };
}

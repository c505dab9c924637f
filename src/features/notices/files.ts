import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { registerUploads, UPLOAD_ROUTE } from '../../lib/multipart.js';
import { requirePlanManager } from '../plans/routes.js';
import { audit } from '../audit/service.js';
import { releaseFiles, sizeMessage, storeFile, sweepBlobs, EMPTY_MESSAGE, type UploadInput } from '../files/service.js';
import { uploadFormLimits, uploadTmpDir } from '../files/routes.js';
import { findOrgNotice } from './service.js';

/**
 * 申报通知附件 (seed 004: 点击通知附件可以下载): files the publishing office attaches to a notice
 * (attachments owner_type 'notice', the file owned by the uploader). Checked by content like every
 * upload (jpg, png, pdf; PDF scripts neutralised), always served as a download.
 */

export const NOTICE_FILES_MAX = 10;

export function noticeFiles(db: Kysely<Database>, noticeId: number) {
  return db.selectFrom('attachments as a').innerJoin('files as f', 'f.id', 'a.file_id')
    .select(['a.id as attachment_id', 'a.user_id', 'f.id', 'f.sha256', 'f.size', 'f.mime', 'f.original_name as name'])
    .where('a.owner_type', '=', 'notice').where('a.owner_id', '=', noticeId).orderBy('a.id').execute();
}

export async function addNoticeFile(ctx: AppContext, userId: number, noticeId: number, file: UploadInput): Promise<{ ok: true; fileId: number } | { ok: false; error: string }> {
  if ((await noticeFiles(ctx.db, noticeId)).length >= NOTICE_FILES_MAX) return { ok: false, error: `每条通知最多${NOTICE_FILES_MAX}个附件` };
  const stored = await storeFile(ctx, userId, file, 'doc');
  if (!stored.ok) return { ok: false, error: stored.error };
  await ctx.db.insertInto('attachments').values({ user_id: userId, owner_type: 'notice', owner_id: noticeId, slot: 'file', file_id: stored.fileId, created_at: ctx.config.now().toISOString() }).execute();
  return { ok: true, fileId: stored.fileId };
}

/** Removes attachments of a notice (one, or all when `attachmentId` is undefined), with their files. Use inside the caller's writeTx; sweep the returned shas after it commits. */
export async function removeNoticeFiles(trx: Kysely<Database>, noticeId: number, attachmentId?: number): Promise<{ removed: number; shas: string[] }> {
  let q = trx.selectFrom('attachments').select(['id', 'user_id', 'file_id']).where('owner_type', '=', 'notice').where('owner_id', '=', noticeId);
  if (attachmentId !== undefined) q = q.where('id', '=', attachmentId);
  const rows = await q.execute();
  if (!rows.length) return { removed: 0, shas: [] };
  await trx.deleteFrom('attachments').where('id', 'in', rows.map((r) => r.id)).execute();
  const shas: string[] = [];
  for (const r of rows) shas.push(...(await releaseFiles(trx, r.user_id, [r.file_id])));
  return { removed: rows.length, shas };
}

/** The publisher's upload and removal (/org/notices/:id/files…): this plugin alone reads multipart. */
export async function noticeFileRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const readForm = await registerUploads(app, { tmpDir: uploadTmpDir(ctx) });
  const orgOf = (req: FastifyRequest) => req.user!.orgId ?? -1;
  const idOf = (req: FastifyRequest) => Number((req.params as { id: string }).id);

  app.post('/org/notices/:id/files', { ...UPLOAD_ROUTE, preHandler: requirePlanManager }, async (req, reply) => {
    const back = `/org/notices/${idOf(req)}#files`;
    const refuse = (m: string) => reply.flashRedirect(back, m, 'error');
    // The form first (its CSRF token), then the scope.
    if (!req.isMultipart()) return refuse(EMPTY_MESSAGE);
    const form = await readForm(req, uploadFormLimits(ctx, 'doc'), { total: sizeMessage(ctx, 'doc') });
    if (!form.ok) return refuse(form.error);
    const n = await findOrgNotice(ctx, orgOf(req), idOf(req));
    if (!n) return reply.callNotFound();
    if (form.tooLarge.length) return refuse(sizeMessage(ctx, 'doc'));
    const file = form.files.file;
    if (!file) return refuse(EMPTY_MESSAGE);
    const r = await addNoticeFile(ctx, req.user!.id, n.id, file);
    if (!r.ok) return refuse(r.error);
    await audit(ctx, req, { action: 'file_upload', objectType: 'notice', objectId: n.id, detail: `通知附件：文件 ${r.fileId}` });
    return reply.flashRedirect(back, '附件已上传');
  });

  app.post('/org/notices/:id/files/:aid/delete', { preHandler: requirePlanManager }, async (req, reply) => {
    const n = await findOrgNotice(ctx, orgOf(req), idOf(req));
    const aid = Number((req.params as { aid: string }).aid);
    if (!n || !Number.isSafeInteger(aid)) return reply.callNotFound();
    const r = await writeTx(ctx.db, (trx) => removeNoticeFiles(trx, n.id, aid));
    if (!r.removed) return reply.callNotFound();
    await sweepBlobs(ctx, r.shas);
    await audit(ctx, req, { action: 'file_delete', objectType: 'notice', objectId: n.id, detail: `通知附件 ${aid}` });
    return reply.flashRedirect(`/org/notices/${n.id}#files`, '附件已删除');
  });
}

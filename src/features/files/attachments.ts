/**
 * Attachments: stored files put in a slot of their owner (a section row, the profile, a
 * declaration, a recognition), listed, replaced and removed. Re-exported by service.ts.
 */
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { checkPortrait } from '../../domain/images.js';
import { formatBytes, slotOf, type FileKind, type OwnerType, type AttachmentItem } from './service.js';
import type { RecEditor } from '../../domain/recognition.js';
import { releaseFiles, sweepBlobs } from './release.js';

type Db = Kysely<Database>;

function fitsKind(file: { mime: string; size: number; width: number | null; height: number | null }, kind: FileKind): boolean {
  // No byte limit here: storeFile checked the limit of its slot kind on what was sent, and a
  // stored image is its re-encoded form (quality 90), which can be larger than the upload.
  if (kind === 'doc') return true;
  return (file.mime === 'image/jpeg' || file.mime === 'image/png')
    && file.width !== null && file.height !== null && checkPortrait(file.width, file.height) === null;
}

/**
 * Puts the user's file `fileId` in `slot` of the owner. Single-file slots (the profile's)
 * replace what was there. Returns the attachment id, or null when the owner, slot or file
 * is not the user's (or the file does not fit the slot). `by`: see slotOf.
 */
export async function attach(ctx: AppContext, userId: number, ownerType: OwnerType, ownerId: number, slot: string, fileId: number, by: RecEditor = 'applicant'): Promise<number | null> {
  const res = await writeTx(ctx.db, async (trx) => {
    const def = await slotOf(ctx, trx, userId, ownerType, ownerId, slot, by);
    if (!def) return null;
    const file = await trx.selectFrom('files').select(['id', 'mime', 'size', 'width', 'height']).where('id', '=', fileId).where('user_id', '=', userId).executeTakeFirst();
    if (!file || !fitsKind(file, def.kind)) return null;
    let released: string[] = [];
    if (def.single) {
      const old = await trx
        .selectFrom('attachments')
        .select(['id', 'file_id'])
        .where('user_id', '=', userId)
        .where('owner_type', '=', ownerType)
        .where('owner_id', '=', ownerId)
        .where('slot', '=', slot)
        .execute();
      if (old.length > 0) {
        await trx.deleteFrom('attachments').where('id', 'in', old.map((o) => o.id)).execute();
        released = await releaseFiles(trx, userId, old.map((o) => o.file_id).filter((id) => id !== fileId));
      }
    }
    const row = await trx
      .insertInto('attachments')
      .values({ user_id: userId, owner_type: ownerType, owner_id: ownerId, slot, file_id: fileId, created_at: ctx.config.now().toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: row.id, released };
  });
  if (!res) return null;
  await sweepBlobs(ctx, res.released);
  return res.id;
}

/** The user's attachments of these owners, by owner id (owners without any are absent). */
export async function listAttachments(ctx: AppContext, userId: number, ownerType: OwnerType, ownerIds: number[]): Promise<Map<number, AttachmentItem[]>> {
  const out = new Map<number, AttachmentItem[]>();
  const ids = [...new Set(ownerIds)].filter((n) => Number.isSafeInteger(n));
  if (ids.length === 0) return out;
  const rows = await ctx.db
    .selectFrom('attachments as a')
    .innerJoin('files as f', 'f.id', 'a.file_id')
    .select(['a.id', 'a.owner_id', 'a.slot', 'a.file_id', 'f.original_name', 'f.mime', 'f.size', 'f.width', 'f.height'])
    .where('a.user_id', '=', userId)
    .where('f.user_id', '=', userId)
    .where('a.owner_type', '=', ownerType)
    .where('a.owner_id', 'in', ids)
    .orderBy('a.id')
    .execute();
  for (const r of rows) {
    const item: AttachmentItem = {
      id: r.id,
      slot: r.slot,
      fileId: r.file_id,
      name: r.original_name,
      mime: r.mime,
      size: r.size,
      width: r.width,
      height: r.height,
      isImage: r.mime.startsWith('image/'),
      sizeText: formatBytes(r.size),
    };
    const list = out.get(r.owner_id);
    if (list) list.push(item);
    else out.set(r.owner_id, [item]);
  }
  return out;
}

/** One of the user's attachments (for the delete confirmation), or null. */
export async function getAttachment(ctx: AppContext, userId: number, attachmentId: number) {
  if (!Number.isSafeInteger(attachmentId)) return null;
  const r = await ctx.db
    .selectFrom('attachments as a')
    .innerJoin('files as f', 'f.id', 'a.file_id')
    .select(['a.id', 'a.owner_type', 'a.owner_id', 'a.slot', 'a.file_id', 'f.original_name'])
    .where('a.id', '=', attachmentId)
    .where('a.user_id', '=', userId)
    .executeTakeFirst();
  return r ? { id: r.id, ownerType: r.owner_type, ownerId: r.owner_id, slot: r.slot, fileId: r.file_id, name: r.original_name } : null;
}

/** Removes one of the user's attachments (and the file/blob when nothing else uses them). */
export async function deleteAttachment(ctx: AppContext, userId: number, attachmentId: number): Promise<boolean> {
  if (!Number.isSafeInteger(attachmentId)) return false;
  const shas = await writeTx(ctx.db, async (trx) => {
    const a = await trx.selectFrom('attachments').select(['id', 'file_id', 'owner_type', 'owner_id', 'slot']).where('id', '=', attachmentId).where('user_id', '=', userId).executeTakeFirst();
    if (!a) return null;
    // A declaration's files are frozen while it is under review.
    if ((a.owner_type === 'declaration' || a.owner_type === 'recognition') && !(await slotOf(ctx, trx, userId, a.owner_type, a.owner_id, a.slot))) return null;
    // A 证书服务 request's scans, a notice's files and 补充材料 (only while the request is open)
    // are removed only through their own pages.
    if (a.owner_type === 'cert_service' || a.owner_type === 'notice' || a.owner_type === 'supplement') return null;
    await trx.deleteFrom('attachments').where('id', '=', a.id).execute();
    return releaseFiles(trx, userId, [a.file_id]);
  });
  if (shas === null) return false;
  await sweepBlobs(ctx, shas);
  return true;
}

/**
 * Removes all the user's attachments of one owner (call it when a section row is deleted).
 * Without `trx` it runs its own transaction and removes unused blobs itself. Inside the
 * caller's transaction (`trx` = the writeTx connection) it only touches rows: call
 * `sweepBlobs(ctx, result.orphanShas)` after that transaction commits.
 */
export async function deleteOwnerAttachments(
  ctx: AppContext, userId: number, ownerType: OwnerType, ownerId: number, trx?: Db,
): Promise<{ deleted: number; orphanShas: string[] }> {
  const work = async (db: Db) => {
    const rows = await db
      .selectFrom('attachments')
      .select(['id', 'file_id'])
      .where('user_id', '=', userId)
      .where('owner_type', '=', ownerType)
      .where('owner_id', '=', ownerId)
      .execute();
    if (rows.length === 0) return { deleted: 0, orphanShas: [] as string[] };
    await db.deleteFrom('attachments').where('id', 'in', rows.map((r) => r.id)).execute();
    return { deleted: rows.length, orphanShas: await releaseFiles(db, userId, rows.map((r) => r.file_id)) };
  };
  if (trx) return work(trx);
  const res = await writeTx(ctx.db, work);
  await sweepBlobs(ctx, res.orphanShas);
  return res;
}

/** A stored file that was never attached (e.g. attach refused): drop it. */

/**
 * Uploaded files and their attachment to the applicant archive (section rows and profile).
 *
 * Bytes live in the blob store (ctx.blobs: `<uploadDir>/<sha[0..2]>/<sha256>` or the database's
 * blobs table; content-addressed: identical uploads share one blob); a `files` row per upload records owner, name, type and size; an
 * `attachments` row puts a file in a slot of an owner. Everything is scoped by userId: an id
 * from a URL is never trusted on its own.
 *
 * Consistency: the blob is made present and its `files` row inserted inside one write
 * transaction, and a blob is only unlinked inside a (later) write transaction that finds no
 * `files` row for its sha. Write transactions are serialised (writeTx: SQLite's write lock,
 * PostgreSQL's advisory lock), so a delete can never remove a blob that a concurrent upload
 * just reused, in any process.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { sniff, checkPortrait, checkImagePixels, type Sniffed, type SniffedMime } from '../../domain/images.js';
import { reencodeOffThread, type ReencodeLimits } from '../../lib/reencode.js';
import { neutralizePdf } from '../../lib/pdfsafe.js';
import type { TempUpload } from '../../lib/multipart.js';
import { sectionByKey } from '../../domain/sections.js';
import { requiredSlots, type PlanSlot } from '../../domain/plans.js';
import { categorySlots } from '../../domain/whoMay.js';
import { profileDeclarationSlots } from '../../domain/profile.js';
import { isPrintable } from '../../domain/declaration.js';
import { REC_SLOTS, recognitionLocked, type RecEditor } from '../../domain/recognition.js';
// Files put in a slot of an owner (a row, the profile, a declaration, a recognition): attachments.ts.
export * from './attachments.js';
export * from './release.js';

type Db = Kysely<Database>;

export type FileKind = 'photo' | 'doc';
export type OwnerType = 'row' | 'profile' | 'declaration' | 'recognition';

export interface ProfileSlotDef {
  key: 'avatar' | 'id_front' | 'id_back';
  label: string;
  kind: FileKind;
  required: boolean;
  hint?: string;
}

/** The profile's slots: one file each; a new upload replaces the old one. */
export const PROFILE_SLOTS: readonly ProfileSlotDef[] = [
  { key: 'avatar', label: '头像', kind: 'photo', required: true, hint: '大一寸（3.3cm×4.8cm）近期免冠证件照' },
  { key: 'id_front', label: '身份证人像面', kind: 'doc', required: true },
  { key: 'id_back', label: '身份证国徽面', kind: 'doc', required: true },
];

/** 表十七 审核推荐意见和评审结果确认意见: the scan of the stamped table, uploaded after printing. */
export const TABLE17_SLOT = { key: 'table17', label: '【表十七】盖章扫描件', required: true, hint: '请上传清晰无遮挡的扫描件或照片，并裁剪对正' } as const;

/** A slot as the upload partial shows it (views/files/_attachments.njk). */
export interface UploadSlot {
  key: string;
  label: string;
  required: boolean;
  hint?: string;
  kind: FileKind;
  /** One file only: an upload replaces the previous one. */
  single: boolean;
  /** For <input type=file accept>: a hint to the browser; the server decides by content. */
  accept: string;
  /** The limits in words, e.g. '支持 jpg、png、pdf，单个文件不超过5MB'. */
  rule: string;
  /** The largest file, bytes, and its message (the page checks it before sending, with JS). */
  maxBytes: number;
  sizeMessage: string;
}

export interface AttachmentItem {
  id: number;
  slot: string;
  fileId: number;
  name: string;
  mime: string;
  size: number;
  width: number | null;
  height: number | null;
  isImage: boolean;
  /** '120KB', '1.5MB'. */
  sizeText: string;
}

/** `busy`: the image re-encode pool is full or timed out (answer 503 + Retry-After). */
export type StoreResult = { ok: true; fileId: number } | { ok: false; error: string; busy?: boolean };

const KB = 1024;
const MB = 1024 * 1024;

/** 500KB, 5MB, 1.5MB, 200MB: how limits and sizes are written in messages. */
export function formatBytes(n: number): string {
  if (n >= MB) return n % MB === 0 ? `${n / MB}MB` : `${(n / MB).toFixed(1)}MB`;
  if (n >= KB) return n % KB === 0 ? `${n / KB}KB` : `${Math.max(1, Math.round(n / KB))}KB`;
  return `${n}B`;
}

export const TYPE_MESSAGE = '只能上传 jpg、png 或 pdf 文件（文件内容与扩展名不符也会被拒绝）';
export const PHOTO_TYPE_MESSAGE = '照片只能是 jpg 或 png 格式';
export const PHOTO_MISMATCH_MESSAGE = '照片只能是 jpg 或 png 格式（文件内容与扩展名不符也会被拒绝）';
export const BROKEN_IMAGE_MESSAGE = '图片文件已损坏或无法识别，请重新导出后上传';
export const EMPTY_MESSAGE = '请选择要上传的文件';
export const PDF_ENCRYPTED_MESSAGE = 'PDF 文件已加密（设置了密码或权限限制），系统无法检查其中是否含有脚本。请取消加密，或用“打印为 PDF”另存后重新上传';
export const PDF_UNCHECKED_MESSAGE = 'PDF 文件的结构无法检查（可能已损坏或使用了不支持的压缩方式），请用“打印为 PDF”另存后重新上传';

export function maxBytes(ctx: AppContext, kind: FileKind): number {
  return kind === 'photo' ? ctx.config.uploadMaxPhotoBytes : ctx.config.uploadMaxFileBytes;
}

/** '文件不能超过5MB' / '照片不能超过500KB', from the configured limits. */
export function sizeMessage(ctx: AppContext, kind: FileKind): string {
  return `${kind === 'photo' ? '照片' : '文件'}不能超过${formatBytes(maxBytes(ctx, kind))}`;
}

export function quotaMessage(ctx: AppContext): string {
  return `您的附件总大小已超过上限（${formatBytes(ctx.config.uploadQuotaBytes)}），请删除不需要的附件后再上传`;
}

function ruleText(ctx: AppContext, kind: FileKind): string {
  return kind === 'photo'
    ? `支持 jpg、png，不超过${formatBytes(maxBytes(ctx, 'photo'))}，宽高比例 3.3cm×4.8cm`
    : `支持 jpg、png、pdf，单个文件不超过${formatBytes(maxBytes(ctx, 'doc'))}`;
}

function toUploadSlot(ctx: AppContext, d: { key: string; label: string; required?: boolean; hint?: string }, kind: FileKind, single: boolean): UploadSlot {
  return {
    key: d.key,
    label: d.label,
    required: !!d.required,
    hint: d.hint,
    kind,
    single,
    accept: kind === 'photo' ? '.jpg,.jpeg,.png' : '.jpg,.jpeg,.png,.pdf',
    rule: ruleText(ctx, kind),
    maxBytes: maxBytes(ctx, kind),
    sizeMessage: sizeMessage(ctx, kind),
  };
}

/** The profile's slots for the partial. */
export function profileSlots(ctx: AppContext): UploadSlot[] {
  return PROFILE_SLOTS.map((s) => toUploadSlot(ctx, s, s.kind, true));
}

/** A section's slots for the partial (empty for sections without attachments). */
export function rowSlots(ctx: AppContext, sectionKey: string): UploadSlot[] {
  return (sectionByKey(sectionKey)?.attachments ?? []).map((s) => toUploadSlot(ctx, s, 'doc', !!s.single));
}

/**
 * The slot `slot` of an owner when the owner is the user's: a section row of theirs whose
 * section declares the slot, or their own profile (ownerId = userId). null otherwise. `by`:
 * who acts on a recognition's files (its unit may while it checks it, the applicant may not).
 */
export async function slotOf(ctx: AppContext, db: Db, userId: number, ownerType: OwnerType, ownerId: number, slot: string, by: RecEditor = 'applicant'): Promise<UploadSlot | null> {
  if (!Number.isSafeInteger(ownerId) || ownerId <= 0 || typeof slot !== 'string') return null;
  if (ownerType === 'profile') {
    if (ownerId !== userId) return null;
    const def = PROFILE_SLOTS.find((s) => s.key === slot);
    return def ? toUploadSlot(ctx, def, def.kind, true) : null;
  }
  if (ownerType === 'declaration') {
    // The plan's attachment slots of a declaration, changeable only while it is with the
    // applicant (draft or returned): a version under review is never altered.
    const d = await db
      .selectFrom('declarations as d')
      .innerJoin('plans as p', 'p.id', 'd.plan_id')
      .select(['d.status', 'd.cover', 'p.required_slots'])
      .where('d.id', '=', ownerId)
      .where('d.user_id', '=', userId)
      .executeTakeFirst();
    // 表十七 (seed 001 §4.3.1): the stamped scan, once the form can be printed; it belongs to
    // no version (it comes after the last one) and a new upload replaces the previous scan.
    if (slot === TABLE17_SLOT.key) return d && isPrintable(d.status) ? toUploadSlot(ctx, TABLE17_SLOT, 'doc', true) : null;
    if (!d || (d.status !== 'draft' && d.status !== 'returned')) return null;
    // The plan's slots, and those the 参评类别 and the profile's 原岗位类别 add (src/domain/whoMay.ts).
    let def = requiredSlots(d).find((s) => s.key === slot);
    if (!def) {
      const profile = await db.selectFrom('profiles').select('data').where('user_id', '=', userId).executeTakeFirst();
      const data = profile ? JSON.parse(profile.data) : {};
      const origin = String(data.post_origin ?? '');
      def = [...categorySlots(String(JSON.parse(d.cover).category ?? ''), origin), ...profileDeclarationSlots(data)].find((s) => s.key === slot);
    }
    return def ? toUploadSlot(ctx, def, 'doc', false) : null;
  }
  if (ownerType === 'recognition') {
    // 初定/认定 (Q14): the fixed files, one each, changeable by whoever may change the
    // recognition now (`by`: the applicant, or the unit acting for them).
    const r = await db.selectFrom('recognitions').select(['status']).where('id', '=', ownerId).where('user_id', '=', userId).executeTakeFirst();
    if (!r || recognitionLocked(r.status, by)) return null;
    const def = REC_SLOTS.find((x) => x.key === slot);
    return def ? toUploadSlot(ctx, def, 'doc', true) : null;
  }
  if (ownerType !== 'row') return null;
  const row = await db.selectFrom('section_rows').select('section').where('id', '=', ownerId).where('user_id', '=', userId).executeTakeFirst();
  if (!row) return null;
  const def = sectionByKey(row.section)?.attachments.find((a) => a.key === slot);
  return def ? toUploadSlot(ctx, def, 'doc', !!def.single) : null;
}

/** A declaration's slots for the partial (the plan's 必传/选传 attachments). */
export function declarationSlots(ctx: AppContext, plan: { required_slots: string | null }, extra: readonly PlanSlot[] = []): UploadSlot[] {
  return [...requiredSlots(plan), ...extra].map((s) => toUploadSlot(ctx, s, 'doc', false));
}

/** The user's stored files, newest first, to pick an existing one for a slot. */
export function listOwnFiles(ctx: AppContext, userId: number) {
  return ctx.db.selectFrom('files').select(['id', 'original_name', 'mime', 'size', 'created_at']).where('user_id', '=', userId).orderBy('id', 'desc').limit(200).execute();
}

/** Owner check for routes: the slot when (ownerType, ownerId, slot) is the user's, else null. */
export function resolveSlot(ctx: AppContext, userId: number, ownerType: OwnerType, ownerId: number, slot: string): Promise<UploadSlot | null> {
  return slotOf(ctx, ctx.db, userId, ownerType, ownerId, slot);
}

// ---------------------------------------------------------------------------------------
// Use cases

/** Basename only, no control or bidi-override characters, at most 100 characters. */
export function sanitizeName(raw: string, ext: string): string {
  let name = String(raw ?? '').split(/[\\/]/).pop() ?? '';
  // C0/C1 controls, DEL, line/paragraph separators, bidi embeddings/overrides/isolates, BOM.
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g, '').trim();
  if (name === '.' || name === '..') name = '';
  const chars = [...name];
  if (chars.length > 100) {
    const dot = name.lastIndexOf('.');
    const suffix = dot > 0 ? [...name.slice(dot)] : [];
    name = suffix.length > 0 && suffix.length <= 10
      ? chars.slice(0, 100 - suffix.length).join('') + suffix.join('')
      : chars.slice(0, 100).join('');
  }
  return name || `file.${ext}`;
}

async function usedBytes(db: Db, userId: number): Promise<number> {
  const r = await db
    .selectFrom('files')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

const EXT_OF: Record<string, string[]> = { 'image/jpeg': ['jpg', 'jpeg'], 'image/png': ['png'], 'application/pdf': ['pdf'] };
const KNOWN_EXTS = new Set(Object.values(EXT_OF).flat());

function extensionOf(name: string): string | null {
  const m = /\.([A-Za-z0-9]{1,8})\s*$/.exec(String(name ?? ''));
  return m ? m[1]!.toLowerCase() : null;
}

/** True when the name ends in .jpg/.jpeg/.png/.pdf but the content is another of them. */
export function extensionContradicts(name: string, mime: string): boolean {
  const ext = extensionOf(name);
  return ext !== null && KNOWN_EXTS.has(ext) && !(EXT_OF[mime] ?? []).includes(ext);
}

class QuotaExceeded extends Error {}

/** The re-encode pool's bounds from the configuration. */
export function reencodeLimits(ctx: AppContext): ReencodeLimits {
  const c = ctx.config;
  return { concurrency: c.imageConcurrency, queueMax: c.imageQueueMax, timeoutMs: c.imageTimeoutMs, maxPixels: c.imageMaxPixels };
}

/** An upload to store: a temp file from the multipart reader (src/lib/multipart.ts), or bytes (seeding, tests). */
export type UploadInput = TempUpload | { filename: string; buffer: Buffer };

const HEAD_BYTES = 4096;

/** The first bytes of an upload (enough to tell its type), without reading all of it. */
async function uploadHead(input: UploadInput): Promise<Buffer> {
  if ('buffer' in input) return input.buffer;
  const fh = await fsp.open(input.path, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(HEAD_BYTES), 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Type and dimensions of an upload, from its content (images are read whole: they are re-encoded anyway). */
export async function inspectUpload(input: UploadInput): Promise<{ type: Sniffed | null; bytes: Buffer | null }> {
  const head = await uploadHead(input);
  const type = sniff(head);
  if (!type || type.ext === 'pdf') return { type, bytes: 'buffer' in input ? input.buffer : null };
  const bytes = 'buffer' in input ? input.buffer : await fsp.readFile(input.path);
  return { type: sniff(bytes), bytes };
}

/**
 * Checks an upload by its content and stores it for the user. Nothing is written to disk or
 * database when a check fails. `photo`: jpg/png, photo size limit, 3.3×4.8 portrait;
 * `doc`: jpg/png/pdf, file size limit. Both count towards the user's quota.
 *
 * Images are stored re-encoded from their pixels (src/lib/reencode.ts: no EXIF/GPS, no text
 * chunks, upright), so the stored hash, size and dimensions are those of the new bytes; the
 * size limit applies to what was sent. PDFs are stored with their scripts and automatic
 * actions neutralised (src/lib/pdfsafe.ts: /JavaScript, /OpenAction, /AA, /Launch… renamed so
 * no reader runs them; encrypted files with object streams, and structures that cannot be
 * checked, are refused); a PDF without any is stored byte for byte as sent. PDFs are also only
 * ever served as downloads (src/features/files/send.ts).
 */
export async function storeFile(ctx: AppContext, userId: number, input: UploadInput, kind: FileKind): Promise<StoreResult> {
  const sent = 'buffer' in input ? input.buffer?.length ?? 0 : input.size;
  if (!sent) return { ok: false, error: EMPTY_MESSAGE };
  if (sent > maxBytes(ctx, kind)) return { ok: false, error: sizeMessage(ctx, kind) };
  const { type, bytes: original } = await inspectUpload(input);
  if (kind === 'photo' && (!type || type.ext === 'pdf')) return { ok: false, error: PHOTO_TYPE_MESSAGE };
  if (!type) return { ok: false, error: TYPE_MESSAGE };
  // The type is the content's; a name that claims another accepted type is refused too
  // (a PNG called .pdf, a PDF called .jpg), as the message says. Other names are not trusted.
  const name = sanitizeName(input.filename, type.ext);
  if (extensionContradicts(name, type.mime)) {
    return { ok: false, error: kind === 'photo' ? PHOTO_MISMATCH_MESSAGE : TYPE_MESSAGE };
  }

  let stored: { bytes: Buffer | null; size: number; sha: string; width: number | null; height: number | null };
  if (type.mime === 'image/jpeg' || type.mime === 'image/png') {
    if (type.width === undefined || type.height === undefined) return { ok: false, error: BROKEN_IMAGE_MESSAGE };
    // From the header, before anything is decoded: a decompression bomb is never inflated.
    const huge = checkImagePixels(type.width, type.height, ctx.config.imageMaxPixels);
    if (huge) return { ok: false, error: huge };
    const r = await reencodeOffThread(original!, type.mime, reencodeLimits(ctx));
    if (!r.ok) return { ok: false, error: r.reason === 'broken' ? BROKEN_IMAGE_MESSAGE : r.message, ...(r.reason === 'busy' ? { busy: true } : {}) };
    // Upright dimensions (after the EXIF orientation) are the ones the portrait rule means.
    if (kind === 'photo') {
      const problem = checkPortrait(r.width, r.height);
      if (problem) return { ok: false, error: problem };
    }
    stored = { bytes: r.buffer, size: r.buffer.length, sha: createHash('sha256').update(r.buffer).digest('hex'), width: r.width, height: r.height };
  } else {
    const sent = 'buffer' in input ? input.buffer : await fsp.readFile(input.path);
    const safe = neutralizePdf(sent);
    if (!safe.ok) return { ok: false, error: safe.reason === 'encrypted' ? PDF_ENCRYPTED_MESSAGE : PDF_UNCHECKED_MESSAGE };
    if (safe.removed.length) ctx.log.warn({ removed: safe.removed }, 'uploaded PDF: scripts/automatic actions neutralised');
    if (safe.buffer !== sent || 'buffer' in input) {
      stored = { bytes: safe.buffer, size: safe.buffer.length, sha: createHash('sha256').update(safe.buffer).digest('hex'), width: null, height: null };
    } else {
      // Unchanged: the streamed temp file is stored as is (hashed while it was received).
      stored = { bytes: null, size: input.size, sha: input.sha256, width: null, height: null };
    }
  }
  const { size, sha } = stored;
  const quota = ctx.config.uploadQuotaBytes;
  if ((await usedBytes(ctx.db, userId)) + size > quota) return { ok: false, error: quotaMessage(ctx) };

  // The bytes are written out before the write lock (a temp file beside the blob, or a buffer
  // for the database store); inside it the blob is made present and its files row inserted.
  const source = stored.bytes ? { buffer: stored.bytes } : { path: (input as TempUpload).path, move: true };
  const prepared = (await ctx.blobs.has(sha)) ? null : await ctx.blobs.prepare(sha, source);
  try {
    const fileId = await writeTx(ctx.db, async (trx) => {
      // Authoritative quota check: two uploads at once cannot both slip under it.
      if ((await usedBytes(trx, userId)) + size > quota) throw new QuotaExceeded();
      const blobs = ctx.blobs.in(trx);
      let created = false;
      if (!(await blobs.has(sha))) created = await blobs.commit(prepared ?? (await blobs.prepare(sha, source)));
      try {
        const row = await trx
          .insertInto('files')
          .values({
            user_id: userId,
            sha256: sha,
            size,
            mime: type.mime,
            original_name: name,
            width: stored.width,
            height: stored.height,
            created_at: ctx.config.now().toISOString(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        return row.id;
      } catch (err) {
        if (created) await blobs.remove(sha);
        throw err;
      }
    });
    return { ok: true, fileId };
  } catch (err) {
    if (err instanceof QuotaExceeded) return { ok: false, error: quotaMessage(ctx) };
    throw err;
  } finally {
    if (prepared) await ctx.blobs.abandon(prepared);
  }
}

/** The user's own file for download, or null (someone else's id is simply not found). */
export async function getOwnFile(ctx: AppContext, userId: number, fileId: number) {
  if (!Number.isSafeInteger(fileId)) return null;
  const f = await ctx.db
    .selectFrom('files')
    .select(['id', 'sha256', 'size', 'mime', 'original_name'])
    .where('id', '=', fileId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!f) return null;
  return { id: f.id, sha256: f.sha256, size: f.size, mime: f.mime as SniffedMime, name: f.original_name };
}


/** The name to download under: the stored name, with the extension the content really has. */
export function downloadName(name: string, mime: string): string {
  const exts = EXT_OF[mime];
  if (!exts) return name;
  const ext = extensionOf(name);
  if (ext && exts.includes(ext)) return name;
  return `${name}.${exts[0]}`;
}

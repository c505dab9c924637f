import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { missingItems, parseSupplementItems, type SupplementItem } from '../../domain/supplements.js';
import { parseRoute } from '../declaration/service.js';
import { visibleDeclaration, isTheirTurn } from '../review/service.js';
import { sendMessage } from '../auth/service.js';
import { audit } from '../audit/service.js';
import { storeFile, type UploadInput } from '../files/service.js';
import { releaseFiles, sweepBlobs } from '../files/release.js';

// 补充材料: asked by the stage whose turn it is; the declaration stays under review at that
// stage, returns_count is untouched and the frozen version is not rewritten — the files hang off
// the request (attachments owner_type 'supplement').

export interface SupplementView {
  id: number;
  org: string;
  note: string | null;
  created_at: string;
  submitted_at: string | null;
  /** Withdrawn by the stage (撤销); null = not withdrawn. */
  cancelled_at: string | null;
  /** The organisation that asked (only it may withdraw). */
  org_id: number;
  items: (SupplementItem & { files: { fileId: number; name: string; at: string }[] })[];
  missing: SupplementItem[];
}

/** Every request of a declaration, newest first, with its uploaded files and upload times. */
export async function supplementsOf(ctx: AppContext, declarationId: number): Promise<SupplementView[]> {
  const reqs = await ctx.db
    .selectFrom('supplement_requests as r')
    .innerJoin('orgs as o', 'o.id', 'r.org_id')
    .select(['r.id', 'r.org_id', 'r.items', 'r.note', 'r.created_at', 'r.submitted_at', 'r.cancelled_at', 'o.name as org'])
    .where('r.declaration_id', '=', declarationId)
    .orderBy('r.id', 'desc')
    .execute();
  if (!reqs.length) return [];
  const files = await ctx.db
    .selectFrom('attachments as a')
    .innerJoin('files as f', 'f.id', 'a.file_id')
    .select(['a.owner_id', 'a.slot', 'a.file_id', 'a.created_at', 'f.original_name'])
    .where('a.owner_type', '=', 'supplement')
    .where('a.owner_id', 'in', reqs.map((r) => r.id))
    .orderBy('a.id')
    .execute();
  return reqs.map((r) => {
    const items = JSON.parse(r.items) as SupplementItem[];
    const mine = files.filter((f) => f.owner_id === r.id);
    return {
      id: r.id, org: r.org, org_id: r.org_id, note: r.note, created_at: r.created_at, submitted_at: r.submitted_at, cancelled_at: r.cancelled_at ?? null,
      items: items.map((i) => ({ ...i, files: mine.filter((f) => f.slot === i.key).map((f) => ({ fileId: f.file_id, name: f.original_name, at: f.created_at })) })),
      missing: missingItems(items, mine.map((f) => f.slot)),
    };
  });
}

/** The open requests of an applicant's declarations (for /me and the declaration page). */
export async function openSupplementsOfUser(ctx: AppContext, userId: number, declarationId: number): Promise<SupplementView[]> {
  const d = await ctx.db.selectFrom('declarations').select('id').where('id', '=', declarationId).where('user_id', '=', userId).executeTakeFirst();
  if (!d) return [];
  return (await supplementsOf(ctx, d.id)).filter((s) => !s.submitted_at && !s.cancelled_at);
}

export type RequestResult = { ok: true; id: number } | { ok: false; status: 404 | 409 | 422; error: string; values?: { items: string; note: string } };

/** A stage asks for named files; only the stage whose turn it is, while the declaration is under review. */
export async function requestSupplement(ctx: AppContext, user: CurrentUser, declarationId: number, input: { items: string; note: string }, req: FastifyRequest): Promise<RequestResult> {
  const d = await visibleDeclaration(ctx, user, declarationId);
  if (!d) return { ok: false, status: 404, error: '申报不存在' };
  if (!isTheirTurn(d, user.orgId)) return { ok: false, status: 409, error: '该申报当前不在本环节审核，不能要求补充材料' };
  const parsed = parseSupplementItems(input.items);
  if (parsed.error) return { ok: false, status: 422, error: parsed.error, values: input };
  const note = input.note.trim().slice(0, 500) || null;
  const stamp = ctx.config.now().toISOString();
  const stage = parseRoute(d)[d.stage];
  const id = await writeTx(ctx.db, async (trx) => {
    const cur = await trx.selectFrom('declarations').select(['status', 'stage']).where('id', '=', d.id).executeTakeFirstOrThrow();
    if (cur.status !== 'reviewing' || cur.stage !== d.stage) return null;
    const r = await trx.insertInto('supplement_requests').values({
      declaration_id: d.id, org_id: user.orgId!, stage: d.stage, items: JSON.stringify(parsed.items), note, requested_by: user.id, created_at: stamp,
    }).returning('id').executeTakeFirstOrThrow();
    await trx.insertInto('workflow_events').values({
      declaration_id: d.id, actor_user_id: user.id, org_id: user.orgId, stage: d.stage, action: 'supplement', opinion: note,
      from_status: 'reviewing', to_status: 'reviewing', data: JSON.stringify({ request: r.id, items: parsed.items.map((i) => i.label) }), created_at: stamp,
    }).execute();
    await audit(ctx, req, { action: 'supplement_request', objectType: 'declaration', objectId: d.id, detail: `要求补充材料：${parsed.items.map((i) => i.label).join('、')}` }, trx);
    return r.id;
  });
  if (id === null) return { ok: false, status: 409, error: '该申报的状态已变化，未要求补充材料' };
  await sendMessage(ctx, d.user_id, '审核消息', `${stage?.name ?? '审核部门'}要求您补充材料：${parsed.items.map((i) => i.label).join('、')}。请在“职称申报”页面上传（不影响审核进度，不计入返回修改次数）。${note ? `说明：${note}` : ''}`);
  return { ok: true, id };
}

/** The request of the applicant's own declaration that is still open, or undefined. */
async function ownOpenRequest(ctx: AppContext, userId: number, requestId: number) {
  if (!Number.isSafeInteger(requestId)) return undefined;
  return ctx.db
    .selectFrom('supplement_requests as r')
    .innerJoin('declarations as d', 'd.id', 'r.declaration_id')
    .select(['r.id', 'r.items', 'r.declaration_id', 'r.submitted_at', 'r.cancelled_at'])
    .where('r.id', '=', requestId)
    .where('d.user_id', '=', userId)
    .executeTakeFirst();
}

export type UploadResult = { ok: true; complete: boolean } | { ok: false; status: 404 | 409 | 422; error: string };

/** The applicant uploads a file for one named item; when every item has one, the request is handed in. */
export async function uploadSupplement(ctx: AppContext, userId: number, requestId: number, itemKey: string, file: UploadInput, req: FastifyRequest): Promise<UploadResult> {
  const r = await ownOpenRequest(ctx, userId, requestId);
  if (!r) return { ok: false, status: 404, error: '补充材料要求不存在' };
  if (r.cancelled_at) return { ok: false, status: 409, error: '审核部门已撤销该补充材料要求，无需上传' };
  if (r.submitted_at) return { ok: false, status: 409, error: '补充材料已全部上传，不能再修改' };
  const items = JSON.parse(r.items) as SupplementItem[];
  const item = items.find((i) => i.key === itemKey);
  if (!item) return { ok: false, status: 404, error: '补充材料要求不存在' };
  const stored = await storeFile(ctx, userId, file, 'doc');
  if (!stored.ok) return { ok: false, status: 422, error: stored.error };
  const stamp = ctx.config.now().toISOString();
  const complete = await writeTx(ctx.db, async (trx) => {
    await trx.insertInto('attachments').values({ user_id: userId, owner_type: 'supplement', owner_id: r.id, slot: item.key, file_id: stored.fileId, created_at: stamp }).execute();
    const keys = (await trx.selectFrom('attachments').select('slot').where('owner_type', '=', 'supplement').where('owner_id', '=', r.id).execute()).map((a) => a.slot);
    const done = missingItems(items, keys).length === 0;
    if (done) await trx.updateTable('supplement_requests').set({ submitted_at: stamp }).where('id', '=', r.id).execute();
    await trx.insertInto('workflow_events').values({
      declaration_id: r.declaration_id, actor_user_id: userId, action: 'supplement_upload', opinion: `${item.label}${done ? '（补充材料已全部上传）' : ''}`,
      from_status: 'reviewing', to_status: 'reviewing', data: JSON.stringify({ request: r.id, item: item.key, file: stored.fileId }), created_at: stamp,
    }).execute();
    await audit(ctx, req, { action: 'supplement_upload', objectType: 'declaration', objectId: r.declaration_id, detail: `补充材料“${item.label}”：文件 ${stored.fileId}` }, trx);
    return done;
  });
  return { ok: true, complete };
}

/** A supplement file of a declaration the staff user may see (scope first), or undefined. */
export async function supplementFileForStaff(ctx: AppContext, user: CurrentUser, declarationId: number, fileId: number) {
  const d = await visibleDeclaration(ctx, user, declarationId);
  if (!d || !Number.isSafeInteger(fileId)) return undefined;
  return ctx.db
    .selectFrom('attachments as a')
    .innerJoin('supplement_requests as r', 'r.id', 'a.owner_id')
    .innerJoin('files as f', 'f.id', 'a.file_id')
    .select(['f.id', 'f.sha256', 'f.size', 'f.mime', 'f.original_name as name'])
    .where('a.owner_type', '=', 'supplement')
    .where('r.declaration_id', '=', d.id)
    .where('a.file_id', '=', fileId)
    .executeTakeFirst();
}

export type ChangeResult = { ok: true } | { ok: false; status: 404 | 409; error: string };

/**
 * The stage that asked withdraws an open request (撤销补充材料要求): nothing more is asked of the
 * applicant; files already uploaded stay with the request for the record.
 */
export async function cancelSupplement(ctx: AppContext, user: CurrentUser, declarationId: number, requestId: number, req: FastifyRequest): Promise<ChangeResult> {
  const d = await visibleDeclaration(ctx, user, declarationId);
  if (!d || !Number.isSafeInteger(requestId)) return { ok: false, status: 404, error: '补充材料要求不存在' };
  const stamp = ctx.config.now().toISOString();
  const r = await writeTx(ctx.db, async (trx): Promise<ChangeResult> => {
    const row = await trx.selectFrom('supplement_requests').select(['id', 'items', 'submitted_at', 'cancelled_at']).where('id', '=', requestId).where('declaration_id', '=', d.id).where('org_id', '=', user.orgId ?? -1).executeTakeFirst();
    if (!row) return { ok: false, status: 404, error: '补充材料要求不存在' };
    if (row.cancelled_at) return { ok: false, status: 409, error: '该补充材料要求已撤销' };
    if (row.submitted_at) return { ok: false, status: 409, error: '申报人已全部上传，不能撤销' };
    await trx.updateTable('supplement_requests').set({ cancelled_at: stamp, cancelled_by: user.id }).where('id', '=', row.id).execute();
    const labels = (JSON.parse(row.items) as SupplementItem[]).map((i) => i.label).join('、');
    await trx.insertInto('workflow_events').values({
      declaration_id: d.id, actor_user_id: user.id, org_id: user.orgId, stage: d.stage, action: 'supplement_cancel', opinion: labels,
      from_status: d.status, to_status: d.status, data: JSON.stringify({ request: row.id }), created_at: stamp,
    }).execute();
    await audit(ctx, req, { action: 'supplement_cancel', objectType: 'declaration', objectId: d.id, detail: `撤销补充材料要求：${labels}` }, trx);
    return { ok: true };
  });
  if (r.ok) await sendMessage(ctx, d.user_id, '审核消息', '审核部门已撤销此前要求的补充材料，无需再上传。');
  return r;
}

/** The applicant's uploaded file of an open request, for its confirmation page, or undefined. */
export async function ownSupplementFile(ctx: AppContext, userId: number, requestId: number, itemKey: string, fileId: number) {
  const r = await ownOpenRequest(ctx, userId, requestId);
  if (!r || !Number.isSafeInteger(fileId)) return undefined;
  const item = (JSON.parse(r.items) as SupplementItem[]).find((i) => i.key === itemKey);
  if (!item) return undefined;
  const a = await ctx.db
    .selectFrom('attachments as a')
    .innerJoin('files as f', 'f.id', 'a.file_id')
    .select(['a.id', 'a.file_id', 'f.original_name as name'])
    .where('a.owner_type', '=', 'supplement')
    .where('a.owner_id', '=', r.id)
    .where('a.slot', '=', item.key)
    .where('a.file_id', '=', fileId)
    .where('a.user_id', '=', userId)
    .executeTakeFirst();
  return a ? { request: r, item, attachmentId: a.id, fileId: a.file_id, name: a.name } : undefined;
}

/** The applicant removes a wrong file while the request is still open (not handed in, not withdrawn). */
export async function removeSupplementFile(ctx: AppContext, userId: number, requestId: number, itemKey: string, fileId: number, req: FastifyRequest): Promise<ChangeResult> {
  const f = await ownSupplementFile(ctx, userId, requestId, itemKey, fileId);
  if (!f) return { ok: false, status: 404, error: '文件不存在' };
  if (f.request.cancelled_at) return { ok: false, status: 409, error: '审核部门已撤销该补充材料要求' };
  if (f.request.submitted_at) return { ok: false, status: 409, error: '补充材料已全部上传，不能再修改' };
  const stamp = ctx.config.now().toISOString();
  const shas = await writeTx(ctx.db, async (trx) => {
    // Checked again inside the transaction: the last upload may have handed the request in meanwhile.
    const open = await trx.selectFrom('supplement_requests').select('id').where('id', '=', f.request.id).where('submitted_at', 'is', null).where('cancelled_at', 'is', null).executeTakeFirst();
    if (!open) return null;
    await trx.deleteFrom('attachments').where('id', '=', f.attachmentId).execute();
    await trx.insertInto('workflow_events').values({
      declaration_id: f.request.declaration_id, actor_user_id: userId, action: 'supplement_remove', opinion: f.item.label,
      from_status: 'reviewing', to_status: 'reviewing', data: JSON.stringify({ request: f.request.id, item: f.item.key, file: f.fileId }), created_at: stamp,
    }).execute();
    await audit(ctx, req, { action: 'supplement_remove', objectType: 'declaration', objectId: f.request.declaration_id, detail: `删除补充材料“${f.item.label}”：文件 ${f.fileId}` }, trx);
    return releaseFiles(trx, userId, [f.fileId]);
  });
  if (shas === null) return { ok: false, status: 409, error: '补充材料已全部上传，不能再修改' };
  await sweepBlobs(ctx, shas);
  return { ok: true };
}

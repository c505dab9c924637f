/**
 * Import batches: an uploaded file is kept in the blob store (ctx.blobs: shared by every process
 * and machine) between its dry run and its confirmation, with the dry run's report. The
 * confirmation reads the same bytes again and re-checks them inside its transaction.
 */
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database, ImportBatchesTable } from '../../db/schema.js';
import type { TempUpload } from '../../lib/multipart.js';
import { makePage, type Page } from '../../lib/paging.js';
import type { FastifyRequest } from 'fastify';
import { audit } from '../audit/service.js';
import { readTable, type Table } from './table.js';

export type RowClass = 'new' | 'duplicate' | 'conflict' | 'invalid';
export const CLASS_NAMES: Record<RowClass, string> = { new: '新增', duplicate: '重复（已导入）', conflict: '冲突', invalid: '无效' };
export const CLASSES = Object.keys(CLASS_NAMES) as RowClass[];

/** One line of a dry-run report: its class, why, and what the row says (ID numbers masked). */
export interface ReportEntry {
  line: number;
  cls: RowClass;
  reason: string;
  /** Display columns of the kind (e.g. 姓名, 身份证号 masked, 证书编号). */
  cols: string[];
}

export type Summary = Record<RowClass, number> & { rows: number; encoding: string };

export function summarize(report: readonly ReportEntry[], encoding: string): Summary {
  const s: Summary = { new: 0, duplicate: 0, conflict: 0, invalid: 0, rows: report.length, encoding };
  for (const r of report) s[r.cls]++;
  return s;
}

export type Kind = ImportBatchesTable['kind'];

/** Keeps an uploaded temp file under its sha (the temp file itself is removed with the request). */
export async function keepUpload(ctx: AppContext, file: TempUpload): Promise<void> {
  await ctx.blobs.put(file.sha256, { path: file.path });
}

export async function createBatch(ctx: AppContext, userId: number, kind: Kind, file: TempUpload, filename: string, report: ReportEntry[], summary: Summary): Promise<number> {
  const row = await ctx.db
    .insertInto('import_batches')
    .values({
      kind, sha256: file.sha256, size: file.size, filename, status: 'checked', summary: JSON.stringify(summary), report: JSON.stringify(report),
      created_by: userId, created_at: ctx.config.now().toISOString(), imported_at: null, imported_count: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function getBatch(db: Kysely<Database>, id: number) {
  if (!Number.isSafeInteger(id)) return undefined;
  return db.selectFrom('import_batches').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function recentBatches(ctx: AppContext, kind: Kind, limit = 10) {
  const rows = await ctx.db
    .selectFrom('import_batches')
    .select(['id', 'filename', 'status', 'summary', 'created_at', 'imported_at', 'imported_count'])
    .where('kind', '=', kind)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, summary: JSON.parse(r.summary) as Summary }));
}

/** One page of a batch's report, optionally one class only. */
export function reportPage(batch: { report: string }, cls: string | undefined, page: number, size: number): Page<ReportEntry> {
  const all = JSON.parse(batch.report) as ReportEntry[];
  const rows = cls && (CLASSES as string[]).includes(cls) ? all.filter((r) => r.cls === cls) : all;
  return makePage(rows.slice((page - 1) * size, page * size), rows.length, page, size);
}

/** Sanitised client file name for display. */
export function displayName(name: string): string {
  return (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f<>"]/g, '').slice(0, 100) || '导入文件';
}

export class StaleBatch extends Error {}

/**
 * The stored file of a batch that may still be confirmed: its kind, not yet imported, bytes still
 * in the blob store. One check for every import's confirmation.
 */
export async function checkedBatchFile(ctx: AppContext, batchId: number, kind: Kind): Promise<{ ok: true; buf: Buffer; batch: NonNullable<Awaited<ReturnType<typeof getBatch>>> } | { ok: false; error: string }> {
  const batch = await getBatch(ctx.db, batchId);
  if (!batch || batch.kind !== kind) return { ok: false, error: '导入批次不存在' };
  if (batch.status !== 'checked') return { ok: false, error: '该批次已导入，不能重复导入' };
  try {
    return { ok: true, buf: await ctx.blobs.read(batch.sha256), batch };
  } catch {
    return { ok: false, error: '导入文件已丢失，请重新上传' };
  }
}

/**
 * The dry run of a table import (certificates, units): reads the file, classifies its rows,
 * keeps the file and its report as a batch (nothing is imported) and audits the check.
 */
export async function dryRunTable(
  ctx: AppContext, req: FastifyRequest, file: TempUpload, buf: Buffer, kind: Kind, what: string,
  classify: (table: Extract<Table, { ok: true }>) => Promise<{ ok: true; value: { report: ReportEntry[] } } | { ok: false; error: string }>,
): Promise<{ ok: true; batchId: number } | { ok: false; error: string }> {
  const table = await readTable(buf);
  if (!table.ok) return table;
  const c = await classify(table);
  if (!c.ok) return c;
  await keepUpload(ctx, file);
  const summary = summarize(c.value.report, table.encoding);
  const name = displayName(file.filename);
  const batchId = await createBatch(ctx, req.user!.id, kind, file, name, c.value.report, summary);
  await audit(ctx, req, { action: 'exchange_check', objectType: 'import_batch', objectId: batchId, detail: `${what}预检：${name}，新增${summary.new}，重复${summary.duplicate}，冲突${summary.conflict}，无效${summary.invalid}` });
  return { ok: true, batchId };
}

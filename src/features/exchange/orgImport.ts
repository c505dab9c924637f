/**
 * 导入单位和主管部门 with their 统一社会信用代码: the same dry run and confirmation as the
 * certificates (./certImport.ts). 主管部门 of a unit: a 主管部门 of this file (its code or name)
 * or one already in the system; its binding is then approved at once (the province's own data).
 */
import type { Kysely } from 'kysely';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { mapHeader } from '../../domain/legacyCert.js';
import { checkOrgRow, ORG_ALIASES, ORG_COLUMNS, type OrgColumn, type OrgLookups, type OrgRowValue } from '../../domain/orgImportRow.js';
import type { TempUpload } from '../../lib/multipart.js';
import { audit } from '../audit/service.js';
import { readTable, type Table } from './table.js';
import { summarize, type ReportEntry, checkedBatchFile, dryRunTable } from './batches.js';

type Db = Kysely<Database>;
const KIND_NAME = { unit: '用人单位', supervisor: '主管部门' } as const;

async function lookups(db: Db): Promise<OrgLookups> {
  const items = await db.selectFrom('dict_items').select(['dict', 'code', 'name']).where('dict', 'in', ['unit_nature', 'unit_level']).where('disabled', '=', 0).execute();
  const map = (dict: string) => new Map(items.filter((i) => i.dict === dict).flatMap((i) => [[i.code, i.code], [i.name, i.code]] as [string, string][]));
  const regions = await db.selectFrom('regions').select(['code', 'name']).execute();
  const region = new Map<string, string>();
  const names = new Map<string, number>();
  for (const r of regions) names.set(r.name, (names.get(r.name) ?? 0) + 1);
  for (const r of regions) {
    region.set(r.code, r.code);
    if (names.get(r.name) === 1) region.set(r.name, r.code);
  }
  return { nature: map('unit_nature'), unitLevel: map('unit_level'), region };
}

interface Fresh extends OrgRowValue {
  /** The supervisor: an existing org id, or the USCC of a 主管部门 row of this file. */
  supervisor: { id: number } | { uscc: string } | null;
}

export async function classify(ctx: AppContext, db: Db, table: Extract<Table, { ok: true }>): Promise<{ ok: true; value: { report: ReportEntry[]; fresh: Fresh[] } } | { ok: false; error: string }> {
  const header = mapHeader(table.header, ORG_COLUMNS, ORG_ALIASES);
  if (!header.ok) return header;
  const lk = await lookups(db);
  const entries: ReportEntry[] = [];
  const valid: { at: number; line: number; row: OrgRowValue }[] = [];
  const seen = new Map<string, number>();
  for (const r of table.rows) {
    const cells = Object.fromEntries(ORG_COLUMNS.map((c) => [c, r.cells[header.index[c]!] ?? ''])) as Record<OrgColumn, string>;
    const c = checkOrgRow(cells, lk);
    if (!c.ok) {
      entries.push({ line: r.line, cls: 'invalid', reason: c.reasons.join('；'), cols: [c.name, c.uscc, cells['类型'].trim()] });
      continue;
    }
    const first = seen.get(c.row.uscc);
    const e: ReportEntry = { line: r.line, cls: 'new', reason: '', cols: [c.row.name, c.row.uscc, KIND_NAME[c.row.kind]] };
    if (first !== undefined) Object.assign(e, { cls: 'invalid', reason: `与第${first}行统一社会信用代码重复` });
    else {
      seen.set(c.row.uscc, r.line);
      valid.push({ at: entries.length, line: r.line, row: c.row });
    }
    entries.push(e);
  }
  const existing = new Map<string, { id: number; name: string; kind: string }>();
  const codes = valid.map((v) => v.row.uscc);
  for (let i = 0; i < codes.length; i += 500) {
    for (const o of await db.selectFrom('orgs').select(['id', 'name', 'kind', 'uscc']).where('uscc', 'in', codes.slice(i, i + 500)).execute()) existing.set(o.uscc!, o);
  }
  const sups = await db.selectFrom('orgs').select(['id', 'name', 'uscc']).where('kind', '=', 'supervisor').where('disabled', '=', 0).execute();
  const newSups = new Map<string, string>(); // name or USCC → USCC of a new 主管部门 row
  const keep: { at: number; row: OrgRowValue }[] = [];
  for (const v of valid) {
    const e = entries[v.at]!;
    const before = existing.get(v.row.uscc);
    if (before && before.name === v.row.name && before.kind === v.row.kind) Object.assign(e, { cls: 'duplicate', reason: '该单位已存在，将跳过' });
    else if (before) Object.assign(e, { cls: 'conflict', reason: `统一社会信用代码已被“${before.name}”使用` });
    else {
      keep.push(v);
      if (v.row.kind === 'supervisor') {
        newSups.set(v.row.uscc, v.row.uscc);
        newSups.set(v.row.name, v.row.uscc);
      }
    }
  }
  const fresh: Fresh[] = [];
  for (const v of keep) {
    let supervisor: Fresh['supervisor'] = null;
    const ref = v.row.supervisorRef;
    if (ref) {
      const inFile = newSups.get(ref) ?? newSups.get(ref.toUpperCase());
      const inDb = sups.find((s) => s.uscc === ref.toUpperCase() || s.name === ref);
      if (inFile) supervisor = { uscc: inFile };
      else if (inDb) supervisor = { id: inDb.id };
      else {
        Object.assign(entries[v.at]!, { cls: 'invalid', reason: `主管部门“${ref}”不存在（应为系统中或本文件中的主管部门，填写名称或统一社会信用代码）` });
        continue;
      }
    }
    fresh.push({ ...v.row, supervisor });
  }
  return { ok: true, value: { report: entries, fresh } };
}

export async function dryRun(ctx: AppContext, req: FastifyRequest, file: TempUpload, buf: Buffer) {
  return dryRunTable(ctx, req, file, buf, 'orgs', '导入单位和主管部门', (table) => classify(ctx, ctx.db, table));
}

export async function confirm(ctx: AppContext, req: FastifyRequest, batchId: number): Promise<{ ok: true; imported: number } | { ok: false; error: string }> {
  const file = await checkedBatchFile(ctx, batchId, 'orgs');
  if (!file.ok) return file;
  const { buf, batch } = file;
  const table = await readTable(buf);
  if (!table.ok) return table;
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    const now = await trx.selectFrom('import_batches').select('status').where('id', '=', batchId).executeTakeFirstOrThrow();
    if (now.status !== 'checked') return { ok: false, error: '该批次已导入，不能重复导入' } as const;
    const c = await classify(ctx, trx, table);
    if (!c.ok) return c;
    const ids = new Map<string, number>();
    // Departments first: the units of the same file point at them.
    const ordered = [...c.value.fresh].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'supervisor' ? -1 : 1));
    for (const o of ordered) {
      const supId = o.supervisor ? ('id' in o.supervisor ? o.supervisor.id : ids.get(o.supervisor.uscc) ?? null) : null;
      const row = await trx
        .insertInto('orgs')
        .values({
          kind: o.kind, name: o.name, code: null, hrb_level: null, committee_level: null, region_code: o.regionCode, uscc: o.uscc, nature: o.nature, unit_level: o.unitLevel,
          supervisor_org_id: supId, address: o.address, phone: o.phone, contact: o.contact, scope: null, organizer: null, plan_months: null, series_code: null,
          committee_tier: null, legal_rep: null, industry: null, location: null, fax: null, remark: `导入批次 ${batchId}`, license_file_id: null, seal_file_id: null,
          supervisor_status: supId ? 'approved' : null, created_at: stamp, updated_at: stamp,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids.set(o.uscc, row.id);
    }
    await trx.updateTable('import_batches').set({ status: 'imported', imported_at: stamp, imported_count: ordered.length, summary: JSON.stringify(summarize(c.value.report, table.encoding)), report: JSON.stringify(c.value.report) }).where('id', '=', batchId).execute();
    await audit(ctx, req, { action: 'exchange_import', objectType: 'import_batch', objectId: batchId, detail: `导入单位和主管部门${ordered.length}个（${batch.filename}）` }, trx);
    return { ok: true, imported: ordered.length } as const;
  });
}

/**
 * The dictionary set out (导出基本代码) and in (接收更新代码): series, titles, regions, committees
 * and every enum/tree of dict_items, one versioned JSON file. An import is previewed (added,
 * renamed, disabled, enabled), then applied in one transaction; every process reloads after it
 * (ctx.dicts.changed()). Nothing is deleted: rows filled earlier keep their text.
 */
import type { Kysely } from 'kysely';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { DICT_FORMAT, DICT_VERSION, diffDicts, parseDictSet, titleKey, type DictChange, type DictEntry } from '../../domain/dictDiff.js';
import type { TempUpload } from '../../lib/multipart.js';
import { audit } from '../audit/service.js';
import { keepUpload, displayName, checkedBatchFile } from './batches.js';

type Db = Kysely<Database>;

export async function exportSet(db: Db, now: Date) {
  const series = await db.selectFrom('series').select(['code', 'name', 'sort', 'disabled']).orderBy('sort').orderBy('code').execute();
  const titles = await db.selectFrom('titles').select(['series_code', 'track', 'level', 'name', 'sort', 'disabled']).orderBy('series_code').orderBy('sort').orderBy('id').execute();
  const regions = await db.selectFrom('regions').select(['code', 'name', 'parent_code', 'level', 'zone', 'disabled']).orderBy('code').execute();
  const committees = await db.selectFrom('orgs').select(['code', 'name', 'committee_level', 'committee_tier', 'scope', 'organizer', 'phone', 'disabled']).where('kind', '=', 'committee').where('code', 'is not', null).orderBy('code').execute();
  const items = await db.selectFrom('dict_items').select(['dict', 'code', 'name', 'parent_code', 'sort', 'extra', 'disabled']).orderBy('dict').orderBy('sort').orderBy('id').execute();
  const enums: Record<string, unknown[]> = {};
  for (const i of items) (enums[i.dict] ??= []).push({ code: i.code, name: i.name, parent_code: i.parent_code, sort: i.sort, extra: i.extra ? JSON.parse(i.extra) : null, disabled: i.disabled === 1 });
  const flag = <T extends { disabled: number }>(r: T) => ({ ...r, disabled: r.disabled === 1 });
  return {
    format: DICT_FORMAT, version: DICT_VERSION, exported_at: now.toISOString(),
    series: series.map(flag), titles: titles.map(flag), regions: regions.map((r) => ({ ...r, disabled: r.disabled === 1, zone: r.zone === 1 })), committees: committees.map(flag), enums,
  };
}

/** What is in the database now, as entries of the file format. */
export async function currentEntries(db: Db): Promise<DictEntry[]> {
  const parsed = parseDictSet(JSON.stringify(await exportSet(db, new Date(0))));
  return parsed.ok ? parsed.entries : [];
}

export const CHANGE_NAMES = { added: '新增', renamed: '改名', disabled: '停用', enabled: '启用' } as const;
export const GROUP_NAMES: Record<string, string> = { series: '职称系列', titles: '职称', regions: '行政区域', committees: '评委会', enums: '字典' };

export interface DictPreview {
  exportedAt: string;
  counts: Record<keyof typeof CHANGE_NAMES, number>;
  changes: DictChange[];
}

function countsOf(changes: DictChange[]) {
  const counts = { added: 0, renamed: 0, disabled: 0, enabled: 0 };
  for (const c of changes) counts[c.kind]++;
  return counts;
}

export async function dryRun(ctx: AppContext, req: FastifyRequest, file: TempUpload, buf: Buffer): Promise<{ ok: true; batchId: number } | { ok: false; error: string }> {
  const parsed = parseDictSet(buf.toString('utf8').replace(/^\ufeff/, ''));
  if (!parsed.ok) return parsed;
  const changes = diffDicts(await currentEntries(ctx.db), parsed.entries);
  await keepUpload(ctx, file);
  const counts = countsOf(changes);
  const name = displayName(file.filename);
  const row = await ctx.db
    .insertInto('import_batches')
    .values({ kind: 'dicts', sha256: file.sha256, size: file.size, filename: name, status: 'checked', summary: JSON.stringify({ exportedAt: parsed.exportedAt, counts }), report: JSON.stringify(changes), created_by: req.user!.id, created_at: ctx.config.now().toISOString(), imported_at: null, imported_count: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  await audit(ctx, req, { action: 'exchange_check', objectType: 'import_batch', objectId: row.id, detail: `接收更新代码预览：${name}，新增${counts.added}，改名${counts.renamed}，停用${counts.disabled}，启用${counts.enabled}` });
  return { ok: true, batchId: row.id };
}

async function apply(trx: Db, c: DictChange, stamp: string): Promise<void> {
  const e = c.entry;
  const d = e.data as Record<string, any>;
  const disabled = c.kind === 'disabled' ? 1 : 0;
  switch (e.group) {
    case 'series':
      if (c.kind === 'added') await trx.insertInto('series').values({ code: e.key, name: e.name, sort: Number(d.sort) || 0, disabled: e.disabled ? 1 : 0 }).execute();
      else if (c.kind === 'renamed') await trx.updateTable('series').set({ name: e.name }).where('code', '=', e.key).execute();
      else await trx.updateTable('series').set({ disabled }).where('code', '=', e.key).execute();
      return;
    case 'titles': {
      if (c.kind === 'added') {
        await trx.insertInto('titles').values({ series_code: String(d.series_code), track: d.track ?? null, level: String(d.level), name: e.name, sort: Number(d.sort) || 0, disabled: e.disabled ? 1 : 0 }).execute();
        return;
      }
      const rows = await trx.selectFrom('titles').select(['id', 'series_code', 'level', 'track', 'name']).where('series_code', '=', String(d.series_code)).where('level', '=', String(d.level)).execute();
      for (const r of rows.filter((r) => titleKey(r) === e.key)) await trx.updateTable('titles').set(c.kind === 'renamed' ? { name: e.name } : { disabled }).where('id', '=', r.id).execute();
      return;
    }
    case 'regions':
      if (c.kind === 'added') await trx.insertInto('regions').values({ code: e.key, name: e.name, parent_code: d.parent_code ?? null, level: d.level, zone: d.zone ? 1 : 0, disabled: e.disabled ? 1 : 0 }).execute();
      else if (c.kind === 'renamed') await trx.updateTable('regions').set({ name: e.name }).where('code', '=', e.key).execute();
      else await trx.updateTable('regions').set({ disabled }).where('code', '=', e.key).execute();
      return;
    case 'committees': {
      const by = trx.updateTable('orgs').where('kind', '=', 'committee').where('code', '=', e.key);
      if (c.kind === 'added') {
        await trx.insertInto('orgs').values({
          kind: 'committee', name: e.name, code: e.key, committee_level: d.committee_level ?? null, committee_tier: d.committee_tier ?? 'city', scope: d.scope ?? null, organizer: d.organizer ?? null,
          phone: d.phone ?? null, hrb_level: null, region_code: null, uscc: null, nature: null, unit_level: null, supervisor_org_id: null, address: null, contact: null, plan_months: null,
          series_code: null, legal_rep: null, industry: null, location: null, fax: null, remark: null, license_file_id: null, seal_file_id: null, supervisor_status: null,
          disabled: e.disabled ? 1 : 0, created_at: stamp, updated_at: stamp,
        }).execute();
      } else if (c.kind === 'renamed') await by.set({ name: e.name, updated_at: stamp }).execute();
      else await by.set({ disabled, updated_at: stamp }).execute();
      return;
    }
    case 'enums': {
      if (c.kind === 'added') {
        await trx.insertInto('dict_items').values({ dict: e.dict, code: e.key, name: e.name, parent_code: d.parent_code ?? null, sort: Number(d.sort) || 0, extra: d.extra ? JSON.stringify(d.extra) : null, disabled: e.disabled ? 1 : 0 }).execute();
        return;
      }
      await trx.updateTable('dict_items').set(c.kind === 'renamed' ? { name: e.name } : { disabled }).where('dict', '=', e.dict).where('code', '=', e.key).execute();
    }
  }
}

export async function confirm(ctx: AppContext, req: FastifyRequest, batchId: number): Promise<{ ok: true; imported: number } | { ok: false; error: string }> {
  const file = await checkedBatchFile(ctx, batchId, 'dicts');
  if (!file.ok) return file;
  const { buf, batch } = file;
  const parsed = parseDictSet(buf.toString('utf8').replace(/^\ufeff/, ''));
  if (!parsed.ok) return parsed;
  const stamp = ctx.config.now().toISOString();
  const r = await writeTx(ctx.db, async (trx) => {
    const now = await trx.selectFrom('import_batches').select('status').where('id', '=', batchId).executeTakeFirstOrThrow();
    if (now.status !== 'checked') return { ok: false, error: '该批次已导入，不能重复导入' } as const;
    // Against the dictionaries as they are now (an admin may have edited since the preview).
    const changes = diffDicts(await currentEntries(trx), parsed.entries);
    // Parents before children (series before titles, provinces before counties).
    const order = ['series', 'titles', 'regions', 'committees', 'enums'];
    const sorted = [...changes].sort((a, b) => order.indexOf(a.entry.group) - order.indexOf(b.entry.group) || a.entry.key.length - b.entry.key.length);
    for (const c of sorted) await apply(trx, c, stamp);
    const counts = countsOf(changes);
    await trx.updateTable('import_batches').set({ status: 'imported', imported_at: stamp, imported_count: changes.length, summary: JSON.stringify({ exportedAt: parsed.exportedAt, counts }), report: JSON.stringify(changes) }).where('id', '=', batchId).execute();
    await audit(ctx, req, { action: 'config_change', objectType: 'dicts', objectId: batchId, detail: `接收更新代码（${batch.filename}）：新增${counts.added}，改名${counts.renamed}，停用${counts.disabled}，启用${counts.enabled}` }, trx);
    return { ok: true, imported: changes.length } as const;
  });
  // Every process reloads its copy (src/features/dicts/service.ts).
  if (r.ok) await ctx.dicts.changed();
  return r;
}

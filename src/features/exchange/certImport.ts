/**
 * 导入历史证书: a dry run classifies every row (新增 / 重复 / 冲突 / 无效, with the reason); the
 * confirmation imports the 新增 rows in one write transaction, re-checked there against the
 * database as it then is. An imported certificate fills its holder's 现有职称 (now when the
 * account exists, else at registration) and answers at /verify-cert as imported.
 */
import type { Kysely } from 'kysely';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { checkCertRow, duplicatesInFile, mapHeader, CERT_COLUMNS, type CertColumn, type CertRow } from '../../domain/legacyCert.js';
import { maskIdNumber } from '../../domain/mask.js';
import { LEVEL_NAMES } from '../../domain/declaration.js';
import { idHmac } from '../../lib/pii.js';
import type { TempUpload } from '../../lib/multipart.js';
import type { Dicts } from '../dicts/service.js';
import { chinaToday } from '../plans/repository.js';
import { newVerifyCode } from '../results/service.js';
import { audit } from '../audit/service.js';
import { readTable, type Table } from './table.js';
import { summarize, type ReportEntry, checkedBatchFile, dryRunTable } from './batches.js';

type Db = Kysely<Database>;
const CHUNK = 500;

interface Classified {
  report: ReportEntry[];
  fresh: CertRow[];
}

function chunks<T>(list: readonly T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
}

/** Classifies the rows of a read table against the database `db` (a transaction at confirmation). */
export async function classify(ctx: AppContext, db: Db, table: Extract<Table, { ok: true }>): Promise<{ ok: true; value: Classified } | { ok: false; error: string }> {
  const header = mapHeader(table.header);
  if (!header.ok) return header;
  const now = ctx.config.now();
  const today = chinaToday(now);
  const entries: (ReportEntry & { row?: CertRow })[] = [];
  const valid: { line: number; row: CertRow; at: number }[] = [];
  for (const r of table.rows) {
    const cells = Object.fromEntries(CERT_COLUMNS.map((c) => [c, r.cells[header.index[c]!] ?? ''])) as Record<CertColumn, string>;
    const checked = checkCertRow(cells, today, now);
    const rawId = cells['身份证号'].trim();
    if (!checked.ok) {
      // An ID typed as a number in Excel has lost its last digits (1.23E+17).
      const reasons = /e\+/i.test(rawId) ? ['身份证号请以文本格式填写（Excel 中18位数字会丢失末尾数字）', ...checked.reasons.filter((x) => !x.startsWith('身份证号'))] : checked.reasons;
      entries.push({ line: r.line, cls: 'invalid', reason: reasons.join('；'), cols: [checked.name, /^\d{17}[\dXx]$/.test(rawId) ? maskIdNumber(rawId.toUpperCase()) : rawId.slice(0, 20), checked.number] });
      continue;
    }
    const row = checked.row;
    valid.push({ line: r.line, row, at: entries.length });
    entries.push({ line: r.line, cls: 'new', reason: '', cols: [row.name, maskIdNumber(row.idNumber), row.number], row });
  }
  const dup = duplicatesInFile(valid);
  for (const [i, reason] of dup) Object.assign(entries[valid[i]!.at]!, { cls: 'invalid', reason });
  const candidates = valid.filter((_, i) => !dup.has(i));

  // Against the database: certificate numbers issued here or imported before, and accounts.
  const issued = new Set<string>();
  const imported = new Map<string, { id_hmac: string; name: string; title_name: string }>();
  for (const part of chunks(candidates.map((c) => c.row.number))) {
    for (const r of await db.selectFrom('certificates').select('number').where('number', 'in', part).execute()) issued.add(r.number);
    for (const r of await db.selectFrom('legacy_certificates').select(['number', 'id_hmac', 'name', 'title_name']).where('number', 'in', part).execute()) imported.set(r.number, r);
  }
  const hmacs = new Map(candidates.map((c) => [c.row.idNumber, idHmac(ctx.secrets, c.row.idNumber)]));
  const accounts = new Map<string, string>();
  for (const part of chunks([...new Set(hmacs.values())])) {
    for (const r of await db.selectFrom('users').select(['id_hmac', 'name']).where('kind', '=', 'applicant').where('id_hmac', 'in', part).execute()) accounts.set(r.id_hmac!, r.name);
  }
  const fresh: CertRow[] = [];
  for (const c of candidates) {
    const e = entries[c.at]!;
    const h = hmacs.get(c.row.idNumber)!;
    const before = imported.get(c.row.number);
    const holder = accounts.get(h);
    if (issued.has(c.row.number)) Object.assign(e, { cls: 'conflict', reason: '证书编号已存在（本系统发放的证书）' });
    else if (before && before.id_hmac === h && before.name === c.row.name && before.title_name === c.row.titleName) Object.assign(e, { cls: 'duplicate', reason: '该证书已导入，将跳过' });
    else if (before) Object.assign(e, { cls: 'conflict', reason: '证书编号已存在（已导入的其他证书）' });
    else if (holder !== undefined && holder !== c.row.name) Object.assign(e, { cls: 'conflict', reason: `该身份证号已注册，注册姓名与文件中的姓名“${c.row.name}”不一致` });
    else fresh.push(c.row);
  }
  return { ok: true, value: { report: entries.map(({ row: _row, ...e }) => e), fresh } };
}

export type DryRun = { ok: true; batchId: number } | { ok: false; error: string };

/** Reads, classifies and keeps an uploaded file; nothing is imported. */
export async function dryRun(ctx: AppContext, req: FastifyRequest, file: TempUpload, buf: Buffer): Promise<DryRun> {
  return dryRunTable(ctx, req, file, buf, 'certificates', '导入历史证书', (table) => classify(ctx, ctx.db, table));
}

export type Confirm = { ok: true; imported: number; linked: number } | { ok: false; error: string };

/** Imports the rows that are still new, all in one transaction (all or nothing). */
export async function confirm(ctx: AppContext, req: FastifyRequest, batchId: number): Promise<Confirm> {
  const file = await checkedBatchFile(ctx, batchId, 'certificates');
  if (!file.ok) return file;
  const { buf, batch } = file;
  const table = await readTable(buf);
  if (!table.ok) return table;
  const dicts = await ctx.dicts.ready();
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    // Re-read inside the lock: a second confirmation (another tab, another process) sees 'imported'.
    const now = await trx.selectFrom('import_batches').select('status').where('id', '=', batchId).executeTakeFirstOrThrow();
    if (now.status !== 'checked') return { ok: false, error: '该批次已导入，不能重复导入' } as const;
    const c = await classify(ctx, trx, table);
    if (!c.ok) return c;
    const fresh = c.value.fresh;
    for (const part of chunks(fresh, 200)) {
      await trx
        .insertInto('legacy_certificates')
        .values(part.map((r) => ({
          batch_id: batchId, id_enc: ctx.secrets.encrypt(r.idNumber), id_hmac: idHmac(ctx.secrets, r.idNumber), id_masked: maskIdNumber(r.idNumber),
          name: r.name, title_name: r.titleName, level: r.level, specialty: r.specialty, obtained_on: r.obtainedOn, number: r.number,
          issuer: r.issuer, method: r.method, verify_code: newVerifyCode(), user_id: null, created_at: stamp,
        })))
        .execute();
    }
    // Holders who already have an account: their 现有职称 now.
    let linked = 0;
    const hmacs = [...new Set(fresh.map((r) => idHmac(ctx.secrets, r.idNumber)))];
    for (const part of chunks(hmacs)) {
      const users = await trx.selectFrom('users').select(['id', 'id_hmac']).where('kind', '=', 'applicant').where('id_hmac', 'in', part).execute();
      for (const u of users) linked += await claimLegacyCertificates(ctx, trx, u.id, u.id_hmac!, dicts);
    }
    await trx.updateTable('import_batches').set({ status: 'imported', imported_at: stamp, imported_count: fresh.length, summary: JSON.stringify(summarize(c.value.report, table.encoding)), report: JSON.stringify(c.value.report) }).where('id', '=', batchId).execute();
    await audit(ctx, req, { action: 'exchange_import', objectType: 'import_batch', objectId: batchId, detail: `导入历史证书${fresh.length}条（${batch.filename}），关联已注册人员证书${linked}条` }, trx);
    return { ok: true, imported: fresh.length, linked } as const;
  });
}

/**
 * Links the unlinked imported certificates of this ID number to the account and adds each to its
 * 现有职称 (section 'titles'); the applicant completes what the old system did not hold (是否聘任,
 * the certificate's scan). Returns how many were linked. Runs in the caller's transaction, with
 * the dictionaries made ready before it began (on SQLite a look-up of their version from inside
 * would wait for the connection the transaction holds).
 */
export async function claimLegacyCertificates(ctx: AppContext, trx: Db, userId: number, hmac: string, dicts: Dicts): Promise<number> {
  const certs = await trx.selectFrom('legacy_certificates').selectAll().where('id_hmac', '=', hmac).where('user_id', 'is', null).orderBy('obtained_on').orderBy('id').execute();
  if (!certs.length) return 0;
  const titles = dicts.options('titles');
  const max = await trx.selectFrom('section_rows').select((eb) => eb.fn.max<number>('position').as('p')).where('user_id', '=', userId).where('section', '=', 'titles').executeTakeFirst();
  let position = Number(max?.p ?? 0);
  const stamp = ctx.config.now().toISOString();
  for (const c of certs) {
    // The dictionary's "系列 - 名称" label when the name is one of its titles; else as imported.
    const label = titles.find((t) => t.name.endsWith(` - ${c.title_name}`) && dicts.titleLevel(t.name) === c.level)?.name ?? titles.find((t) => t.name.endsWith(` - ${c.title_name}`))?.name;
    const data = {
      cert_no: c.number, specialty: c.specialty, title_name: label ?? c.title_name, acquisition: c.method,
      committee: c.issuer, certified_on: c.obtained_on, approval_doc: '', employed: '',
      title_level: (label && dicts.titleLevel(label)) ?? c.level, imported: true, legacy_certificate_id: c.id,
    };
    await trx.insertInto('section_rows').values({ user_id: userId, section: 'titles', position: ++position, data: JSON.stringify(data), created_at: stamp, updated_at: stamp }).execute();
    await trx.updateTable('legacy_certificates').set({ user_id: userId }).where('id', '=', c.id).execute();
  }
  return certs.length;
}

/** At registration (or any new applicant account): its imported certificates, if any. */
export async function claimAtRegistration(ctx: AppContext, userId: number, hmac: string): Promise<void> {
  const any = await ctx.db.selectFrom('legacy_certificates').select('id').where('id_hmac', '=', hmac).where('user_id', 'is', null).limit(1).executeTakeFirst();
  if (!any) return;
  const dicts = await ctx.dicts.ready();
  await writeTx(ctx.db, (trx) => claimLegacyCertificates(ctx, trx, userId, hmac, dicts));
}

/** An imported certificate by its verification code (the public check). */
export async function legacyByVerifyCode(db: Db, code: string) {
  const c = await db.selectFrom('legacy_certificates').select(['id', 'name', 'title_name', 'level', 'specialty', 'obtained_on', 'number', 'issuer', 'method', 'verify_code', 'created_at']).where('verify_code', '=', code).executeTakeFirst();
  return c ? { ...c, levelName: LEVEL_NAMES[c.level] ?? c.level } : undefined;
}

/**
 * 导出申报与评审结果 (issue #17): the declarations an office's review queue can see, with their
 * committee results and certificates, as JSON (streamed page by page) or .xlsx. The scope is the
 * queue's (review/scope.ts scopedOnce: the same visibility as scoped(), each declaration once);
 * a platform admin exports as the office they choose. The schema is documented field by field
 * in docs/exchange.md (“导出申报与评审结果”): change both together.
 */
import { Readable } from 'node:stream';
import type { AppContext } from '../../context.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { statusText, CATEGORY_NAMES, LEVEL_NAMES, type Status } from '../../domain/declaration.js';
import { scopedOnce } from '../review/scope.js';
import { latestConfirmedVotes } from '../results/votes.js';
import { mayReveal } from '../security/reveal.js';
import { xlsxBuffer, type XlsxColumn } from '../../lib/xlsx.js';
import { chinaMinute, chinaStamp, safeCover, safeRoute } from '../stats/service.js';

export const EXPORT_FORMAT = 'zhicheng-declarations';
export const EXPORT_VERSION = 1;
/** Rows read per query: a big office's export never holds more than this many at once (JSON). */
export const EXPORT_PAGE = 500;
/** An .xlsx is built in memory: past this many rows the office is sent to the JSON export. */
export const XLSX_MAX_ROWS = 50_000;

export interface ExportFilters {
  plan?: number;
  /** The applicants' 用人单位 (users.unit_org_id). */
  unit?: number;
  /** Submission date range, China dates (YYYY-MM-DD), both ends included. */
  from?: string;
  to?: string;
}

export interface ExportRow {
  declaration_id: number;
  plan_id: number;
  plan_name: string;
  year: number;
  committee: string;
  name: string;
  id_number: string;
  unit: string;
  title: string;
  level: string;
  level_name: string;
  specialty: string;
  category: string;
  status: string;
  status_text: string;
  submitted_at: string | null;
  result: 'passed' | 'failed' | null;
  meeting_date: string | null;
  votes: { agree: number; disagree: number; abstain: number } | null;
  certificate_number: string | null;
  certificate_issued_at: string | null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (s: string) => DATE.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;

/** GET parameters → filters, or the Chinese message of the first bad one (with its field). */
export function parseExportFilters(query: unknown): { filters: ExportFilters; office?: number; errors: Record<string, string> } {
  const q = (query ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof q[k] === 'string' ? (q[k] as string).trim() : '');
  const errors: Record<string, string> = {};
  const id = (k: string, label: string) => {
    const v = str(k);
    if (!v) return undefined;
    if (!/^\d{1,9}$/.test(v)) {
      errors[k] = `${label}无效`;
      return undefined;
    }
    return Number(v);
  };
  const date = (k: string, label: string) => {
    const v = str(k);
    if (!v) return undefined;
    if (!validDate(v)) {
      errors[k] = `${label}格式应为 YYYY-MM-DD`;
      return undefined;
    }
    return v;
  };
  const filters: ExportFilters = { plan: id('plan', '评审计划'), unit: id('unit', '单位'), from: date('from', '开始日期'), to: date('to', '结束日期') };
  if (filters.from && filters.to && filters.from > filters.to) errors.to = '结束日期不能早于开始日期';
  return { filters, office: id('office', '机构'), errors };
}

/** A China date's first instant (00:00 +08:00) as the ISO text submitted_at is stored in. */
const chinaStart = (day: string) => new Date(`${day}T00:00:00+08:00`).toISOString();
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** The declarations in the office's scope with the filters applied (no columns yet). */
function base(ctx: AppContext, officeId: number, f: ExportFilters) {
  let q = scopedOnce(ctx.db, { orgId: officeId });
  if (f.plan) q = q.where('d.plan_id', '=', f.plan);
  if (f.from) q = q.where('d.submitted_at', '>=', chinaStart(f.from));
  if (f.to) q = q.where('d.submitted_at', '<', chinaStart(nextDay(f.to)));
  if (f.unit) {
    const unit = f.unit;
    q = q.where((eb) => eb.exists(eb.selectFrom('users as uu').select('uu.id').whereRef('uu.id', '=', 'd.user_id').where('uu.unit_org_id', '=', unit)));
  }
  return q;
}

export async function exportCount(ctx: AppContext, officeId: number, f: ExportFilters): Promise<number> {
  const r = await base(ctx, officeId, f).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/**
 * One page of rows after declaration id `after` (keyset on d.id, ascending): the ids through
 * the scope, then the wide columns, votes and certificates of those ids only.
 */
export async function exportPage(ctx: AppContext, officeId: number, f: ExportFilters, after: number, size: number, fullId: boolean): Promise<ExportRow[]> {
  const ids = (await base(ctx, officeId, f).select('d.id').where('d.id', '>', after).orderBy('d.id').limit(size).execute()).map((r) => r.id);
  if (!ids.length) return [];
  const [rows, vote, certs] = await Promise.all([
    ctx.db
      .selectFrom('declarations as d')
      .innerJoin('users as u', 'u.id', 'd.user_id')
      .innerJoin('plans as p', 'p.id', 'd.plan_id')
      .innerJoin('orgs as c', 'c.id', 'p.committee_org_id')
      .leftJoin('orgs as unit', 'unit.id', 'u.unit_org_id')
      .select(['d.id', 'd.plan_id', 'd.year', 'd.status', 'd.stage', 'd.route', 'd.cover', 'd.submitted_at', 'u.name', 'u.id_masked', 'u.id_enc', 'unit.name as unit_name', 'p.name as plan_name', 'c.name as committee'])
      .where('d.id', 'in', ids)
      .orderBy('d.id')
      .execute(),
    latestConfirmedVotes(ctx.db, ids),
    ctx.db.selectFrom('certificates').select(['declaration_id', 'number', 'issued_at']).where('declaration_id', 'in', ids).execute(),
  ]);
  const cert = new Map(certs.map((c) => [c.declaration_id, c] as const));
  return rows.map((d) => {
    const cover = safeCover(d);
    const route = safeRoute(d);
    const stage = d.status === 'reviewing' || d.status === 'returned' ? route[d.stage] ?? null : null;
    const v = vote.get(d.id);
    const c = cert.get(d.id);
    const result = d.status === 'passed' || d.status === 'failed' ? d.status : null;
    return {
      declaration_id: d.id,
      plan_id: d.plan_id,
      plan_name: d.plan_name,
      year: d.year,
      committee: d.committee,
      name: d.name,
      id_number: (fullId && d.id_enc ? ctx.secrets.decrypt(d.id_enc) : d.id_masked) ?? '',
      unit: d.unit_name ?? '',
      title: cover.title ?? '',
      level: cover.level ?? '',
      level_name: (cover.level && LEVEL_NAMES[cover.level]) || cover.level_name || '',
      specialty: cover.specialty ?? '',
      category: (cover.category && CATEGORY_NAMES[cover.category]) || cover.category_name || '',
      status: d.status,
      status_text: statusText(d.status as Status, stage),
      submitted_at: d.submitted_at,
      result,
      meeting_date: result && v ? v.meeting_date : null,
      votes: result && v ? { agree: Number(v.agree), disagree: Number(v.disagree), abstain: Number(v.abstain) } : null,
      certificate_number: c?.number ?? null,
      certificate_issued_at: c?.issued_at ?? null,
    };
  });
}

/** Every row, page by page (EXPORT_PAGE at a time). */
export async function* exportRows(ctx: AppContext, officeId: number, f: ExportFilters, fullId: boolean): AsyncGenerator<ExportRow> {
  let after = 0;
  for (;;) {
    const page = await exportPage(ctx, officeId, f, after, EXPORT_PAGE, fullId);
    for (const r of page) yield r;
    if (page.length < EXPORT_PAGE) return;
    after = page[page.length - 1]!.declaration_id;
  }
}

/** Whether this exporter's file carries full ID numbers (the 汇总表's rule: the reveal permission). */
export const exportsFullId = (user: CurrentUser) => mayReveal(user);

/**
 * The JSON document as a stream: a header object, then `rows` written page by page. Memory stays
 * at one page whatever the size of the export.
 */
export function exportJsonStream(ctx: AppContext, officeId: number, office: string, f: ExportFilters, fullId: boolean, total: number): Readable {
  async function* chunks() {
    const head = {
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      exported_at: ctx.config.now().toISOString(),
      office: { id: officeId, name: office },
      filters: { plan: f.plan ?? null, unit: f.unit ?? null, from: f.from ?? null, to: f.to ?? null },
      id_number_full: fullId,
      total,
    };
    yield JSON.stringify(head).slice(0, -1) + ',"rows":[\n';
    let first = true;
    let buf = '';
    for await (const r of exportRows(ctx, officeId, f, fullId)) {
      buf += (first ? '' : ',\n') + JSON.stringify(r);
      first = false;
      if (buf.length > 64 * 1024) {
        yield buf;
        buf = '';
      }
    }
    yield buf + '\n]}\n';
  }
  return Readable.from(chunks());
}

const col = (header: string, width: number, value: (r: ExportRow) => string | number | null | undefined): XlsxColumn<ExportRow> => ({ header, width, value });
const RESULT_NAMES: Record<string, string> = { passed: '通过', failed: '未通过' };

/** The .xlsx columns: the JSON fields in Chinese, one row per declaration. */
export const EXPORT_COLUMNS: readonly XlsxColumn<ExportRow>[] = [
  col('申报编号', 10, (r) => r.declaration_id),
  col('评审计划', 30, (r) => r.plan_name),
  col('年度', 8, (r) => r.year),
  col('评委会', 30, (r) => r.committee),
  col('姓名', 10, (r) => r.name),
  col('身份证号', 22, (r) => r.id_number),
  col('单位', 28, (r) => r.unit),
  col('申报职称', 24, (r) => r.title),
  col('级别', 10, (r) => r.level_name),
  col('专业', 20, (r) => r.specialty),
  col('参评类别', 10, (r) => r.category),
  col('状态', 36, (r) => r.status_text),
  col('提交时间', 18, (r) => chinaMinute(r.submitted_at)),
  col('评审结果', 10, (r) => (r.result ? RESULT_NAMES[r.result] : '')),
  col('评审时间', 12, (r) => r.meeting_date),
  col('同意票', 8, (r) => r.votes?.agree),
  col('不同意票', 8, (r) => r.votes?.disagree),
  col('弃权票', 8, (r) => r.votes?.abstain),
  col('证书编号', 20, (r) => r.certificate_number),
  col('发证时间', 18, (r) => chinaMinute(r.certificate_issued_at)),
];

export async function exportXlsx(ctx: AppContext, officeId: number, f: ExportFilters, fullId: boolean) {
  const rows: ExportRow[] = [];
  for await (const r of exportRows(ctx, officeId, f, fullId)) rows.push(r);
  const stamp = chinaStamp(ctx.config.now());
  return {
    rows: rows.length,
    buffer: await xlsxBuffer(rows, EXPORT_COLUMNS, { sheet: '申报与评审结果' }),
    filename: `申报与评审结果-${stamp}.xlsx`,
    ascii: `declarations-${stamp}.xlsx`,
  };
}

/** The office an export is made as: the user's own, or (platform admin) the one chosen. */
export async function exportOffice(ctx: AppContext, user: CurrentUser, chosen: number | undefined): Promise<{ id: number; name: string } | null> {
  const admin = user.orgKind === 'platform' && user.roles.includes('admin');
  const id = admin ? chosen : user.orgId ?? undefined;
  if (!id) return null;
  const o = await ctx.db.selectFrom('orgs').select(['id', 'name', 'kind']).where('id', '=', id).executeTakeFirst();
  if (!o || (admin && o.kind === 'platform')) return null;
  return { id: o.id, name: o.name };
}

/** The offices a platform admin may export as (人社局, 评委会办公室, 主管部门). */
export async function exportOffices(ctx: AppContext) {
  return ctx.db.selectFrom('orgs').select(['id', 'name', 'kind']).where('kind', 'in', ['hrb', 'committee', 'supervisor']).orderBy('kind').orderBy('name').execute();
}

/** The audit line of an export (no personal data: filters and the count). */
export function exportDetail(format: 'json' | 'xlsx', office: string, f: ExportFilters, total: number, fullId: boolean): string {
  const parts = [`${office}`, `格式${format.toUpperCase()}`, `${total}条`];
  if (f.plan) parts.push(`计划${f.plan}`);
  if (f.unit) parts.push(`单位${f.unit}`);
  if (f.from || f.to) parts.push(`提交日期${f.from ?? ''}至${f.to ?? ''}`);
  if (fullId) parts.push('含完整身份证号');
  return `导出申报与评审结果（${parts.join('，')}）`;
}

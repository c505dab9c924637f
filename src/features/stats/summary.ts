/**
 * 导出汇总表 (seed 004 §1.2.2 导出汇总表, 定制导出): the review list as filtered, through the
 * caller's scope, with the columns of a committee's sheet — 姓名, 性别, 出生年月, 身份证号, 单位,
 * 学历, 现职称及取得时间, 申报职称, 专业, 参评类别, 任职年限, 状态 (and 提交时间 on request) —
 * and a column chooser. The person's data comes from the version under review (what was
 * declared), not from the live archive. 身份证号 is masked unless the caller holds the reveal
 * permission (security/reveal.ts); then the export carries the full number, and its audit row
 * says so.
 */
import type { AppContext } from '../../context.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { statusText, CATEGORY_NAMES, type Status } from '../../domain/declaration.js';
import { display } from '../../domain/sectionRules.js';
import type { Snapshot } from '../declaration/service.js';
import { currentTitleOf, tenureOfSnapshot, topEducationOf } from '../../print/reviewForm.js';
import { queueQuery, QUEUE_COLUMNS, type QueueFilters } from '../review/queue.js';
import { mayReveal } from '../security/reveal.js';
import { xlsxBuffer, type XlsxColumn } from '../../lib/xlsx.js';
import { chinaMinute, chinaStamp, safeCover, safeRoute } from './service.js';

export interface SummaryRow {
  name: string;
  gender: string;
  birth: string;
  idNumber: string;
  unit: string;
  education: string;
  currentTitle: string;
  title: string;
  specialty: string;
  category: string;
  titleYears: string;
  status: string;
  submittedAt: string;
}

export interface SummaryColumn extends XlsxColumn<SummaryRow> {
  key: keyof SummaryRow;
  /** Checked in the chooser (and exported when none is chosen). */
  preset: boolean;
}

const col = (key: keyof SummaryRow, header: string, width: number, preset = true): SummaryColumn => ({ key, header, width, preset, value: (r) => r[key] });

/** Every column the chooser offers, in the sheet's order. */
export const SUMMARY_COLUMNS: readonly SummaryColumn[] = [
  col('name', '姓名', 10),
  col('gender', '性别', 6),
  col('birth', '出生年月', 10),
  col('idNumber', '身份证号', 22),
  col('unit', '单位', 28),
  col('education', '学历', 12),
  col('currentTitle', '现职称及取得时间', 26),
  col('title', '申报职称', 24),
  col('specialty', '专业', 20),
  col('category', '参评类别', 10),
  col('titleYears', '任职年限', 12),
  col('status', '状态', 36),
  col('submittedAt', '提交时间', 18, false),
];

const KEYS = new Set<string>(SUMMARY_COLUMNS.map((c) => c.key));

/**
 * The chosen columns from the GET form (cols=name&cols=idNumber…), in the sheet's order.
 * No `cols`: the preset columns (the plain 导出汇总表 link). `custom=1` marks the chooser's form,
 * where choosing nothing is an error, not “everything”.
 */
export function chosenColumns(query: unknown): { columns: SummaryColumn[]; error: string | null } {
  const q = (query ?? {}) as Record<string, unknown>;
  const raw = q.cols === undefined ? [] : Array.isArray(q.cols) ? q.cols : [q.cols];
  const wanted = new Set(raw.map(String).filter((k) => KEYS.has(k)));
  if (!wanted.size) {
    if (q.custom === '1') return { columns: [], error: '请至少选择一列导出' };
    return { columns: SUMMARY_COLUMNS.filter((c) => c.preset), error: null };
  }
  return { columns: SUMMARY_COLUMNS.filter((c) => wanted.has(c.key)), error: null };
}

/** What the sheet shows of a declared version (blank before the first submission). */
function declared(s: Snapshot | null) {
  if (!s) return { gender: '', birth: '', education: '', currentTitle: '', titleYears: '' };
  // The same figures as the form and the eligibility check (src/domain/tenure.ts).
  const tenure = tenureOfSnapshot(s);
  return {
    gender: s.person?.gender ?? '',
    birth: s.person?.birth ?? '',
    education: topEducationOf(s).highest,
    currentTitle: currentTitleOf(s, tenure),
    titleYears: tenure.titleText,
  };
}

/** Snapshots are read this many at a time: a busy committee's export never holds them all. */
const CHUNK = 200;

/** The rows of the 汇总表: exactly the declarations the review list shows for these filters. */
export async function summaryRows(ctx: AppContext, user: CurrentUser, filters: QueueFilters): Promise<SummaryRow[]> {
  const full = mayReveal(user);
  const rows = await queueQuery(ctx, user, filters)
    .select([...QUEUE_COLUMNS, 'd.version_id', 'u.id_enc'])
    .orderBy('d.submitted_at', 'asc')
    .orderBy('d.id', 'asc')
    .execute();
  const seen = new Set<number>();
  const list = rows.filter((d) => {
    // An organisation at two stages of one route would otherwise list it twice.
    if (seen.has(d.id)) return false;
    seen.add(d.id);
    return true;
  });
  const out: SummaryRow[] = [];
  for (let i = 0; i < list.length; i += CHUNK) {
    const part = list.slice(i, i + CHUNK);
    const versionIds = part.map((d) => d.version_id).filter((v): v is number => v !== null);
    const versions = versionIds.length
      ? await ctx.db.selectFrom('declaration_versions').select(['id', 'snapshot']).where('id', 'in', versionIds).orderBy('id').execute()
      : [];
    const facts = new Map(versions.map((v) => {
      let s: Snapshot | null = null;
      try {
        s = JSON.parse(v.snapshot) as Snapshot;
      } catch { /* an unreadable version prints blank */ }
      return [v.id, declared(s)] as const;
    }));
    for (const d of part) {
      const cover = safeCover(d);
      const route = safeRoute(d);
      const stage = d.status === 'reviewing' || d.status === 'returned' ? route[d.stage] ?? null : null;
      const f = (d.version_id !== null && facts.get(d.version_id)) || declared(null);
      out.push({
        name: d.applicant,
        ...f,
        idNumber: (full && d.id_enc ? ctx.secrets.decrypt(d.id_enc) : d.id_masked) ?? '',
        unit: d.unit_name ?? '',
        title: cover.title ?? '',
        specialty: cover.specialty ?? '',
        category: (cover.category && CATEGORY_NAMES[cover.category]) || cover.category_name || '',
        status: statusText(d.status as Status, stage),
        submittedAt: chinaMinute(d.submitted_at),
      });
    }
  }
  return out;
}

export async function summaryXlsx(ctx: AppContext, user: CurrentUser, filters: QueueFilters, columns: readonly SummaryColumn[]) {
  const rows = await summaryRows(ctx, user, filters);
  const stamp = chinaStamp(ctx.config.now());
  return {
    rows: rows.length,
    /** Whether the file holds full ID numbers (for the audit row). */
    fullId: mayReveal(user) && columns.some((c) => c.key === 'idNumber'),
    buffer: await xlsxBuffer(rows, columns, { sheet: '申报汇总表' }),
    filename: `申报汇总表-${stamp}.xlsx`,
    ascii: `summary-${stamp}.xlsx`,
  };
}

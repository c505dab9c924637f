/**
 * 导入历史证书: the columns of a legacy-certificate file and the checks of one row, pure.
 * A row is keyed by 身份证号; the file-level checks (columns, duplicates inside the file) and
 * the row checks give the reasons shown in the dry-run report, in the seeds' wording.
 */
import { validateIdNumber } from './idcard.js';
import { LEVEL_NAMES } from './declaration.js';

export const CERT_COLUMNS = ['身份证号', '姓名', '职称名称', '级别', '专业', '取得时间', '证书编号', '发证机关', '获取方式'] as const;
export type CertColumn = (typeof CERT_COLUMNS)[number];

/** Columns a province's sheet often carries and that mean nothing here. */
const IGNORED_COLUMNS = new Set(['序号', '备注']);

/** Header names seen in old systems' exports for the same columns. */
const ALIASES: Record<string, CertColumn> = {
  身份证: '身份证号', 身份证号码: '身份证号', 公民身份号码: '身份证号',
  资格名称: '职称名称', 职称: '职称名称',
  职称级别: '级别', 资格级别: '级别',
  职称专业: '专业', 评审专业: '专业',
  取得日期: '取得时间', 资格取得时间: '取得时间', 资格认定时间: '取得时间', 发证日期: '取得时间',
  证书号: '证书编号', 证书号码: '证书编号',
  发证单位: '发证机关', 评审组织: '发证机关',
  取得方式: '获取方式', 职称获取方式: '获取方式',
};

export type HeaderMap = { ok: true; index: Record<CertColumn, number> } | { ok: false; error: string };

const clean = (s: string) => s.replace(/[\s*＊]/g, '');

/**
 * Maps a header row onto the required columns. Any missing column, an unknown one, or one named
 * twice refuses the file (a shifted column would import wrong data silently).
 */
export function mapHeader(header: readonly string[], columns: readonly string[] = CERT_COLUMNS, aliases: Record<string, string> = ALIASES, ignored: ReadonlySet<string> = IGNORED_COLUMNS): { ok: true; index: Record<string, number> } | { ok: false; error: string } {
  const index: Record<string, number> = {};
  const unknown: string[] = [];
  const twice: string[] = [];
  header.forEach((raw, i) => {
    const h = clean(raw);
    if (!h || ignored.has(h)) return;
    const col = columns.includes(h) ? h : aliases[h];
    if (!col) unknown.push(raw.trim());
    else if (col in index) twice.push(col);
    else index[col] = i;
  });
  const missing = columns.filter((c) => !(c in index));
  const problems: string[] = [];
  if (missing.length) problems.push(`缺少列：${missing.join('、')}`);
  if (unknown.length) problems.push(`无法识别的列：${unknown.join('、')}`);
  if (twice.length) problems.push(`列重复：${twice.join('、')}`);
  if (problems.length) return { ok: false, error: `文件的列不正确（${problems.join('；')}）。第一行应为标题行，依次为：${columns.join('、')}` };
  return { ok: true, index };
}

const LEVEL_BY_NAME: Record<string, string> = Object.fromEntries(Object.entries(LEVEL_NAMES).map(([code, name]) => [name, code]));
// Older sheets write the level without 级 or in the old words.
Object.assign(LEVEL_BY_NAME, { 正高: 'senior_full', 副高: 'senior_vice', 高级: 'senior_vice', 中: 'intermediate', 初级: 'assistant', 助理: 'assistant', 员: 'junior' });

/** A level name (正高级…员级) → its code. */
export function parseLevel(s: string): string | null {
  return LEVEL_BY_NAME[clean(s)] ?? null;
}

/**
 * A date as sheets write it: 2019-06-30, 2019/6/30, 2019.6.30, 2019年6月30日, 20190630, or a month
 * only (2019-06, 2019年6月: the 1st). ISO text, or null when it is not a real date.
 */
export function parseSheetDate(s: string): string | null {
  const v = clean(s).replace(/日$/, '');
  let m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})$/.exec(v) ?? /^(\d{4})(\d{2})(\d{2})$/.exec(v);
  let y: number, mo: number, d: number;
  if (m) [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else {
    m = /^(\d{4})[-/.年](\d{1,2})月?$/.exec(v);
    if (!m) return null;
    [y, mo, d] = [Number(m[1]), Number(m[2]), 1];
  }
  const dt = new Date(Date.UTC(y, mo - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return null;
  return dt.toISOString().slice(0, 10);
}

export interface CertRow {
  idNumber: string;
  name: string;
  titleName: string;
  level: string;
  specialty: string;
  obtainedOn: string;
  number: string;
  issuer: string;
  method: string;
}

export type RowCheck = { ok: true; row: CertRow } | { ok: false; reasons: string[]; name: string; number: string };

const len = (s: string) => [...s].length;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Checks one row (cells by column name). `today`: ISO date in Beijing; later dates are refused. */
export function checkCertRow(cells: Record<CertColumn, string>, today: string, birthCheckDay: Date = new Date(`${today}T12:00:00Z`)): RowCheck {
  const reasons: string[] = [];
  const get = (c: CertColumn) => (cells[c] ?? '').trim();
  const text = (c: CertColumn, max: number): string => {
    const v = get(c);
    if (!v) reasons.push(`${c}不能为空`);
    else if (len(v) > max) reasons.push(`${c}不能超过${max}个字`);
    else if (CONTROL.test(v)) reasons.push(`${c}含有不可见字符`);
    return v;
  };
  const id = validateIdNumber(get('身份证号'), birthCheckDay);
  if (!id.ok) reasons.push(get('身份证号') ? id.error : '身份证号不能为空');
  const name = text('姓名', 50);
  const titleName = text('职称名称', 50);
  const levelText = get('级别');
  const level = parseLevel(levelText);
  if (!levelText) reasons.push('级别不能为空');
  else if (!level) reasons.push(`级别“${levelText}”不正确，应为正高级、副高级、中级、助理级或员级`);
  const specialty = text('专业', 100);
  const dateText = get('取得时间');
  const obtainedOn = parseSheetDate(dateText);
  if (!dateText) reasons.push('取得时间不能为空');
  else if (!obtainedOn) reasons.push(`取得时间“${dateText}”不是有效日期（如 2019-06-30）`);
  else if (obtainedOn > today) reasons.push('取得时间不能晚于今天');
  else if (obtainedOn < '1950-01-01') reasons.push('取得时间不能早于1950年');
  const number = text('证书编号', 50);
  const issuer = text('发证机关', 100);
  const method = text('获取方式', 20);
  if (reasons.length || !id.ok || !level || !obtainedOn) return { ok: false, reasons, name, number };
  return { ok: true, row: { idNumber: id.value, name, titleName, level, specialty, obtainedOn, number, issuer, method } };
}

/**
 * Rows of one file that repeat each other: a certificate number twice, one ID number under two
 * names, the same title twice for one person. The first occurrence stands; each later one gets
 * the reason (keyed by its position in `rows`).
 */
export function duplicatesInFile(rows: readonly { line: number; row: CertRow }[]): Map<number, string> {
  const out = new Map<number, string>();
  const byNumber = new Map<string, number>();
  const byId = new Map<string, { line: number; name: string }>();
  const byIdTitle = new Map<string, number>();
  rows.forEach(({ line, row }, i) => {
    const n = byNumber.get(row.number);
    const person = byId.get(row.idNumber);
    const it = byIdTitle.get(`${row.idNumber}\u0000${row.titleName}`);
    if (n !== undefined) out.set(i, `与第${n}行证书编号重复`);
    else if (person && person.name !== row.name) out.set(i, `与第${person.line}行身份证号相同但姓名不同`);
    else if (it !== undefined) out.set(i, `与第${it}行重复（同一身份证号、同一职称名称）`);
    // A refused row claims nothing: later rows are compared with the rows that stand.
    if (out.has(i)) return;
    byNumber.set(row.number, line);
    if (!person) byId.set(row.idNumber, { line, name: row.name });
    byIdTitle.set(`${row.idNumber}\u0000${row.titleName}`, line);
  });
  return out;
}

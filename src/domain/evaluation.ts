// 评审会议 and 发证 rules (pure, no I/O): the pass rule in exact rational arithmetic, vote
// validation, and certificate numbers from a committee's pattern.

/** A pass ratio a/b with integers 0 < a ≤ b (e.g. 2/3, 1/2, 3/4). */
export interface Ratio {
  num: number;
  den: number;
}

export const DEFAULT_PASS_RATIO = '2/3';

/** '2/3' → {2, 3}; also '1' (= 1/1). null when it is not a ratio in (0, 1]. */
export function parseRatio(s: string | null | undefined): Ratio | null {
  const m = /^\s*(\d{1,4})\s*(?:\/\s*(\d{1,4})\s*)?$/.exec(s ?? '');
  if (!m) return null;
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  if (num < 1 || den < 1 || num > den) return null;
  return { num, den };
}

/** 同意 ≥ ratio × 实到, compared as integers (agree·den ≥ num·present): no floating point. */
export function passes(agree: number, present: number, ratio: Ratio): boolean {
  if (present < 1) return false;
  return agree * ratio.den >= ratio.num * present;
}

/** The smallest number of 同意 votes that passes (for the screen: “通过需同意 ≥ N 票”). */
export function votesNeeded(present: number, ratio: Ratio): number {
  if (present < 1) return 0;
  return Math.floor((ratio.num * present + ratio.den - 1) / ratio.den); // integer ceiling
}

export function ratioText(r: Ratio): string {
  return r.den === 1 ? '全体' : `${r.num}/${r.den}`;
}

export interface Meeting {
  expected: number;
  present: number;
}

export interface Votes {
  agree: number;
  disagree: number;
  abstain: number;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 10_000;

/** 应到/实到: whole numbers, 实到 ≥ 1 and ≤ 应到. Returns the error message or null. */
export function meetingError(m: Meeting): string | null {
  if (!isCount(m.expected) || m.expected < 1) return '应到人数必须为正整数';
  if (!isCount(m.present) || m.present < 1) return '实到人数必须为正整数';
  if (m.present > m.expected) return '实到人数不能大于应到人数';
  return null;
}

/** 同意 + 不同意 + 弃权 ≤ 实到, each a whole number ≥ 0. */
export function votesError(v: Votes, m: Meeting): string | null {
  if (!isCount(v.agree) || !isCount(v.disagree) || !isCount(v.abstain)) return '票数必须为不小于0的整数';
  if (v.agree + v.disagree + v.abstain > m.present) return `同意、不同意、弃权票数之和不能超过实到人数（${m.present}人）`;
  return null;
}

/** The result of one declaration's votes by the plan's rule. */
export function voteResult(v: Votes, m: Meeting, ratio: Ratio): 'passed' | 'failed' {
  return passes(v.agree, m.present, ratio) ? 'passed' : 'failed';
}

// ---------------------------------------------------------------------------------------
// 证书编号
//
// A committee's pattern (orgs.cert_pattern) is literal text with these tokens:
//   {YYYY}   the four-digit year of issue              2026
//   {YY}     its last two digits                      26
//   {ORG}    the committee's code (orgs.code), else its id
//   {SEQ:n}  the sequence within committee + year, zero-padded to n digits (1 ≤ n ≤ 9);
//            a number wider than n is written in full, never cut
//   {SEQ}    the sequence without padding
// Exactly one {SEQ…} token is required, and a year token ({YYYY} or {YY}) so that numbers of
// different years differ. Literal text may be letters, digits, and - _ / 〔 〕 ( ) 第 号 字.
// Example: 'KM{YYYY}{SEQ:5}' → KM202600001, KM202600002, …
// Without a pattern: DEFAULT_CERT_PATTERN.

export const DEFAULT_CERT_PATTERN = 'ZC{ORG}{YYYY}{SEQ:5}';

const TOKEN_RE = /\{(YYYY|YY|ORG|SEQ(?::(\d))?)\}/g;

/** Why a pattern cannot be used, or null when it can. */
export function patternError(pattern: string): string | null {
  if (!pattern || [...pattern].length > 40) return '证书编号规则不能为空，且不超过40个字';
  const seqs = [...pattern.matchAll(TOKEN_RE)].filter((m) => m[1]!.startsWith('SEQ'));
  if (seqs.length !== 1) return '证书编号规则必须包含且只包含一个序号 {SEQ} 或 {SEQ:n}';
  const width = seqs[0]![2];
  if (width !== undefined && (Number(width) < 1 || Number(width) > 9)) return '序号位数须为1至9';
  if (!/\{YYYY\}|\{YY\}/.test(pattern)) return '证书编号规则必须包含年份 {YYYY} 或 {YY}';
  const literal = pattern.replace(TOKEN_RE, '');
  if (/[{}]/.test(literal)) return '证书编号规则中有无法识别的占位符';
  if (!/^[\p{L}\p{N}\-_/〔〕()（）]*$/u.test(literal)) return '证书编号规则只能包含字母、数字和 - _ / 〔 〕 ( )';
  return null;
}

export function formatCertNumber(pattern: string, v: { year: number; seq: number; org: string }): string {
  const err = patternError(pattern);
  if (err) throw new RangeError(err);
  if (!Number.isInteger(v.seq) || v.seq < 1) throw new RangeError('序号必须为正整数');
  return pattern.replace(TOKEN_RE, (_all, tok: string, width?: string) => {
    if (tok === 'YYYY') return String(v.year).padStart(4, '0');
    if (tok === 'YY') return String(v.year % 100).padStart(2, '0');
    if (tok === 'ORG') return v.org;
    return width ? String(v.seq).padStart(Number(width), '0') : String(v.seq);
  });
}

/** 发文字号 as typed (昆人社通〔2026〕88号): trimmed, 2–40 characters, no line breaks. */
export function docNoError(s: string): string | null {
  const t = (s ?? '').trim();
  if (!t) return '请填写发文字号';
  if ([...t].length > 40 || /[\r\n<>]/.test(t)) return '发文字号格式不正确（不超过40个字）';
  return null;
}

/** The printed tables of committee records: 表十三 初级 … 表十六 正高级, by declared level. */
export const EVALUATION_TABLES: readonly { no: string; label: string; levels: readonly string[] }[] = [
  { no: '表十三', label: '初级', levels: ['junior', 'assistant'] },
  { no: '表十四', label: '中级', levels: ['intermediate'] },
  { no: '表十五', label: '副高级', levels: ['senior_vice'] },
  { no: '表十六', label: '正高级', levels: ['senior_full'] },
];

/**
 * The heading of a 评审结果公示: “{year}年度{plan}评审结果公示”, without saying the year or 评审
 * twice when the plan's name already does (plans are usually named “2026年度卫生技术高级职称评审”).
 */
export function resultPublicityTitle(year: number, planName: string): string {
  let name = (planName ?? '').trim();
  const yearPrefix = new RegExp(`^${year}\\s*年(?:度)?\\s*`);
  name = name.replace(yearPrefix, '');
  // “…评审计划” / “…评审工作” → “…评审”: the result is of the 评审, not of the plan.
  name = name.replace(/评审(?:计划|工作)$/, '评审');
  return `${year}年度${name}${name.endsWith('评审') ? '' : '评审'}结果公示`;
}

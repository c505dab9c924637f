/**
 * 职能部门审核 inside one unit (seed 004 客户端: “供申报者所在部门的负责人填写基层单位考核意见、人事处审核
 * 论文著作、学工部审核40岁以下青年教师的学生思想政治工作考核、组织部审核教师的师德考核结果、人事处审核申报者
 * 的基础数据、教务处审核教师的教学情况”), pure.
 *
 * A unit's admin defines checkers, each assigned to a staff account of the unit. While a
 * declaration waits at the unit stage, every checker that applies to the applicant signs off
 * (同意/不同意 + opinion); 核验通过 is offered once every one has signed off for the version under
 * review and none said 不同意. A unit without checkers works as before.
 */

export type CheckerScope = 'all' | 'under40';

export const CHECKER_SCOPES: readonly { code: CheckerScope; name: string }[] = [
  { code: 'all', name: '全部申报人' },
  { code: 'under40', name: '仅40岁以下申报人' },
];

export const VERDICTS = ['同意', '不同意'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** The examples of seed 004, offered as names when a unit defines its checkers. */
export const CHECKER_EXAMPLES = [
  '基层考核意见（所在部门负责人）',
  '人事处（论文著作）',
  '人事处（基础数据）',
  '教务处（教学情况）',
  '组织部（师德考核）',
  '学工部（学生思想政治工作，40岁以下）',
] as const;

/** Whole years of age on `onDate` (both 'YYYY-MM-DD'); null when the birth date is unknown. */
export function ageOn(birthDate: string, onDate: string): number | null {
  const b = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  const o = /^(\d{4})-(\d{2})-(\d{2})$/.exec(onDate);
  if (!b || !o) return null;
  let age = Number(o[1]) - Number(b[1]);
  if (o[2]! + o[3]! < b[2]! + b[3]!) age -= 1;
  return age;
}

/**
 * Whether a checker must sign off for this applicant. 'under40' (学工部): only applicants under 40
 * on the day their declaration was submitted; an unknown birth date counts as applying (the
 * checker decides rather than being skipped silently).
 */
export function checkerApplies(scope: CheckerScope, birthDate: string, onDate: string): boolean {
  if (scope === 'all') return true;
  const age = ageOn(birthDate, onDate);
  return age === null || age < 40;
}

export interface CheckerDef {
  id: number;
  name: string;
  scope: CheckerScope;
  /** The staff account assigned to it. */
  userName: string;
}

export interface Signoff {
  checkerId: number;
  verdict: Verdict;
  opinion: string;
  signedAt: string;
  signerName: string;
}

export interface CheckRow {
  id: number;
  name: string;
  userName: string;
  /** The sign-off for the version under review, or null. */
  signoff: Signoff | null;
}

export interface CheckStatus {
  rows: CheckRow[];
  /** Names of the checkers still to sign off. */
  missing: string[];
  /** Names of the checkers who said 不同意. */
  against: string[];
}

/**
 * The checkers that apply to this declaration and where they stand. A sign-off older than the
 * version under review (`submittedAt`: after 返回修改 the applicant resubmitted) no longer counts.
 */
export function checkStatus(
  checkers: readonly CheckerDef[],
  signoffs: readonly Signoff[],
  applicant: { birthDate: string; submittedAt: string | null; onDate: string },
): CheckStatus {
  const rows: CheckRow[] = [];
  for (const c of checkers) {
    if (!checkerApplies(c.scope, applicant.birthDate, applicant.onDate)) continue;
    const s = signoffs.find((x) => x.checkerId === c.id && (!applicant.submittedAt || x.signedAt >= applicant.submittedAt)) ?? null;
    rows.push({ id: c.id, name: c.name, userName: c.userName, signoff: s });
  }
  return {
    rows,
    missing: rows.filter((r) => !r.signoff).map((r) => `${r.name}（${r.userName}）`),
    against: rows.filter((r) => r.signoff?.verdict === '不同意').map((r) => r.name),
  };
}

/** Why 核验通过 waits for the checkers, or '' when they are all done. */
export function checkersBlock(s: Pick<CheckStatus, 'missing' | 'against'>): string {
  if (s.missing.length) return `以下职能部门尚未审核：${s.missing.join('、')}。全部审核后方可核验通过`;
  if (s.against.length) return `${s.against.join('、')}审核意见为“不同意”，不能核验通过；如不推荐，请返回修改或不予受理`;
  return '';
}

export type SignoffErrors = Partial<Record<'verdict' | 'opinion', string>>;

export const SIGNOFF_MAX = 500;

/** The posted sign-off: 同意/不同意 and an opinion (required; trimmed, kept on error). */
export function validateSignoff(body: Record<string, unknown>): { values: { verdict: string; opinion: string }; errors: SignoffErrors; ok: boolean } {
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).replace(/\r\n/g, '\n').trim() : '');
  const values = { verdict: str('verdict'), opinion: str('opinion') };
  const errors: SignoffErrors = {};
  if (!(VERDICTS as readonly string[]).includes(values.verdict)) errors.verdict = '请选择审核结果（同意或不同意）';
  if (!values.opinion) errors.opinion = '请填写审核意见';
  else if ([...values.opinion].length > SIGNOFF_MAX) errors.opinion = `审核意见不能超过${SIGNOFF_MAX}个字`;
  return { values, errors, ok: Object.keys(errors).length === 0 };
}

export type CheckerErrors = Partial<Record<'name' | 'user_id' | 'applies_to', string>>;

/** A new checker: a name (≤ 50), one of the unit's staff accounts, a scope. */
export function validateChecker(body: Record<string, unknown>, staffIds: readonly number[], takenNames: readonly string[]): {
  values: { name: string; user_id: string; applies_to: string };
  errors: CheckerErrors;
  checker: { name: string; userId: number; scope: CheckerScope } | null;
} {
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).trim() : '');
  const values = { name: str('name'), user_id: str('user_id'), applies_to: str('applies_to') || 'all' };
  const errors: CheckerErrors = {};
  if (!values.name) errors.name = '请填写审核部门（如：人事处（论文著作））';
  else if ([...values.name].length > 50) errors.name = '审核部门不能超过50个字';
  else if (takenNames.includes(values.name)) errors.name = '已有同名的审核部门';
  const userId = /^\d{1,12}$/.test(values.user_id) ? Number(values.user_id) : NaN;
  if (!staffIds.includes(userId)) errors.user_id = '请选择本单位的审核人员账号';
  if (!CHECKER_SCOPES.some((s) => s.code === values.applies_to)) errors.applies_to = '请选择审核范围';
  const ok = Object.keys(errors).length === 0;
  return { values, errors, checker: ok ? { name: values.name, userId, scope: values.applies_to as CheckerScope } : null };
}

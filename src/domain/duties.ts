// 本级人员授权 (seed 004): an organisation's admin ticks the duties of each staff account, and
// every staff action checks its duty on top of the organisation scope (DESIGN.md §8).

export const DUTIES = [
  { code: 'review', name: '资格审查经办', what: '审核通过、接收纸质材料、核验、推荐上报' },
  { code: 'return', name: '退回审查', what: '返回修改、重置流程、不予受理' },
  { code: 'publicity', name: '公示管理', what: '单位公示、评审结果公示' },
  { code: 'evaluation', name: '评审结果录入', what: '录入、确认评审结果' },
  { code: 'certificate', name: '证书管理', what: '发放、打印证书' },
  { code: 'stats', name: '统计查询', what: '统计报表、导出' },
  // Seed 004: 人员基本信息与聘任管理 (the unit's people, 岗位设置 and 聘任).
  { code: 'people', name: '人员与聘任管理', what: '专业技术人员管理、岗位设置与聘任' },
  { code: 'plans', name: '计划通知管理', what: '评审计划、通知公告' },
] as const;
export type Duty = (typeof DUTIES)[number]['code'];
export const DUTY_NAME: Record<string, string> = Object.fromEntries(DUTIES.map((d) => [d.code, d.name]));

/** The duties that mean something in an organisation of this kind (the checkboxes offered). */
export function dutiesOfKind(kind: string | null | undefined): Duty[] {
  switch (kind) {
    case 'unit':
    case 'agency':
      return ['review', 'return', 'publicity', 'stats', 'people'];
    case 'supervisor':
    case 'hrb':
      return ['review', 'return', 'stats'];
    case 'committee':
      return ['review', 'return', 'publicity', 'evaluation', 'certificate', 'stats', 'plans'];
    case 'platform':
      // The 系统管理员 may act on every committee's results (src/features/results/service.ts).
      return ['publicity', 'evaluation', 'certificate', 'stats', 'plans'];
    default:
      return [];
  }
}

/**
 * The duties an account holds: its stored list (only those of its org's kind), or, when none
 * was ever set (null, accounts made before 本级人员授权), every duty of its organisation.
 */
export function dutiesOf(stored: string | null | undefined, orgKind: string | null | undefined, roles: readonly string[] = []): Duty[] {
  // 三权分立: the security and audit admins do no business at all.
  if (orgKind === 'platform' && !roles.includes('admin')) return [];
  const all = dutiesOfKind(orgKind);
  if (stored === null || stored === undefined) return all;
  const set = new Set(stored.split(',').map((s) => s.trim()));
  return all.filter((d) => set.has(d));
}

/** The 403 text for an action needing `duty`. */
export function dutyRefusal(duty: Duty): string {
  return `您没有“${DUTY_NAME[duty]}”权限，不能进行此操作。请联系本机构管理员在“本级人员授权”中分配。`;
}

/** The duties that work on declarations: any of them opens the declaration pages (list, detail, files, PDF). */
export const CASE_DUTIES: readonly Duty[] = ['review', 'return', 'publicity', 'evaluation', 'certificate'];

/** The 403 text for a page open to any of `duties`. */
export function anyDutyRefusal(duties: readonly Duty[]): string {
  if (duties.length === 1) return dutyRefusal(duties[0]!);
  return `您没有${duties.map((d) => `“${DUTY_NAME[d]}”`).join('或')}权限，不能进行此操作。请联系本机构管理员在“本级人员授权”中分配。`;
}

/**
 * The duties a staff page or action needs (any of them), by path: the one map the menu hides
 * links by. Routes check the same duties in their preHandlers (requireDuty / requireAnyDuty).
 */
export const PAGE_DUTIES: readonly [RegExp, readonly Duty[]][] = [
  [/^\/org\/plans\/[^/]+\/(groups|vote-rule)(\/|$)/, ['evaluation']],
  [/^\/org\/(plans|notices)(\/|$)/, ['plans']],
  [/^\/org\/(stats|exports|posts\/stats|reviews\/export|recognitions\/export)(\/|\.|$)/, ['stats']],
  [/^\/org\/(posts|people)(\/|$)/, ['people']],
  [/^\/org\/reviews(\/|$)/, CASE_DUTIES],
  [/^\/org\/(unit-stage|recommend|unit-reviews|recognitions|integrity|sanctions)(\/|$)/, ['review']],
  [/^\/org\/(publicity|result-publicity)(\/|$)/, ['publicity']],
  [/^\/org\/(evaluations|experts)(\/|$)/, ['evaluation']],
  [/^\/org\/certificates(\/|$)/, ['certificate']],
  // 转评委会 / 接收评审情况 records results; 证书服务 is 证书管理 at committees, 资格审查经办 at HR bureaus.
  [/^\/org\/transfers(\/|$)/, ['evaluation']],
  [/^\/org\/cert-services(\/|$)/, ['certificate', 'review']],
];

/** The duties the page at `path` needs (any of them), or null when it needs none. */
export function pageDuties(path: string): readonly Duty[] | null {
  for (const [re, d] of PAGE_DUTIES) if (re.test(path)) return d;
  return null;
}

/** Cleans ticked checkbox values against the org's kind (unknown or foreign codes dropped). */
export function pickDuties(values: unknown, orgKind: string | null | undefined): Duty[] {
  const raw = Array.isArray(values) ? values : values === undefined || values === null ? [] : [values];
  const set = new Set(raw.map(String));
  return dutiesOfKind(orgKind).filter((d) => set.has(d));
}

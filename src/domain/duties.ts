// 本级人员授权 (seed 004): an organisation's admin ticks the duties of each staff account, and
// every staff action checks its duty on top of the organisation scope (DESIGN.md §8).

export const DUTIES = [
  { code: 'review', name: '资格审查经办', what: '审核通过、接收纸质材料、核验、推荐上报' },
  { code: 'return', name: '退回审查', what: '返回修改、重置流程、不予受理' },
  { code: 'publicity', name: '公示管理', what: '单位公示、评审结果公示' },
  { code: 'evaluation', name: '评审结果录入', what: '录入、确认评审结果' },
  { code: 'certificate', name: '证书管理', what: '发放、打印证书' },
  { code: 'stats', name: '统计查询', what: '统计报表、导出' },
] as const;
export type Duty = (typeof DUTIES)[number]['code'];
export const DUTY_NAME: Record<string, string> = Object.fromEntries(DUTIES.map((d) => [d.code, d.name]));

/** The duties that mean something in an organisation of this kind (the checkboxes offered). */
export function dutiesOfKind(kind: string | null | undefined): Duty[] {
  switch (kind) {
    case 'unit':
    case 'agency':
      return ['review', 'return', 'publicity', 'stats'];
    case 'supervisor':
    case 'hrb':
      return ['review', 'return', 'stats'];
    case 'committee':
      return ['review', 'return', 'publicity', 'evaluation', 'certificate', 'stats'];
    case 'platform':
      // The 系统管理员 may act on every committee's results (src/features/results/service.ts).
      return ['publicity', 'evaluation', 'certificate', 'stats'];
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

/** Cleans ticked checkbox values against the org's kind (unknown or foreign codes dropped). */
export function pickDuties(values: unknown, orgKind: string | null | undefined): Duty[] {
  const raw = Array.isArray(values) ? values : values === undefined || values === null ? [] : [values];
  const set = new Set(raw.map(String));
  return dutiesOfKind(orgKind).filter((d) => set.has(d));
}

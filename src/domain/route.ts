// The review route of a declaration (DESIGN.md §3 “Route”, seed 002 §五.3(2)): which orgs review it,
// in order, computed at submit from the applicant's unit and the chosen committee. Pure: the caller
// loads the unit, its supervisor binding, the HR bureaus and the region tree.
//
//   city/province state-owned unit:  unit → supervisor → committee
//   county state-owned unit:         unit → supervisor → county HRB → committee
//   non-public unit:                 unit → county HRB → committee
//   freelancer (HR agency/association): agency → county HRB → committee
//   provincial committee:            the above, with the city HRB inserted before the committee
//   dispatch worker (派遣人员, seed 002 Q10, Q18): dispatch company → employer (用工单位) → county HRB
//                                    → committee: the dispatch company is the declaring unit on the
//                                    non-public path, the employer a second unit stage (双审核、双公示、双盖章)
//
// Errors are the three the old platform showed before submit: 单位信息不完整, 主管单位审核未通过,
// 查找人社局失败, each with a plain explanation of what to fix and who fixes it.

export type RegionLevel = 'province' | 'city' | 'county';

export interface RouteUnit {
  id: number;
  /** 'unit' = an employer; 'agency' = the HR agency or association that recommends freelancers. */
  kind: 'unit' | 'agency';
  name: string;
  /** Unit nature (单位性质) as stored, e.g. '事业单位'. */
  nature: string | null;
  /** From the unit_nature dictionary's extra.public; null = nature unknown to the dictionary. */
  public: boolean | null;
  /** 单位等级: 'province' | 'city' | 'county'. */
  unitLevel: string | null;
  regionCode: string | null;
  /** Level of regionCode in the region tree; null = code not found. */
  regionLevel: RegionLevel | null;
  supervisor: { id: number; name: string; status: 'pending' | 'approved' | 'rejected' | null } | null;
}

export interface RouteCommittee {
  id: number;
  name: string;
  tier: 'city' | 'province';
}

export interface RouteHrb {
  id: number;
  name: string;
  level: RegionLevel;
  regionCode: string;
  /**
   * Optional (fixtures/hrbs.json `applies_to`): a bureau that serves only state-owned ('public') or
   * only non-public ('non_public') units of its region, as 西山区 does. Absent/null = serves all.
   */
  appliesTo?: 'public' | 'non_public' | null;
}

export type RouteStageKind = 'unit' | 'agency' | 'supervisor' | 'hrb_county' | 'hrb_city' | 'committee';

export interface RouteStage {
  kind: RouteStageKind;
  orgId: number;
  name: string;
  label: string;
}

/** The employer (用工单位) of a dispatch worker: a registered unit, the second unit stage. */
export interface RouteEmployer {
  id: number;
  name: string;
}

export type RouteError = '单位信息不完整' | '主管单位审核未通过' | '查找人社局失败';

export type RouteResult = { ok: true; stages: RouteStage[] } | { ok: false; error: RouteError; detail: string };

/** Stage labels as the applicant's 申报记录 shows them (seed 002 §五.3(2)). */
export const STAGE_LABELS: Readonly<Record<RouteStageKind, string>> = {
  unit: '单位审核',
  agency: '人事代理机构（行业协会）审核',
  supervisor: '主管部门审核',
  hrb_county: '县(市)区人社局审核',
  hrb_city: '市人社局审核',
  committee: '评委会电子材料审核',
};

/** The two unit stages of a dispatch worker's route. */
export const DISPATCH_LABELS = { company: '派遣单位审核', employer: '用工单位审核' } as const;

const UNIT_LEVELS: ReadonlySet<string> = new Set(['province', 'city', 'county']);

function fail(error: RouteError, detail: string): RouteResult {
  return { ok: false, error, detail };
}

function stage(kind: RouteStageKind, orgId: number, name: string, label: string = STAGE_LABELS[kind]): RouteStage {
  return { kind, orgId, name, label };
}

/**
 * The county HRB of a region: level 'county' and the same region code. Among several, the first
 * that serves this kind of unit (appliesTo matching, or unrestricted); with no match, the first.
 */
function findCountyHrb(hrbs: readonly RouteHrb[], regionCode: string, isPublic: boolean): RouteHrb | null {
  const candidates = hrbs.filter((h) => h.level === 'county' && h.regionCode === regionCode);
  const want = isPublic ? 'public' : 'non_public';
  return candidates.find((h) => h.appliesTo === want) ?? candidates.find((h) => !h.appliesTo) ?? candidates[0] ?? null;
}

function findCityHrb(hrbs: readonly RouteHrb[], cityCode: string | null): RouteHrb | null {
  if (!cityCode) return null;
  return hrbs.find((h) => h.level === 'city' && h.regionCode === cityCode) ?? null;
}

export function computeRoute(
  unit: RouteUnit,
  committee: RouteCommittee,
  hrbs: readonly RouteHrb[],
  parentRegion: (code: string) => string | null,
  /** 派遣人员: the employer (用工单位) from the profile; `null` when the profile names none yet. Absent: not a dispatch worker. */
  employer?: RouteEmployer | null,
): RouteResult {
  const isAgency = unit.kind === 'agency';
  const dispatched = employer !== undefined && !isAgency;
  const who = isAgency ? '人事代理机构（行业协会）' : '单位';
  const admin = isAgency ? '机构管理员' : '单位管理员';
  const whoAdmin = isAgency ? `${who}的${admin}` : admin;

  // 1. Unit information complete.
  const missing: string[] = [];
  const problems: string[] = [];
  if (!isAgency) {
    if (!unit.nature?.trim()) missing.push('单位性质');
    else if (unit.public === null) problems.push(`单位性质“${unit.nature}”不在单位性质字典中，无法确定是否需要主管部门审核`);
    if (!unit.unitLevel?.trim()) missing.push('单位等级');
    else if (!UNIT_LEVELS.has(unit.unitLevel)) problems.push(`单位等级“${unit.unitLevel}”无法识别`);
  }
  if (!unit.regionCode?.trim()) missing.push('行政区域');
  if (missing.length || problems.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`${who}“${unit.name}”的单位信息缺少：${missing.join('、')}`);
    parts.push(...problems);
    return fail(
      '单位信息不完整',
      `${parts.join('；')}。请${whoAdmin}登录${isAgency ? '机构' : '单位'}账号，在“单位信息”中${missing.length ? (problems.length ? '补充并重新选择' : '补充完整') : '重新选择'}后，申报人再提交申报。`,
    );
  }
  const regionCode = unit.regionCode as string;
  if (dispatched && !employer) {
    return fail('单位信息不完整', '劳务派遣人员须同时填写派遣单位和用工单位。请在“基本信息”中选择用工单位后再提交申报。');
  }
  if (dispatched && employer!.id === unit.id) {
    return fail('单位信息不完整', `用工单位与派遣单位不能是同一单位（“${unit.name}”）。劳务派遣人员的工作单位填派遣单位，用工单位填实际工作的单位，请在“基本信息”中更正。`);
  }

  // 2. Region down to a county: the county HRB is found by it.
  if (unit.regionLevel !== 'county') {
    const level = unit.regionLevel === 'city' ? '（当前选到了市一级）' : unit.regionLevel === 'province' ? '（当前选到了省一级）' : '（行政区域代码无法识别）';
    return fail(
      '查找人社局失败',
      `${who}信息中的行政区域没有选到区县${level}，无法确定负责审核的县(市)区人社局。请${whoAdmin}在“单位信息”中把行政区域选到区县一级。`,
    );
  }

  const stages: RouteStage[] = [];
  // A dispatch worker declares through the dispatch company on the non-public path (seed 002 Q10).
  const isPublic = !isAgency && !dispatched && unit.public === true;
  let needsCountyHrb = true;

  if (isAgency) {
    stages.push(stage('agency', unit.id, unit.name));
  } else if (dispatched) {
    stages.push(stage('unit', unit.id, unit.name, DISPATCH_LABELS.company));
    stages.push(stage('unit', employer!.id, employer!.name, DISPATCH_LABELS.employer));
  } else {
    stages.push(stage('unit', unit.id, unit.name));
    if (isPublic) {
      // 3. State-owned units are reviewed by their approved supervisor (主管部门).
      const sup = unit.supervisor;
      const nature = `单位性质为“${unit.nature}”，申报需经主管部门审核`;
      if (!sup) {
        return fail('主管单位审核未通过', `${nature}，但单位尚未选择主管部门。请单位管理员在“单位信息”中选择主管部门，并等待主管部门审核通过。`);
      }
      if (sup.status === 'rejected') {
        return fail('主管单位审核未通过', `主管部门“${sup.name}”审核未通过，请单位重新选择主管部门（单位管理员在“单位信息”中修改），主管部门审核通过后申报人再提交申报。`);
      }
      if (sup.status !== 'approved') {
        return fail(
          '主管单位审核未通过',
          sup.status === 'pending'
            ? `单位已选择主管部门“${sup.name}”，正在等待主管部门审核。请联系主管部门审核通过后再提交申报。`
            : `单位已选择主管部门“${sup.name}”，但尚未提交主管部门审核。请单位管理员在“单位信息”中提交，等待主管部门审核通过后再提交申报。`,
        );
      }
      stages.push(stage('supervisor', sup.id, sup.name));
      needsCountyHrb = unit.unitLevel === 'county';
    }
  }

  // 4. County HRB.
  if (needsCountyHrb) {
    const hrb = findCountyHrb(hrbs, regionCode, isPublic);
    if (!hrb) {
      return fail(
        '查找人社局失败',
        `行政区域（代码 ${regionCode}）没有对应的县(市)区人社局，无法确定审核路线。请联系平台管理员在机构管理中添加该区县的人社局；若${who}的行政区域选错了，请${whoAdmin}在“单位信息”中更正。`,
      );
    }
    stages.push(stage('hrb_county', hrb.id, hrb.name));
  }

  // 5. Provincial committees: the city HRB forwards to the province.
  if (committee.tier === 'province') {
    const cityCode = parentRegion(regionCode);
    const hrb = findCityHrb(hrbs, cityCode);
    if (!hrb) {
      return fail(
        '查找人社局失败',
        `申报省级评委会“${committee.name}”需经市人社局审核，但行政区域（代码 ${regionCode}）的上级${cityCode ? `（代码 ${cityCode}）` : ''}没有对应的市人社局。请联系平台管理员在机构管理中添加市人社局。`,
      );
    }
    stages.push(stage('hrb_city', hrb.id, hrb.name));
  }

  stages.push(stage('committee', committee.id, committee.name));
  return { ok: true, stages };
}

/** '昆明市第一人民医院 → 昆明市卫生健康委员会 → 昆明市卫生技术高级职称评审委员会'. */
export function routeLabel(stages: readonly Pick<RouteStage, 'name'>[]): string {
  return stages.map((s) => s.name).join(' → ');
}

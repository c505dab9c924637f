import type { FieldDef } from './sections.js';

/**
 * The applicant's profile (基本信息, seed 001 §2.2), in the same field language as the
 * sections so one form renderer and one validator serve both. 姓名 and 身份证号 live on the
 * account; 出生年月 and 性别 are derived from the ID number. 现职称(同级)履职年限 and 从事专业技术工作年限
 * are not typed (seed 001 has them as inputs): they are computed from 现有职称情况 and 工作经历
 * (src/domain/tenure.ts), so the profile, the eligibility check and the printed form show one figure.
 */
export interface ProfileGroup {
  key: string;
  title: string;
  fields: FieldDef[];
}

export const PROFILE_GROUPS: readonly ProfileGroup[] = [
  {
    key: 'basic',
    title: '基本资料',
    fields: [
      { key: 'former_name', label: '曾用名', type: 'text', max: 20 },
      { key: 'native_place', label: '籍贯(或国籍)', type: 'text', required: true, max: 50, placeholder: '如：云南昆明' },
      { key: 'ethnic', label: '民族', type: 'select', dict: 'ethnic', required: true },
      { key: 'political', label: '政治面貌', type: 'select', dict: 'political_status', required: true },
      { key: 'major', label: '所学专业', type: 'tree', dict: 'major', required: true },
      { key: 'academic_roles', label: '参加学术组织及担任职务', type: 'text', max: 100, placeholder: '没有请填“无”' },
    ],
  },
  {
    key: 'contact',
    title: '联系信息',
    fields: [
      { key: 'email', label: '邮箱', type: 'text', required: true, max: 100, placeholder: '如：zhangwei@example.com' },
      { key: 'address', label: '家庭住址', type: 'text', required: true, max: 100 },
      { key: 'postcode', label: '邮政编码', type: 'text', required: true, max: 6 },
    ],
  },
  {
    key: 'work',
    title: '工作信息',
    fields: [
      { key: 'department', label: '所在部门', type: 'text', required: true, max: 50 },
      { key: 'position', label: '行政职务', type: 'text', required: true, max: 50, placeholder: '没有请填“无”' },
      { key: 'specialty', label: '现从事专业', type: 'tree', dict: 'specialty', required: true },
    ],
  },
  {
    // Who may declare (seed 002 Q2, Q7–Q11; src/domain/whoMay.ts): each field says why it is asked.
    key: 'identity',
    title: '人员身份',
    fields: [
      { key: 'staff_type', label: '人员身份', type: 'select', dict: 'staff_type', hint: '用于确认能否参加职称评审：公务员（含参公管理的人员）、离退休人员不得参加职称评审' },
      { key: 'agency_start', label: '人事代理开始时间', type: 'date', notFuture: true, hint: '自由职业者填写：须在专业领域工作1年以上，经人事代理机构或行业协会推荐方可参加职称评审' },
      { key: 'post_origin', label: '原岗位类别', type: 'select', dict: 'post_origin', hint: '事业单位工勤技能人员或管理人员到专业技术岗位工作的，需上传《事业单位工作人员岗位(职务)变动工资审批表》' },
      { key: 'post_since', label: '现岗位聘用时间', type: 'date', notFuture: true, hint: '转系列申报须转换岗位后在现岗位工作满1年以上（借调期间未在本单位履职的时间不计算在内）' },
      { key: 'postdoc_out', label: '博士后出站时间', type: 'date', notFuture: true, hint: '企业博士后出站后继续留在企业的，可直接认定副高级职称（非博士后不填）' },
      { key: 'dispatched', label: '是否劳务派遣人员', type: 'radio', dict: 'employed', hint: '与派遣单位签订劳动合同的人员，以派遣单位作为工作单位申报，并选择用工单位：申报须经派遣单位和用工单位“双公示、双审核、双盖章”' },
    ],
  },
];

export const PROFILE_FIELDS: readonly FieldDef[] = PROFILE_GROUPS.flatMap((g) => g.fields);

/**
 * 派遣人员 (seed 002 Q10, Q18): 工作单位 (users.unit_org_id) is the 派遣单位; the 用工单位 is kept in
 * the profile under EMPLOYER_KEY (an org id, chosen by search like 工作单位, checked on save).
 */
export const EMPLOYER_KEY = 'employer_org_id';
export const DISPATCH_YES = '是';

export function dispatchOf(p: Record<string, unknown>): { dispatched: boolean; employerOrgId: number | null } {
  const dispatched = p.dispatched === DISPATCH_YES;
  const raw = Number(p[EMPLOYER_KEY]);
  return { dispatched, employerOrgId: dispatched && Number.isSafeInteger(raw) && raw > 0 ? raw : null };
}

/** The 派遣协议 slot step 3 adds for dispatch workers (with the reason). */
export const DISPATCH_AGREEMENT_SLOT = {
  key: 'dispatch_agreement',
  label: '劳务派遣协议（首尾页）',
  required: true,
  hint: '劳务派遣人员需提供劳务派遣公司的派遣协议（可只提供派遣工作性质的内容及协议首尾页）',
} as const;

/** The slots the profile adds to step 3: the 派遣协议 of a dispatch worker. */
export function profileDeclarationSlots(p: Record<string, unknown>): { key: string; label: string; required: boolean; hint: string }[] {
  return dispatchOf(p).dispatched ? [{ ...DISPATCH_AGREEMENT_SLOT }] : [];
}

/** Checks the profile rules the generic field rules do not know. */
export function profileExtraErrors(v: Record<string, unknown>): Record<string, string> {
  const errors: Record<string, string> = {};
  const email = typeof v.email === 'string' ? v.email : '';
  if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.email = '邮箱格式不正确';
  const pc = typeof v.postcode === 'string' ? v.postcode : '';
  if (pc && !/^\d{6}$/.test(pc)) errors.postcode = '邮政编码应为6位数字';
  return errors;
}

/** Items of the profile still missing (for 基本信息 completeness and declaration step 2). */
export function missingProfileItems(p: Record<string, unknown>, has: { unit: boolean; avatar: boolean; idFront: boolean; idBack: boolean }): string[] {
  const missing = PROFILE_FIELDS.filter((f) => f.required && (p[f.key] === undefined || p[f.key] === null || p[f.key] === '')).map((f) => f.label);
  if (!has.unit) missing.push('工作单位');
  const dispatch = dispatchOf(p);
  if (dispatch.dispatched && !dispatch.employerOrgId) missing.push('用工单位');
  if (!has.avatar) missing.push('照片');
  if (!has.idFront || !has.idBack) missing.push('身份证件');
  return missing;
}

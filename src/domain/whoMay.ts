/**
 * Who may declare (seed 002 Q2, Q7–Q11), pure. Each rule gives a ✓/✗ with its reason in the
 * seeds' words; the plan chooses per rule whether a ✗ blocks the submit or only warns (as
 * `eligibility_mode` does for the year rules).
 *
 * - 公务员(含参公管理的人员) 不得参加职称评审.
 * - 离退休人员(以评委会开评时间为准) 不得参加: plans carry no meeting date, so the plan's closing
 *   date stands in for it (the latest date the committee could meet before). The statutory
 *   retirement age is that of the 2025 reform (全国人大常委会关于实施渐进式延迟法定退休年龄的决定):
 *   men 60, women (professional staff) 55, raised by one month per four months of birth from
 *   January 1965 / January 1970, up to 63 / 58.
 * - 自由职业者 need 1 year in the field since their 人事代理 began.
 * - 转系列: 须转换岗位后在现岗位工作满1年以上, with a 转岗证明 (聘书、合同、单位证明等).
 * - 事业单位工勤技能人员或管理人员 in a professional post: 《事业单位工作人员岗位(职务)变动工资审批表》.
 * - 企业博士后 出站后 may be recognised directly at 副高级 (Q9).
 */
import { wholeMonths } from './tenure.js';
import { addDays } from './plans.js';

export type RuleMode = 'warn' | 'block';
export type WhoRule = 'civil_servant' | 'retired' | 'freelancer' | 'transfer' | 'post_vacancy';

export const WHO_RULES: readonly { key: WhoRule; label: string; default: RuleMode }[] = [
  { key: 'civil_servant', label: '公务员（含参公管理人员）', default: 'block' },
  { key: 'retired', label: '已达到法定退休年龄', default: 'block' },
  { key: 'freelancer', label: '自由职业者人事代理不满1年', default: 'block' },
  { key: 'transfer', label: '转系列在现岗位工作不满1年', default: 'warn' },
  // Q7(1), checked at the unit's 核验 (src/domain/posts.ts vacancyDecision), not at the submit.
  { key: 'post_vacancy', label: '单位申报级别无空余专业技术岗位（单位核验时）', default: 'warn' },
];

/** The plan's mode of each rule (`declare_rules` JSON); unknown or missing → the rule's default. */
export function ruleModes(json: string | null | undefined): Record<WhoRule, RuleMode> {
  let parsed: Record<string, unknown> = {};
  try {
    const v: unknown = json ? JSON.parse(json) : {};
    if (v && typeof v === 'object' && !Array.isArray(v)) parsed = v as Record<string, unknown>;
  } catch {
    // the defaults
  }
  const out = {} as Record<WhoRule, RuleMode>;
  for (const r of WHO_RULES) out[r.key] = parsed[r.key] === 'warn' || parsed[r.key] === 'block' ? (parsed[r.key] as RuleMode) : r.default;
  return out;
}

export const STAFF_CIVIL = '公务员';
export const STAFF_CIVIL_LIKE = '参照公务员法管理人员';
export const STAFF_RETIRED = '离退休人员';
export const STAFF_FREELANCER = '自由职业者（人事代理）';
export const POST_ORIGIN_PROFESSIONAL = '专业技术岗位';

export interface WhoFacts {
  /** 人员身份 (dictionary staff_type). */
  staffType: string;
  /** From the ID number. */
  birthDate: string;
  gender: '男' | '女';
  /** 人事代理开始时间. */
  agencyStart: string;
  /** 现岗位聘用时间 (转岗/岗位变更时间). */
  postSince: string;
  /** 原岗位类别: 专业技术岗位 / 管理岗位 / 工勤技能岗位. */
  postOrigin: string;
  /** 博士后出站时间. */
  postdocOut: string;
}

export interface WhoCheck {
  rule: WhoRule | 'staff_type' | 'postdoc';
  ok: boolean;
  text: string;
}

const ymd = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);

/** The statutory retirement date: birth date + the age (years and months) for this birth month. */
export function retirementDate(birthDate: string, gender: '男' | '女'): string {
  const [y, m, d] = birthDate.split('-').map(Number);
  const base = gender === '男' ? 60 : 55;
  const from = gender === '男' ? 1965 : 1970;
  const monthIndex = (y - from) * 12 + (m - 1); // 0 = January of the first reformed year
  const delay = monthIndex < 0 ? 0 : Math.min(36, Math.floor(monthIndex / 4) + 1);
  const total = (y + base) * 12 + (m - 1) + delay;
  const ry = Math.floor(total / 12);
  const rm = (total % 12) + 1;
  const last = new Date(Date.UTC(ry, rm, 0)).getUTCDate();
  return `${ry}-${String(rm).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/**
 * The who-may-declare checks for a declaration of `category` at `level`, as of `refDate` (the
 * plan's closing date). Unknown facts give a ✗ that tells what to fill in.
 */
export function whoMayDeclare(f: WhoFacts, category: string, level: string, refDate: string): WhoCheck[] {
  const out: WhoCheck[] = [];
  const type = f.staffType.trim();
  if (!type) {
    out.push({ rule: 'staff_type', ok: false, text: '未填写人员身份：请在“基本信息”中选择人员身份（公务员、参公管理人员和离退休人员不得参加职称评审）' });
  } else if (type === STAFF_CIVIL || type === STAFF_CIVIL_LIKE) {
    out.push({ rule: 'civil_servant', ok: false, text: `人员身份为${type}：公务员（含参公管理的人员）不得参加职称评审` });
  } else {
    out.push({ rule: 'civil_servant', ok: true, text: `人员身份：${type}` });
  }

  if (type === STAFF_RETIRED) {
    out.push({ rule: 'retired', ok: false, text: '人员身份为离退休人员：离退休人员不得参加职称评审' });
  } else if (ymd(f.birthDate)) {
    const r = retirementDate(f.birthDate, f.gender);
    out.push(
      r <= refDate
        ? { rule: 'retired', ok: false, text: `已达到法定退休年龄（${r}），离退休人员不得参加职称评审（以评委会开评时间为准，按申报截止日期${refDate}计算）` }
        : { rule: 'retired', ok: true, text: `未达到法定退休年龄（法定退休日期${r}）` },
    );
  }

  if (type === STAFF_FREELANCER) {
    if (!ymd(f.agencyStart)) {
      out.push({ rule: 'freelancer', ok: false, text: '自由职业者请在“基本信息”中填写人事代理开始时间（须在专业领域工作1年以上）' });
    } else {
      const months = wholeMonths(f.agencyStart, addDays(refDate, 1));
      out.push(
        months >= 12
          ? { rule: 'freelancer', ok: true, text: `自由职业者人事代理开始时间${f.agencyStart}，已满1年` }
          : { rule: 'freelancer', ok: false, text: `自由职业者须在专业领域工作1年以上，经人事代理机构或行业协会推荐方可参加职称评审（人事代理开始时间${f.agencyStart}，截至${refDate}不满1年）` },
      );
    }
  }

  if (category === 'transfer') {
    if (!ymd(f.postSince)) {
      out.push({ rule: 'transfer', ok: false, text: '转系列申报请在“基本信息”中填写现岗位聘用时间（须转换岗位后在现岗位工作满1年以上）' });
    } else {
      const months = wholeMonths(f.postSince, addDays(refDate, 1));
      out.push(
        months >= 12
          ? { rule: 'transfer', ok: true, text: `转系列：现岗位聘用时间${f.postSince}，在现岗位工作已满1年（借调期间未承担本单位岗位职责的时间不计算在内）` }
          : { rule: 'transfer', ok: false, text: `转系列须转换岗位后在现岗位工作满1年以上（现岗位聘用时间${f.postSince}，截至${refDate}不满1年）` },
      );
    }
  }

  if (ymd(f.postdocOut) && level === 'senior_vice') {
    out.push({ rule: 'postdoc', ok: true, text: `博士后出站（${f.postdocOut}）：企业博士后获得中国博士后科学基金资助或主持省部级以上科研项目，出站后继续留在企业的，可直接认定副高级职称` });
  }
  return out;
}

export interface CategorySlot {
  key: string;
  label: string;
  required: boolean;
  hint: string;
}

/** The attachment slots a category (and a move from a non-professional post) adds to the plan's. */
export function categorySlots(category: string, postOrigin: string): CategorySlot[] {
  const out: CategorySlot[] = [];
  if (category === 'transfer') {
    out.push({ key: 'transfer_proof', label: '转岗证明', required: true, hint: '转系列须转换岗位后在现岗位工作满1年以上，转岗的相关证明可以是聘书、合同、单位证明等形式' });
  }
  const origin = postOrigin.trim();
  if (origin && origin !== POST_ORIGIN_PROFESSIONAL) {
    out.push({ key: 'post_change_pay', label: '事业单位工作人员岗位(职务)变动工资审批表', required: true, hint: `${origin}人员在专业技术岗位上申报职称，需提供《事业单位工作人员岗位(职务)变动工资审批表》` });
  }
  return out;
}

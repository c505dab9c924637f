// 初定/认定 (seed 002 Q9, Q12–Q14): a first title recognised from education and time in post,
// with no committee meeting. Pure rules: the level an education supports and from when, who
// decides, the quarterly windows, and the 6-month validity of the 学信网 备案表.
import { isValidDate } from './workdays.js';
import type { RouteHrb, RouteUnit } from './route.js';

export type RecLevel = 'junior' | 'assistant' | 'intermediate' | 'senior_vice';
export const REC_LEVELS: readonly RecLevel[] = ['junior', 'assistant', 'intermediate', 'senior_vice'];
export const REC_LEVEL_NAMES: Readonly<Record<RecLevel, string>> = { junior: '员级', assistant: '助理级', intermediate: '中级', senior_vice: '副高级' };
export const isRecLevel = (s: unknown): s is RecLevel => typeof s === 'string' && (REC_LEVELS as readonly string[]).includes(s);

export const isJuniorTier = (level: RecLevel) => level === 'junior' || level === 'assistant';

/** What the archive says: 学历/学位 as stored (dictionary names), the 认定时间 and two declared facts. */
export interface EducationFacts {
  /** Highest 学历, e.g. '大学本科' (dictionary `education`). */
  education: string | null;
  /** Highest 学位, e.g. '学士' (dictionary `degree`). */
  degree: string | null;
  /** 双学士学位 (declared by the applicant; the archive has no field for it). */
  doubleBachelor: boolean;
  /** 博士后出站 and staying in the enterprise (Q9). */
  postdoc: boolean;
  /** 认定时间: the date on 招工录用登记表 / 聘用通知书 (Q12(3)); YYYY-MM-DD. */
  hiredOn: string | null;
}

export type Basis = 'secondary' | 'college' | 'bachelor' | 'double_bachelor' | 'master' | 'doctor' | 'postdoc' | 'none';

const SECONDARY = new Set(['中等专科', '职业高中', '技工学校']);

/** Which rule of Q12(2) the education falls under (the highest that applies). */
export function basisOf(f: Pick<EducationFacts, 'education' | 'degree' | 'doubleBachelor' | 'postdoc'>): Basis {
  const e = f.education ?? '';
  const d = f.degree ?? '';
  if (f.postdoc) return 'postdoc';
  if (e === '博士研究生' || d === '博士') return 'doctor';
  if (e === '硕士研究生' || d === '硕士') return 'master';
  if (f.doubleBachelor && (e === '大学本科' || d === '学士')) return 'double_bachelor';
  if (e === '大学本科' || d === '学士') return 'bachelor';
  if (e === '大学专科') return 'college';
  if (SECONDARY.has(e)) return 'secondary';
  return 'none';
}

export const BASIS_TEXT: Readonly<Record<Basis, string>> = {
  secondary: '中等职业学校毕业（中专）',
  college: '大专学历',
  bachelor: '本科学历或学士学位',
  double_bachelor: '双学士学位',
  master: '硕士学位',
  doctor: '博士学位',
  postdoc: '博士后出站',
  none: '无规定学历',
};

/** Levels a basis reaches, each after so many years counted from 认定时间 (Q12(2), Q9). */
const LADDER: Readonly<Record<Basis, readonly { level: RecLevel; years: number }[]>> = {
  secondary: [{ level: 'junior', years: 1 }],
  college: [{ level: 'junior', years: 1 }],
  bachelor: [{ level: 'junior', years: 0 }, { level: 'assistant', years: 1 }],
  double_bachelor: [{ level: 'assistant', years: 0 }],
  master: [{ level: 'assistant', years: 0 }],
  doctor: [{ level: 'intermediate', years: 0 }],
  postdoc: [{ level: 'senior_vice', years: 0 }],
  none: [],
};

/**
 * 初定 when the education gives the level at once (直接认定: 本科 员级, 硕士/双学士 助理级, 博士
 * 中级); 认定 when it comes after the 见习 year and the unit's assessment (考核认定: 中专/大专 员级,
 * 本科 助理级), and for the post-doctor's 副高 (Q9). Seed 004's three projects are 初定初级,
 * 初定中级 and 认定初级; each prints its own 初定表 or 认定表.
 */
export function recKindOf(level: RecLevel, f: Pick<EducationFacts, 'education' | 'degree' | 'doubleBachelor' | 'postdoc'>): '初定' | '认定' {
  if (level === 'senior_vice') return '认定';
  const step = LADDER[basisOf(f)].find((x) => x.level === level);
  return step && step.years === 0 ? '初定' : '认定';
}

/** Who changes a recognition's form and files: the applicant, or their unit (which may fill it in for them). */
export type RecEditor = 'applicant' | 'unit';

/**
 * Whether `by` may change a recognition at `status`, and if not, why: the applicant while it is
 * theirs (填写中, 退回); the unit also while it checks it (待单位审核上报); nobody once it has
 * gone up to the deciding office. null = may.
 */
export function recognitionLocked(status: string, by: RecEditor): string | null {
  if (status === 'draft' || status === 'returned') return null;
  if (status === 'unit') return by === 'unit' ? null : '材料已交单位审核，不能修改；单位退回后可再修改';
  return '已上报的材料不能修改';
}

/** YYYY-MM-DD plus whole months; the 31st of a shorter month becomes its last day. */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const idx = y * 12 + (m - 1) + months;
  const ny = Math.floor(idx / 12);
  const nm = (idx % 12) + 1;
  const last = new Date(Date.UTC(ny, nm, 0)).getUTCDate();
  return `${String(ny).padStart(4, '0')}-${String(nm).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

export interface LevelOption {
  level: RecLevel;
  /** The first day it may be recognised (认定时间 + the 见习 years). */
  from: string | null;
  /** Reachable today. */
  ready: boolean;
}

export interface Proposal {
  basis: Basis;
  /** Every level the education reaches, lowest first. */
  options: LevelOption[];
  /** The highest level reachable today; null when none. */
  proposed: RecLevel | null;
  /** The explanation, line by line, as the applicant sees it. */
  lines: string[];
}

const levelText = (l: RecLevel) => REC_LEVEL_NAMES[l];

/** The level proposed from the archive, explained line by line. */
export function proposeLevel(f: EducationFacts, today: string): Proposal {
  const basis = basisOf(f);
  const lines: string[] = [];
  lines.push(`学历：${f.education || '未填写'}；学位：${f.degree || '无'}${f.doubleBachelor ? '（双学士学位）' : ''}${f.postdoc ? '；博士后出站' : ''}。`);
  lines.push(`认定依据：${BASIS_TEXT[basis]}。`);
  const hired = f.hiredOn && isValidDate(f.hiredOn) ? f.hiredOn : null;
  lines.push(hired ? `认定时间（《招工录用登记表》或《事业单位聘用通知书》记载时间）：${hired}。` : '认定时间：未填写（以《招工录用登记表》或《事业单位聘用通知书》上的记载时间为依据）。');
  const options: LevelOption[] = LADDER[basis].map(({ level, years }) => {
    const from = years === 0 ? hired ?? null : hired ? addMonths(hired, 12 * years) : null;
    const ready = years === 0 ? true : !!from && from <= today;
    if (years === 0) lines.push(`具备${BASIS_TEXT[basis]}，可直接认定${levelText(level)}职称。`);
    else lines.push(`具备${BASIS_TEXT[basis]}，见习1年期满后可考核认定${levelText(level)}职称：${from ? (ready ? `${from}已满1年。` : `${from}满1年，目前尚未期满。`) : '需先填写认定时间。'}`);
    return { level, from, ready };
  });
  if (basis === 'none') lines.push('中专以下学历不能认定职称（须具备中等职业学校毕业及以上学历）。');
  const ready = options.filter((o) => o.ready);
  const proposed = ready.length ? ready[ready.length - 1]!.level : null;
  lines.push(proposed ? `建议认定级别：${levelText(proposed)}。` : '目前不能认定职称。');
  return { basis, options, proposed, lines };
}

/** Why the education does not support `level` today (null when it does). */
export function levelError(f: EducationFacts, level: RecLevel, today: string): string | null {
  const p = proposeLevel(f, today);
  const o = p.options.find((x) => x.level === level);
  if (!o) {
    const reach = p.options.map((x) => levelText(x.level)).join('、');
    return `学历（学位）不支持认定${levelText(level)}职称：${BASIS_TEXT[p.basis]}${reach ? `只能认定${reach}职称` : '不能认定职称'}。`;
  }
  if (!o.ready) return o.from ? `见习1年期满后方可认定${levelText(level)}职称（${o.from}期满）。` : '请填写认定时间（《招工录用登记表》或《事业单位聘用通知书》上的记载时间）。';
  return null;
}

// ---------------------------------------------------------------------------------------
// Who decides (Q12(1))

export type DeciderKind = 'hrb_county' | 'city_dept' | 'hrb_city';
export const DECIDER_LABELS: Readonly<Record<DeciderKind, string>> = {
  hrb_county: '县(市)区人社局',
  city_dept: '市级行政主管部门',
  hrb_city: '市人社局',
};

export interface Decider {
  kind: DeciderKind;
  orgId: number;
  name: string;
}

export type DeciderResult = { ok: true; decider: Decider } | { ok: false; error: '单位信息不完整' | '主管单位审核未通过' | '查找人社局失败'; detail: string };

/**
 * 初级 (员级/助理级): non-public and county-owned units → the county HRB; city-owned (and
 * provincial) units → the city department that supervises them (their approved 主管部门).
 * 中级 and 副高 → the city HRB. Missing pieces fail with the review route's three errors.
 */
export function recognitionDecider(level: RecLevel, unit: RouteUnit, hrbs: readonly RouteHrb[], parentRegion: (code: string) => string | null): DeciderResult {
  const isAgency = unit.kind === 'agency';
  const who = isAgency ? '人事代理机构（行业协会）' : '单位';
  const admin = isAgency ? '机构管理员' : '单位管理员';
  const missing: string[] = [];
  if (!isAgency) {
    if (!unit.nature?.trim()) missing.push('单位性质');
    if (!unit.unitLevel?.trim()) missing.push('单位等级');
  }
  if (!unit.regionCode?.trim()) missing.push('行政区域');
  if (missing.length) {
    return { ok: false, error: '单位信息不完整', detail: `${who}“${unit.name}”的单位信息缺少：${missing.join('、')}。请${admin}在“单位信息”中补充完整后，再申报职称认定。` };
  }
  if (!isAgency && unit.public === null) {
    return { ok: false, error: '单位信息不完整', detail: `单位性质“${unit.nature}”不在单位性质字典中，无法确定认定部门。请${admin}在“单位信息”中重新选择。` };
  }
  const region = unit.regionCode!;
  if (!isJuniorTier(level)) {
    const cityCode = unit.regionLevel === 'city' ? region : unit.regionLevel === 'county' ? parentRegion(region) : null;
    const hrb = cityCode ? hrbs.find((h) => h.level === 'city' && h.regionCode === cityCode) : undefined;
    if (!hrb) {
      return { ok: false, error: '查找人社局失败', detail: `${levelText(level)}职称认定由市人力资源和社会保障局负责，但行政区域（代码 ${region}）找不到对应的市人社局。请联系平台管理员添加市人社局；若行政区域选错了，请${admin}在“单位信息”中更正。` };
    }
    return { ok: true, decider: { kind: 'hrb_city', orgId: hrb.id, name: hrb.name } };
  }
  const isPublic = !isAgency && unit.public === true;
  if (isPublic && unit.unitLevel !== 'county') {
    const sup = unit.supervisor;
    if (!sup) return { ok: false, error: '主管单位审核未通过', detail: `市属单位的初级职称认定由相应系列市级行政主管部门负责，但单位尚未选择主管部门。请${admin}在“单位信息”中选择主管部门，并等待主管部门审核通过。` };
    if (sup.status !== 'approved') {
      return { ok: false, error: '主管单位审核未通过', detail: `市属单位的初级职称认定由主管部门“${sup.name}”负责，但主管部门${sup.status === 'rejected' ? '审核未通过，请重新选择主管部门' : '尚未审核通过，请联系主管部门审核'}。` };
    }
    return { ok: true, decider: { kind: 'city_dept', orgId: sup.id, name: sup.name } };
  }
  if (unit.regionLevel !== 'county') {
    return { ok: false, error: '查找人社局失败', detail: `${who}信息中的行政区域没有选到区县，无法确定负责初级职称认定的县(市)区人社局。请${admin}在“单位信息”中把行政区域选到区县一级。` };
  }
  const want = isPublic ? 'public' : 'non_public';
  const candidates = hrbs.filter((h) => h.level === 'county' && h.regionCode === region);
  const hrb = candidates.find((h) => h.appliesTo === want) ?? candidates.find((h) => !h.appliesTo) ?? candidates[0];
  if (!hrb) {
    return { ok: false, error: '查找人社局失败', detail: `行政区域（代码 ${region}）没有对应的县(市)区人社局，无法确定认定部门。请联系平台管理员在机构管理中添加该区县的人社局。` };
  }
  return { ok: true, decider: { kind: 'hrb_county', orgId: hrb.id, name: hrb.name } };
}

// ---------------------------------------------------------------------------------------
// Windows (Q13): January, April, July and October unless the bureau sets its own months.

export const DEFAULT_WINDOW_MONTHS: readonly number[] = [1, 4, 7, 10];

/** '1,4,7,10' → [1,4,7,10]; null/blank → the default; anything else → null (invalid). */
export function parseWindowMonths(raw: string | null | undefined): number[] | null {
  if (raw === null || raw === undefined || raw.trim() === '') return [...DEFAULT_WINDOW_MONTHS];
  const parts = raw.split(/[,，、\s]+/).filter(Boolean);
  const months = parts.map((p) => (/^\d{1,2}$/.test(p) ? Number(p) : NaN));
  if (!months.length || months.some((m) => !Number.isInteger(m) || m < 1 || m > 12)) return null;
  return [...new Set(months)].sort((a, b) => a - b);
}

export interface WindowState {
  open: boolean;
  /** The window open today, or the next one. */
  start: string;
  end: string;
  /** 'YYYY年M月' of the shown window. */
  text: string;
}

const monthEnd = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
const ymd = (y: number, m: number, d: number) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

export function windowState(months: readonly number[], today: string): WindowState {
  const [y, m] = today.split('-').map(Number) as [number, number];
  const list = months.length ? months : DEFAULT_WINDOW_MONTHS;
  const at = (yy: number, mm: number, open: boolean): WindowState => ({ open, start: ymd(yy, mm, 1), end: ymd(yy, mm, monthEnd(yy, mm)), text: `${yy}年${mm}月` });
  if (list.includes(m)) return at(y, m, true);
  const next = list.find((x) => x > m);
  return next ? at(y, next, false) : at(y + 1, list[0]!, false);
}

export function windowError(w: WindowState, months: readonly number[], office: string): string | null {
  return w.open ? null : `现在不在职称认定申报时间内（${office}每年${months.join('、')}月受理）。下一次申报时间为${w.start}至${w.end}。`;
}

// ---------------------------------------------------------------------------------------
// 学信网 备案表 (Q14(2)): the online verification is valid for 6 months.

export const FILING_VALID_MONTHS = 6;

export function filingError(issuedOn: string | null | undefined, today: string): string | null {
  const d = (issuedOn ?? '').trim();
  if (!d) return '请填写《教育部学历证书电子注册备案表》的出具日期';
  if (!isValidDate(d)) return '出具日期格式不正确（年-月-日）';
  if (d > today) return '出具日期不能晚于今天';
  const until = addMonths(d, FILING_VALID_MONTHS);
  if (until < today) return `《教育部学历证书电子注册备案表》已超过6个月在线验证有效期（出具日期${d}，有效期至${until}），请在学信网重新申请后上传`;
  return null;
}

/** The files Q14 requires; a unit gives 招工录用登记表 (企业) or 事业单位聘用人员审批表 (事业单位). */
export const REC_SLOTS = [
  { key: 'id_copy', label: '申报人身份证复印件', required: true },
  { key: 'chsi_filing', label: '《教育部学历证书电子注册备案表》', required: true, hint: '在线验证有效期设置为6个月' },
  { key: 'chsi_screenshot', label: '查询学历（学位）信息截图', required: true },
  { key: 'hire_form', label: '云南省招工录用登记表（企业）或云南省事业单位聘用人员审批表（事业单位）', required: true },
] as const;

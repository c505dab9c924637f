/**
 * Review plans (评审计划 / 申报通道): the window and the per-plan rules with their defaults.
 * Pure: no I/O. Dates are China Standard Time (UTC+8, no daylight saving) calendar dates
 * stored as YYYY-MM-DD, with an opening and a closing minute HH:MM (null: 00:00 and 24:00,
 * "截止日期当天24:00关闭申报通道").
 */
import { SECTIONS, sectionsFor, type AttachmentSlotDef } from './sections.js';

const CST_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

export interface Option {
  code: string;
  name: string;
}

/** 级别 (DESIGN.md §2). */
export const LEVELS: readonly Option[] = [
  { code: 'senior_full', name: '正高级' },
  { code: 'senior_vice', name: '副高级' },
  { code: 'intermediate', name: '中级' },
  { code: 'assistant', name: '助理级' },
  { code: 'junior', name: '员级' },
];

/** 参评类别 (DESIGN.md §2). */
export const CATEGORIES: readonly Option[] = [
  { code: 'normal', name: '正常评审' },
  { code: 'exceptional', name: '破格' },
  { code: 'transfer', name: '转系列' },
  { code: 'recognition', name: '考核认定' },
];

/** The 系列 select's value for 不限 (every series), a deliberate choice. */
export const ANY_SERIES = '*';

/**
 * The series whose titles a plan offers on the cover: its own 系列; else, unless 不限 was chosen
 * deliberately, its committee's series. null = every series (不限, or a committee without one).
 */
export function planSeries(plan: { series_code: string | null; any_series?: number | null }, committeeSeries: string | null): string | null {
  if (plan.series_code) return plan.series_code;
  if (plan.any_series) return null;
  return committeeSeries || null;
}

/** The 系列 select's value of a stored plan (never empty when the committee has a series). */
export function seriesValue(plan: { series_code: string | null; any_series?: number | null }, committeeSeries: string | null): string {
  if (plan.series_code) return plan.series_code;
  return plan.any_series ? ANY_SERIES : committeeSeries ?? '';
}

/**
 * The 系列 posted by the plan form. Nothing chosen is an error (不限 is never a default); a
 * committee with a series may only offer that series, or 不限 when chosen on purpose.
 */
export function checkPlanSeries(
  chosen: string,
  committeeSeries: string | null,
  series: readonly Option[],
): { ok: true; series_code: string | null; any_series: 0 | 1 } | { ok: false; error: string } {
  if (chosen === ANY_SERIES) return { ok: true, series_code: null, any_series: 1 };
  if (!chosen) return { ok: false, error: '请选择系列；申报人可申报所有系列职称的，请选择“不限（所有系列）”' };
  if (!series.some((s) => s.code === chosen)) return { ok: false, error: '请选择系列' };
  if (committeeSeries && chosen !== committeeSeries) {
    const own = series.find((s) => s.code === committeeSeries)?.name ?? committeeSeries;
    return { ok: false, error: `该评委会评审“${own}”系列职称，请选择“${own}”；确需受理所有系列的，请选择“不限（所有系列）”` };
  }
  return { ok: true, series_code: chosen, any_series: 0 };
}

/** A plan's attachment slot (必传附件); `required: false` is 选传. */
export type PlanSlot = AttachmentSlotDef & { required: boolean };

/**
 * 人社局要求附件 of seed 001 §4.3 (注：*号为必传项). 职称获取情况 carries no * in the seed:
 * an applicant without a title has no certificate, so it is 选传.
 */
export const DEFAULT_REQUIRED_SLOTS: readonly PlanSlot[] = [
  { key: 'id_card', label: '身份证正反面', required: true },
  { key: 'title_cert', label: '职称证书图片和聘用证明', required: false, hint: '会计、审计、统计类考试的还需上传考试取得的有效期内的合格证书' },
  { key: 'edu_cert', label: '毕业证书和学位证书图片', required: true },
  { key: 'labor', label: '劳动合同或社保缴存证明（事业单位上传薪级工资审批表）', required: true, hint: '经劳动执法部门鉴证备案的劳动合同或社保缴存证明；事业单位上传薪级工资审批表' },
  { key: 'publicity', label: '公示材料', required: true, hint: '1. 公示方式：公告栏张贴拍照或单位内网公示截图；2. 公示结束：出具公示报告（明确是否有异议，是否推荐），并将相应公示材料附纸质材料中' },
  { key: 'pledge', label: '个人承诺书和单位承诺书', required: true },
];

export const DEFAULT_MAX_RETURNS = 4;
export const DEFAULT_PUBLICITY_DAYS = 5;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/** The China calendar date of an instant, YYYY-MM-DD. */
export function chinaDate(now: Date): string {
  return new Date(now.getTime() + CST_MS).toISOString().slice(0, 10);
}

/** A date plus n days (YYYY-MM-DD). */
export function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00.000Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

export interface PlanWindow {
  opens_at: string;
  closes_at: string;
  /** HH:MM China time (migration 0016); null = 00:00, the plans of before. */
  opens_time?: string | null;
  /** HH:MM China time, '24:00' = end of the day; null = 24:00. Open through the whole minute. */
  closes_time?: string | null;
}

export const OPEN_TIME_DEFAULT = '00:00';
export const CLOSE_TIME_DEFAULT = '24:00';

/** True for HH:MM from 00:00 to 23:59; `allowMidnight` also accepts 24:00 (a closing time). */
export function isTime(s: string, allowMidnight = false): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(s) || (allowMidnight && s === '24:00');
}

/** "8:00", "08：00" → "08:00"; null when it is not a time (24:00 only with `allowMidnight`). */
export function normalizeTime(s: string, allowMidnight = false): string | null {
  const m = /^(\d{1,2})[:：](\d{2})$/.exec(s.trim());
  if (!m) return null;
  const t = `${m[1]!.padStart(2, '0')}:${m[2]}`;
  return isTime(t, allowMidnight) ? t : null;
}

/** The China date and minute of an instant: { date: YYYY-MM-DD, time: HH:MM }. */
export function chinaClock(now: Date): { date: string; time: string } {
  const iso = new Date(now.getTime() + CST_MS).toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 16) };
}

const openKey = (p: PlanWindow) => `${p.opens_at} ${p.opens_time || OPEN_TIME_DEFAULT}`;
const closeKey = (p: PlanWindow) => `${p.closes_at} ${p.closes_time || CLOSE_TIME_DEFAULT}`;

/**
 * Minute-exact, like the notices ("11月3日17:00截止"): open from the opening minute through the
 * last second of the closing minute, so 17:00:59 is in time and 17:01 is late. "24:00" sorts after
 * every real minute, so a date-only plan is open 00:00 through 23:59:59.999. The SQL twin is
 * openNowSql in src/features/plans/repository.ts.
 */
export function windowState(plan: PlanWindow, now: Date): WindowState {
  const { date, time } = chinaClock(now);
  const key = `${date} ${time}`;
  if (key < openKey(plan)) return 'upcoming';
  return key <= closeKey(plan) ? 'open' : 'closed';
}

export function isOpen(plan: PlanWindow, now: Date): boolean {
  return windowState(plan, now) === 'open';
}

export type WindowState = 'upcoming' | 'open' | 'closed';

/** "2026年11月3日17:00" (no leading zeros in month and day, as the notices write it). */
export function momentText(date: string, time: string, withYear = true): string {
  const [y, m, d] = date.split('-').map(Number);
  return `${withYear ? `${y}年` : ''}${m}月${d}日${time}`;
}

/** "2026年11月1日08:00至11月3日17:00" (the second year only when it differs). */
export function windowText(p: PlanWindow): string {
  const closesTime = p.closes_time || CLOSE_TIME_DEFAULT;
  return `${momentText(p.opens_at, p.opens_time || OPEN_TIME_DEFAULT)}至${momentText(p.closes_at, closesTime, p.closes_at.slice(0, 4) !== p.opens_at.slice(0, 4))}`;
}

/** Why a submit (or a cover) is refused outside the window, naming the time; null when open. */
export function windowRefusal(plan: PlanWindow, now: Date, doing = '提交申报'): string | null {
  const state = windowState(plan, now);
  if (state === 'open') return null;
  if (state === 'upcoming') return `申报通道将于${momentText(plan.opens_at, plan.opens_time || OPEN_TIME_DEFAULT)}开通，尚不能${doing}`;
  return `申报通道已于${momentText(plan.closes_at, plan.closes_time || CLOSE_TIME_DEFAULT)}关闭，不能${doing}`;
}

/** The window of a 省级评委会 plan (seed 002 一 Q5(4), 五(二)3(5)), computed from 收审材料日期. */
export interface ProvincialWindowInput {
  /** 开始收审材料日期 YYYY-MM-DD. */
  materialsFrom: string;
  /** 截止收审材料日期; empty = the same day as materialsFrom. */
  materialsUntil?: string | null;
  /** 省级评委会要求市级行政部门统一报送材料. */
  central: boolean;
}

/**
 * 网上申报系统将在省评委会开始收审材料的前7天开通；要求统一报送材料的，截止收审材料前3日24:00关闭，
 * 无要求统一报送的，截止收审材料前一日24:00关闭.
 */
export function provincialWindow(i: ProvincialWindowInput): Required<PlanWindow> {
  const until = i.materialsUntil || i.materialsFrom;
  return {
    opens_at: addDays(i.materialsFrom, -7),
    opens_time: OPEN_TIME_DEFAULT,
    closes_at: addDays(until, i.central ? -3 : -1),
    closes_time: CLOSE_TIME_DEFAULT,
  };
}

export const WINDOW_LABEL: Record<WindowState, string> = { upcoming: '未开始', open: '申报中', closed: '已截止' };

/**
 * Whole China calendar days from today to the close date: 0 = closes tonight at 24:00,
 * 1 = tomorrow, negative = already closed.
 */
export function daysUntilClose(plan: { closes_at: string }, now: Date): number {
  return Math.round((Date.parse(`${plan.closes_at}T00:00:00.000Z`) - Date.parse(`${chinaDate(now)}T00:00:00.000Z`)) / DAY_MS);
}

const SECTION_KEYS = new Set(SECTIONS.map((s) => s.key));

/** The registry's required sections (used when a plan says nothing). */
export function defaultRequiredSections(): string[] {
  return SECTIONS.filter((s) => s.required).map((s) => s.key);
}

/**
 * Keys of the sections a plan requires, in registry order: of the common sections, the plan's
 * list (null = the registry's defaults). With `series` (the plan's 系列, null = 不限), the series'
 * own sections the registry marks required follow (they are not in the plan's list).
 */
export function requiredSections(plan: { required_sections: string | null }, series?: string | null): string[] {
  let keys: string[];
  if (plan.required_sections === null || plan.required_sections === undefined) keys = defaultRequiredSections();
  else {
    const picked = new Set(plan.required_sections.split(',').map((s) => s.trim()).filter(Boolean));
    keys = SECTIONS.filter((s) => picked.has(s.key)).map((s) => s.key);
  }
  if (series === undefined) return keys;
  return [...keys, ...sectionsFor(series).filter((s) => s.series && s.required).map((s) => s.key)];
}

function isSlot(x: unknown): x is PlanSlot {
  const s = x as PlanSlot;
  return !!s && typeof s === 'object' && typeof s.key === 'string' && s.key !== '' && typeof s.label === 'string' && s.label !== '';
}

/** A plan's attachment slots; null (or unreadable JSON) = DEFAULT_REQUIRED_SLOTS. */
export function requiredSlots(plan: { required_slots: string | null }): PlanSlot[] {
  if (plan.required_slots) {
    try {
      const parsed: unknown = JSON.parse(plan.required_slots);
      if (Array.isArray(parsed) && parsed.every(isSlot)) {
        return parsed.map((s) => ({ key: s.key, label: s.label, required: s.required !== false, ...(s.hint ? { hint: String(s.hint) } : {}) }));
      }
    } catch {
      // fall through to the defaults
    }
  }
  return DEFAULT_REQUIRED_SLOTS.map((s) => ({ ...s }));
}

function pick(all: readonly Option[], list: string | null | undefined): Option[] {
  const codes = new Set((list ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  return all.filter((o) => codes.has(o.code));
}

/** 参评类别 offered by a plan, in canonical order. */
export function planCategories(plan: { categories: string | null }): Option[] {
  return pick(CATEGORIES, plan.categories);
}

/** 申报等级 offered by a plan, in canonical order. */
export function planLevels(plan: { levels: string | null }): Option[] {
  return pick(LEVELS, plan.levels);
}

/** Accepted 评审专业, one per line; [] = 不限. */
export function planSpecialties(plan: { specialties: string | null }): string[] {
  return splitLines(plan.specialties ?? '');
}

/** Trimmed non-empty lines, duplicates dropped, order kept. */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    const s = line.trim();
    if (s && !out.includes(s)) out.push(s);
  }
  return out;
}

const OPTIONAL_MARK = '选传';
const REQUIRED_MARK = '必传';

/** Slots as the textarea shows them: 'label' or 'label|选传', one per line. */
export function slotsToText(slots: readonly PlanSlot[]): string {
  return slots.map((s) => (s.required ? s.label : `${s.label}|${OPTIONAL_MARK}`)).join('\n');
}

export const MAX_SLOTS = 30;
export const MAX_SLOT_LABEL = 100;

/**
 * Parses the 必传附件 textarea. Keys stay stable: a default label keeps its default key (and
 * hint), a label the plan already had keeps its key; a new label gets s1, s2… above every
 * key in use, so an uploaded file never silently moves to another slot.
 */
export function parseSlotText(text: string, previous: readonly PlanSlot[] = []): { slots: PlanSlot[]; error?: string } {
  const slots: PlanSlot[] = [];
  const used = new Set<string>();
  let next = 1;
  for (const s of previous) {
    const m = /^s(\d+)$/.exec(s.key);
    if (m) next = Math.max(next, Number(m[1]) + 1);
  }
  const lines = text.split(/\r\n|\r|\n/).map((l) => l.trim()).filter(Boolean);
  if (lines.length > MAX_SLOTS) return { slots: [], error: `必传附件最多${MAX_SLOTS}项` };
  for (const line of lines) {
    const parts = line.split(/[|｜]/).map((p) => p.trim());
    const label = parts[0] ?? '';
    const mark = parts.slice(1).join('');
    if (!label) return { slots: [], error: `附件名称不能为空：“${line}”` };
    if ([...label].length > MAX_SLOT_LABEL) return { slots: [], error: `附件名称不能超过${MAX_SLOT_LABEL}个字：“${label.slice(0, 20)}…”` };
    if (parts.length > 2 || (mark !== '' && mark !== OPTIONAL_MARK && mark !== REQUIRED_MARK)) {
      return { slots: [], error: `“${line}”格式不正确：每行填写附件名称，选传的在名称后加“|选传”` };
    }
    if (slots.some((s) => s.label === label)) return { slots: [], error: `附件“${label}”重复` };
    const known = DEFAULT_REQUIRED_SLOTS.find((s) => s.label === label && !used.has(s.key)) ?? previous.find((s) => s.label === label && !used.has(s.key));
    let key = known?.key;
    if (!key) {
      while (used.has(`s${next}`) || previous.some((s) => s.key === `s${next}`)) next++;
      key = `s${next++}`;
    }
    used.add(key);
    slots.push({ key, label, required: mark !== OPTIONAL_MARK, ...(known?.hint ? { hint: known.hint } : {}) });
  }
  return { slots };
}

/** True when the slots are exactly the defaults (stored as null). */
export function isDefaultSlots(slots: readonly PlanSlot[]): boolean {
  return (
    slots.length === DEFAULT_REQUIRED_SLOTS.length &&
    slots.every((s, i) => {
      const d = DEFAULT_REQUIRED_SLOTS[i]!;
      return s.key === d.key && s.label === d.label && s.required === d.required && (s.hint ?? '') === (d.hint ?? '');
    })
  );
}

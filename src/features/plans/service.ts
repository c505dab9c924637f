import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { compileForm, type FieldErrors } from '../../lib/forms.js';
import { SECTIONS } from '../../domain/sections.js';
import {
  CATEGORIES, CLOSE_TIME_DEFAULT, LEVELS, OPEN_TIME_DEFAULT, normalizeTime, provincialWindow, windowText, DEFAULT_MAX_RETURNS, DEFAULT_PUBLICITY_DAYS, DEFAULT_REQUIRED_SLOTS, chinaDate, checkPlanSeries, defaultRequiredSections, isDate,
  isDefaultSlots, parseSlotText, requiredSections, requiredSlots, seriesValue, slotsToText, splitLines,
} from '../../domain/plans.js';
import { syncPlanNotice } from '../notices/service.js';
import { DEFAULT_PASS_RATIO, parseRatio } from '../../domain/evaluation.js';
import type { PlanColumns, PlanRecord } from './repository.js';
import { WHO_RULES, ruleModes, type WhoRule } from '../../domain/whoMay.js';
import { MAX_REPRESENTATIVE_LIMIT, MAX_STUDY_HOURS, PASS_MARKS } from '../../domain/seriesRules.js';

/** Who manages plans and notices: committee office staff, and platform admins. */
export function canManagePlans(u: CurrentUser): boolean {
  return u.kind === 'staff' && (u.orgKind === 'committee' || (u.orgKind === 'platform' && u.roles.includes('admin')));
}

export function isPlatformAdmin(u: CurrentUser): boolean {
  return u.kind === 'staff' && u.orgKind === 'platform' && u.roles.includes('admin');
}

/** The committee whose plans the user manages; null = every committee (platform admin). */
export function planScope(u: CurrentUser): number | null {
  return isPlatformAdmin(u) ? null : u.orgId ?? -1;
}

export const SPECIALTIES_MAX = 5000;
export const NOTICE_MAX = 5000;
export const NAME_MAX = 80;

/** What the form shows (strings and checkbox lists), both for new, edit and a failed post. */
export interface PlanFormValues {
  committee_org_id: string;
  year: string;
  name: string;
  series_code: string;
  levels: string[];
  specialties: string;
  categories: string[];
  opens_at: string;
  opens_time: string;
  closes_at: string;
  closes_time: string;
  materials_from: string;
  materials_until: string;
  central_submit: string;
  required_sections: string[];
  required_slots: string;
  max_returns: string;
  pass_ratio: string;
  publicity_required: string;
  publicity_days: string;
  major_mismatch: string;
  eligibility_mode: string;
  notice: string;
  /** Series sections (migration 0026): '' = not asked. */
  theory_pass_mark: string;
  min_study_hours: string;
  max_representative: string;
  cnki_required: string;
  /** Who may declare (src/domain/whoMay.ts): warn or block per rule, keyed `rule_<key>` (the radios' names). */
  rules: Record<string, string>;
}

function formRules(json: string | null): Record<string, string> {
  const m = ruleModes(json);
  return Object.fromEntries(WHO_RULES.map((r) => [`rule_${r.key}`, m[r.key]]));
}
function postedRules(body: unknown, errors: FieldErrors): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of WHO_RULES) {
    // Not posted (a form from before this rule existed): the rule's default.
    const v = str(body, `rule_${r.key}`) || r.default;
    out[`rule_${r.key}`] = v;
    if (v !== 'warn' && v !== 'block') errors[`rule_${r.key}`] = `请选择“${r.label}”时的处理方式`;
  }
  return out;
}
const rulesJson = (rules: Record<string, string>) => JSON.stringify(Object.fromEntries(WHO_RULES.map((r) => [r.key, rules[`rule_${r.key}`]])) as Record<WhoRule, string>);

interface PlanScalars {
  committee_org_id?: number;
  year?: number;
  name?: string;
  series_code?: string;
  specialties?: string;
  opens_at?: string;
  closes_at?: string;
  required_slots?: string;
  max_returns?: number;
  publicity_required?: '1' | '0';
  publicity_days?: number;
  major_mismatch?: 'warn' | 'block';
  eligibility_mode?: 'warn' | 'block';
  notice?: string;
}

const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';

const parseScalars = compileForm<PlanScalars>({
  type: 'object',
  properties: {
    committee_org_id: { type: 'integer', title: '评委会', minimum: 1, errorMessage: '请选择评委会' },
    year: { type: 'integer', title: '年度', minimum: 2000, maximum: 2100, errorMessage: '年度应为2000至2100之间的四位年份' },
    name: { type: 'string', title: '计划名称', maxLength: NAME_MAX },
    series_code: { type: 'string', title: '系列', maxLength: 20 },
    specialties: { type: 'string', title: '评审专业', maxLength: SPECIALTIES_MAX },
    opens_at: { type: 'string', title: '申报开始日期', pattern: DATE_PATTERN, errorMessage: '申报开始日期格式应为YYYY-MM-DD，如2026-05-01' },
    closes_at: { type: 'string', title: '申报截止日期', pattern: DATE_PATTERN, errorMessage: '申报截止日期格式应为YYYY-MM-DD，如2026-06-30' },
    required_slots: { type: 'string', title: '必传附件', maxLength: 5000 },
    max_returns: { type: 'integer', title: '返回修改和重置流程次数上限', minimum: 1, maximum: 10, errorMessage: '返回修改和重置流程次数上限应为1至10的整数' },
    publicity_required: { type: 'string', title: '是否需要单位公示', enum: ['1', '0'] },
    publicity_days: { type: 'integer', title: '公示工作日数', minimum: 5, maximum: 30, errorMessage: '公示工作日数应为5至30的整数（不少于5个工作日）' },
    major_mismatch: { type: 'string', title: '所学专业与从事专业不一致时', enum: ['warn', 'block'] },
    eligibility_mode: { type: 'string', title: '申报条件不符合时', enum: ['warn', 'block'] },
    notice: { type: 'string', title: '申报通知（相关要求）', maxLength: NOTICE_MAX },
  },
  required: ['year', 'name', 'opens_at', 'closes_at', 'max_returns', 'publicity_required', 'major_mismatch', 'eligibility_mode'],
});

/** The checked boxes of a multi-value field, known codes only, in canonical order. */
function boxes(body: unknown, name: string, known: readonly string[]): string[] {
  const raw = (body as Record<string, unknown> | undefined)?.[name];
  const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((x) => String(x));
  return known.filter((k) => list.includes(k));
}

function str(body: unknown, name: string): string {
  const raw = (body as Record<string, unknown> | undefined)?.[name];
  const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  return typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v);
}

/** Form values of a new plan: this year, the registry's and the seeds' defaults. */
export function newPlanValues(now: Date, committee?: { id: number; series_code: string | null }): PlanFormValues {
  return {
    committee_org_id: committee ? String(committee.id) : '',
    year: chinaDate(now).slice(0, 4),
    name: '',
    series_code: committee?.series_code ?? '',
    levels: [],
    specialties: '',
    categories: CATEGORIES.map((c) => c.code),
    opens_at: '',
    opens_time: OPEN_TIME_DEFAULT,
    closes_at: '',
    closes_time: CLOSE_TIME_DEFAULT,
    materials_from: '',
    materials_until: '',
    central_submit: '0',
    required_sections: defaultRequiredSections(),
    required_slots: slotsToText(DEFAULT_REQUIRED_SLOTS),
    max_returns: String(DEFAULT_MAX_RETURNS),
    pass_ratio: DEFAULT_PASS_RATIO,
    publicity_required: '1',
    publicity_days: String(DEFAULT_PUBLICITY_DAYS),
    major_mismatch: 'warn',
    eligibility_mode: 'warn',
    notice: '',
    theory_pass_mark: '',
    min_study_hours: '',
    max_representative: '',
    cnki_required: '0',
    rules: formRules(null),
  };
}

/** Form values of a stored plan (`committeeSeries`: the series of the plan's committee). */
export function planValues(p: PlanRecord, committeeSeries: string | null = null): PlanFormValues {
  const split = (s: string | null) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  return {
    committee_org_id: String(p.committee_org_id),
    year: String(p.year),
    name: p.name,
    series_code: seriesValue(p, committeeSeries),
    levels: LEVELS.map((l) => l.code).filter((c) => split(p.levels).includes(c)),
    specialties: p.specialties ?? '',
    categories: CATEGORIES.map((c) => c.code).filter((c) => split(p.categories).includes(c)),
    opens_at: p.opens_at,
    opens_time: p.opens_time || OPEN_TIME_DEFAULT,
    closes_at: p.closes_at,
    closes_time: p.closes_time || CLOSE_TIME_DEFAULT,
    materials_from: p.materials_from ?? '',
    materials_until: p.materials_until ?? '',
    central_submit: p.central_submit ? '1' : '0',
    required_sections: requiredSections(p),
    required_slots: slotsToText(requiredSlots(p)),
    max_returns: String(p.max_returns),
    pass_ratio: p.pass_ratio,
    publicity_required: p.publicity_required ? '1' : '0',
    publicity_days: String(p.publicity_days),
    major_mismatch: p.major_mismatch,
    eligibility_mode: p.eligibility_mode,
    notice: p.notice ?? '',
    theory_pass_mark: p.theory_pass_mark === null ? '' : String(p.theory_pass_mark),
    min_study_hours: p.min_study_hours === null ? '' : String(p.min_study_hours),
    max_representative: p.max_representative === null ? '' : String(p.max_representative),
    cnki_required: p.cnki_required ? '1' : '0',
    rules: formRules(p.declare_rules),
  };
}

/**
 * Validates a posted plan form. Staff of a committee always save to their own committee;
 * a platform admin picks one. Returns the columns to store when valid.
 */
export async function checkPlan(
  ctx: AppContext,
  body: unknown,
  opts: { user: CurrentUser; existing?: PlanRecord },
): Promise<{ values: PlanFormValues; errors: FieldErrors; row?: PlanColumns }> {
  const { values: v, errors } = parseScalars(body);
  const admin = isPlatformAdmin(opts.user);
  const sectionKeys = SECTIONS.map((s) => s.key);
  const values: PlanFormValues = {
    committee_org_id: str(body, 'committee_org_id'),
    year: str(body, 'year'),
    name: str(body, 'name'),
    series_code: str(body, 'series_code'),
    levels: boxes(body, 'levels', LEVELS.map((l) => l.code)),
    specialties: str(body, 'specialties'),
    categories: boxes(body, 'categories', CATEGORIES.map((c) => c.code)),
    opens_at: str(body, 'opens_at'),
    opens_time: str(body, 'opens_time'),
    closes_at: str(body, 'closes_at'),
    closes_time: str(body, 'closes_time'),
    materials_from: str(body, 'materials_from'),
    materials_until: str(body, 'materials_until'),
    central_submit: str(body, 'central_submit') === '1' ? '1' : '0',
    required_sections: boxes(body, 'required_sections', sectionKeys),
    required_slots: str(body, 'required_slots'),
    max_returns: str(body, 'max_returns'),
    pass_ratio: str(body, 'pass_ratio'),
    publicity_required: str(body, 'publicity_required'),
    publicity_days: str(body, 'publicity_days'),
    major_mismatch: str(body, 'major_mismatch'),
    eligibility_mode: str(body, 'eligibility_mode'),
    notice: str(body, 'notice'),
    theory_pass_mark: str(body, 'theory_pass_mark'),
    min_study_hours: str(body, 'min_study_hours'),
    max_representative: str(body, 'max_representative'),
    cnki_required: str(body, 'cnki_required') === '1' ? '1' : '0',
    rules: postedRules(body, errors),
  };

  let committeeId: number | undefined;
  if (admin) {
    if (v.committee_org_id === undefined) errors.committee_org_id ??= '请选择评委会';
    else if (!errors.committee_org_id) {
      const c = await ctx.db.selectFrom('orgs').select('id').where('id', '=', v.committee_org_id).where('kind', '=', 'committee').executeTakeFirst();
      if (!c) errors.committee_org_id = '请选择评委会';
      else committeeId = c.id;
    }
  } else {
    delete errors.committee_org_id;
    committeeId = opts.user.orgId ?? undefined;
  }

  if (!values.levels.length) errors.levels = '请选择申报等级';
  if (!values.categories.length) errors.categories = '请选择参评类别';
  if (v.opens_at && !errors.opens_at && !isDate(v.opens_at)) errors.opens_at = '申报开始日期不是有效日期';
  if (v.closes_at && !errors.closes_at && !isDate(v.closes_at)) errors.closes_at = '申报截止日期不是有效日期';
  // Times: empty is the old meaning (00:00 / 24:00); "8:00" and a full-width colon are accepted.
  const opensTime = values.opens_time ? normalizeTime(values.opens_time) : OPEN_TIME_DEFAULT;
  const closesTime = values.closes_time ? normalizeTime(values.closes_time, true) : CLOSE_TIME_DEFAULT;
  if (!opensTime) errors.opens_time = '申报开始时间格式应为“时:分”，如08:00';
  else values.opens_time = opensTime;
  if (!closesTime) errors.closes_time = '申报截止时间格式应为“时:分”，如17:00；当天24:00截止的填24:00';
  else values.closes_time = closesTime;
  if (v.opens_at && v.closes_at && !errors.opens_at && !errors.closes_at && v.closes_at < v.opens_at) {
    errors.closes_at = '申报截止日期不能早于申报开始日期';
  } else if (opensTime && closesTime && v.opens_at === v.closes_at && closesTime <= opensTime && !errors.closes_at) {
    errors.closes_time = '申报截止时间应晚于申报开始时间';
  }
  const materials = checkMaterials(values);
  Object.assign(errors, materials.errors);
  // 系列: chosen on purpose (不限 included), and only the committee's own series.
  const seriesList = await ctx.db.selectFrom('series').select(['code', 'name']).orderBy('sort').orderBy('code').execute();
  const committeeSeries = committeeId === undefined ? null : (await committeeSeriesOf(ctx, committeeId));
  const series = checkPlanSeries(values.series_code, committeeSeries, seriesList);
  if (!series.ok) errors.series_code ??= series.error;
  const specialties = splitLines(v.specialties ?? '');
  if (!errors.specialties && specialties.some((s) => [...s].length > 100)) errors.specialties = '每个评审专业不能超过100个字';
  const previous = opts.existing ? requiredSlots(opts.existing) : [];
  const slots = parseSlotText(v.required_slots ?? '', previous);
  if (slots.error && !errors.required_slots) errors.required_slots = slots.error;
  const ratio = parseRatio(values.pass_ratio.replace(/／/g, '/'));
  if (!ratio) errors.pass_ratio = '评审通过比例应写成“分子/分母”，如 2/3、1/2，且不大于1';
  if (v.publicity_required === '1' && v.publicity_days === undefined && !errors.publicity_days) errors.publicity_days = '请填写公示工作日数';

  const seriesSettings = checkSeriesSettings(values);
  Object.assign(errors, seriesSettings.errors);

  if (Object.keys(errors).length || committeeId === undefined || !series.ok) return { values, errors };
  const sections = values.required_sections;
  const defaults = defaultRequiredSections();
  const row: PlanColumns = {
    committee_org_id: committeeId,
    year: v.year!,
    name: v.name!,
    series_code: series.series_code,
    any_series: series.any_series,
    levels: values.levels.join(','),
    specialties: specialties.length ? specialties.join('\n') : null,
    categories: values.categories.join(','),
    opens_at: v.opens_at!,
    closes_at: v.closes_at!,
    opens_time: opensTime === OPEN_TIME_DEFAULT ? null : opensTime,
    closes_time: closesTime === CLOSE_TIME_DEFAULT ? null : closesTime,
    materials_from: values.materials_from || null,
    materials_until: values.materials_until || null,
    central_submit: values.materials_from && values.central_submit === '1' ? 1 : 0,
    // null keeps "the defaults" (and follows the registry if it changes).
    required_sections: sections.length === defaults.length && sections.every((k, i) => k === defaults[i]) ? null : sections.join(','),
    required_slots: isDefaultSlots(slots.slots) ? null : JSON.stringify(slots.slots),
    max_returns: v.max_returns!,
    pass_ratio: `${ratio!.num}/${ratio!.den}`,
    publicity_required: v.publicity_required === '0' ? 0 : 1,
    publicity_days: v.publicity_days ?? DEFAULT_PUBLICITY_DAYS,
    major_mismatch: v.major_mismatch!,
    eligibility_mode: v.eligibility_mode!,
    notice: v.notice || null,
    declare_rules: rulesJson(values.rules),
    ...seriesSettings.columns,
  };
  return { values, errors, row };
}

/** 系列申报信息要求 (issue #16): the pass mark (60/70), 学时 minimum, 代表作 N; empty = not asked. */
function checkSeriesSettings(values: PlanFormValues) {
  const errors: FieldErrors = {};
  const whole = (v: string, max: number, key: string, message: string): number | null => {
    if (v === '') return null;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > max) errors[key] = message;
    return n;
  };
  let pass: number | null = null;
  if (values.theory_pass_mark !== '') {
    pass = Number(values.theory_pass_mark);
    if (!(PASS_MARKS as readonly number[]).includes(pass)) errors.theory_pass_mark = '教育理论考试合格分数请选择60分或70分';
  }
  const hours = whole(values.min_study_hours, MAX_STUDY_HOURS, 'min_study_hours', `每年最低学时应为1至${MAX_STUDY_HOURS}的整数，不要求的请留空`);
  const rep = whole(values.max_representative, MAX_REPRESENTATIVE_LIMIT, 'max_representative', `代表作篇数上限应为1至${MAX_REPRESENTATIVE_LIMIT}的整数，不实行代表作评审的请留空`);
  return { errors, columns: { theory_pass_mark: pass, min_study_hours: hours, max_representative: rep, cnki_required: values.cnki_required === '1' ? 1 : 0 } };
}

/** 收审材料日期 (optional): real dates, the end not before the start. */
function checkMaterials(values: PlanFormValues): { errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (values.materials_from && !isDate(values.materials_from)) errors.materials_from = '开始收审材料日期不是有效日期（YYYY-MM-DD）';
  if (values.materials_until && !isDate(values.materials_until)) errors.materials_until = '截止收审材料日期不是有效日期（YYYY-MM-DD）';
  if (values.materials_until && !values.materials_from && !errors.materials_until) errors.materials_from = '请填写开始收审材料日期';
  if (!errors.materials_from && !errors.materials_until && values.materials_until && values.materials_until < values.materials_from) {
    errors.materials_until = '截止收审材料日期不能早于开始收审材料日期';
  }
  return { errors };
}

/**
 * 计算 (no save): the window of a provincial committee's plan from its 收审材料日期 (seed 002
 * 一 Q5(4)). Returns the form values with the computed times, or the reason it cannot.
 */
export async function computePlanWindow(
  ctx: AppContext,
  body: unknown,
  opts: { user: CurrentUser; existing?: PlanRecord; base: PlanFormValues },
): Promise<{ values: PlanFormValues; errors: FieldErrors; computed?: string }> {
  const values = opts.base;
  const errors: FieldErrors = {};
  const committeeId = opts.existing?.committee_org_id ?? (isPlatformAdmin(opts.user) ? Number(values.committee_org_id) : opts.user.orgId);
  const c = committeeId ? await ctx.db.selectFrom('orgs').select('committee_tier').where('id', '=', committeeId).where('kind', '=', 'committee').executeTakeFirst() : undefined;
  if (!c) errors.committee_org_id = '请选择评委会';
  else if (c.committee_tier !== 'province') errors.materials_from = '按收审材料日期计算申报时间只适用于省级评委会；市级评委会的申报时间以当年的申报通知为准';
  if (!values.materials_from && !errors.materials_from) errors.materials_from = '请填写开始收审材料日期';
  Object.assign(errors, checkMaterials(values).errors, errors);
  if (Object.keys(errors).length) return { values, errors };
  const w = provincialWindow({ materialsFrom: values.materials_from, materialsUntil: values.materials_until, central: values.central_submit === '1' });
  Object.assign(values, { opens_at: w.opens_at, opens_time: w.opens_time, closes_at: w.closes_at, closes_time: w.closes_time });
  return { values, errors, computed: windowText(w) };
}

/** The 系列 a committee evaluates (committees.json series_code); null when it has none. */
export async function committeeSeriesOf(ctx: AppContext, committeeId: number): Promise<string | null> {
  const c = await ctx.db.selectFrom('orgs').select('series_code').where('id', '=', committeeId).where('kind', '=', 'committee').executeTakeFirst();
  return c?.series_code ?? null;
}

/** Creates a plan and publishes its 申报通知 (if any) in one transaction. */
export async function createPlan(ctx: AppContext, row: PlanColumns, userId: number): Promise<number> {
  const now = ctx.config.now();
  const stamp = now.toISOString();
  return writeTx(ctx.db, async (trx) => {
    const r = await trx.insertInto('plans').values({ ...row, created_at: stamp, updated_at: stamp }).returning('id').executeTakeFirstOrThrow();
    await syncPlanNotice(trx, { planId: r.id, orgId: row.committee_org_id, planName: row.name, notice: row.notice, previous: null, userId, now });
    return r.id;
  });
}

/**
 * Saves a plan. Declarations keep their plan: changed rules apply to drafts and future
 * submissions (versions already submitted are frozen snapshots).
 */
export async function updatePlan(ctx: AppContext, plan: PlanRecord, row: PlanColumns, userId: number): Promise<void> {
  const now = ctx.config.now();
  await writeTx(ctx.db, async (trx) => {
    const cur = await trx.selectFrom('plans').select('notice').where('id', '=', plan.id).executeTakeFirst();
    await trx.updateTable('plans').set({ ...row, updated_at: now.toISOString() }).where('id', '=', plan.id).execute();
    await syncPlanNotice(trx, { planId: plan.id, orgId: row.committee_org_id, planName: row.name, notice: row.notice, previous: cur?.notice ?? null, userId, now });
  });
}

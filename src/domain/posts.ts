/**
 * 岗位设置与聘任 (seed 004 聘任管理、结构比例管理; seed 002 Q7(1)), pure.
 *
 * A unit sets how many professional posts (岗位数) it has per level (the levels of
 * src/domain/plans.ts LEVELS); 聘任 records put a person on a post of a level from a start date
 * to an optional end date. 空岗 = 岗位数 − people appointed now. Seed 002 Q7(1): a person may
 * declare when “单位完成岗位设置管理工作，且专业技术岗位有空余”; the plan decides whether a unit
 * without a vacant post at the declared level is only warned or blocked at its 核验.
 */
import { LEVELS } from './plans.js';
import type { RuleMode } from './whoMay.js';

export const POST_LEVELS = LEVELS;
export const POST_LEVEL_NAME: Record<string, string> = Object.fromEntries(LEVELS.map((l) => [l.code, l.name]));
export const QUOTA_MAX = 100000;

export interface Appointment {
  level: string;
  start_date: string;
  end_date: string | null;
}

/** Appointed on `today` (YYYY-MM-DD): started, and not yet ended (the end day still counts). */
export function isCurrent(a: Pick<Appointment, 'start_date' | 'end_date'>, today: string): boolean {
  return a.start_date <= today && (!a.end_date || a.end_date >= today);
}

export interface LevelPosts {
  level: string;
  name: string;
  /** null: no 岗位数 set for this level. */
  quota: number | null;
  appointed: number;
  /** 岗位数 − 现聘人数, never below 0. */
  vacant: number;
  /** More people appointed than posts (possible only for data from before the quota). */
  over: number;
}

/** The table of a unit: one row per level, in LEVELS order. */
export function postTable(quotas: Readonly<Record<string, number | null | undefined>>, appointed: Readonly<Record<string, number | undefined>>): LevelPosts[] {
  return POST_LEVELS.map((l) => {
    const quota = quotas[l.code] ?? null;
    const n = appointed[l.code] ?? 0;
    return { level: l.code, name: l.name, quota, appointed: n, vacant: Math.max(0, (quota ?? 0) - n), over: Math.max(0, n - (quota ?? 0)) };
  });
}

/** Counts the appointments current on `today` per level. */
export function appointedNow(list: readonly Appointment[], today: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of list) if (isCurrent(a, today)) out[a.level] = (out[a.level] ?? 0) + 1;
  return out;
}

/**
 * The posted 岗位数 form: one field per level (`quota_<level>`), empty = not set. A number below
 * the people appointed now is refused with the reason (解聘 first).
 */
export function checkQuotas(
  input: Readonly<Record<string, unknown>>,
  appointed: Readonly<Record<string, number | undefined>>,
): { values: Record<string, string>; errors: Record<string, string>; quotas: Record<string, number | null> | null } {
  const values: Record<string, string> = {};
  const errors: Record<string, string> = {};
  const quotas: Record<string, number | null> = {};
  for (const l of POST_LEVELS) {
    const key = `quota_${l.code}`;
    const raw = input[key];
    const v = (typeof raw === 'string' ? raw : Array.isArray(raw) ? String(raw[raw.length - 1] ?? '') : '').trim();
    values[key] = v;
    const n = appointed[l.code] ?? 0;
    if (v === '') {
      if (n > 0) errors[key] = `${l.name}岗位现聘${n}人，岗位数不能为空`;
      quotas[l.code] = null;
      continue;
    }
    if (!/^\d{1,6}$/.test(v) || Number(v) > QUOTA_MAX) {
      errors[key] = `${l.name}岗位数请填写0至${QUOTA_MAX}的整数`;
      continue;
    }
    if (Number(v) < n) {
      errors[key] = `${l.name}岗位数不能少于现聘人数（现聘${n}人）；如需核减，请先办理解聘`;
      continue;
    }
    quotas[l.code] = Number(v);
  }
  return { values, errors, quotas: Object.keys(errors).length ? null : quotas };
}

export type VacancyDecision =
  | { ok: true; warning: '' }
  | { ok: true; warning: string }
  | { ok: false; error: string };

/**
 * At the unit's 核验 of a declaration at `level`: is there a vacant post? `posts` is the unit's
 * table (postTable); `mode` the plan's choice for the rule `post_vacancy`. A unit that set no
 * 岗位数 at all has not done its 岗位设置 (Q7(1)); a level without a number has no post.
 */
export function vacancyDecision(level: string | null | undefined, posts: readonly LevelPosts[], mode: RuleMode): VacancyDecision {
  if (!level || !POST_LEVEL_NAME[level]) return { ok: true, warning: '' };
  const name = POST_LEVEL_NAME[level];
  let problem = '';
  if (posts.every((p) => p.quota === null)) {
    problem = '本单位尚未完成岗位设置（岗位设置与聘任中未设置岗位数）';
  } else {
    const row = posts.find((p) => p.level === level);
    if (!row || row.quota === null || row.quota === 0) problem = `本单位未设置${name}专业技术岗位`;
    else if (row.vacant <= 0) problem = `本单位${name}专业技术岗位已满（岗位数${row.quota}，现聘${row.appointed}人），无空余岗位`;
  }
  if (!problem) return { ok: true, warning: '' };
  if (mode === 'block') return { ok: false, error: `${problem}，按本评审计划的规定不能核验通过（单位完成岗位设置且专业技术岗位有空余的方可申报）` };
  return { ok: true, warning: `${problem}，请核实（单位完成岗位设置且专业技术岗位有空余的方可申报）` };
}

/**
 * A new 聘任 (the form's values already trimmed): dates in order, a vacant post at the level.
 * `current`: the person's appointment now, if any (one post at a time).
 */
export function checkAppointment(
  v: { level: string; start_date: string; end_date: string },
  posts: readonly LevelPosts[],
  today: string,
  current: { level: string } | null,
): Record<string, string> {
  const errors: Record<string, string> = {};
  const date = /^\d{4}-\d{2}-\d{2}$/;
  if (!POST_LEVEL_NAME[v.level]) errors.level = '请选择聘任岗位等级';
  if (!v.start_date) errors.start_date = '请填写聘任开始时间';
  else if (!date.test(v.start_date) || Number.isNaN(Date.parse(v.start_date))) errors.start_date = '聘任开始时间格式应为YYYY-MM-DD';
  if (v.end_date) {
    if (!date.test(v.end_date) || Number.isNaN(Date.parse(v.end_date))) errors.end_date = '聘任结束时间格式应为YYYY-MM-DD';
    else if (v.start_date && v.end_date < v.start_date) errors.end_date = '聘任结束时间不能早于开始时间';
  }
  if (Object.keys(errors).length) return errors;
  const nowOn = isCurrent({ start_date: v.start_date, end_date: v.end_date || null }, today);
  if (nowOn && current) {
    errors.person = `该人员现聘于${POST_LEVEL_NAME[current.level] ?? current.level}岗位，请先办理解聘`;
    return errors;
  }
  if (nowOn) {
    const row = posts.find((p) => p.level === v.level)!;
    if (row.quota === null || row.vacant <= 0) {
      errors.level = row.quota === null ? `本单位未设置${row.name}岗位数，请先在岗位设置中填写` : `${row.name}岗位已满（岗位数${row.quota}，现聘${row.appointed}人），不能再聘任`;
    }
  }
  return errors;
}

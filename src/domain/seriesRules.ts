/**
 * The rules a plan's settings put on the series sections and on papers (issue #16): the
 * 教育理论考试 pass mark, the yearly 学时 minimum, at most N 代表作, 知网收录 proof. Pure: the
 * callers (archive forms, declaration step 2, the printed form) pass the rows and the settings.
 */
import { NO_PLAN_SETTINGS, theoryResult, type PlanSectionSettings } from './sectionTypes.js';

export { theoryResult, hoursResult } from './sectionTypes.js';

/** The plan's columns (migration 0026) as settings; every column null/0 = the plan asks nothing. */
export function planSectionSettings(p: { theory_pass_mark?: number | null; min_study_hours?: number | null; max_representative?: number | null; cnki_required?: number | null } | null | undefined): PlanSectionSettings {
  if (!p) return { ...NO_PLAN_SETTINGS };
  return {
    theoryPassMark: p.theory_pass_mark ?? null,
    minStudyHours: p.min_study_hours ?? null,
    maxRepresentative: p.max_representative ?? null,
    cnkiRequired: !!p.cnki_required,
  };
}

/** The pass marks a plan may set (seed 004: 2010年60分合格，2011年70分合格). */
export const PASS_MARKS = [60, 70] as const;
export const MAX_REPRESENTATIVE_LIMIT = 10;
export const MAX_STUDY_HOURS = 500;

export const isRepresentative = (row: Record<string, unknown>) => row.representative === '是';

/**
 * Marking one more paper 代表作: null when allowed, else the field's message. `others` are the
 * applicant's other papers (not the one being saved). With no limit in the plan, any number.
 */
export function representativeError(others: readonly Record<string, unknown>[], marking: boolean, max: number | null): string | null {
  if (!marking || max === null) return null;
  const already = others.filter(isRepresentative).length;
  return already + 1 > max ? `代表作最多${max}篇（本评审计划规定），已选${already}篇；请先将其他论文的“代表作”改为“否”` : null;
}

/** 代表作 first (in their order), then the others (in theirs): what reviewers and the 简表 see. */
export function representativeFirst<T extends { data: Record<string, unknown> }>(rows: readonly T[]): T[] {
  return [...rows.filter((r) => isRepresentative(r.data)), ...rows.filter((r) => !isRepresentative(r.data))];
}

/** Years whose 学时 fall short of the plan's minimum: “2024年学时不足（48/72学时）”, in year order. */
export function studyHoursShortfalls(rows: readonly Record<string, unknown>[], minimum: number | null): string[] {
  if (minimum === null) return [];
  return [...rows]
    .filter((r) => Number(r.hours) < minimum)
    .sort((a, b) => Number(a.year) - Number(b.year))
    .map((r) => `${r.year}年学时不足（${Number(r.hours)}/${minimum}学时）`);
}

/** The applicant has passed the 教育理论考试 when one score reaches the plan's mark; true when the plan sets none. */
export function theoryPassed(rows: readonly Record<string, unknown>[], passMark: number | null): boolean {
  if (passMark === null) return true;
  return rows.some((r) => theoryResult(r.score, passMark) === '合格');
}

/** Papers lacking 知网收录 proof (a link and a screenshot) when the plan requires it: their titles. */
export function cnkiMissing(papers: readonly { data: Record<string, unknown>; slots: readonly string[] }[], required: boolean): string[] {
  if (!required) return [];
  return papers.filter((p) => !String(p.data.cnki_url ?? '').trim() || !p.slots.includes('cnki')).map((p) => String(p.data.title ?? ''));
}

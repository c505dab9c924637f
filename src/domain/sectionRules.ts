import type { FieldDef, SectionDef } from './sections.js';
import { isValidDate } from './workdays.js';

/** Stored for an ongoing end date (工作经历 至今 …). */
export const ONGOING = '至今';
/** Select value that switches a field to its free-text 其他 input. */
export const OTHER = '__other__';

export type RowValues = Record<string, string | number | null>;
export type FieldErrors = Record<string, string>;

export interface DictLookup {
  /** Is `value` an allowed stored value of the dictionary (an option name, or a tree leaf path)? */
  has(dict: string, value: string): boolean;
}

export interface RuleContext {
  /** Today in China, YYYY-MM-DD. */
  today: string;
  dicts: DictLookup;
}

const chars = (s: string) => [...s].length;

function str(input: Record<string, unknown>, key: string): string {
  const v = input[key];
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof s === 'string' ? s.trim() : typeof s === 'number' ? String(s) : '';
}

/**
 * Validates one form submission of a section row (or the profile) against its field list.
 * Returns the normalised values to store and a Chinese message per failing field. The typed
 * values are returned even when invalid, so the form can show them again.
 */
export function validateFields(fields: readonly FieldDef[], input: Record<string, unknown>, ctx: RuleContext): { values: RowValues; errors: FieldErrors } {
  const values: RowValues = {};
  const errors: FieldErrors = {};
  const thisYear = Number(ctx.today.slice(0, 4));

  for (const f of fields) {
    let v = str(input, f.key);
    // 其他: the select says "other", the typed text is the value.
    if ((f.allowOther || f.type === 'tree') && v === OTHER) v = str(input, `${f.key}_other`);
    if (f.allowOngoing && (str(input, `${f.key}_ongoing`) || v === ONGOING)) v = ONGOING;
    values[f.key] = v === '' ? null : v;
    if (v === '') {
      if (f.required) errors[f.key] = f.type === 'select' || f.type === 'radio' || f.type === 'tree' ? `请选择${f.label}` : `请填写${f.label}`;
      continue;
    }
    switch (f.type) {
      case 'text':
      case 'textarea':
        if (f.max && chars(v) > f.max) errors[f.key] = `${f.label}不能超过${f.max}个字（当前${chars(v)}个字）`;
        break;
      case 'date':
        if (v === ONGOING) break;
        if (!isValidDate(v)) errors[f.key] = `请填写正确的${f.label}（如 2020-09-01）`;
        else if (f.notFuture && v > ctx.today) errors[f.key] = `${f.label}不能晚于今天`;
        break;
      case 'year': {
        const y = Number(v);
        const min = f.yearsBack !== undefined ? thisYear - f.yearsBack : 1900;
        if (!/^\d{4}$/.test(v)) errors[f.key] = `请填写正确的${f.label}（如 ${thisYear - 1}）`;
        else if (y > thisYear) errors[f.key] = `${f.label}不能晚于${thisYear}年`;
        else if (y < min) errors[f.key] = `${f.label}不能早于${min}年`;
        else values[f.key] = y;
        break;
      }
      case 'int': {
        const n = Number(v);
        const min = f.min ?? 0;
        if (!/^\d+$/.test(v) || n < min || n > 100000) errors[f.key] = `${f.label}须为不小于${min}的整数`;
        else values[f.key] = n;
        break;
      }
      case 'number': {
        // 学生满意度 is a number without %: “98” or “98.5”.
        if (/[%％]/.test(v)) errors[f.key] = `${f.label}不必填百分号，如 98`;
        else if (!/^\d+(\.\d)?$/.test(v)) errors[f.key] = `${f.label}须为数字（最多一位小数），如 98`;
        else if ((f.min !== undefined && Number(v) < f.min) || (f.max !== undefined && Number(v) > f.max)) errors[f.key] = `${f.label}须在${f.min ?? 0}至${f.max}之间`;
        else values[f.key] = Number(v);
        break;
      }
      case 'select':
      case 'radio':
        if (f.options) {
          if (!f.options.includes(v)) errors[f.key] = `请选择${f.label}`;
          break;
        }
      // falls through
      case 'tree':
        if (f.max && chars(v) > f.max) errors[f.key] = `${f.label}不能超过${f.max}个字`;
        else if (chars(v) > 200) errors[f.key] = `${f.label}不能超过200个字`;
        // Free text is allowed where the registry says 其他 is; trees always allow 其他 (seed 001 §6.5).
        else if (!(f.allowOther || f.type === 'tree') && f.dict && !ctx.dicts.has(f.dict, v)) errors[f.key] = `请选择${f.label}`;
        break;
    }
  }

  // Cross-field: an end date is not before its start (ongoing is always after).
  for (const f of fields) {
    if (!f.after || errors[f.key] || errors[f.after]) continue;
    const a = values[f.after];
    const b = values[f.key];
    if (typeof a === 'string' && typeof b === 'string' && b !== ONGOING && b < a) {
      const startLabel = fields.find((x) => x.key === f.after)?.label ?? '开始时间';
      errors[f.key] = `${f.label}不能早于${startLabel}`;
    }
  }
  return { values, errors };
}

export function validateRow(def: SectionDef, input: Record<string, unknown>, ctx: RuleContext) {
  return validateFields(def.fields, input, ctx);
}

/** Display text of a stored value (至今 as is; numbers as strings; empty as ''). */
export function display(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

/**
 * A date as the review form prints it. 至今 stays 至今 (the current job, a project still under
 * way), except for fields marked `printOngoingAsToday`: seed 001 §3.12 has ongoing continuing
 * education end on the day it is printed.
 */
export function printedDate(v: unknown, today: string, field: Pick<FieldDef, 'printOngoingAsToday'> = {}): string {
  return v === ONGOING && field.printOngoingAsToday ? today : display(v);
}

export interface SectionCompletion {
  key: string;
  title: string;
  required: boolean;
  rows: number;
  complete: boolean;
}

/**
 * 您的申报信息填写完成情况 (seed 001 §2.1): a section is complete when it has at least one
 * row; the percentage counts every section, required ones must be complete to declare.
 */
export function completion(sections: readonly SectionDef[], counts: Record<string, number>, requiredOverride?: readonly string[]) {
  const items: SectionCompletion[] = sections.map((s) => {
    const required = requiredOverride ? requiredOverride.includes(s.key) : s.required;
    const rows = counts[s.key] ?? 0;
    return { key: s.key, title: s.title, required, rows, complete: rows > 0 };
  });
  const done = items.filter((i) => i.complete).length;
  return {
    items,
    percent: Math.round((done / items.length) * 100),
    requiredMissing: items.filter((i) => i.required && !i.complete).map((i) => i.title),
  };
}

/** New order of ids after moving `id` one place up or down; unchanged at the ends. */
export function moveInOrder(ids: readonly number[], id: number, dir: 'up' | 'down'): number[] {
  const out = [...ids];
  const i = out.indexOf(id);
  const j = dir === 'up' ? i - 1 : i + 1;
  if (i < 0 || j < 0 || j >= out.length) return out;
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}

/**
 * Applies a reordering of some rows (one page of the list, as dragged) to the full order:
 * the posted ids take the positions those ids held, in the posted sequence. Unknown or
 * duplicate ids make the whole request invalid (null).
 */
export function reorderSubset(fullOrder: readonly number[], posted: readonly number[]): number[] | null {
  const set = new Set(posted);
  if (set.size !== posted.length || posted.some((id) => !fullOrder.includes(id))) return null;
  const slots = fullOrder.map((id, i) => (set.has(id) ? i : -1)).filter((i) => i >= 0);
  const out = [...fullOrder];
  slots.forEach((slot, k) => (out[slot] = posted[k]!));
  return out;
}

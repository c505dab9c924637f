/**
 * The shapes of the section registry (src/domain/sections.ts) and the small helpers its entries
 * share. Pure: no I/O.
 */

export type FieldType =
  | 'text' // single line
  | 'textarea' // multi line, with live character counter
  | 'date' // YYYY-MM-DD
  | 'year' // YYYY
  | 'int' // whole number
  | 'number' // a number with up to one decimal (学生满意度 98.5, no %)
  | 'select' // one of a dictionary (stored as its Chinese name)
  | 'radio' // one of a small dictionary, shown as radio buttons
  | 'tree'; // a leaf of a 3-level dictionary tree, stored as "一级 - 二级 - 三级", or "其他：…"

export interface FieldDef {
  key: string;
  label: string;
  type: FieldType;
  required?: boolean;
  /** Maximum length in characters (code points), for text/textarea. */
  max?: number;
  /** Bounds for int/year. `min`/`max` on year may be relative: see `yearsBack`. */
  min?: number;
  /** For year fields: the earliest allowed year is (this year − yearsBack). */
  yearsBack?: number;
  /** Dictionary: dict_items.dict for select/radio/tree; 'titles' and 'committees' are special lists. */
  dict?: string;
  /** select/radio: a short fixed list instead of a dictionary (a series' own choices). */
  options?: readonly string[];
  /** select: also offer 其他 with a free-text value (seed 001 §3.1 评审组织). */
  allowOther?: boolean;
  /** date end fields: may be 至今 (ongoing). */
  allowOngoing?: boolean;
  /** The review form prints 至今 as the printing day (seed 001 §3.12, continuing education); otherwise as 至今. */
  printOngoingAsToday?: boolean;
  /** Must not be later than today. */
  notFuture?: boolean;
  /** This date must be ≥ the date in field `after`. */
  after?: string;
  hint?: string;
  placeholder?: string;
}

export interface AttachmentSlotDef {
  key: string;
  label: string;
  required?: boolean;
  /** One file per row: a new upload replaces the previous one (公开课: one attachment per row). */
  single?: boolean;
  hint?: string;
}

export interface ColumnDef {
  label: string;
  /** Field keys; several are joined (e.g. 起止时间 = start 至 end). */
  fields: string[];
  join?: string;
}

export interface SectionDef {
  key: string;
  title: string;
  /** Required for completion by default (plans may change this later). */
  required: boolean;
  /** Hint shown above the list (seed wording). */
  intro?: string;
  fields: FieldDef[];
  columns: ColumnDef[];
  attachments: AttachmentSlotDef[];
  /** Field whose value must be unique among the user's rows (年度考核: one row per year). */
  uniqueBy?: string;
  /** At most this many rows (拟评审类型: one). */
  maxRows?: number;
  /** This date field must not be before the current title's 资格认定时间 (任现职以来). */
  sinceCurrentTitle?: string;
  /** The printed review-form table this section fills. */
  printedTable: string;
  /**
   * A series' own section (issue #16): the 系列 codes of the plans that ask for it. Absent = the
   * 13 sections every plan has. A plan of another series (or 不限) never shows it.
   */
  series?: readonly string[];
  /**
   * Series sections print as their own table right after the common table of this section key
   * (the series' paper form's order; several after the same key print in registry order).
   */
  printAfter?: string;
  /** The printed table's title when it differs from the section's title. */
  printTitle?: string;
  /** An extra printed column computed from the row and the plan's settings (合格, 达标). */
  printDerived?: { label: string; value: (row: Record<string, unknown>, plan: PlanSectionSettings) => string };
}

/** What a plan sets for its series' sections (migration 0026); null = the plan does not ask. */
export interface PlanSectionSettings {
  /** 教育理论考试 合格分数 (60 or 70, seed 004: 2010年60分合格，2011年70分合格). */
  theoryPassMark: number | null;
  /** 考试考核学时: the minimum 学时 per year. */
  minStudyHours: number | null;
  /** 代表作: at most this many papers; null = no 代表作 review. */
  maxRepresentative: number | null;
  /** Papers need 知网收录 proof (screenshot + link). */
  cnkiRequired: boolean;
}

export const NO_PLAN_SETTINGS: PlanSectionSettings = { theoryPassMark: null, minStudyHours: null, maxRepresentative: null, cnkiRequired: false };

/** 系列 codes (fixtures/series.json). */
export const SERIES_HIGHER_ED = 'S01'; // 高等学校教师
export const SERIES_ENGINEERING = 'S05'; // 工程技术人员 (seed 003, 贵州)
export const SERIES_SCHOOL = 'S22'; // 中小学教师
/** 合格 / 不合格 against the plan's pass mark; '' when the plan sets none or there is no score. */
export function theoryResult(score: unknown, passMark: number | null): string {
  if (passMark === null || score === null || score === undefined || score === '' || Number.isNaN(Number(score))) return '';
  return Number(score) >= passMark ? '合格' : '不合格';
}

/** 达标 / 未达标 (要求N学时) against the plan's yearly minimum; '' when the plan sets none. */
export function hoursResult(hours: unknown, minimum: number | null): string {
  if (minimum === null || hours === null || hours === undefined || hours === '' || Number.isNaN(Number(hours))) return '';
  return Number(hours) >= minimum ? '达标' : `未达标（要求${minimum}学时）`;
}

export const start = (label = '开始时间'): FieldDef => ({ key: 'start', label, type: 'date', required: true, notFuture: true });
export const end = (label = '结束时间', opts: Partial<FieldDef> = {}): FieldDef => ({ key: 'end', label, type: 'date', required: true, after: 'start', ...opts });
export const period: ColumnDef = { label: '起止时间', fields: ['start', 'end'], join: ' 至 ' };


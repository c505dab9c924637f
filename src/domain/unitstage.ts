/**
 * The unit stage (DESIGN.md §3 “Unit stage”, seed 003 §1.3, seed 002 §五(三)4–5), pure.
 *
 * While a declaration waits at the first stage of its route (an employer, kind 'unit', or for
 * freelancers an HR agency/association, kind 'agency'), that organisation works through
 * sub-steps instead of a plain 通过:
 *
 *   opinion     填写基层单位意见 (表十二)
 *   verify      核验通过 (needs the opinion, with 推荐意见 = 同意推荐)
 *   publicity   申报公示 (plans with publicity_required): put into a publicity
 *   publicizing in an open publicity, waiting for its end and 完成公示
 *   objection   公示有异议: cannot be recommended (return or reject it through the review)
 *   recommend   单位推荐上报: ready for the batch that moves it to the next stage
 *   done        already in a recommendation
 */

export type UnitStep = 'opinion' | 'verify' | 'publicity' | 'publicizing' | 'objection' | 'recommend' | 'done';

export type PublicityState = 'open' | 'no_objection' | 'objection' | null;

export interface UnitStageState {
  hasOpinion: boolean;
  /** The 推荐意见 of the opinion, when there is one. */
  recommends: boolean;
  verifiedAt: string | null;
  /** When the version under review was submitted: a verification older than it is stale. */
  submittedAt: string | null;
  publicityState: PublicityState;
  recommendationId: number | null;
  publicityRequired: boolean;
  /**
   * 职能部门审核 (src/domain/checkers.ts checkersBlock): why the unit's internal checkers still
   * hold 核验通过 back ('' or absent: none defined, or all signed off with 同意).
   */
  checkersBlock?: string;
}

export const STEP_LABELS: Record<UnitStep, string> = {
  opinion: '待填写基层单位意见',
  verify: '待核验',
  publicity: '已核验，待公示',
  publicizing: '公示中',
  objection: '公示有异议，不能推荐',
  recommend: '待推荐上报',
  done: '已推荐上报',
};

export const PUBLICITY_STATE_LABELS: Record<Exclude<PublicityState, null>, string> = {
  open: '公示中',
  no_objection: '公示无异议',
  objection: '公示有异议',
};

/**
 * A verification counts only for the version it saw: after 返回修改 the applicant resubmits
 * (a new submitted_at), and the unit verifies the corrected material again.
 */
export function isVerified(s: Pick<UnitStageState, 'verifiedAt' | 'submittedAt'>): boolean {
  return !!s.verifiedAt && (!s.submittedAt || s.verifiedAt >= s.submittedAt);
}

/**
 * Whether 表十二 carries the unit's electronic seal (单位签章, seed 004): once the unit has
 * verified (核验) the version under review, and from 推荐上报 on (a later return and resubmit
 * goes back to the stage that returned it, not to the unit). A reset clears both.
 */
export function sealPrints(s: Pick<UnitStageState, 'verifiedAt' | 'submittedAt' | 'recommendationId'>): boolean {
  return s.recommendationId !== null || isVerified(s);
}

/** Which sub-step the declaration is at (only meaningful while it waits at the unit stage). */
export function unitStep(s: UnitStageState): UnitStep {
  if (s.recommendationId !== null) return 'done';
  if (!s.hasOpinion) return 'opinion';
  if (!isVerified(s)) return 'verify';
  if (s.publicityState === 'open') return 'publicizing';
  if (s.publicityState === 'objection') return 'objection';
  if (s.publicityRequired && s.publicityState !== 'no_objection') return 'publicity';
  return 'recommend';
}

export interface UnitActions {
  editOpinion: boolean;
  verify: boolean;
  /** Why 核验通过 is not offered (shown next to the disabled step), or ''. */
  verifyBlocked: string;
  publicize: boolean;
  completePublicity: boolean;
  recommend: boolean;
}

/** What the unit may do next. */
export function unitActions(s: UnitStageState): UnitActions {
  const step = unitStep(s);
  const verifyBlocked =
    step === 'opinion' ? '请先填写基层单位意见'
      : step === 'verify' && !s.recommends ? '推荐意见为“不同意推荐”，不能核验通过；如不推荐，请返回修改或不予受理'
        : step === 'verify' && s.checkersBlock ? s.checkersBlock
          : '';
  return {
    editOpinion: step !== 'done',
    verify: step === 'verify' && s.recommends && !s.checkersBlock,
    verifyBlocked: step === 'verify' || step === 'opinion' ? verifyBlocked : '',
    publicize: step === 'publicity',
    completePublicity: step === 'publicizing',
    recommend: step === 'recommend',
  };
}

/** The sub-steps for a progress line, marked done / current / to do. */
export function stepLine(s: UnitStageState): { key: string; label: string; state: 'done' | 'on' | 'todo' }[] {
  const step = unitStep(s);
  const keys: { key: string; label: string }[] = [
    { key: 'opinion', label: '基层单位意见' },
    { key: 'verify', label: '核验' },
    ...(s.publicityRequired ? [{ key: 'publicity', label: '申报公示' }] : []),
    { key: 'recommend', label: '推荐上报' },
  ];
  const at = step === 'publicizing' || step === 'objection' ? 'publicity' : step === 'done' ? '' : step;
  const idx = at ? keys.findIndex((k) => k.key === at) : keys.length;
  return keys.map((k, i) => ({ ...k, state: i < idx ? 'done' : i === idx ? 'on' : 'todo' }));
}

// ---------------------------------------------------------------------------------------
// 基层单位意见 (表十二)

export interface UnitOpinion {
  /** 单位对申报人的评价意见 */
  evaluation: string;
  /** 推荐方式 */
  method: string;
  /** 参与推荐的人员范围及人数 */
  scope: string;
  /** 推荐意见 */
  recommendation: '同意推荐' | '不同意推荐';
  /** 意见形成情况 */
  formation: string;
  /** 公示情况 (optional: usually written once the publicity is over) */
  publicity: string;
}

export const RECOMMEND_METHODS = ['单位推荐', '民主推荐', '考核推荐'] as const;
export const RECOMMENDATIONS = ['同意推荐', '不同意推荐'] as const;

export const OPINION_FIELDS: readonly { key: keyof UnitOpinion; label: string; max: number; required: boolean }[] = [
  { key: 'evaluation', label: '单位对申报人的评价意见', max: 1000, required: true },
  { key: 'method', label: '推荐方式', max: 100, required: true },
  { key: 'scope', label: '参与推荐的人员范围及人数', max: 200, required: true },
  { key: 'recommendation', label: '推荐意见', max: 10, required: true },
  { key: 'formation', label: '意见形成情况', max: 500, required: true },
  { key: 'publicity', label: '公示情况', max: 200, required: false },
];

export type OpinionErrors = Partial<Record<keyof UnitOpinion, string>>;

const chars = (s: string) => [...s].length;

/**
 * Validates the posted 表十二 form. Values are trimmed strings (kept for the form on error).
 * `verified`: the unit already verified the declaration, so 推荐意见 cannot turn to 不同意推荐
 * (that would leave a verified, publicised declaration nobody recommends).
 */
export function validateOpinion(
  input: Record<string, unknown>,
  o: { verified?: boolean } = {},
): { values: Record<keyof UnitOpinion, string>; errors: OpinionErrors; opinion: UnitOpinion | null } {
  const values = {} as Record<keyof UnitOpinion, string>;
  const errors: OpinionErrors = {};
  for (const f of OPINION_FIELDS) {
    const raw = input[f.key];
    const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    values[f.key] = typeof v === 'string' ? v.replace(/\r\n/g, '\n').trim() : '';
    if (!values[f.key]) {
      if (f.required) errors[f.key] = f.key === 'recommendation' ? '请选择推荐意见' : `请填写${f.label}`;
    } else if (chars(values[f.key]) > f.max) {
      errors[f.key] = `${f.label}不能超过${f.max}个字`;
    }
  }
  if (values.recommendation && !errors.recommendation && !(RECOMMENDATIONS as readonly string[]).includes(values.recommendation)) {
    errors.recommendation = '请选择推荐意见';
  }
  if (o.verified && values.recommendation === '不同意推荐') {
    errors.recommendation = '已核验通过，推荐意见不能改为“不同意推荐”；如不推荐，请返回修改或不予受理';
  }
  const ok = Object.keys(errors).length === 0;
  return { values, errors, opinion: ok ? (values as UnitOpinion) : null };
}

/** The stored JSON (declarations.unit_opinion), or null when absent or unreadable. */
export function parseOpinion(json: string | null | undefined): UnitOpinion | null {
  if (!json) return null;
  try {
    const o = JSON.parse(json);
    return o && typeof o === 'object' && typeof o.evaluation === 'string' ? (o as UnitOpinion) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------
// 申报公示 and 推荐上报

export const MIN_PUBLICITY_DAYS = 5;
export const MAX_PUBLICITY_DAYS = 30;

/**
 * 完成公示 is allowed from the day after the last working day of the publicity (公示期满):
 * `today` (China time, YYYY-MM-DD) must be later than `endDate`.
 */
export function publicityOver(endDate: string, today: string): boolean {
  return today > endDate;
}

/** The working days a publicity must last: at least 5 and at least every plan's own minimum. */
export function minPublicityDays(planDays: readonly number[]): number {
  return Math.max(MIN_PUBLICITY_DAYS, ...planDays.filter((n) => Number.isInteger(n)));
}

/** Whether the stage kind is one the unit stage applies to. */
export function isUnitStageKind(kind: string | undefined | null): boolean {
  return kind === 'unit' || kind === 'agency';
}

/**
 * Review transitions (DESIGN.md §3), pure. A declaration under review sits at stage k of its
 * route; the organisation of stage k acts on it.
 *   approve: k → k+1; at the last stage (committee e-review) → approved
 *   return:  → returned at k (the resubmission comes straight back to k)
 *   reset:   → draft, stage 0 (cover and unit opinion editable; resubmission starts over)
 *   reject:  → rejected (不予受理)
 * Returns and resets share one budget per plan (default 4); the one past it ends the year.
 */
export type ReviewAction = 'approve' | 'return' | 'reset' | 'reject';

export interface ReviewState {
  status: string;
  stage: number;
  returns: number;
  maxReturns: number;
  stages: number;
}

export type Transition =
  | { ok: true; status: 'reviewing' | 'returned' | 'draft' | 'rejected' | 'approved' | 'failed_for_year'; stage: number; returns: number; failedForYear: boolean }
  | { ok: false; error: string };

export const ACTION_LABELS: Record<ReviewAction, string> = { approve: '通过', return: '返回修改', reset: '重置流程', reject: '不予受理' };

export function transition(s: ReviewState, action: ReviewAction): Transition {
  if (s.status !== 'reviewing') return { ok: false, error: '该申报当前不在审核中，不能办理' };
  if (s.stage < 0 || s.stage >= s.stages) return { ok: false, error: '审核环节无效' };
  switch (action) {
    case 'approve':
      return s.stage + 1 >= s.stages
        ? { ok: true, status: 'approved', stage: s.stage, returns: s.returns, failedForYear: false }
        : { ok: true, status: 'reviewing', stage: s.stage + 1, returns: s.returns, failedForYear: false };
    case 'return':
    case 'reset': {
      const returns = s.returns + 1;
      if (returns > s.maxReturns) return { ok: true, status: 'failed_for_year', stage: s.stage, returns, failedForYear: true };
      return action === 'return'
        ? { ok: true, status: 'returned', stage: s.stage, returns, failedForYear: false }
        : { ok: true, status: 'draft', stage: 0, returns, failedForYear: false };
    }
    case 'reject':
      return { ok: true, status: 'rejected', stage: s.stage, returns: s.returns, failedForYear: false };
  }
}

/** An opinion is required for every action but 通过. */
export function opinionRequired(action: ReviewAction): boolean {
  return action !== 'approve';
}

// 评审会议 online (issue #16), pure rules: which 学科组 a declaration belongs to, what a round's
// tally decides (pass and optional reject ratio, quorum), and what a member may vote on.
import { parseRatio, passes, type Ratio, type Votes } from './evaluation.js';

export type Choice = 'agree' | 'disagree' | 'abstain';
export const CHOICES: readonly Choice[] = ['agree', 'disagree', 'abstain'];
export const CHOICE_NAMES: Record<Choice, string> = { agree: '同意', disagree: '不同意', abstain: '弃权' };

/** '心血管内科，呼吸内科, 消化内科' → ['心血管内科', '呼吸内科', '消化内科'] (Chinese or ASCII commas, 、 too). */
export function specialtyList(s: string | null | undefined): string[] {
  const out: string[] = [];
  for (const x of (s ?? '').split(/[,，、;；\n]/)) {
    const v = x.trim();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

/**
 * The group a declaration's 评审专业 falls in: the first group listing the specialty exactly,
 * else the first whose listed specialty ends it (a Chinese specialty names its field last: 内科
 * covers 消化内科, unless a group names 消化内科 itself), else null (left for the office to place).
 */
export function groupForSpecialty(groups: readonly { id: number; specialties: string }[], specialty: string | null | undefined): number | null {
  const s = (specialty ?? '').trim();
  if (!s) return null;
  for (const g of groups) if (specialtyList(g.specialties).includes(s)) return g.id;
  for (const g of groups) if (specialtyList(g.specialties).some((x) => s.endsWith(x))) return g.id;
  return null;
}

export type Decision = 'passed' | 'failed' | 'undecided' | 'invalid';
export const DECISION_NAMES: Record<Decision, string> = { passed: '通过', failed: '未通过', undecided: '未决（需复议）', invalid: '表决无效' };

export interface Rule {
  pass: Ratio;
  /** 否决比例: 不同意 ≥ reject × 实到 fails. Null: whatever does not pass fails. */
  reject: Ratio | null;
  /** 最少参加表决评委人数 (quorum); null or 0: none. */
  minMembers: number | null;
}

/** The rule of a plan's columns (pass_ratio, reject_ratio, min_members); bad text = the default / none. */
export function ruleOf(plan: { pass_ratio?: string | null; reject_ratio?: string | null; min_members?: number | null }): Rule {
  return { pass: parseRatio(plan.pass_ratio) ?? { num: 2, den: 3 }, reject: parseRatio(plan.reject_ratio), minMembers: plan.min_members ?? null };
}

/**
 * What one declaration's tally in a round decides. 实到 = the members who voted on it (同意 +
 * 不同意 + 弃权). Fewer than the quorum: invalid, with the reason. Exact integer comparisons.
 */
export function decide(v: Votes, rule: Rule): { result: Decision; reason: string } {
  const present = v.agree + v.disagree + v.abstain;
  const min = rule.minMembers ?? 0;
  if (present < Math.max(1, min)) {
    return { result: 'invalid', reason: min > 0 ? `参加表决的评委${present}人，少于规定的最少${min}人，表决无效` : '无评委参加表决，表决无效' };
  }
  if (passes(v.agree, present, rule.pass)) return { result: 'passed', reason: `同意${v.agree}票，达到实到${present}人的${rule.pass.num}/${rule.pass.den}` };
  if (!rule.reject) return { result: 'failed', reason: `同意${v.agree}票，未达到实到${present}人的${rule.pass.num}/${rule.pass.den}` };
  if (v.disagree * rule.reject.den >= rule.reject.num * present) {
    return { result: 'failed', reason: `不同意${v.disagree}票，达到实到${present}人的${rule.reject.num}/${rule.reject.den}（否决）` };
  }
  return { result: 'undecided', reason: `同意${v.agree}票未达通过比例，不同意${v.disagree}票未达否决比例，需复议` };
}

/** Why a member may not cast this ballot now, or null. */
export function ballotRefusal(o: { roundOpen: boolean; inRound: boolean; inGroup: boolean; alreadyVoted: boolean; choice: string }): string | null {
  if (!o.roundOpen) return '本轮表决已结束，不能再投票';
  if (!o.inRound || !o.inGroup) return '该申报不在您所在学科组的本轮表决范围内';
  if (o.alreadyVoted) return '您已对该申报投过票，不能重复投票';
  if (!(CHOICES as readonly string[]).includes(o.choice)) return '请选择同意、不同意或弃权';
  return null;
}

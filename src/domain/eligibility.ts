// Eligibility helper (beyond the seeds). From the applicant's archive (工作经历, 现有职称情况, 学历情况)
// it computes, as of 31 December of the declaration year (seed 002 §二.6: 任职时间计算截至当年12月31日),
// the years in professional work and in the current title, and checks them against the plan's
// rules (minimum years by education and target level; defaults in fixtures/eligibility.json).
// Every check carries a plain Chinese sentence; the plan decides whether a failure warns or blocks.
// Pure: the caller loads the rows and the rules.
//
// Tenure (spans, the current title, how time is counted) lives in ./tenure.ts; it is re-exported here.

import { isValidDate } from './workdays.js';
import {
  bestTitle, cnDate, formatSpan, levelName, spanOf, tenureOf, tenureText, titleLevelRank, titleSpan,
  type CurrentTitle, type Span, type TitleLevel, type TitleRow,
} from './tenure.js';

export {
  TITLE_LEVELS, TITLE_LEVEL_NAMES, asOf, cnDate, currentTitle, formatSpan, spanOf, tenureOf, tenureText, titleLevelRank, titleSpan, wholeMonths, workSpan,
  type CurrentTitle, type Span, type Tenure, type TitleLevel,
} from './tenure.js';

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

// ---------------------------------------------------------------------------------------------
// Education

/** Education names (fixtures/enums.json `education`, plus common short forms) → rank. */
const EDUCATION_RANKS: Readonly<Record<string, number>> = {
  博士研究生: 6,
  博士: 6,
  硕士研究生: 5,
  硕士: 5,
  大学本科: 4,
  本科: 4,
  大学专科: 3,
  专科: 3,
  大专: 3,
  // 中等职业学校 (seed 002 §二.12: 中等职业学校毕业学历 … 技工院校中级工班): all rank as 中专.
  中等专科: 2,
  中专: 2,
  职业高中: 2,
  技工学校: 2,
  高中: 1,
  初中: 1,
  小学: 1,
  高中及以下: 1,
  其他: 1,
};

/** Rank of an education name: 6 博士研究生 … 2 中等专科/中专, 1 高中及以下; null if unknown. */
export function educationRank(name: string | null | undefined): number | null {
  const n = text(name);
  return n in EDUCATION_RANKS ? EDUCATION_RANKS[n] : null;
}

export interface Education {
  name: string;
  rank: number;
}

/**
 * The highest education in the 学历情况 rows. Unknown names rank as 高中及以下 (1). With asOfDate,
 * rows whose 毕业时间 is a date after it are ignored (not graduated by then).
 */
export function highestEducation(educations: readonly { education?: string | null; end?: string | null }[], asOfDate?: string): Education | null {
  let best: Education | null = null;
  for (const row of educations) {
    const name = text(row.education);
    if (!name) continue;
    const end = text(row.end);
    if (asOfDate && isValidDate(end) && end > asOfDate) continue;
    const rank = educationRank(name) ?? 1;
    if (!best || rank > best.rank) best = { name, rank };
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Rules and checks

export interface EligibilityRule {
  /** Target level being applied for. */
  level: TitleLevel;
  /** Minimum education name, e.g. '大学本科'. */
  education: string;
  /** Title level the applicant must currently hold (employed); null = none. */
  requiredTitleLevel: TitleLevel | null;
  /** Years in that title (满N年 as of 31 December). */
  minTitleYears: number;
  /** Years of professional work (工作经历, merged). */
  minWorkYears: number;
  note?: string;
}

export interface EligibilityRulesFile {
  source: string;
  rules: EligibilityRule[];
}

export interface EligibilityCheck {
  ok: boolean;
  text: string;
}

export interface ArchiveFacts {
  /** 工作经历: end 'YYYY-MM-DD' or '至今'. */
  work: { start?: string | null; end?: string | null }[];
  /** 现有职称情况. */
  titles: TitleRow[];
  /** 学历情况. */
  educations: { education?: string | null; end?: string | null }[];
}

export interface EligibilityResult {
  targetLevel: TitleLevel;
  asOf: string;
  workSpan: Span;
  /** Years in the current title; null without a current title. */
  titleSpan: Span | null;
  current: CurrentTitle | null;
  education: Education | null;
  checks: EligibilityCheck[];
  /** All checks pass. */
  ok: boolean;
  /** The rule applied; null when none applies (education too low, or no rules for the level). */
  rule: EligibilityRule | null;
}

/**
 * Problems in a rules list (unknown level or education name, negative years), in Chinese; empty
 * when the list is usable. Run it on plan-specific rules before saving them.
 */
export function validateRules(rules: readonly EligibilityRule[]): string[] {
  const errors: string[] = [];
  rules.forEach((r, i) => {
    const at = `第${i + 1}条`;
    if (!titleLevelRank(r.level)) errors.push(`${at}：申报级别“${r.level}”无法识别`);
    if (educationRank(r.education) === null) errors.push(`${at}：学历“${r.education}”无法识别`);
    if (r.requiredTitleLevel !== null && !titleLevelRank(r.requiredTitleLevel)) errors.push(`${at}：所需职称级别“${r.requiredTitleLevel}”无法识别`);
    for (const k of ['minTitleYears', 'minWorkYears'] as const) {
      if (!Number.isFinite(r[k]) || r[k] < 0) errors.push(`${at}：${k} 必须是不小于0的数`);
    }
  });
  return errors;
}

/**
 * The applicable rule: among the rules for the target level whose minimum education the applicant
 * reaches, the most favourable: smallest minTitleYears, then smallest minWorkYears, then one that
 * needs no title; remaining ties keep list order. Null when none applies.
 */
export function pickRule(targetLevel: TitleLevel, educationRankValue: number, rules: readonly EligibilityRule[]): EligibilityRule | null {
  let best: EligibilityRule | null = null;
  for (const r of rules) {
    if (r.level !== targetLevel) continue;
    const need = educationRank(r.education);
    if (need === null || need > educationRankValue) continue;
    if (!best) {
      best = r;
      continue;
    }
    const d =
      r.minTitleYears - best.minTitleYears ||
      r.minWorkYears - best.minWorkYears ||
      (r.requiredTitleLevel === null ? 0 : 1) - (best.requiredTitleLevel === null ? 0 : 1);
    if (d < 0) best = r;
  }
  return best;
}

function conditionText(rule: EligibilityRule): string {
  const parts: string[] = [];
  if (rule.requiredTitleLevel) parts.push(`取得${levelName(rule.requiredTitleLevel)}职称后满${rule.minTitleYears}年`);
  if (rule.minWorkYears > 0) parts.push(`从事专业技术工作满${rule.minWorkYears}年`);
  return parts.length ? parts.join('，') : '无任职年限要求';
}

export function checkEligibility(targetLevel: TitleLevel, facts: ArchiveFacts, rules: readonly EligibilityRule[], year: number): EligibilityResult {
  // The same figures the review form prints (tenureOf), stated the same way (tenureText).
  const tenure = tenureOf(facts, year);
  const date = tenure.asOf;
  const target = levelName(targetLevel);
  const education = highestEducation(facts.educations, date);
  const current = tenure.current;
  const work = tenure.work;
  // 借调 months already taken off (tenureOf).
  const tSpan = current ? (tenure.title ?? titleSpan(current, date)) : null;
  const tText = () => `${tenureText(tSpan!, date)}${tenure.seconded ? `（已扣除借调${formatSpan(spanOf(tenure.seconded))}）` : ''}`;
  const checks: EligibilityCheck[] = [];
  const result = (rule: EligibilityRule | null): EligibilityResult => ({
    targetLevel,
    asOf: date,
    workSpan: work,
    titleSpan: tSpan,
    current,
    education,
    checks,
    ok: checks.every((c) => c.ok),
    rule,
  });

  const forLevel = rules.filter((r) => r.level === targetLevel);
  if (!forLevel.length) {
    checks.push({ ok: true, text: `本计划未设置申报${target}的学历和任职年限条件，系统不作检查，以评委会审查为准` });
    return result(null);
  }

  // Education → rule.
  const rule = pickRule(targetLevel, education?.rank ?? 0, rules);
  if (!rule) {
    let lowest: EligibilityRule | null = null;
    for (const r of forLevel) {
      const rank = educationRank(r.education);
      if (rank !== null && (!lowest || rank < (educationRank(lowest.education) ?? Infinity))) lowest = r;
    }
    checks.push({
      ok: false,
      text: `学历不符合申报条件：申报${target}至少需要${lowest?.education ?? '更高'}学历（您的最高学历：${education ? education.name : '未填写，请在“学历情况”中填写'}）`,
    });
    return result(null);
  }
  checks.push({
    ok: true,
    text: `学历：${education!.name}，符合申报${target}的学历要求（按${rule.education}及以上学历条件：${conditionText(rule)}）`,
  });

  // Current title.
  const req = rule.requiredTitleLevel;
  if (req) {
    const reqName = levelName(req);
    const need = `申报${target}需取得${reqName}职称后满${rule.minTitleYears}年`;
    if (!current || titleLevelRank(current.level) < titleLevelRank(req)) {
      // An unemployed title of the needed level is worth pointing out.
      const unemployed = bestTitle(facts.titles.filter((t) => text(t.employed) !== '是'), false);
      const hint =
        unemployed && titleLevelRank(unemployed.level) >= titleLevelRank(req)
          ? `您填写的“${unemployed.name || levelName(unemployed.level)}”未选择聘任，履职年限以受聘时间起算；`
          : '';
      if (!current) {
        checks.push({
          ok: false,
          text: `未填写已聘任的${reqName}职称：申报${target}需先取得${reqName}职称（${hint}请在“现有职称情况”中填写并选择“是否聘任：是”）`,
        });
      } else {
        checks.push({
          ok: false,
          text: `现职称（${levelName(current.level)}，${current.name}）低于申报${target}所需的${reqName}职称：${need}${hint ? `（${hint.slice(0, -1)}）` : ''}`,
        });
      }
    } else if (!current.since) {
      checks.push({ ok: false, text: `现职称（${levelName(current.level)}，${current.name}）未填写资格认定时间，无法计算履职年限（请在“现有职称情况”中补充）` });
    } else if (titleLevelRank(current.level) > titleLevelRank(req)) {
      checks.push({
        ok: true,
        text: `现职称（${levelName(current.level)}，${current.name}）高于申报${target}所需的${reqName}职称，现职称履职年限：${tText()}`,
      });
    } else if (tSpan!.totalMonths >= rule.minTitleYears * 12) {
      checks.push({
        ok: true,
        text: `现职称（${levelName(current.level)}，${current.name}）履职年限：${tText()}，要求满${rule.minTitleYears}年`,
      });
    } else {
      checks.push({
        ok: false,
        text: `现职称履职年限不足：${tText()}，${need}（现职称：${current.name}，资格认定时间${cnDate(current.since)}）`,
      });
    }
  }

  // Professional work.
  if (rule.minWorkYears > 0) {
    if (work.totalMonths >= rule.minWorkYears * 12) {
      checks.push({ ok: true, text: `从事专业技术工作年限：${tenureText(work, date)}，要求满${rule.minWorkYears}年` });
    } else {
      const hint = facts.work.length ? '' : '（请在“工作经历”中填写）';
      checks.push({
        ok: false,
        text: `从事专业技术工作年限不足：${tenureText(work, date)}，申报${target}（${rule.education}及以上学历）需从事专业技术工作满${rule.minWorkYears}年${hint}`,
      });
    }
  }

  return result(rule);
}

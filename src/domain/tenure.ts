// 现职称履职年限 and 从事专业技术工作年限: one computation, used by the eligibility check (step 2),
// the printed review form (表一) and the unit's publicity list, each stating the figure the same way
// (tenureText: “截至2026年12月31日满7年3个月”). As of 31 December of the declaration year (seed 002
// §二.6: 任职时间计算截至当年12月31日). Pure.
//
//
// How time is counted (all dates 'YYYY-MM-DD', calendar arithmetic, no time zones):
// - Whole months from a (inclusive) to b (exclusive): k months have passed once b reaches a moved
//   k calendar months on, same day of month; a day the month lacks (31 February) rolls to the 1st
//   of the next month. So 2010-08-01 → 2011-01-01 is 5 months, 2010-08-15 → 2011-01-14 is 4.
// - A work period [start, end] includes both days: its months are counted from start to the day
//   after end, so 2010-08-01..2010-12-31 is 5 months. '至今' (and any end after the as-of date)
//   means the as-of date. Periods starting after the as-of date are ignored, as are rows with
//   missing or invalid dates or an end before the start. Overlapping or touching periods
//   (one ends the day before the next starts) are merged first; the whole months of each merged
//   block are then added up (left-over days of separate blocks are dropped, never rounded up).
// - Years in the current title are 满N年 after 资格认定时间: the certification day itself does not
//   count, so a title certified 2021-12-31 has 5 years on 2026-12-31, one certified 2022-01-01 has
//   4 years 11 months (a 5-year rule for 2026 needs certification on or before 2021-12-31).
// - 借调 (secondment) does not count toward years in the current title: 工作经历 rows marked
//   是否借调 = 是 are merged on their own, clipped to after the certification day, and their whole
//   months taken off 现职称履职年限 (not off 从事专业技术工作年限).

import { ONGOING } from './sectionRules.js';
import { addDays, isValidDate } from './workdays.js';

export type TitleLevel = 'senior_full' | 'senior_vice' | 'intermediate' | 'assistant' | 'junior';

export const TITLE_LEVELS: readonly TitleLevel[] = ['senior_full', 'senior_vice', 'intermediate', 'assistant', 'junior'];

export const TITLE_LEVEL_NAMES: Readonly<Record<TitleLevel, string>> = {
  senior_full: '正高级',
  senior_vice: '副高级',
  intermediate: '中级',
  assistant: '助理级',
  junior: '员级',
};

/** Higher = more senior; 0 for anything unknown. */
export function titleLevelRank(level: string | null | undefined): number {
  const i = TITLE_LEVELS.indexOf(level as TitleLevel);
  return i < 0 ? 0 : TITLE_LEVELS.length - i;
}

export function levelName(level: string | null | undefined): string {
  return TITLE_LEVEL_NAMES[level as TitleLevel] ?? String(level ?? '未知级别');
}

// ---------------------------------------------------------------------------------------------
// Dates and spans

export interface Span {
  years: number;
  months: number;
  totalMonths: number;
}

/** The as-of date of a declaration year: 'YYYY-12-31'. */
export function asOf(year: number): string {
  if (!Number.isInteger(year) || year < 1 || year > 9999) throw new RangeError(`无效年度：${year}`);
  return `${String(year).padStart(4, '0')}-12-31`;
}

function ymd(s: string): [number, number, number] {
  return [Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10))];
}

/** Whole months from a (inclusive) to b (exclusive); 0 when b ≤ a. See the header for the rule. */
export function wholeMonths(a: string, b: string): number {
  if (b <= a) return 0;
  const [ya, ma, da] = ymd(a);
  const [yb, mb, db] = ymd(b);
  const n = (yb - ya) * 12 + (mb - ma) - (db < da ? 1 : 0);
  return Math.max(0, n);
}

export function spanOf(totalMonths: number): Span {
  const t = Math.max(0, Math.floor(totalMonths));
  return { years: Math.floor(t / 12), months: t % 12, totalMonths: t };
}

/** '6年3个月', '5年', '8个月', '0个月'. */
export function formatSpan(s: Span): string {
  if (s.years && s.months) return `${s.years}年${s.months}个月`;
  if (s.years) return `${s.years}年`;
  return `${s.months}个月`;
}

/** '2026-12-31' → '2026年12月31日'. */
export function cnDate(date: string): string {
  const [y, m, d] = ymd(date);
  return `${y}年${m}月${d}日`;
}

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

/** A 工作经历 row: end 'YYYY-MM-DD' or '至今'; seconded '是' for a 借调 period. */
export type WorkRow = { start?: string | null; end?: string | null; seconded?: string | null };

/** The valid periods of the rows, clipped to [from, asOfDate], merged (see the header). */
function mergedPeriods(work: readonly WorkRow[], asOfDate: string, from = ''): [string, string][] {
  const blocks: [string, string][] = [];
  for (const row of work) {
    let start = text(row.start);
    const rawEnd = text(row.end);
    if (!isValidDate(start) || start > asOfDate) continue;
    let end: string;
    if (rawEnd === ONGOING) end = asOfDate;
    else if (isValidDate(rawEnd)) end = rawEnd > asOfDate ? asOfDate : rawEnd;
    else continue;
    if (end < start) continue;
    if (from && start < from) start = from;
    if (end < start) continue;
    blocks.push([start, end]);
  }
  blocks.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const merged: [string, string][] = [];
  for (const [s, e] of blocks) {
    const last = merged[merged.length - 1];
    if (last && s <= addDays(last[1], 1)) {
      if (e > last[1]) last[1] = e;
    } else merged.push([s, e]);
  }
  return merged;
}

function monthsOf(periods: readonly [string, string][]): number {
  let total = 0;
  for (const [s, e] of periods) total += wholeMonths(s, addDays(e, 1));
  return total;
}

/** Years in professional work as of asOfDate, from the 工作经历 rows (merged, see the header). */
export function workSpan(work: readonly WorkRow[], asOfDate: string): Span {
  return spanOf(monthsOf(mergedPeriods(work, asOfDate)));
}

/**
 * 借调 time does not count toward 现职称履职年限: the whole months of the 工作经历 rows marked 借调
 * (seconded = 是) after the certification day (`since`, not counted) up to asOfDate, merged.
 */
export function secondedMonths(work: readonly WorkRow[], since: string | null, asOfDate: string): number {
  if (!since || !isValidDate(since)) return 0;
  return monthsOf(mergedPeriods(work.filter((r) => text(r.seconded) === '是'), asOfDate, addDays(since, 1)));
}

// ---------------------------------------------------------------------------------------------
// Current title

export interface CurrentTitle {
  name: string;
  level: TitleLevel;
  /** 资格认定时间; null when missing or invalid. */
  since: string | null;
}

export type TitleRow = { title_level?: string | null; certified_on?: string | null; employed?: string | null; title_name?: string | null };

export function bestTitle(titles: readonly TitleRow[], employedOnly: boolean): CurrentTitle | null {
  let best: CurrentTitle | null = null;
  for (const row of titles) {
    if (employedOnly && text(row.employed) !== '是') continue;
    const level = text(row.title_level);
    if (!titleLevelRank(level)) continue;
    const since = isValidDate(text(row.certified_on)) ? text(row.certified_on) : null;
    const cand: CurrentTitle = { name: text(row.title_name), level: level as TitleLevel, since };
    if (!best) {
      best = cand;
      continue;
    }
    const d = titleLevelRank(cand.level) - titleLevelRank(best.level);
    if (d > 0 || (d === 0 && (cand.since ?? '') > (best.since ?? ''))) best = cand;
  }
  return best;
}

/**
 * The current title: the highest employed (是否聘任 = 是) title by level, ties → latest
 * 资格认定时间. Titles with an unknown level are ignored.
 */
export function currentTitle(titles: readonly TitleRow[]): CurrentTitle | null {
  return bestTitle(titles, true);
}

/** 满N年 in the current title as of asOfDate (certification day not counted); zero without a date. */
export function titleSpan(current: Pick<CurrentTitle, 'since'> | null, asOfDate: string): Span {
  if (!current?.since) return spanOf(0);
  return spanOf(wholeMonths(current.since, asOfDate));
}
// ---------------------------------------------------------------------------------------------
// The two figures of 表一, stated once

/** “截至2026年12月31日满7年3个月”: how every page and printout states a tenure. */
export function tenureText(span: Span, asOfDate: string): string {
  return `截至${cnDate(asOfDate)}满${formatSpan(span)}`;
}

export interface Tenure {
  asOf: string;
  current: CurrentTitle | null;
  /** Months in the current title (借调 months taken off); null without a current title or without its 资格认定时间. */
  title: Span | null;
  /** 借调 months taken off the title's span. */
  seconded: number;
  work: Span;
  /** 现职称履职年限 as shown: tenureText, or why there is no figure. */
  titleText: string;
  /** 从事专业技术工作年限 as shown (tenureText). */
  workText: string;
}

/**
 * 现职称履职年限 (from the highest employed title of 现有职称情况 and its 资格认定时间) and
 * 从事专业技术工作年限 (from 工作经历, merged) as of 31 December of `year`.
 */
export function tenureOf(facts: { titles: readonly TitleRow[]; work: readonly WorkRow[] }, year: number): Tenure {
  const date = asOf(year);
  const current = currentTitle(facts.titles);
  const seconded = current?.since ? secondedMonths(facts.work, current.since, date) : 0;
  const title = current?.since ? spanOf(titleSpan(current, date).totalMonths - seconded) : null;
  const work = workSpan(facts.work, date);
  return {
    asOf: date,
    current,
    title,
    seconded,
    work,
    titleText: !current ? '无（未填写已聘任的职称）' : title ? `${tenureText(title, date)}${seconded ? `（已扣除借调${formatSpan(spanOf(seconded))}）` : ''}` : '未填写资格认定时间',
    workText: tenureText(work, date),
  };
}

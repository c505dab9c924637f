// Working-day arithmetic for publicity periods (公示), using the State Council holiday schedule.
// All dates are 'YYYY-MM-DD' strings handled as UTC day numbers, so the server timezone never matters.

export interface HolidayCalendar {
  /** Official days off that would otherwise be working days. */
  holidays: ReadonlySet<string>;
  /** Adjusted working weekend days (调休上班). */
  workdays: ReadonlySet<string>;
  /** Years the data covers; dates in other years fall back to plain Mon–Fri. */
  years: ReadonlySet<number>;
}

const MS_PER_DAY = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses a strict 'YYYY-MM-DD' calendar date to a Date at UTC midnight; throws RangeError otherwise. */
export function parseDate(s: string): Date {
  const m = DATE_RE.exec(s ?? '');
  if (m) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    const d = Number(m[3]);
    const dt = new Date(Date.UTC(y, mo - 1, d));
    // Date.UTC maps years 0–99 to 1900–1999, so set the full year explicitly.
    dt.setUTCFullYear(y);
    if (dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d) return dt;
  }
  throw new RangeError(`无效日期：${s}`);
}

/** Formats a Date as 'YYYY-MM-DD' using its UTC fields. */
export function formatDate(d: Date): string {
  const y = String(d.getUTCFullYear()).padStart(4, '0');
  const m = String(d.getUTCMonth() + 1).padStart(2, '0');
  const day = String(d.getUTCDate()).padStart(2, '0');
  return `${y}-${m}-${day}`;
}

export function isValidDate(s: string): boolean {
  try {
    parseDate(s);
    return true;
  } catch {
    return false;
  }
}

export function addDays(date: string, n: number): string {
  return formatDate(new Date(parseDate(date).getTime() + n * MS_PER_DAY));
}

/** 0 = Sunday … 6 = Saturday. */
export function dayOfWeek(date: string): number {
  return parseDate(date).getUTCDay();
}

export function makeCalendar(
  days: readonly { date: string; kind: 'holiday' | 'workday' }[],
  years: readonly number[],
): HolidayCalendar {
  const holidays = new Set<string>();
  const workdays = new Set<string>();
  for (const { date, kind } of days) {
    // Re-format to reject malformed dates early rather than silently never matching.
    const d = formatDate(parseDate(date));
    if (kind === 'holiday') holidays.add(d);
    else if (kind === 'workday') workdays.add(d);
    else throw new RangeError(`unknown kind: ${String(kind)}`);
  }
  return { holidays, workdays, years: new Set(years) };
}

export function isWorkingDay(date: string, cal: HolidayCalendar): boolean {
  const dow = dayOfWeek(date);
  if (cal.workdays.has(date)) return true;
  if (cal.holidays.has(date)) return false;
  return dow >= 1 && dow <= 5;
}

function yearsMissing(from: string, to: string, cal: HolidayCalendar): number[] {
  const missing: number[] = [];
  for (let y = Number(from.slice(0, 4)); y <= Number(to.slice(0, 4)); y++) {
    if (!cal.years.has(y)) missing.push(y);
  }
  return missing;
}

/**
 * End date of a period of n working days. The start date is day 1 if it is a working day,
 * otherwise counting starts at the next working day.
 */
export function addWorkingDays(
  start: string,
  n: number,
  cal: HolidayCalendar,
): { end: string; missingYears: number[] } {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('工作日数必须为不小于1的整数');
  let t = parseDate(start).getTime();
  const from = formatDate(new Date(t));
  // Any real calendar has ≥ 5 working days in every 30; the cap only stops runaway loops on bad data.
  const limit = n * 30 + 366;
  let count = 0;
  for (let i = 0; i < limit; i++, t += MS_PER_DAY) {
    const d = formatDate(new Date(t));
    if (isWorkingDay(d, cal) && ++count === n) {
      return { end: d, missingYears: yearsMissing(from, d, cal) };
    }
  }
  throw new RangeError('节假日数据异常，无法计算工作日');
}

/** Number of working days in [from, to], both inclusive; 0 when from is after to. */
export function countWorkingDays(from: string, to: string, cal: HolidayCalendar): number {
  const end = parseDate(to).getTime();
  let count = 0;
  for (let t = parseDate(from).getTime(); t <= end; t += MS_PER_DAY) {
    if (isWorkingDay(formatDate(new Date(t)), cal)) count++;
  }
  return count;
}

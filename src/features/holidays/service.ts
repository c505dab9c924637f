import type { DB } from '../../db/index.js';
import { makeCalendar, type HolidayCalendar } from '../../domain/workdays.js';

/** The working-day calendar from the admin-editable holidays table. */
export async function loadCalendar(db: DB): Promise<HolidayCalendar> {
  const days = await db.selectFrom('holidays').select(['date', 'kind']).execute();
  const years = await db.selectFrom('holiday_years').select('year').execute();
  return makeCalendar(days, years.map((y) => y.year));
}

/** Years (this and next) without holiday data: the admin is warned, since such a year counts as plain weekdays. */
export async function missingHolidayYears(db: DB, now: Date): Promise<number[]> {
  const y = new Date(now.getTime() + 8 * 3_600_000).getUTCFullYear();
  const have = new Set((await db.selectFrom('holiday_years').select('year').execute()).map((r) => r.year));
  return [y, y + 1].filter((x) => !have.has(x));
}

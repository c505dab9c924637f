/**
 * 诚信档案 and unit sanctions (seed 001 同意条款, seed 002 一(一)1–2), pure.
 *
 * A 失信 record bars its person from declaring for 3 years (记录期限为3年，记录期内不得参加职称申报评审).
 * The period is counted as the Civil Code counts periods in years (民法典 第二百零一条、第二百零三条):
 * the recording day itself is not counted, so the period ends on the same calendar day 3 years later
 * (a 29 February record ends on 28 February); that day is still inside, the day after is free.
 *
 * A unit sanction (暂停该单位下一年度职称申报推荐工作) names one year: that year the unit recommends
 * no one, and declarations routed through it are refused; other years are unaffected.
 */

export const RECORD_YEARS = 3;

/** The last day of a record's period: the same month and day RECORD_YEARS later (clamped to month end). */
export function recordEnd(recordedOn: string, years = RECORD_YEARS): string {
  const [y, m, d] = recordedOn.split('-').map(Number);
  const year = y + years;
  const last = new Date(Date.UTC(year, m, 0)).getUTCDate();
  return `${year}-${String(m).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

export interface IntegrityRecordFacts {
  recorded_on: string;
  lifted_at?: string | null;
}

/** The latest end among records in force on `today` (YYYY-MM-DD), or null when none bars the person. */
export function barredUntil(records: readonly IntegrityRecordFacts[], today: string): string | null {
  let until: string | null = null;
  for (const r of records) {
    if (r.lifted_at) continue;
    if (r.recorded_on > today) continue;
    const end = recordEnd(r.recorded_on);
    if (today <= end && (!until || end > until)) until = end;
  }
  return until;
}

export const integrityMessage = (until: string) => `记录期内不得参加职称申报评审（至${until}）`;

/** The refusal of a declaration by a person with these records on `today`, or null. */
export function integrityRefusal(records: readonly IntegrityRecordFacts[], today: string): string | null {
  const until = barredUntil(records, today);
  return until ? integrityMessage(until) : null;
}

export interface UnitSanctionFacts {
  year: number;
  reason: string;
  lifted_at?: string | null;
}

export const SANCTION_TEXT = '暂停该单位下一年度职称申报推荐工作';

/** The refusal for a declaration (or a 推荐上报/核验) of `year` through a unit with these sanctions, or null. */
export function sanctionRefusal(unitName: string, sanctions: readonly UnitSanctionFacts[], year: number): string | null {
  const s = sanctions.find((x) => !x.lifted_at && x.year === year);
  return s ? `${unitName}已被暂停${year}年度职称申报推荐工作（原因：${s.reason}），该年度不能通过该单位申报或推荐` : null;
}

/** Reasons are required and bounded (the form's limit). */
export const REASON_MAX = 500;

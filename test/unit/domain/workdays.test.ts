import t from 'tap';
import {
  addDays,
  addWorkingDays,
  countWorkingDays,
  dayOfWeek,
  formatDate,
  isValidDate,
  isWorkingDay,
  makeCalendar,
  parseDate,
  type HolidayCalendar,
} from '../../../src/domain/workdays.js';

// 2025 and 2026 schedules from the State Council notices (cross-checked against chinese-days 1.5.7).
const OFF: Record<number, string[][]> = {
  2025: [
    ['2025-01-01'],
    ['2025-01-28', '2025-02-04'],
    ['2025-04-04', '2025-04-06'],
    ['2025-05-01', '2025-05-05'],
    ['2025-05-31', '2025-06-02'],
    ['2025-10-01', '2025-10-08'],
  ],
  2026: [
    ['2026-01-01', '2026-01-03'],
    ['2026-02-15', '2026-02-23'],
    ['2026-04-04', '2026-04-06'],
    ['2026-05-01', '2026-05-05'],
    ['2026-06-19', '2026-06-21'],
    ['2026-09-25', '2026-09-27'],
    ['2026-10-01', '2026-10-07'],
  ],
};
const ADJUSTED: Record<number, string[]> = {
  2025: ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11'],
  2026: ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'],
};

function fixture(years: number[]): HolidayCalendar {
  const days: { date: string; kind: 'holiday' | 'workday' }[] = [];
  for (const y of years) {
    for (const [from, to = from] of OFF[y]) {
      for (let d = from; d <= to; d = addDays(d, 1)) days.push({ date: d, kind: 'holiday' });
    }
    for (const d of ADJUSTED[y]) days.push({ date: d, kind: 'workday' });
  }
  return makeCalendar(days, years);
}

const cal = fixture([2025, 2026]);
const empty = makeCalendar([], []);

t.test('date helpers', async (t) => {
  t.equal(formatDate(parseDate('2026-02-28')), '2026-02-28');
  t.equal(parseDate('2026-10-01').getTime(), Date.UTC(2026, 9, 1));
  t.equal(addDays('2026-02-28', 1), '2026-03-01');
  t.equal(addDays('2024-02-28', 1), '2024-02-29');
  t.equal(addDays('2026-12-31', 1), '2027-01-01');
  t.equal(addDays('2026-03-01', -1), '2026-02-28');
  // 2026-03-29 and 2026-10-25 are DST switch days in Europe; UTC math must not skip or repeat them.
  t.equal(addDays('2026-03-28', 2), '2026-03-30');
  t.equal(addDays('2026-10-24', 2), '2026-10-26');
  t.equal(dayOfWeek('2026-09-20'), 0);
  t.equal(dayOfWeek('2026-10-10'), 6);
  t.equal(dayOfWeek('2026-09-28'), 1);
  for (const bad of ['2026-02-29', '2026-13-01', '2026-00-10', '2026-1-1', '20260101', '2026-01-01T00:00', '', 'abc']) {
    t.throws(() => parseDate(bad), RangeError, bad);
    t.equal(isValidDate(bad), false, bad);
  }
  t.equal(isValidDate('2024-02-29'), true);
});

t.test('fixture matches the published facts', async (t) => {
  t.equal(cal.holidays.size, 1 + 8 + 3 + 5 + 3 + 8 + 3 + 9 + 3 + 5 + 3 + 3 + 7);
  t.equal(cal.workdays.size, 11);
  t.same([...cal.years], [2025, 2026]);
  // Every adjusted workday is a weekend day.
  for (const d of cal.workdays) t.ok([0, 6].includes(dayOfWeek(d)), d);
});

t.test('makeCalendar rejects malformed dates', async (t) => {
  t.throws(() => makeCalendar([{ date: '2026-02-30', kind: 'holiday' }], [2026]), RangeError);
  t.throws(() => makeCalendar([{ date: '2026/10/01', kind: 'holiday' }], [2026]), RangeError);
});

t.test('isWorkingDay', async (t) => {
  const cases: [string, boolean, string][] = [
    ['2026-03-09', true, 'plain Monday'],
    ['2026-03-13', true, 'plain Friday'],
    ['2026-03-14', false, 'plain Saturday'],
    ['2026-03-15', false, 'plain Sunday'],
    ['2026-01-01', false, '元旦 (Thu)'],
    ['2026-01-04', true, 'adjusted Sunday after 元旦'],
    ['2026-02-14', true, 'adjusted Saturday before 春节'],
    ['2026-02-16', false, '春节 (Mon)'],
    ['2026-02-23', false, 'last day of 春节 (Mon)'],
    ['2026-02-24', true, 'first day back after 春节'],
    ['2026-02-28', true, 'adjusted Saturday after 春节'],
    ['2026-05-09', true, 'adjusted Saturday after 劳动节'],
    ['2026-06-19', false, '端午 (Fri)'],
    ['2026-09-20', true, 'adjusted Sunday before 国庆'],
    ['2026-09-25', false, '中秋 (Fri)'],
    ['2026-10-01', false, '国庆'],
    ['2026-10-07', false, 'last day of 国庆 (Wed)'],
    ['2026-10-08', true, 'first day back after 国庆'],
    ['2026-10-10', true, 'adjusted Saturday after 国庆'],
    ['2025-01-26', true, '2025 adjusted Sunday'],
    ['2025-02-04', false, '2025 last day of 春节'],
    ['2025-09-28', true, '2025 adjusted Sunday'],
    ['2025-10-08', false, '2025 last day of 国庆'],
    ['2025-10-11', true, '2025 adjusted Saturday'],
    ['2027-01-01', true, 'no 2027 data: plain Friday'],
  ];
  for (const [date, want, why] of cases) t.equal(isWorkingDay(date, cal), want, `${date} ${why}`);
  t.equal(isWorkingDay('2026-10-01', empty), true, 'without data 2026-10-01 is a plain Thursday');
  t.equal(isWorkingDay('2026-10-10', empty), false, 'without data 2026-10-10 is a plain Saturday');
  t.throws(() => isWorkingDay('2026-02-30', cal), RangeError);
});

t.test('addWorkingDays', async (t) => {
  const cases: { start: string; n: number; end: string; why: string }[] = [
    // 3/9 3/10 3/11 3/12 3/13
    { start: '2026-03-09', n: 5, end: '2026-03-13', why: 'plain Monday, 5 days → Friday' },
    // 3/16 3/17 3/18 3/19 3/20
    { start: '2026-03-14', n: 5, end: '2026-03-20', why: 'Saturday start, counting begins Monday' },
    // 3/16
    { start: '2026-03-15', n: 1, end: '2026-03-16', why: 'Sunday start, n=1' },
    // 3/10
    { start: '2026-03-10', n: 1, end: '2026-03-10', why: 'n=1 on a working day → same day' },
    // 3/9..3/13, 3/16..3/20
    { start: '2026-03-09', n: 10, end: '2026-03-20', why: 'two plain weeks' },
    // 9/28 9/29 9/30 | 10/1–10/7 off | 10/8 10/9
    { start: '2026-09-28', n: 5, end: '2026-10-09', why: 'through 国庆 2026' },
    // 9/28 9/29 9/30 10/8 10/9 10/10(Sat, adjusted) 10/12
    { start: '2026-09-28', n: 7, end: '2026-10-12', why: 'through 国庆 incl. 10/10 adjusted Saturday' },
    // 9/20(Sun, adjusted) 9/21 9/22 9/23 9/24
    { start: '2026-09-20', n: 5, end: '2026-09-24', why: 'adjusted Sunday 9/20 is day 1' },
    // 9/20(Sun, adjusted)
    { start: '2026-09-19', n: 1, end: '2026-09-20', why: 'Saturday start, next working day is adjusted Sunday' },
    // 10/8 10/9 10/10(Sat, adjusted)
    { start: '2026-10-08', n: 3, end: '2026-10-10', why: 'ends on adjusted Saturday 10/10' },
    // 10/10(Sat, adjusted) 10/12 10/13
    { start: '2026-10-10', n: 3, end: '2026-10-13', why: 'adjusted Saturday 10/10 is day 1' },
    // 9/21 9/22 9/23 9/24 | 9/25–9/27 off | 9/28
    { start: '2026-09-21', n: 5, end: '2026-09-28', why: 'across 中秋 2026' },
    // 9/24 | 9/25–9/27 off | 9/28
    { start: '2026-09-24', n: 2, end: '2026-09-28', why: 'Thursday before 中秋' },
    // 10/8
    { start: '2026-10-01', n: 1, end: '2026-10-08', why: 'start on a holiday' },
    // 10/8 10/9 10/10 10/12 10/13 10/14 10/15
    { start: '2026-10-03', n: 7, end: '2026-10-15', why: 'start mid-holiday' },
    // 2/24 2/25 2/26 2/27 2/28(Sat, adjusted)
    { start: '2026-02-16', n: 5, end: '2026-02-28', why: 'start on 春节 Monday, ends on adjusted Saturday' },
    // 2/12 2/13 2/14(Sat, adjusted) | 2/15–2/23 off | 2/24 2/25
    { start: '2026-02-12', n: 5, end: '2026-02-25', why: 'across 春节 2026' },
    // 12/29 12/30 12/31 | 1/1–1/3 off | 1/4(Sun, adjusted) 1/5
    { start: '2025-12-29', n: 5, end: '2026-01-05', why: 'across 元旦 2026 into the new year' },
    // 9/26 9/28(Sun, adjusted) 9/29
    { start: '2025-09-26', n: 3, end: '2025-09-29', why: '2025 adjusted Sunday 9/28' },
    // 9/30 | 10/1–10/8 off | 10/9 10/10 10/11(Sat, adjusted)
    { start: '2025-09-30', n: 4, end: '2025-10-11', why: 'through 国庆+中秋 2025' },
    // 1/24 1/26(Sun, adjusted) 1/27 | 1/28–2/4 off | 2/5
    { start: '2025-01-24', n: 4, end: '2025-02-05', why: 'through 春节 2025' },
    // 4/25 4/27(Sun, adjusted) 4/28 4/29 4/30 | 5/1–5/5 off | 5/6
    { start: '2025-04-25', n: 6, end: '2025-05-06', why: 'through 劳动节 2025' },
    // 4/30 | 5/1–5/5 off | 5/6 5/7 5/8 5/9(Sat, adjusted)
    { start: '2026-04-30', n: 5, end: '2026-05-09', why: 'through 劳动节 2026' },
  ];
  for (const c of cases) {
    t.same(addWorkingDays(c.start, c.n, cal), { end: c.end, missingYears: [] }, `${c.start} +${c.n}: ${c.why}`);
  }
});

t.test('addWorkingDays reports years without data', async (t) => {
  // 12/28 12/29 12/30 12/31 | 2027-01-01 (Fri, no data → plain weekday) 1/4 1/5
  t.same(addWorkingDays('2026-12-28', 7, cal), { end: '2027-01-05', missingYears: [2027] });
  // Entirely inside 2026: nothing missing.
  t.same(addWorkingDays('2026-12-28', 4, cal), { end: '2026-12-31', missingYears: [] });
  // Saturday start in 2026 whose first working day is in 2027: 2026 itself is covered.
  t.same(addWorkingDays('2026-12-26', 1, fixture([2026])), { end: '2026-12-28', missingYears: [] });
  // 2024 is not in the fixture: 12/30 12/31 | 2025-01-01 off | 1/2 1/3
  t.same(addWorkingDays('2024-12-30', 4, cal), { end: '2025-01-03', missingYears: [2024] });
  // No data at all: 10/1 10/2 (plain Thu/Fri) 10/5 10/6 10/7
  t.same(addWorkingDays('2026-10-01', 5, empty), { end: '2026-10-07', missingYears: [2026] });
  // Spans three years, two missing: day 1 = 2026-12-31, days 2–262 = the 261 weekdays of 2027
  // (2027-01-01 is a Friday, 365 days), day 263 = 2028-01-03 (Mon).
  t.same(addWorkingDays('2026-12-31', 262, cal), { end: '2027-12-31', missingYears: [2027] });
  t.same(addWorkingDays('2026-12-31', 263, cal), { end: '2028-01-03', missingYears: [2027, 2028] });
});

t.test('addWorkingDays rejects invalid input', async (t) => {
  for (const n of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => addWorkingDays('2026-03-09', n, cal), RangeError, String(n));
  }
  t.throws(() => addWorkingDays('2026-02-30', 5, cal), RangeError);
  t.throws(() => addWorkingDays('2026/03/09', 5, cal), RangeError);
});

t.test('countWorkingDays', async (t) => {
  const cases: [string, string, number, string][] = [
    ['2026-03-09', '2026-03-13', 5, 'plain week'],
    ['2026-03-09', '2026-03-15', 5, 'plain week incl. weekend'],
    // 22 weekdays − 5 (10/1 10/2 10/5 10/6 10/7) + 1 (10/10)
    ['2026-10-01', '2026-10-31', 18, 'October 2026'],
    // 22 weekdays − 1 (9/25) + 1 (9/20)
    ['2026-09-01', '2026-09-30', 22, 'September 2026'],
    // 20 weekdays − 6 (2/16–2/20, 2/23) + 2 (2/14, 2/28)
    ['2026-02-01', '2026-02-28', 16, 'February 2026'],
    // 23 weekdays − 6 (10/1–10/3, 10/6–10/8) + 1 (10/11)
    ['2025-10-01', '2025-10-31', 18, 'October 2025'],
    // 261 weekdays − 19 weekday holidays + 6 adjusted days
    ['2026-01-01', '2026-12-31', 248, 'whole 2026'],
    // 261 weekdays − 18 weekday holidays + 5 adjusted days
    ['2025-01-01', '2025-12-31', 248, 'whole 2025'],
    ['2026-10-10', '2026-10-10', 1, 'single adjusted day'],
    ['2026-10-01', '2026-10-01', 0, 'single holiday'],
    ['2026-10-01', '2026-10-07', 0, 'whole holiday'],
    ['2026-03-13', '2026-03-09', 0, 'from after to'],
  ];
  for (const [from, to, want, why] of cases) t.equal(countWorkingDays(from, to, cal), want, `${from}..${to} ${why}`);
});

t.test('addWorkingDays and countWorkingDays agree', async (t) => {
  for (let start = '2025-09-01'; start <= '2026-12-01'; start = addDays(start, 7)) {
    for (const n of [1, 5, 7, 10]) {
      const { end } = addWorkingDays(start, n, cal);
      t.equal(countWorkingDays(start, end, cal), n, `${start} +${n}`);
      t.equal(isWorkingDay(end, cal), true, `${start} +${n} ends on a working day`);
    }
  }
});

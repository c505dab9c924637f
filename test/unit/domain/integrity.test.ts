import t from 'tap';
import { barredUntil, integrityRefusal, recordEnd, sanctionRefusal } from '../../../src/domain/integrity.js';

t.test('recordEnd: the same calendar day three years on', async (t) => {
  const cases: [string, string][] = [
    ['2026-03-15', '2029-03-15'],
    ['2026-01-01', '2029-01-01'],
    ['2026-12-31', '2029-12-31'],
    ['2024-02-29', '2027-02-28'], // no 29 February: the month's last day
    ['2025-02-28', '2028-02-28'],
  ];
  for (const [from, end] of cases) t.equal(recordEnd(from), end, from);
});

t.test('barred on the boundary days', async (t) => {
  const rec = [{ recorded_on: '2026-03-15' }];
  const cases: [string, string | null][] = [
    ['2026-03-14', null], // before the record (a record dated later than today bars nothing yet)
    ['2026-03-15', '2029-03-15'], // the recording day
    ['2027-06-01', '2029-03-15'],
    ['2029-03-14', '2029-03-15'],
    ['2029-03-15', '2029-03-15'], // the last day is inside
    ['2029-03-16', null], // the day after it ends: free
  ];
  for (const [today, until] of cases) t.equal(barredUntil(rec, today), until, today);
  t.equal(integrityRefusal(rec, '2029-03-15'), '记录期内不得参加职称申报评审（至2029-03-15）');
  t.equal(integrityRefusal(rec, '2029-03-16'), null);
});

t.test('lifted records bar nothing; the latest end wins', async (t) => {
  t.equal(barredUntil([{ recorded_on: '2026-03-15', lifted_at: '2026-05-01T00:00:00Z' }], '2026-06-01'), null);
  t.equal(barredUntil([{ recorded_on: '2026-03-15' }, { recorded_on: '2027-01-10' }], '2028-01-01'), '2030-01-10');
  t.equal(barredUntil([], '2028-01-01'), null);
});

t.test('unit sanction: only the named year', async (t) => {
  const s = [{ year: 2027, reason: '推荐不符合条件人员' }];
  const cases: [number, boolean][] = [[2026, false], [2027, true], [2028, false]];
  for (const [year, refused] of cases) t.equal(sanctionRefusal('昆明市第一人民医院', s, year) !== null, refused, String(year));
  t.match(sanctionRefusal('昆明市第一人民医院', s, 2027), /昆明市第一人民医院已被暂停2027年度职称申报推荐工作（原因：推荐不符合条件人员）/);
  t.equal(sanctionRefusal('昆明市第一人民医院', [{ ...s[0], lifted_at: '2027-02-01T00:00:00Z' }], 2027), null);
});

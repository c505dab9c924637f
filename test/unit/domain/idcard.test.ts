import t from 'tap';
import { idCheckChar, normalizeIdNumber, validateIdNumber } from '../../../src/domain/idcard.js';

// Independent MOD 11-2 implementation so the test does not trust the code under test.
function withCheck(base17: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(base17[i]) * w[i];
  return base17 + '10X98765432'[sum % 11];
}

// Fixed "today" so date checks do not drift: 2025-06-01 noon in Beijing.
const TODAY = new Date('2025-06-01T12:00:00+08:00');

t.test('helper produces the expected check characters', async (t) => {
  t.equal(withCheck('11010519491231002'), '11010519491231002X');
  t.equal(withCheck('53010219900307123'), '530102199003071238');
  t.equal(withCheck('44030420000229002'), '440304200002290022');
  t.equal(withCheck('82000019000101001'), '82000019000101001X');
});

t.test('idCheckChar', async (t) => {
  const cases: [string, string][] = [
    ['11010519491231002', 'X'],
    ['53010219900307123', '8'],
    ['53010219900307003', '2'],
    ['11010120250601001', '5'],
  ];
  for (const [base, ch] of cases) t.equal(idCheckChar(base), ch, base);
  t.throws(() => idCheckChar('1101051949123100'), RangeError);
  t.throws(() => idCheckChar('1101051949123100A'), RangeError);
});

t.test('normalizeIdNumber', async (t) => {
  const cases: [string, string][] = [
    ['11010519491231002x', '11010519491231002X'],
    ['  11010519491231002X  ', '11010519491231002X'],
    ['110105 19491231 002x', '11010519491231002X'],
    ['\t110105\u00a019491231002x\n', '11010519491231002X'],
    ['', ''],
  ];
  for (const [input, want] of cases) t.equal(normalizeIdNumber(input), want, JSON.stringify(input));
});

t.test('valid numbers', async (t) => {
  const cases: { input: string; value: string; birthDate: string; gender: '男' | '女' }[] = [
    { input: '11010519491231002X', value: '11010519491231002X', birthDate: '1949-12-31', gender: '女' },
    { input: '11010519491231002x', value: '11010519491231002X', birthDate: '1949-12-31', gender: '女' },
    { input: ' 110105 19491231 002x ', value: '11010519491231002X', birthDate: '1949-12-31', gender: '女' },
    { input: withCheck('53010219900307123'), value: '530102199003071238', birthDate: '1990-03-07', gender: '男' },
    // Leap day.
    { input: withCheck('44030420000229002'), value: '440304200002290022', birthDate: '2000-02-29', gender: '女' },
    // Earliest accepted birth date; Macau region code.
    { input: withCheck('82000019000101001'), value: '82000019000101001X', birthDate: '1900-01-01', gender: '男' },
    // Born "today".
    { input: withCheck('11010120250601001'), value: '110101202506010015', birthDate: '2025-06-01', gender: '男' },
    { input: withCheck('65010119800101009'), value: withCheck('65010119800101009'), birthDate: '1980-01-01', gender: '男' },
    { input: withCheck('91000019800101008'), value: withCheck('91000019800101008'), birthDate: '1980-01-01', gender: '女' },
  ];
  for (const c of cases) {
    t.same(validateIdNumber(c.input, TODAY), { ok: true, value: c.value, birthDate: c.birthDate, gender: c.gender }, c.input);
  }
});

t.test('invalid numbers', async (t) => {
  const cases: [string, string][] = [
    ['', '请输入身份证号'],
    ['   ', '请输入身份证号'],
    ['11010519491231002', '身份证号应为18位'],
    ['11010519491231002X1', '身份证号应为18位'],
    ['110105491231002', '身份证号应为18位'],
    ['11010519491231002A', '身份证号格式不正确'],
    ['1101051949123100XX', '身份证号格式不正确'],
    ['X1010519491231002X', '身份证号格式不正确'],
    ['１１010519491231002X', '身份证号格式不正确'],
    [withCheck('10010519491231002'), '身份证号地区码不正确'],
    [withCheck('16010519491231002'), '身份证号地区码不正确'],
    [withCheck('55010519491231002'), '身份证号地区码不正确'],
    [withCheck('72010519491231002'), '身份证号地区码不正确'],
    [withCheck('84010519491231002'), '身份证号地区码不正确'],
    [withCheck('99010519491231002'), '身份证号地区码不正确'],
    [withCheck('00010519491231002'), '身份证号地区码不正确'],
    [withCheck('11010519490230002'), '身份证号出生日期不正确'], // Feb 30
    [withCheck('11010519000229002'), '身份证号出生日期不正确'], // 1900 is not a leap year
    [withCheck('11010519491301002'), '身份证号出生日期不正确'], // month 13
    [withCheck('11010519490001002'), '身份证号出生日期不正确'], // month 0
    [withCheck('11010519490100002'), '身份证号出生日期不正确'], // day 0
    [withCheck('11010518991231002'), '身份证号出生日期不正确'], // before 1900
    [withCheck('11010120250602001'), '身份证号出生日期不正确'], // tomorrow
    [withCheck('11010130000101001'), '身份证号出生日期不正确'], // far future
    ['110105194912310021', '身份证号校验位不正确'],
    ['110105194912310020', '身份证号校验位不正确'],
    ['530102199003071230', '身份证号校验位不正确'],
    ['53010219900307123X', '身份证号校验位不正确'],
  ];
  for (const [input, error] of cases) t.same(validateIdNumber(input, TODAY), { ok: false, error }, input);
});

t.test('today is the Beijing calendar date', async (t) => {
  const id = withCheck('11010120250601001');
  // 2025-05-31 16:30 UTC is already 2025-06-01 00:30 in Beijing.
  t.equal(validateIdNumber(id, new Date('2025-05-31T16:30:00Z')).ok, true);
  // 2025-05-31 15:59 UTC is still 2025-05-31 in Beijing.
  t.same(validateIdNumber(id, new Date('2025-05-31T15:59:00Z')), { ok: false, error: '身份证号出生日期不正确' });
  // Default "today" is now: a 1990 birth date is accepted.
  t.equal(validateIdNumber('11010519491231002X').ok, true);
});

import t from 'tap';
import { normalizePhone, validatePhone } from '../../../src/domain/phone.js';

t.test('normalizePhone', async (t) => {
  const cases: [string, string][] = [
    ['13812345678', '13812345678'],
    [' 138 1234 5678 ', '13812345678'],
    ['138-1234-5678', '13812345678'],
    ['+8613812345678', '13812345678'],
    ['8613812345678', '13812345678'],
    ['+86 138-1234-5678', '13812345678'],
    // Only 13 digits with the 86 prefix are stripped.
    ['86138123456', '86138123456'],
    ['+861381234567', '+861381234567'],
    ['', ''],
  ];
  for (const [input, want] of cases) t.equal(normalizePhone(input), want, JSON.stringify(input));
});

t.test('validatePhone', async (t) => {
  const ok: [string, string][] = [
    ['13812345678', '13812345678'],
    ['19912345678', '19912345678'],
    ['16612345678', '16612345678'],
    ['+86 138-1234-5678', '13812345678'],
    ['8615012345678', '15012345678'],
  ];
  for (const [input, value] of ok) t.same(validatePhone(input), { ok: true, value }, input);

  const bad: [string, string][] = [
    ['', '请输入手机号'],
    ['  ', '请输入手机号'],
    ['1381234567', '手机号应为11位数字'],
    ['138123456789', '手机号应为11位数字'],
    ['1381234567a', '手机号应为11位数字'],
    ['+1 3812345678', '手机号应为11位数字'],
    ['12812345678', '手机号格式不正确'],
    ['11812345678', '手机号格式不正确'],
    ['10012345678', '手机号格式不正确'],
    ['23812345678', '手机号格式不正确'],
    ['86138123456', '手机号格式不正确'],
  ];
  for (const [input, error] of bad) t.same(validatePhone(input), { ok: false, error }, input);
});

import t from 'tap';
import { normalizeUscc, usccCheckChar, validateUscc, USCC_ALPHABET } from '../../../src/domain/uscc.js';

t.test('alphabet excludes I O Z S V', async (t) => {
  t.equal(USCC_ALPHABET.length, 31);
  for (const ch of 'IOZSV') t.notOk(USCC_ALPHABET.includes(ch), ch);
});

t.test('usccCheckChar', async (t) => {
  // Sums worked out independently: 1640 mod 31 = 28 → 31-28 = 3; 999 mod 31 = 7 → 24 = 'Q';
  // 1829 mod 31 = 0 → 31 → '0'; 2545 mod 31 = 3 → 28 = 'W'.
  const cases: [string, string][] = [
    ['91350100M000100Y4', '3'],
    ['91110108551385082', 'Q'],
    ['91440300MA5ABC018', '0'],
    ['91440300MA5ABCDEF', 'W'],
  ];
  for (const [base, ch] of cases) t.equal(usccCheckChar(base), ch, base);
  t.throws(() => usccCheckChar('91350100M000100Y'), RangeError);
  t.throws(() => usccCheckChar('91350100M000100I4'), RangeError);
});

t.test('normalizeUscc', async (t) => {
  t.equal(normalizeUscc('  91350100m000100y43 '), '91350100M000100Y43');
  t.equal(normalizeUscc(''), '');
});

t.test('valid codes', async (t) => {
  const cases: [string, string][] = [
    ['91350100M000100Y43', '91350100M000100Y43'],
    ['91110108551385082Q', '91110108551385082Q'],
    ['91350100m000100y43', '91350100M000100Y43'],
    [' 91110108551385082q ', '91110108551385082Q'],
    ['91440300MA5ABC0180', '91440300MA5ABC0180'],
    ['91440300MA5ABCDEFW', '91440300MA5ABCDEFW'],
  ];
  for (const [input, value] of cases) t.same(validateUscc(input), { ok: true, value }, input);
});

t.test('invalid codes', async (t) => {
  const cases: [string, string][] = [
    ['', '请输入统一社会信用代码'],
    ['   ', '请输入统一社会信用代码'],
    ['91350100M000100Y4', '统一社会信用代码应为18位'],
    ['91350100M000100Y433', '统一社会信用代码应为18位'],
    ['9135 0100M000100Y43', '统一社会信用代码应为18位'],
    ['91350100M000100I43', '统一社会信用代码含有无效字符'],
    ['91350100M000100O43', '统一社会信用代码含有无效字符'],
    ['91350100M000100Z43', '统一社会信用代码含有无效字符'],
    ['91350100M000100S43', '统一社会信用代码含有无效字符'],
    ['91350100M000100V43', '统一社会信用代码含有无效字符'],
    ['91350100M000100Y4-', '统一社会信用代码含有无效字符'],
    ['91350100M000100Y4Ｑ', '统一社会信用代码含有无效字符'],
    // Region code (positions 3–8) must be digits.
    ['913501A0M000100Y43', '统一社会信用代码含有无效字符'],
    ['91350100M000100Y44', '统一社会信用代码校验位不正确'],
    ['91350100M000100Y40', '统一社会信用代码校验位不正确'],
    ['91110108551385082A', '统一社会信用代码校验位不正确'],
    ['91440300MA5ABC0181', '统一社会信用代码校验位不正确'],
  ];
  for (const [input, error] of cases) t.same(validateUscc(input), { ok: false, error }, input);
});

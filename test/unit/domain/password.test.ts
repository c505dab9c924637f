import t from 'tap';
import { checkPassword, isCommonPassword, COMMON_MESSAGE, PASSWORD_HINT } from '../../../src/domain/password.js';

const LEN_MIN = '密码长度不少于8位';
const LEN_MAX = '密码长度不超过64位';
const MIX = '密码需同时包含字母、数字和特殊字符';
const HAS_ID = '密码不能包含身份证号';
const HAS_PHONE = '密码不能包含手机号';

t.test('hint text', async (t) => {
  t.equal(PASSWORD_HINT, '8位以上，需同时包含字母、数字和特殊字符，不能包含身份证号或手机号');
});

t.test('length and composition', async (t) => {
  const cases: [string, string[]][] = [
    ['Abc12345!', []],
    ['abc1234!', []],
    ['a1!a1!a1', []],
    ['Abc1234！', []], // full-width punctuation counts as special
    ['Abc1234€', []],
    ['密码Abc123!', []],
    ['abc!1', [LEN_MIN]],
    ['a1!a1!a', [LEN_MIN]],
    ['', [LEN_MIN, MIX]],
    ['abcdefgh', [MIX]],
    ['abcdefg1', [MIX]],
    ['12345678!', [MIX]],
    ['abcdefg!', [MIX]],
    ['Abc 1234', [MIX]], // a space is not a special character
    ['密码Abc12345', [MIX]], // CJK characters are not special characters
    ['Ab1!' + 'x'.repeat(60), []], // exactly 64
    ['Ab1!' + 'x'.repeat(61), [LEN_MAX]], // 65
    ['x'.repeat(65), [LEN_MAX, MIX]],
    ['Ab1!𠮷𠮷𠮷', [LEN_MIN]], // 7 code points although 10 UTF-16 units
  ];
  for (const [pw, want] of cases) t.same(checkPassword(pw, {}), want, JSON.stringify(pw));
});

t.test('personal data', async (t) => {
  const ctx = { idNumber: '11010519491231002X', phone: '13812345678' };
  const cases: [string, { idNumber?: string; phone?: string }, string[]][] = [
    ['a11010519491231002X!', ctx, [HAS_ID]],
    ['a11010519491231002x!', ctx, [HAS_ID]],
    ['a11010519491231002x!', { idNumber: '11010519491231002x' }, [HAS_ID]],
    ['a11010519491231002x!', { idNumber: ' 110105 19491231002X ' }, [HAS_ID]],
    ['Pw!31002X', ctx, []], // last 6 of the id alone is allowed
    ['a13812345678!', ctx, [HAS_PHONE]],
    ['a13812345678!', { phone: '+86 138-1234-5678' }, [HAS_PHONE]],
    ['Pw!12345678', ctx, []], // last 8 of the phone alone is allowed
    ['a13812345678!11010519491231002X', ctx, [HAS_ID, HAS_PHONE]],
    ['13812345678', ctx, [MIX, HAS_PHONE]],
    ['a11010519491231002X!', {}, []],
    ['a1!23456789', { phone: '123' }, []], // incomplete phone is not checked
    ['a1!2345678', { idNumber: '' , phone: '' }, []],
  ];
  for (const [pw, c, want] of cases) t.same(checkPassword(pw, c), want, `${pw} ${JSON.stringify(c)}`);
});

t.test('common passwords: the list as given, the lower-case form, and without trailing digits/symbols', async (t) => {
  // A few entries of fixtures/common-passwords.txt (lower case, as the list holds them).
  const common = new Set(['password', 'qwerty', 'iloveyou', 'abc', 'p@ssw0rd', 'dragon1', 'zhang']);
  const cases: [string, boolean][] = [
    ['password', true],
    ['PassWord', true], // case does not help
    ['Password123!', true], // trailing digits and symbols stripped
    ['Password!!', true],
    ['Qwerty#2026', true],
    ['P@ssw0rd', true], // on the list as typed
    ['P@ssw0rd2026!', true], // stem "p@ssw0rd" (symbols inside the stem stay)
    ['Dragon1', true],
    ['Dragon1!', false], // stem "dragon" is not listed (only "dragon1")
    ['abc123!@', false], // stem "abc" has fewer than 4 characters left
    ['Zhang#2026wei', false], // letters at the end: nothing stripped
    ['1passWord', false], // leading digits are not stripped
    ['iloveyou 520', true],
    ['', false],
  ];
  for (const [pw, want] of cases) t.equal(isCommonPassword(pw, common), want, JSON.stringify(pw));
  // As part of checkPassword: only when the list is given, after the other rules.
  t.same(checkPassword('Password123!', { common }), [COMMON_MESSAGE]);
  t.same(checkPassword('Password123!', {}), [], 'no list, no check (generated passwords)');
  t.same(checkPassword('password', { common }), [MIX, COMMON_MESSAGE]);
  t.equal(COMMON_MESSAGE, '该密码过于常见，请换一个');
});

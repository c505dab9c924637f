import t from 'tap';
import { checkPassword, PASSWORD_HINT } from '../../../src/domain/password.js';

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

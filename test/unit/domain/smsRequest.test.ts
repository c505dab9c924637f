import t from 'tap';
import { checkSmsRequest } from '../../../src/domain/smsRequest.js';
import { idCheckChar } from '../../../src/domain/idcard.js';

const TODAY = new Date('2026-06-15T10:00:00+08:00');
const GOOD = '53010219900307123' + idCheckChar('53010219900307123');
const WRONG_CHECK = GOOD.slice(0, 17) + (GOOD.endsWith('0') ? '1' : '0');

t.test('checkSmsRequest: both numbers are checked before a code may be sent', async (t) => {
  const cases: [string, { idNumber?: string; phone?: string }, ReturnType<typeof checkSmsRequest>][] = [
    ['both valid', { idNumber: GOOD, phone: '13800138000' }, { ok: true, idNumber: GOOD, phone: '13800138000' }],
    ['normalised: lower-case x, spaces, +86', { idNumber: ` ${GOOD.toLowerCase()} `, phone: '+86 138-0013-8000' }, { ok: true, idNumber: GOOD, phone: '13800138000' }],
    ['wrong check digit', { idNumber: WRONG_CHECK, phone: '13800138000' }, { ok: false, errors: { idNumber: '身份证号校验位不正确' } }],
    ['impossible birth date', { idNumber: '530102199002301234', phone: '13800138000' }, { ok: false, errors: { idNumber: '身份证号出生日期不正确' } }],
    ['ID missing', { phone: '13800138000' }, { ok: false, errors: { idNumber: '请输入身份证号' } }],
    ['phone too short', { idNumber: GOOD, phone: '1380013800' }, { ok: false, errors: { phone: '手机号应为11位数字' } }],
    ['phone missing', { idNumber: GOOD, phone: '' }, { ok: false, errors: { phone: '请输入手机号' } }],
    ['both wrong: both reported', { idNumber: '12345', phone: '12345678901' }, { ok: false, errors: { idNumber: '身份证号应为18位', phone: '手机号格式不正确' } }],
  ];
  for (const [name, input, want] of cases) t.same(checkSmsRequest(input, TODAY), want, name);
});

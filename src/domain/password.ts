// Password policy for user accounts.
import { normalizeIdNumber } from './idcard.js';
import { normalizePhone } from './phone.js';

export const PASSWORD_HINT = '8位以上，需同时包含字母、数字和特殊字符，不能包含身份证号或手机号';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 64;

const LETTER = /[A-Za-z]/;
const DIGIT = /[0-9]/;
// Special = printable symbol/punctuation: not a letter, not a number, not whitespace, not control/format.
// CJK characters are \p{L}, so they do not count as special characters.
const SPECIAL = /[^\p{L}\p{N}\s\p{C}]/u;

export const COMMON_MESSAGE = '该密码过于常见，请换一个';

/**
 * Whether a password is on the common-password list (`common` holds lower-case entries):
 * its lower-case form, or that form without trailing digits and symbols ("Password123!" →
 * "password") when at least 4 characters remain, since people append them to pass the rules.
 */
export function isCommonPassword(pw: string, common: ReadonlySet<string>): boolean {
  const lower = (pw ?? '').toLowerCase();
  if (common.has(lower)) return true;
  const stem = lower.replace(/[^\p{L}]+$/u, '');
  return stem !== lower && [...stem].length >= 4 && common.has(stem);
}

export function checkPassword(pw: string, ctx: { idNumber?: string; phone?: string; common?: ReadonlySet<string> } = {}): string[] {
  const errors: string[] = [];
  const value = pw ?? '';
  // Count code points so an astral character is one character, as the user sees it.
  const len = [...value].length;
  if (len < PASSWORD_MIN) errors.push('密码长度不少于8位');
  else if (len > PASSWORD_MAX) errors.push('密码长度不超过64位');

  if (!LETTER.test(value) || !DIGIT.test(value) || !SPECIAL.test(value)) {
    errors.push('密码需同时包含字母、数字和特殊字符');
  }

  const upper = value.toUpperCase();
  // Only a complete identifier is checked; partial matches would reject too many passwords.
  const id = ctx.idNumber ? normalizeIdNumber(ctx.idNumber) : '';
  if (id.length === 18 && upper.includes(id)) errors.push('密码不能包含身份证号');

  const phone = ctx.phone ? normalizePhone(ctx.phone) : '';
  if (/^\d{11}$/.test(phone) && value.includes(phone)) errors.push('密码不能包含手机号');

  if (ctx.common && isCommonPassword(value, ctx.common)) errors.push(COMMON_MESSAGE);

  return errors;
}

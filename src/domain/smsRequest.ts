import { validateIdNumber } from './idcard.js';
import { validatePhone } from './phone.js';

/**
 * 获取验证码 (注册, 忘记密码, 账号解锁): the 身份证号 and 手机号 a code is asked for are checked
 * before anything is sent, so a mistyped number spends none of the 3 daily codes. Both fields
 * are checked at once (each error shows next to its field). Pure; whether the ID is registered
 * (or matches the phone) is the caller's next step.
 */
export type SmsRequestCheck =
  | { ok: true; idNumber: string; phone: string }
  | { ok: false; errors: { idNumber?: string; phone?: string } };

export function checkSmsRequest(v: { idNumber?: string; phone?: string }, today: Date): SmsRequestCheck {
  const id = validateIdNumber(v.idNumber ?? '', today);
  const phone = validatePhone(v.phone ?? '');
  if (id.ok && phone.ok) return { ok: true, idNumber: id.value, phone: phone.value };
  const errors: { idNumber?: string; phone?: string } = {};
  if (!id.ok) errors.idNumber = id.error;
  if (!phone.ok) errors.phone = phone.error;
  return { ok: false, errors };
}

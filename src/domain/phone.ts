// Mainland China mobile numbers (11 digits, 1[3-9]xxxxxxxxx).

export type PhoneValidation = { ok: true; value: string } | { ok: false; error: string };

export function normalizePhone(s: string): string {
  let v = (s ?? '').trim().replace(/[\s-]/g, '');
  // Accept the country code users often paste from contacts.
  if (/^\+86\d{11}$/.test(v)) v = v.slice(3);
  else if (/^86\d{11}$/.test(v)) v = v.slice(2);
  return v;
}

export function validatePhone(s: string): PhoneValidation {
  const v = normalizePhone(s);
  if (v === '') return { ok: false, error: '请输入手机号' };
  if (!/^\d{11}$/.test(v)) return { ok: false, error: '手机号应为11位数字' };
  if (!/^1[3-9]/.test(v)) return { ok: false, error: '手机号格式不正确' };
  return { ok: true, value: v };
}

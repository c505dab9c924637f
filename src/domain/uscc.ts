// Unified Social Credit Code (统一社会信用代码), GB 32100-2015.

export type UsccValidation = { ok: true; value: string } | { ok: false; error: string };

// 31 characters: digits plus uppercase letters without I, O, Z, S, V.
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export function normalizeUscc(s: string): string {
  return (s ?? '').trim().toUpperCase();
}

/** Check character for the first 17 characters; throws if any is outside the alphabet. */
export function usccCheckChar(first17: string): string {
  if (first17.length !== 17) throw new RangeError('first17 must be 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const code = USCC_ALPHABET.indexOf(first17[i]);
    if (code < 0) throw new RangeError(`invalid character: ${first17[i]}`);
    sum += code * WEIGHTS[i];
  }
  const check = (31 - (sum % 31)) % 31;
  return USCC_ALPHABET[check];
}

export function validateUscc(s: string): UsccValidation {
  const v = normalizeUscc(s);
  if (v === '') return { ok: false, error: '请输入统一社会信用代码' };
  if (v.length !== 18) return { ok: false, error: '统一社会信用代码应为18位' };
  for (const ch of v) {
    if (!USCC_ALPHABET.includes(ch)) return { ok: false, error: '统一社会信用代码含有无效字符' };
  }
  // Positions 3–8 are the administrative region code, digits only.
  if (!/^\d{6}$/.test(v.slice(2, 8))) return { ok: false, error: '统一社会信用代码含有无效字符' };
  if (usccCheckChar(v.slice(0, 17)) !== v[17]) return { ok: false, error: '统一社会信用代码校验位不正确' };
  return { ok: true, value: v };
}

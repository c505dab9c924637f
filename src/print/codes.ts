import crypto from 'node:crypto';

/** Verification codes printed on paper (review forms, certificates). */
// Crockford base32: no I, L, O, U; 12 characters = 60 random bits.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newCode(): string {
  const bytes = crypto.randomBytes(12);
  let s = '';
  for (const b of bytes) s += ALPHABET[b & 31];
  return s;
}

/** What a person typed or scanned → the stored code, or null when it cannot be one. */
export function normalizeCode(raw: string): string | null {
  const s = raw.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return /^[0-9A-HJKMNP-TV-Z]{12}$/.test(s) ? s : null;
}

export function displayCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}

// One-time passwords for two-factor login: HOTP (RFC 4226) and TOTP (RFC 6238), the
// variant every authenticator app understands: HMAC-SHA-1, 30-second steps, 6 digits.
// Pure: no I/O, no state; node:crypto supplies the HMAC only.
import { createHmac } from 'node:crypto';

export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (what otpauth:// URIs carry). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes base32, forgiving what people type from a screen: lower case, spaces, dashes and
 * trailing '='. Returns null for any other character.
 */
export function base32Decode(text: string): Uint8Array | null {
  const clean = text.toUpperCase().replace(/[\s-]/g, '').replace(/=+$/, '');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const i = ALPHABET.indexOf(ch);
    if (i < 0) return null;
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  return Uint8Array.from(out);
}

/** HOTP value for a counter (RFC 4226 §5.3: dynamic truncation, then mod 10^digits). */
export function hotp(key: Uint8Array, counter: number, digits = TOTP_DIGITS): string {
  const msg = Buffer.alloc(8);
  // Counters beyond 2^53 do not occur (that is year 285 million at 30 s a step).
  msg.writeUInt32BE(Math.floor(counter / 2 ** 32), 0);
  msg.writeUInt32BE(counter % 2 ** 32, 4);
  const mac = createHmac('sha1', key).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** The time step (T in RFC 6238) a moment falls in. */
export function timeStep(timeMs: number, stepSeconds = TOTP_STEP_SECONDS): number {
  return Math.floor(timeMs / 1000 / stepSeconds);
}

/** The TOTP code at a moment. */
export function totp(key: Uint8Array, timeMs: number, digits = TOTP_DIGITS): string {
  return hotp(key, timeStep(timeMs), digits);
}

/** Compares two equal-length digit strings without an early exit. */
function same(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Checks a typed code against the steps around `timeMs` (±`window`, for clock drift and the
 * time it takes to type) and returns the step it matched, or null. Steps ≤ `after` are not
 * considered: a code already accepted cannot be accepted again (RFC 6238 §5.2).
 */
export function verifyTotp(key: Uint8Array, code: string, timeMs: number, o: { window?: number; after?: number | null } = {}): number | null {
  const typed = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(typed)) return null;
  const now = timeStep(timeMs);
  const window = o.window ?? 1;
  let found: number | null = null;
  // Every candidate is computed (no early return), so timing does not tell which step matched.
  for (let s = now - window; s <= now + window; s++) {
    if (o.after !== null && o.after !== undefined && s <= o.after) continue;
    if (same(hotp(key, s), typed) && found === null) found = s;
  }
  return found;
}

/** The otpauth:// URI authenticator apps read from the QR code (Key Uri Format). */
export function otpauthUri(o: { issuer: string; account: string; secret: string }): string {
  const label = `${encodeURIComponent(o.issuer)}:${encodeURIComponent(o.account)}`;
  const q = new URLSearchParams({ secret: o.secret, issuer: o.issuer, algorithm: 'SHA1', digits: String(TOTP_DIGITS), period: String(TOTP_STEP_SECONDS) });
  return `otpauth://totp/${label}?${q.toString().replace(/\+/g, '%20')}`;
}

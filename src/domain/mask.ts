// Display masking for personal data (lists, exports, logs).

// Keep `head` and `tail` characters of a value of the expected full length; for shorter values
// scale the kept parts down proportionally so at least one character is always masked.
function maskMiddle(value: string, head: number, tail: number, stars: number): string {
  const chars = [...(value ?? '').trim()];
  const n = chars.length;
  if (n === 0) return '';
  let h = head;
  let t = tail;
  const full = head + tail + stars;
  if (n < full) {
    h = Math.floor((n * head) / full);
    t = Math.floor((n * tail) / full);
  }
  const masked = n - h - t;
  return chars.slice(0, h).join('') + '*'.repeat(masked) + chars.slice(n - t).join('');
}

/** '53010219900307003X' → '5301**********003X' */
export function maskIdNumber(id: string): string {
  return maskMiddle(id, 4, 4, 10);
}

/** '13812345678' → '138****5678' */
export function maskPhone(phone: string): string {
  return maskMiddle(phone, 3, 4, 4);
}

/** '张伟' → '张*', '欧阳娜娜' → '欧***'; a one-character name is fully masked. */
export function maskName(name: string): string {
  const chars = [...(name ?? '').trim()];
  if (chars.length === 0) return '';
  if (chars.length === 1) return '*';
  return chars[0] + '*'.repeat(chars.length - 1);
}

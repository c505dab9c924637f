// Chinese resident identity number (GB 11643-1999), 18-character form only.

export type IdValidation =
  | { ok: true; value: string; birthDate: string; gender: '男' | '女' }
  | { ok: false; error: string };

// First two digits: province-level region. 83 = Taiwan residents' permit, 91 = foreigners' permanent residence.
export const PROVINCE_CODES: ReadonlySet<string> = new Set([
  '11', '12', '13', '14', '15',
  '21', '22', '23',
  '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46',
  '50', '51', '52', '53', '54',
  '61', '62', '63', '64', '65',
  '71', '81', '82', '83', '91',
]);

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

// China has a single fixed UTC+8 offset (no DST); "today" means the date in Beijing,
// so the server timezone does not change which birth dates are accepted.
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

export function normalizeIdNumber(s: string): string {
  return (s ?? '').replace(/\s+/g, '').toUpperCase();
}

/** ISO 7064 MOD 11-2 check character for the first 17 digits. */
export function idCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError('first17 must be 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

function beijingDateString(now: Date): string {
  return new Date(now.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

export function validateIdNumber(s: string, today: Date = new Date()): IdValidation {
  const v = normalizeIdNumber(s);
  if (v === '') return { ok: false, error: '请输入身份证号' };
  if (v.length !== 18) return { ok: false, error: '身份证号应为18位' };
  if (!/^\d{17}[\dX]$/.test(v)) return { ok: false, error: '身份证号格式不正确' };
  if (!PROVINCE_CODES.has(v.slice(0, 2))) return { ok: false, error: '身份证号地区码不正确' };

  const y = Number(v.slice(6, 10));
  const m = Number(v.slice(10, 12));
  const d = Number(v.slice(12, 14));
  const birthDate = `${v.slice(6, 10)}-${v.slice(10, 12)}-${v.slice(12, 14)}`;
  // ISO date strings compare correctly as plain strings.
  if (!isRealDate(y, m, d) || birthDate < '1900-01-01' || birthDate > beijingDateString(today)) {
    return { ok: false, error: '身份证号出生日期不正确' };
  }

  if (idCheckChar(v.slice(0, 17)) !== v[17]) return { ok: false, error: '身份证号校验位不正确' };

  const gender = Number(v[16]) % 2 === 1 ? '男' : '女';
  return { ok: true, value: v, birthDate, gender };
}

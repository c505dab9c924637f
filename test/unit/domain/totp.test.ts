import t from 'tap';
import { base32Decode, base32Encode, hotp, otpauthUri, timeStep, totp, verifyTotp } from '../../../src/domain/totp.js';

const RFC_KEY = Buffer.from('12345678901234567890', 'ascii');

t.test('base32: RFC 4648 §10 vectors (unpadded), and forgiving decode', async (t) => {
  const cases: [string, string][] = [
    ['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI'],
    ['12345678901234567890', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'],
  ];
  for (const [plain, enc] of cases) {
    t.equal(base32Encode(Buffer.from(plain, 'ascii')), enc, `encode ${JSON.stringify(plain)}`);
    t.equal(Buffer.from(base32Decode(enc)!).toString('ascii'), plain, `decode ${enc}`);
  }
  t.equal(Buffer.from(base32Decode('mzxw 6ytb-oi======')!).toString('ascii'), 'foobar', 'lower case, spaces, dashes, padding');
  t.equal(base32Decode('MZXW1'), null, '1 is not base32');
  t.equal(base32Decode('MZ XW!'), null);
  const random = Buffer.from(Array.from({ length: 20 }, (_, i) => (i * 37 + 11) & 0xff));
  t.same(Buffer.from(base32Decode(base32Encode(random))!), random, 'round trip of 20 bytes');
});

t.test('HOTP: RFC 4226 Appendix D', async (t) => {
  const want = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  want.forEach((code, counter) => t.equal(hotp(RFC_KEY, counter), code, `counter ${counter}`));
});

t.test('TOTP SHA-1: RFC 6238 Appendix B (8 digits) and the 6-digit codes apps show', async (t) => {
  const cases: [number, string, string][] = [
    [59, '0000000000000001', '94287082'],
    [1111111109, '00000000023523EC', '07081804'],
    [1111111111, '00000000023523ED', '14050471'],
    [1234567890, '000000000273EF07', '89005924'],
    [2000000000, '0000000003F940AA', '69279037'],
    [20000000000, '0000000027BC86AA', '65353130'],
  ];
  for (const [seconds, hexStep, code] of cases) {
    t.equal(timeStep(seconds * 1000), parseInt(hexStep, 16), `T at ${seconds}`);
    t.equal(totp(RFC_KEY, seconds * 1000, 8), code, `8 digits at ${seconds}`);
    t.equal(totp(RFC_KEY, seconds * 1000), code.slice(2), `6 digits at ${seconds} (same truncation, mod 10^6)`);
  }
});

t.test('verify: ±1 step, returns the matched step, refuses steps already used', async (t) => {
  const at = 1_234_567_890_000; // step 41152263
  const step = timeStep(at);
  const code = (s: number) => hotp(RFC_KEY, s);
  const cases: [string, string, { window?: number; after?: number | null }, number | null][] = [
    ['current step', code(step), {}, step],
    ['previous step (clock behind)', code(step - 1), {}, step - 1],
    ['next step (clock ahead)', code(step + 1), {}, step + 1],
    ['two steps back', code(step - 2), {}, null],
    ['two steps ahead', code(step + 2), {}, null],
    ['window 0: previous refused', code(step - 1), { window: 0 }, null],
    ['window 2: two back accepted', code(step - 2), { window: 2 }, step - 2],
    ['replay: step already used', code(step), { after: step }, null],
    ['after an older step: accepted', code(step), { after: step - 1 }, step],
    ['previous step, but current already used', code(step - 1), { after: step }, null],
    ['next step after current used', code(step + 1), { after: step }, step + 1],
    ['spaces typed', `${code(step).slice(0, 3)} ${code(step).slice(3)}`, {}, step],
    ['5 digits', code(step).slice(0, 5), {}, null],
    ['letters', 'abcdef', {}, null],
    ['empty', '', {}, null],
  ];
  for (const [label, typed, o, want] of cases) t.equal(verifyTotp(RFC_KEY, typed, at, o), want, label);
  t.equal(verifyTotp(RFC_KEY, code(step), at, { after: null }), step, 'after null = nothing used yet');
});

t.test('otpauth URI', async (t) => {
  const uri = otpauthUri({ issuer: '职称申报评审系统', account: 'li na', secret: 'GEZDGNBVGY3TQOJQ' });
  t.match(uri, /^otpauth:\/\/totp\/%E8%81%8C[^:]*:li%20na\?/);
  const q = new URL(uri).searchParams;
  t.equal(q.get('secret'), 'GEZDGNBVGY3TQOJQ');
  t.equal(q.get('issuer'), '职称申报评审系统');
  t.equal(q.get('algorithm'), 'SHA1');
  t.equal(q.get('digits'), '6');
  t.equal(q.get('period'), '30');
  t.notMatch(uri, '+', 'spaces as %20, not +');
});

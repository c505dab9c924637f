import t from 'tap';
import { newCode, normalizeCode, displayCode, pdfDisposition, isPrintable } from '../../../src/print/routes.js';

t.test('verification codes: 12 characters of Crockford base32, random', async (t) => {
  const codes = Array.from({ length: 2000 }, newCode);
  t.ok(codes.every((c) => /^[0-9A-HJKMNP-TV-Z]{12}$/.test(c)), 'alphabet and length');
  t.equal(new Set(codes).size, 2000, 'no repeats');
});

t.test('what people type or scan is normalised', async (t) => {
  t.equal(normalizeCode('abcd-efgh-jkmn'), 'ABCDEFGHJKMN');
  t.equal(normalizeCode(' 0Q2N T35M TJZN '), '0Q2NT35MTJZN');
  t.equal(normalizeCode('OQ2N-T35M-TJZN'), '0Q2NT35MTJZN', 'O is 0');
  t.equal(normalizeCode('I1L1-0000-0000'), '111100000000', 'I and L are 1');
  t.equal(normalizeCode('ABCD-EFGH-JKMU'), null, 'U is not in the alphabet');
  t.equal(normalizeCode('ABCDEFGHJKM'), null, 'too short');
  t.equal(normalizeCode('<script>'), null);
  t.equal(displayCode('0Q2NT35MTJZN'), '0Q2N-T35M-TJZN');
});

t.test('download name: UTF-8 with an ASCII fallback, nothing that breaks the header', async (t) => {
  t.equal(pdfDisposition('张伟'), `attachment; filename="review-form.pdf"; filename*=UTF-8''${encodeURIComponent('申报评审表-张伟.pdf')}`);
  t.match(pdfDisposition('王𬌗'), encodeURIComponent('𬌗'));
  const odd = pdfDisposition('a"b/c\\d\r\ne');
  t.equal(decodeURIComponent(odd.split("filename*=UTF-8''")[1]!), '申报评审表-abcde.pdf', 'quotes, slashes and control characters dropped');
  t.match(pdfDisposition(''), encodeURIComponent('申报评审表-申报人.pdf'));
});

t.test('print gate: from committee e-review approval on', async (t) => {
  for (const s of ['approved', 'passed', 'failed']) t.ok(isPrintable(s), s);
  for (const s of ['draft', 'reviewing', 'returned', 'rejected', 'failed_for_year']) t.notOk(isPrintable(s), s);
});

// Scripts and automatic actions in uploaded PDFs (src/lib/pdfsafe.ts): renamed so no reader
// runs them, the document otherwise intact (poppler still reads it when installed).
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { findDangerousNames, neutralizePdf } from '../../../src/lib/pdfsafe.js';
import { classicPdf, helloPdf, objStmPdf, stream, OPEN_ACTION_JS } from '../../helpers/pdf.js';

const hasPoppler = (() => {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** pdftotext of a PDF (and no syntax error on stderr), or null without poppler. */
function text(pdf: Buffer): { text: string; errors: string } | null {
  if (!hasPoppler) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-pdf-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.pdf'), pdf);
    const r = execFileSync('sh', ['-c', 'pdftotext a.pdf - 2>err.txt; cat err.txt >&2'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { text: r, errors: fs.readFileSync(path.join(dir, 'err.txt'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every dangerous name left anywhere in the file, compressed object streams included. */
function leftovers(pdf: Buffer): string[] {
  const names = findDangerousNames(pdf).map((f) => f.name);
  const s = pdf.toString('latin1');
  for (const m of s.matchAll(/\/Type\s*\/ObjStm[^]*?stream\r?\n/g)) {
    const start = m.index! + m[0].length;
    const end = s.indexOf('endstream', start);
    const raw = pdf.subarray(start, end);
    if (raw.every((b) => b === 0 || b === 0x0a)) continue;
    names.push(...findDangerousNames(zlib.inflateSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH })).map((f) => f.name));
  }
  return names;
}

const cases: { name: string; pdf: Buffer; removed: string[]; sameLength: boolean }[] = [
  { name: 'no script: unchanged', pdf: helloPdf(), removed: [], sameLength: true },
  { name: '/OpenAction << /S /JavaScript /JS (app.alert(1)) >> in the catalog', pdf: helloPdf(OPEN_ACTION_JS), removed: ['JS', 'JavaScript', 'OpenAction'], sameLength: true },
  { name: 'hex-escaped names (/Java#53cript, /O#70enAction)', pdf: helloPdf('/O#70enAction << /S /Java#53cript /J#53 (app.alert\\(2\\)) >>'), removed: ['JS', 'JavaScript', 'OpenAction'], sameLength: true },
  { name: 'names without spaces: /S/JavaScript/JS(x)', pdf: helloPdf('/OpenAction<</S/JavaScript/JS(app.alert\\(3\\))>>'), removed: ['JS', 'JavaScript', 'OpenAction'], sameLength: true },
  { name: 'document-level /Names /JavaScript tree', pdf: helloPdf('/Names << /JavaScript 6 0 R >>', ['<< /Names [(a) 7 0 R] >>', '<< /S /JavaScript /JS 8 0 R >>', stream('app.alert(4)')]), removed: ['JS', 'JavaScript'], sameLength: true },
  { name: 'page /AA, /Launch, /SubmitForm, /ImportData, /XFA, /GoToR, /RichMedia', pdf: helloPdf('/AA << /O << /S /Launch /F (cmd.exe) >> >> /AcroForm << /XFA 6 0 R >>', ['<< /S /SubmitForm /Next << /S /ImportData >> /X << /S /GoToR >> /Y /RichMedia >>']), removed: ['AA', 'GoToR', 'ImportData', 'Launch', 'RichMedia', 'SubmitForm', 'XFA'], sameLength: true },
  { name: 'in a compressed object stream (PDF 1.5): rewritten as an incremental update', pdf: objStmPdf(OPEN_ACTION_JS), removed: ['JS', 'JavaScript', 'OpenAction'], sameLength: false },
  { name: 'object stream without scripts: unchanged', pdf: objStmPdf(''), removed: [], sameLength: true },
  { name: 'a name that only starts like one (/JSON, /AAA) is left alone', pdf: helloPdf('/JSON 1 /AAA 2 /OpenActionX 3'), removed: [], sameLength: true },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const r = neutralizePdf(c.pdf);
    if (!r.ok) throw new Error(`refused: ${r.reason}`);
    t.same(r.removed, c.removed, 'names neutralised');
    t.same(leftovers(r.buffer), [], 'no dangerous name left anywhere');
    if (c.removed.length === 0) t.equal(r.buffer, c.pdf, 'the very same bytes');
    if (c.sameLength) t.equal(r.buffer.length, c.pdf.length, 'same length: every xref offset still right');
    t.equal(r.buffer.subarray(0, 8).toString('latin1'), c.pdf.subarray(0, 8).toString('latin1'));
    const x = text(r.buffer);
    if (x) {
      t.match(x.text, 'Hello', 'poppler still reads the page');
      t.equal(x.errors, text(c.pdf)!.errors, 'without a new syntax error');
    }
  });
}

t.test('stream data is not touched: an image whose bytes happen to read "/JS "', async (t) => {
  const image = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from(' /JS /AA ', 'latin1'), Buffer.alloc(20, 7)]);
  const pdf = helloPdf(OPEN_ACTION_JS, [stream(image, '/Type /XObject /Subtype /Image /Width 1 /Height 1 /Filter /DCTDecode ')]);
  const r = neutralizePdf(pdf);
  t.ok(r.ok);
  if (!r.ok) return;
  t.ok(r.buffer.includes(image), 'the image bytes are intact');
  t.same(r.removed, ['JS', 'JavaScript', 'OpenAction']);
});

t.test('an object hidden in what claims to be stream data is still checked', async (t) => {
  // The xref could point into a "stream" whose data holds an object: such data is not skipped.
  const hidden = '\n9 0 obj << /S /JavaScript /JS (app.alert\\(5\\)) >> endobj\n';
  const r = neutralizePdf(helloPdf('', [stream(hidden, '/Filter /DCTDecode ')]));
  t.ok(r.ok);
  if (r.ok) t.same(r.removed, ['JS', 'JavaScript']);
});

t.test('encrypted: refused when object streams cannot be read; renamed when every dictionary is plain', async (t) => {
  const enc = '/Encrypt << /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>';
  const withObjStm = Buffer.from(objStmPdf(OPEN_ACTION_JS).toString('latin1').replace('/Type /XRef', `/Type /XRef ${enc}`), 'latin1');
  t.same(neutralizePdf(withObjStm), { ok: false, reason: 'encrypted' });
  const plain = helloPdf(OPEN_ACTION_JS, [], enc);
  const r = neutralizePdf(plain);
  t.ok(r.ok);
  if (r.ok) t.same(r.removed, ['JS', 'JavaScript', 'OpenAction']);
});

t.test('an object stream with a filter we cannot undo is refused', async (t) => {
  const pdf = Buffer.from(objStmPdf('').toString('latin1').replace('/Type /ObjStm', '/Type /ObjStm /DecodeParms << /Predictor 12 >>'), 'latin1');
  t.same(neutralizePdf(pdf), { ok: false, reason: 'unchecked' });
  const lzw = Buffer.from(objStmPdf('').toString('latin1').replace('/Type /ObjStm', '/Type /ObjStm /Filter /LZWDecode'), 'latin1');
  t.same(neutralizePdf(lzw).ok, false);
});

t.test('damaged input never throws', async (t) => {
  for (const b of [Buffer.from('%PDF-1.4\n'), Buffer.from('%PDF-1.7\n<< /Type /ObjStm /Length 5 /Filter /FlateDecode >>\nstream\nxxxxx\nendstream\n'), Buffer.from('%PDF-1.4\n(unterminated /JS'), classicPdf(['<< /OpenAction (']).subarray(0, 40)]) {
    const r = neutralizePdf(b);
    t.ok(r.ok === true || r.ok === false);
  }
});

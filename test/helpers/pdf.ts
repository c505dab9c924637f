import zlib from 'node:zlib';

/**
 * Small but valid PDFs for upload tests, with correct cross-reference offsets.
 * `objects[i]` is the body of object i+1 (between `n 0 obj` and `endobj`); object 1 must be the
 * catalog. A page with the text “Hello” is added by `pageObjects` helpers below.
 */
export function classicPdf(objects: string[], trailerExtra = ''): Buffer {
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailerExtra}>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** A stream object body with a direct /Length. */
export function stream(data: string | Buffer, dict = ''): string {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
  return `<< /Length ${b.length} ${dict}>>\nstream\n${b.toString('latin1')}\nendstream`;
}

const CONTENT = 'BT /F1 24 Tf 72 720 Td (Hello) Tj ET';

/** Catalog (with `catalogExtra`), pages, one page with “Hello”, its font and content. */
export function helloPdf(catalogExtra = '', more: string[] = [], trailerExtra = ''): Buffer {
  return classicPdf([
    `<< /Type /Catalog /Pages 2 0 R ${catalogExtra}>>`,
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    stream(CONTENT),
    ...more,
  ], trailerExtra);
}

/**
 * A PDF 1.5 whose catalog (with `catalogExtra`) and other small objects sit compressed in an
 * object stream, with a cross-reference stream, as Word or Acrobat write them.
 */
export function objStmPdf(catalogExtra: string, extraCompressed: string[] = []): Buffer {
  const compressed = [
    `<< /Type /Catalog /Pages 2 0 R ${catalogExtra}>>`,
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    ...extraCompressed,
  ];
  // Objects 1-4 and 7.. in the object stream (number 6); 5 is the content stream.
  const nums = compressed.map((_, i) => (i < 4 ? i + 1 : i + 3));
  let body = '';
  const pairs: string[] = [];
  compressed.forEach((o, i) => {
    pairs.push(`${nums[i]} ${body.length}`);
    body += `${o}\n`;
  });
  const header = `${pairs.join(' ')}\n`;
  const objstmData = zlib.deflateSync(Buffer.from(header + body, 'latin1'));
  let out = Buffer.from('%PDF-1.5\n%\xe2\xe3\xcf\xd3\n', 'latin1');
  const offsets = new Map<number, number>();
  const add = (s: string | Buffer) => { out = Buffer.concat([out, Buffer.isBuffer(s) ? s : Buffer.from(s, 'latin1')]); };
  offsets.set(5, out.length);
  add(`5 0 obj\n${stream(CONTENT)}\nendobj\n`);
  offsets.set(6, out.length);
  add(`6 0 obj\n<< /Type /ObjStm /N ${compressed.length} /First ${header.length} /Length ${objstmData.length} /Filter /FlateDecode >>\nstream\n`);
  add(objstmData);
  add('\nendstream\nendobj\n');
  const size = Math.max(...nums, 6) + 2;
  const xrefNum = size - 1;
  offsets.set(xrefNum, out.length);
  // W [1 4 2]: type, field 2 (offset / objstm number), field 3 (generation / index).
  const rows: Buffer[] = [];
  for (let n = 0; n < size; n++) {
    const r = Buffer.alloc(7);
    const ci = nums.indexOf(n);
    if (n === 0) { r[0] = 0; r.writeUInt32BE(0, 1); r.writeUInt16BE(65535, 5); }
    else if (ci >= 0) { r[0] = 2; r.writeUInt32BE(6, 1); r.writeUInt16BE(ci, 5); }
    else if (offsets.has(n)) { r[0] = 1; r.writeUInt32BE(offsets.get(n)!, 1); r.writeUInt16BE(0, 5); }
    else { r[0] = 0; r.writeUInt32BE(0, 1); r.writeUInt16BE(0, 5); }
    rows.push(r);
  }
  const xrefData = zlib.deflateSync(Buffer.concat(rows));
  add(`${xrefNum} 0 obj\n<< /Type /XRef /Size ${size} /W [1 4 2] /Root 1 0 R /Length ${xrefData.length} /Filter /FlateDecode >>\nstream\n`);
  add(xrefData);
  add(`\nendstream\nendobj\nstartxref\n${offsets.get(xrefNum)}\n%%EOF\n`);
  return out;
}

/** The action every test hides: an alert on open. */
export const OPEN_ACTION_JS = '/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>';

import zlib from 'node:zlib';
import t from 'tap';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { jpegOrientation, orient, pngUntilIend, reencodeImage, reencodeOffThread, reencodeLoad, BUSY_MESSAGE, TIMEOUT_MESSAGE } from '../../../src/lib/reencode.js';
import { checkImagePixels, sniff } from '../../../src/domain/images.js';
import { pngChunk } from '../../helpers/world.js';

// ---------------------------------------------------------------------------------------
// Builders: real images with the metadata a phone or an editor leaves in them

const be16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const be32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };

/** w×h RGBA: left half red, right half blue (so a rotation is visible). */
function halves(w: number, h: number): Buffer {
  const d = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 4;
    d[i] = x < w / 2 ? 230 : 20; d[i + 1] = 20; d[i + 2] = x < w / 2 ? 20 : 230; d[i + 3] = 255;
  }
  return d;
}

const GPS_MARKER = 'KUNMING-WUHUA-GPS';

/**
 * A big-endian TIFF (EXIF body) with IFD0 = Make, Orientation, GPSInfo → GPS IFD with
 * latitude/longitude rationals and a GPSMapDatum that spells GPS_MARKER.
 */
function exifTiff(orientation: number, le = false): Buffer {
  const w16 = (n: number) => { const b = Buffer.alloc(2); le ? b.writeUInt16LE(n) : b.writeUInt16BE(n); return b; };
  const w32 = (n: number) => { const b = Buffer.alloc(4); le ? b.writeUInt32LE(n) : b.writeUInt32BE(n); return b; };
  const entry = (tag: number, type: number, count: number, value: Buffer) => Buffer.concat([w16(tag), w16(type), w32(count), Buffer.concat([value, Buffer.alloc(4)]).subarray(0, 4)]);
  // Layout: header 8 | IFD0 (2 + 3*12 + 4 = 42) at 8 | "Apple\0" at 50 | GPS IFD at 56 (2 + 3*12 + 4 = 42) | data at 98
  const make = Buffer.from('Apple\0', 'latin1');
  const ifd0 = Buffer.concat([w16(3), entry(0x010f, 2, 6, w32(50)), entry(0x0112, 3, 1, w16(orientation)), entry(0x8825, 4, 1, w32(56)), w32(0)]);
  const lat = Buffer.concat([w32(25), w32(1), w32(2), w32(1), w32(3141), w32(100)]); // 25°2'31.41"
  const lon = Buffer.concat([w32(102), w32(1), w32(42), w32(1), w32(2718), w32(100)]);
  const datum = Buffer.from(`${GPS_MARKER}\0`, 'latin1');
  const gps = Buffer.concat([w16(3), entry(0x0002, 5, 3, w32(98)), entry(0x0004, 5, 3, w32(98 + 24)), entry(0x0012, 2, datum.length, w32(98 + 48)), w32(0)]);
  const head = Buffer.concat([Buffer.from(le ? 'II' : 'MM', 'latin1'), w16(42), w32(8)]);
  return Buffer.concat([head, ifd0, make, gps, lat, lon, datum]);
}

/** A JPEG (jpeg-js, so decodable) with an APP1 Exif segment right after SOI. */
function jpegWithExif(w: number, h: number, orientation: number, le = false): Buffer {
  const plain = Buffer.from(jpeg.encode({ data: halves(w, h), width: w, height: h }, 90).data);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exifTiff(orientation, le)]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1]), be16(body.length + 2), body]);
  return Buffer.concat([plain.subarray(0, 2), app1, plain.subarray(2)]);
}

const chunk = pngChunk;

/** The chunk types of a PNG, in order. */
function chunkTypes(png: Buffer): string[] {
  const out: string[] = [];
  for (let i = 8; i + 8 <= png.length;) {
    const len = png.readUInt32BE(i);
    out.push(png.toString('latin1', i + 4, i + 8));
    i += 12 + len;
  }
  return out;
}

/** A PNG of these RGBA pixels with text, EXIF and time chunks slipped in before IEND. */
function pngWithMetadata(w: number, h: number, data: Buffer): Buffer {
  const png = PNG.sync.write(Object.assign(new PNG({ width: w, height: h }), { data }));
  const iend = png.length - 12;
  const extra = Buffer.concat([
    chunk('tEXt', Buffer.from(`Comment\0${GPS_MARKER} 25.0420N 102.7100E`, 'latin1')),
    chunk('iTXt', Buffer.from(`Author\0\0\0\0\0张伟`, 'utf8')),
    chunk('zTXt', Buffer.concat([Buffer.from('Secret\0\0', 'latin1'), zlib.deflateSync(Buffer.from(GPS_MARKER))])),
    chunk('eXIf', exifTiff(1)),
    chunk('tIME', Buffer.from([0x07, 0xea, 6, 15, 10, 0, 0])),
  ]);
  return Buffer.concat([png.subarray(0, iend), extra, png.subarray(iend)]);
}

const has = (buf: Buffer, s: string | Buffer) => buf.includes(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);

/** The RGB of pixel (x, y) of a decoded image. */
function rgb(img: { width: number; data: Uint8Array }, x: number, y: number): [number, number, number] {
  const i = (y * img.width + x) * 4;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
}

// ---------------------------------------------------------------------------------------

t.test('JPEG with EXIF GPS: stored bytes carry no Exif and no GPS, same size, still decodes', async (t) => {
  const src = jpegWithExif(64, 48, 1);
  t.ok(has(src, 'Exif') && has(src, GPS_MARKER) && has(src, 'Apple'), 'the fixture does carry EXIF and GPS');
  const r = reencodeImage(src, 'image/jpeg');
  if (!r.ok) throw new Error(r.message);
  t.same([r.width, r.height], [64, 48]);
  t.notOk(has(r.buffer, 'Exif'), 'no "Exif"');
  t.notOk(has(r.buffer, GPS_MARKER), 'no GPS datum');
  t.notOk(has(r.buffer, Buffer.concat([be32(25), be32(1), be32(2), be32(1)])), 'no GPS latitude rationals');
  t.notOk(has(r.buffer, 'Apple'), 'no camera make');
  t.notOk([...r.buffer.subarray(0, 200)].some((b, i) => b === 0xff && r.buffer[i + 1] === 0xe1), 'no APP1 segment at all');
  t.same(sniff(r.buffer), { mime: 'image/jpeg', ext: 'jpg', width: 64, height: 48 });
  const back = jpeg.decode(r.buffer, { useTArray: true });
  t.same([back.width, back.height], [64, 48], 'decodes with the same dimensions');
  const [red, , blue] = rgb(back, 5, 24);
  t.ok(red > 180 && blue < 80, 'left stays red');
  t.equal(jpegOrientation(r.buffer), 1);
});

t.test('EXIF Orientation 6 (phone held upright): pixels turned, width and height swapped', async (t) => {
  for (const le of [false, true]) {
    const src = jpegWithExif(40, 24, 6, le);
    t.equal(jpegOrientation(src), 6, le ? 'little-endian TIFF' : 'big-endian TIFF');
    const r = reencodeImage(src, 'image/jpeg');
    if (!r.ok) throw new Error(r.message);
    t.same([r.width, r.height], [24, 40], 'portrait now');
    const img = jpeg.decode(r.buffer, { useTArray: true });
    t.same([img.width, img.height], [24, 40]);
    // Turned 90° clockwise: the stored left half (red) is now the top half.
    const top = rgb(img, 12, 5);
    const bottom = rgb(img, 12, 34);
    t.ok(top[0] > 180 && top[2] < 80, `top is red (${top})`);
    t.ok(bottom[2] > 180 && bottom[0] < 80, `bottom is blue (${bottom})`);
    t.equal(jpegOrientation(r.buffer), 1, 'and no orientation tag left to apply twice');
  }
});

t.test('orient: the eight EXIF orientations on a 3×2 image', async (t) => {
  // Stored:  a b c / d e f   (one byte per pixel id, in the red channel)
  const ids = 'abcdef';
  const data = new Uint8Array(6 * 4);
  for (let i = 0; i < 6; i++) data[i * 4] = ids.charCodeAt(i);
  const show = (o: { data: Uint8Array; width: number; height: number }) => {
    const rows: string[] = [];
    for (let y = 0; y < o.height; y++) {
      let row = '';
      for (let x = 0; x < o.width; x++) row += String.fromCharCode(o.data[(y * o.width + x) * 4]!);
      rows.push(row);
    }
    return rows.join('/');
  };
  const cases: [number, string][] = [
    [1, 'abc/def'], [2, 'cba/fed'], [3, 'fed/cba'], [4, 'def/abc'],
    [5, 'ad/be/cf'], [6, 'da/eb/fc'], [7, 'fc/eb/da'], [8, 'cf/be/ad'], [0, 'abc/def'], [9, 'abc/def'],
  ];
  for (const [o, want] of cases) t.equal(show(orient(data, 3, 2, o)), want, `orientation ${o}`);
  // An unaligned view (a Buffer slice) works too.
  const unaligned = Buffer.concat([Buffer.alloc(1), Buffer.from(data)]).subarray(1);
  t.equal(show(orient(unaligned, 3, 2, 6)), 'da/eb/fc');
});

t.test('jpegOrientation: absent, damaged or hostile EXIF gives 1', async (t) => {
  const plain = Buffer.from(jpeg.encode({ data: halves(8, 8), width: 8, height: 8 }, 80).data);
  t.equal(jpegOrientation(plain), 1, 'no EXIF');
  t.equal(jpegOrientation(jpegWithExif(8, 8, 3)), 3);
  t.equal(jpegOrientation(jpegWithExif(8, 8, 8, true)), 8);
  const withTiff = (tiff: Buffer) => {
    const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
    return Buffer.concat([plain.subarray(0, 2), Buffer.from([0xff, 0xe1]), be16(body.length + 2), body, plain.subarray(2)]);
  };
  t.equal(jpegOrientation(withTiff(Buffer.from('MM\0*\xff\xff\xff\xf0', 'latin1'))), 1, 'IFD offset past the end');
  t.equal(jpegOrientation(withTiff(Buffer.from('XX\0*\0\0\0\x08', 'latin1'))), 1, 'bad byte order');
  t.equal(jpegOrientation(withTiff(Buffer.concat([Buffer.from('MM\0*\0\0\0\x08', 'latin1'), be16(0xffff)]))), 1, 'entry count past the end');
  t.equal(jpegOrientation(Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x00])), 1, 'truncated');
  t.equal(jpegOrientation(Buffer.alloc(0)), 1, 'empty');
});

t.test('PNG with tEXt/iTXt/zTXt/eXIf/tIME: only IHDR, IDAT, IEND remain; pixels and alpha equal', async (t) => {
  const w = 20;
  const h = 10;
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    data[i * 4] = (i * 7) & 0xff; data[i * 4 + 1] = (i * 13) & 0xff; data[i * 4 + 2] = (i * 29) & 0xff; data[i * 4 + 3] = i % 3 === 0 ? 255 : (i * 5) & 0xff;
  }
  const src = pngWithMetadata(w, h, data);
  t.same(chunkTypes(src).filter((c) => !['IHDR', 'IDAT', 'IEND'].includes(c)), ['tEXt', 'iTXt', 'zTXt', 'eXIf', 'tIME'], 'the fixture carries the chunks');
  const r = reencodeImage(src, 'image/png');
  if (!r.ok) throw new Error(r.message);
  t.same(new Set(chunkTypes(r.buffer)), new Set(['IHDR', 'IDAT', 'IEND']), 'no ancillary chunk');
  t.notOk(has(r.buffer, GPS_MARKER) || has(r.buffer, 'Comment') || has(r.buffer, 'MM\0*'), 'none of their bytes');
  const back = PNG.sync.read(r.buffer);
  t.same([back.width, back.height], [w, h]);
  t.ok(Buffer.compare(back.data, data) === 0, 'every RGBA byte equal, alpha included');
});

t.test('PNG: grayscale and opaque colour stay compact; trailing bytes after IEND are dropped', async (t) => {
  const w = 16;
  const h = 8;
  const gray = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) gray.fill(i & 0xff, i * 4, i * 4 + 3).writeUInt8(255, i * 4 + 3);
  const g = reencodeImage(pngWithMetadata(w, h, gray), 'image/png');
  if (!g.ok) throw new Error(g.message);
  t.equal(g.buffer[25], 0, 'grayscale written as colour type 0');
  t.ok(Buffer.compare(PNG.sync.read(g.buffer).data, gray) === 0, 'same pixels');
  const color = halves(w, h);
  const c = reencodeImage(pngWithMetadata(w, h, color), 'image/png');
  if (!c.ok) throw new Error(c.message);
  t.equal(c.buffer[25], 2, 'opaque colour written as RGB');
  t.ok(Buffer.compare(PNG.sync.read(c.buffer).data, color) === 0, 'same pixels');

  const payload = Buffer.from('<?php system($_GET["c"]); ?>');
  const polyglot = Buffer.concat([pngWithMetadata(w, h, color), payload]);
  t.equal(pngUntilIend(polyglot).length, polyglot.length - payload.length);
  const p = reencodeImage(polyglot, 'image/png');
  t.ok(p.ok, 'accepted');
  t.notOk(p.ok && has(p.buffer, 'php'), 'the appended payload is gone');
});

t.test('decompression bombs are refused from the header, never decoded', async (t) => {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30000, 0);
  ihdr.writeUInt32BE(30000, 4);
  ihdr[8] = 8;
  const bomb = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(30001 * 64))), chunk('IEND', Buffer.alloc(0)),
  ]);
  const started = Date.now();
  const r = reencodeImage(bomb, 'image/png');
  t.same(r, { ok: false, reason: 'too-large', message: checkImagePixels(30000, 30000) });
  t.ok(Date.now() - started < 500, 'answered at once (900 megapixels would take far longer to inflate)');
  // A JPEG header claiming 20000×20000.
  const plain = Buffer.from(jpeg.encode({ data: halves(8, 8), width: 8, height: 8 }, 80).data);
  const sof = plain.indexOf(Buffer.from([0xff, 0xc0]));
  const big = Buffer.from(plain);
  big.writeUInt16BE(20000, sof + 5);
  big.writeUInt16BE(20000, sof + 7);
  t.match(reencodeImage(big, 'image/jpeg'), { ok: false, reason: 'too-large' });
});

t.test('broken or mislabelled input is refused, never thrown', async (t) => {
  const png = PNG.sync.write(Object.assign(new PNG({ width: 4, height: 4 }), { data: halves(4, 4) }));
  const cases: [string, Buffer, 'image/jpeg' | 'image/png'][] = [
    ['PNG with its IDAT cut short', png.subarray(0, png.length - 20), 'image/png'],
    ['PNG claimed as JPEG', png, 'image/jpeg'],
    ['JPEG header only', Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0, 4, 0, 4, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff, 0xd9]), 'image/jpeg'],
    ['text', Buffer.from('hello'), 'image/png'],
  ];
  for (const [name, buf, mime] of cases) t.match(reencodeImage(buf, mime), { ok: false, reason: 'broken' }, name);
});

t.test('off the event loop: a worker gives the same bytes, and the loop keeps turning meanwhile', async (t) => {
  const src = jpegWithExif(640, 480, 6);
  const inThread = reencodeImage(src, 'image/jpeg');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const off = await reencodeOffThread(src, 'image/jpeg');
  clearInterval(timer);
  if (!inThread.ok || !off.ok) throw new Error('re-encode failed');
  t.ok(Buffer.compare(off.buffer, inThread.buffer) === 0, 'identical output');
  t.same([off.width, off.height], [480, 640]);
  t.ok(ticks > 0, `timers ran while it worked (${ticks})`);
  const many = await Promise.all([1, 2, 3].map((n) => reencodeOffThread(pngWithMetadata(n, n, halves(n, n)), 'image/png')));
  t.same(many.map((r) => r.ok && r.width), [1, 2, 3], 'queued jobs each get their own answer');
  t.match(await reencodeOffThread(Buffer.from('nope'), 'image/png'), { ok: false, reason: 'broken' });
});

t.test('a bounded pool: beyond concurrency + queue the answer is busy at once; a job over its time is stopped', async (t) => {
  // A 2000×2000 JPEG takes a while in pure JS: long enough to fill the pool.
  const big = Buffer.from(jpeg.encode({ data: halves(2000, 2000), width: 2000, height: 2000 }, 90).data);
  const limits = { concurrency: 1, queueMax: 1, timeoutMs: 60_000 };
  const first = reencodeOffThread(big, 'image/jpeg', limits);
  const second = reencodeOffThread(big, 'image/jpeg', limits);
  const started = Date.now();
  const third = await reencodeOffThread(big, 'image/jpeg', limits);
  t.same(third, { ok: false, reason: 'busy', message: BUSY_MESSAGE }, 'the third waits for nothing');
  t.ok(Date.now() - started < 100, 'answered at once');
  t.match(reencodeLoad(), { running: 1, waiting: 1 });
  t.match(await first, { ok: true, width: 2000 });
  t.match(await second, { ok: true, width: 2000 }, 'the queued one ran after');

  // Timeout (waiting included): the worker is terminated and the pool goes on.
  const slow = await reencodeOffThread(big, 'image/jpeg', { concurrency: 1, queueMax: 1, timeoutMs: 50 });
  t.same(slow, { ok: false, reason: 'busy', message: TIMEOUT_MESSAGE });
  const after = await reencodeOffThread(pngWithMetadata(3, 3, halves(3, 3)), 'image/png', limits);
  t.match(after, { ok: true, width: 3 }, 'a new worker takes the next job');
  t.match(reencodeLoad(), { running: 0, waiting: 0 });
});

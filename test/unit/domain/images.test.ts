import t from 'tap';
import { checkImagePixels, checkPortrait, sniff, MAX_IMAGE_PIXELS } from '../../../src/domain/images.js';

const b = (...parts: (number[] | string)[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const be32 = (n: number) => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Signature + IHDR chunk (CRC not checked by sniffing, zeros are fine). */
const png = (w: number, h: number) => b(PNG_SIG, be32(13), 'IHDR', be32(w), be32(h), [8, 2, 0, 0, 0], [0, 0, 0, 0]);

/** SOI, APP0 (JFIF), optionally a DHT and padding, then a SOF of the given marker. */
function jpeg(w: number, h: number, sof = 0xc0, extra: number[] = []) {
  return b(
    [0xff, 0xd8],
    [0xff, 0xe0], be16(16), 'JFIF\0', [1, 1, 0, 0, 1, 0, 1, 0, 0],
    extra,
    [0xff, sof], be16(17), [8], be16(h), be16(w), [3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
    [0xff, 0xda], be16(12), [3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0],
    [0xff, 0xd9],
  );
}
const DHT = [0xff, 0xc4, ...be16(5), 0x00, 0x01, 0x02];

t.test('sniff: table of cases', async (t) => {
  const cases: [string, Buffer, ReturnType<typeof sniff>][] = [
    ['PNG 390×567', png(390, 567), { mime: 'image/png', ext: 'png', width: 390, height: 567 }],
    ['PNG 1×1', png(1, 1), { mime: 'image/png', ext: 'png', width: 1, height: 1 }],
    ['PNG with huge width (>2^31) has no size', png(0x80000000, 10), { mime: 'image/png', ext: 'png' }],
    ['PNG zero height has no size', png(10, 0), { mime: 'image/png', ext: 'png' }],
    ['PNG signature only', b(PNG_SIG), { mime: 'image/png', ext: 'png' }],
    ['PNG without IHDR first', b(PNG_SIG, be32(0), 'IEND', be32(0), be32(0)), { mime: 'image/png', ext: 'png' }],
    ['JPEG SOF0', jpeg(390, 567), { mime: 'image/jpeg', ext: 'jpg', width: 390, height: 567 }],
    ['JPEG progressive SOF2', jpeg(640, 480, 0xc2), { mime: 'image/jpeg', ext: 'jpg', width: 640, height: 480 }],
    ['JPEG SOF after DHT (C4 is not a frame)', jpeg(33, 48, 0xc0, DHT), { mime: 'image/jpeg', ext: 'jpg', width: 33, height: 48 }],
    ['JPEG with fill bytes before a marker', jpeg(20, 30, 0xc1, [0xff, 0xff, 0xff, 0xfe, ...be16(4), 0x61, 0x62]), { mime: 'image/jpeg', ext: 'jpg', width: 20, height: 30 }],
    ['JPEG truncated in APP0', jpeg(390, 567).subarray(0, 10), { mime: 'image/jpeg', ext: 'jpg' }],
    ['JPEG truncated inside SOF', jpeg(390, 567).subarray(0, 26), { mime: 'image/jpeg', ext: 'jpg' }],
    ['JPEG magic only', b([0xff, 0xd8, 0xff]), { mime: 'image/jpeg', ext: 'jpg' }],
    ['JPEG with SOS before any SOF', b([0xff, 0xd8, 0xff, 0xda], be16(2), [0xff, 0xd9]), { mime: 'image/jpeg', ext: 'jpg' }],
    ['JPEG with a zero-length segment', b([0xff, 0xd8, 0xff, 0xe1, 0, 0, 0xff, 0xc0]), { mime: 'image/jpeg', ext: 'jpg' }],
    ['JPEG with garbage between segments', b([0xff, 0xd8, 0xff, 0xe0], be16(2), [0x12, 0x34]), { mime: 'image/jpeg', ext: 'jpg' }],
    ['JPEG with DNL height 0', jpeg(100, 0), { mime: 'image/jpeg', ext: 'jpg' }],
    ['PDF', b('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj'), { mime: 'application/pdf', ext: 'pdf' }],
    ['PDF header only', b('%PDF-'), { mime: 'application/pdf', ext: 'pdf' }],
    ['"%PDF" without dash', b('%PDF1.4'), null],
    ['text', b('hello, this is not an image\n'), null],
    ['HTML', b('<!doctype html><script>alert(1)</script>'), null],
    ['GIF', b('GIF89a\x01\x00\x01\x00'), null],
    ['empty', Buffer.alloc(0), null],
    ['two bytes', b([0xff, 0xd8]), null],
    ['PNG signature truncated', b(PNG_SIG.slice(0, 7)), null],
    ['PDF after leading whitespace', b(' %PDF-1.4'), null],
  ];
  for (const [name, buf, want] of cases) t.same(sniff(buf), want, name);
});

t.test('the pixel cap, from the header alone (field test #19: a 116 KB 40-MP PNG was accepted)', async (t) => {
  t.equal(MAX_IMAGE_PIXELS, 25_000_000);
  const cases: [string, Buffer, number | undefined, boolean][] = [
    ['PNG 5000×8000 (40 MP)', png(5000, 8000), undefined, false],
    ['PNG 5000×5000 (exactly 25 MP)', png(5000, 5000), undefined, true],
    ['PNG 5000×5001 (just over)', png(5000, 5001), undefined, false],
    ['JPEG 6000×4000 (24 MP, a phone camera)', jpeg(6000, 4000), undefined, true],
    ['JPEG 65535×65535 (the largest a SOF can say)', jpeg(65535, 65535), undefined, false],
    ['PNG 30000×30000 bomb', png(30000, 30000), undefined, false],
    ['JPEG 2480×3508 (A4 at 300 dpi) under a 5 MP cap', jpeg(2480, 3508), 5_000_000, false],
    ['JPEG 2480×3508 under a 10 MP cap', jpeg(2480, 3508), 10_000_000, true],
  ];
  for (const [name, buf, cap, ok] of cases) {
    const s = sniff(buf)!;
    const verdict = cap === undefined ? checkImagePixels(s.width!, s.height!) : checkImagePixels(s.width!, s.height!, cap);
    t.equal(verdict === null, ok, name);
    if (!ok) t.match(verdict, new RegExp(`^图片尺寸过大（当前为 ${s.width}×${s.height} 像素），请缩小到不超过 ${(cap ?? MAX_IMAGE_PIXELS) / 10_000} 万像素后重新上传$`), `${name}: message`);
  }
  t.match(checkImagePixels(NaN, 10), /图片尺寸过大/);
});

t.test('sniff never throws and always ends on random and adversarial input', async (t) => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let k = 0; k < 2000; k++) {
    const len = Math.floor(rnd() * 64);
    const body = Array.from({ length: len }, () => (rnd() < 0.3 ? 0xff : Math.floor(rnd() * 256)));
    const head = k % 3 === 0 ? [0xff, 0xd8, 0xff] : k % 3 === 1 ? PNG_SIG : [];
    const r = sniff(Buffer.from([...head, ...body]));
    if (r && r.width !== undefined) {
      if (!(r.width > 0 && r.height! > 0)) t.fail(`bad size ${JSON.stringify(r)}`);
    }
  }
  // A long run of 0xFF fill bytes and many tiny segments: linear, no hang.
  t.same(sniff(Buffer.concat([b([0xff, 0xd8]), Buffer.alloc(1_000_000, 0xff)])), { mime: 'image/jpeg', ext: 'jpg' });
  const many = Buffer.concat([b([0xff, 0xd8]), ...Array.from({ length: 50_000 }, () => b([0xff, 0xfe, 0, 2])), b([0xff, 0xc0], be16(11), [8], be16(48), be16(33), [1, 1, 0x11, 0])]);
  t.same(sniff(many), { mime: 'image/jpeg', ext: 'jpg', width: 33, height: 48 });
});

t.test('checkPortrait', async (t) => {
  const ratioMsg = (w: number, h: number) => `照片比例应为3.3cm×4.8cm（宽:高约为 2:3），当前为 ${w}×${h} 像素`;
  const cases: [number, number, string | null][] = [
    [390, 567, null], // the seed's 大一寸
    [330, 480, null],
    [400, 600, null], // 2:3 is within 8% of 33:48
    [150, 218, null], // the smallest accepted
    [295, 413, null], // 小一寸 25×35 mm: 0.714, +3.9%
    [3300, 4800, null],
    [413, 531, ratioMsg(413, 531)], // 35×45 passport: 0.778, +13%
    [567, 390, ratioMsg(567, 390)], // landscape
    [500, 500, ratioMsg(500, 500)],
    [300, 500, ratioMsg(300, 500)], // 0.6, −12.7%
    [100, 145, '照片分辨率过低（当前为 100×145 像素），请上传不小于 150×218 像素的照片'],
    [149, 217, '照片分辨率过低（当前为 149×217 像素），请上传不小于 150×218 像素的照片'],
  ];
  for (const [w, h, want] of cases) t.equal(checkPortrait(w, h), want, `${w}×${h}`);
  // Within ±8%: just inside and just outside.
  t.equal(checkPortrait(Math.floor(480 * (33 / 48) * 1.079), 480), null, '+7.9%');
  t.not(checkPortrait(Math.ceil(480 * (33 / 48) * 1.081), 480), null, '+8.1%');
  t.equal(checkPortrait(Math.ceil(480 * (33 / 48) * 0.921), 480), null, '−7.9%');
  t.not(checkPortrait(Math.floor(480 * (33 / 48) * 0.919), 480), null, '−8.1%');
  t.match(checkPortrait(0, 0), '无法识别照片尺寸');
  t.match(checkPortrait(NaN, 10), '无法识别照片尺寸');
});

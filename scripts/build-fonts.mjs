#!/usr/bin/env node
/**
 * Builds the fonts the PDF printer embeds (src/print/fonts.ts), from the packaged static
 * Noto Serif SC (dev dependency @expo-google-fonts/noto-serif-sc, OFL-1.1):
 *
 *   fonts/NotoSerifSC-Regular.print.woff2   the form's serif: ASCII, Latin-1, every character
 *                                            of GBK (each GBK byte pair decoded with
 *                                            TextDecoder('gbk')), CJK Extension A (so the
 *                                            BMP ideographs of GB 18030 too), the font's
 *                                            supplementary-plane ideographs (the 通用规范汉字表
 *                                            characters outside GBK, used in names) and common
 *                                            punctuation / symbols.
 *   fonts/NotoSerifSC-Bold.headings.woff2   Bold, only the characters of the form's fixed text
 *                                            (BOLD_SOURCES): headings print in a real bold. A
 *                                            synthesised bold would be drawn as Type 3 glyphs.
 *   fonts/NotoSerifSC-Regular.footer.woff2  a few KB for the page footer (第 N 页 共 M 页,
 *                                            验证码): Puppeteer's footer template cannot load the
 *                                            page's fonts, so it gets this one as a data: URL.
 *
 * Static TrueType (glyf) in, WOFF2 out: Chromium decodes it and embeds the glyphs it uses as a
 * subset "CID TrueType" font (pdffonts), never Type 3. Characters outside the subset (e.g. 𠮷, Ext-B beyond 通用规范汉字表) fall back to
 * the fonts installed on the server (see views/print/page.njk).
 *
 * Usage: node scripts/build-fonts.mjs [--check | --small-only]
 *   --check: report coverage only, write nothing; --small-only: rebuild the small fonts (footer, bold headings) only.
 * WOFF2 compression of ~30 000 glyphs takes a minute or two.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const SOURCE = require.resolve('@expo-google-fonts/noto-serif-sc/400Regular/NotoSerifSC_400Regular.ttf');
const SOURCE_BOLD = require.resolve('@expo-google-fonts/noto-serif-sc/700Bold/NotoSerifSC_700Bold.ttf');
const OUT_DIR = path.join(ROOT, 'fonts');
const MAIN = 'NotoSerifSC-Regular.print.woff2';
const FOOTER = 'NotoSerifSC-Regular.footer.woff2';
const BOLD = 'NotoSerifSC-Bold.headings.woff2';
/** The files whose fixed text may be bold (headings of the form): their characters go into BOLD. */
export const BOLD_SOURCES = ['views/print/_form.njk', 'views/print/page.njk', 'src/print/reviewForm.ts'];

/** ASCII + every non-ASCII character of the files the bold headings come from. */
export function boldText(root = ROOT) {
  const chars = new Set(String.fromCodePoint(...range(0x20, 0x7e)));
  for (const f of BOLD_SOURCES) for (const ch of fs.readFileSync(path.join(root, f), 'utf8')) if (ch.codePointAt(0) > 0x7f) chars.add(ch);
  chars.add('年');
  return [...chars].join('');
}

/** Every code point of GBK (CP936): each lead/trail byte pair decoded. */
export function gbkCodePoints() {
  const dec = new TextDecoder('gbk');
  const out = new Set();
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      const s = dec.decode(Uint8Array.of(lead, trail));
      const cp = s.codePointAt(0);
      if (s.length === 1 && cp !== 0xfffd) out.add(cp);
    }
  }
  return out;
}

/** The code points a TrueType font maps (cmap format 12 or 4), read from its table directory. */
export function cmapCodePoints(buf) {
  const n = buf.readUInt16BE(4);
  let cmap = -1;
  for (let i = 0; i < n; i++) {
    const o = 12 + i * 16;
    if (buf.toString('latin1', o, o + 4) === 'cmap') cmap = buf.readUInt32BE(o + 8);
  }
  if (cmap < 0) throw new Error('no cmap table');
  const out = new Set();
  const count = buf.readUInt16BE(cmap + 2);
  for (let i = 0; i < count; i++) {
    const sub = cmap + buf.readUInt32BE(cmap + 8 + i * 8);
    const format = buf.readUInt16BE(sub);
    if (format === 12) {
      const groups = buf.readUInt32BE(sub + 12);
      for (let g = 0; g < groups; g++) {
        const start = buf.readUInt32BE(sub + 16 + g * 12);
        const end = buf.readUInt32BE(sub + 20 + g * 12);
        for (let cp = start; cp <= end; cp++) out.add(cp);
      }
    } else if (format === 4) {
      const segs = buf.readUInt16BE(sub + 6) / 2;
      for (let s = 0; s < segs; s++) {
        const end = buf.readUInt16BE(sub + 14 + s * 2);
        const start = buf.readUInt16BE(sub + 16 + segs * 2 + s * 2);
        for (let cp = start; cp <= end && cp !== 0xffff; cp++) out.add(cp);
      }
    }
  }
  return out;
}

const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

async function main() {
  const check = process.argv.includes('--check');
  const src = fs.readFileSync(SOURCE);
  if (src.readUInt32BE(0) !== 0x00010000) throw new Error(`${SOURCE}: not a static TrueType (glyf) font`);
  const has = cmapCodePoints(src);
  const gbk = gbkCodePoints();

  const wanted = new Set([
    ...range(0x20, 0x7e), // ASCII
    ...range(0xa0, 0xff), // Latin-1
    ...gbk,
    ...range(0x2000, 0x206f), // general punctuation
    ...range(0x2100, 0x22ff), // letterlike, number forms, arrows, maths
    ...range(0x2460, 0x24ff), // ①…
    ...range(0x2500, 0x257f), // box drawing
    ...range(0x25a0, 0x26ff), // shapes, ☆
    ...range(0x3000, 0x303f), // CJK punctuation
    ...range(0x3400, 0x4dbf), // CJK Extension A
    ...range(0xfe30, 0xfe4f), // CJK compatibility forms
    ...range(0xff00, 0xffef), // full-width forms
    ...[...has].filter((cp) => cp >= 0x20000), // supplementary ideographs the font has (通用规范汉字表)
  ]);
  const included = [...wanted].filter((cp) => has.has(cp));
  const gbkMissing = [...gbk].filter((cp) => !has.has(cp));
  const pua = gbkMissing.filter((cp) => cp >= 0xe000 && cp <= 0xf8ff);
  const realMissing = gbkMissing.filter((cp) => !(cp >= 0xe000 && cp <= 0xf8ff));
  console.log(`source: ${path.relative(ROOT, SOURCE)} (${(src.length / 1e6).toFixed(1)} MB, ${has.size} code points)`);
  console.log(`GBK: ${gbk.size} code points; not in the font: ${pua.length} private-use (user-defined GBK areas) + ${realMissing.length} others: ${realMissing.map((c) => `U+${c.toString(16).toUpperCase()} ${String.fromCodePoint(c)}`).join(', ') || 'none'}`);
  console.log(`subset: ${included.length} code points (${included.filter((c) => c >= 0x20000).length} supplementary-plane ideographs)`);
  if (check) return;

  const { default: subsetFont } = await import('subset-font');
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const footerText = String.fromCodePoint(...range(0x20, 0x7e)) + '，。：·第页共验证码扫描二维码或访问核验申报评审表打印时间版';
  const t0 = Date.now();
  const footer = await subsetFont(src, footerText, { targetFormat: 'woff2' });
  fs.writeFileSync(path.join(OUT_DIR, FOOTER), footer);
  console.log(`${FOOTER}: ${footer.length} bytes`);
  const bold = await subsetFont(fs.readFileSync(SOURCE_BOLD), boldText(), { targetFormat: 'woff2' });
  fs.writeFileSync(path.join(OUT_DIR, BOLD), bold);
  console.log(`${BOLD}: ${bold.length} bytes`);
  if (process.argv.includes('--small-only')) return;
  const main = await subsetFont(src, String.fromCodePoint(...included), { targetFormat: 'woff2' });
  fs.writeFileSync(path.join(OUT_DIR, MAIN), main);
  console.log(`${MAIN}: ${(main.length / 1e6).toFixed(2)} MB (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  fs.copyFileSync(path.join(path.dirname(path.dirname(SOURCE)), 'LICENSE_FONT'), path.join(OUT_DIR, 'OFL.txt'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

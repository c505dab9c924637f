import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../app-root.js';

/**
 * The fonts the PDF printer embeds, built by scripts/build-fonts.mjs into fonts/ from the
 * packaged Noto Serif SC (OFL-1.1): a serif with all of GBK (+ Ext-A and the 通用规范汉字表
 * characters outside GBK), its bold for the form's headings only, and a tiny subset for the
 * page footer. The page asks for the big one
 * at mainUrl/boldUrl, which the printer's request interception answers from memory
 * (src/print/pdf.ts); the footer template cannot load anything, so its font goes in as a
 * data: URL, declared and used in the page too (then the footer finds it loaded).
 */
export const PRINT_ORIGIN = 'https://print.local';
export const FONT_FAMILY = 'ZC Print Serif';
export const MAIN_FONT_FILE = 'NotoSerifSC-Regular.print.woff2';
export const FOOTER_FONT_FILE = 'NotoSerifSC-Regular.footer.woff2';
export const BOLD_FONT_FILE = 'NotoSerifSC-Bold.headings.woff2';
/** The footer's family: also used by the cover's verification block, so that the page has it
 *  loaded when Chromium draws the footer (a footer template cannot load a font on its own). */
export const FOOTER_FAMILY = 'ZC Print Footer';

export interface PrintFonts {
  /** WOFF2 bytes of the form's serif. */
  main: Buffer;
  /** URL the page's @font-face points at (content-hashed: the browser may cache it). */
  mainUrl: string;
  /** Bold, only the characters of the form's fixed headings (a synthesised bold prints as Type 3). */
  bold: Buffer;
  boldUrl: string;
  /** data: URL of the footer font. */
  footerDataUrl: string;
}

let cached: { dir: string; fonts: PrintFonts } | null = null;

export class MissingFontError extends Error {}

/** Reads (once) the font files; throws MissingFontError naming the build script when absent. */
export function loadPrintFonts(dir = path.join(ROOT, 'fonts')): PrintFonts {
  if (cached?.dir === dir) return cached.fonts;
  const read = (name: string) => {
    const p = path.join(dir, name);
    if (!fs.existsSync(p)) throw new MissingFontError(`print font ${p} is missing: run node scripts/build-fonts.mjs`);
    return fs.readFileSync(p);
  };
  const main = read(MAIN_FONT_FILE);
  const footer = read(FOOTER_FONT_FILE);
  const bold = read(BOLD_FONT_FILE);
  const hash = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 12);
  const fonts: PrintFonts = {
    main,
    mainUrl: `${PRINT_ORIGIN}/fonts/serif-${hash(main)}.woff2`,
    bold,
    boldUrl: `${PRINT_ORIGIN}/fonts/serif-bold-${hash(bold)}.woff2`,
    footerDataUrl: `data:font/woff2;base64,${footer.toString('base64')}`,
  };
  cached = { dir, fonts };
  return fonts;
}

import type { AppContext } from '../context.js';
import { findBrowser } from './browser.js';
import { loadPrintFonts, type PrintFonts } from './fonts.js';
import { createPdfPool, type PdfPool, type RenderOptions } from './pdf.js';

/**
 * The app's one PDF printer (a warm browser pool plus the packaged fonts), shared by every
 * document it prints: the review form, the e-certificate and the materials zip. Created on
 * first use per app context; print/routes.ts closes it when the app closes.
 */
export interface Printer {
  /** The installed browser, or null: PDF printing is off and pages say so. */
  executablePath: string | null;
  /** Throws MissingFontError when the font files are absent. */
  fonts(): PrintFonts;
  /** Renders with the fonts served from memory; throws PdfQueueFullError / PdfTimeoutError when busy. */
  render(html: string, opts?: RenderOptions): Promise<Buffer>;
  close(): Promise<void>;
}

const printers = new WeakMap<AppContext, Printer>();

export function printerFor(ctx: AppContext): Printer {
  let p = printers.get(ctx);
  if (!p) {
    p = createPrinter(ctx);
    printers.set(ctx, p);
  }
  return p;
}

function createPrinter(ctx: AppContext): Printer {
  const executablePath = findBrowser(ctx.config.chromiumPath);
  let pool: PdfPool | null = null;
  let fonts: PrintFonts | null = null;
  const printer: Printer = {
    executablePath,
    fonts() {
      fonts ??= loadPrintFonts();
      return fonts;
    },
    render(html, opts) {
      if (!executablePath) throw new Error('no browser for printing');
      const f = printer.fonts();
      pool ??= createPdfPool({
        executablePath,
        concurrency: ctx.config.pdfConcurrency,
        queueMax: ctx.config.pdfQueueMax,
        timeoutMs: ctx.config.pdfTimeoutMs,
        recycleAfter: 100,
        resources: {
          [f.mainUrl]: { contentType: 'font/woff2', body: f.main, cache: true },
          [f.boldUrl]: { contentType: 'font/woff2', body: f.bold, cache: true },
        },
      });
      return pool.render(html, opts);
    },
    async close() {
      await pool?.close();
      pool = null;
    },
  };
  return printer;
}

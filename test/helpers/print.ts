/**
 * PDF checks for the print tests: they need an installed Chromium (as the e2e tests: skipped
 * locally without one, failed with E2E_REQUIRED=1) and poppler-utils (pdftotext, pdffonts,
 * pdfimages). PRINT_TEST_KEEP=<dir> keeps the PDFs for looking at them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromiumPath, NO_BROWSER_MESSAGE } from '../e2e/helpers.js';

export const BROWSER = chromiumPath();
const required = process.env.E2E_REQUIRED === '1';

export function tool(name: string, flag = '-v'): boolean {
  try {
    execFileSync(name, [flag], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
export const POPPLER = tool('pdftotext') && tool('pdffonts') && tool('pdfimages');

/** Skips (or, with E2E_REQUIRED=1, fails) a test that needs Chromium and poppler-utils. Returns false to stop. */
export function needsPrinter(t: { fail(m: string): unknown; plan(n: number, c?: string): void }): boolean {
  const missing = !BROWSER ? NO_BROWSER_MESSAGE : !POPPLER ? 'pdftotext/pdffonts/pdfimages not found: apt-get install poppler-utils' : null;
  if (!missing) return true;
  if (required) t.fail(`${missing} (E2E_REQUIRED=1, so this is a failure)`);
  else t.plan(0, missing);
  return false;
}

export const printerConfig = () => ({ chromiumPath: process.env.CHROMIUM_PATH || undefined, pdfTimeoutMs: 170_000 });

/** Writes a PDF to PRINT_TEST_KEEP (kept) or to a temp dir removed when the test file ends. */
export function keepPdf(t: { teardown(fn: () => unknown): void }, name: string, pdf: Buffer): string {
  let dir = process.env.PRINT_TEST_KEEP;
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-print-test-'));
    const d = dir;
    t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  }
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, pdf);
  return file;
}

export const pdftotext = (file: string) => execFileSync('pdftotext', ['-raw', '-enc', 'UTF-8', file, '-'], { maxBuffer: 64 << 20 }).toString('utf8');

/** The images a PDF draws (pdfimages -list): their pixel sizes. */
export function pdfImages(file: string): { width: number; height: number }[] {
  return execFileSync('pdfimages', ['-list', file]).toString('utf8').split('\n').slice(2).filter((l) => l.trim())
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c[2] === 'image')
    .map((c) => ({ width: Number(c[3]), height: Number(c[4]) }));
}

/** Whitespace out: pdftotext breaks lines where the layout does. */
export const ws = (s: string) => s.replace(/\s+/g, '');

/** The printed form wraps numbers in <span class="rf-num …"> (src/lib/printText.ts): the text without them. */
export const unspan = (x: string) => x.replace(/<span class="rf-num[^"]*">([^<]*)<\/span>/g, '$1');

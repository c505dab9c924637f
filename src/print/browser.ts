import fs from 'node:fs';
import path from 'node:path';

/**
 * Where the installed browser is. PDF printing uses a Chromium, Chrome or Edge already on the
 * server; none is downloaded (puppeteer-core). Order: the configured path (CHROMIUM_PATH; when
 * it is set but wrong there is no browser, rather than a surprise one), then the usual names.
 */
export const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'microsoft-edge', 'microsoft-edge-stable'];

const FIXED_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/microsoft-edge',
  '/usr/bin/microsoft-edge-stable',
  '/snap/bin/chromium',
  '/opt/google/chrome/chrome',
  '/opt/microsoft/msedge/msedge',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
  'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
  'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
  'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
  'C:\\Program Files\\Microsoft\\Edge\\Application\\msedge.exe',
];

function executable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    if (process.platform !== 'win32') fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The candidates in the order they are tried (for messages and tests). */
export function browserCandidates(envPath = process.env.PATH ?? ''): string[] {
  const out = [...FIXED_PATHS.slice(0, 6)];
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    for (const name of BROWSER_NAMES) out.push(path.join(dir, name));
  }
  out.push(...FIXED_PATHS.slice(6));
  return [...new Set(out)];
}

/**
 * The browser to print with, or null when none is installed.
 * `configured`: config.chromiumPath (env CHROMIUM_PATH); when given, only it is considered.
 */
export function findBrowser(configured?: string | null, opts: { isExecutable?: (p: string) => boolean; envPath?: string } = {}): string | null {
  const ok = opts.isExecutable ?? executable;
  if (configured) return ok(configured) ? configured : null;
  return browserCandidates(opts.envPath).find((p) => ok(p)) ?? null;
}

/**
 * End-to-end harness: the real app listening on 127.0.0.1 (on a real SQLite file), driven by
 * headless Chromium through puppeteer-core. No browser is downloaded: Chromium comes from the
 * system (apt-get install chromium) or CHROMIUM_PATH.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser, type ConsoleMessage, type Page } from 'puppeteer-core';
import { buildApp, type BuiltApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

/** The few members of a tap test these helpers use. */
interface Tap {
  fail(message: string): unknown;
  plan(n: number, comment?: string): void;
  teardown(fn: () => unknown): void;
}

export const NO_BROWSER_MESSAGE = 'Chromium not found: install it (apt-get install chromium) to run the e2e tests';

export interface Server {
  /** Base URL, e.g. http://127.0.0.1:40123 (no trailing slash). */
  url: string;
  built: BuiltApp;
  dir: string;
  close(): Promise<void>;
}

/**
 * The app on a fresh temp data dir with a real database file, listening on a free port.
 * `now` replaces the server's clock (sessions, plan windows, publicity dates all read it), so a
 * test can move time; moving it more than the idle timeout (30 min) ends every session.
 */
export async function startServer(o: { now?: () => Date } = {}): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-e2e-'));
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, DB_FILE: path.join(dir, 'e2e.db') }, o.now ? { now: o.now } : {});
  let built: BuiltApp;
  try {
    built = await buildApp(config);
    await built.app.listen({ host: '127.0.0.1', port: 0 });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const { port } = built.app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    built,
    dir,
    async close() {
      await built.app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CHROMIUM_PATH when set (even if wrong: then there is no browser), else the first system Chromium. */
export function chromiumPath(): string | null {
  const fromEnv = process.env.CHROMIUM_PATH;
  const candidates = fromEnv ? [fromEnv] : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p) => fs.existsSync(p)) ?? null;
}

/** Headless Chromium with a throw-away profile (removed on close), or null when none is installed. */
export async function launchBrowser(): Promise<Browser | null> {
  const executablePath = chromiumPath();
  if (!executablePath) return null;
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-chromium-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      userDataDir,
      headless: true,
      // Our own flags only: puppeteer's defaults are fine, but spell out what this machine needs.
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      timeout: 30_000,
    });
  } catch (err) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  const close = browser.close.bind(browser);
  browser.close = async () => {
    try {
      await close();
    } finally {
      fs.rmSync(userDataDir, { recursive: true, force: true });
    }
  };
  return browser;
}

/**
 * Launches the browser for a test file, or ends the file: skipped locally when Chromium is
 * missing, failed when E2E_REQUIRED=1 (CI). Closes the browser at teardown.
 */
export async function browserOrSkip(t: Tap): Promise<Browser | null> {
  const browser = await launchBrowser();
  if (!browser) {
    if (process.env.E2E_REQUIRED === '1') {
      t.fail(`${NO_BROWSER_MESSAGE} (E2E_REQUIRED=1, so this is a failure; looked at ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome'})`);
    } else {
      t.plan(0, NO_BROWSER_MESSAGE);
    }
    return null;
  }
  t.teardown(() => browser.close());
  return browser;
}

/** '13800138001' → '138****8001', as stored in sms_outbox.phone_masked. */
export function maskedPhone(phone: string): string {
  return `${phone.slice(0, 3)}****${phone.slice(-4)}`;
}

/** The newest verification code sent to `phone`, read from the server's SMS outbox. */
export async function latestSmsCode(server: Server, phone: string): Promise<string> {
  const row = await server.built.ctx.db
    .selectFrom('sms_outbox')
    .select('body')
    .where('phone_masked', '=', maskedPhone(phone))
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (!row) throw new Error(`no SMS in the outbox for ${maskedPhone(phone)}`);
  const m = /验证码：(\d{6})/.exec(row.body);
  if (!m) throw new Error(`no 6-digit code in the SMS body: ${row.body}`);
  return m[1]!;
}

/** What a page did wrong: JS errors, CSP violations, console errors, failed requests. */
export interface PageProblems {
  /** Every problem seen so far, one line each. */
  list: string[];
  /** All console lines, for the failure report. */
  console: string[];
  /**
   * Console errors the current step expects, e.g. Chromium's "Failed to load resource: …
   * status of 422" when a form is deliberately refused. Set it around that step only.
   */
  expected: RegExp[];
}

const CSP = /Content Security Policy|Content-Security-Policy|violates the following/i;

/** Requests the browser makes on its own; the app has no favicon, which is no fault of a page. */
const IGNORED_URLS = /\/favicon\.ico$/;

/**
 * Watches a page: uncaught exceptions, console errors (CSP violations are reported by the
 * browser on the console even with JavaScript off), failed or 4xx/5xx subresource requests.
 */
export function watchPage(page: Page, origin: string): PageProblems {
  const problems: PageProblems = { list: [], console: [], expected: [] };
  page.on('console', (msg: ConsoleMessage) => {
    const text = msg.text();
    const url = msg.location()?.url ?? '';
    const where = url ? ` (${url})` : '';
    problems.console.push(`[${msg.type()}] ${text}${where}`);
    if (CSP.test(text)) problems.list.push(`CSP violation: ${text}${where}`);
    else if (msg.type() === 'error' && !IGNORED_URLS.test(url) && !problems.expected.some((re) => re.test(text))) {
      problems.list.push(`console error: ${text}${where}`);
    }
  });
  page.on('pageerror', (err) => {
    problems.list.push(`page error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  });
  page.on('requestfailed', (req) => {
    // A navigation replaced by the next one aborts its leftovers; that is not a fault.
    const reason = req.failure()?.errorText ?? '';
    if (reason === 'net::ERR_ABORTED') return;
    problems.list.push(`request failed: ${req.method()} ${req.url()} ${reason}`);
  });
  page.on('response', (res) => {
    const req = res.request();
    const type = req.resourceType();
    // Pages (documents, htmx XHRs) answer 4xx on purpose; assets never should.
    if (!res.url().startsWith(origin) || IGNORED_URLS.test(res.url()) || ['document', 'xhr', 'fetch'].includes(type)) return;
    if (res.status() >= 400) problems.list.push(`HTTP ${res.status()} for ${type} ${res.url()}`);
  });
  return problems;
}

let shotDir: string | null = null;

/** Saves a full-page screenshot into a temp dir (kept) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string | null> {
  try {
    shotDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'zc-e2e-shots-'));
    const file = path.join(shotDir, `${name.replace(/[^\w.-]+/g, '_')}-${Date.now()}.png`) as `${string}.png`;
    await page.screenshot({ path: file, fullPage: true });
    return file;
  } catch {
    return null;
  }
}

/** The visible text of the page (innerText of <body>). */
export async function bodyText(page: Page): Promise<string> {
  return page.evaluate(() => document.body.innerText);
}

/** The current value of an input. */
export async function valueOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => (el as HTMLInputElement).value);
}

/** Clears an input and types into it like a user. */
export async function fill(page: Page, selector: string, text: string): Promise<void> {
  await page.$eval(selector, (el) => {
    (el as HTMLInputElement).value = '';
  });
  await page.type(selector, text);
}

/**
 * Clicks something that makes htmx swap in the next page (hx-boost) and waits for it: the old
 * <main> is gone, no request is in flight and, if given, the URL path (and search) is `path`.
 * Fails if the document was reloaded instead (htmx did not do it).
 */
export async function boosted(page: Page, selector: string, path?: string | RegExp) {
  await page.evaluate(() => {
    (window as unknown as { __e2eSameDocument: boolean }).__e2eSameDocument = true;
    document.querySelector('main')?.setAttribute('data-e2e-old', '');
  });
  await page.click(selector);
  try {
    await page.waitForFunction(
      // Settled too: htmx wires up the new content's hx-* attributes in its settle step, so a
      // click before that is a plain boosted link (a whole-page swap, not the inline form).
      () => !!document.querySelector('main') && !document.querySelector('main[data-e2e-old]') && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling'),
      { timeout: 8_000, polling: 50 },
    );
  } catch {
    throw new Error(`htmx did not swap in the next page after clicking ${selector}; still at ${page.url()}`);
  }
  const same = await page.evaluate(() => (window as unknown as { __e2eSameDocument?: boolean }).__e2eSameDocument === true);
  if (!same) throw new Error(`clicking ${selector} reloaded the whole document instead of an htmx-boosted swap`);
  checkPath(page, selector, path);
}

/** The same without JavaScript: a real navigation. */
export async function plainClick(page: Page, selector: string, path?: string | RegExp) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
  checkPath(page, selector, path);
}

export function checkPath(page: Page, selector: string, path?: string | RegExp) {
  if (path === undefined) return;
  const u = new URL(page.url());
  const now = typeof path === 'string' && path.includes('?') ? u.pathname + u.search : u.pathname;
  if (typeof path === 'string' ? now !== path : !path.test(now)) throw new Error(`expected ${path} after clicking ${selector}, got ${page.url()}`);
}

/**
 * The digits of the 图片验证码 this page's browser was shown, read the only way the server
 * allows: the image's answer is stored as a keyed hash bound to the browser's session, so the
 * 10 000 candidates are hashed and compared (the test has the server's keys).
 */
export async function imageCodeOf(server: Server, page: Page): Promise<string> {
  const { answerHash } = await import('../../src/features/sms/challenge.js');
  const cookie = (await page.cookies(server.url)).find((c) => c.name === 'zc_sid');
  if (!cookie) throw new Error('the browser has no session cookie');
  const v = decodeURIComponent(cookie.value);
  const sid = v.slice(0, v.lastIndexOf('.'));
  const stored = new Set((await server.built.ctx.db.selectFrom('sms_challenges').select('answer_hash').execute()).map((r) => r.answer_hash));
  for (let n = 0; n < 10_000; n++) {
    const answer = String(n).padStart(4, '0');
    if (stored.has(answerHash(server.built.ctx, sid, answer))) return answer;
  }
  throw new Error('no image code stored for this browser');
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, HTTPRequest, Page, PDFOptions } from 'puppeteer-core';

/**
 * The PDF printer: one warm headless browser (an installed Chromium/Chrome/Edge), at most
 * `concurrency` pages printing at once, a bounded queue in front of them.
 *
 * Safety: every page runs with JavaScript off and request interception on. Only the URLs the
 * caller lists (`resources`: the fonts, the applicant's photo, the unit's seal) are answered, from memory;
 * every other request — http(s), file:, anything a user's text might smuggle in — is aborted
 * before it leaves the browser (navigations get an empty 204, which keeps the document), and
 * host names do not even resolve (--host-resolver-rules).
 * The DevTools protocol runs over a pipe, not a TCP port.
 *
 * Speed: pages are kept and reused. The font (several MB) is served with a long cache
 * lifetime under a content-hashed URL, so each page decodes it once and later jobs on that
 * page find it in the renderer's memory cache (≈1–2 s saved per PDF). Job-specific
 * resources are served with no-store under per-job URLs.
 *
 * Lifecycle: launched on the first job; relaunched after `recycleAfter` jobs (the old
 * browser finishes its jobs, then closes) and after a crash or disconnect (on the next job).
 */
export interface Resource {
  contentType: string;
  body: Buffer;
  /** true: the browser may cache it (immutable content under a content-hashed URL). */
  cache?: boolean;
}

export interface RenderOptions {
  /** Resources for this job only (e.g. the photo), keyed by absolute URL. */
  resources?: Record<string, Resource>;
  headerTemplate?: string;
  footerTemplate?: string;
  /** Margins; default top 16mm, bottom 22mm, left/right 15mm (the footer lives in the bottom margin). */
  margin?: PDFOptions['margin'];
}

export interface PdfPoolOptions {
  executablePath: string;
  concurrency: number;
  /** Jobs that may wait for a free page; one more is refused with PdfQueueFullError. */
  queueMax: number;
  /** Longest a job may take, waiting included. */
  timeoutMs: number;
  /** Relaunch the browser after this many jobs. */
  recycleAfter?: number;
  /** Resources every job may load (the fonts), keyed by absolute URL. */
  resources?: Record<string, Resource>;
}

export interface PdfPoolStats {
  launches: number;
  jobs: number;
  active: number;
  queued: number;
  browserPid: number | null;
}

export interface PdfPool {
  render(html: string, opts?: RenderOptions): Promise<Buffer>;
  /** Launches the browser (if needed) and primes one page with the shared resources. */
  warm(warmHtml?: string): Promise<void>;
  stats(): PdfPoolStats;
  close(): Promise<void>;
}

/** The queue is full: answer 503 with Retry-After. */
export class PdfQueueFullError extends Error {
  readonly retryAfter = 5;
  constructor() {
    super('PDF queue is full');
    this.name = 'PdfQueueFullError';
  }
}

/** The job did not finish within timeoutMs (waiting included). */
export class PdfTimeoutError extends Error {
  readonly retryAfter = 5;
  constructor(ms: number) {
    super(`PDF job took longer than ${ms} ms`);
    this.name = 'PdfTimeoutError';
  }
}

export class PdfPoolClosedError extends Error {
  constructor() {
    super('PDF pool is closed');
    this.name = 'PdfPoolClosedError';
  }
}

export const BROWSER_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--no-first-run',
  '--no-default-browser-check',
  '--mute-audio',
  // Defence in depth behind request interception: no host name resolves.
  '--host-resolver-rules=MAP * ~NOTFOUND',
];

interface Generation {
  browser: Browser;
  userDataDir: string;
  idle: Page[];
  active: number;
  jobs: number;
  retiring: boolean;
  closed: boolean;
}

/** Per-page job resources, looked up by the page's one request handler. */
const jobResources = new WeakMap<Page, Record<string, Resource>>();

export function createPdfPool(o: PdfPoolOptions): PdfPool {
  const recycleAfter = o.recycleAfter ?? 100;
  const concurrency = Math.max(1, o.concurrency);
  const shared = o.resources ?? {};
  let current: Promise<Generation> | null = null;
  let running = 0;
  let launches = 0;
  let jobs = 0;
  let closed = false;
  const waiting: { start: () => void; fail: (e: Error) => void }[] = [];
  const generations = new Set<Generation>();

  async function launch(): Promise<Generation> {
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-print-'));
    let browser: Browser;
    try {
      // Loaded on the first print job: puppeteer-core is the heaviest module of the app and most
      // processes never print (measured: ~2 s of a cold start on a loaded machine).
      const { default: puppeteer } = await import('puppeteer-core');
      browser = await puppeteer.launch({
        executablePath: o.executablePath,
        userDataDir,
        headless: true,
        pipe: true,
        args: BROWSER_ARGS,
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
        timeout: 30_000,
        protocolTimeout: Math.max(o.timeoutMs * 2, 30_000),
      });
    } catch (err) {
      fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      throw err;
    }
    launches++;
    const g: Generation = { browser, userDataDir, idle: [], active: 0, jobs: 0, retiring: false, closed: false };
    generations.add(g);
    // Crashed or killed: the jobs on it fail, the next job launches a new one.
    browser.on('disconnected', () => retire(g));
    return g;
  }

  // The generation `current` resolves to (to compare without awaiting).
  let generationOf: Generation | null = null;

  async function generation(): Promise<Generation> {
    for (;;) {
      if (closed) throw new PdfPoolClosedError();
      if (!current) {
        const p = launch();
        current = p;
        p.then((g) => (generationOf = g), () => {
          if (current === p) current = null;
        });
      }
      const p = current;
      const g = await p;
      if (!g.retiring && g.browser.connected) return g;
      if (current === p) current = null;
    }
  }

  async function shutdown(g: Generation): Promise<void> {
    if (g.closed) return;
    g.closed = true;
    generations.delete(g);
    const proc = g.browser.process();
    try {
      if (g.browser.connected) await withTimeout(g.browser.close(), 10_000, () => new Error('browser close timed out'));
    } catch {
      proc?.kill('SIGKILL');
    }
    // A crashed or killed browser's helper processes may still be writing its profile: wait for
    // the main process to be gone, then remove the folder, retrying ENOTEMPTY/EBUSY. A folder
    // that still cannot go is left in the temp dir rather than failing anything.
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 5_000);
        proc.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await fs.promises.rm(g.userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }).catch(() => {});
  }

  function retire(g: Generation) {
    g.retiring = true;
    if (generationOf === g) {
      current = null;
      generationOf = null;
    }
    if (g.active === 0) void shutdown(g);
  }

  async function newPage(g: Generation): Promise<Page> {
    const page = await g.browser.newPage();
    await page.setJavaScriptEnabled(false);
    await page.setRequestInterception(true);
    page.on('request', (req: HTTPRequest) => {
      if (req.isInterceptResolutionHandled()) return;
      const url = req.url();
      const own = jobResources.get(page) ?? {};
      const r = Object.hasOwn(own, url) ? own[url] : Object.hasOwn(shared, url) ? shared[url] : undefined;
      if (r && req.method() === 'GET') {
        void req
          .respond({
            status: 200,
            contentType: r.contentType,
            headers: {
              // Fonts are CORS requests (the document's origin is about:blank's).
              'Access-Control-Allow-Origin': '*',
              'Cache-Control': r.cache ? 'public, max-age=31536000, immutable' : 'no-store',
            },
            body: r.body,
          })
          .catch(() => undefined);
      } else if (req.isNavigationRequest()) {
        // A navigation (meta refresh, a frame) answered 204 leaves the document as it is; an
        // aborted one would replace it with an error page.
        void req.respond({ status: 204, body: '' }).catch(() => undefined);
      } else {
        void req.abort('blockedbyclient').catch(() => undefined);
      }
    });
    return page;
  }

  function acquire(deadline: number): Promise<void> {
    if (running < concurrency) {
      running++;
      return Promise.resolve();
    }
    if (waiting.length >= o.queueMax) return Promise.reject(new PdfQueueFullError());
    return new Promise<void>((resolve, reject) => {
      const entry = {
        start: () => {
          clearTimeout(timer);
          resolve();
        },
        fail: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        const i = waiting.indexOf(entry);
        if (i >= 0) waiting.splice(i, 1);
        reject(new PdfTimeoutError(o.timeoutMs));
      }, Math.max(0, deadline - Date.now()));
      waiting.push(entry);
    });
  }

  function release() {
    const next = waiting.shift();
    if (next) next.start();
    else running--;
  }

  async function printOn(page: Page, html: string, opts: RenderOptions, timeout: number): Promise<Buffer> {
    await page.setContent(html, { waitUntil: 'load', timeout });
    const margin = opts.margin ?? { top: '16mm', bottom: '22mm', left: '15mm', right: '15mm' };
    const pdf = await page.pdf({
      format: 'A4',
      printBackground: true,
      preferCSSPageSize: true,
      displayHeaderFooter: Boolean(opts.headerTemplate || opts.footerTemplate),
      headerTemplate: opts.headerTemplate ?? '<span></span>',
      footerTemplate: opts.footerTemplate ?? '<span></span>',
      margin,
      outline: true,
      timeout,
    });
    return Buffer.from(pdf);
  }

  function closePage(g: Generation, page: Page) {
    void withTimeout(page.close(), 5_000, () => new Error('page close timed out')).catch(() => {
      // A page that cannot be closed means a hung browser: kill it; the next job relaunches.
      retire(g);
      g.browser.process()?.kill('SIGKILL');
    });
  }

  interface Job {
    aborted: boolean;
    page: Page | null;
    g: Generation | null;
  }

  async function runJob(job: Job, html: string, opts: RenderOptions, deadline: number): Promise<Buffer> {
    const g = await generation();
    job.g = g;
    g.active++;
    g.jobs++;
    jobs++;
    // This job still runs on it; later jobs get a new browser and this one closes when idle.
    if (g.jobs >= recycleAfter) retire(g);
    let page: Page | null = null;
    let healthy = false;
    try {
      if (job.aborted) throw new PdfTimeoutError(o.timeoutMs);
      page = g.idle.pop() ?? (await newPage(g));
      job.page = page;
      if (job.aborted) throw new PdfTimeoutError(o.timeoutMs);
      jobResources.set(page, opts.resources ?? {});
      const out = await printOn(page, html, opts, Math.max(1000, deadline - Date.now()));
      healthy = true;
      return out;
    } finally {
      if (page) {
        jobResources.delete(page);
        if (healthy && !job.aborted && !g.retiring && !g.closed) g.idle.push(page);
        else if (!g.closed) closePage(g, page);
      }
      g.active--;
      if (g.retiring && g.active === 0) void shutdown(g);
    }
  }

  async function render(html: string, opts: RenderOptions = {}): Promise<Buffer> {
    if (closed) throw new PdfPoolClosedError();
    const deadline = Date.now() + o.timeoutMs;
    await acquire(deadline);
    const job: Job = { aborted: false, page: null, g: null };
    // The slot is given back when the work has really stopped, not when the caller gave up.
    const work = runJob(job, html, opts, deadline).finally(release);
    work.catch(() => undefined);
    return withTimeout(work, Math.max(0, deadline - Date.now()), () => {
      job.aborted = true;
      if (job.page && job.g) closePage(job.g, job.page);
      return new PdfTimeoutError(o.timeoutMs);
    });
  }

  return {
    render,
    async warm(warmHtml) {
      const html = warmHtml ?? '<!doctype html><meta charset="utf-8"><p>预热</p>';
      await render(html);
    },
    stats() {
      const g = generationOf;
      return { launches, jobs, active: running, queued: waiting.length, browserPid: g?.browser.process()?.pid ?? null };
    },
    async close() {
      closed = true;
      for (const w of waiting.splice(0)) w.fail(new PdfPoolClosedError());
      const pending = current;
      current = null;
      generationOf = null;
      if (pending) await pending.catch(() => undefined);
      await Promise.all([...generations].map((g) => shutdown(g)));
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, error: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(error()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

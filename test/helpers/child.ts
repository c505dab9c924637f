import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project folder (spawned servers run `node --import tsx src/cli.ts` from here). */
export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerChild {
  proc: ChildProcess;
  port: number;
  base: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * Starts the real server (`src/cli.ts serve`) as a child process on a free port and waits for
 * its start line. It is SIGKILLed at teardown if still running. Startup compiles the sources
 * through tsx: on a loaded machine that takes a while, hence the long wait.
 */
export async function startServer(t: Teardown, env: Record<string, string>, waitMs = 90_000, args: string[] = []): Promise<ServerChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', ...args], {
    cwd: PROJECT,
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', RATE_LIMIT: 'off', BACKUP_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${waitMs} ms:\n${out}\n${err}`)), waitMs);
    const check = () => {
      const m = /已启动：http:\/\/[^:\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it started:\n${out}\n${err}`));
    });
  });
  return { proc, port, base: `http://127.0.0.1:${port}`, stdout: () => out, stderr: () => err, exited };
}

/** A cookie-keeping client over real HTTP (fetch), following no redirects; CSRF from the last page. */
export class HttpAgent {
  cookies = new Map<string, string>();
  lastHtml = '';
  /** What the last request answered (for a failure message that says what came back). */
  last = '';
  constructor(public base: string) {}

  private remember(res: Response, body: string) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    if ((res.headers.get('content-type') ?? '').startsWith('text/html')) this.lastHtml = body;
    this.last = `${res.status} ${res.url} ${body.replace(/\s+/g, ' ').slice(0, 400)}`;
  }

  private cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string) {
    const res = await fetch(this.base + url, { redirect: 'manual', headers: { cookie: this.cookieHeader() } });
    const body = await res.text();
    this.remember(res, body);
    return { status: res.status, location: res.headers.get('location'), body };
  }

  csrf(): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(this.lastHtml);
    if (!m) throw new Error(`no _csrf field on the last page: ${this.last}`);
    return m[1]!;
  }

  async post(url: string, form: Record<string, string>, csrf = this.csrf()) {
    const body = new URLSearchParams({ _csrf: csrf, ...form });
    const res = await fetch(this.base + url, {
      method: 'POST',
      redirect: 'manual',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: this.cookieHeader() },
    });
    const text = await res.text();
    this.remember(res, text);
    return { status: res.status, location: res.headers.get('location'), body: text };
  }
}

/**
 * bench/load — a mixed deadline workload against the real server over loopback (issue #8).
 *
 * Starts the server as a child process (src/cli.ts serve when it exists, else src/server.ts) on a
 * data dir made by bench/gen.ts, with production settings: NODE_ENV=production, LOG_LEVEL=warn,
 * HOST=127.0.0.1, RATE_LIMIT=off and MAX_ANON_INFLIGHT=0, MAX_ANON_INFLIGHT_PER_IP=0,
 * ANON_MAX_EVENT_LOOP_DELAY_MS=0 — every
 * virtual user comes from 127.0.0.1 and all of a step log in at once, so the per-IP login limit
 * and the anonymous load shedding would otherwise refuse them; they are guards against abuse
 * (measured by bench/flood.ts), not part of the work.
 *
 * At each concurrency (default 8, 32, 64, 128) that many virtual users log in once (argon2-bound:
 * measured as its own step), then loop without think time for --duration seconds, each with its
 * own keep-alive connection and session, as a browser without JavaScript (plus htmx's drag-sort):
 *   applicants (3 in 4): home, section list, edit a row (form → POST with CSRF → list), add a row,
 *     drag-sort (htmx POST of the order), 申报记录, and — for those holding a ready draft — submit
 *     (step 4 page → POST, once);
 *   reviewers (1 in 4; supervisors, HR bureaus, committee offices): 待审核 queue → a declaration →
 *     通过 (POST with CSRF) → back to the queue.
 * Every response with status ≥ 400 (or a failed connection) is an error and is printed; a refused
 * action answered by a redirect (two reviewers approving the same declaration) is counted apart.
 * Prints a table per concurrency (req/s, p50/p95/p99 per step), the server's peak RSS
 * (/proc/<pid>/status VmRSS) and CPU, and writes the figures as JSON with --json FILE.
 *
 * Usage: node --import tsx bench/load.ts [DATA_DIR] [--steps 8,32,64,128] [--duration 20]
 *          [--json FILE] [--cpu-prof DIR]
 * DATA_DIR (default $TMPDIR/zhicheng-bench, where npm run bench puts it) is made by bench/gen.ts; a
 * run changes it (drafts get submitted, declarations approved), so re-generate it now and then.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { rng } from './data.js';
import { CLK_TCK, postgresTicks, treeStats } from './procstats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------
// Server process

export interface Server {
  child: ChildProcess;
  port: number;
  entry: string;
  log: string[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The command that serves the app: the CLI's `serve` when the CLI exists, else src/server.ts. */
export function serverEntry(root = ROOT): string[] {
  return fs.existsSync(path.join(root, 'src/cli.ts')) ? ['src/cli.ts', 'serve'] : ['src/server.ts'];
}

export function serverEnv(dataDir: string, port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env, DATA_DIR: dataDir, NODE_ENV: 'production', LOG_LEVEL: 'warn', RATE_LIMIT: 'off', MAX_ANON_INFLIGHT: '0', MAX_ANON_INFLIGHT_PER_IP: '0', ANON_MAX_EVENT_LOOP_DELAY_MS: '0',
    HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ...extra,
  };
}

/** GET /health until 200 (or the child dies / the time is up). Resolves with ms since `since`. */
export async function waitHealthy(port: number, child: ChildProcess, since: number, timeoutMs = 60_000): Promise<number> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode) throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before /health answered`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      });
      req.on('error', () => resolve(false));
      req.setTimeout(2000, () => req.destroy());
    });
    if (ok) return performance.now() - since;
    if (performance.now() - since > timeoutMs) throw new Error('server did not answer /health in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The single binary (npm run build:binary) on the same data dir: its cold start, as operators run it. */
export async function startBinary(dataDir: string, bin: string): Promise<{ startMs: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(bin, ['serve'], { cwd: ROOT, env: serverEnv(dataDir, port), stdio: ['ignore', 'ignore', 'ignore'] });
  const startMs = await waitHealthy(port, child, t0);
  return { startMs, stop: stopper(child) };
}

/** SIGTERM, and SIGKILL if it has not exited 15 s later; resolves on exit. */
function stopper(child: ChildProcess): () => Promise<void> {
  return () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
  });
}

/** `o.root`: another checkout of the app to serve (bench/flood.ts compares with an older commit); `o.env` overrides. */
export async function startServer(dataDir: string, nodeArgs: string[] = [], o: { root?: string; env?: Record<string, string> } = {}): Promise<Server & { startMs: number; spawnedAt: number }> {
  const port = await freePort();
  const root = o.root ?? ROOT;
  const entries = [serverEntry(root), ['src/server.ts']].filter((e, i, all) => i === 0 || e[0] !== all[0]![0]);
  let lastErr: unknown;
  for (const entry of entries) {
    const log: string[] = [];
    const t0 = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...entry], { cwd: root, env: { ...serverEnv(dataDir, port), ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (b: Buffer) => { if (log.length < 500) log.push(...b.toString().split('\n').filter(Boolean)); });
    try {
      const startMs = await waitHealthy(port, child, t0);
      return { child, port, entry: entry.join(' '), log, stop: stopper(child), startMs, spawnedAt: t0 };
    } catch (err) {
      lastErr = new Error(`${entry.join(' ')}: ${(err as Error).message}\n${log.slice(-20).join('\n')}`);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
  throw lastErr;
}

// ---------------------------------------------------------------------------------------
// A virtual user: one keep-alive connection, its cookies, the CSRF token of its last page

interface Res { status: number; headers: http.IncomingHttpHeaders; body: string }
interface Sample { step: string; ms: number; status: number; url: string; detail?: string; bad?: boolean }

class VU {
  private agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private cookies = new Map<string, string>();
  csrf = '';
  stopped = false;
  constructor(private port: number, private record: (s: Sample) => void) {}

  close() {
    this.agent.destroy();
  }

  request(step: string, method: 'GET' | 'POST', url: string, form?: URLSearchParams, extra: Record<string, string> = {}): Promise<Res> {
    const body = form ? Buffer.from(form.toString()) : undefined;
    const headers: Record<string, string> = { 'accept-encoding': 'br, gzip', accept: 'text/html', ...extra };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(body.length);
    }
    const t0 = performance.now();
    return new Promise((resolve) => {
      const fail = (err: Error) => {
        this.record({ step, ms: performance.now() - t0, status: 0, url, detail: err.message, bad: true });
        resolve({ status: 0, headers: {}, body: '' });
      };
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path: url, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          const ms = performance.now() - t0;
          let buf = Buffer.concat(chunks);
          const enc = res.headers['content-encoding'];
          try {
            if (enc === 'br') buf = zlib.brotliDecompressSync(buf);
            else if (enc === 'gzip') buf = zlib.gunzipSync(buf);
          } catch (err) {
            return fail(err as Error);
          }
          const text = buf.toString('utf8');
          for (const c of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
            const [pair] = c.split(';');
            const eq = pair!.indexOf('=');
            const name = pair!.slice(0, eq).trim();
            const value = pair!.slice(eq + 1).trim();
            if (!value || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
            else this.cookies.set(name, value);
          }
          const token = /name="_csrf" value="([^"]+)"/.exec(text);
          if (token) this.csrf = token[1]!;
          const status = res.statusCode ?? 0;
          // A logged-in user sent back to the login page has lost the session: an error too.
          const lost = status >= 300 && status < 400 && /^\/login(\?|$)/.test(String(res.headers.location ?? '')) && step !== 'login';
          const detail = status >= 400 ? (/<h1[^>]*>([^<]*)/.exec(text)?.[1] ?? text.slice(0, 120)).trim() : lost ? `redirected to ${res.headers.location}` : undefined;
          this.record({ step, ms, status, url, detail, bad: status >= 400 || lost });
          resolve({ status, headers: res.headers, body: text });
        });
      });
      req.on('error', fail);
      req.setTimeout(60_000, () => req.destroy(new Error('timeout 60 s')));
      req.end(body);
    });
  }

  get(step: string, url: string, extra?: Record<string, string>) {
    return this.request(step, 'GET', url, undefined, extra);
  }

  post(step: string, url: string, fields: Record<string, string | string[]>, extra?: Record<string, string>) {
    const form = new URLSearchParams();
    form.append('_csrf', this.csrf);
    for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
    return this.request(step, 'POST', url, form, extra);
  }

  /** A browser follows the 303 of a POST with a GET of its Location. */
  async follow(res: Res, step: string, extra?: Record<string, string>): Promise<Res | null> {
    const loc = res.headers.location;
    if (res.status !== 303 || typeof loc !== 'string' || this.stopped) return null;
    return this.get(step, loc, extra);
  }
}

// ---------------------------------------------------------------------------------------
// The workload

interface Manifest {
  password: string;
  counts: Record<string, number>;
  applicants: { draft: string[]; reviewing: string[]; plain: string[] };
  reviewers: { username: string; orgId: number; orgKind: string; todo: number }[];
  editRows: Record<string, Record<string, string>[]>;
}

const SECTION_KEYS_TO_EDIT = ['work', 'educations', 'study', 'summaries', 'assessments', 'papers', 'titles', 'ce'];
const ADDABLE = ['papers', 'ce', 'main-works', 'projects', 'summaries'];

type Counters = { refused: Record<string, number>; submits: number; approvals: number };

async function applicantLoop(vu: VU, m: Manifest, hasDraft: boolean, seed: number, until: number, c: Counters) {
  const r = rng(seed);
  let draft = hasDraft;
  const ids = new Map<string, number[]>();
  const list = async (key: string, extra?: Record<string, string>) => {
    const res = await vu.get('section page', `/me/sections/${key}`, extra);
    ids.set(key, [...res.body.matchAll(/name="order" value="(\d+)"/g)].map((x) => Number(x[1])));
    return ids.get(key)!;
  };
  while (!vu.stopped && performance.now() < until) {
    const x = r.next() * (draft ? 100 : 90);
    if (x < 10) await vu.get('home', '/me');
    else if (x < 30) await list(r.pick(SECTION_KEYS_TO_EDIT));
    else if (x < 50) {
      // Edit a row: the list, the row's form, POST the changed row, back to the list.
      const key = r.pick(SECTION_KEYS_TO_EDIT);
      const rows = ids.get(key) ?? (await list(key));
      if (!rows.length || vu.stopped) continue;
      const id = r.pick(rows);
      const form = await vu.get('section form', `/me/sections/${key}/${id}/edit`);
      if (vu.stopped) break;
      const values = { ...r.pick(m.editRows[key]!) };
      // 年度 fields (one 年度考核 per year): keep the row's own year so the edit stays valid.
      const year = /name="year" type="number"[^>]*value="(\d{4})"/.exec(form.body)?.[1];
      if (year && 'year' in values) values.year = year;
      const res = await vu.post('section edit', `/me/sections/${key}/${id}`, values);
      await vu.follow(res, 'section page');
    } else if (x < 55) {
      const key = r.pick(ADDABLE);
      await vu.get('section form', `/me/sections/${key}/new`);
      if (vu.stopped) break;
      const res = await vu.post('section add', `/me/sections/${key}`, r.pick(m.editRows[key]!));
      await vu.follow(res, res.headers.location?.includes('/edit') ? 'section form' : 'section page');
      ids.delete(key);
    } else if (x < 70) {
      // Drag-sort with htmx: POST the new order of the rows shown, swap in the list it redirects to.
      const key = r.pick(['work', 'educations', 'assessments', 'study', 'papers']);
      const rows = ids.get(key) ?? (await list(key));
      if (rows.length < 2 || vu.stopped) continue;
      const order = [...rows];
      const i = r.int(0, order.length - 2);
      [order[i], order[i + 1]] = [order[i + 1]!, order[i]!];
      const hx = { 'hx-request': 'true', 'hx-current-url': `http://127.0.0.1/me/sections/${key}`, 'x-csrf-token': vu.csrf };
      const res = await vu.post('drag-sort', `/me/sections/${key}/order`, { page: '1', order: order.map(String) }, hx);
      await vu.follow(res, 'section page', hx);
      ids.set(key, order);
    } else if (x < 90) await vu.get('records', '/me/records');
    else {
      // Submit the ready draft: step 4 (readiness check, form token), POST, the done page.
      const page = await vu.get('submit page', '/me/declaration?step=4');
      const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1];
      const declId = /name="declaration_id" value="(\d+)"/.exec(page.body)?.[1];
      draft = false;
      if (!token || !declId || vu.stopped) {
        c.refused['submit page'] = (c.refused['submit page'] ?? 0) + 1;
        continue;
      }
      const res = await vu.post('submit', '/me/declaration/submit', { declaration_id: declId, token, pledge: '1' });
      if (res.status === 303 && String(res.headers.location).startsWith('/me/declaration/done')) c.submits++;
      else c.refused.submit = (c.refused.submit ?? 0) + 1;
      await vu.follow(res, 'submit done');
    }
  }
}

async function reviewerLoop(vu: VU, seed: number, until: number, c: Counters) {
  const r = rng(seed);
  while (!vu.stopped && performance.now() < until) {
    const list = await vu.get('review list', '/org/reviews?status=todo');
    const ids = [...new Set([...list.body.matchAll(/href="\/org\/reviews\/(\d+)"/g)].map((x) => x[1]!))];
    if (!ids.length || vu.stopped) {
      await vu.get('review list', '/org/reviews');
      continue;
    }
    const id = r.pick(ids);
    await vu.get('review detail', `/org/reviews/${id}`);
    if (vu.stopped || !r.chance(0.8)) continue;
    const res = await vu.post('review action', `/org/reviews/${id}/act`, { action: 'approve', opinion: '' });
    if (res.status === 303 && !String(res.headers.location).includes('#act')) c.approvals++;
    else if (res.status === 303) c.refused['review action'] = (c.refused['review action'] ?? 0) + 1;
    await vu.follow(res, 'review list');
  }
}

// ---------------------------------------------------------------------------------------
// Figures

export interface StepRow { step: string; n: number; rps: number; p50: number; p95: number; p99: number; errors: number }
export interface LevelResult {
  concurrency: number; applicants: number; reviewers: number; seconds: number;
  login: StepRow; rows: StepRow[]; total: StepRow;
  submits: number; approvals: number; refused: Record<string, number>;
  serverRssPeakMb: number; serverCpuPct: number; clientCpuPct: number;
  /** PostgreSQL's processes on this machine (0 on SQLite, whose work is inside the server). */
  dbCpuPct: number;
}
export interface LoadResult {
  date: string; cpu: string; cores: number; node: string; entry: string; dataDir: string; counts: Record<string, number>;
  loadavgBefore: number[]; loadavgAfter: number[]; levels: LevelResult[]; rssPeakMb: number; rssIdleMb: number; errors: Sample[];
  /** The mixed phases, in ms since the server was spawned (to cut a CPU profile to them). */
  windows: { from: number; to: number }[];
}

const pct = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]! : 0);
function summarize(step: string, samples: Sample[], seconds: number): StepRow {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  return { step, n: samples.length, rps: samples.length / seconds, p50: pct(ms, 0.5), p95: pct(ms, 0.95), p99: pct(ms, 0.99), errors: samples.filter((s) => s.bad).length };
}

export function formatLevel(l: LevelResult): string {
  const f = (x: StepRow) => `${x.step.padEnd(15)} ${String(x.n).padStart(8)} ${x.rps.toFixed(1).padStart(8)} ${x.p50.toFixed(0).padStart(7)} ${x.p95.toFixed(0).padStart(7)} ${x.p99.toFixed(0).padStart(7)} ${String(x.errors).padStart(7)}`;
  const refused = Object.entries(l.refused).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `concurrency ${l.concurrency} (${l.applicants} applicants, ${l.reviewers} reviewers), ${l.seconds.toFixed(1)} s mixed; server peak RSS ${l.serverRssPeakMb.toFixed(0)} MB, server CPU ${l.serverCpuPct.toFixed(0)}%, load client CPU ${l.clientCpuPct.toFixed(0)}%`,
    `step             requests    req/s  p50 ms  p95 ms  p99 ms  errors`,
    f(l.login),
    ...l.rows.map(f),
    f(l.total),
    `submitted ${l.submits}, approved ${l.approvals}${refused ? `, refused by the app (not errors): ${refused}` : ''}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------

export async function runLoad(dataDir: string, o: { steps: number[]; duration: number; cpuProfDir?: string; quiet?: boolean; env?: Record<string, string> }): Promise<LoadResult> {
  const m: Manifest = JSON.parse(fs.readFileSync(path.join(dataDir, 'bench-accounts.json'), 'utf8'));
  const say = (s: string) => { if (!o.quiet) console.log(s); };
  const loadavgBefore = os.loadavg();
  const server = await startServer(dataDir, o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : [], { env: o.env });
  say(`bench/load — ${server.entry} on 127.0.0.1:${server.port}, ${os.cpus().length} CPU cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${loadavgBefore.map((x) => x.toFixed(2)).join(' ')}`);
  say(`dataset: ${Object.entries(m.counts).map(([k, v]) => `${v} ${k}`).join(', ')}; NODE_ENV=production, RATE_LIMIT=off, LOG_LEVEL=warn`);
  const pid = server.child.pid!;
  const rssIdleMb = (treeStats(pid)?.rssKb ?? 0) / 1024;
  let rssPeak = rssIdleMb;
  const errors: Sample[] = [];
  const levels: LevelResult[] = [];
  // Drafts are submitted once: the next unused one is remembered in the data dir across runs.
  const stateFile = path.join(dataDir, 'bench-state.json');
  let draftNext = fs.existsSync(stateFile) ? Number(JSON.parse(fs.readFileSync(stateFile, 'utf8')).draftsUsed) || 0 : 0;
  const windows: { from: number; to: number }[] = [];
  try {
    for (const [li, c] of o.steps.entries()) {
      // Let the server drain the previous step: its back-pressure reading (one-second samples of
      // the event-loop delay) would otherwise turn away the next step's logins.
      if (li > 0) await new Promise((r) => setTimeout(r, 3_000));
      const reviewers = Math.max(1, Math.round(c / 4));
      const applicants = c - reviewers;
      let samples: Sample[] = [];
      const record = (s: Sample) => {
        samples.push(s);
        if (s.bad && errors.length < 200) errors.push(s);
      };
      const vus = Array.from({ length: c }, () => new VU(server.port, record));
      // Accounts: drafts are used once across the whole run (a submitted draft is gone).
      const plainPool = [...m.applicants.plain, ...m.applicants.reviewing];
      const who = vus.map((_, k) => {
        if (k < reviewers) return { kind: 'staff' as const, account: m.reviewers[k % m.reviewers.length]!.username, draft: false };
        const a = k - reviewers;
        if (a % 3 === 0 && draftNext < m.applicants.draft.length) return { kind: 'applicant' as const, account: m.applicants.draft[draftNext++]!, draft: true };
        return { kind: 'applicant' as const, account: plainPool[(li * 1000 + a) % plainPool.length]!, draft: false };
      });

      // Login, all at once: GET the form (session + CSRF), POST the password, follow to home.
      const loggedIn = await Promise.all(vus.map(async (vu, k) => {
        const w = who[k]!;
        await vu.get('login page', w.kind === 'staff' ? '/login?type=staff' : '/login');
        const res = await vu.post('login', '/login', { type: w.kind, account: w.account, password: m.password });
        const home = await vu.follow(res, w.kind === 'staff' ? 'staff home' : 'home');
        return res.status === 303 && home?.status === 200;
      }));
      const loginRow = summarize('login (argon2)', samples.filter((s) => s.step === 'login'), 1);
      loginRow.errors = loggedIn.filter((ok) => !ok).length;
      loginRow.rps = NaN;
      samples = [];

      // The mixed phase, with /proc sampled every 200 ms.
      const counters: Counters = { refused: {}, submits: 0, approvals: 0 };
      const cpu0 = treeStats(pid)?.cpuTicks ?? 0;
      const pg0 = postgresTicks();
      const client0 = process.cpuUsage();
      let peak = 0;
      const sampler = setInterval(() => {
        const st = treeStats(pid);
        if (st) peak = Math.max(peak, st.rssKb / 1024);
      }, 200);
      const t0 = performance.now();
      const until = t0 + o.duration * 1000;
      const stopTimer = setTimeout(() => vus.forEach((v) => (v.stopped = true)), o.duration * 1000 + 5_000);
      // Only users whose login went through take part (a failed login is counted on the login row).
      await Promise.all(vus.map((vu, k) => (!loggedIn[k] ? undefined : who[k]!.kind === 'staff' ? reviewerLoop(vu, 1000 * li + k, until, counters) : applicantLoop(vu, m, who[k]!.draft, 1000 * li + k, until, counters))));
      const seconds = (performance.now() - t0) / 1000;
      windows.push({ from: t0 - server.spawnedAt, to: performance.now() - server.spawnedAt });
      clearTimeout(stopTimer);
      clearInterval(sampler);
      // (No user logged in: no mixed phase, nothing to divide by.)
      const running = loggedIn.some(Boolean) && seconds > 0.5;
      const serverCpuPct = running ? (((treeStats(pid)?.cpuTicks ?? cpu0) - cpu0) / CLK_TCK / seconds) * 100 : 0;
      const dbCpuPct = running ? ((postgresTicks() - pg0) / CLK_TCK / seconds) * 100 : 0;
      const cu = process.cpuUsage(client0);
      const clientCpuPct = running ? ((cu.user + cu.system) / 1e6 / seconds) * 100 : 0;
      rssPeak = Math.max(rssPeak, peak);
      vus.forEach((v) => v.close());

      const order = ['home', 'staff home', 'section page', 'section form', 'section edit', 'section add', 'drag-sort', 'records', 'submit page', 'submit', 'submit done', 'review list', 'review detail', 'review action'];
      const steps = [...new Set(samples.map((s) => s.step))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
      const level: LevelResult = {
        concurrency: c, applicants, reviewers, seconds, login: loginRow,
        rows: steps.map((st) => summarize(st, samples.filter((s) => s.step === st), seconds)),
        total: summarize('ALL (mixed)', samples, seconds), submits: counters.submits, approvals: counters.approvals, refused: counters.refused,
        serverRssPeakMb: peak, serverCpuPct, clientCpuPct, dbCpuPct,
      };
      levels.push(level);
      say('\n' + formatLevel(level));
    }
  } finally {
    fs.writeFileSync(stateFile, JSON.stringify({ draftsUsed: draftNext }));
    await server.stop();
  }
  const loadavgAfter = os.loadavg();
  if (errors.length) {
    say(`\nerrors (first ${Math.min(errors.length, 20)} of ${errors.length} kept):`);
    for (const e of errors.slice(0, 20)) say(`  ${e.step} ${e.status} ${e.url.split('?')[0]} ${e.detail ?? ''}`);
    const serverLog = server.log.filter((l) => /"level":(50|60)/.test(l)).slice(0, 5);
    if (serverLog.length) say(`server errors logged:\n  ${serverLog.join('\n  ')}`);
  }
  say(`\nserver RSS: ${rssIdleMb.toFixed(0)} MB idle after start, ${rssPeak.toFixed(0)} MB peak; load average after ${loadavgAfter.map((x) => x.toFixed(2)).join(' ')}`);
  return {
    date: new Date().toISOString(), cpu: os.cpus()[0]?.model ?? '?', cores: os.cpus().length, node: process.version, entry: server.entry, dataDir, counts: m.counts,
    loadavgBefore, loadavgAfter, levels, rssPeakMb: rssPeak, rssIdleMb, errors, windows,
  };
}

// CLI
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  let dataDir = '';
  let steps = [8, 32, 64, 128];
  let duration = 20;
  let json = '';
  let cpuProfDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--steps') steps = argv[++i]!.split(',').map(Number).filter((n) => n > 0);
    else if (a === '--duration') duration = Number(argv[++i]);
    else if (a === '--json') json = argv[++i]!;
    else if (a === '--cpu-prof') cpuProfDir = path.resolve(argv[++i]!);
    else if (!a.startsWith('--') && !dataDir) dataDir = path.resolve(a);
    else throw new Error(`unknown argument ${a}`);
  }
  dataDir ||= path.join(os.tmpdir(), 'zhicheng-bench');
  if (!fs.existsSync(path.join(dataDir, 'bench-accounts.json'))) {
    console.error(`no bench dataset in ${dataDir}: make one with npm run bench:gen (or npm run bench)\nusage: node --import tsx bench/load.ts [DATA_DIR] [--steps 8,32,64,128] [--duration 20] [--json FILE] [--cpu-prof DIR]`);
    process.exit(2);
  }
  const result = await runLoad(dataDir, { steps, duration, cpuProfDir });
  if (json) fs.writeFileSync(json, JSON.stringify(result, null, 1));
}

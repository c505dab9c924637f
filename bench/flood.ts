/**
 * bench/flood — a signed-in user under a flood of anonymous requests (issue #19).
 *
 * The field test saw a signed-in user's /me take 12–15 s while 200 anonymous clients hammered the
 * server. Here, on the real server (bench/load.ts's startServer: NODE_ENV=production, loopback),
 * `--clients` anonymous clients (autocannon in a child process: keep-alive, no think time) request
 * GET /login for `--duration` seconds while one signed-in applicant loads /me again and again
 * (one connection, one request at a time, as a person clicking). Printed per scenario: the
 * signed-in user's p50/p95/p99 and how many of its answers were not 200; the anonymous clients'
 * requests, 2xx and 503 answers; the load average before and after.
 *
 * Scenarios, each on a freshly started server:
 *   - limits off: MAX_ANON_INFLIGHT=0, MAX_ANON_INFLIGHT_PER_IP=0, MAX_USER_INFLIGHT=0 (the code
 *     path without load shedding);
 *   - limits on (the defaults), all clients from one IP;
 *   - limits on, every client from its own IP (TRUST_PROXY=127.0.0.1 and X-Forwarded-For), so
 *     only the total limit protects the signed-in user;
 *   - with `--root DIR`: another checkout of the app (e.g. the commit before issue #19, exported
 *     with `git archive`, node_modules linked) on its own data dir (`--root-data`, generated
 *     there when missing), clients from one IP.
 * Target: the signed-in user's p95 < 1 s.
 *
 * Usage: node --import tsx bench/flood.ts [DATA_DIR] [--clients 200] [--duration 15] [--rounds 1]
 *          [--root DIR --root-data DIR --root-label TEXT] [--write bench/RESULTS.md]
 * `--rounds N` runs every scenario N times, interleaved, and pools the requests (a shared
 * machine's other work then falls on all scenarios alike).
 * DATA_DIR (default $TMPDIR/zhicheng-bench) needs bench-accounts.json (bench/gen.ts); a small
 * dataset (400 applicants) is generated there when it has none. `--write FILE` puts the section
 * "## Flood" into FILE (replacing a previous one). Internal: `--client PORT CLIENTS SECONDS one|many`.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer } from './load.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_DATA = path.join(os.tmpdir(), 'zhicheng-bench');

// ---------------------------------------------------------------------------------------
// The anonymous clients (a child process: autocannon's own CPU does not delay our timings)

interface AnonResult { requests: number; rps: number; ok2xx: number; busy503: number; other: number; errors: number; p50: number; p99: number }

async function client(port: number, connections: number, seconds: number, mode: 'one' | 'many'): Promise<AnonResult> {
  const autocannon = createRequire(import.meta.url)('autocannon') as (o: object) => Promise<any>;
  let n = 0;
  const nextIp = () => {
    n++;
    return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  };
  const statuses: Record<number, number> = {};
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    headers: { accept: 'text/html', 'accept-encoding': 'br, gzip' },
    requests: [{
      method: 'GET',
      path: '/login',
      // One IP per connection (a client), through X-Forwarded-For (the server trusts 127.0.0.1).
      setupRequest: (req: { headers?: Record<string, string> }, context: { ip?: string }) => {
        if (mode === 'one') return req;
        context.ip ??= nextIp();
        return { ...req, headers: { ...req.headers, 'x-forwarded-for': context.ip } };
      },
      onResponse: (status: number) => {
        statuses[status] = (statuses[status] ?? 0) + 1;
      },
    }],
  });
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  const ok2xx = Object.entries(statuses).filter(([s]) => s.startsWith('2')).reduce((a, [, v]) => a + v, 0);
  return {
    requests: total, rps: total / seconds, ok2xx, busy503: statuses[503] ?? 0, other: total - ok2xx - (statuses[503] ?? 0),
    errors: (r.errors ?? 0) + (r.timeouts ?? 0), p50: r.latency?.p50 ?? 0, p99: r.latency?.p99 ?? 0,
  };
}

// ---------------------------------------------------------------------------------------
// The signed-in user

interface Res { status: number; headers: http.IncomingHttpHeaders; body: string }

class User {
  private agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private cookies = new Map<string, string>();
  constructor(private port: number) {}
  close() {
    this.agent.destroy();
  }
  request(method: 'GET' | 'POST', url: string, form?: URLSearchParams): Promise<Res & { ms: number }> {
    const body = form ? Buffer.from(form.toString()) : undefined;
    const headers: Record<string, string> = { accept: 'text/html' };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) });
    const t0 = performance.now();
    return new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path: url, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          for (const c of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
            const [pair] = c.split(';');
            const eq = pair!.indexOf('=');
            const value = pair!.slice(eq + 1).trim();
            if (!value || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(pair!.slice(0, eq).trim());
            else this.cookies.set(pair!.slice(0, eq).trim(), value);
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 });
        });
        res.on('error', () => resolve({ status: 0, headers: {}, body: '', ms: performance.now() - t0 }));
      });
      req.on('error', () => resolve({ status: 0, headers: {}, body: '', ms: performance.now() - t0 }));
      req.setTimeout(60_000, () => req.destroy(new Error('timeout')));
      req.end(body);
    });
  }
  async login(account: string, password: string): Promise<boolean> {
    const page = await this.request('GET', '/login');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const res = await this.request('POST', '/login', new URLSearchParams({ _csrf: token, type: 'applicant', account, password }));
    return res.status === 303 && (await this.request('GET', '/me')).status === 200;
  }
}

// ---------------------------------------------------------------------------------------

export interface Scenario { label: string; clients: number; from: 'one IP' | 'one IP each'; env: Record<string, string>; root?: string; data?: string }
export interface FloodRow {
  scenario: Scenario; idleP50: number; n: number; p50: number; p95: number; p99: number; max: number; notOk: number; roundP95: number[];
  anon: AnonResult; loadBefore: string; loadAfter: string;
}

/** A percentile that falls on a failed answer (not the page) is shown as such. */
const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : 'failed');
const pct = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]! : 0);
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const OFF = { MAX_ANON_INFLIGHT: '0', MAX_ANON_INFLIGHT_PER_IP: '0', MAX_USER_INFLIGHT: '0', ANON_MAX_EVENT_LOOP_DELAY_MS: '0' };
/** Empty = the server's defaults (load.ts's serverEnv switches the anonymous limits off for its own workload). */
const DEFAULTS = { MAX_ANON_INFLIGHT: '', MAX_ANON_INFLIGHT_PER_IP: '', MAX_USER_INFLIGHT: '', ANON_MAX_EVENT_LOOP_DELAY_MS: '' };

export function scenarios(clients: number, o: { root?: string; rootData?: string; rootLabel?: string } = {}): Scenario[] {
  const list: Scenario[] = [];
  if (o.root) list.push({ label: o.rootLabel ?? `${path.basename(o.root)} (another checkout)`, clients, from: 'one IP', env: {}, root: o.root, data: o.rootData });
  list.push(
    { label: 'this branch, limits off (MAX_ANON_INFLIGHT=0, MAX_ANON_INFLIGHT_PER_IP=0, ANON_MAX_EVENT_LOOP_DELAY_MS=0)', clients, from: 'one IP', env: OFF },
    { label: 'this branch, limits off', clients, from: 'one IP each', env: { ...OFF, TRUST_PROXY: '127.0.0.1' } },
    { label: 'this branch, limits on (defaults)', clients, from: 'one IP', env: DEFAULTS },
    { label: 'this branch, limits on (defaults)', clients, from: 'one IP each', env: { ...DEFAULTS, TRUST_PROXY: '127.0.0.1' } },
  );
  return list;
}

/** A dataset with bench accounts in `dir`, generated by the checkout at `root` when missing. */
function ensureData(dir: string, root: string): Promise<void> {
  if (fs.existsSync(path.join(dir, 'bench-accounts.json'))) return Promise.resolve();
  console.log(`no bench dataset in ${dir}: generating a small one (400 applicants) with ${root}/bench/gen.ts`);
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'bench/gen.ts', dir, '--force', '--applicants', '400', '--declarations', '100'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench/gen exited ${code}`))));
  });
}

function runClient(port: number, s: Scenario, seconds: number): Promise<AnonResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--client', String(port), String(s.clients), String(seconds), s.from === 'one IP' ? 'one' : 'many'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b));
    c.on('exit', (code) => {
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`flood client exited ${code}: ${out.slice(-300)}`));
      else resolve(JSON.parse(line) as AnonResult);
    });
  });
}

interface Run { times: number[]; failed: number; idle: number[]; anon: AnonResult; loadBefore: string; loadAfter: string }

/** One scenario once, on a freshly started server. */
async function runOnce(s: Scenario, dataDir: string, duration: number): Promise<Run> {
  const data = s.data ?? dataDir;
  await ensureData(data, s.root ?? ROOT);
  const m = JSON.parse(fs.readFileSync(path.join(data, 'bench-accounts.json'), 'utf8')) as { password: string; applicants: { plain: string[] } };
  const loadBefore = loadavg();
  const server = await startServer(data, [], { root: s.root, env: s.env });
  try {
    const user = new User(server.port);
    if (!(await user.login(m.applicants.plain[0]!, m.password))) throw new Error(`${s.label}: the signed-in user could not log in`);
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push((await user.request('GET', '/me')).ms);
    const flood = runClient(server.port, s, duration);
    // autocannon needs a moment to open its connections; measure while they are all busy.
    await new Promise((r) => setTimeout(r, 1500));
    const until = performance.now() + (duration - 2.5) * 1000;
    const times: number[] = [];
    let failed = 0;
    while (performance.now() < until) {
      const r = await user.request('GET', '/me');
      // A 503 (or a timeout) is no page at all, however fast: it counts as slower than any page.
      if (r.status !== 200) failed++;
      times.push(r.status === 200 ? r.ms : Infinity);
    }
    const anon = await flood;
    user.close();
    return { times, failed, idle, anon, loadBefore, loadAfter: loadavg() };
  } finally {
    await server.stop();
  }
}

/**
 * Every scenario `rounds` times, interleaved (round 1 of each, then round 2…), so that the other
 * work on a shared machine spreads over all of them; percentiles over the pooled requests.
 */
export async function runFlood(dataDir: string, o: { clients: number; duration: number; rounds?: number; root?: string; rootData?: string; rootLabel?: string }): Promise<FloodRow[]> {
  const list = scenarios(o.clients, o);
  const runs: Run[][] = list.map(() => []);
  for (let round = 1; round <= (o.rounds ?? 1); round++) {
    for (const [k, s] of list.entries()) {
      const r = await runOnce(s, dataDir, o.duration);
      runs[k]!.push(r);
      const sorted = [...r.times].sort((a, b) => a - b);
      console.log(`round ${round}: ${s.label}, ${s.clients} clients from ${s.from}: signed-in /me ${r.times.length} requests, p50 ${fmt(pct(sorted, 0.5))} ms, p95 ${fmt(pct(sorted, 0.95))} ms, not 200: ${r.failed}`
        + ` | anonymous ${r.anon.requests} requests (${r.anon.rps.toFixed(0)}/s): 2xx ${r.anon.ok2xx}, 503 ${r.anon.busy503}, other ${r.anon.other}, errors ${r.anon.errors} | load ${r.loadBefore} → ${r.loadAfter}`);
      await new Promise((res) => setTimeout(res, 3000));
    }
  }
  return list.map((scenario, k) => {
    const rs = runs[k]!;
    const sorted = rs.flatMap((r) => r.times).sort((a, b) => a - b);
    const sum = (f: (a: AnonResult) => number) => rs.reduce((acc, r) => acc + f(r.anon), 0);
    const pages = sorted.filter(Number.isFinite);
    return {
      scenario, idleP50: pct(rs.flatMap((r) => r.idle).sort((a, b) => a - b), 0.5), n: sorted.length,
      p50: pct(sorted, 0.5), p95: pct(sorted, 0.95), p99: pct(sorted, 0.99), max: pages[pages.length - 1] ?? 0,
      roundP95: rs.map((r) => pct([...r.times].sort((a, b) => a - b), 0.95)),
      notOk: rs.reduce((acc, r) => acc + r.failed, 0),
      anon: {
        requests: sum((a) => a.requests), rps: sum((a) => a.rps) / rs.length, ok2xx: sum((a) => a.ok2xx), busy503: sum((a) => a.busy503),
        other: sum((a) => a.other), errors: sum((a) => a.errors), p50: 0, p99: 0,
      },
      loadBefore: rs.map((r) => r.loadBefore.split(' ')[0]).join(', '), loadAfter: rs.map((r) => r.loadAfter.split(' ')[0]).join(', '),
    };
  });
}

export function floodMarkdown(rows: FloodRow[], o: { clients: number; duration: number; rounds?: number }): string {
  const ms = fmt;
  const cpu = os.cpus();
  const rounds = o.rounds ?? 1;
  const worstOn = rows.filter((r) => r.scenario.env.MAX_ANON_INFLIGHT === '').reduce((a, r) => Math.max(a, r.p95), 0);
  return `## Flood (bench/flood.ts): signed-in users under anonymous load

Issue #19. ${o.clients} anonymous clients (autocannon in its own process: keep-alive, no think time) request \`GET /login\` for ${o.duration} s while one signed-in applicant loads \`/me\` again and again (one connection, one request at a time; measured from 1.5 s after the flood starts). Each row: ${rounds} run${rounds > 1 ? 's' : ''} on a freshly started server${rounds > 1 ? ', the scenarios interleaved, percentiles over the pooled requests' : ''}. Real server (\`src/cli.ts serve\`, NODE_ENV=production, SQLite WAL synchronous=FULL), loopback, ${cpu.length} cores (${cpu[0]?.model ?? '?'}) shared by server, flood client and other work on the machine; ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC, Node ${process.version}. Target: the signed-in user's p95 < 1 s — **${worstOn && worstOn < 1000 ? 'met' : 'missed'}** with the limits on (worst p95 ${ms(worstOn)} ms).

| code path | clients from | signed-in /me: requests | p50 ms | p95 ms | p99 ms | p95 per run | slowest page ms | not 200 | idle p50 ms | anonymous req/s | anonymous 2xx | anonymous 503 | load average (1 min) before → after each run |
|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|
${rows.map((r) => `| ${r.scenario.label} | ${r.scenario.from} | ${r.n} | ${ms(r.p50)} | **${ms(r.p95)}** | ${ms(r.p99)} | ${r.roundP95.map(ms).join(', ')} | ${ms(r.max)} | ${r.notOk} | ${ms(r.idleP50)} | ${r.anon.rps.toFixed(0)} | ${r.anon.ok2xx} | ${r.anon.busy503} | ${r.loadBefore} → ${r.loadAfter} |`).join('\n')}

"Not 200" counts the signed-in user's answers that were not the page (a back-pressure 503 of src/plugins/pressure.ts when the event loop lagged over MAX_EVENT_LOOP_DELAY_MS, which turns everyone away; a timeout): the percentiles count them as slower than any page ("failed" when a percentile falls on one); the slowest page is the slowest 200. "Idle p50" is /me before the flood. With the limits on, src/plugins/shed.ts answers anonymous requests 503 + Retry-After before any other work when over MAX_ANON_INFLIGHT (total) or MAX_ANON_INFLIGHT_PER_IP in progress, or beyond the admitted rate while the event loop lags over ANON_MAX_EVENT_LOOP_DELAY_MS; requests of a signed-in session are not counted against them.
`;
}

/** Replaces the "## Flood" section of a RESULTS.md (up to the next "## " heading), or appends it. */
export function putSection(file: string, section: string): void {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const start = text.search(/^## Flood\b/m);
  if (start < 0) {
    fs.writeFileSync(file, `${text.replace(/\n*$/, '\n')}\n${section}`);
    return;
  }
  const rest = text.slice(start + 3);
  const next = rest.search(/^## /m);
  const end = next < 0 ? text.length : start + 3 + next;
  fs.writeFileSync(file, `${text.slice(0, start)}${section}${next < 0 ? '' : `\n${text.slice(end)}`}`);
}

// CLI
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--client') {
    const r = await client(Number(argv[1]), Number(argv[2]), Number(argv[3]), argv[4] === 'many' ? 'many' : 'one');
    console.log(JSON.stringify(r));
    process.exit(0);
  }
  const o = { clients: 200, duration: 15, rounds: 1, root: undefined as string | undefined, rootData: undefined as string | undefined, rootLabel: undefined as string | undefined };
  let dataDir = '';
  let write = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--clients') o.clients = Number(argv[++i]);
    else if (a === '--duration') o.duration = Number(argv[++i]);
    else if (a === '--rounds') o.rounds = Math.max(1, Number(argv[++i]));
    else if (a === '--root') o.root = path.resolve(argv[++i]!);
    else if (a === '--root-data') o.rootData = path.resolve(argv[++i]!);
    else if (a === '--root-label') o.rootLabel = argv[++i]!;
    else if (a === '--write') write = path.resolve(argv[++i]!);
    else if (!a.startsWith('--') && !dataDir) dataDir = path.resolve(a);
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.root && !o.rootData) o.rootData = path.join(os.tmpdir(), `zhicheng-bench-${path.basename(o.root)}`);
  const rows = await runFlood(dataDir || DEFAULT_DATA, o);
  const md = floodMarkdown(rows, o);
  console.log(`\n${md}`);
  if (write) {
    putSection(write, md);
    console.log(`wrote the Flood section of ${path.relative(process.cwd(), write)}`);
  }
}

/**
 * `serve --workers 2` as a real process tree (node:cluster) on SQLite — and on PostgreSQL when
 * ZC_TEST_PG is set: both workers serve one port; concurrent writes from both keep the audit
 * chain whole; a worker killed with -9 mid-load is replaced and loses no acknowledged write;
 * SIGTERM to the primary stops them all with exit 0.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeApp, createApplicant, idNumber, type TestApp } from '../helpers/app.js';
import { startServer, HttpAgent } from '../helpers/child.js';
import { onPostgres } from '../helpers/pg.js';
import { verifyChain } from '../../src/features/audit/service.js';

const workersOf = (pid: number): number[] => {
  try {
    // Only the workers (tsx's esbuild service is a child too).
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'cli.ts'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('two workers: shared port, serial writes, a killed worker replaced without losing acknowledged writes, SIGTERM drains', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-cluster-'));
  // The people, prepared in the data folder (and database) the cluster will serve.
  const setup: TestApp = await makeApp({ dataDir: dir, uploadDir: path.join(dir, 'uploads'), ...(onPostgres ? {} : { dbFile: path.join(dir, 'zhicheng.db') }) });
  t.teardown(async () => {
    await setup.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const people: Awaited<ReturnType<typeof createApplicant>>[] = [];
  for (let i = 0; i < 24; i++) people.push(await createApplicant(setup, { name: `申报人${i}`, id: idNumber('19880101', String(100 + i)), phone: `138${String(10000000 + i)}` }));
  // Twelve clients at once from one IP: the per-IP limit of anonymous requests (8 in progress per
  // process, src/plugins/shed.ts) would rightly answer some with 503 when one worker gets most of
  // them (a slow CI run did). This test is about the workers, not the load shedding.
  const env: Record<string, string> = { DATA_DIR: dir, MAX_ANON_INFLIGHT_PER_IP: '0', ...(onPostgres ? { DATABASE_URL: setup.ctx.config.databaseUrl! } : { DB_FILE: path.join(dir, 'zhicheng.db') }) };
  const server = await startServer(t, env, 120_000, ['--workers', '2']);
  // Both workers up (the start line comes from the first one).
  for (let i = 0; i < 600 && workersOf(server.proc.pid!).length < 2; i++) await sleep(100);
  const first = workersOf(server.proc.pid!);
  t.equal(first.length, 2, 'two worker processes');
  for (let i = 0; i < 600 && (server.stdout().match(/已启动/g) ?? []).length < 2; i++) await sleep(100);

  const loginAs = async (p: (typeof people)[number]) => {
    const a = new HttpAgent(server.base);
    const page = await a.get('/login');
    // Say what came back (and what the server logged) rather than only "no _csrf field".
    if (page.status !== 200) throw new Error(`GET /login: ${a.last}\n${server.stderr().slice(-1500)}`);
    return (await a.post('/login', { type: 'applicant', account: p.phone, password: p.password })).status;
  };
  const audited = async () => Number((await setup.ctx.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'login').executeTakeFirstOrThrow()).n);

  // Concurrent logins spread over both workers: each writes a session and an audit row.
  const statuses = await Promise.all(people.slice(0, 12).map(loginAs));
  t.same(statuses, statuses.map(() => 303), 'every login answered');
  t.equal(await audited(), 12, 'one audit row per login');
  t.equal((await verifyChain(setup.ctx.db, setup.ctx.secrets.auditKey)).ok, true, 'the chain is whole');

  // Logins keep coming while one worker is killed with -9.
  let acked = 0;
  let stop = false;
  const load = (async () => {
    for (let i = 12; !stop; i = i >= 23 ? 12 : i + 1) {
      try {
        if ((await loginAs(people[i]!)) === 303) acked++;
      } catch {
        // the connection died with the worker: not acknowledged
      }
    }
  })();
  await sleep(1500);
  const victim = first[0]!;
  process.kill(victim, 'SIGKILL');
  let replaced: number[] = [];
  for (let i = 0; i < 900; i++) {
    replaced = workersOf(server.proc.pid!);
    if (replaced.length === 2 && !replaced.includes(victim)) break;
    await sleep(100);
  }
  t.equal(replaced.length, 2, 'back to two workers');
  t.notOk(replaced.includes(victim), 'the killed one was replaced');
  for (let i = 0; i < 100 && !server.stderr().includes('已退出'); i++) await sleep(100);
  t.match(server.stderr(), '已退出', 'the primary says a worker died');
  const health = await fetch(`${server.base}/health`);
  t.equal(health.status, 200, 'still serving');
  // The replacement's own start line (three in all).
  for (let i = 0; i < 900 && (server.stdout().match(/已启动/g) ?? []).length < 3; i++) await sleep(100);
  stop = true;
  await load;
  t.ok(acked > 0, `logins acknowledged during the kill: ${acked}`);
  t.ok((await audited()) >= 12 + acked, 'every acknowledged login is in the database');
  t.equal((await verifyChain(setup.ctx.db, setup.ctx.secrets.auditKey)).ok, true, 'the chain is still whole');

  server.proc.kill('SIGTERM');
  const exit = await server.exited;
  t.equal(exit.code, 0, `SIGTERM: all workers drained, exit 0 ${server.stderr().slice(-500)}`);
  t.same(workersOf(server.proc.pid!), [], 'no worker left behind');
});

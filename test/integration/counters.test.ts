// Rate-limit counters as rows (src/lib/counters.ts): one atomic upsert per hit, windows that
// restart once ended, a purge of ended rows, and shared by two apps on one database file
// (two processes behind a load balancer).
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeApp, Agent } from '../helpers/app.js';
import { hit, peek, purgeCounters, secondsUntil } from '../../src/lib/counters.js';

t.test('hit counts within a window, restarts after it; peek does not count; purge drops ended rows', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const db = app.ctx.db;
  const t0 = app.clock.now();
  const cases: [offsetMs: number, count: number, resetOffsetMs: number][] = [
    [0, 1, 60_000],
    [1_000, 2, 60_000],
    [59_999, 3, 60_000],
    [60_000, 1, 120_000], // the window ended exactly now: a new one starts
    [61_000, 2, 120_000],
  ];
  for (const [off, count, reset] of cases) {
    const r = await hit(db, 'k', 60_000, new Date(t0.getTime() + off));
    t.same([r.count, r.resetAt.getTime() - t0.getTime()], [count, reset], `hit at +${off} ms`);
  }
  t.same((await peek(db, 'k', new Date(t0.getTime() + 61_500))).count, 2, 'peek sees the count');
  t.same((await peek(db, 'k', new Date(t0.getTime() + 61_500))).count, 2, 'and does not add to it');
  t.equal((await peek(db, 'k', new Date(t0.getTime() + 120_000))).count, 0, 'an ended window reads as 0');
  t.equal((await peek(db, 'other', t0)).count, 0);
  await hit(db, 'short', 1_000, t0);
  t.equal(await purgeCounters(db, new Date(t0.getTime() + 1_000)), 1, 'the ended row goes');
  t.equal(await purgeCounters(db, new Date(t0.getTime() + 1_000)), 0);
  t.equal((await db.selectFrom('rate_counters').select('key').execute()).length, 1, 'the running window stays');
  t.equal(secondsUntil(new Date(t0.getTime() + 1_500), t0), 2);
  t.equal(secondsUntil(t0, t0), 1, 'never 0');
});

t.test('parallel hits are all counted (one statement each, no lost update)', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const now = app.clock.now();
  const results = await Promise.all(Array.from({ length: 25 }, () => hit(app.ctx.db, 'p', 60_000, now)));
  t.same(results.map((r) => r.count).sort((a, b) => a - b), Array.from({ length: 25 }, (_, i) => i + 1));
});

t.test('two apps on one database file share the counters (429 from the second app)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-counters-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const files = { dataDir: dir, dbFile: path.join(dir, 'zhicheng.db'), uploadDir: path.join(dir, 'uploads'), rateLimit: true };
  const a = await makeApp(files);
  t.teardown(() => a.close());
  const b = await makeApp(files);
  t.teardown(() => b.close());
  // One browser: its session (and CSRF secret) is a row both apps read.
  const agent = new Agent(a);
  await agent.get('/login');
  const post = (app: typeof a, i: number) => app.app.inject({
    method: 'POST', url: '/login',
    payload: new URLSearchParams({ _csrf: agent.csrf(), type: 'staff', account: `nobody${i}`, password: 'x' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: agent.cookieHeader() },
  });
  // 10 wrong logins on each app = 20 from one IP (different accounts: the IP limit is what bites).
  for (let i = 0; i < 10; i++) t.equal((await post(a, i)).statusCode, 422);
  for (let i = 10; i < 20; i++) t.equal((await post(b, i)).statusCode, 422);
  const r = await post(a, 20);
  t.equal(r.statusCode, 429, 'the 21st login from this IP, whichever process answers');
  t.ok(Number(r.headers['retry-after']) >= 1);
  t.equal(Number((await b.ctx.db.selectFrom('rate_counters').select('count').where('key', 'like', 'rl:login:/login:ip:%').executeTakeFirstOrThrow()).count), 21);
});

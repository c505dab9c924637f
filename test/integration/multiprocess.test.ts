/**
 * Two app instances on one database — two processes or machines of one site (DESIGN.md §7):
 * what one makes, the other sees; what must be serial stays serial. On SQLite the two share a
 * file (serve --workers); on PostgreSQL (ZC_TEST_PG) a database. Rate limits across instances:
 * ratelimit.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { makeApp, makeTwin, Agent, login, createApplicant, idNumber, type TestApp } from '../helpers/app.js';
import { onPostgres } from '../helpers/pg.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi } from '../helpers/world.js';
import { audit, verifyChain } from '../../src/features/audit/service.js';
import { issueCertificates } from '../../src/features/results/service.js';
import { takeLease, endLease } from '../../src/lib/jobs.js';

async function pair(t: Test, overrides = {}): Promise<[TestApp, TestApp]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-twin-'));
  const a = await makeApp({ ...(onPostgres ? {} : { dbFile: path.join(dir, 'zhicheng.db') }), ...overrides });
  const b = await makeTwin(a);
  t.teardown(async () => {
    await b.close();
    await a.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return [a, b];
}

/** The same browser talking to the other instance (a load balancer switching machines). */
function sameBrowserOn(agent: Agent, other: TestApp): Agent {
  const moved = new Agent(other);
  moved.cookies = agent.cookies;
  moved.lastHtml = agent.lastHtml;
  return moved;
}

t.test('a session signed in on one instance is signed in on the other; logout on the other ends it', async (t) => {
  const [a, b] = await pair(t);
  const zhang = await createApplicant(a, { name: '张伟' });
  const onA = new Agent(a);
  t.equal((await login(onA, 'applicant', zhang.phone)).statusCode, 303);
  const onB = sameBrowserOn(onA, b);
  const me = await onB.get('/me');
  t.equal(me.statusCode, 200);
  t.match(me.body, '张伟');
  await onB.post('/logout');
  t.equal((await onA.get('/me')).statusCode, 303, 'signed out everywhere');
});

t.test('wrong passwords counted across instances lock the account on both', async (t) => {
  const [a, b] = await pair(t);
  const li = await createApplicant(a, { name: '李娜' });
  for (const app of [a, b, a]) {
    const agent = new Agent(app);
    await agent.get('/login');
    await agent.post('/login', { type: 'applicant', account: li.phone, password: 'Wrong#2026pass' });
  }
  for (const app of [a, b]) {
    const agent = new Agent(app);
    await agent.get('/login');
    const res = await agent.post('/login', { type: 'applicant', account: li.phone, password: li.password });
    t.equal(res.statusCode, 422, 'refused');
    t.match(res.body, '账号已锁定');
  }
});

// Concurrent writes from two instances in ONE process need PostgreSQL: two SQLite connections
// in one process would wait for each other's lock on the same thread. Across processes
// (serve --workers) SQLite serialises them: test/integration/cluster.test.ts.
const concurrent = { skip: onPostgres ? false : 'two SQLite writers in one process: see cluster.test.ts' };

t.test('audit rows appended from both instances at once form one unbroken chain', concurrent, async (t) => {
  const [a, b] = await pair(t);
  const before = (await a.ctx.db.selectFrom('audit_log').select('id').execute()).length;
  await Promise.all(Array.from({ length: 30 }, (_, i) =>
    audit(i % 2 ? a.ctx : b.ctx, null, { action: 'config_change', objectType: 'test', objectId: i, detail: `第${i}次` })));
  const rows = await a.ctx.db.selectFrom('audit_log').select('id').orderBy('id').execute();
  t.equal(rows.length, before + 30);
  t.same(rows.map((r) => r.id), rows.map((_, i) => rows[0]!.id + i), 'ids without gaps');
  const v = await verifyChain(b.ctx.db, b.ctx.secrets.auditKey);
  t.equal(v.ok, true, 'the chain verifies');
});

t.test('a periodic job is taken by exactly one of the instances', async (t) => {
  const [a, b] = await pair(t);
  const now = a.clock.now();
  const got = await Promise.all([
    takeLease(a.ctx.db, 'test job', 3_600_000, now, 'process-a'),
    takeLease(b.ctx.db, 'test job', 3_600_000, now, 'process-b'),
    takeLease(a.ctx.db, 'test job', 3_600_000, now, 'process-c'),
  ]);
  t.equal(got.filter(Boolean).length, 1, 'one holder');
  const holder = ['process-a', 'process-b', 'process-c'][got.indexOf(true)]!;
  t.equal(await takeLease(b.ctx.db, 'test job', 3_600_000, now, 'process-d'), false, 'held');
  await endLease(a.ctx.db, 'test job', now, true, holder);
  t.equal(await takeLease(b.ctx.db, 'test job', 3_600_000, new Date(now.getTime() + 60_000), 'process-d'), false, 'ran a minute ago: not due');
  t.equal(await takeLease(b.ctx.db, 'test job', 3_600_000, new Date(now.getTime() + 3_600_000), 'process-d'), true, 'due an hour later');
  // A holder that died: its lease runs out and another takes the job.
  t.equal(await takeLease(a.ctx.db, 'test job', 3_600_000, new Date(now.getTime() + 3_700_000), 'process-e'), false);
  t.equal(await takeLease(a.ctx.db, 'test job', 3_600_000, new Date(now.getTime() + 3_600_000 + 31 * 60_000), 'process-e'), true, 'lease expired');
});

t.test('certificates issued on both instances at once: no gap, no duplicate', concurrent, async (t) => {
  const [a, b] = await pair(t);
  const w = await kunming(a);
  const person = await readyApplicant(a, w.unit);
  const applicant = new Agent(a);
  await login(applicant, 'applicant', person.phone);
  const mainId = await declareThroughUi(a, applicant, w, person.userId);
  await submitThroughUi(applicant, mainId);
  const src = await a.ctx.db.selectFrom('declarations').selectAll().where('id', '=', mainId).executeTakeFirstOrThrow();
  const stages = await a.ctx.db.selectFrom('declaration_stages').selectAll().where('declaration_id', '=', mainId).execute();
  const committee = w.committee;
  const plans: number[] = [];
  for (const [i, name] of ['2026年度卫生技术高级职称评审（一）', '2026年度卫生技术高级职称评审（二）'].entries()) {
    const plan = (await a.ctx.db.insertInto('plans').values({ committee_org_id: committee, year: 2026, name, levels: 'senior_vice', opens_at: '2026-01-01', closes_at: '2026-03-01', created_at: '2026-01-01T00:00:00.000Z' } as any).returning('id').executeTakeFirstOrThrow()).id;
    plans.push(plan);
    for (let k = 0; k < 6; k++) {
      const seq = String(600 + i * 10 + k);
      const u = await createApplicant(a, { name: `通过${seq}`, id: idNumber('19800101', seq), phone: `139${seq.padStart(8, '0')}` });
      const { id: _id, ...rest } = src;
      const d = await a.ctx.db.insertInto('declarations').values({ ...rest, user_id: u.userId, status: 'passed', plan_id: plan }).returning('id').executeTakeFirstOrThrow();
      await a.ctx.db.insertInto('declaration_stages').values(stages.map((s) => ({ ...s, declaration_id: d.id }))).execute();
    }
    await a.ctx.db.insertInto('evaluations').values({ plan_id: plan, meeting_date: '2026-06-01', members_expected: 9, members_present: 9, confirmed_at: '2026-06-01T02:00:00.000Z', created_at: '2026-06-01T02:00:00.000Z' }).execute();
    await a.ctx.db.insertInto('result_publicities').values({ plan_id: plan, start_date: '2026-06-02', days: 5, end_date: '2026-06-08', status: 'open', created_at: '2026-06-02T02:00:00.000Z' }).execute();
  }
  const clerk = { id: 1, orgId: committee, orgKind: 'committee' as const, roles: [], name: '孙丽' };
  const results = await Promise.all([
    issueCertificates(a.ctx, clerk, plans[0]!, '昆人社通〔2026〕90号'),
    issueCertificates(b.ctx, clerk, plans[1]!, '昆人社通〔2026〕91号'),
    issueCertificates(b.ctx, clerk, plans[0]!, '昆人社通〔2026〕90号'),
    issueCertificates(a.ctx, clerk, plans[1]!, '昆人社通〔2026〕91号'),
  ]);
  t.equal(results.filter((r) => r.ok).length, 2, 'each plan issued once; the repeat finds nothing to do');
  const certs = await a.ctx.db.selectFrom('certificates').selectAll().where('committee_org_id', '=', committee).orderBy('seq').execute();
  t.equal(certs.length, 12);
  t.same(certs.map((c) => c.seq), Array.from({ length: 12 }, (_, i) => i + 1), 'no gaps');
  t.equal(new Set(certs.map((c) => c.number)).size, 12, 'no duplicate numbers');
  t.equal(new Set(certs.map((c) => c.declaration_id)).size, 12, 'one each');
  t.equal((await verifyChain(a.ctx.db, a.ctx.secrets.auditKey)).ok, true);
});

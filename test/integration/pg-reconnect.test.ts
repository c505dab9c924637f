/**
 * PostgreSQL going away under load (issue #12: "a PostgreSQL restart mid-load loses no
 * acknowledged write and the app reconnects by itself"). The shared test server is not
 * restarted (other test files use it); instead every backend of this test's own database is
 * terminated (pg_terminate_backend — what a restart does to each connection), several times,
 * while eight signed-in applicants keep saving 工作总结 rows through a real `serve` process.
 * Checked: the process never exits; every request is answered (303 saved, or a 5xx error page —
 * never a hang, never a redirect to the login page); every acknowledged row is in the database;
 * afterwards every applicant saves again without the server being restarted, and the test's own
 * in-process pool (also cut) works too. PostgreSQL only.
 */
import t from 'tap';
import pg from 'pg';
import { makeApp, createApplicant, idNumber } from '../helpers/app.js';
import { startServer, HttpAgent } from '../helpers/child.js';
import { onPostgres, TEST_PG_URL } from '../helpers/pg.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (!onPostgres) {
  t.plan(0, 'PostgreSQL only: set ZC_TEST_PG to run (terminates the backends of its own database)');
} else {
  t.test('backends terminated mid-load: no crash, no hang, no lost acknowledged write, reconnects by itself', async (t) => {
    const setup = await makeApp();
    t.teardown(() => setup.close());
    const url = setup.ctx.config.databaseUrl!;
    const dbName = new URL(url).pathname.slice(1);
    const people = [];
    for (let i = 0; i < 8; i++) people.push(await createApplicant(setup, { name: `申报人${i}`, id: idNumber('19870101', String(300 + i)), phone: `137${String(20000000 + i)}` }));

    const server = await startServer(t, { DATA_DIR: setup.dir, DATABASE_URL: url, MAX_ANON_INFLIGHT_PER_IP: '0' }, 120_000);
    const agents: HttpAgent[] = [];
    // Each agent's form token, kept: an error page has none, and the next save reuses it.
    const tokens = new Map<HttpAgent, string>();
    for (const p of people) {
      const a = new HttpAgent(server.base);
      await a.get('/login');
      t.equal((await a.post('/login', { type: 'applicant', account: p.phone, password: p.password })).status, 303, `${p.phone} signed in`);
      await a.get('/me/sections/summaries/new');
      tokens.set(a, a.csrf());
      agents.push(a);
    }

    type Outcome = { content: string; status: number | 'hang' | 'network'; location?: string | null; error?: string };
    const outcomes: Outcome[] = [];
    const save = async (a: HttpAgent, content: string): Promise<Outcome> => {
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), 30_000)));
      try {
        const res = await Promise.race([a.post('/me/sections/summaries', { year: '2024', content }, tokens.get(a)), hang]);
        return res === 'hang' ? { content, status: 'hang' } : { content, status: res.status, location: res.location };
      } catch (err) {
        return { content, status: 'network', error: String((err as Error).cause ?? err) };
      } finally {
        clearTimeout(timer);
      }
    };

    let stop = false;
    const load = agents.map(async (a, i) => {
      for (let n = 0; !stop && server.proc.exitCode === null; n++) {
        const o = await save(a, `申报人${i}的第${n}份工作总结`);
        outcomes.push(o);
        if (o.status === 'network') await sleep(100); // a dead server: do not spin
      }
    });

    // The "restarts": every connection of this database cut, six times over ~4 s.
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    let cut = 0;
    await sleep(800);
    for (let k = 0; k < 6; k++) {
      const r = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName]);
      cut += r.rowCount ?? 0;
      await sleep(600);
    }
    await admin.end();
    await sleep(800);
    stop = true;
    await Promise.all(load);

    const acked = outcomes.filter((o) => o.status === 303 && o.location?.startsWith('/me/sections/summaries'));
    const failed = outcomes.filter((o) => typeof o.status === 'number' && o.status >= 500);
    const other = outcomes.filter((o) => !acked.includes(o) && !failed.includes(o));
    t.ok(cut > 0, `backends terminated: ${cut}`);
    t.ok(acked.length > 0, `saves acknowledged during the cuts: ${acked.length} (errors: ${failed.length})`);
    t.same(other, [], 'every request answered: saved, or an error page (no hang, no dropped connection, no sign-out)');
    t.equal(server.proc.exitCode, null, `the server is still running ${server.stderr().slice(-800)}`);

    // Every acknowledged save is there (read through the test's own pool, which was cut too).
    const rows = await setup.ctx.db.selectFrom('section_rows').select('data').where('section', '=', 'summaries').execute();
    const stored = new Set(rows.map((r) => JSON.parse(r.data).content as string));
    t.same(acked.filter((o) => !stored.has(o.content)).map((o) => o.content), [], 'no acknowledged write lost');
    t.equal(new Set(acked.map((o) => o.content)).size, acked.length);

    // And it goes on without a restart.
    const after = await Promise.all(agents.map((a, i) => save(a, `申报人${i}：恢复后的工作总结`)));
    t.same(after.map((o) => o.status), agents.map(() => 303), 'every applicant saves again');
    const health = await fetch(`${server.base}/health`);
    t.equal(health.status, 200, '/health answers');
    t.equal(server.proc.exitCode, null, 'still the same process');
  });
}

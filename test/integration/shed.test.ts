// Issue #19: under a flood of anonymous requests, signed-in users are still served; anonymous
// requests over the limits get 503 + Retry-After at once. Requests are held in progress by a
// body that has not finished arriving (the limits count from the first hook on), so nothing
// here depends on timing.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { makeApp, Agent, createApplicant, idNumber, login, type TestApp } from '../helpers/app.js';
import { BUSY_MESSAGE } from '../../src/plugins/pressure.js';
import { SESSION_COOKIE } from '../../src/plugins/session.js';

/** A request that stays in progress until `finish()`: a form body still arriving. */
function hold(app: TestApp, o: { ip: string; url?: string; cookie?: string }) {
  const full = 'type=applicant&account=13800138000&password=x';
  const body = new PassThrough();
  body.write(full.slice(0, 10));
  const response = app.app.inject({
    method: 'POST', url: o.url ?? '/login', payload: body, remoteAddress: o.ip,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(full.length), ...(o.cookie ? { cookie: o.cookie } : {}) },
  });
  let done = false;
  return {
    response,
    finish: () => {
      if (!done) body.end(full.slice(10));
      done = true;
    },
  };
}

async function until(check: () => boolean) {
  for (let i = 0; i < 10_000 && !check(); i++) await new Promise((r) => setImmediate(r));
  if (!check()) throw new Error('condition not reached');
}

const get = (app: TestApp, url: string, ip: string, headers: Record<string, string> = {}) => app.app.inject({ method: 'GET', url, remoteAddress: ip, headers });

t.test('anonymous requests over the limits get 503 + Retry-After; signed-in users still get their pages', async (t) => {
  const app = await makeApp({ maxAnonInflight: 4, maxAnonInflightPerIp: 2, maxUserInflight: 3 });
  t.teardown(() => app.close());
  const zhang = await createApplicant(app);
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  const held: ReturnType<typeof hold>[] = [];
  t.teardown(() => held.forEach((h) => h.finish()));
  // A browser whose session holds no account, only a notice for its next page.
  const noticed = new Agent(app);
  await noticed.get('/login/2fa');
  t.ok(noticed.cookies.get(SESSION_COOKIE));

  // Per IP: two anonymous requests in progress from 10.0.0.1; its third is refused, another IP is served.
  held.push(hold(app, { ip: '10.0.0.1' }), hold(app, { ip: '10.0.0.1' }));
  await until(() => app.app.shed.inflight().anonymous === 2);
  let res = await get(app, '/login', '10.0.0.1');
  t.equal(res.statusCode, 503, 'a third anonymous request from the same IP: 503');
  t.equal(res.headers['retry-after'], '10');
  t.match(res.body, BUSY_MESSAGE);
  t.match(res.headers['cache-control'], 'no-store');
  t.equal((await get(app, '/login', '10.0.0.2')).statusCode, 200, 'another IP is served');

  // In total: four anonymous requests in progress; any further one is refused, from any IP.
  held.push(hold(app, { ip: '10.0.0.3' }), hold(app, { ip: '10.0.0.4' }));
  await until(() => app.app.shed.inflight().anonymous === 4);
  const flood = await Promise.all(Array.from({ length: 200 }, (_, i) => get(app, i % 2 ? '/login' : '/register', `10.1.${i >> 8}.${i & 255}`)));
  t.ok(flood.every((r) => r.statusCode === 503 && r.headers['retry-after'] === '10'), '200 anonymous requests from 200 IPs: all 503 + Retry-After');

  // The signed-in user, in the middle of the flood, from a refused IP, gets pages and posts forms.
  const [me, more] = await Promise.all([get(app, '/me', '10.0.0.1', { cookie: a.cookieHeader() }), Promise.all(Array.from({ length: 50 }, () => get(app, '/login', '10.0.0.9')))]);
  t.equal(me.statusCode, 200, 'signed in: /me → 200');
  t.ok(more.every((r) => r.statusCode === 503));
  t.equal((await a.get('/me/sections/work/new')).statusCode, 200);
  t.equal((await a.post('/me/messages/read-all', {})).statusCode, 303, 'a signed-in POST passes');
  const hx = await get(app, '/login', '10.0.0.5', { 'hx-request': 'true' });
  t.equal(hx.statusCode, 503);
  t.equal(hx.body, BUSY_MESSAGE, 'htmx gets the sentence');
  // Another system calling /api/v1 is turned away in the API's own JSON, not with the page.
  const api = await get(app, '/api/v1/plans', '10.0.0.5', { authorization: 'Bearer zc_x' });
  t.equal(api.statusCode, 503);
  t.match(api.headers['content-type'], 'application/json');
  t.same(JSON.parse(api.body), { error: { code: 'busy', message: BUSY_MESSAGE } }, 'the API gets JSON');
  t.equal(api.headers['retry-after'], '10');
  t.equal((await get(app, '/health', '10.0.0.5')).statusCode, 200, '/health always answers');

  // A session cookie without an account (a notice waiting) or a forged one is anonymous too.
  t.equal((await app.app.inject({ method: 'GET', url: '/login', cookies: { [SESSION_COOKIE]: noticed.cookies.get(SESSION_COOKIE)! }, remoteAddress: '10.0.0.6' })).statusCode, 503, 'a session without an account: anonymous');
  t.equal((await app.app.inject({ method: 'GET', url: '/me', cookies: { [SESSION_COOKIE]: 'forged.signature' }, remoteAddress: '10.0.0.6' })).statusCode, 503, 'a forged cookie: anonymous');

  // The flood ends: anonymous visitors are served again.
  const ended = held.splice(0);
  ended.forEach((h) => h.finish());
  t.ok((await Promise.all(ended.map((h) => h.response))).every((r) => r.statusCode === 403), 'the held requests got their answers (no token: 403)');
  await until(() => app.app.shed.inflight().anonymous === 0);
  t.equal((await get(app, '/login', '10.0.0.1')).statusCode, 200, 'served once the requests in progress are done');
  t.equal(app.app.shed.inflight().anonymous, 0, 'nothing left counted');
});

t.test('one signed-in account cannot flood either; the limits can be switched off', async (t) => {
  const app = await makeApp({ maxAnonInflight: 4, maxAnonInflightPerIp: 2, maxUserInflight: 3 });
  t.teardown(() => app.close());
  const zhang = await createApplicant(app);
  const wang = await createApplicant(app, { name: '王芳', id: idNumber('19920101', '222'), phone: '13900139000' });
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  const b = new Agent(app);
  await login(b, 'applicant', wang.phone);
  const held = [1, 2, 3].map(() => hold(app, { ip: '10.0.0.1', url: '/me/messages/read-all', cookie: a.cookieHeader() }));
  t.teardown(() => held.forEach((h) => h.finish()));
  await until(() => app.app.shed.inflight().users === 3);
  t.equal((await a.get('/me')).statusCode, 503, '张伟\'s fourth request at once: 503');
  t.equal((await b.get('/me')).statusCode, 200, '王芳 is served');
  t.equal((await get(app, '/login', '10.0.0.1')).statusCode, 200, 'anonymous visitors are not counted against a user');
  held.forEach((h) => h.finish());
  await until(() => app.app.shed.inflight().users === 0);
  t.equal((await a.get('/me')).statusCode, 200);

  // (A per-account limit keeps the counting on, so the held requests are seen in progress.)
  const open = await makeApp({ maxAnonInflight: 0, maxAnonInflightPerIp: 0, maxUserInflight: 3 });
  t.teardown(() => open.close());
  const many = Array.from({ length: 20 }, () => hold(open, { ip: '10.0.0.1' }));
  t.teardown(() => many.forEach((h) => h.finish()));
  await until(() => open.app.shed.inflight().anonymous === 20);
  t.equal((await get(open, '/login', '10.0.0.1')).statusCode, 200, 'MAX_ANON_INFLIGHT=0 and MAX_ANON_INFLIGHT_PER_IP=0: no limit');
});

t.test('a lagging event loop: anonymous requests beyond what the server keeps up with get 503, signed-in ones pass', async (t) => {
  // Only the lag rule here (the in-progress limits off).
  const app = await makeApp({ maxAnonInflight: 0, maxAnonInflightPerIp: 0, maxUserInflight: 0, anonMaxEventLoopDelayMs: 100 });
  t.teardown(() => app.close());
  const zhang = await createApplicant(app);
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  t.equal((await get(app, '/login', '10.0.0.1')).statusCode, 200, 'served');

  // What a flood does to the loop: 300 ms of work every 10 ms.
  const block = setInterval(() => {
    const end = Date.now() + 300;
    while (Date.now() < end) {
      /* busy on purpose */
    }
  }, 10);
  t.teardown(() => clearInterval(block));
  const waitFor = async (check: () => boolean) => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
    if (!check()) throw new Error('condition not reached');
  };
  await waitFor(() => app.app.shed.inflight().anonymousPerSecond < Infinity);
  const burst = await Promise.all(Array.from({ length: 100 }, (_, i) => get(app, i % 2 ? '/login' : '/register', `10.2.0.${i}`)));
  const refused = burst.filter((r) => r.statusCode === 503);
  t.ok(refused.length >= 50, `${refused.length} of 100 anonymous requests refused at once`);
  t.ok(refused.every((r) => r.headers['retry-after'] === '10' && r.body.includes(BUSY_MESSAGE)), 'with Retry-After and the busy page');
  t.ok(burst.every((r) => r.statusCode === 200 || r.statusCode === 503), 'the others served');
  const me = await Promise.all([1, 2, 3].map(() => get(app, '/me', '10.0.0.1', { cookie: a.cookieHeader() })));
  t.same(me.map((r) => r.statusCode), [200, 200, 200], 'signed in: served all the same');

  // The loop keeps up again: the limit grows back and goes (test/unit/lib/admission.test.ts has the numbers).
  clearInterval(block);
  await waitFor(() => app.app.shed.inflight().anonymousPerSecond === Infinity);
  t.equal((await get(app, '/login', '10.0.0.1')).statusCode, 200, 'served again');
});

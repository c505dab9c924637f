import t from 'tap';
import { sql } from 'kysely';
import { listTables } from '../../src/db/index.js';
import { makeApp, Agent, login, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, makePng } from '../helpers/world.js';
import { multipart } from '../helpers/unitstage.js';

const UNSAFE = ['POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Flattens printRoutes()'s tree ("├── /new (GET, HEAD, POST)") into (method, path) pairs:
 * every line is a segment appended to its parent's path, four columns per level.
 */
export function routeTable(app: TestApp): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of app.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│]*)[├└]── (.*?) \(([A-Z, ]+)\)\s*$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = path;
    for (const method of m[3]!.split(',').map((s) => s.trim())) out.push({ method, url: path });
  }
  return out;
}

const PARAMS: Record<string, string> = { key: 'papers', date: '2026-10-01', year: '2026', dict: 'ethnic', code: 'x1', token: 'abc', slot: 'license' };
/** The query an upload route needs to reach its body (an upload to the applicant's own photo slot). */
const QUERY: Record<string, string> = { '/me/attachments': 'owner=profile&slot=avatar' };
const concrete = (url: string) => url.replace(/:(\w+)/g, (_, p: string) => PARAMS[p] ?? '1') + (QUERY[url] ? `?${QUERY[url]}` : '');

/**
 * Routes in the plugin scopes that register @fastify/multipart (files, units, unitstage):
 * every route of those scopes parses a multipart body, so the CSRF check is what refuses it.
 */
const MULTIPART_SCOPES = [
  '/me/attachments', '/units/register', '/org/unit', '/org/people', '/org/recommend', '/org/publicity',
  // #13 (evidence, supplements), #14 (recognition files), #17 (import files): each feature's own multipart scope.
  '/org/integrity', '/org/sanctions', '/me/supplements', '/org/reviews/:id/supplements', '/org/recognitions', '/admin/exchange',
  // #17 转评委会: the signed archive's import.
  '/org/transfers',
  // #13 certificate services (scans), notices (attachments).
  '/me/cert-services', '/org/notices/:id/files',
];
const MULTIPART = { has: (url: string) => MULTIPART_SCOPES.some((p) => url === p || url.startsWith(`${p}/`) || url.startsWith(`${p}-`)) };
/** Reachable without signing in. */
const PUBLIC = ['/login', '/login/2fa', '/register', '/register/sms', '/forgot', '/forgot/sms', '/forgot/staff', '/forgot/staff/sms', '/forgot/staff/unit', '/unlock', '/unlock/sms', '/units/register', '/setup/:token'];

const cookieOf = (a: Agent) => [...a.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

/** A CSRF token in a URL: a redirect (Location, HX-*), a link, a form action — anywhere in the answer. */
export function tokenInUrl(r: { headers: Record<string, unknown>; body: string }): boolean {
  const headers = Object.entries(r.headers).filter(([k]) => k === 'location' || k.startsWith('hx-')).map(([, v]) => String(v));
  return [...headers, r.body].some((s) => /[?&](?:amp;)?_csrf=|_csrf%3D/i.test(s));
}

async function counts(app: TestApp): Promise<Record<string, number>> {
  // Sessions and job leases change on their own (a session touch, the periodic jobs' ticks).
  const tables = (await listTables(app.ctx.db)).filter((n) => n !== 'sessions' && n !== 'job_runs');
  const out: Record<string, number> = {};
  for (const name of tables) {
    const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(name)}`.execute(app.ctx.db);
    out[name] = r.rows[0]!.n;
  }
  return out;
}

t.test('every state-changing route refuses a request without a valid CSRF token', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await readyApplicant(app, w.unit);

  const applicant = new Agent(app);
  t.equal((await login(applicant, 'applicant', zhang.phone)).statusCode, 303);
  await applicant.get('/me/profile');
  const staff = new Agent(app);
  t.equal((await login(staff, 'staff', w.staff.unit)).statusCode, 303);
  await staff.get('/org/unit');
  const committee = new Agent(app);
  t.equal((await login(committee, 'staff', w.staff.committee)).statusCode, 303);
  await committee.get('/org/notices/new');
  const anon = new Agent(app);
  await anon.get('/login');
  // A genuine token, but of another session.
  const foreign = new Agent(app);
  await foreign.get('/register');
  const foreignToken = foreign.csrf();
  t.ok(applicant.csrf() !== foreignToken);

  const routes = routeTable(app).filter((r) => UNSAFE.includes(r.method));
  t.ok(routes.length >= 65, `found ${routes.length} state-changing routes`);
  t.comment(`checked:\n${routes.map((r) => `${r.method} ${r.url}${MULTIPART.has(r.url) ? ' (multipart)' : ''}`).join('\n')}`);
  // The token API (/api/v1, issue #17) reads no session and no CSRF token: it must stay GET only.
  t.same(routes.filter((r) => r.url.startsWith('/api/')), [], 'no state-changing route under /api');
  t.ok(routeTable(app).some((r) => r.method === 'GET' && r.url === '/api/v1/plans/:id/results'), 'the API routes are in the table (their GETs are checked below)');
  // The table really is parsed: a few known routes are in it.
  for (const u of ['/logout', '/me/sections/:key/:id/delete', '/org/reviews/:id/act', '/admin/dicts/:dict/items/:code', '/org/unit-stage/:id/verify']) {
    t.ok(routes.some((r) => r.url === u), `route table has ${u}`);
  }

  const before = await counts(app);
  const form = { name: '张伟', title: '标题', body: '内容', opinion: '同意', action: 'approve', ids: '1', account: zhang.phone, password: 'x' };
  const urlencoded = (f: Record<string, string>) => new URLSearchParams(f).toString();

  for (const { method, url } of routes) {
    const target = concrete(url);
    for (const [who, agent] of [['applicant', applicant], ['unit staff', staff], ['committee staff', committee]] as const) {
      const send = (payload: string | Buffer, contentType: string, headers: Record<string, string> = {}, query = '') =>
        app.app.inject({ method: method as 'POST', url: target + (query && target.includes('?') ? `&${query.slice(1)}` : query), payload, headers: { 'content-type': contentType, cookie: cookieOf(agent), ...headers } });
      let r = await send(urlencoded(form), 'application/x-www-form-urlencoded');
      t.equal(r.statusCode, 403, `${who}: ${method} ${url} without token → 403`);
      r = await send(urlencoded({ ...form, _csrf: foreignToken }), 'application/x-www-form-urlencoded');
      t.equal(r.statusCode, 403, `${who}: ${method} ${url} with another session's token → 403`);
      r = await send(urlencoded(form), 'application/x-www-form-urlencoded', { 'x-csrf-token': foreignToken, 'hx-request': 'true' });
      t.equal(r.statusCode, 403, `${who}: ${method} ${url} htmx header with another session's token → 403`);
      const mp = multipart(Object.entries(form), [{ name: 'file', filename: 'a.png', type: 'image/png', data: makePng(20, 20) }]);
      r = await send(mp.payload, mp.contentType);
      // Outside the multipart scopes there is no parser for it at all: 415 before anything runs.
      t.equal(r.statusCode, MULTIPART.has(url) ? 403 : 415, `${who}: ${method} ${url} multipart without token`);
      if (MULTIPART.has(url)) {
        // A token in the URL is never read, not even the session's own.
        r = await send(mp.payload, mp.contentType, {}, `?_csrf=${encodeURIComponent(foreignToken)}`);
        t.equal(r.statusCode, 403, `${who}: ${method} ${url} multipart with another session's token in the URL → 403`);
        r = await send(mp.payload, mp.contentType, {}, `?_csrf=${encodeURIComponent(agent.csrf())}`);
        t.equal(r.statusCode, 403, `${who}: ${method} ${url} multipart with its own token in the URL → 403`);
        // As the first field: another session's token is refused.
        const forged = multipart([['_csrf', foreignToken], ...Object.entries(form)], [{ name: 'file', filename: 'a.png', type: 'image/png', data: makePng(20, 20) }]);
        r = await send(forged.payload, forged.contentType);
        t.equal(r.statusCode, 403, `${who}: ${method} ${url} multipart with another session's token as its first field → 403`);
      }
    }
  }

  for (const url of PUBLIC) {
    const target = concrete(url);
    const r = await app.app.inject({ method: 'POST', url: target, payload: urlencoded(form), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieOf(anon) } });
    t.equal(r.statusCode, 403, `anonymous: POST ${url} without token → 403`);
    const bare = await app.app.inject({ method: 'POST', url: target, payload: urlencoded(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    t.equal(bare.statusCode, 403, `no cookie at all: POST ${url} → 403`);
    const other = await app.app.inject({ method: 'POST', url: target, payload: urlencoded({ ...form, _csrf: foreignToken }), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieOf(anon) } });
    t.equal(other.statusCode, 403, `anonymous: POST ${url} with another session's token → 403`);
  }

  t.same(await counts(app), before, 'no table changed');

  // GETs (confirmation pages such as …/delete, …/disable) never change anything either.
  // …and none of them redirects to, links or posts to a URL with a CSRF token in it.
  const gets = routeTable(app).filter((r) => r.method === 'GET' && !r.url.includes('*'));
  const leaks: string[] = [];
  for (const { url } of gets) {
    for (const agent of [applicant, staff, committee, anon]) {
      const r = await agent.get(concrete(url));
      if (tokenInUrl(r)) leaks.push(`GET ${url}`);
    }
  }
  t.same(leaks, [], 'no GET answer carries a token in a URL');
  // Except the audit log (downloads and exports are recorded on purpose) and the image code of
  // 获取验证码: fetching /sms/captcha.png draws a new one and stores its hashed answer.
  const { audit_log: _a, sms_challenges: _c, ...afterGets } = await counts(app);
  const { audit_log: _b, sms_challenges: _d, ...beforeGets } = before;
  void _a; void _b; void _c; void _d;
  t.same(afterGets, beforeGets, `${gets.length} GET routes × 4 visitors: no table changed (audit_log and sms_challenges aside)`);
  // Still signed in, and a request with the right token works (the check is not just refusing everything).
  await applicant.get('/me/messages');
  const ok = await applicant.post('/me/messages/read-all', {});
  t.equal(ok.statusCode, 303, 'the same request with its own token passes');
});

t.test('uploads: no token in any URL — the forms, every answer and the page it leads to (JS off and htmx)', async (t) => {
  const app = await makeApp({ uploadMaxFileBytes: 1024 * 1024 });
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await readyApplicant(app, w.unit);
  const applicant = new Agent(app);
  await login(applicant, 'applicant', zhang.phone);
  const staff = new Agent(app);
  await login(staff, 'staff', w.staff.unit);
  const anon = new Agent(app);
  const row = await app.ctx.db.selectFrom('section_rows').select('id').where('user_id', '=', zhang.userId).where('section', '=', 'titles').executeTakeFirstOrThrow();
  await applicant.get('/me/declaration');
  const dicts = await app.ctx.dicts.ready();
  const title = dicts.options('titles').find((o) => o.name.includes('副主任医师'))!.name;
  await applicant.post('/me/declaration/cover', { plan_id: String(w.plan), level: 'senior_vice', title, specialty: '心血管内科', category: 'normal' });

  // Every page with an upload form: the token is a hidden field, never in the action.
  const pages: [Agent, string][] = [
    [applicant, '/me/profile'], [applicant, `/me/sections/titles/${row.id}/edit`], [applicant, '/me/attachments'], [applicant, '/me/declaration?step=3'],
    [anon, '/units/register'], [staff, '/org/unit'], [staff, '/org/people/import'], [staff, '/org/recommend'],
  ];
  for (const [agent, url] of pages) {
    const page = await agent.get(url);
    t.equal(page.statusCode, 200, url);
    const forms = [...page.body.matchAll(/<form[^>]*enctype="multipart\/form-data"[^>]*>\s*(<input[^>]*>)?/g)];
    t.ok(forms.length > 0, `${url}: has an upload form`);
    for (const f of forms) t.match(f[1] ?? '', /^<input type="hidden" name="_csrf" value="[^"]+">$/, `${url}: the token is the form's first field`);
    t.notOk(tokenInUrl(page), `${url}: no token in a URL`);
  }

  // Uploads that succeed and that are refused, without JS (token first) and with htmx (header).
  const slot = `owner=row&id=${row.id}&slot=certificate&back=${encodeURIComponent(`/me/sections/titles/${row.id}/edit`)}`;
  const files: [string, Buffer][] = [
    ['ok.png', makePng(40, 40)],
    ['big.png', Buffer.concat([makePng(40, 40), Buffer.alloc(1024 * 1024 + 10, 0x20)])],
    ['far.png', Buffer.concat([makePng(40, 40), Buffer.alloc(5 * 1024 * 1024, 0x20)])],
    ['text.png', Buffer.from('not an image')],
  ];
  for (const htmx of [false, true]) {
    for (const [name, data] of files) {
      await applicant.get(`/me/sections/titles/${row.id}/edit`);
      const token = applicant.csrf();
      const body = multipart(htmx ? [] : [['_csrf', token]], [{ name: 'file', filename: name, type: 'image/png', data }]);
      const headers: Record<string, string> = { 'content-type': body.contentType, cookie: cookieOf(applicant), ...(htmx ? { 'x-csrf-token': token, 'hx-request': 'true', 'hx-boosted': 'true' } : {}) };
      const r = await app.app.inject({ method: 'POST', url: `/me/attachments?${slot}`, payload: body.payload, headers });
      const what = `${htmx ? 'htmx' : 'no-JS'} ${name}`;
      t.equal(r.statusCode, 303, `${what}: back to the page`);
      t.notOk(tokenInUrl(r), `${what}: no token in the answer`);
      const next = await applicant.get(String(r.headers.location).split('#')[0]!);
      t.equal(next.statusCode, 200);
      t.notOk(tokenInUrl(next), `${what}: nor in the page it leads to`);
      if (name !== 'ok.png') t.match(next.body, /<small class="err" id="att-row-\d+-certificate-err" role="alert">[^<]+<\/small>/, `${what}: the message at the slot`);
    }
  }
});

// Issue #19: a form posted after its session ended is kept, tied to the browser and to the
// account that typed it, and given back — once — on its page after the next login.
import t from 'tap';
import { makeApp, Agent, createApplicant, idNumber, login, PASSWORD, type TestApp } from '../helpers/app.js';
import { validForm } from '../helpers/sections.js';
import { multipart } from '../helpers/files.js';
import { sectionByKey } from '../../src/domain/sections.js';
import { SESSION_COOKIE } from '../../src/plugins/session.js';
import { PENDING_COOKIE, PENDING_TTL_MS, purgePending } from '../../src/features/pending/service.js';
import { EXPIRED_NOTICE, RESTORED_TEXT, SAVED_NOTICE, UPLOAD_NOTICE } from '../../src/plugins/pending.js';

const WORK = sectionByKey('work')!;
const pendingRows = (app: TestApp) => app.ctx.db.selectFrom('pending_forms').selectAll().execute();
const workRows = (app: TestApp) => app.ctx.db.selectFrom('section_rows').select(['id', 'data']).where('section', '=', 'work').orderBy('id').execute();
const valueOf = (html: string, name: string) => new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(html)?.[1];

async function signedIn(app: TestApp, o: { name?: string; phone?: string; id?: string } = {}) {
  const p = await createApplicant(app, o);
  const a = new Agent(app);
  if ((await login(a, 'applicant', p.phone)).statusCode !== 303) throw new Error('login failed');
  return { a, p };
}

/** What a user whose session ended does next: the login page the redirect leads to, then the password. */
async function loginAgain(a: Agent, res: { headers: Record<string, unknown> }, phone: string) {
  const page = await a.get(String(res.headers.location));
  const next = /name="next" value="([^"]*)"/.exec(page.body)?.[1];
  const back = await a.post('/login', { type: 'applicant', account: phone, password: PASSWORD, ...(next ? { next: next.replace(/&#x2F;/g, '/') } : {}) });
  return { page, back };
}

t.test('a section row typed before the session ended comes back after login (plain form)', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const { a, p } = await signedIn(app);
  await a.get('/me/sections/work/new');
  const typed: Record<string, string> = { ...(await validForm(app, WORK)), unit_name: '昆明市第一人民医院信息科', duty: '张伟的职务：科长' };
  a.cookies.delete(SESSION_COOKIE); // the session is gone (deleted cookie, server restart, another browser tab's logout)

  const res = await a.post('/me/sections/work', typed);
  t.equal(res.statusCode, 303, 'not a 403 page');
  t.equal(res.headers.location, '/login?next=%2Fme%2Fsections%2Fwork%2Fnew');
  t.same(await workRows(app), [], 'nothing saved without a session');
  const kept = await pendingRows(app);
  t.equal(kept.length, 1, 'the form is kept server-side');
  t.notOk(kept[0]!.body.includes('_csrf'), 'without the CSRF token');
  t.match(kept[0]!.owner_tag, /^[A-Za-z0-9_]{43}$/, 'the owner is a keyed hash, not the user id');
  t.not(kept[0]!.owner_tag, String(p.userId));
  t.ok(a.cookies.get(PENDING_COOKIE), 'the browser holds the key');
  const cookie = res.cookies.find((c: { name: string }) => c.name === PENDING_COOKIE) as { httpOnly?: boolean; sameSite?: string; maxAge?: number };
  t.ok(cookie.httpOnly, 'HttpOnly');
  t.equal(cookie.sameSite, 'Lax');
  t.equal(cookie.maxAge, PENDING_TTL_MS / 1000);
  t.notOk(kept[0]!.key_hash === a.cookies.get(PENDING_COOKIE), 'only a hash of the key is stored');

  const { page, back } = await loginAgain(a, res, p.phone);
  t.match(page.body, SAVED_NOTICE, 'the login page says the text is kept');
  t.equal(back.statusCode, 303);
  t.equal(back.headers.location, '/me/sections/work/new', 'back to the form');
  const form = await a.get('/me/sections/work/new');
  t.equal(form.statusCode, 200);
  t.match(form.body, RESTORED_TEXT);
  t.equal(valueOf(form.body, 'unit_name'), typed.unit_name, 'typed text is back');
  t.equal(valueOf(form.body, 'duty'), typed.duty);
  t.equal(valueOf(form.body, 'witness'), typed.witness);
  t.match(form.body, new RegExp(`<option value="${typed.specialty}" selected`), 'the chosen 从事专业 too');
  t.same(await pendingRows(app), [], 'given back once, then deleted');
  t.notOk(a.cookies.get(PENDING_COOKIE), 'and the key cookie cleared');
  const again = await a.get('/me/sections/work/new');
  t.equal(valueOf(again.body, 'unit_name'), '', 'not a second time');

  // Saving it now works as usual.
  const saved = await a.post('/me/sections/work', typed);
  t.equal(saved.statusCode, 303);
  t.equal(JSON.parse((await workRows(app))[0]!.data).unit_name, typed.unit_name);
});

t.test('an edit with htmx, and an idle-expired session: HX-Redirect to the login page, then the edit page', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const { a, p } = await signedIn(app);
  await a.get('/me/sections/work/new');
  t.equal((await a.post('/me/sections/work', await validForm(app, WORK))).statusCode, 303);
  const id = (await workRows(app))[0]!.id;
  await a.get(`/me/sections/work/${id}/edit`, { 'hx-request': 'true' });
  const token = a.csrf();
  app.clock.advance(31 * 60_000); // idle timeout: the session is over (the cookie is still sent)

  const changed = { ...(await validForm(app, WORK)), unit_name: '云南省第二人民医院（修改后）' };
  const res = await a.post(`/me/sections/work/${id}`, changed, { headers: { 'hx-request': 'true', 'hx-boosted': 'true', 'x-csrf-token': token } });
  t.equal(res.statusCode, 200, 'htmx gets no error page to swap in');
  t.equal(res.headers['hx-redirect'], `/login?next=%2Fme%2Fsections%2Fwork%2F${id}%2Fedit`, 'a full navigation to the login page');
  t.equal(res.body, '');
  t.equal(JSON.parse((await workRows(app))[0]!.data).unit_name, (await validForm(app, WORK)).unit_name, 'nothing changed');

  const { page, back } = await loginAgain(a, { headers: { location: res.headers['hx-redirect'] } }, p.phone);
  t.match(page.body, SAVED_NOTICE);
  t.equal(back.headers.location, `/me/sections/work/${id}/edit`);
  const form = await a.get(`/me/sections/work/${id}/edit`);
  t.equal(valueOf(form.body, 'unit_name'), changed.unit_name, 'the edit is back on the edit page');
  t.match(form.body, RESTORED_TEXT);
});

t.test('never to another account: 王芳 signing in on that browser does not get 张伟\'s text', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const { a, p } = await signedIn(app);
  const wang = await createApplicant(app, { name: '王芳', id: idNumber('19920101', '222'), phone: '13900139000' });
  await a.get('/me/sections/work/new');
  a.cookies.delete(SESSION_COOKIE);
  const res = await a.post('/me/sections/work', { ...(await validForm(app, WORK)), unit_name: '张伟的秘密单位' });
  t.equal((await pendingRows(app)).length, 1);

  const page = await a.get(String(res.headers.location));
  t.match(page.body, SAVED_NOTICE);
  const back = await a.post('/login', { type: 'applicant', account: wang.phone, password: PASSWORD, next: '/me/sections/work/new' });
  t.equal(back.statusCode, 303);
  t.same(await pendingRows(app), [], 'discarded at 王芳\'s login');
  const form = await a.get('/me/sections/work/new');
  t.notMatch(form.body, '张伟的秘密单位');
  t.notMatch(form.body, RESTORED_TEXT);
  void p;
});

t.test('another account opening the page before the owner logs in does not get it either', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const { a, p } = await signedIn(app);
  await a.get('/me/sections/work/new');
  a.cookies.delete(SESSION_COOKIE);
  await a.post('/me/sections/work', { ...(await validForm(app, WORK)), unit_name: '张伟的单位' });
  // Someone else's session cookie in the same browser (e.g. they signed in in another tab).
  const wang = await signedIn(app, { name: '王芳', id: idNumber('19920101', '222'), phone: '13900139000' });
  a.cookies.set(SESSION_COOKIE, wang.a.cookies.get(SESSION_COOKIE)!);
  const form = await a.get('/me/sections/work/new');
  t.equal(form.statusCode, 200);
  t.notMatch(form.body, '张伟的单位');
  t.same(await pendingRows(app), [], 'discarded');
  void p;
});

t.test('the profile comes back too; a kept form expires after two hours', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const { a, p } = await signedIn(app);
  await a.get('/me/profile');
  a.cookies.delete(SESSION_COOKIE);
  const res = await a.post('/me/profile', { name: '张伟', native_place: '云南大理', email: 'zhangwei@example.cn', address: '昆明市盘龙区北京路100号' });
  t.equal(res.headers.location, '/login?next=%2Fme%2Fprofile');
  const { back } = await loginAgain(a, res, p.phone);
  t.equal(back.headers.location, '/me/profile');
  const page = await a.get('/me/profile');
  t.match(page.body, RESTORED_TEXT);
  t.equal(valueOf(page.body, 'native_place'), '云南大理');
  t.equal(valueOf(page.body, 'email'), 'zhangwei@example.cn');
  t.equal((await app.ctx.db.selectFrom('profiles').select('user_id').execute()).length, 0, 'not saved until the user saves it');

  // Two hours later the kept form is gone: the login goes home, the purge removes the row.
  await a.get('/me/profile');
  a.cookies.delete(SESSION_COOKIE);
  const late = await a.post('/me/profile', { name: '张伟', native_place: '云南丽江' });
  app.clock.advance(PENDING_TTL_MS + 60_000);
  const { page: loginPage, back: home } = await loginAgain(a, late, p.phone);
  t.notMatch(loginPage.body, SAVED_NOTICE, 'not announced once expired');
  t.equal(home.headers.location, '/me/profile', 'to the page it came from (next)');
  t.notMatch((await a.get('/me/profile')).body, '云南丽江', 'not restored after expiry');
  await a.get('/me/sections/work/new');
  a.cookies.delete(SESSION_COOKIE);
  await a.post('/me/sections/work', await validForm(app, WORK));
  app.clock.advance(PENDING_TTL_MS + 1);
  t.ok((await purgePending(app.ctx)) >= 1, 'expired rows purged');
  t.same(await pendingRows(app), []);
});

t.test('what is not kept: other POSTs, uploads, anonymous and forged posts', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const { a, p } = await signedIn(app);

  // A POST without a form to restore (mark all read): to the login page, back to where it was.
  await a.get('/me/messages');
  a.cookies.delete(SESSION_COOKIE);
  let res = await a.post('/me/messages/read-all', {}, { headers: { referer: 'http://localhost/me/messages' } });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/login?next=%2Fme%2Fmessages&expired=1');
  t.match((await a.get(String(res.headers.location))).body, EXPIRED_NOTICE);
  t.same(await pendingRows(app), []);

  // An upload (multipart) is not kept, and the login page says so.
  await login(a, 'applicant', p.phone);
  await a.get('/me/sections/work/new');
  const token = a.csrf();
  a.cookies.delete(SESSION_COOKIE);
  const mp = await multipart('x.png', Buffer.from('not really a png'), 'image/png', 'file', { csrf: token });
  res = await app.app.inject({
    method: 'POST', url: '/me/attachments?owner=row&id=1&slot=contract&back=%2Fme%2Fsections%2Fwork',
    payload: mp.payload, headers: { 'content-type': mp.contentType, cookie: a.cookieHeader(), referer: 'http://localhost/me/sections/work/1/edit' },
  });
  t.equal(res.statusCode, 303);
  t.match(String(res.headers.location), /^\/login\?next=%2Fme%2Fsections%2Fwork%2F1%2Fedit&expired=upload$/);
  t.match((await a.get(String(res.headers.location))).body, UPLOAD_NOTICE);
  t.same(await pendingRows(app), []);

  // No token, an anonymous page's token, a forged one, another browser's: the usual 403, nothing kept.
  const anon = new Agent(app);
  await anon.get('/login');
  const anonToken = anon.csrf();
  for (const [what, csrf] of [['no token', null], ['forged', 'x'.repeat(43) + '-abcdefgh-' + 'y'.repeat(43)]] as const) {
    const r = await anon.post('/me/sections/work', await validForm(app, WORK), { csrf });
    t.equal(r.statusCode, 403, `${what}: 403`);
    t.match(r.body, '请求已失效');
  }
  const anonymous = await anon.post('/me/sections/work', await validForm(app, WORK), { csrf: anonToken });
  t.equal(anonymous.headers.location, '/login', 'an anonymous page\'s token: the login page, as before (nothing typed while signed in)');
  await login(a, 'applicant', p.phone);
  await a.get('/me/sections/work/new');
  const zhangToken = a.csrf();
  const r = await anon.post('/me/sections/work', await validForm(app, WORK), { csrf: zhangToken });
  t.equal(r.statusCode, 403, 'a signed-in token in another browser (no matching CSRF cookie): 403');
  t.same(await pendingRows(app), [], 'nothing kept for any of them');
  t.same(await workRows(app), []);

  // A cross-site post (Sec-Fetch-Site) is never kept, even with a genuine token.
  a.cookies.delete(SESSION_COOKIE);
  const cross = await a.post('/me/sections/work', await validForm(app, WORK), { csrf: zhangToken, headers: { 'sec-fetch-site': 'cross-site' } });
  t.equal(cross.statusCode, 303);
  t.match(String(cross.headers.location), /expired=1$/);
  t.same(await pendingRows(app), []);
});

t.test('no session row or cookie for anonymous pages; a session only once something must be stored', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const p = await createApplicant(app);
  const count = async () => Number((await app.ctx.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  for (const url of ['/login', '/login?type=staff', '/register', '/forgot', '/unlock', '/units/register', '/help', '/agreement']) {
    const res = await app.app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 200, url);
    t.notOk(res.cookies.some((c: { name: string }) => c.name === SESSION_COOKIE), `${url}: no session cookie`);
    t.equal(await count(), 0, `${url}: no session row`);
  }
  // The login form works without a session: its CSRF secret is a cookie of its own.
  const a = new Agent(app);
  await a.get('/login');
  t.ok(a.cookies.get('zc_csrf'), 'CSRF secret cookie');
  t.notOk(a.cookies.get(SESSION_COOKIE));
  t.equal((await a.post('/login', { type: 'applicant', account: p.phone, password: 'Wrong#2026pass' })).statusCode, 422, 'a wrong password: the form again');
  t.equal(await count(), 0, 'still no row');
  const ok = await a.post('/login', { type: 'applicant', account: p.phone, password: PASSWORD });
  t.equal(ok.statusCode, 303);
  t.equal(await count(), 1, 'one row once signed in');
  await a.post('/logout', {}, { csrf: /name="_csrf" value="([^"]+)"/.exec((await a.get('/me')).body)![1]! });
  t.equal(await count(), 0, 'none after logout');
  // A notice for the next page is something to store; once shown, the row goes again.
  await a.get('/login/2fa');
  t.equal(await count(), 1, 'a notice waits in a session');
  t.match((await a.get('/login?type=staff')).body, '登录验证已超时');
  t.equal(await count(), 0, 'gone once shown');
});

import t from 'tap';
import { makeApp, Agent, createStaff, createApplicant, login, lastSmsCode, PASSWORD, type TestApp } from '../helpers/app.js';
import { SESSION_COOKIE } from '../../src/plugins/session.js';
import { sessionHandle } from '../../src/features/security/service.js';

const sidOf = (a: Agent) => decodeURIComponent(a.cookies.get(SESSION_COOKIE) ?? '').split('.')[0]!;

/**
 * Sessions (GB/T 22239 level 3): the security admin sees a user's sessions (when, where from,
 * which browser) and ends one or all; disabling, a password change and a reset end them;
 * a session id planted before login is never the one after it.
 */
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** An agent whose every request carries a User-Agent (the Agent class takes per-call headers). */
function browser(app: TestApp, ua: string) {
  const a = new Agent(app);
  const get = a.get.bind(a);
  const post = a.post.bind(a);
  a.get = (url, headers = {}) => get(url, { 'user-agent': ua, ...headers });
  a.post = (url, form = {}, opts = {}) => post(url, form, { ...opts, headers: { 'user-agent': ua, ...opts.headers } });
  return a;
}

const sessionsOf = (app: TestApp, userId: number) => app.ctx.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
const auditRows = (app: TestApp, action: string) => app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

async function world(t: { teardown(fn: () => unknown): void }) {
  const app = await makeApp();
  t.teardown(() => app.close());
  const committee = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').orderBy('id').executeTakeFirstOrThrow()).id;
  const sec = await createStaff(app, { username: 'sec_wang', name: '王芳', roles: 'security' });
  const sun = await createStaff(app, { username: 'sunli', name: '孙丽', orgId: committee, roles: '' });
  const s = new Agent(app);
  await login(s, 'staff', 'sec_wang');
  return { app, sec, sun, s };
}

t.test('sessions record IP, browser and last activity; the security admin lists them and ends one, then all (audited)', async (t) => {
  const { app, sun, s } = await world(t);
  const pc = browser(app, CHROME);
  const phone = browser(app, SAFARI);
  t.equal((await login(pc, 'staff', 'sunli')).statusCode, 303);
  t.equal((await login(phone, 'staff', 'sunli')).statusCode, 303);
  t.equal((await pc.get('/org')).statusCode, 200);
  let rows = await sessionsOf(app, sun.userId);
  t.equal(rows.length, 2);
  for (const r of rows) {
    t.equal(r.ip, '127.0.0.1');
    t.ok(r.last_seen_at, 'last activity');
    t.ok(r.user_agent!.length <= 200, 'user agent truncated');
  }
  t.same(rows.map((r) => r.user_agent).sort(), [CHROME, SAFARI].sort());

  // Touched: the idle window slides and last_seen_at follows (at most once a minute).
  const seen = rows.find((r) => r.user_agent === CHROME)!.last_seen_at!;
  app.clock.advance(5 * 60_000);
  await pc.get('/org');
  const touched = (await sessionsOf(app, sun.userId)).find((r) => r.user_agent === CHROME)!;
  t.ok(touched.last_seen_at! > seen, 'last_seen_at moved on');
  t.equal(touched.last_seen_at, app.clock.now().toISOString());

  const page = await s.get(`/admin/security/users/${sun.userId}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, 'Chrome 126 / Windows');
  t.match(page.body, 'Safari 17 / iOS');
  t.match(page.body, '127.0.0.1');
  for (const r of await sessionsOf(app, sun.userId)) t.notMatch(page.body, r.sid, 'no session id on the page');
  const links = [...page.body.matchAll(/href="(\/admin\/security\/users\/\d+\/sessions\/([0-9a-f]+)\/end)"/g)];
  t.equal(links.length, 2);

  // End the phone's session: confirm page first, then POST.
  rows = await sessionsOf(app, sun.userId);
  const phoneRow = rows.find((r) => r.user_agent === SAFARI)!;
  const phoneLink = links.find((l) => l[2] === sessionHandle(phoneRow.sid))!;
  t.ok(phoneLink, 'the phone session is named by its handle');
  const confirm = await s.get(phoneLink[1]!);
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, '确定结束“孙丽”的这个会话吗');
  t.match(confirm.body, 'Safari 17 / iOS');
  t.equal((await s.post(phoneLink[1]!)).statusCode, 303);
  t.match((await s.get(`/admin/security/users/${sun.userId}`)).body, '会话已结束');
  t.equal((await phone.get('/org')).statusCode, 303, 'the phone is signed out');
  t.equal((await pc.get('/org')).statusCode, 200, 'the PC is not');
  t.same((await sessionsOf(app, sun.userId)).map((r) => r.user_agent), [CHROME]);
  t.equal((await s.post(phoneLink[1]!)).statusCode, 303, 'ending it again');
  t.match((await s.get(`/admin/security/users/${sun.userId}`)).body, '该会话已结束或不存在');

  // End all.
  const all = await s.get(`/admin/security/users/${sun.userId}/sessions/end-all`);
  t.match(all.body, '确定结束“孙丽”的全部会话吗');
  t.equal((await s.post(`/admin/security/users/${sun.userId}/sessions/end-all`)).statusCode, 303);
  t.equal((await pc.get('/org')).statusCode, 303, 'signed out everywhere');
  t.same(await sessionsOf(app, sun.userId), []);
  t.match((await s.get(`/admin/security/users/${sun.userId}`)).body, '当前没有登录会话');

  const ended = await auditRows(app, 'session_end');
  t.equal(ended.length, 2);
  t.match(ended[0], { object_type: 'user', object_id: String(sun.userId), detail: '结束一个会话', role: 'security' });
  t.match(ended[1]!.detail, '结束全部会话（1个）');
  t.notMatch(JSON.stringify(ended), phoneRow.sid, 'no session id in the audit log');
  const msgs = await app.ctx.db.selectFrom('messages').select('content').where('user_id', '=', sun.userId).execute();
  t.ok(msgs.some((m) => m.content.includes('安全管理员结束')), 'the user is told');
});

t.test("the security admin's own sessions: the current one is marked and kept", async (t) => {
  const { app, sec, s } = await world(t);
  const other = new Agent(app);
  await login(other, 'staff', 'sec_wang');
  const page = await s.get(`/admin/security/users/${sec.userId}`);
  t.match(page.body, '当前会话');
  t.equal((page.body.match(/结束此会话/g) ?? []).length, 1, 'only the other session can be ended here');
  t.notMatch(page.body, sessionHandle(sidOf(s)), 'no end link for the current one');
  t.equal((await s.post(`/admin/security/users/${sec.userId}/sessions/end-all`)).statusCode, 303);
  t.equal((await s.get(`/admin/security/users/${sec.userId}`)).statusCode, 200, 'still signed in');
  t.equal((await other.get('/admin/security/users')).statusCode, 303, 'the other one ended');
  t.same((await sessionsOf(app, sec.userId)).map((r) => r.sid), [sidOf(s)]);
});

t.test('disable, an admin password reset and a password change end the sessions', async (t) => {
  const { app, sun } = await world(t);
  const sys = await createStaff(app, { username: 'sys_li', name: '李娜', roles: 'admin' });
  const admin = new Agent(app);
  await login(admin, 'staff', 'sys_li');
  void sys;

  // Password change: every other session ends, the one making the change stays.
  const a1 = new Agent(app);
  const a2 = new Agent(app);
  await login(a1, 'staff', 'sunli');
  await login(a2, 'staff', 'sunli');
  await a1.get('/account/password');
  const changed = await a1.post('/account/password', { old: PASSWORD, password: 'Sun#2026li.new', password2: 'Sun#2026li.new' });
  t.equal(changed.statusCode, 303);
  t.equal((await a2.get('/org')).statusCode, 303, 'the other session ended');
  t.equal((await a1.get('/org')).statusCode, 200, 'the current one stays');
  t.equal((await sessionsOf(app, sun.userId)).length, 1);
  const pw = await auditRows(app, 'password_change');
  t.equal(pw.length, 1);
  t.match(pw[0], { user_id: sun.userId, result: 'ok', object_id: String(sun.userId) });
  t.ok(pw[0]!.ip);
  t.notMatch(JSON.stringify(pw), 'Sun#2026li.new');
  // A wrong old password is audited as a failure.
  await a1.get('/account/password');
  t.equal((await a1.post('/account/password', { old: 'Wrong#pass1', password: 'Sun#2026li.x2', password2: 'Sun#2026li.x2' })).statusCode, 422);
  t.match((await auditRows(app, 'password_change'))[1], { result: 'fail', detail: '原密码不正确' });

  // Disable by the system admin: all of them end.
  const a3 = new Agent(app);
  await login(a3, 'staff', 'sunli', 'Sun#2026li.new');
  t.equal((await sessionsOf(app, sun.userId)).length, 2);
  await admin.get(`/admin/users/${sun.userId}/disable`);
  t.equal((await admin.post(`/admin/users/${sun.userId}/disable`)).statusCode, 303);
  t.equal((await a1.get('/org')).statusCode, 303);
  t.equal((await a3.get('/org')).statusCode, 303);
  t.same(await sessionsOf(app, sun.userId), []);
  await admin.post(`/admin/users/${sun.userId}/enable`);

  // Reset by the system admin: all end too.
  const a4 = new Agent(app);
  await login(a4, 'staff', 'sunli', 'Sun#2026li.new');
  await admin.get(`/admin/users/${sun.userId}/reset-password`);
  t.equal((await admin.post(`/admin/users/${sun.userId}/reset-password`)).statusCode, 303);
  t.equal((await a4.get('/org')).statusCode, 303);
  t.same(await sessionsOf(app, sun.userId), []);
});

t.test('forgot-password reset (audited with the IP) and a phone change (audited) — the reset ends all sessions', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const zhang = await createApplicant(app, { phone: '13912345678' });
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  t.equal((await a.get('/me')).statusCode, 200);

  const f = new Agent(app);
  await f.get('/forgot');
  await f.post('/forgot/sms', { idNumber: zhang.id, phone: zhang.phone });
  const code = await lastSmsCode(app, '139****5678');
  const res = await f.post('/forgot', { idNumber: zhang.id, phone: zhang.phone, smsCode: code, password: 'Zhang#2026new', password2: 'Zhang#2026new' });
  t.equal(res.statusCode, 303);
  t.equal((await a.get('/me')).statusCode, 303, 'signed out after the reset');
  const reset = await auditRows(app, 'password_reset');
  t.equal(reset.length, 1);
  t.match(reset[0], { user_id: zhang.userId, object_id: String(zhang.userId), detail: '本人短信验证', result: 'ok' });
  t.ok(reset[0]!.ip, 'source IP');

  // Phone change: old phone, then new phone, each with a code.
  const b = new Agent(app);
  await login(b, 'applicant', zhang.phone, 'Zhang#2026new');
  app.clock.advance(61_000);
  await b.get('/account/phone');
  await b.post('/account/phone/old-sms');
  await b.post('/account/phone/old', { oldCode: await lastSmsCode(app, '139****5678') });
  await b.get('/account/phone');
  await b.post('/account/phone/new-sms', { phone: '13712345678' });
  const done = await b.post('/account/phone/new', { phone: '13712345678', newCode: await lastSmsCode(app, '137****5678') });
  t.equal(done.statusCode, 303);
  const ph = await auditRows(app, 'phone_change');
  t.equal(ph.length, 1);
  t.match(ph[0], { user_id: zhang.userId, object_id: String(zhang.userId), result: 'ok' });
  t.ok(ph[0]!.ip);
  const dump = JSON.stringify(await app.ctx.db.selectFrom('audit_log').selectAll().execute());
  for (const secret of ['13712345678', '13912345678', zhang.id, 'Zhang#2026new', code]) t.notMatch(dump, secret, 'no personal data or codes in the log');
});

t.test('session fixation: a session id planted before login is dead after it', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const zhang = await createApplicant(app);
  const victim = new Agent(app);
  // The attacker obtains a pre-login session (one holding a notice for the next page: the
  // login page itself makes none) and plants that cookie — with the CSRF cookie and a token of
  // the login form — in the victim's browser.
  const attacker = new Agent(app);
  await attacker.get('/login/2fa');
  const planted = attacker.cookies.get(SESSION_COOKIE)!;
  t.ok(planted, 'a pre-login session exists');
  const plantedSid = sidOf(attacker);
  t.ok(await app.ctx.db.selectFrom('sessions').select('sid').where('sid', '=', plantedSid).executeTakeFirst(), 'and is stored');
  const form = new Agent(app);
  await form.get('/login');
  victim.cookies.set(SESSION_COOKIE, planted);
  victim.cookies.set('zc_csrf', form.cookies.get('zc_csrf')!);
  victim.lastHtml = form.lastHtml;
  const res = await victim.post('/login', { type: 'applicant', account: zhang.phone, password: zhang.password });
  t.equal(res.statusCode, 303);
  const after = victim.cookies.get(SESSION_COOKIE)!;
  t.not(after, planted, 'a new session id at login');
  t.equal(await app.ctx.db.selectFrom('sessions').select('sid').where('sid', '=', plantedSid).executeTakeFirst(), undefined, 'the planted one is gone');
  t.equal((await victim.get('/me')).statusCode, 200, 'the victim is signed in');
  const me = await attacker.get('/me');
  t.equal(me.statusCode, 303, 'the attacker with the planted id is not');
  t.match(String(me.headers.location), /^\/login/);

  // A made-up (unsigned) id is never adopted either.
  const forged = new Agent(app);
  forged.cookies.set(SESSION_COOKIE, 'attacker-chosen-id');
  await forged.get('/login');
  t.not(forged.cookies.get(SESSION_COOKIE), 'attacker-chosen-id');
  t.equal(await app.ctx.db.selectFrom('sessions').select('sid').where('sid', '=', 'attacker-chosen-id').executeTakeFirst(), undefined);
  await forged.post('/login', { type: 'applicant', account: zhang.phone, password: zhang.password });
  t.equal(await app.ctx.db.selectFrom('sessions').select('sid').where('sid', '=', 'attacker-chosen-id').executeTakeFirst(), undefined);
  t.equal((await forged.get('/me')).statusCode, 200);
});

t.test('logout is audited and ends the session row', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const zhang = await createApplicant(app);
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  await a.get('/me');
  t.equal((await sessionsOf(app, zhang.userId)).length, 1);
  t.equal((await a.post('/logout')).statusCode, 303);
  t.same(await sessionsOf(app, zhang.userId), []);
  const out = await auditRows(app, 'logout');
  t.equal(out.length, 1);
  t.match(out[0], { user_id: zhang.userId, result: 'ok' });
  t.ok(out[0]!.ip);
});

import t from 'tap';
import { makeApp, Agent, createApplicant, createStaff, login, lastSmsCode, PASSWORD, type TestApp } from '../helpers/app.js';

const WRONG = 'Wrong#2026x';

/** A login from a given source IP, in a fresh browser. */
async function loginFrom(app: TestApp, ip: string, account: string, password = PASSWORD) {
  const page = await app.app.inject({ method: 'GET', url: '/login', remoteAddress: ip });
  const cookie = (page.cookies as { name: string; value: string }[]).map((c) => `${c.name}=${c.value}`).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  return app.app.inject({
    method: 'POST', url: '/login', remoteAddress: ip,
    payload: new URLSearchParams({ _csrf: csrf, type: 'applicant', account, password }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
  });
}

const pairs = (app: TestApp, userId: number) =>
  app.ctx.db.selectFrom('login_failures').select(['source', 'failures', 'locked_at']).where('user_id', '=', userId).orderBy('source').execute();
const userRow = (app: TestApp, id: number) => app.ctx.db.selectFrom('users').select(['failed_logins', 'locked_at']).where('id', '=', id).executeTakeFirstOrThrow();

async function unitWithPerson(app: TestApp) {
  const stamp = app.clock.now().toISOString();
  const unit = (await app.ctx.db.insertInto('orgs').values({ kind: 'unit', name: '昆明市第一人民医院', created_at: stamp, updated_at: stamp } as any).returning('id').executeTakeFirstOrThrow()).id;
  const zhang = await createApplicant(app, { unitOrgId: unit });
  return { unit, zhang };
}

t.test('3 wrong passwords lock the account from that IP only; another IP still signs in', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const { zhang } = await unitWithPerson(app);
  const A = '203.0.113.7';
  const B = '198.51.100.20';

  t.match((await loginFrom(app, A, zhang.phone, WRONG)).body, '账号或密码错误，再错2次账号将被锁定');
  t.match((await loginFrom(app, A, zhang.phone, WRONG)).body, '再错1次账号将被锁定');
  const locked = await loginFrom(app, A, zhang.phone, WRONG);
  t.equal(locked.statusCode, 422);
  t.match(locked.body, '账号已锁定。请联系所在单位（昆明市第一人民医院）在【专业技术人员管理】中解锁，或通过短信验证码自助解锁。', 'the same message as before');
  t.match(locked.body, 'href="/unlock"', 'SMS self-unlock offered');
  t.match((await loginFrom(app, A, zhang.phone, PASSWORD)).body, '账号已锁定', 'the right password does not open it from A');

  const fromB = await loginFrom(app, B, zhang.phone, PASSWORD);
  t.equal(fromB.statusCode, 303, 'the owner elsewhere is not locked out');
  t.equal(fromB.headers.location, '/me');
  t.match((await loginFrom(app, A, zhang.phone, PASSWORD)).body, '账号已锁定', 'A stays locked after B signed in');
  t.match((await loginFrom(app, A, zhang.id, PASSWORD)).body, '账号已锁定', 'by ID number too (same account)');

  const p = await pairs(app, zhang.userId);
  t.equal(p.length, 1);
  t.match(p[0], { source: A, failures: 3 });
  t.ok(p[0]!.locked_at);
  t.same(await userRow(app, zhang.userId), { failed_logins: 3, locked_at: null }, 'not locked everywhere; the count is shown to admins');
  const lockRows = await app.ctx.db.selectFrom('audit_log').select(['action', 'ip']).where('action', '=', 'account_lock').execute();
  t.same(lockRows, [{ action: 'account_lock', ip: A }], 'the lock is audited with its source');

  // The unit sees the person as locked and can unlock them.
  const clerk = await createStaff(app, { username: 'unit_lina', orgId: (await app.ctx.db.selectFrom('users').select('unit_org_id').where('id', '=', zhang.userId).executeTakeFirstOrThrow()).unit_org_id!, roles: 'unit_admin' });
  const u = new Agent(app);
  await login(u, 'staff', clerk.username);
  const list = await u.get('/org/people?status=locked');
  t.match(list.body, '张伟');
  t.match(list.body, '已锁定');
  t.match(list.body, `action="/org/people/${zhang.userId}/unlock"`);
  t.equal((await u.post(`/org/people/${zhang.userId}/unlock`)).statusCode, 303);
  t.same(await pairs(app, zhang.userId), [], 'the unit\'s unlock clears every source');
  t.equal((await loginFrom(app, A, zhang.phone, PASSWORD)).statusCode, 303, 'A works again');
});

t.test('a right password clears that pair only; the admin lock still applies everywhere', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const zhang = await createApplicant(app);
  const C = '192.0.2.3';
  const D = '192.0.2.4';
  await loginFrom(app, C, zhang.phone, WRONG);
  await loginFrom(app, C, zhang.phone, WRONG);
  await loginFrom(app, D, zhang.phone, WRONG);
  t.equal((await userRow(app, zhang.userId)).failed_logins, 3);
  t.equal((await loginFrom(app, C, zhang.phone, PASSWORD)).statusCode, 303);
  t.same((await pairs(app, zhang.userId)).map((r) => [r.source, r.failures]), [[D, 1]], 'C cleared, D kept');
  t.equal((await userRow(app, zhang.userId)).failed_logins, 1, 'the count follows');
  t.match((await loginFrom(app, C, zhang.phone, WRONG)).body, '再错2次', 'C counts from zero again');
  t.match((await loginFrom(app, D, zhang.phone, WRONG)).body, '再错1次', 'D continues');

  // An administrator's lock (users.locked_at) is everywhere, and SMS self-unlock does not lift it.
  await createStaff(app, { username: 'admin1' });
  const adm = new Agent(app);
  await login(adm, 'staff', 'admin1');
  await adm.get(`/admin/users/${zhang.userId}`);
  t.equal((await adm.post(`/admin/users/${zhang.userId}/lock`)).statusCode, 303);
  const refused = await loginFrom(app, '192.0.2.99', zhang.phone, PASSWORD);
  t.equal(refused.statusCode, 422);
  t.match(refused.body, '账号已被平台管理员锁定，请联系平台管理员。');
  t.notMatch(refused.body, 'href="/unlock">短信验证码自助解锁', 'self-unlock not offered');
  const a = new Agent(app);
  await a.get('/unlock');
  const sms = await a.post('/unlock/sms', { idNumber: zhang.id, phone: zhang.phone });
  t.match(sms.body, '账号已被平台管理员锁定');
  t.notMatch(sms.body, '验证码已发送', 'no SMS sent for it');
  t.equal((await app.ctx.db.selectFrom('sms_outbox').select('id').execute()).length, 0);
});

t.test('SMS self-unlock and the security admin\'s unlock clear every source', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const zhang = await createApplicant(app);
  const lockFrom = async (ip: string) => {
    for (let i = 0; i < 3; i++) await loginFrom(app, ip, zhang.phone, WRONG);
  };
  await lockFrom('203.0.113.1');
  await lockFrom('203.0.113.2');
  t.equal((await pairs(app, zhang.userId)).filter((p) => p.locked_at).length, 2);

  // 自助解锁 (from a third place: the default inject address).
  const a = new Agent(app);
  await a.get('/unlock');
  t.match((await a.post('/unlock/sms', { idNumber: zhang.id, phone: zhang.phone })).body, '验证码已发送');
  const code = await lastSmsCode(app, '138****8000');
  t.equal((await a.post('/unlock', { idNumber: zhang.id, phone: zhang.phone, smsCode: code })).headers.location, '/login');
  t.same(await pairs(app, zhang.userId), []);
  t.equal((await userRow(app, zhang.userId)).failed_logins, 0);
  t.equal((await loginFrom(app, '203.0.113.1', zhang.phone, PASSWORD)).statusCode, 303);
  t.equal((await loginFrom(app, '203.0.113.2', zhang.phone, PASSWORD)).statusCode, 303);

  // 安全管理员解锁.
  await lockFrom('203.0.113.1');
  await lockFrom('203.0.113.3');
  await createStaff(app, { username: 'sec1', name: '王芳', roles: 'security' });
  const s = new Agent(app);
  await login(s, 'staff', 'sec1');
  await s.get(`/admin/security/users/${zhang.userId}`);
  t.equal((await s.post(`/admin/security/users/${zhang.userId}/unlock`)).statusCode, 303);
  t.same(await pairs(app, zhang.userId), [], 'all sources cleared');
  t.equal((await loginFrom(app, '203.0.113.3', zhang.phone, PASSWORD)).statusCode, 303);
});

import t from 'tap';
import { makeApp, Agent, createApplicant, createStaff, login, lastSmsCode, idNumber, enrolTwoFactor, PASSWORD, type TestApp } from '../helpers/app.js';

const COMMON = '该密码过于常见，请换一个';
const REUSE = '不能与最近5次使用过的密码相同';
const DAY = 86_400_000;

async function changePassword(a: Agent, old: string, next: string) {
  await a.get('/account/password');
  return a.post('/account/password', { old, password: next, password2: next });
}

const auditOf = (app: TestApp, action: string) => app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

t.test('common passwords are refused wherever a password is chosen: register, change, forgot, first admin', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());

  // 注册: "Password123!" passes the complexity rules but its stem is on the list.
  const r = new Agent(app);
  await r.get('/register');
  const who = { name: '王芳', idNumber: idNumber('19920101', '222'), phone: '13912345678' };
  await r.post('/register/sms', who);
  const code = await lastSmsCode(app, '139****5678');
  let res = await r.post('/register', { ...who, smsCode: code, password: 'Password123!', password2: 'Password123!', agree: '1' });
  t.equal(res.statusCode, 422);
  t.match(res.body, COMMON);
  t.match(res.body, 'id="e-password"', 'next to the field');
  t.match(res.body, `value="${who.idNumber}"`, 'typed values kept');
  res = await r.post('/register', { ...who, smsCode: code, password: PASSWORD, password2: PASSWORD, agree: '1' });
  t.equal(res.headers.location, '/me', 'the SMS code was not used up by the refused try');

  // 修改密码.
  const zhang = await createApplicant(app, { phone: '13800138000' });
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  for (const pw of ['Qwerty#2026', 'iloveyou520!', 'P@ssw0rd']) {
    const c = await changePassword(a, PASSWORD, pw);
    t.equal(c.statusCode, 422, `${pw} refused`);
    t.match(c.body, COMMON);
  }
  t.equal((await changePassword(a, PASSWORD, 'Dian#chi2026')).statusCode, 303, 'an uncommon one is fine');

  // 忘记密码.
  const f = new Agent(app);
  await f.get('/forgot');
  await f.post('/forgot/sms', { idNumber: zhang.id, phone: zhang.phone });
  const fcode = await lastSmsCode(app, '138****8000');
  res = await f.post('/forgot', { idNumber: zhang.id, phone: zhang.phone, smsCode: fcode, password: 'Dragon2026!', password2: 'Dragon2026!' });
  t.equal(res.statusCode, 422);
  t.match(res.body, COMMON);

  // 首次启动创建管理员.
  const path = new URL(app.setupLink!).pathname;
  const s = new Agent(app);
  await s.get(path);
  res = await s.post(path, { username: 'admin', name: '平台管理员', password: 'Welcome1!', password2: 'Welcome1!' });
  t.equal(res.statusCode, 422);
  t.match(res.body, COMMON);
});

t.test('no reuse of the last 5 passwords (change and forgot); history written on every set', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const zhang = await createApplicant(app);
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  const P = [PASSWORD, 'Dian#chi2026a', 'Dian#chi2026b', 'Dian#chi2026c', 'Dian#chi2026d', 'Dian#chi2026e'];
  for (let i = 1; i <= 4; i++) t.equal((await changePassword(a, P[i - 1]!, P[i]!)).statusCode, 303, `change ${i}`);
  // P0..P4 are the last 5: P0 is refused although it is not the current one.
  let res = await changePassword(a, P[4]!, P[0]!);
  t.equal(res.statusCode, 422);
  t.match(res.body, REUSE);
  res = await changePassword(a, P[4]!, P[2]!);
  t.match(res.body, REUSE);
  t.equal((await changePassword(a, P[4]!, P[5]!)).statusCode, 303);
  // Now the last 5 are P1..P5: P0 is allowed again, P1 is not.
  const history = await app.ctx.db.selectFrom('password_history').select(['hash']).where('user_id', '=', zhang.userId).execute();
  t.equal(history.length, 5, 'the history keeps 5');
  t.match((await changePassword(a, P[5]!, P[1]!)).body, REUSE);

  // 忘记密码 with a recent password: refused before the SMS code is spent.
  const f = new Agent(app);
  await f.get('/forgot');
  await f.post('/forgot/sms', { idNumber: zhang.id, phone: zhang.phone });
  const code = await lastSmsCode(app, '138****8000');
  res = await f.post('/forgot', { idNumber: zhang.id, phone: zhang.phone, smsCode: code, password: P[3]!, password2: P[3]! });
  t.equal(res.statusCode, 422);
  t.match(res.body, REUSE);
  res = await f.post('/forgot', { idNumber: zhang.id, phone: zhang.phone, smsCode: code, password: P[0]!, password2: P[0]! });
  t.equal(res.headers.location, '/login', 'the oldest (6th) password may come back; same SMS code still valid');
  t.equal((await login(new Agent(app), 'applicant', zhang.phone, P[0]!)).statusCode, 303);
  const after = await app.ctx.db.selectFrom('password_history').select(['hash']).where('user_id', '=', zhang.userId).orderBy('id', 'desc').execute();
  t.equal(after.length, 5);
  const users = await app.ctx.db.selectFrom('users').select('password_hash').where('id', '=', zhang.userId).executeTakeFirstOrThrow();
  t.equal(after[0]!.hash, users.password_hash, 'the newest history entry is the current password');

  // A one-time password set by someone else counts as the previous one when the user changes it.
  const wang = await createStaff(app, { username: 'wangfang', roles: '', orgId: (await app.ctx.db.insertInto('orgs').values({ kind: 'unit', name: '某单位', created_at: app.clock.now().toISOString(), updated_at: app.clock.now().toISOString() } as any).returning('id').executeTakeFirstOrThrow()).id });
  const w = new Agent(app);
  await login(w, 'staff', 'wangfang');
  t.equal((await changePassword(w, wang.password, 'Er#hai2026lake')).statusCode, 303);
  t.match((await changePassword(w, 'Er#hai2026lake', wang.password)).body, REUSE, 'the initial password is in the history');
});

t.test('password expiry: 90 days for admins and staff, never for applicants; configurable per class; forced change', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const unit = (await app.ctx.db.insertInto('orgs').values({ kind: 'unit', name: '昆明市第一人民医院', created_at: app.clock.now().toISOString(), updated_at: app.clock.now().toISOString() } as any).returning('id').executeTakeFirstOrThrow()).id;
  await createStaff(app, { username: 'admin1' });
  const sec = await createStaff(app, { username: 'sec1', name: '王芳', roles: 'security' });
  await createStaff(app, { username: 'unit_lina', name: '李娜', orgId: unit, roles: '' });
  const zhang = await createApplicant(app);

  // Day 89: nobody is forced.
  app.clock.advance(89 * DAY);
  t.equal((await login(new Agent(app), 'staff', 'unit_lina')).headers.location, '/org');
  t.equal((await login(new Agent(app), 'staff', 'admin1')).headers.location, '/admin');

  // Day 91: staff and admins must change first; applicants never.
  app.clock.advance(2 * DAY);
  const u = new Agent(app);
  t.equal((await login(u, 'staff', 'unit_lina')).headers.location, '/account/password');
  t.equal((await u.get('/org')).headers.location, '/account/password', 'every page sends there');
  const page = await u.get('/account/password');
  t.match(page.body, '密码已超过90天未修改，请修改密码');
  t.equal((await u.post('/account/password', { old: PASSWORD, password: 'Dian#chi2026a', password2: 'Dian#chi2026a' })).statusCode, 303);
  t.equal((await u.get('/org')).statusCode, 200, 'changed: free again');

  const adm = new Agent(app);
  t.equal((await login(adm, 'staff', 'admin1')).headers.location, '/account/password', 'admin: after the second factor, the password first');
  t.equal((await adm.get('/admin')).headers.location, '/account/password');
  t.equal((await login(new Agent(app), 'applicant', zhang.phone)).headers.location, '/me', 'applicant: off by default');

  // The security admin changes the policy: applicants 180 days, staff never, admins 30.
  const s = new Agent(app);
  t.equal((await login(s, 'staff', 'sec1')).headers.location, '/account/password', 'the security admin is past 90 days too');
  const changed = await changePassword(s, PASSWORD, 'Cang#shan2026');
  t.equal(changed.headers.location, '/account/2fa', 'then the second factor is set up');
  await enrolTwoFactor(s, sec.userId);
  const form = await s.get('/admin/security/policy');
  t.equal(form.statusCode, 200);
  t.match(form.body, 'name="expiry_admin"');
  t.match(form.body, 'value="90"');
  t.match(form.body, '始终要求，不可关闭');
  const bad = await s.post('/admin/security/policy', { expiry_admin: '-1', expiry_staff: 'abc', expiry_applicant: '' });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '密码有效期应为0–3650的整数天');
  t.match(bad.body, '请填写申报人的密码有效期');
  t.match(bad.body, 'value="abc"', 'typed values kept');
  const saved = await s.post('/admin/security/policy', { expiry_admin: '30', expiry_staff: '0', expiry_applicant: '180' });
  t.equal(saved.headers.location, '/admin/security/policy');
  const change = (await auditOf(app, 'config_change')).at(-1)!;
  t.match(change.detail, '平台管理员密码有效期 90天→30天');
  t.match(change.detail, '不过期');
  t.match(change.detail, '申报人密码有效期 不过期→180天');

  app.clock.advance(90 * DAY); // day 181
  t.equal((await login(new Agent(app), 'applicant', zhang.phone)).headers.location, '/account/password', 'applicant: 181 > 180 days');
  t.equal((await login(new Agent(app), 'staff', 'unit_lina', 'Dian#chi2026a')).headers.location, '/org', 'staff: never expires now');
});

t.test('2FA policy: HRB and committee staff off by default, on when the security admin says so', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const hrb = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'hrb').executeTakeFirstOrThrow()).id;
  const committee = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').executeTakeFirstOrThrow()).id;
  await createStaff(app, { username: 'county_chen', name: '陈静', orgId: hrb, roles: '' });
  await createStaff(app, { username: 'com_sun', name: '孙丽', orgId: committee, roles: '' });
  await createStaff(app, { username: 'sec1', name: '王芳', roles: 'security' });
  t.equal((await login(new Agent(app), 'staff', 'county_chen')).headers.location, '/org');
  t.equal((await login(new Agent(app), 'staff', 'com_sun')).headers.location, '/org');

  const s = new Agent(app);
  await login(s, 'staff', 'sec1');
  const form = await s.get('/admin/security/policy');
  t.notMatch(form.body, /name="twofa_hrb" value="1" checked/, 'off by default');
  const chen = new Agent(app);
  await login(chen, 'staff', 'county_chen');
  t.equal((await chen.get('/org')).statusCode, 200);

  t.equal((await s.post('/admin/security/policy', { twofa_hrb: '1', expiry_admin: '90', expiry_staff: '90', expiry_applicant: '0' })).statusCode, 303);
  t.match((await s.get('/admin/security/policy')).body, /name="twofa_hrb" value="1" checked/);
  t.match((await auditOf(app, 'config_change')).at(-1)!.detail, '人社局工作人员双因素认证 关→开');
  t.equal((await chen.get('/org')).headers.location, '/account/2fa', 'applies at once, to a signed-in HRB user too');
  t.equal((await login(new Agent(app), 'staff', 'com_sun')).headers.location, '/org', 'committee staff still off');
  t.equal((await login(new Agent(app), 'staff', 'county_chen')).statusCode, 303, 'the helper enrols the HRB user');
  t.equal((await app.ctx.db.selectFrom('users').select('totp_enabled').where('username', '=', 'county_chen').executeTakeFirstOrThrow()).totp_enabled, 1);

  // Not for the system admin (三权分立) nor other staff.
  await createStaff(app, { username: 'admin1' });
  const sys = new Agent(app);
  await login(sys, 'staff', 'admin1');
  await sys.get('/admin');
  t.equal((await sys.get('/admin/security/policy')).statusCode, 403);
  t.equal((await sys.post('/admin/security/policy', { expiry_admin: '0', expiry_staff: '0', expiry_applicant: '0' })).statusCode, 403);
});

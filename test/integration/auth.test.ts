import t from 'tap';
import { makeApp, Agent, idNumber, lastSmsCode, createApplicant, createStaff, login, enrolTwoFactor, PASSWORD, type TestApp } from '../helpers/app.js';

const ZHANG = { name: '张伟', idNumber: idNumber('19900307', '123'), phone: '13800138000' };

async function register(app: TestApp, a: Agent, who = ZHANG, extra: Record<string, string> = {}) {
  await a.get('/register');
  const sent = await a.post('/register/sms', { ...who });
  const code = await lastSmsCode(app, `${who.phone.slice(0, 3)}****${who.phone.slice(7)}`);
  const res = await a.post('/register', { ...who, smsCode: code, password: PASSWORD, password2: PASSWORD, agree: '1', ...extra });
  return { sent, res, code };
}

t.test('register → /me; lowercase x stored as X; duplicates refused with values kept', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = new Agent(app);
  // Find an ID number that ends in X so the lowercase path is exercised.
  let id: string | null = null;
  for (let s = 0; !id && s < 1000; s++) {
    const cand = idNumber('19851231', String(s).padStart(3, '0'));
    if (cand.endsWith('X')) id = cand;
  }
  t.ok(id, 'found an ID number with X');
  const who = { name: '李娜', idNumber: id!.toLowerCase(), phone: '13912345678' };
  const { sent, res } = await register(app, a, who);
  t.equal(sent.statusCode, 200);
  t.match(sent.body, '验证码已发送');
  t.match(sent.body, `value="${who.idNumber}"`, 'typed ID kept after sending the code');
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/me');
  const me = await a.get('/me');
  t.equal(me.statusCode, 200);
  t.match(me.body, '李娜');
  t.match(me.body, '注册成功');
  const row = await app.ctx.db.selectFrom('users').selectAll().where('name', '=', '李娜').executeTakeFirstOrThrow();
  t.equal(app.ctx.secrets.decrypt(row.id_enc!), id!.toUpperCase(), 'stored upper-case');
  t.notMatch(row.id_enc!, id!.slice(0, 10), 'ciphertext, not clear text');
  t.equal(row.id_masked, `${id!.slice(0, 4)}**********${id!.slice(14)}`);
  t.equal(row.phone_masked, '139****5678');
  t.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

  // Same ID again from another browser: a clear error, the typed values kept.
  const b = new Agent(app);
  await b.get('/register');
  const dup = await b.post('/register', { name: '李娜', idNumber: id!, phone: '13700000000', smsCode: '000000', password: PASSWORD, password2: PASSWORD, agree: '1' });
  t.equal(dup.statusCode, 422);
  t.match(dup.body, '该身份证号已注册');
  t.match(dup.body, 'value="13700000000"');
  t.notMatch(dup.body, PASSWORD, 'password never echoed');
  const dupPhone = await b.post('/register/sms', { name: '王芳', idNumber: idNumber('19920101', '222'), phone: '13912345678' });
  t.match(dupPhone.body, '该手机号已注册');
});

t.test('registration validation: bad ID, bad phone, weak password, mismatch, agreement, wrong code', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = new Agent(app);
  await a.get('/register');
  const good = idNumber();
  const bad = good.slice(0, 17) + (good.endsWith('0') ? '1' : '0');
  const cases: [Record<string, string>, string][] = [
    [{ idNumber: bad }, '身份证号校验位不正确'],
    [{ idNumber: '530102199002301234' }, '身份证号出生日期不正确'],
    [{ idNumber: '12345' }, '身份证号应为18位'],
    [{ phone: '1380013800' }, '手机号应为11位数字'],
    [{ password: 'abcdefgh', password2: 'abcdefgh' }, '密码需同时包含字母、数字和特殊字符'],
    [{ password: `a!${good}`, password2: `a!${good}` }, '密码不能包含身份证号'],
    [{ password2: 'Other#2026x' }, '两次输入的密码不一致'],
    [{ agree: '' }, '请阅读并同意《用户协议》和《隐私政策》'],
    [{ name: '' }, '请输入姓名'],
  ];
  for (const [patch, msg] of cases) {
    const form = { name: '张伟', idNumber: good, phone: '13800138000', smsCode: '123456', password: PASSWORD, password2: PASSWORD, agree: '1', ...patch };
    const res = await a.post('/register', form);
    t.equal(res.statusCode, 422, `${msg}: 422`);
    t.match(res.body, msg);
    t.match(res.body, 'class="error-summary"');
  }
  // Everything right but no code requested: the code is the only complaint.
  const res = await a.post('/register', { name: '张伟', idNumber: good, phone: '13800138000', smsCode: '123456', password: PASSWORD, password2: PASSWORD, agree: '1' });
  t.match(res.body, '请先获取短信验证码');
  t.equal(await app.ctx.db.selectFrom('users').select('id').where('kind', '=', 'applicant').execute().then((r) => r.length), 0, 'nothing created');
});

t.test('获取验证码: an invalid or registered 身份证号, or a bad phone, sends nothing and spends no code', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const sent = async () => ({
    outbox: (await app.ctx.db.selectFrom('sms_outbox').select('id').execute()).length,
    codes: (await app.ctx.db.selectFrom('sms_codes').select('id').execute()).length,
  });
  const good = idNumber('19900307', '123');
  const wrongCheck = good.slice(0, 17) + (good.endsWith('0') ? '1' : '0');
  const a = new Agent(app);
  await a.get('/register');
  const cases: [Record<string, string>, string, string][] = [
    [{ idNumber: wrongCheck }, 'idNumber', '身份证号校验位不正确'],
    [{ idNumber: '530102199002301234' }, 'idNumber', '身份证号出生日期不正确'],
    [{ idNumber: '' }, 'idNumber', '请输入身份证号'],
    [{ phone: '1380013800' }, 'phone', '手机号应为11位数字'],
  ];
  for (const [patch, field, msg] of cases) {
    const form = { name: '张伟', idNumber: good, phone: '13800138000', ...patch };
    const res = await a.post('/register/sms', form);
    t.equal(res.statusCode, 422, `${msg}: 422`);
    t.match(res.body, new RegExp(`<small class="err" id="e-${field}">${msg}</small>`), `${msg}: next to the field`);
    t.match(res.body, `value="${form.idNumber}"`, 'typed ID kept');
    t.match(res.body, `value="${form.phone}"`, 'typed phone kept');
    t.notMatch(res.body, '验证码已发送');
  }
  t.same(await sent(), { outbox: 0, codes: 0 }, 'no message, no code');

  // A registered ID: the usual wording, nothing sent.
  await createApplicant(app, { id: good, phone: '13700000000' });
  const dup = await a.post('/register/sms', { name: '张伟', idNumber: good, phone: '13800138000' });
  t.equal(dup.statusCode, 422);
  t.match(dup.body, /<small class="err" id="e-idNumber">该身份证号已注册，请直接登录；如忘记密码请通过“忘记密码”找回<\/small>/);
  t.same(await sent(), { outbox: 0, codes: 0 }, 'still nothing sent');

  // 忘记密码 / 账号解锁: a bad ID is refused before the account lookup, nothing sent.
  for (const mode of ['forgot', 'unlock']) {
    await a.get(`/${mode}`);
    const res = await a.post(`/${mode}/sms`, { idNumber: wrongCheck, phone: '13700000000' });
    t.equal(res.statusCode, 422, `${mode}: 422`);
    t.match(res.body, '<small class="err" id="e-idNumber">身份证号校验位不正确</small>', `${mode}: error next to the ID`);
    t.match(res.body, `value="${wrongCheck}"`, `${mode}: typed ID kept`);
  }
  t.same(await sent(), { outbox: 0, codes: 0 }, 'forgot/unlock sent nothing either');

  // The daily allowance is intact: 3 codes for the right numbers.
  const b = new Agent(app);
  await b.get('/register');
  for (let i = 0; i < 3; i++) {
    t.match((await b.post('/register/sms', { name: '王芳', idNumber: idNumber('19920101', '222'), phone: '13800138000' })).body, '验证码已发送', `code ${i + 1} of 3`);
    app.clock.advance(61_000);
  }
});

t.test('SMS limits: 1 per minute, 3 per day, 10 minutes validity, 5 wrong tries void the code', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = new Agent(app);
  await a.get('/register');
  const form = { ...ZHANG };
  t.match((await a.post('/register/sms', form)).body, '验证码已发送');
  t.match((await a.post('/register/sms', form)).body, '验证码发送过于频繁');
  app.clock.advance(61_000);
  t.match((await a.post('/register/sms', form)).body, '验证码已发送');
  app.clock.advance(61_000);
  t.match((await a.post('/register/sms', form)).body, '验证码已发送');
  app.clock.advance(61_000);
  t.match((await a.post('/register/sms', form)).body, '同一手机号每天仅有3次获取验证码的机会');
  t.equal((await app.ctx.db.selectFrom('sms_outbox').select('id').execute()).length, 3, 'exactly 3 messages sent');

  // Next China day: allowed again.
  app.clock.advance(24 * 3_600_000);
  await a.get('/register'); // a day later the page is reloaded (the old form's session expired)
  t.match((await a.post('/register/sms', form)).body, '验证码已发送');
  const code = await lastSmsCode(app, '138****8000');
  const wrong = code === '000000' ? '111111' : '000000';
  const full = { ...ZHANG, password: PASSWORD, password2: PASSWORD, agree: '1' };
  for (let i = 1; i <= 4; i++) {
    t.match((await a.post('/register', { ...full, smsCode: wrong })).body, `验证码错误，还可以尝试${5 - i}次`);
  }
  t.match((await a.post('/register', { ...full, smsCode: wrong })).body, '验证码错误次数过多');
  t.match((await a.post('/register', { ...full, smsCode: code })).body, '验证码错误次数过多', 'the right code is void now');

  // Expiry after 10 minutes.
  app.clock.advance(61_000);
  await a.post('/register/sms', form);
  const code2 = await lastSmsCode(app, '138****8000');
  app.clock.advance(10 * 60_000 + 1000);
  t.match((await a.post('/register', { ...full, smsCode: code2 })).body, '验证码已过期');
});

t.test('login by ID (lowercase x too) or phone; 3 wrong passwords lock; admin and SMS unlock', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const zhang = await createApplicant(app);
  const a = new Agent(app);
  let res = await login(a, 'applicant', zhang.phone);
  t.equal(res.headers.location, '/me');
  await a.get('/me'); // the logout button lives on a page rendered after login
  await a.post('/logout');
  t.equal((await a.get('/me')).headers.location, '/login?next=%2Fme', 'logged out');
  res = await login(a, 'applicant', zhang.id.toLowerCase());
  t.equal(res.statusCode, 303, 'ID number login');

  const b = new Agent(app);
  res = await login(b, 'applicant', zhang.id, 'Wrong#2026x');
  t.equal(res.statusCode, 422);
  t.match(res.body, '再错2次账号将被锁定');
  res = await login(b, 'applicant', zhang.id, 'Wrong#2026x');
  t.match(res.body, '再错1次账号将被锁定');
  res = await login(b, 'applicant', zhang.id, 'Wrong#2026x');
  t.match(res.body, '账号已锁定');
  t.match(res.body, '您尚未选择单位，请联系平台技术支持解锁', 'says whom to ask');
  res = await login(b, 'applicant', zhang.id, PASSWORD);
  t.match(res.body, '账号已锁定', 'the right password does not open a locked account');

  // Admin unlock.
  await app.ctx.db.updateTable('users').set({ locked_at: null, failed_logins: 0 }).where('id', '=', zhang.userId).execute();
  res = await login(b, 'applicant', zhang.id, PASSWORD);
  t.equal(res.statusCode, 303, 'unlocked by admin');
  await b.get('/me');
  await b.post('/logout');

  // Lock again, then self-unlock by SMS.
  for (let i = 0; i < 3; i++) await login(b, 'applicant', zhang.phone, 'Wrong#2026x');
  await b.get('/unlock');
  const sent = await b.post('/unlock/sms', { idNumber: zhang.id, phone: zhang.phone });
  t.match(sent.body, '验证码已发送');
  const code = await lastSmsCode(app, '138****8000');
  res = await b.post('/unlock', { idNumber: zhang.id, phone: zhang.phone, smsCode: code });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/login');
  res = await login(b, 'applicant', zhang.phone, PASSWORD);
  t.equal(res.statusCode, 303, 'self-unlocked');

  // Staff lock message names the platform.
  await createStaff(app, { username: 'wangfang', roles: '' });
  const c = new Agent(app);
  for (let i = 0; i < 3; i++) res = await login(c, 'staff', 'wangfang', 'Wrong#2026x');
  t.match(res.body, '请联系平台管理员解锁');
  res = await login(c, 'staff', 'nobody', 'Wrong#2026x');
  t.match(res.body, '账号或密码错误');
});

t.test('locked applicant with a unit is told to ask that unit', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const stamp = app.clock.now().toISOString();
  const unit = await app.ctx.db.insertInto('orgs').values({ kind: 'unit', name: '昆明市第一人民医院', created_at: stamp, updated_at: stamp } as any).returning('id').executeTakeFirstOrThrow();
  const p = await createApplicant(app, { unitOrgId: unit.id });
  const a = new Agent(app);
  let res;
  for (let i = 0; i < 3; i++) res = await login(a, 'applicant', p.phone, 'Wrong#2026x');
  t.match(res!.body, '请联系所在单位（昆明市第一人民医院）在【专业技术人员管理】中解锁');
});

t.test('forgot password: ID + phone + SMS → new password; old one stops working; sessions end', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const p = await createApplicant(app);
  const other = new Agent(app);
  await login(other, 'applicant', p.phone);
  t.equal((await other.get('/me')).statusCode, 200);

  const a = new Agent(app);
  await a.get('/forgot');
  t.match((await a.post('/forgot/sms', { idNumber: p.id, phone: '13911112222' })).body, '身份证号与注册手机号不匹配');
  t.match((await a.post('/forgot/sms', { idNumber: p.id, phone: p.phone })).body, '验证码已发送');
  const code = await lastSmsCode(app, '138****8000');
  const NEW = 'Li#na2026new';
  t.match((await a.post('/forgot', { idNumber: p.id, phone: p.phone, smsCode: code, password: NEW, password2: 'x' })).body, '两次输入的密码不一致');
  const res = await a.post('/forgot', { idNumber: p.id, phone: p.phone, smsCode: code, password: NEW, password2: NEW });
  t.equal(res.headers.location, '/login');
  t.equal((await login(a, 'applicant', p.phone, PASSWORD)).statusCode, 422, 'old password refused');
  t.equal((await login(a, 'applicant', p.phone, NEW)).statusCode, 303, 'new password works');
  t.equal((await other.get('/me')).statusCode, 303, 'the other session was ended');
});

t.test('CSRF: every form POST without a valid token is refused and changes nothing', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const p = await createApplicant(app);
  const a = new Agent(app);
  await a.get('/login');
  let res = await a.post('/login', { type: 'applicant', account: p.phone, password: PASSWORD }, { csrf: null });
  t.equal(res.statusCode, 403);
  t.match(res.body, '请求已失效');
  res = await a.post('/login', { type: 'applicant', account: p.phone, password: PASSWORD }, { csrf: 'forged-token' });
  t.equal(res.statusCode, 403);
  await login(a, 'applicant', p.phone);
  await a.get('/account/password');
  res = await a.post('/account/password', { old: PASSWORD, password: 'New#pass2026', password2: 'New#pass2026' }, { csrf: null });
  t.equal(res.statusCode, 403);
  // htmx sends the token as a header instead of a field.
  const page = await a.get('/account/password');
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  res = await a.post('/account/password', { old: PASSWORD, password: 'New#pass2026', password2: 'New#pass2026' }, { csrf: null, headers: { 'x-csrf-token': token, 'hx-request': 'true' } });
  t.equal(res.statusCode, 303, 'header token accepted');
  // Another user's token does not work for this session.
  const b = new Agent(app);
  await b.get('/login');
  const foreign = b.csrf();
  res = await a.post('/me/messages/read-all', {}, { csrf: foreign });
  t.equal(res.statusCode, 403);
});

t.test('session: idle 30 min and absolute 12 h timeouts; logout ends it; fixation impossible', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const p = await createApplicant(app);
  const a = new Agent(app);
  await a.get('/login');
  t.notOk(a.cookies.get('zc_sid'), 'no session before login');
  await a.post('/login', { type: 'applicant', account: p.phone, password: PASSWORD });
  t.ok(a.cookies.get('zc_sid'), 'a session from login on');
  const stored = await app.ctx.db.selectFrom('sessions').select(['sid', 'user_id']).where('user_id', '=', p.userId).execute();
  t.equal(stored.length, 1, 'server-side session row');

  app.clock.advance(29 * 60_000);
  t.equal((await a.get('/me')).statusCode, 200, 'active at 29 min');
  app.clock.advance(29 * 60_000);
  t.equal((await a.get('/me')).statusCode, 200, 'sliding: active 29 min after the last request');
  app.clock.advance(31 * 60_000);
  const expired = await a.get('/me');
  t.equal(expired.statusCode, 303, 'idle for 31 min → logged out');
  const loginPage = await a.get(expired.headers.location as string);
  t.match(loginPage.body, '登录已超时，请重新登录');

  // Absolute: active every 20 minutes, still ends after 12 h.
  await a.post('/login', { type: 'applicant', account: p.phone, password: PASSWORD });
  let last = 200;
  for (let m = 0; m < 12 * 60 + 20; m += 20) {
    app.clock.advance(20 * 60_000);
    last = (await a.get('/me')).statusCode;
    if (last !== 200) break;
  }
  t.equal(last, 303, 'ended by the 12 h absolute timeout');

  await login(a, 'applicant', p.phone);
  await a.get('/me');
  const out = await a.post('/logout');
  t.equal(out.statusCode, 303);
  t.equal((await a.get('/me')).statusCode, 303, 'logout ends the session');
  const rows = await app.ctx.db.selectFrom('sessions').selectAll().where('user_id', '=', p.userId).execute();
  t.equal(rows.length, 0, 'row deleted', { rows });

  // An anonymous login page sets no session cookie (issue #19), only the CSRF secret's.
  const page = await app.app.inject({ method: 'GET', url: '/login' });
  t.notOk(page.cookies.some((c: { name: string }) => c.name === 'zc_sid'), 'no session for an anonymous page');
  type C = { name: string; value: string; httpOnly?: boolean; sameSite?: string };
  const csrfCookie = page.cookies.find((c: C) => c.name === 'zc_csrf') as C | undefined;
  t.ok(csrfCookie?.httpOnly, 'CSRF cookie HttpOnly');
  t.equal(csrfCookie?.sameSite, 'Lax');
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const signIn = await app.app.inject({
    method: 'POST', url: '/login', cookies: { zc_csrf: csrfCookie!.value },
    payload: new URLSearchParams({ _csrf: token, type: 'applicant', account: p.phone, password: PASSWORD }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const sid = signIn.cookies.find((c: C) => c.name === 'zc_sid') as C | undefined;
  t.ok(sid?.httpOnly, 'session cookie HttpOnly');
  t.equal(sid?.sameSite, 'Lax');
});

t.test('change password and phone; masked display; must-change after admin reset', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const p = await createApplicant(app);
  const a = new Agent(app);
  await login(a, 'applicant', p.phone);
  const me = await a.get('/me');
  t.notMatch(me.body, p.id, 'full ID number never on the page');
  const phonePage = await a.get('/account/phone');
  t.match(phonePage.body, '138****8000');
  t.notMatch(phonePage.body, p.phone);

  await a.get('/account/password');
  let res = await a.post('/account/password', { old: 'bad', password: 'New#pass2026', password2: 'New#pass2026' });
  t.match(res.body, '原密码不正确');
  res = await a.post('/account/password', { old: PASSWORD, password: 'New#pass2026', password2: 'New#pass2026' });
  t.equal(res.statusCode, 303);

  // Phone: the new phone cannot be bound before the old one is verified.
  await a.get('/account/phone');
  res = await a.post('/account/phone/new-sms', { phone: '13611112222' });
  t.match(res.body, '请先验证原手机号');
  await a.post('/account/phone/old-sms');
  res = await a.post('/account/phone/old', { oldCode: await lastSmsCode(app, '138****8000') });
  t.equal(res.statusCode, 303);
  await a.get('/account/phone');
  app.clock.advance(61_000);
  res = await a.post('/account/phone/new-sms', { phone: '13611112222' });
  t.match(res.body, '验证码已发送至新手机号');
  res = await a.post('/account/phone/new', { phone: '13611112222', newCode: await lastSmsCode(app, '136****2222') });
  t.equal(res.statusCode, 303);
  await a.get('/me');
  await a.post('/logout');
  t.equal((await login(a, 'applicant', '13611112222', 'New#pass2026')).statusCode, 303, 'new phone logs in');

  // Admin-set password must be changed first.
  await app.ctx.db.updateTable('users').set({ must_change_password: 1 }).where('id', '=', p.userId).execute();
  t.equal((await a.get('/me')).headers.location, '/account/password');
});

t.test('first start: a one-time setup link creates the admin, then is void', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  t.ok(app.setupLink, 'a link is printed when no admin exists');
  const path = new URL(app.setupLink!).pathname;
  const a = new Agent(app);
  t.equal((await a.get('/setup/wrong-token')).statusCode, 404);
  await a.get(path);
  let res = await a.post(path, { username: 'admin', name: '平台管理员', password: 'short', password2: 'short' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '密码长度不少于8位');
  res = await a.post(path, { username: 'admin', name: '平台管理员', password: PASSWORD, password2: PASSWORD });
  t.equal(res.headers.location, '/admin');
  // An admin sets up two-factor login before anything else.
  t.equal((await a.get('/admin')).headers.location, '/account/2fa');
  const admin = await app.ctx.db.selectFrom('users').select('id').where('username', '=', 'admin').executeTakeFirstOrThrow();
  await enrolTwoFactor(a, admin.id);
  t.equal((await a.get('/admin')).statusCode, 200);
  t.equal((await new Agent(app).get(path)).statusCode, 404, 'link used up');
});

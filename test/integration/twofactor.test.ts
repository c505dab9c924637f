import t from 'tap';
import { makeApp, Agent, createStaff, login, totpCode, enrolTwoFactor, PASSWORD, type TestApp } from '../helpers/app.js';
import { base32Decode, hotp, timeStep } from '../../src/domain/totp.js';

const auditRows = (app: TestApp, action?: string) => {
  let q = app.ctx.db.selectFrom('audit_log').selectAll().orderBy('id');
  if (action) q = q.where('action', '=', action);
  return q.execute();
};
const userRow = (app: TestApp, id: number) => app.ctx.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** Password step only: the agent is left at /login/2fa (not signed in). */
async function passwordStep(a: Agent, username: string) {
  await a.get('/login?type=staff');
  return a.post('/login', { type: 'staff', account: username, password: PASSWORD });
}

/** A staff user with 2FA on, enrolled through the pages; returns the recovery codes. */
async function enrolled(app: TestApp, username: string, orgId?: number) {
  const s = await createStaff(app, { username, name: '李娜', roles: orgId ? '' : 'admin', ...(orgId ? { orgId } : {}) });
  const a = new Agent(app);
  await login(a, 'staff', username);
  const { codes } = orgId ? await enrolTwoFactor(a, s.userId) : { codes: [] as string[] };
  return { ...s, agent: a, codes };
}

t.test('admins must enrol: QR + secret, confirm with a code, 10 recovery codes shown once', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const admin = await createStaff(app, { username: 'admin1' });
  const a = new Agent(app);
  await a.get('/login?type=staff');
  const res = await a.post('/login', { type: 'staff', account: 'admin1', password: PASSWORD });
  t.equal(res.headers.location, '/account/2fa', 'signed in, but sent to enrol');
  t.equal((await a.get('/admin')).headers.location, '/account/2fa', 'every page sends there until enrolled');
  t.equal((await a.get('/org/messages')).headers.location, '/account/2fa');

  const page = await a.get('/account/2fa');
  t.equal(page.statusCode, 200);
  t.match(page.body, '根据平台安全策略，您的账号须启用双因素认证后才能继续使用');
  t.match(page.body, /<svg[^>]*viewBox/, 'server-rendered SVG QR code');
  t.notMatch(page.body, /<svg[^>]*style=|<path[^>]*style=/, 'no inline style attribute (CSP)');
  const row = await userRow(app, admin.userId);
  t.equal(row.totp_enabled, 0);
  t.ok(row.totp_secret_enc);
  const secret = app.ctx.secrets.decrypt(row.totp_secret_enc!);
  t.match(secret, /^[A-Z2-7]{32}$/, '160-bit base32 secret');
  t.notMatch(row.totp_secret_enc!, secret, 'stored encrypted');
  t.match(page.body, secret.match(/.{4}/g)!.join(' '), 'the secret as text for manual entry');
  t.equal(app.ctx.secrets.decrypt((await userRow(app, admin.userId)).totp_secret_enc!), secret);
  await a.get('/account/2fa');
  t.equal(app.ctx.secrets.decrypt((await userRow(app, admin.userId)).totp_secret_enc!), secret, 'a reload shows the same secret (the scan stays valid)');

  // A wrong code: 422, the error next to the field, still not enabled.
  const good = await totpCode(app, admin.userId);
  const wrong = good === '000000' ? '111111' : '000000';
  const bad = await a.post('/account/2fa', { code: wrong });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '验证码不正确');
  t.match(bad.body, 'id="e-code"');
  t.equal((await userRow(app, admin.userId)).totp_enabled, 0);

  const ok = await a.post('/account/2fa', { code: good });
  t.equal(ok.headers.location, '/account/2fa/recovery');
  const shown = await a.get('/account/2fa/recovery');
  const codes = [...shown.body.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
  t.equal(codes.length, 10, '10 recovery codes');
  t.equal(new Set(codes).size, 10);
  for (const c of codes) t.match(c, /^[a-z2-9]{5}-[a-z2-9]{5}$/);
  t.match(shown.body, 'href="/admin"', 'continue to the admin home');
  t.equal((await a.get('/account/2fa/recovery')).headers.location, '/account/2fa', 'shown once');
  const stored = await app.ctx.db.selectFrom('totp_recovery_codes').selectAll().where('user_id', '=', admin.userId).execute();
  t.equal(stored.length, 10);
  for (const c of codes) t.notOk(JSON.stringify(stored).includes(c.replace('-', '')) || JSON.stringify(stored).includes(c), 'stored hashed');
  const after = await userRow(app, admin.userId);
  t.equal(after.totp_enabled, 1);
  t.equal(after.totp_last_step, timeStep(app.clock.now().getTime()), 'the confirming code is used up');

  t.equal((await a.get('/admin')).statusCode, 200, 'enrolled: the admin pages open');
  const status = await a.get('/account/2fa');
  t.match(status.body, '已启用');
  t.match(status.body, '未使用的恢复码：<strong>10</strong>');
  t.match(status.body, '根据平台安全策略，您的账号必须使用双因素认证，不能关闭');
  // Admins cannot switch it off.
  t.equal((await a.post('/account/2fa/disable', { off_password: PASSWORD, off_code: await totpCode(app, admin.userId) })).headers.location, '/account/2fa');
  t.match((await a.get('/account/2fa')).body, '必须使用双因素认证，不能关闭');
  t.equal((await userRow(app, admin.userId)).totp_enabled, 1, 'still on');

  const enroll = await auditRows(app, '2fa.enroll');
  t.equal(enroll.length, 1);
  t.equal(enroll[0]!.user_id, admin.userId);
});

t.test('login with a code: pending until the code, a fresh session id; a code is single-use; ±1 step', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const admin = await enrolled(app, 'admin1');
  app.clock.advance(60_000);

  const a = new Agent(app);
  const first = await passwordStep(a, 'admin1');
  t.equal(first.headers.location, '/login/2fa');
  const pendingSid = a.cookies.get('zc_sid');
  t.equal((await a.get('/admin')).headers.location, '/login?type=staff&next=%2Fadmin', 'not signed in while the code is pending');
  const pending = await app.ctx.db.selectFrom('sessions').select(['data', 'user_id']).execute();
  t.ok(pending.some((s) => s.user_id === null && s.data.includes('pending2fa')), 'the pending state is server-side, with no user on the session');
  const form = await a.get('/login/2fa');
  t.equal(form.statusCode, 200);
  t.match(form.body, '双因素认证');

  const code = await totpCode(app, admin.userId);
  const ok = await a.post('/login/2fa', { code });
  t.equal(ok.statusCode, 303);
  t.equal(ok.headers.location, '/admin');
  t.not(a.cookies.get('zc_sid'), pendingSid, 'session id regenerated at sign-in');
  t.equal((await a.get('/admin')).statusCode, 200);
  t.ok((await userRow(app, admin.userId)).last_login_at);

  // Replay: the same code (same step) from another browser with the password.
  const b = new Agent(app);
  await passwordStep(b, 'admin1');
  await b.get('/login/2fa');
  const replay = await b.post('/login/2fa', { code });
  t.equal(replay.statusCode, 422);
  t.match(replay.body, '该验证码已使用过');
  t.match(replay.body, '还可以尝试4次');
  // The code of the previous step is not accepted either once a later step was used.
  const key = base32Decode(app.ctx.secrets.decrypt((await userRow(app, admin.userId)).totp_secret_enc!))!;
  const step = timeStep(app.clock.now().getTime());
  t.equal((await b.post('/login/2fa', { code: hotp(key, step - 1) })).statusCode, 422);
  // The next step's code (phone clock 30 s ahead) is accepted.
  const ahead = await b.post('/login/2fa', { code: hotp(key, step + 1) });
  t.equal(ahead.headers.location, '/admin', 'one step of drift tolerated');
  t.equal((await userRow(app, admin.userId)).totp_last_step, step + 1);
  // …after which the current step's code is a replay too.
  const c = new Agent(app);
  await passwordStep(c, 'admin1');
  await c.get('/login/2fa');
  t.match((await c.post('/login/2fa', { code: hotp(key, step) })).body, '该验证码已使用过');

  // `next` survives the second step.
  const d = new Agent(app);
  await d.get('/login?type=staff&next=%2Fadmin%2Fusers');
  await d.post('/login', { type: 'staff', account: 'admin1', password: PASSWORD, next: '/admin/users' });
  await d.get('/login/2fa');
  t.equal((await d.post('/login/2fa', { code: await totpCode(app, admin.userId) })).headers.location, '/admin/users');

  const oks = await auditRows(app, '2fa.ok');
  t.equal(oks.length, 4, 'enrolment login + 3 here');
  const fails = await auditRows(app, '2fa.fail');
  t.equal(fails.length, 3);
  t.match(fails[0]!.detail, '验证码重复使用');
  t.equal(fails[0]!.result, 'fail');
  t.equal(fails[0]!.user_id, admin.userId);
});

t.test('recovery codes: each works once; few left → a warning', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const unitOrg = (await app.ctx.db.insertInto('orgs').values({ kind: 'unit', name: '昆明市第一人民医院', created_at: app.clock.now().toISOString(), updated_at: app.clock.now().toISOString() } as any).returning('id').executeTakeFirstOrThrow()).id;
  const zhang = await enrolled(app, 'zhangwei', unitOrg);
  t.equal(zhang.codes.length, 10);

  const a = new Agent(app);
  await passwordStep(a, 'zhangwei');
  await a.get('/login/2fa');
  const used = zhang.codes[0]!;
  const ok = await a.post('/login/2fa', { code: ` ${used.toUpperCase()} ` });
  t.equal(ok.headers.location, '/org', 'a recovery code signs in (case and spaces forgiven)');
  const rec = await auditRows(app, '2fa.recovery');
  t.equal(rec.length, 1);
  t.match(rec[0]!.detail, '剩余9个');

  const b = new Agent(app);
  await passwordStep(b, 'zhangwei');
  await b.get('/login/2fa');
  const again = await b.post('/login/2fa', { code: used });
  t.equal(again.statusCode, 422, 'the same recovery code again: refused');
  t.match(again.body, '验证码不正确');

  // Use codes until 3 are left: the sign-in says so.
  for (const code of zhang.codes.slice(1, 7)) {
    const c = new Agent(app);
    await passwordStep(c, 'zhangwei');
    await c.get('/login/2fa');
    t.equal((await c.post('/login/2fa', { code })).statusCode, 303);
    const landed = await c.get('/org');
    if (code === zhang.codes[6]) t.match(landed.body, '您的恢复码仅剩3个');
  }

  // New codes (password + current code): the old ones stop working.
  const s = zhang.agent;
  await s.get('/account/2fa');
  const wrongPw = await s.post('/account/2fa/recovery-codes', { new_password: 'Wrong#2026x', new_code: '123456' });
  t.equal(wrongPw.statusCode, 422);
  t.match(wrongPw.body, '登录密码不正确');
  const regen = await s.post('/account/2fa/recovery-codes', { new_password: PASSWORD, new_code: await totpCode(app, zhang.userId) });
  t.equal(regen.headers.location, '/account/2fa/recovery');
  const fresh = [...(await s.get('/account/2fa/recovery')).body.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
  t.equal(fresh.length, 10);
  const d = new Agent(app);
  await passwordStep(d, 'zhangwei');
  await d.get('/login/2fa');
  t.equal((await d.post('/login/2fa', { code: zhang.codes[9]! })).statusCode, 422, 'an old unused code is void');
  t.equal((await d.post('/login/2fa', { code: fresh[0]! })).statusCode, 303, 'a new one works');
  t.equal((await auditRows(app, '2fa.codes')).length, 1);

  // Not required for unit staff: they may switch it off (password + code).
  await s.get('/account/2fa');
  const off = await s.post('/account/2fa/disable', { off_password: PASSWORD, off_code: await totpCode(app, zhang.userId) });
  t.equal(off.headers.location, '/account/2fa');
  const row = await userRow(app, zhang.userId);
  t.match(row, { totp_enabled: 0, totp_secret_enc: null, totp_last_step: null });
  t.equal((await app.ctx.db.selectFrom('totp_recovery_codes').select('id').where('user_id', '=', zhang.userId).execute()).length, 0);
  t.equal((await auditRows(app, '2fa.disable')).length, 1);
  const e = new Agent(app);
  t.equal((await passwordStep(e, 'zhangwei')).headers.location, '/org', 'password alone again');
});

t.test('5 wrong codes end the pending login; it also times out after 5 minutes', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const admin = await enrolled(app, 'admin1');
  app.clock.advance(60_000);
  const a = new Agent(app);
  await passwordStep(a, 'admin1');
  await a.get('/login/2fa');
  const good = await totpCode(app, admin.userId);
  const wrong = good === '000000' ? '111111' : '000000';
  for (let i = 1; i <= 4; i++) {
    const r = await a.post('/login/2fa', { code: wrong });
    t.equal(r.statusCode, 422);
    t.match(r.body, `验证码不正确，还可以尝试${5 - i}次`);
  }
  const fifth = await a.post('/login/2fa', { code: wrong });
  t.equal(fifth.headers.location, '/login?type=staff');
  t.match((await a.get('/login?type=staff')).body, '验证码连续错误5次，请重新输入密码登录');
  const late = await a.post('/login/2fa', { code: good });
  t.equal(late.headers.location, '/login?type=staff', 'the right code no longer helps: start again');
  t.equal((await a.get('/admin')).statusCode, 303, 'not signed in');
  const fails = await auditRows(app, '2fa.fail');
  t.equal(fails.length, 5);
  t.match(fails[4]!.detail, '本次登录作废');

  // Starting again with the password works.
  await passwordStep(a, 'admin1');
  await a.get('/login/2fa');
  t.equal((await a.post('/login/2fa', { code: good })).headers.location, '/admin');

  // Timeout.
  const b = new Agent(app);
  await passwordStep(b, 'admin1');
  await b.get('/login/2fa');
  app.clock.advance(5 * 60_000 + 1000);
  const code = await totpCode(app, admin.userId);
  const r = await b.post('/login/2fa', { code });
  t.equal(r.headers.location, '/login?type=staff');
  t.match((await b.get('/login?type=staff')).body, '登录验证已超时，请重新登录');
  t.equal((await b.get('/login/2fa')).headers.location, '/login?type=staff');
});

t.test('rate limits on /login/2fa: 10 codes per account per 15 min (any IP), 20 per IP per minute → 429', async (t) => {
  const app = await makeApp({ rateLimit: true });
  t.teardown(() => app.close());
  // Enrolled directly (this test is about the limiter; enrolment is tested above).
  const users: { userId: number; username: string }[] = [];
  for (const username of ['admin1', 'admin2', 'admin3', 'admin4']) {
    const s = await createStaff(app, { username });
    await app.ctx.db.updateTable('users').set({ totp_enabled: 1, totp_secret_enc: app.ctx.secrets.encrypt('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ') }).where('id', '=', s.userId).execute();
    users.push(s);
  }
  const good = await totpCode(app, users[0]!.userId);
  const wrong = good === '000000' ? '111111' : '000000';
  const cookie = (a: Agent) => [...a.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const codeFrom = async (a: Agent, ip: string, code = wrong) => {
    await a.get('/login/2fa');
    return app.app.inject({
      method: 'POST', url: '/login/2fa', remoteAddress: ip,
      payload: new URLSearchParams({ _csrf: a.csrf(), code }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie(a) },
    });
  };

  // Per account, from 10 different IPs (the 5-wrong rule ends the pending login twice).
  const a = new Agent(app);
  for (let i = 1; i <= 10; i++) {
    if (i === 1 || i === 6) await passwordStep(a, 'admin1');
    t.not((await codeFrom(a, `10.0.0.${i}`)).statusCode, 429, `code ${i} allowed`);
  }
  await passwordStep(a, 'admin1');
  const limited = await codeFrom(a, '10.0.0.99', good);
  t.equal(limited.statusCode, 429, 'the 11th code for the account, even the right one, from a new IP');
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After');
  t.match(limited.body, /操作过于频繁，请\d+秒后再试/);

  // Per IP: three other accounts (7 codes each, under their own limit), one IP (the agent's).
  let sent = 0;
  let status = 0;
  outer: for (const u of users.slice(1)) {
    const b = new Agent(app);
    for (let i = 0; i < 7; i++) {
      if (i === 0 || i === 5) await passwordStep(b, u.username);
      await b.get('/login/2fa');
      status = (await b.post('/login/2fa', { code: wrong })).statusCode;
      if (status === 429) break outer;
      sent++;
    }
  }
  t.equal(status, 429, 'the IP limit bites');
  t.equal(sent, 20, 'after 20 codes from one IP within the minute');
});

t.test('the security admin resets a user\'s 2FA: confirm, audited, sessions end, re-enrol at next login', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const admin = await enrolled(app, 'admin1');
  const sec = await createStaff(app, { username: 'sec1', name: '王芳', roles: 'security' });
  const s = new Agent(app);
  t.equal((await login(s, 'staff', 'sec1')).statusCode, 303, 'the security admin enrols too (helper)');
  t.equal((await userRow(app, sec.userId)).totp_enabled, 1);

  const target = `/admin/security/users/${admin.userId}`;
  await s.get('/admin/security/policy'); // a page with a CSRF token
  const noConfirm = await s.post(`${target}/totp-reset`, {});
  t.equal(noConfirm.headers.location, target);
  t.equal((await userRow(app, admin.userId)).totp_enabled, 1, 'nothing without the confirmation box');
  const self = await s.post(`/admin/security/users/${sec.userId}/totp-reset`, { confirm: '1' });
  t.equal(self.headers.location, `/admin/security/users/${sec.userId}`);
  t.equal((await userRow(app, sec.userId)).totp_enabled, 1, 'not one\'s own');
  t.equal((await s.post('/admin/security/users/99999/totp-reset', { confirm: '1' })).statusCode, 404);

  // The system admin is not the security admin (三权分立).
  await admin.agent.get('/admin');
  const refused = await admin.agent.post(`/admin/security/users/${sec.userId}/totp-reset`, { confirm: '1' });
  t.equal(refused.statusCode, 403);
  t.equal((await userRow(app, sec.userId)).totp_enabled, 1);

  t.equal((await admin.agent.get('/admin')).statusCode, 200);
  await s.get('/admin/security/policy');
  const done = await s.post(`${target}/totp-reset`, { confirm: '1' });
  t.equal(done.headers.location, target);
  t.match(await userRow(app, admin.userId), { totp_enabled: 0, totp_secret_enc: null, totp_last_step: null });
  t.equal((await app.ctx.db.selectFrom('totp_recovery_codes').select('id').where('user_id', '=', admin.userId).execute()).length, 0);
  t.equal((await admin.agent.get('/admin')).statusCode, 303, 'the user\'s sessions ended');
  const reset = await auditRows(app, '2fa.reset');
  t.equal(reset.length, 1);
  t.equal(reset[0]!.user_id, sec.userId, 'by the security admin');
  t.equal(reset[0]!.object_id, String(admin.userId));

  // Next login: password only, then enrolment is forced again.
  const a = new Agent(app);
  t.equal((await passwordStep(a, 'admin1')).headers.location, '/account/2fa');
});

t.test('audit rows of 2FA events hold no codes, recovery codes or secrets', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const unitOrg = (await app.ctx.db.insertInto('orgs').values({ kind: 'unit', name: '某单位', created_at: app.clock.now().toISOString(), updated_at: app.clock.now().toISOString() } as any).returning('id').executeTakeFirstOrThrow()).id;
  const z = await enrolled(app, 'zhangwei', unitOrg);
  const typed: string[] = [...z.codes];
  const a = new Agent(app);
  await passwordStep(a, 'zhangwei');
  await a.get('/login/2fa');
  await a.post('/login/2fa', { code: '000001' });
  await a.post('/login/2fa', { code: 'abcde-fghjk' });
  await a.post('/login/2fa', { code: z.codes[0]! });
  typed.push('000001', 'abcde-fghjk');
  const b = new Agent(app);
  await passwordStep(b, 'zhangwei');
  await b.get('/login/2fa');
  const code = await totpCode(app, z.userId);
  typed.push(code);
  await b.post('/login/2fa', { code });
  const secret = app.ctx.secrets.decrypt((await userRow(app, z.userId)).totp_secret_enc!);

  const rows = (await auditRows(app)).filter((r) => r.action.startsWith('2fa.'));
  t.same([...new Set(rows.map((r) => r.action))].sort(), ['2fa.enroll', '2fa.fail', '2fa.ok', '2fa.recovery']);
  const text = JSON.stringify(rows.map(({ prev_mac, mac, ...r }) => (void prev_mac, void mac, r)));
  for (const c of typed) {
    t.notOk(text.includes(c), `no ${c}`);
    t.notOk(text.includes(c.replace('-', '')), `no ${c} without the dash`);
  }
  t.notOk(text.includes(secret), 'no secret');
  t.notOk(text.includes(secret.slice(0, 8)), 'not even part of it');
  t.notOk(text.includes(PASSWORD), 'no password');
});

import t from 'tap';
import { makeApp, Agent, createStaff, createApplicant, login, idNumber, PASSWORD, type TestApp } from '../helpers/app.js';
import { checkPassword } from '../../src/domain/password.js';
import { generatePassword } from '../../src/features/admin/users.js';
import { commonPasswords } from '../../src/lib/commonPasswords.js';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const app = await makeApp();
  t.teardown(() => app.close());
  const admin = await createStaff(app);
  const a = new Agent(app);
  await login(a, 'staff', 'admin1');
  const committee = await app.ctx.db.selectFrom('orgs').select(['id', 'name']).where('code', '=', 'KMG01').executeTakeFirstOrThrow();
  const platform = await app.ctx.db.selectFrom('orgs').select(['id', 'name']).where('kind', '=', 'platform').executeTakeFirstOrThrow();
  return { app, a, admin, committee, platform };
}

/** The one-time password out of the flash on the page after the redirect. */
function oneTimePassword(html: string): string {
  const m = /初始密码：([^（<\s]+)（仅显示一次，请转告本人，首次登录须修改）/.exec(html);
  if (!m) throw new Error('no one-time password on the page');
  return m[1]!;
}

const messagesOf = (app: TestApp, userId: number) =>
  app.ctx.db.selectFrom('messages').select(['type', 'content']).where('user_id', '=', userId).orderBy('id').execute();

t.test('generated passwords pass the policy and differ', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const pw = generatePassword();
    t.ok(pw.length >= 12, 'at least 12 characters');
    t.same(checkPassword(pw, { common: commonPasswords() }), [], `${pw} passes checkPassword and the common list`);
    t.match(pw, /[A-Za-z]/);
    t.match(pw, /\d/);
    t.match(pw, /[^A-Za-z0-9]/);
    t.notMatch(pw, /[&<>"']/, 'nothing HTML would escape');
    seen.add(pw);
  }
  t.equal(seen.size, 200);
});

t.test('create a staff user: one-time password → first login must change it', async (t) => {
  const { app, a, committee } = await setup(t);
  const form = await a.get(`/admin/users/new?org=${committee.id}`);
  t.equal(form.statusCode, 200);
  for (const label of ['用户名', '姓名', '所属机构']) t.match(form.body, `<span class="req">*</span>${label}</label>`);
  t.match(form.body, '系统管理员');
  t.match(form.body, 'type="radio" id="f-role-audit" name="roles" value="audit"', 'one initial role (三权分立)');
  t.match(form.body, `<option value="${committee.id}" selected>${committee.name}</option>`, 'org preselected from ?org=');
  t.match(form.body, '<optgroup label="评委会">');

  const res = await a.post('/admin/users/new', { username: 'zhou.min', name: ' 周敏 ', org_id: String(committee.id) });
  t.equal(res.statusCode, 303);
  const row = await app.ctx.db.selectFrom('users').selectAll().where('username', '=', 'zhou.min').executeTakeFirstOrThrow();
  t.equal(res.headers.location, `/admin/users/${row.id}`);
  t.match(row, { kind: 'staff', name: '周敏', org_id: committee.id, roles: '', must_change_password: 1, disabled: 0 });
  const page = await a.get(res.headers.location as string);
  t.equal(page.statusCode, 200);
  t.match(page.body, '账号已创建，初始密码：');
  const pw = oneTimePassword(page.body);
  t.ok(pw.length >= 12);
  t.same(checkPassword(pw), []);
  t.notMatch(row.password_hash, pw, 'stored hashed');
  const again = await a.get(res.headers.location as string);
  t.notMatch(again.body, pw, 'shown only once');
  t.match(again.body, '周敏');
  t.match(again.body, '需改密');
  t.same(await messagesOf(app, row.id), [{ type: '系统消息', content: '您的账号已由平台管理员创建。首次登录须修改初始密码。' }]);

  // The new user logs in with it and is sent to change it.
  const z = new Agent(app);
  const li = await login(z, 'staff', 'zhou.min', pw);
  t.equal(li.statusCode, 303);
  t.equal(li.headers.location, '/account/password');
  const org = await z.get('/org');
  t.equal(org.headers.location, '/account/password', 'nothing else until the password is changed');

  // An admin of the platform org.
  await a.get('/admin/users/new');
  const adm = await a.post('/admin/users/new', { username: 'ops2', name: '运维二', org_id: String((await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'platform').executeTakeFirstOrThrow()).id), roles: 'admin' });
  t.equal(adm.statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('users').select('roles').where('username', '=', 'ops2').executeTakeFirstOrThrow()).roles, 'admin');
  const list = await a.get('/admin/users?kind=staff');
  t.match(list.body, '系统管理员');
  t.match(list.body, '<td>ops2</td>');
  t.match(list.body, '<td>zhou.min</td>');
});

t.test('create validation: 422, Chinese messages, typed values kept', async (t) => {
  const { app, a, committee } = await setup(t);
  await a.get('/admin/users/new');
  const cases: [Record<string, string>, string][] = [
    [{ username: '1abc' }, '用户名为3–32位字母、数字或 _ . -，以字母开头'],
    [{ username: 'ab' }, '用户名为3–32位字母、数字或 _ . -，以字母开头'],
    [{ username: 'admin1' }, '该用户名已被使用'],
    [{ name: '' }, '请填写姓名'],
    [{ org_id: '' }, '请填写所属机构'],
    [{ org_id: '99999' }, '请选择所属机构'],
    [{ roles: 'admin' }, '系统管理员角色只能授予平台运营机构的用户'],
  ];
  for (const [patch, msg] of cases) {
    const form = { username: 'newuser', name: '新用户', org_id: String(committee.id), ...patch };
    const res = await a.post('/admin/users/new', form);
    t.equal(res.statusCode, 422, msg);
    t.match(res.body, msg);
    t.match(res.body, 'class="error-summary"');
    t.match(res.body, `value="${form.username}"`, 'username kept');
    if (form.name) t.match(res.body, `value="${form.name}"`, 'name kept');
    if (patch.roles) t.match(res.body, 'value="admin" checked', 'role box kept');
    if (form.org_id === String(committee.id)) t.match(res.body, `<option value="${committee.id}" selected>`, 'org kept');
  }
  // A disabled org is not offered and not accepted.
  const unitId = (await app.ctx.db.insertInto('orgs').values({ kind: 'unit', name: '已停用单位', disabled: 1, created_at: 'x', updated_at: 'x' }).returning('id').executeTakeFirstOrThrow()).id;
  t.notMatch((await a.get('/admin/users/new')).body, '已停用单位');
  const off = await a.post('/admin/users/new', { username: 'newuser', name: '新用户', org_id: String(unitId) });
  t.equal(off.statusCode, 422);
  t.match(off.body, '该机构已停用，请选择其他机构');
  t.equal(await app.ctx.db.selectFrom('users').select('id').where('username', '=', 'newuser').executeTakeFirst(), undefined);
});

t.test('reset password: confirm page, one-time password, the user\'s sessions end', async (t) => {
  const { app, a, committee } = await setup(t);
  const target = await createStaff(app, { username: 'wangfang', name: '王芳', orgId: committee.id, roles: '' });
  const b = new Agent(app);
  t.equal((await login(b, 'staff', 'wangfang')).headers.location, '/org');
  t.equal((await b.get('/org')).statusCode, 200);

  const confirm = await a.get(`/admin/users/${target.userId}/reset-password`);
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, '确定重置“王芳”的登录密码吗？');
  t.match(confirm.body, `action="/admin/users/${target.userId}/reset-password"`);
  t.match(confirm.body, '确认重置');
  const res = await a.post(`/admin/users/${target.userId}/reset-password`);
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, `/admin/users/${target.userId}`);
  const page = await a.get(res.headers.location as string);
  t.match(page.body, '密码已重置，新的初始密码：');
  const pw = oneTimePassword(page.body);

  const gone = await b.get('/org');
  t.equal(gone.statusCode, 303, 'the target is signed out');
  t.match(String(gone.headers.location), /^\/login/);
  t.equal((await app.ctx.db.selectFrom('sessions').select('sid').where('user_id', '=', target.userId).execute()).length, 0);
  t.equal((await a.get('/admin/users')).statusCode, 200, 'the admin stays signed in');

  const old = await login(new Agent(app), 'staff', 'wangfang', PASSWORD);
  t.equal(old.statusCode, 422, 'the old password no longer works');
  const fresh = await login(new Agent(app), 'staff', 'wangfang', pw);
  t.equal(fresh.headers.location, '/account/password');
  t.match(await messagesOf(app, target.userId), [{ type: '系统消息', content: '您的登录密码已由平台管理员重置，请使用新的初始密码登录并立即修改。' }]);

  // An applicant's password can be reset too; their page only ever shows masked data.
  const id = idNumber('19900307', '123');
  const ap = await createApplicant(app, { id, phone: '13800138000' });
  const apPage = await a.get(`/admin/users/${ap.userId}`);
  t.match(apPage.body, `${id.slice(0, 4)}**********${id.slice(14)}`);
  t.match(apPage.body, '138****8000');
  t.notMatch(apPage.body, id, 'never the clear ID number');
  t.notMatch(apPage.body, '13800138000', 'never the clear phone');
  t.notMatch(apPage.body, '修改用户信息', 'no staff edit form for an applicant');
  await a.get(`/admin/users/${ap.userId}/reset-password`);
  t.equal((await a.post(`/admin/users/${ap.userId}/reset-password`)).statusCode, 303);
  const apPw = oneTimePassword((await a.get(`/admin/users/${ap.userId}`)).body);
  t.equal((await login(new Agent(app), 'applicant', id, apPw)).headers.location, '/account/password');
});

t.test('lock → login refused → unlock → login works; disable → 账号已停用 → enable', async (t) => {
  const { app, a, committee } = await setup(t);
  const target = await createStaff(app, { username: 'liqiang', name: '李强', orgId: committee.id, roles: '' });
  const b = new Agent(app);
  await login(b, 'staff', 'liqiang');
  t.equal((await b.get('/org')).statusCode, 200);

  await a.get(`/admin/users/${target.userId}`);
  const lock = await a.post(`/admin/users/${target.userId}/lock`);
  t.equal(lock.statusCode, 303);
  const locked = await a.get(`/admin/users/${target.userId}`);
  t.match(locked.body, '账号已锁定');
  t.match(locked.body, '已锁定');
  t.match(locked.body, '账号已锁定，由安全管理员解锁', 'unlock is the security admin\'s (三权分立)');
  t.notMatch(locked.body, `/admin/users/${target.userId}/unlock`);
  t.not((await app.ctx.db.selectFrom('users').select('locked_at').where('id', '=', target.userId).executeTakeFirstOrThrow()).locked_at, null);
  t.equal((await b.get('/org')).statusCode, 303, 'locking signs the user out');
  const refused = await login(new Agent(app), 'staff', 'liqiang');
  t.equal(refused.statusCode, 422);
  t.match(refused.body, '账号已锁定，请联系平台管理员解锁。');
  const lockedList = await a.get('/admin/users?status=locked');
  t.match(lockedList.body, '李强');
  t.match(lockedList.body, '共 1 条');

  // Three wrong passwords lock too; the security admin's unlock clears the counter.
  await app.ctx.db.updateTable('users').set({ failed_logins: 3 }).where('id', '=', target.userId).execute();
  t.equal((await a.post(`/admin/users/${target.userId}/unlock`)).statusCode, 404, 'the system admin has no unlock');
  await createStaff(app, { username: 'sec1', name: '王安', roles: 'security' });
  const sec = new Agent(app);
  await login(sec, 'staff', 'sec1');
  await sec.get(`/admin/security/users/${target.userId}`);
  await sec.post(`/admin/security/users/${target.userId}/unlock`);
  t.match((await sec.get(`/admin/security/users/${target.userId}`)).body, '账号已解锁');
  t.match(await app.ctx.db.selectFrom('users').select(['locked_at', 'failed_logins']).where('id', '=', target.userId).executeTakeFirstOrThrow(), { locked_at: null, failed_logins: 0 });
  t.equal((await login(new Agent(app), 'staff', 'liqiang')).headers.location, '/org');
  t.equal((await a.get('/admin/users?status=locked')).body.includes('李强'), false);

  // Disable: confirmation first.
  const c = await a.get(`/admin/users/${target.userId}/disable`);
  t.equal(c.statusCode, 200);
  t.match(c.body, '确定停用“李强”的账号吗？');
  t.match(c.body, '确认停用');
  const b2 = new Agent(app);
  await login(b2, 'staff', 'liqiang');
  t.equal((await b2.get('/org')).statusCode, 200);
  t.equal((await a.post(`/admin/users/${target.userId}/disable`)).statusCode, 303);
  t.match((await a.get(`/admin/users/${target.userId}`)).body, '账号已停用');
  t.equal((await b2.get('/org')).statusCode, 303, 'disabling signs the user out');
  const off = await login(new Agent(app), 'staff', 'liqiang');
  t.equal(off.statusCode, 422);
  t.match(off.body, '账号已停用');
  const disabledList = await a.get('/admin/users?status=disabled');
  t.match(disabledList.body, '李强');
  t.match(disabledList.body, '已停用');

  await a.get(`/admin/users/${target.userId}`);
  t.equal((await a.post(`/admin/users/${target.userId}/enable`)).statusCode, 303);
  t.match((await a.get(`/admin/users/${target.userId}`)).body, '账号已启用');
  t.equal((await login(new Agent(app), 'staff', 'liqiang')).headers.location, '/org');

  t.same((await messagesOf(app, target.userId)).map((m) => m.content), [
    '您的账号已被平台管理员锁定。如有疑问请联系平台管理员。',
    '您的账号已由安全管理员解锁。',
    '您的账号已被平台管理员停用。',
    '您的账号已由平台管理员启用。',
  ]);
});

t.test('an admin cannot disable, lock or reset themselves, nor drop their own admin role', async (t) => {
  const { app, a, admin, platform } = await setup(t);
  const me = `/admin/users/${admin.userId}`;
  const page = await a.get(me);
  t.match(page.body, '这是您自己的账号');
  t.notMatch(page.body, `${me}/disable`);
  const d = await a.get(`${me}/disable`);
  t.equal(d.statusCode, 303);
  t.match((await a.get(me)).body, '不能停用自己的账号');
  t.equal((await a.post(`${me}/disable`)).statusCode, 303);
  t.match((await a.get(me)).body, '不能停用自己的账号');
  await a.post(`${me}/lock`);
  t.match((await a.get(me)).body, '不能锁定自己的账号');
  await a.post(`${me}/reset-password`);
  t.match((await a.get(me)).body, '不能重置自己的密码');
  // Roles are not edited here at all (the security admin's job): saving keeps the role.
  await a.get(me);
  const drop = await a.post(me, { name: '李娜', org_id: String(platform.id) });
  t.equal(drop.statusCode, 303);
  t.match(await app.ctx.db.selectFrom('users').selectAll().where('id', '=', admin.userId).executeTakeFirstOrThrow(), { disabled: 0, locked_at: null, roles: 'admin' });
  t.equal((await a.get('/admin')).statusCode, 200, 'still signed in');
});

t.test('edit a staff user; the list: masked personal data, search, filters, 404s', async (t) => {
  const { app, a, committee, platform } = await setup(t);
  const target = await createStaff(app, { username: 'chenjie', name: '陈杰', orgId: committee.id, roles: '' });
  const page = await a.get(`/admin/users/${target.userId}`);
  t.match(page.body, 'value="陈杰"');
  t.match(page.body, `<option value="${committee.id}" selected>`);
  const bad = await a.post(`/admin/users/${target.userId}`, { name: '陈杰杰', org_id: '' });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '请填写所属机构');
  t.match(bad.body, 'value="陈杰杰"');
  // A forged roles field is ignored: roles are the security admin's (三权分立).
  const ok = await a.post(`/admin/users/${target.userId}`, { name: '陈洁', org_id: String(platform.id), roles: 'admin' });
  t.equal(ok.statusCode, 303);
  t.match((await a.get(`/admin/users/${target.userId}`)).body, '用户信息已保存');
  t.match(await app.ctx.db.selectFrom('users').selectAll().where('id', '=', target.userId).executeTakeFirstOrThrow(), { name: '陈洁', org_id: platform.id, roles: '' });
  t.match(await messagesOf(app, target.userId), [{ content: '您的账号信息（姓名或所属机构）已由系统管理员修改。' }]);

  const id = idNumber('19851231', '321');
  await createApplicant(app, { name: '赵丽', id, phone: '13912345678' });
  const apps = await a.get('/admin/users?kind=applicant');
  t.match(apps.body, '赵丽');
  t.match(apps.body, `<span class="pii">${id.slice(0, 4)}**********${id.slice(14)}</span>`);
  t.match(apps.body, '<span class="pii">139****5678</span>');
  t.notMatch(apps.body, '显示完整', 'no reveal button without the permission');
  t.notMatch(apps.body, id);
  t.notMatch(apps.body, '13912345678');
  t.notMatch(apps.body, '陈洁', 'staff filtered out');
  t.match(apps.body, '申报人');
  const byName = await a.get(`/admin/users?q=${encodeURIComponent('赵')}`);
  t.match(byName.body, '赵丽');
  t.match(byName.body, '共 1 条');
  const byUsername = await a.get('/admin/users?q=chenj');
  t.match(byUsername.body, '陈洁');
  t.match(byUsername.body, '共 1 条');
  const byId = await a.get(`/admin/users?q=${id}`);
  t.match(byId.body, '赵丽', 'a full ID number finds the person via the look-up hash');
  t.match(byId.body, '共 1 条');
  const byOrg = await a.get(`/admin/users?org=${committee.id}`);
  t.match(byOrg.body, '共 0 条', '陈洁 moved to the platform org');
  for (let i = 0; i < 25; i++) await createStaff(app, { username: `bulk${i}`, name: `批量${i}`, orgId: committee.id, roles: '' });
  const p1 = await a.get(`/admin/users?org=${committee.id}`);
  t.match(p1.body, '共 25 条');
  t.match(p1.body, `href="/admin/users?org=${committee.id}&page=2"`, 'pager keeps the filter');
  const p2 = await a.get(`/admin/users?org=${committee.id}&page=2`);
  t.match(p2.body, '第 2 / 2 页');
  t.equal((p2.body.match(/>管理<\/a>/g) ?? []).length, 5);

  t.equal((await a.get('/admin/users/99999')).statusCode, 404);
  t.equal((await a.get('/admin/users/x1')).statusCode, 404);
  t.equal((await a.post('/admin/users/99999/lock')).statusCode, 404);
  t.equal((await a.get('/admin/users/99999/reset-password')).statusCode, 404);
});

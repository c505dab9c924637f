import t from 'tap';
import { makeApp, Agent, createApplicant, createStaff, login, idNumber, PASSWORD, type TestApp } from '../helpers/app.js';
import { kunming, makePng, org, uscc } from '../helpers/world.js';
import { USCC_TAKEN } from '../../src/features/units/service.js';
import { reencodeImage } from '../../src/lib/reencode.js';

/** POSTs a multipart form the way the page does: the CSRF token (of the last page) as its first field. */
async function postMultipart(app: TestApp, agent: Agent, url: string, fields: Record<string, string>, files: Record<string, { name: string; bytes: Buffer; type?: string }> = {}) {
  const fd = new FormData();
  fd.append('_csrf', agent.csrf());
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const [k, f] of Object.entries(files)) fd.append(k, new Blob([new Uint8Array(f.bytes)], { type: f.type ?? 'application/octet-stream' }), f.name);
  const r = new Response(fd);
  const payload = Buffer.from(await r.arrayBuffer());
  const res = await app.app.inject({
    method: 'POST', url, payload,
    headers: { 'content-type': r.headers.get('content-type')!, cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  for (const c of res.cookies as { name: string; value: string }[]) agent.cookies.set(c.name, c.value);
  if (String(res.headers['content-type'] ?? '').startsWith('text/html')) agent.lastHtml = res.body;
  return res;
}

const LICENSE = makePng(300, 200, 7);
const FORM = (o: Record<string, string> = {}) => ({
  kind: 'unit', uscc: uscc(501), name: '昆明市第三中学', legal_rep: '王建国', industry: '教育', location: '530102', address: '昆明市五华区文林街1号',
  contact: '刘芳', phone: '0871-64138302', username: 'km3zhong', password: 'Km3#zhong2026', password2: 'Km3#zhong2026', ...o,
});

t.test('单位注册: link from the login page, happy path, logged in, files kept', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = new Agent(app);
  const loginPage = await a.get('/login?type=staff');
  t.match(loginPage.body, 'href="/units/register">单位注册</a>');
  const page = await a.get('/units/register');
  t.equal(page.statusCode, 200);
  for (const s of ['统一社会信用代码', '单位名称', '法定代表人', '单位行业', '单位所在地', '单位地址', '营业执照', '单位签章', '联系人', '联系电话', '用户名', '确认密码', '五华区']) t.match(page.body, s);
  t.match(page.body, /action="\/units\/register" enctype="multipart\/form-data" novalidate class="grid-form">\s*<input type="hidden" name="_csrf" value="[^"]+">/, 'the token is the first field, not in the URL');

  const res = await postMultipart(app, a, '/units/register', FORM(), { license: { name: '营业执照.png', bytes: LICENSE }, seal: { name: '公章.png', bytes: makePng(120, 120, 3) } });
  t.equal(res.statusCode, 303, res.body.slice(0, 300));
  t.equal(res.headers.location, '/org/unit');
  const o = await app.ctx.db.selectFrom('orgs').selectAll().where('uscc', '=', uscc(501)).executeTakeFirstOrThrow();
  t.equal(o.kind, 'unit');
  t.equal(o.name, '昆明市第三中学');
  t.equal(o.legal_rep, '王建国');
  t.equal(o.industry, '教育');
  t.equal(o.location, '530102');
  t.equal(o.region_code, '530102', 'a county 所在地 is the 行政区域 too');
  t.equal(o.phone, '0871-64138302', 'landline accepted');
  t.ok(o.license_file_id && o.seal_file_id, 'both files stored');
  const u = await app.ctx.db.selectFrom('users').selectAll().where('username', '=', 'km3zhong').executeTakeFirstOrThrow();
  t.equal(u.kind, 'staff');
  t.equal(u.org_id, o.id);
  t.equal(u.roles, 'unit_admin');
  t.equal(u.must_change_password, 0);
  const f = await app.ctx.db.selectFrom('files').selectAll().where('id', '=', o.license_file_id!).executeTakeFirstOrThrow();
  t.equal(f.user_id, u.id, 'the file belongs to the new staff user');
  // Audited with the new account as the actor and the source IP; no phone, no password.
  const reg = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'unit_register').execute();
  t.equal(reg.length, 1, 'one unit_register row');
  t.match(reg[0], { user_id: u.id, username: 'km3zhong', name: '刘芳', role: 'unit_admin', org_id: o.id, object_type: 'org', object_id: String(o.id), result: 'ok' });
  t.match(reg[0]!.detail, '用人单位：昆明市第三中学，单位管理员账号 km3zhong');
  t.ok(reg[0]!.ip, 'source IP recorded');
  t.notMatch(JSON.stringify(reg), '64138302', 'no contact phone');
  t.notMatch(JSON.stringify(reg), 'Km3#zhong2026', 'no password');

  // Logged in, on 单位信息, with the notice of what is missing.
  const info = await a.get('/org/unit');
  t.equal(info.statusCode, 200);
  t.match(info.body, '单位注册成功');
  t.match(info.body, '单位信息不完整');
  t.match(info.body, '单位性质');
  t.match(info.body, '单位等级');
  t.match(info.body, '昆明市第三中学');
  t.match(info.body, uscc(501));
  for (const s of ['单位信息', '主管部门', '工作人员', '专业技术人员管理']) t.match(info.body, `>${s}</a>`, `menu: ${s}`);
  const lic = await a.get('/org/unit/files/license');
  t.equal(lic.statusCode, 200);
  t.equal(lic.headers['content-type'], 'image/png');
  // Stored re-encoded from its pixels (no metadata), so not byte for byte the upload.
  const kept = reencodeImage(LICENSE, 'image/png');
  t.same(lic.rawPayload, kept.ok ? kept.buffer : null);

  // Replacing the seal: a PDF is refused, a PNG replaces the old file (whose row goes).
  const oldSeal = o.seal_file_id!;
  let up = await postMultipart(app, a, '/org/unit/files/seal', {}, { file: { name: 'seal.pdf', bytes: Buffer.from('%PDF-1.4\n%%EOF\n', 'latin1') } });
  t.equal(up.statusCode, 303);
  t.match((await a.get('/org/unit')).body, '单位签章上传失败：单位签章只能是 jpg 或 png 图片');
  up = await postMultipart(app, a, '/org/unit/files/seal', {}, { file: { name: 'seal2.png', bytes: makePng(100, 100, 9) } });
  t.equal(up.statusCode, 303);
  t.match((await a.get('/org/unit')).body, '单位签章已上传');
  const o2 = await app.ctx.db.selectFrom('orgs').select('seal_file_id').where('id', '=', o.id).executeTakeFirstOrThrow();
  t.not(o2.seal_file_id, oldSeal);
  t.equal(await app.ctx.db.selectFrom('files').select('id').where('id', '=', oldSeal).executeTakeFirst(), undefined, 'the old seal file is dropped');

  // The new account logs in with its password.
  const b = new Agent(app);
  const r = await login(b, 'staff', 'km3zhong', 'Km3#zhong2026');
  t.equal(r.headers.location, '/org');
});

t.test('单位注册: duplicate and bad USCC, missing fields keep typed values, agency', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  await org(app, { kind: 'unit', name: '已注册单位', uscc: uscc(7) });
  const a = new Agent(app);
  await a.get('/units/register');

  let res = await postMultipart(app, a, '/units/register', FORM({ uscc: uscc(7) }), { license: { name: 'l.png', bytes: LICENSE } });
  t.equal(res.statusCode, 422);
  t.match(res.body, USCC_TAKEN);
  t.match(res.body, 'value="昆明市第三中学"', 'typed values kept');
  t.notMatch(res.body, 'Km3#zhong2026', 'passwords not echoed');

  const bad = uscc(8).slice(0, 17) + (uscc(8).endsWith('0') ? '1' : '0');
  res = await postMultipart(app, a, '/units/register', FORM({ uscc: bad }), { license: { name: 'l.png', bytes: LICENSE } });
  t.equal(res.statusCode, 422);
  t.match(res.body, '统一社会信用代码校验位不正确');

  res = await postMultipart(app, a, '/units/register', FORM({ uscc: '123', name: '', phone: '12345', password2: 'x' }));
  t.equal(res.statusCode, 422);
  t.match(res.body, '统一社会信用代码应为18位');
  t.match(res.body, '请填写单位名称');
  t.match(res.body, '联系电话应为11位手机号或带区号的固定电话');
  t.match(res.body, '请上传营业执照彩色扫描件');
  t.match(res.body, '两次输入的密码不一致');

  // A text file called .png is refused by content.
  res = await postMultipart(app, a, '/units/register', FORM(), { license: { name: 'l.png', bytes: Buffer.from('not an image') } });
  t.equal(res.statusCode, 422);
  t.match(res.body, '只能上传 jpg、png 或 pdf 文件');
  t.equal((await app.ctx.db.selectFrom('orgs').select('id').where('uscc', '=', uscc(501)).execute()).length, 0, 'nothing created');

  // 人事代理机构 with a mobile phone.
  res = await postMultipart(app, a, '/units/register', FORM({ kind: 'agency', name: '昆明市人才服务中心', phone: '13987654321' }), { license: { name: 'l.pdf', bytes: Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n', 'latin1') } });
  t.equal(res.statusCode, 303);
  const o = await app.ctx.db.selectFrom('orgs').selectAll().where('uscc', '=', uscc(501)).executeTakeFirstOrThrow();
  t.equal(o.kind, 'agency');
  t.equal(o.phone, '13987654321');

  // Username taken.
  const c = new Agent(app);
  await c.get('/units/register');
  res = await postMultipart(app, c, '/units/register', FORM({ uscc: uscc(502) }), { license: { name: 'l.png', bytes: LICENSE } });
  t.equal(res.statusCode, 422);
  t.match(res.body, '该用户名已被使用');
});

async function unitWithAdmin(app: TestApp, o: Record<string, unknown> = {}) {
  const unit = await org(app, { kind: 'unit', name: '昆明市第五中学', uscc: uscc(55), region_code: '530102', phone: '0871-60000000', ...o });
  await createStaff(app, { username: 'wz_admin', name: '周敏', orgId: unit, roles: 'unit_admin' });
  const a = new Agent(app);
  await login(a, 'staff', 'wz_admin');
  return { unit, a };
}

t.test('单位信息: validation, county region, remark limit, the notice', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const { unit, a } = await unitWithAdmin(app);
  let page = await a.get('/org/unit');
  t.equal(page.statusCode, 200);
  t.match(page.body, '单位信息不完整');
  const good = { name: '昆明市第五中学', nature: 'non_public', unit_level: 'city', region_code: '530102', contact: '周敏', phone: '0871-60000000', fax: '', address: '五华区', remark: '' };

  let res = await a.post('/org/unit', { ...good, nature: '', unit_level: '', region_code: '530100', phone: 'abc', remark: '字'.repeat(101), fax: '123' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请选择单位性质');
  t.match(res.body, '请选择单位等级');
  t.match(res.body, '行政区域须选到区县');
  t.match(res.body, '联系电话应为11位手机号或带区号的固定电话');
  t.match(res.body, '备注不能超过100个字');
  t.match(res.body, '传真应为带区号的号码');
  t.match(res.body, '字'.repeat(101), 'typed remark kept');

  res = await a.post('/org/unit', { ...good, remark: '字'.repeat(100), fax: '0871-60000001' });
  t.equal(res.statusCode, 303);
  let o = await app.ctx.db.selectFrom('orgs').selectAll().where('id', '=', unit).executeTakeFirstOrThrow();
  t.equal(o.nature, 'non_public');
  t.equal(o.unit_level, 'city');
  t.equal(o.fax, '0871-60000001');
  t.equal(o.remark, '字'.repeat(100));
  page = await a.get('/org/unit');
  t.match(page.body, '单位信息已保存');
  t.notMatch(page.body, '单位信息不完整', 'non-public unit with nature, level and county: complete');

  // A public unit also needs an approved supervisor.
  res = await a.post('/org/unit', { ...good, nature: 'institution' });
  t.equal(res.statusCode, 303);
  page = await a.get('/org/unit');
  t.match(page.body, '单位信息不完整');
  t.match(page.body, '主管部门（未选择或审核未通过）');
  o = await app.ctx.db.selectFrom('orgs').selectAll().where('id', '=', unit).executeTakeFirstOrThrow();
  t.equal(o.nature, 'institution');
  t.ok((await app.ctx.db.selectFrom('audit_log').select(['action', 'ip', 'object_id']).execute()).some((r) => r.action === 'unit_update' && r.object_id === String(unit) && r.ip), '单位信息 edits are audited');
});

t.test('工作人员: add with a person link, read-only for non-admins, disable ends sessions, reset', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const { unit, a } = await unitWithAdmin(app);
  const person = await createApplicant(app, { name: '孙涛', id: idNumber('19870505', '321'), phone: '13911112222' });

  let page = await a.get('/org/unit/staff');
  t.equal(page.statusCode, 200);
  t.match(page.body, '新增工作人员');
  const badId = person.id.slice(0, 17) + (person.id.endsWith('0') ? '1' : '0');
  let res = await a.post('/org/unit/staff', { username: 'wz_sun', name: '孙涛', idNumber: badId });
  t.equal(res.statusCode, 422);
  t.match(res.body, '身份证号校验位不正确');
  res = await a.post('/org/unit/staff', { username: 'wz_sun', name: '孙涛涛', idNumber: person.id });
  t.equal(res.statusCode, 422);
  t.match(res.body, '姓名与该身份证号注册的个人账号不一致');
  res = await a.post('/org/unit/staff', { username: 'wz_admin', name: '孙涛', idNumber: person.id });
  t.match(res.body, '该用户名已被使用');
  res = await a.post('/org/unit/staff', { username: 'wz_sun', name: '孙涛', idNumber: person.id });
  t.equal(res.statusCode, 303);
  page = await a.get('/org/unit/staff');
  t.match(page.body, '已关联该工作人员的个人账号');
  const pw = /初始密码：([^（]+)（/.exec(page.body)![1]!;
  const sun = await app.ctx.db.selectFrom('users').selectAll().where('username', '=', 'wz_sun').executeTakeFirstOrThrow();
  t.equal(sun.person_user_id, person.userId);
  t.equal(sun.org_id, unit);
  t.equal(sun.must_change_password, 1);
  t.equal(sun.roles, '');
  t.match(page.body, '5301**********');

  // Not linked when no personal account has that ID.
  res = await a.post('/org/unit/staff', { username: 'wz_li', name: '李雷', idNumber: idNumber('19900101', '111') });
  t.equal(res.statusCode, 303);
  t.match((await a.get('/org/unit/staff')).body, '未找到该身份证号注册的个人账号');

  // The new staff member: must change the password first, then sees the list read-only.
  const s = new Agent(app);
  let r = await login(s, 'staff', 'wz_sun', pw);
  t.equal(r.headers.location, '/account/password');
  await app.ctx.db.updateTable('users').set({ must_change_password: 0 }).where('id', '=', sun.id).execute();
  page = await s.get('/org/unit/staff');
  t.equal(page.statusCode, 200);
  t.notMatch(page.body, '新增工作人员');
  t.notMatch(page.body, '重置密码');
  // Admin flag on creation: audited as part of the user_create row.
  await a.get('/org/unit/staff');
  t.equal((await a.post('/org/unit/staff', { username: 'wz_zhao', name: '赵敏', idNumber: idNumber('19920202', '113'), unit_admin: '1' })).statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('users').select('roles').where('username', '=', 'wz_zhao').executeTakeFirstOrThrow()).roles, 'unit_admin');
  res = await s.post('/org/unit/staff', { username: 'wz_x', name: '某某', idNumber: idNumber('19900101', '112') });
  t.equal(res.statusCode, 403, 'only the unit admin adds staff');
  t.equal((await s.get(`/org/unit/staff/${sun.id}/reset-password`)).statusCode, 403);

  // Disable: sessions end; enable again.
  t.ok((await app.ctx.db.selectFrom('sessions').select('sid').where('user_id', '=', sun.id).execute()).length > 0);
  page = await a.get(`/org/unit/staff/${sun.id}/disable`);
  t.match(page.body, '确定停用');
  res = await a.post(`/org/unit/staff/${sun.id}/disable`);
  t.equal(res.statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('users').select('disabled').where('id', '=', sun.id).executeTakeFirstOrThrow()).disabled, 1);
  t.equal((await app.ctx.db.selectFrom('sessions').select('sid').where('user_id', '=', sun.id).execute()).length, 0, 'sessions ended');
  r = await s.get('/org/unit/staff');
  t.equal(r.statusCode, 303, 'the disabled user is out');
  res = await a.post(`/org/unit/staff/${sun.id}/enable`);
  t.equal((await app.ctx.db.selectFrom('users').select('disabled').where('id', '=', sun.id).executeTakeFirstOrThrow()).disabled, 0);

  // Reset password: a new one-time password, must change it.
  res = await a.post(`/org/unit/staff/${sun.id}/reset-password`);
  t.equal(res.statusCode, 303);
  page = await a.get('/org/unit/staff');
  const pw2 = /新的初始密码：([^（]+)（/.exec(page.body)![1]!;
  t.not(pw2, pw);
  const s2 = new Agent(app);
  r = await login(s2, 'staff', 'wz_sun', pw2);
  t.equal(r.headers.location, '/account/password');

  // Not on oneself; another unit's staff id is not found.
  const me = await app.ctx.db.selectFrom('users').select('id').where('username', '=', 'wz_admin').executeTakeFirstOrThrow();
  res = await a.post(`/org/unit/staff/${me.id}/disable`);
  t.equal((await app.ctx.db.selectFrom('users').select('disabled').where('id', '=', me.id).executeTakeFirstOrThrow()).disabled, 0, 'cannot disable oneself');
  const other = await org(app, { kind: 'unit', name: '别的单位', uscc: uscc(56) });
  const stranger = await createStaff(app, { username: 'other_admin', orgId: other, roles: 'unit_admin' });
  t.equal((await a.post(`/org/unit/staff/${stranger.userId}/disable`)).statusCode, 404);
  t.equal((await a.get(`/org/unit/staff/${stranger.userId}/reset-password`)).statusCode, 404);

  // Every operation above is in the audit log: the unit admin, the target account, the source IP.
  const admin = await app.ctx.db.selectFrom('users').select('id').where('username', '=', 'wz_admin').executeTakeFirstOrThrow();
  const rows = await app.ctx.db.selectFrom('audit_log').selectAll().where('user_id', '=', admin.id).where('action', '!=', 'login').orderBy('id').execute();
  const zhao = await app.ctx.db.selectFrom('users').select('id').where('username', '=', 'wz_zhao').executeTakeFirstOrThrow();
  const li = await app.ctx.db.selectFrom('users').select('id').where('username', '=', 'wz_li').executeTakeFirstOrThrow();
  t.same(rows.map((r) => [r.action, r.object_id, r.result]), [
    ['user_create', String(sun.id), 'ok'],
    ['user_create', String(li.id), 'ok'],
    ['user_create', String(zhao.id), 'ok'],
    ['user_disable', String(sun.id), 'ok'],
    ['user_enable', String(sun.id), 'ok'],
    ['password_reset', String(sun.id), 'ok'],
  ]);
  t.match(rows[0]!.detail, '用户名 wz_sun，普通工作人员，已关联个人账号');
  t.match(rows[1]!.detail, '未关联个人账号');
  t.match(rows[2]!.detail, '用户名 wz_zhao，授予单位管理员');
  t.match(rows[5]!.detail, '单位重置工作人员密码');
  t.ok(rows.every((r) => r.ip && r.username === 'wz_admin' && r.org_id === unit && r.object_type === 'user'), 'actor, unit and source IP on every row');
  const dump = JSON.stringify(rows);
  for (const v of [person.id, badId, person.phone, pw, pw2]) t.notMatch(dump, v, 'no ID number, phone or password');
  t.notMatch(dump, /\d{17}[\dX]/, 'no ID number at all');
});

t.test('access: applicants and other orgs are refused', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await createApplicant(app, { unitOrgId: w.unit });
  const ap = new Agent(app);
  await login(ap, 'applicant', zhang.phone);
  for (const url of ['/org/unit', '/org/unit/supervisor', '/org/unit/staff', '/org/people', '/org/people/import', '/org/unit-reviews']) {
    t.equal((await ap.get(url)).statusCode, 403, `applicant: ${url}`);
  }
  const sup = new Agent(app);
  await login(sup, 'staff', w.staff.supervisor);
  for (const url of ['/org/unit', '/org/unit/staff', '/org/people', `/org/people/${zhang.userId}/message`]) {
    t.equal((await sup.get(url)).statusCode, 403, `supervisor staff: ${url}`);
  }
  t.equal((await sup.get('/org/unit-reviews')).statusCode, 200);
  const un = new Agent(app);
  await login(un, 'staff', w.staff.unit);
  t.equal((await un.get('/org/unit-reviews')).statusCode, 403, 'unit staff: 单位审核 is the supervisor’s');
  t.equal((await un.get('/org/unit')).statusCode, 200);
  const hrb = new Agent(app);
  await login(hrb, 'staff', w.staff.county);
  t.equal((await hrb.get('/org/people')).statusCode, 403);
  const anon = new Agent(app);
  const r = await anon.get('/org/unit');
  t.equal(r.statusCode, 303);
  t.match(String(r.headers.location), '/login');
  void PASSWORD;
});

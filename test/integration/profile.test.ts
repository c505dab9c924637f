import t from 'tap';
import { makeApp, Agent, createApplicant, login, type TestApp } from '../helpers/app.js';
import { PROFILE_FIELDS } from '../../src/domain/profile.js';
import type { OrgKind } from '../../src/db/schema.js';

const MAJOR = '工学 - 计算机科学与技术 - 计算机应用';

async function addOrg(app: TestApp, kind: OrgKind, name: string, disabled = 0) {
  const stamp = app.clock.now().toISOString();
  const row = await app.ctx.db.insertInto('orgs').values({ kind, name, disabled, created_at: stamp, updated_at: stamp }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

async function setup() {
  const app = await makeApp();
  const unitId = await addOrg(app, 'unit', '昆明市第一人民医院');
  const zhang = await createApplicant(app);
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  const dicts = await app.ctx.dicts.ready();
  const specialty = dicts.searchTree('specialty', '工程', 1)[0]!;
  /** A complete, valid profile form. */
  const valid = (): Record<string, string> => ({
    name: '张伟',
    former_name: '张小伟',
    native_place: '云南昆明',
    ethnic: '汉族',
    political: '中共党员',
    major: MAJOR,
    academic_roles: '云南省计算机学会会员',
    email: 'zhangwei@example.com',
    address: '昆明市五华区人民中路1号',
    postcode: '650000',
    department: '信息科',
    position: '无',
    specialty,
    unit_q: '',
    unit_org_id: String(unitId),
  });
  return { app, a, zhang, unitId, specialty, valid };
}

/** The <option> of a select value, selected or not. */
const option = (value: string | number, selected = false) => `<option value="${value}"${selected ? ' selected' : ''}>`;

t.test('GET /me/profile: masked ID only, birth month and gender from the ID number', async (t) => {
  const { app, a, zhang } = await setup();
  t.teardown(() => app.close());
  const res = await a.get('/me/profile');
  t.equal(res.statusCode, 200);
  t.match(res.body, '<h1>基本信息</h1>');
  t.match(res.body, `${zhang.id.slice(0, 4)}**********${zhang.id.slice(-4)}`, 'masked ID shown');
  t.notMatch(res.body, zhang.id, 'the full ID number is never in the page');
  t.notMatch(res.body, zhang.phone, 'nor the full phone number');
  t.match(res.body, '138****8000', 'masked phone');
  t.match(res.body, /出生年月<\/label><p>1990-03 /, 'birth month from 19900307');
  t.match(res.body, /性别<\/label><p>男 /, 'gender from the 17th digit (odd)');
  t.match(res.body, 'value="张伟"', 'name from the account');
  t.match(res.body, '请先输入单位名称搜索', 'no unit yet');
  t.match(res.body, '请先输入关键字搜索', 'tree fields start empty');
  for (const f of PROFILE_FIELDS) t.match(res.body, f.label, `label ${f.label}`);
});

t.test('saving an empty form: 422, every required message, error summary, nothing saved', async (t) => {
  const { app, a, zhang } = await setup();
  t.teardown(() => app.close());
  await a.get('/me/profile');
  const empty: Record<string, string> = { name: '', unit_q: '', unit_org_id: '' };
  for (const f of PROFILE_FIELDS) empty[f.key] = '';
  const res = await a.post('/me/profile', empty);
  t.equal(res.statusCode, 422);
  t.match(res.body, '请修改以下问题后重新提交：', 'error summary');
  t.match(res.body, '<li><a href="#f-name">请填写姓名</a></li>');
  t.match(res.body, '<li><a href="#f-unit_org_id">请选择工作单位（先输入单位名称搜索）</a></li>');
  const required = PROFILE_FIELDS.filter((f) => f.required);
  t.ok(required.length >= 10, 'many required fields');
  for (const f of required) {
    const msg = ['select', 'radio', 'tree'].includes(f.type) ? `请选择${f.label}` : `请填写${f.label}`;
    t.match(res.body, `<li><a href="#f-${f.key}">${msg}</a></li>`, `summary: ${msg}`);
    t.match(res.body, `<small class="err" id="e-${f.key}">${msg}</small>`, `next to the field: ${msg}`);
  }
  for (const f of PROFILE_FIELDS.filter((x) => !x.required)) t.notMatch(res.body, `请填写${f.label}`, `${f.key} is optional`);
  t.equal(await app.ctx.db.selectFrom('profiles').select('user_id').executeTakeFirst(), undefined, 'no profile row');
  const u = await app.ctx.db.selectFrom('users').select(['name', 'unit_org_id']).where('id', '=', zhang.userId).executeTakeFirstOrThrow();
  t.same(u, { name: '张伟', unit_org_id: null }, 'account untouched');
});

t.test('bad email, 5-digit postcode: messages, typed values kept', async (t) => {
  const { app, a, valid } = await setup();
  t.teardown(() => app.close());
  await a.get('/me/profile');
  const res = await a.post('/me/profile', { ...valid(), email: 'zhangwei@example', postcode: '65000', address: '昆明市<五华区>' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '<small class="err" id="e-email">', 'the email error sits at the field');
  t.match(res.body, '邮箱格式不正确');
  t.match(res.body, '邮政编码应为6位数字');
  t.match(res.body, 'value="zhangwei@example"', 'typed email kept');
  t.match(res.body, 'value="65000"', 'typed postcode kept');
  t.match(res.body, 'value="昆明市&lt;五华区&gt;"', 'typed text kept and escaped');
  t.match(res.body, option(MAJOR, true), 'tree choice kept');
  t.match(res.body, option('汉族', true), 'select choice kept');
  t.match(res.body, '昆明市第一人民医院', 'chosen unit kept as an option');
  t.equal(await app.ctx.db.selectFrom('profiles').select('user_id').executeTakeFirst(), undefined, 'nothing saved');

  // A field over its limit, counted in characters.
  const r3 = await a.post('/me/profile', { ...valid(), postcode: '6500001', former_name: '𠮷'.repeat(21) });
  t.match(r3.body, '<li><a href="#f-postcode">邮政编码应为6位数字</a></li>', '7 digits: the postcode rule speaks');
  t.match(r3.body, '曾用名不能超过20个字（当前21个字）');
});

t.test('no-JS 工作单位 search: re-render with every typed value kept and the matching units', async (t) => {
  const { app, a, unitId, valid } = await setup();
  t.teardown(() => app.close());
  const agency = await addOrg(app, 'agency', '昆明市人民医院人才服务中心');
  const disabled = await addOrg(app, 'unit', '昆明市第二人民医院', 1);
  const committee = await addOrg(app, 'committee', '昆明市人民医院评审委员会');
  await a.get('/me/profile');
  const typed = { ...valid(), unit_org_id: '', name: '张伟伟', address: '昆明市盘龙区北京路2号', email: 'bad-email' };
  let res = await a.post('/me/profile', { ...typed, _search: 'unit', unit_q: '人民医院' });
  t.equal(res.statusCode, 200, 'a search is not a failed save');
  t.notMatch(res.body, '请修改以下问题后重新提交', 'no validation on search');
  t.notMatch(res.body, '邮箱格式不正确');
  t.match(res.body, `${option(unitId)}昆明市第一人民医院</option>`, 'the unit is offered');
  t.match(res.body, `${option(agency)}昆明市人民医院人才服务中心（人事代理机构/行业协会）</option>`, 'agencies too, labelled');
  t.notMatch(res.body, option(disabled), 'disabled units are not offered');
  t.notMatch(res.body, option(committee), 'committees are not units');
  t.match(res.body, 'name="unit_q" value="人民医院"', 'search text kept');
  t.notMatch(res.body, '<small class="err">检索不到单位', 'found');
  for (const [k, v] of Object.entries(typed)) {
    if (k === 'unit_org_id' || k === 'unit_q' || v === '') continue;
    if (['ethnic', 'political', 'major', 'specialty'].includes(k)) t.match(res.body, option(v, true), `${k} kept (selected)`);
    else t.match(res.body, `value="${v}"`, `${k} kept`);
  }
  t.equal(await app.ctx.db.selectFrom('profiles').select('user_id').executeTakeFirst(), undefined, 'a search saves nothing');

  // No match: the advice to have the unit register.
  res = await a.post('/me/profile', { ...typed, _search: 'unit', unit_q: '不存在的单位' });
  t.equal(res.statusCode, 200);
  t.match(res.body, '<small class="err">检索不到单位：联系单位在本系统注册单位账号</small>');
  t.match(res.body, 'value="张伟伟"', 'values still kept');
  // LIKE wildcards are taken literally.
  res = await a.post('/me/profile', { ...typed, _search: 'unit', unit_q: '%' });
  t.match(res.body, '<small class="err">检索不到单位：联系单位在本系统注册单位账号</small>', '% matches nothing');
  t.notMatch(res.body, option(unitId));

  // Then pick the unit and save.
  await a.post('/me/profile', { ...typed, _search: 'unit', unit_q: '第一人民' });
  res = await a.post('/me/profile', { ...valid(), name: '张伟伟', unit_q: '第一人民', unit_org_id: String(unitId) });
  t.equal(res.statusCode, 303);
});

t.test('no-JS tree 搜索 offers leaves; other choices kept', async (t) => {
  const { app, a, specialty, valid } = await setup();
  t.teardown(() => app.close());
  await a.get('/me/profile');
  let res = await a.post('/me/profile', { ...valid(), major: '', _search: 'major', major_q: '计算机' });
  t.equal(res.statusCode, 200);
  t.match(res.body, 'name="major_q" value="计算机"', 'search text kept');
  t.match(res.body, option(MAJOR), `offers ${MAJOR}`);
  t.match(res.body, /<option value="[^"]+ - [^"]+ - 计算机应用技术">/, 'and other 计算机 leaves');
  t.match(res.body, option(specialty, true), 'the other tree field keeps its choice');
  t.match(res.body, option('中共党员', true));
  t.notMatch(res.body, '请修改以下问题后重新提交');
  res = await a.post('/me/profile', { ...valid(), major: '', _search: 'major', major_q: '量子炼金术' });
  t.equal(res.statusCode, 200);
  t.match(res.body, '没有找到“量子炼金术”');
  t.match(res.body, '没有匹配的专业');
  // 其他: free text for a tree.
  res = await a.post('/me/profile', { ...valid(), major: '__other__', major_other: '职称档案管理' });
  t.equal(res.statusCode, 303, '其他 with text is accepted');
  const data = JSON.parse((await app.ctx.db.selectFrom('profiles').select('data').executeTakeFirstOrThrow()).data);
  t.equal(data.major, '职称档案管理');
  res = await a.get('/me/profile');
  t.match(res.body, '<option value="__other__" selected>', '其他 selected again');
  t.match(res.body, 'value="职称档案管理" class="other"', 'its text shown');
});

t.test('a full valid save: 303, values shown, account name and unit updated', async (t) => {
  const { app, a, zhang, unitId, specialty, valid } = await setup();
  t.teardown(() => app.close());
  await a.get('/me/profile');
  let res = await a.post('/me/profile', { ...valid(), name: ' 张伟强 ' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/me/profile');
  res = await a.get('/me/profile');
  t.equal(res.statusCode, 200);
  t.match(res.body, '基本信息已保存', 'flash');
  t.match(res.body, 'value="张伟强"', 'trimmed name');
  for (const [k, v] of Object.entries(valid())) {
    if (k === 'name' || k === 'unit_q' || v === '') continue;
    if (k === 'unit_org_id') t.match(res.body, `${option(unitId, true)}昆明市第一人民医院</option>`, 'unit selected');
    else if (['ethnic', 'political', 'major', 'specialty'].includes(k)) t.match(res.body, option(v, true), `${k} shown`);
    else t.match(res.body, `value="${v}"`, `${k} shown`);
  }
  const u = await app.ctx.db.selectFrom('users').select(['name', 'unit_org_id']).where('id', '=', zhang.userId).executeTakeFirstOrThrow();
  t.same(u, { name: '张伟强', unit_org_id: unitId });
  const data = JSON.parse((await app.ctx.db.selectFrom('profiles').select('data').where('user_id', '=', zhang.userId).executeTakeFirstOrThrow()).data);
  t.same(data, {
    former_name: '张小伟', native_place: '云南昆明', ethnic: '汉族', political: '中共党员', major: MAJOR, academic_roles: '云南省计算机学会会员',
    email: 'zhangwei@example.com', address: '昆明市五华区人民中路1号',
    postcode: '650000', department: '信息科', position: '无', specialty,
    // 人员身份 (issue #13), optional, left empty here.
    staff_type: null, agency_start: null, post_origin: null, post_since: null, postdoc_out: null, dispatched: null,
  }, 'stored normalised (numbers as numbers); name and unit live on the account');

  // Saving again (an update) works, and an emptied optional field is cleared.
  await a.get('/me/profile');
  res = await a.post('/me/profile', { ...valid(), former_name: '', department: '网络中心' });
  t.equal(res.statusCode, 303);
  const again = JSON.parse((await app.ctx.db.selectFrom('profiles').select('data').where('user_id', '=', zhang.userId).executeTakeFirstOrThrow()).data);
  t.equal(again.former_name, null);
  t.equal(again.department, '网络中心');
  t.equal((await app.ctx.db.selectFrom('profiles').select('user_id').execute()).length, 1, 'one row per user');
});

t.test('the unit must be a registered, enabled unit or agency', async (t) => {
  const { app, a, zhang, valid } = await setup();
  t.teardown(() => app.close());
  const committee = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').executeTakeFirstOrThrow()).id;
  const platform = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'platform').executeTakeFirstOrThrow()).id;
  const disabled = await addOrg(app, 'unit', '昆明市第二人民医院', 1);
  const agency = await addOrg(app, 'agency', '昆明市人才服务中心');
  await a.get('/me/profile');
  for (const [what, id] of [['a committee', committee], ['the platform', platform], ['a disabled unit', disabled], ['no such org', 999999], ['not a number', 'abc']] as const) {
    const res = await a.post('/me/profile', { ...valid(), unit_org_id: String(id) });
    t.equal(res.statusCode, 422, what);
    t.match(res.body, '<li><a href="#f-unit_org_id">请选择工作单位（先输入单位名称搜索）</a></li>', what);
  }
  t.equal((await app.ctx.db.selectFrom('users').select('unit_org_id').where('id', '=', zhang.userId).executeTakeFirstOrThrow()).unit_org_id, null);
  const res = await a.post('/me/profile', { ...valid(), unit_org_id: String(agency) });
  t.equal(res.statusCode, 303, 'an HR agency is accepted (freelancers)');
  t.equal((await app.ctx.db.selectFrom('users').select('unit_org_id').where('id', '=', zhang.userId).executeTakeFirstOrThrow()).unit_org_id, agency);
});

t.test('htmx type-ahead: GET /me/dicts/tree returns <option>s', async (t) => {
  const { app, a } = await setup();
  t.teardown(() => app.close());
  const hx = { 'hx-request': 'true' };
  let res = await a.get('/me/dicts/tree?dict=major&field=major&major_q=' + encodeURIComponent('计算机'), hx);
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], 'text/html');
  t.notMatch(res.body, '<html', 'a fragment');
  t.notMatch(res.body, '<select', 'options only (swapped into the select)');
  t.match(res.body.trim(), /^<option value="">请选择<\/option>/);
  t.match(res.body, option(MAJOR));
  t.match(res.body, '<option value="__other__">其他（手动输入）</option>', '其他 stays available');
  const n = (res.body.match(/<option /g) ?? []).length;
  t.ok(n > 3, `${n} options`);
  // Two terms narrow the search.
  res = await a.get('/me/dicts/tree?dict=major&field=major&major_q=' + encodeURIComponent('计算机 应用'), hx);
  t.match(res.body, option(MAJOR));
  t.notMatch(res.body, '计算机网络技术');
  // specialty, with the field's own name.
  res = await a.get('/me/dicts/tree?dict=specialty&field=specialty&specialty_q=' + encodeURIComponent('工程'), hx);
  t.equal(res.statusCode, 200);
  t.match(res.body, / - [^"]*工程">/);
  // Nothing found / nothing typed.
  res = await a.get('/me/dicts/tree?dict=major&field=major&major_q=' + encodeURIComponent('量子炼金术'), hx);
  t.match(res.body, '<option value="">没有匹配的专业</option>');
  res = await a.get('/me/dicts/tree?dict=major&field=major&major_q=', hx);
  t.match(res.body, '<option value="">请先输入关键字搜索</option>');
  // Escaped.
  res = await a.get('/me/dicts/tree?dict=major&field=major&major_q=' + encodeURIComponent('<script>'), hx);
  t.notMatch(res.body, '<script>');
  // Only the tree dictionaries.
  for (const bad of ['ethnic', 'titles', 'nonsense', '']) {
    res = await a.get(`/me/dicts/tree?dict=${bad}&field=major&major_q=` + encodeURIComponent('计算机'), hx);
    t.equal(res.statusCode, 404, `dict=${bad || '(empty)'} → 404`);
  }
  // Applicants only.
  const anon = new Agent(app);
  res = await anon.get('/me/dicts/tree?dict=major&field=major&major_q=' + encodeURIComponent('计算机'), hx);
  t.match(res.headers['hx-redirect'], /^\/login/, 'visitors: htmx is sent to the login page');
  t.notMatch(res.body, MAJOR);
  res = await anon.get('/me/dicts/tree?dict=major&field=major&major_q=' + encodeURIComponent('计算机'));
  t.equal(res.statusCode, 303, 'visitors without htmx: redirected');
});

t.test('another applicant sees only their own profile', async (t) => {
  const { app, a, zhang, valid } = await setup();
  t.teardown(() => app.close());
  await a.get('/me/profile');
  t.equal((await a.post('/me/profile', { ...valid(), address: '张伟的家庭住址', email: 'zw1990@hospital.cn' })).statusCode, 303);

  const li = await createApplicant(app, { name: '李娜', id: '11010519491231002X', phone: '13900001111' });
  const b = new Agent(app);
  await login(b, 'applicant', li.phone);
  let res = await b.get('/me/profile');
  t.equal(res.statusCode, 200);
  t.match(res.body, 'value="李娜"', 'her name');
  t.match(res.body, '1101**********002X', 'her masked ID');
  t.match(res.body, /出生年月<\/label><p>1949-12 /, 'her birth month');
  t.match(res.body, /性别<\/label><p>女 /, 'her gender (even 17th digit)');
  t.notMatch(res.body, '张伟的家庭住址', 'not my address');
  t.notMatch(res.body, 'zw1990@hospital.cn', 'not my email');
  t.notMatch(res.body, '昆明市第一人民医院', 'not my unit');
  t.notMatch(res.body, zhang.id.slice(0, 4) + '**********' + zhang.id.slice(-4), 'not my ID');
  // Her save does not touch mine.
  res = await b.post('/me/profile', { ...valid(), name: '李娜', address: '李娜的家庭住址' });
  t.equal(res.statusCode, 303);
  const mine = JSON.parse((await app.ctx.db.selectFrom('profiles').select('data').where('user_id', '=', zhang.userId).executeTakeFirstOrThrow()).data);
  t.equal(mine.address, '张伟的家庭住址');
  t.equal((await app.ctx.db.selectFrom('users').select('name').where('id', '=', zhang.userId).executeTakeFirstOrThrow()).name, '张伟');
  // Visitors are sent to log in.
  const anon = new Agent(app);
  res = await anon.get('/me/profile');
  t.not(res.statusCode, 200);
  t.notMatch(res.body, '张伟的家庭住址');
});

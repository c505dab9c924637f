import t from 'tap';
import { makeApp, Agent, createStaff, login, type TestApp } from '../helpers/app.js';
import { usccCheckChar } from '../../src/domain/uscc.js';

const uscc = (first17: string) => first17 + usccCheckChar(first17);
const USCC_A = uscc('12530100431234567');
const USCC_B = uscc('91530102MA6K12345');

async function adminAgent(app: TestApp) {
  await createStaff(app);
  const a = new Agent(app);
  await login(a, 'staff', 'admin1');
  return a;
}

t.test('create a unit: form → 303 → edit page; irrelevant fields dropped; list search and filter', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = await adminAgent(app);
  const form = await a.get('/admin/orgs/new');
  t.equal(form.statusCode, 200);
  for (const label of ['类型', '名称', '级别', '评审范围', '组建部门', '统一社会信用代码', '单位性质', '单位等级', '主管部门', '行政区域', '地址', '联系电话', '联系人', '停用']) {
    t.match(form.body, `${label}</label>`, `label ${label}`);
  }
  t.match(form.body, '<span class="req">*</span>类型');
  t.match(form.body, '<span class="req">*</span>名称');
  t.match(form.body, '<option value="530102">云南省 / 昆明市 / 五华区</option>', 'region labels with the full path');
  t.match(form.body, '<option value="institution">事业单位</option>', 'unit natures from the dictionary');
  t.notMatch(form.body, '<option value="platform">', 'no second platform org');

  const res = await a.post('/admin/orgs/new', {
    kind: 'unit', name: ' 昆明市第一中学 ', uscc: USCC_A.toLowerCase(), nature: 'institution', unit_level: 'city', region_code: '530102',
    address: '五华区华山南路1号', phone: '0871-65123456', contact: '王老师',
    hrb_level: 'city', committee_level: 'senior', scope: '无关', organizer: '无关',
  });
  t.equal(res.statusCode, 303);
  const row = await app.ctx.db.selectFrom('orgs').selectAll().where('name', '=', '昆明市第一中学').executeTakeFirstOrThrow();
  t.equal(res.headers.location, `/admin/orgs/${row.id}`);
  t.match(row, {
    kind: 'unit', uscc: USCC_A, nature: 'institution', unit_level: 'city', region_code: '530102', address: '五华区华山南路1号',
    phone: '0871-65123456', contact: '王老师', hrb_level: null, committee_level: null, scope: null, organizer: null, disabled: 0,
  });
  const page = await a.get(res.headers.location as string);
  t.equal(page.statusCode, 200);
  t.match(page.body, '机构“昆明市第一中学”已创建');
  t.match(page.body, 'value="昆明市第一中学"');
  t.match(page.body, '<option value="530102" selected>云南省 / 昆明市 / 五华区</option>');
  t.match(page.body, '<option value="institution" selected>事业单位</option>');

  const list = await a.get(`/admin/orgs?q=${encodeURIComponent('第一中学')}`);
  t.match(list.body, `<a href="/admin/orgs/${row.id}">昆明市第一中学</a>`);
  t.match(list.body, '共 1 条');
  t.match(list.body, '用人单位');
  const hrbs = await a.get('/admin/orgs?kind=hrb');
  t.notMatch(hrbs.body, '昆明市第一中学', 'filtered out by kind');
  t.match(hrbs.body, '昆明市人力资源和社会保障局');
  t.match(hrbs.body, '共 23 条', 'the 23 fixture bureaus');
  t.match(hrbs.body, '20 条/页');
  const page2 = await a.get('/admin/orgs?kind=hrb&page=2');
  t.match(page2.body, '第 2 / 2 页');
  const wild = await a.get(`/admin/orgs?q=${encodeURIComponent('%')}`);
  t.match(wild.body, '共 0 条', 'LIKE wildcards in the search are literal');
});

t.test('org validation: 422 with Chinese messages, values kept', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = await adminAgent(app);
  await a.get('/admin/orgs/new');

  const missing = await a.post('/admin/orgs/new', { kind: '', name: '', phone: '0871-1' });
  t.equal(missing.statusCode, 422);
  t.match(missing.body, '请填写类型');
  t.match(missing.body, '请填写名称');
  t.match(missing.body, 'value="0871-1"');

  const hrb = await a.post('/admin/orgs/new', { kind: 'hrb', name: '测试县人社局', region_code: '530102' });
  t.equal(hrb.statusCode, 422);
  t.match(hrb.body, '请选择级别');
  t.match(hrb.body, 'value="测试县人社局"');
  t.match(hrb.body, '<option value="hrb" selected>人社局</option>');

  // 证书编号规则 of a committee: checked by the pattern rule, stored when valid.
  const badPattern = await a.post('/admin/orgs/new', { kind: 'committee', name: '证书规则评委会', committee_level: 'senior', cert_pattern: 'KM{SEQ:5}' });
  t.equal(badPattern.statusCode, 422);
  t.match(badPattern.body, '证书编号规则必须包含年份 {YYYY} 或 {YY}');
  t.match(badPattern.body, 'value="KM{SEQ:5}"', 'the pattern typed is kept');
  const goodPattern = await a.post('/admin/orgs/new', { kind: 'committee', name: '证书规则评委会', committee_level: 'senior', cert_pattern: 'KM{YYYY}{SEQ:4}' });
  t.equal(goodPattern.statusCode, 303);
  const saved = await app.ctx.db.selectFrom('orgs').select(['cert_pattern']).where('name', '=', '证书规则评委会').executeTakeFirstOrThrow();
  t.equal(saved.cert_pattern, 'KM{YYYY}{SEQ:4}');
  await a.get('/admin/orgs/new');

  const badUscc = USCC_A.slice(0, 17) + (USCC_A.endsWith('0') ? '1' : '0');
  const cases: [Record<string, string>, string][] = [
    [{ uscc: badUscc }, '统一社会信用代码校验位不正确'],
    [{ uscc: '123' }, '统一社会信用代码应为18位'],
    [{ nature: 'nonsense' }, '请选择单位性质'],
    [{ region_code: '999999' }, '请选择行政区域'],
    [{ supervisor_org_id: '1' }, '请选择主管部门'], // org 1 is the platform, not a 主管部门
    [{ phone: 'call me' }, '联系电话只能包含数字'],
    [{ name: '名'.repeat(101) }, '名称不能超过100个字'],
  ];
  for (const [patch, msg] of cases) {
    const res = await a.post('/admin/orgs/new', { kind: 'unit', name: '测试单位', ...patch });
    t.equal(res.statusCode, 422, msg);
    t.match(res.body, msg);
    t.match(res.body, 'class="error-summary"');
  }
  t.equal(Number((await app.ctx.db.selectFrom('orgs').select((eb) => eb.fn.countAll<number>().as('n')).where('name', '=', '测试单位').executeTakeFirstOrThrow()).n), 0);

  // The same USCC twice: refused, whatever the case.
  t.equal((await a.post('/admin/orgs/new', { kind: 'unit', name: '甲单位', uscc: USCC_B })).statusCode, 303);
  await a.get('/admin/orgs/new');
  const dup = await a.post('/admin/orgs/new', { kind: 'agency', name: '乙协会', uscc: USCC_B.toLowerCase() });
  t.equal(dup.statusCode, 422);
  t.match(dup.body, '该统一社会信用代码已注册');
  t.match(dup.body, 'value="乙协会"');
  // A committee does not carry a USCC, so the same code there is ignored, not a conflict.
  const committee = await a.post('/admin/orgs/new', { kind: 'committee', name: '测试评委会', uscc: USCC_B, committee_level: 'intermediate', scope: '测试范围', organizer: '测试局' });
  t.equal(committee.statusCode, 303);
  const c = await app.ctx.db.selectFrom('orgs').selectAll().where('name', '=', '测试评委会').executeTakeFirstOrThrow();
  t.match(c, { uscc: null, committee_level: 'intermediate', scope: '测试范围', organizer: '测试局' });
});

t.test('edit: supervisor binding, keeping own USCC, platform org protected, 404s', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = await adminAgent(app);
  const db = app.ctx.db;
  await a.get('/admin/orgs/new');
  t.equal((await a.post('/admin/orgs/new', { kind: 'supervisor', name: '昆明市教育体育局', region_code: '530100' })).statusCode, 303);
  const sup = await db.selectFrom('orgs').select('id').where('name', '=', '昆明市教育体育局').executeTakeFirstOrThrow();
  const created = await a.post('/admin/orgs/new', { kind: 'unit', name: '昆明市第二中学', uscc: USCC_A, supervisor_org_id: String(sup.id) });
  t.equal(created.statusCode, 303);
  const unit = await db.selectFrom('orgs').selectAll().where('name', '=', '昆明市第二中学').executeTakeFirstOrThrow();
  t.equal(unit.supervisor_org_id, sup.id);

  const edit = await a.get(`/admin/orgs/${unit.id}`);
  t.match(edit.body, `<option value="${sup.id}" selected>昆明市教育体育局</option>`);
  t.match(edit.body, `value="${USCC_A}"`);
  // Saving with its own USCC is no conflict; disabling is kept.
  const saved = await a.post(`/admin/orgs/${unit.id}`, { kind: 'unit', name: '昆明市第二中学', uscc: USCC_A, supervisor_org_id: String(sup.id), phone: '0871-66668888', disabled: '1' });
  t.equal(saved.statusCode, 303);
  t.equal(saved.headers.location, `/admin/orgs/${unit.id}`);
  const after = await db.selectFrom('orgs').selectAll().where('id', '=', unit.id).executeTakeFirstOrThrow();
  t.match(after, { phone: '0871-66668888', disabled: 1, uscc: USCC_A });
  const shown = await a.get(`/admin/orgs/${unit.id}`);
  t.match(shown.body, '机构信息已保存');
  t.match(shown.body, 'name="disabled" value="1" checked');
  const list = await a.get(`/admin/orgs?q=${encodeURIComponent('第二中学')}`);
  t.match(list.body, '已停用');

  // Changing kind to hrb drops the unit fields.
  const toHrb = await a.post(`/admin/orgs/${unit.id}`, { kind: 'hrb', name: '改为人社局', hrb_level: 'county', uscc: USCC_A, supervisor_org_id: String(sup.id) });
  t.equal(toHrb.statusCode, 303);
  t.match(await db.selectFrom('orgs').selectAll().where('id', '=', unit.id).executeTakeFirstOrThrow(), { kind: 'hrb', hrb_level: 'county', uscc: null, supervisor_org_id: null });

  // A committee edited keeps its fixture plan months.
  const kmg01 = await db.selectFrom('orgs').selectAll().where('code', '=', 'KMG01').executeTakeFirstOrThrow();
  const cPage = await a.get(`/admin/orgs/${kmg01.id}`);
  t.match(cPage.body, '<option value="senior" selected>高级</option>');
  t.equal((await a.post(`/admin/orgs/${kmg01.id}`, { kind: 'committee', name: kmg01.name, committee_level: 'senior', scope: kmg01.scope!, organizer: kmg01.organizer!, phone: '0871-65165787', region_code: '530100' })).statusCode, 303);
  t.match(await db.selectFrom('orgs').selectAll().where('id', '=', kmg01.id).executeTakeFirstOrThrow(), { phone: '0871-65165787', plan_months: kmg01.plan_months, series_code: kmg01.series_code });

  // The platform org: kind fixed, cannot be disabled, no second one.
  const platform = await db.selectFrom('orgs').select(['id', 'name']).where('kind', '=', 'platform').executeTakeFirstOrThrow();
  await a.get(`/admin/orgs/${platform.id}`);
  const p1 = await a.post(`/admin/orgs/${platform.id}`, { kind: 'unit', name: platform.name });
  t.equal(p1.statusCode, 422);
  t.match(p1.body, '平台机构的类型不能修改');
  const p2 = await a.post(`/admin/orgs/${platform.id}`, { kind: 'platform', name: platform.name, disabled: '1' });
  t.equal(p2.statusCode, 422);
  t.match(p2.body, '不能停用平台机构');
  const p3 = await a.post('/admin/orgs/new', { kind: 'platform', name: '第二平台' });
  t.equal(p3.statusCode, 422);
  t.match(p3.body, '平台机构只有一个');

  t.equal((await a.get('/admin/orgs/99999')).statusCode, 404);
  t.equal((await a.get('/admin/orgs/abc')).statusCode, 404);
  t.equal((await a.post('/admin/orgs/99999', { kind: 'unit', name: 'x' })).statusCode, 404);
});

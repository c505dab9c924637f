import t from 'tap';
import { makeApp, Agent, createStaff, login } from '../helpers/app.js';
import { org } from '../helpers/world.js';
import { titleOptions } from '../../src/features/declaration/cover.js';

/**
 * 数据字典: the system admin maintains the 职称名称 of a series (add, rename, disable/enable; never
 * deleted); a disabled title or region is no longer offered, while a record that has one keeps it.
 */
t.test('职称名称 editing; disabled titles and regions leave the pickers, not the old records', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  await createStaff(app);
  const a = new Agent(app);
  await login(a, 'staff', 'admin1');
  const series = await app.ctx.db.selectFrom('series').selectAll().where('name', 'like', '%卫生技术%').executeTakeFirstOrThrow();
  const base = `/admin/dicts/series/${series.code}/titles`;

  t.match((await a.get('/admin/dicts/series')).body, `href="${base}"`, 'each series links to its titles');
  const page = await a.get(base);
  t.equal(page.statusCode, 200);
  t.match(page.body, '副主任医师');

  // Add: errors next to the fields, typed text kept; a duplicate refused.
  let r = await a.post(base, { level: '', track: '', name: '' });
  t.equal(r.statusCode, 422);
  t.match(r.body, '请选择级别');
  t.match(r.body, '请填写职称名称');
  r = await a.post(base, { level: 'senior_vice', track: '医疗类', name: '副主任医师' });
  t.equal(r.statusCode, 422);
  t.match(r.body, '已有“副主任医师”');
  t.match(r.body, 'value="副主任医师"');
  r = await a.post(base, { level: 'senior_vice', track: '', name: '副主任康复医师' });
  t.equal(r.statusCode, 303);
  const added = await app.ctx.db.selectFrom('titles').selectAll().where('name', '=', '副主任康复医师').executeTakeFirstOrThrow();
  t.match(added, { series_code: series.code, level: 'senior_vice', track: null, disabled: 0 });
  await app.ctx.dicts.ready();
  const label = `${series.name} - 副主任康复医师`;
  t.ok(app.ctx.dicts.options('titles').some((o) => o.name === label), 'offered at once');
  const plan = { series_code: series.code, any_series: 0, committee_series: null };
  t.ok((await titleOptions(app.ctx, plan, 'senior_vice')).includes(label), 'on the cover too');

  // Rename, then disable: no longer offered, except to the declaration that already names it.
  r = await a.post(`/admin/dicts/titles/${added.id}`, { name: '副主任康复治疗医师' });
  t.equal(r.statusCode, 303);
  t.match((await a.get(base)).body, '已改名：副主任康复医师 → 副主任康复治疗医师');
  r = await a.post(`/admin/dicts/titles/${added.id}`, { name: '副主任康复治疗医师', toggle: '1' });
  t.equal(r.statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('titles').select('disabled').where('id', '=', added.id).executeTakeFirstOrThrow()).disabled, 1);
  await app.ctx.dicts.ready();
  const renamed = `${series.name} - 副主任康复治疗医师`;
  t.notOk(app.ctx.dicts.options('titles').some((o) => o.name === renamed), 'a disabled title is not offered');
  t.notOk((await titleOptions(app.ctx, plan, 'senior_vice')).includes(renamed), 'nor on the cover');
  t.ok((await titleOptions(app.ctx, plan, 'senior_vice', renamed)).includes(renamed), 'except on the cover that already has it');
  t.ok((await titleOptions(app.ctx, plan, 'senior_vice')).includes(`${series.name} - 副主任医师`));
  const audited = await app.ctx.db.selectFrom('audit_log').select('detail').where('object_type', '=', 'dict:titles').orderBy('id').execute();
  t.same(audited.map((x) => x.detail), ['新增职称：' + series.name + ' 副高级 副主任康复医师', '职称改名：副主任康复医师 → 副主任康复治疗医师', '停用职称：副主任康复治疗医师']);

  // Only the system admin.
  await createStaff(app, { username: 'sec_wang', name: '王芳', roles: 'security' });
  const sec = new Agent(app);
  await login(sec, 'staff', 'sec_wang');
  t.equal((await sec.get(base)).statusCode, 403);

  // ---- regions: 五华区 disabled ----
  const unitId = await org(app, { kind: 'unit', name: '昆明市第一中学', region_code: '530102', nature: 'institution', unit_level: 'city' });
  r = await a.get('/admin/dicts/regions');
  r = await a.post('/admin/dicts/regions/530102', { name: '五华区', toggle: '1' });
  t.equal(r.statusCode, 303);
  const fresh = await a.get('/admin/orgs/new');
  t.notMatch(fresh.body, '<option value="530102"', 'not offered for a new organisation');
  t.match(fresh.body, '<option value="530103">', 'its neighbours still are');
  r = await a.post('/admin/orgs/new', { kind: 'unit', name: '昆明市第二中学', nature: 'institution', unit_level: 'city', region_code: '530102' });
  t.equal(r.statusCode, 422);
  t.match(r.body, '请选择行政区域');
  t.match(r.body, 'value="昆明市第二中学"', 'what was typed is kept');
  const old = await a.get(`/admin/orgs/${unitId}`);
  t.match(old.body, '<option value="530102" selected>云南省 / 昆明市 / 五华区（已停用）</option>', 'the old record keeps and shows its region');
  r = await a.post(`/admin/orgs/${unitId}`, { kind: 'unit', name: '昆明市第一中学', nature: 'institution', unit_level: 'city', region_code: '530102', address: '华山南路1号' });
  t.equal(r.statusCode, 303, 'and can be saved unchanged');
  t.match((await a.get(`/admin/orgs?q=${encodeURIComponent('第一中学')}`)).body, '云南省 / 昆明市 / 五华区', 'lists still name it');
  const reg = await new Agent(app).get('/units/register');
  t.notMatch(reg.body, 'value="530102"', 'not offered at unit registration');
});

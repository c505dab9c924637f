import t from 'tap';
import { makeApp, Agent, createStaff, login } from '../helpers/app.js';

t.test('dictionary browser: list, enums, trees, series, regions, committees', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  await createStaff(app);
  const a = new Agent(app);
  await login(a, 'staff', 'admin1');

  const home = await a.get('/admin/dicts');
  t.equal(home.statusCode, 200);
  t.match(home.body, /<a href="\/admin\/dicts\/unit_nature">单位性质<\/a><\/td><td>unit_nature<\/td><td>8<\/td>/);
  t.match(home.body, /<a href="\/admin\/dicts\/major">所学专业<\/a> <small class="muted">（树形）<\/small><\/td><td>major<\/td><td>482<\/td>/);
  t.match(home.body, /<a href="\/admin\/dicts\/specialty">从事专业<\/a>.*<td>687<\/td>/);
  t.match(home.body, /<a href="\/admin\/dicts\/ethnic">民族<\/a><\/td><td>ethnic<\/td><td>58<\/td>/);
  t.match(home.body, '26 个系列 / 231 个职称');
  t.match(home.body, /行政区域<\/a><\/td><td>37<\/td>/);
  t.match(home.body, /评委会<\/a><\/td><td>58<\/td>/);

  const nature = await a.get('/admin/dicts/unit_nature');
  t.equal(nature.statusCode, 200);
  t.match(nature.body, '<td>non_public</td><td>非公经济组织</td>');
  t.match(nature.body, 'public: true');
  t.match(nature.body.split('<main')[1], 'action="/admin/dicts/unit_nature/items"', 'editable: the add form');

  // Tree: top level, drill down, search with the full path.
  const major = await a.get('/admin/dicts/major');
  t.match(major.body, '<a href="/admin/dicts/major?parent=08">工学</a>');
  t.notMatch(major.body, '计算机应用', 'only the top level');
  const eng = await a.get('/admin/dicts/major?parent=08');
  t.match(eng.body, '<a href="/admin/dicts/major?parent=0812">计算机科学与技术</a>');
  const cs = await a.get('/admin/dicts/major?parent=0812');
  t.match(cs.body, '<td>081203</td>');
  t.match(cs.body, '计算机应用');
  t.match(cs.body, '<a href="/admin/dicts/major?parent=08">工学</a> / <span>计算机科学与技术</span>', 'the trail back up');
  const search = await a.get(`/admin/dicts/major?q=${encodeURIComponent('计算机应用')}`);
  t.match(search.body, '<td>081203</td><td>计算机应用</td><td>工学 - 计算机科学与技术 - 计算机应用</td>');
  t.match(search.body, '计算机应用技术');
  t.match(search.body, '共 2 条');
  t.equal((await a.get('/admin/dicts/major?parent=nope')).statusCode, 404);
  const spec = await a.get(`/admin/dicts/specialty?q=${encodeURIComponent('铸造工艺及设备')}`);
  t.match(spec.body, '工程技术 - 机械工程技术 - 铸造工艺及设备');
  const specTop = await a.get('/admin/dicts/specialty');
  t.match(specTop.body, 'series_code: S05');

  const series = await a.get('/admin/dicts/series');
  t.equal(series.statusCode, 200);
  t.match(series.body, /<td rowspan="1">S01<\/td><td rowspan="1"><a href="\/admin\/dicts\/series\/S01\/titles">高等学校教师<\/a><\/td>\s*<td>—<\/td>\s*<td>教授<\/td><td>副教授<\/td><td>讲师<\/td><td>助教<\/td><td><\/td>/);
  t.match(series.body, /<th>正高级<\/th><th>副高级<\/th><th>中级<\/th><th>助理级<\/th><th>员级<\/th>/);
  t.match(series.body, '卫生技术人员');
  t.match(series.body, '<td>护理类</td>');
  t.match(series.body, '主任护师');

  const regions = await a.get('/admin/dicts/regions');
  t.match(regions.body, '<td>530102</td><td>五华区</td><td>县区</td><td>云南省 / 昆明市 / 五华区</td>');
  t.match(regions.body, /<td>5301A2<\/td><td>昆明经济技术开发区<\/td>.*开发区（功能区）/);

  const committees = await a.get('/admin/dicts/committees');
  t.match(committees.body, '共 58 条');
  t.match(committees.body, /<td>KMG01<\/td><td><a href="\/admin\/orgs\/\d+">昆明市中小学高级教师评审委员会<\/a><\/td><td>高级<\/td>/);
  t.match(committees.body, '<td>昆明市教育体育局</td><td>0871-65165786</td><td>9月底前</td>');
  const cq = await a.get(`/admin/dicts/committees?q=${encodeURIComponent('卫生')}`);
  t.match(cq.body, '昆明市卫生技术高级职称评审委员会');
  t.notMatch(cq.body, '昆明市中小学高级教师评审委员会');
  const c3 = await a.get('/admin/dicts/committees?page=3');
  t.match(c3.body, '第 3 / 3 页');

  t.equal((await a.get('/admin/dicts/no_such_dict')).statusCode, 404);
});

t.test('dictionaries are editable: add under a tree node, rename, disable; forms follow at once', async (t) => {
  const { makeApp: mk, Agent: Ag, createStaff: cs, createApplicant: ca, login: li } = await import('../helpers/app.js');
  const app = await mk();
  t.teardown(() => app.close());
  await cs(app);
  const admin = new Ag(app);
  await li(admin, 'staff', 'admin1');
  const parent = await app.ctx.db.selectFrom('dict_items').selectAll().where('dict', '=', 'specialty').where('parent_code', 'is not', null).orderBy('id').executeTakeFirstOrThrow();
  await admin.get(`/admin/dicts/specialty?parent=${parent.code}`);
  let r = await admin.post('/admin/dicts/specialty/items', { code: 'ZX9001', name: '职称档案数字化', parent: parent.code });
  t.equal(r.statusCode, 303);
  t.match((await admin.get(r.headers.location as string)).body, '已新增：职称档案数字化');
  r = await admin.post('/admin/dicts/specialty/items', { code: 'ZX9001', name: '重复', parent: parent.code });
  t.match((await admin.get(r.headers.location as string)).body, '代码 ZX9001 已存在');
  // Applicants find it in the 3-level picker right away.
  const p = await ca(app);
  const a = new Ag(app);
  await li(a, 'applicant', p.phone);
  t.match((await a.get('/me/dicts/tree?dict=specialty&field=specialty&specialty_q=档案数字化')).body, '职称档案数字化');
  // Rename, then disable: it leaves the picker.
  await admin.get(`/admin/dicts/specialty?parent=${parent.code}`);
  await admin.post('/admin/dicts/specialty/items/ZX9001', { name: '档案数字化管理' });
  t.match((await a.get('/me/dicts/tree?dict=specialty&field=specialty&specialty_q=档案数字化')).body, '档案数字化管理');
  await admin.get(`/admin/dicts/specialty?parent=${parent.code}`);
  await admin.post('/admin/dicts/specialty/items/ZX9001', { toggle: '1' });
  t.notMatch((await a.get('/me/dicts/tree?dict=specialty&field=specialty&specialty_q=档案数字化')).body, '档案数字化管理');
  // Flat dictionaries too; non-admins cannot.
  await admin.get('/admin/dicts/award_level');
  r = await admin.post('/admin/dicts/award_level/items', { code: 'county2', name: '乡镇级' });
  t.equal(r.statusCode, 303);
  t.ok(await app.ctx.db.selectFrom('dict_items').select('id').where('dict', '=', 'award_level').where('name', '=', '乡镇级').executeTakeFirst());
  await a.get('/me');
  t.equal((await a.post('/admin/dicts/award_level/items', { code: 'x1', name: '伪造' })).statusCode, 403);
});

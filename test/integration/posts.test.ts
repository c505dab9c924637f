import t from 'tap';
import { makeApp, Agent, login, createApplicant, idNumber } from '../helpers/app.js';
import { kunming, submittedDeclaration } from '../helpers/world.js';
import { OPINION } from '../helpers/unitstage.js';

// 岗位设置与聘任 (seed 004; seed 002 Q7(1)): quotas, 聘任, vacancies, the 核验 check, statistics.
t.test('quotas, appointments, vacancy at 核验 (warn, then block), statistics for the supervisor', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id: declId } = await submittedDeclaration(app, w); // 张伟, 副高级
  const wang = await createApplicant(app, { name: '王芳', id: idNumber('19800101', '412'), phone: '13900139001', unitOrgId: w.unit });
  const s = new Agent(app);
  await login(s, 'staff', w.staff.unit);

  let page = await s.get('/org/posts');
  t.equal(page.statusCode, 200);
  t.match(page.body, '岗位设置（专业技术岗位数）');
  t.match(page.body, 'href="/org/posts"', 'in the menu');

  // Appointing before any quota: refused with the reason, typed values kept.
  await s.get('/org/posts/appointments/new');
  let res = await s.post('/org/posts/appointments', { user_id: String(wang.userId), level: 'senior_vice', start_date: '2020-03-01', end_date: '', post_name: '副主任医师岗位', certificate: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '本单位未设置副高级岗位数');
  t.match(res.body, 'value="副主任医师岗位"');

  await s.get('/org/posts');
  res = await s.post('/org/posts/quotas', { quota_senior_full: '', quota_senior_vice: '1', quota_intermediate: '3', quota_assistant: '', quota_junior: '' });
  t.equal(res.statusCode, 303);
  t.same((await app.ctx.db.selectFrom('post_quotas').select(['level', 'quota']).where('org_id', '=', w.unit).orderBy('level').execute()), [{ level: 'intermediate', quota: 3 }, { level: 'senior_vice', quota: 1 }]);

  // A certificate that is not the person's: refused.
  await s.get('/org/posts/appointments/new');
  res = await s.post('/org/posts/appointments', { user_id: String(wang.userId), level: 'senior_vice', start_date: '2020-03-01', end_date: '', post_name: '', certificate: 'X-0001' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '未找到该人员的此证书编号');
  res = await s.post('/org/posts/appointments', { user_id: String(wang.userId), level: 'senior_vice', start_date: '2020-03-01', end_date: '', post_name: '', certificate: '' });
  t.equal(res.statusCode, 303);
  page = await s.get('/org/posts');
  t.match(page.body, '已聘任“王芳”');
  t.match(page.body, /<tr id="post-senior_vice">[\s\S]*?<td>1<\/td>\s*<td><span class="bad">0（无空岗）<\/span>/, 'vacancy 0 shown');
  t.match(page.body, /<tr id="post-intermediate">[\s\S]*?<td>0<\/td>\s*<td><b>3<\/b>/, 'vacancy 3 shown');

  // Full: a second appointment is refused; a quota below the people appointed is refused with the reason.
  res = await s.post('/org/posts/appointments', { user_id: String(wang.userId), level: 'intermediate', start_date: '2021-01-01', end_date: '', post_name: '', certificate: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '该人员现聘于副高级岗位，请先办理解聘');
  res = await s.post('/org/posts/quotas', { quota_senior_vice: '0', quota_intermediate: '3' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '副高级岗位数不能少于现聘人数（现聘1人）；如需核减，请先办理解聘');
  t.match(res.body, /id="f-quota_senior_vice"[^>]*value="0"/, 'the typed value kept');
  t.equal((await app.ctx.db.selectFrom('post_quotas').select('quota').where('org_id', '=', w.unit).where('level', '=', 'senior_vice').executeTakeFirstOrThrow()).quota, 1, 'nothing saved');

  // 核验 of 张伟 (副高级) with no vacant post: the default plan only warns.
  await s.get(`/org/unit-stage/${declId}/opinion`);
  t.equal((await s.post(`/org/unit-stage/${declId}/opinion`, OPINION)).statusCode, 303);
  page = await s.get(`/org/unit-stage/${declId}`);
  t.match(page.body, '本单位副高级专业技术岗位已满（岗位数1，现聘1人），无空余岗位，请核实');
  t.match(page.body, '>核验通过</button>', 'warned, still offered');
  res = await s.post(`/org/unit-stage/${declId}/verify`, {});
  t.equal(res.statusCode, 303);
  page = await s.get(`/org/unit-stage/${declId}`);
  t.match(page.body, '核验通过。提示：本单位副高级专业技术岗位已满');

  // The plan blocks: the same 核验 is refused (409, with the reason).
  await app.ctx.db.updateTable('declarations').set({ unit_verified_at: null }).where('id', '=', declId).execute();
  await app.ctx.db.updateTable('plans').set({ declare_rules: JSON.stringify({ post_vacancy: 'block' }) }).where('id', '=', w.plan).execute();
  page = await s.get(`/org/unit-stage/${declId}`);
  t.match(page.body, '按本评审计划的规定不能核验通过');
  t.notMatch(page.body, '>核验通过</button>');
  res = await s.post(`/org/unit-stage/${declId}/verify`, {});
  t.equal(res.statusCode, 409);
  t.match(res.body, '本单位副高级专业技术岗位已满（岗位数1，现聘1人），无空余岗位，按本评审计划的规定不能核验通过');
  t.equal((await app.ctx.db.selectFrom('declarations').select('unit_verified_at').where('id', '=', declId).executeTakeFirstOrThrow()).unit_verified_at, null);

  // 解聘 (confirmed first) frees the post: the 核验 goes through without a warning.
  const appt = await app.ctx.db.selectFrom('appointments').select('id').where('user_id', '=', wang.userId).executeTakeFirstOrThrow();
  page = await s.get(`/org/posts/appointments/${appt.id}/end`);
  t.match(page.body, '确定解聘“王芳”的副高级岗位');
  t.equal((await s.post(`/org/posts/appointments/${appt.id}/end`, {})).statusCode, 303);
  t.equal((await s.get('/org/posts/appointments/999999/end')).statusCode, 404, 'not the unit’s: 404');
  page = await s.get('/org/posts?all=1');
  t.match(page.body, '已结束', 'the history stays');
  await s.get(`/org/unit-stage/${declId}`);
  res = await s.post(`/org/unit-stage/${declId}/verify`, {});
  t.equal(res.statusCode, 303);
  page = await s.get(`/org/unit-stage/${declId}`);
  t.notMatch(page.body, '提示：');
  t.ok(await app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'appointment_end').executeTakeFirst(), 'audited');

  // Statistics: the supervisor sees its unit and the totals; the unit only itself.
  const sup = new Agent(app);
  await login(sup, 'staff', w.staff.supervisor);
  page = await sup.get('/org/posts/stats');
  t.equal(page.statusCode, 200);
  t.match(page.body, '昆明市第一人民医院');
  t.match(page.body, '1 / 0 / 1', '副高级: 1 post, nobody, 1 vacant');
  t.match(page.body, '合计');
  t.equal((await sup.get('/org/posts')).statusCode, 403, 'the supervisor does not run the unit’s posts');
  page = await s.get('/org/posts/stats');
  t.equal(page.statusCode, 200);
  t.notMatch(page.body, '合计');
  // The county HR bureau: the units of its region, and one row per supervisor.
  const county = new Agent(app);
  await login(county, 'staff', w.staff.county);
  page = await county.get('/org/posts/stats');
  t.equal(page.statusCode, 200);
  t.match(page.body, '本地区各单位');
  t.match(page.body, /<table id="by-supervisor">[\s\S]*昆明市卫生健康委员会<\/th><td>1<\/td>/);
  // A committee office has no posts to count.
  const com = new Agent(app);
  await login(com, 'staff', w.staff.committee);
  t.equal((await com.get('/org/posts/stats')).statusCode, 403);
});

import t from 'tap';
import { makeApp, Agent, createApplicant, createStaff, login, type TestApp } from '../helpers/app.js';
import { DEFAULT_REQUIRED_SLOTS, slotsToText } from '../../src/domain/plans.js';
import { SECTIONS } from '../../src/domain/sections.js';

async function committeeId(app: TestApp, like: string) {
  return (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('name', 'like', `%${like}%`).orderBy('id').executeTakeFirstOrThrow()).id;
}

async function staffAgent(app: TestApp, username: string, orgId?: number, roles = '') {
  await createStaff(app, { username, orgId, roles: orgId === undefined ? 'admin' : roles });
  const a = new Agent(app);
  await login(a, 'staff', username);
  return a;
}

/** A complete, valid plan form (what the new-plan page posts after filling it in). */
function planForm(o: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return {
    year: '2026',
    name: '2026年度卫生技术高级职称评审',
    series_code: 'S04',
    levels: ['senior_vice', 'senior_full'],
    specialties: '临床医学\n护理学\n',
    categories: ['normal', 'exceptional'],
    opens_at: '2026-06-01',
    closes_at: '2026-06-30',
    required_sections: SECTIONS.filter((s) => s.required).map((s) => s.key),
    required_slots: slotsToText(DEFAULT_REQUIRED_SLOTS),
    max_returns: '4',
    pass_ratio: '2/3',
    publicity_required: '1',
    publicity_days: '5',
    major_mismatch: 'warn',
    eligibility_mode: 'block',
    notice: '',
    ...o,
  };
}

t.test('committee staff: new form with defaults, create, list, edit (PRG)', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const health = await committeeId(app, '卫生技术');
  const a = await staffAgent(app, 'com_sun', health);

  const home = await a.get('/org');
  t.match(home.body, '<a href="/org/plans">评审计划</a>', 'menu entry');
  t.match(home.body, '<a href="/org/notices">通知公告</a>', 'menu entry');

  const empty = await a.get('/org/plans');
  t.equal(empty.statusCode, 200);
  t.match(empty.body, '暂无评审计划');
  t.notMatch(empty.body, '<th>评委会</th>', 'no committee column for committee staff');

  const form = await a.get('/org/plans/new');
  t.equal(form.statusCode, 200);
  for (const label of ['年度', '计划名称', '申报开始日期', '申报截止日期', '返回修改和重置流程次数上限']) t.match(form.body, `<span class="req">*</span>${label}</label>`, label);
  for (const legend of ['申报等级', '参评类别']) t.match(form.body, `<legend><span class="req">*</span>${legend}</legend>`, legend);
  for (const label of ['系列', '评审专业', '必传附件', '公示工作日数', '申报通知（相关要求）']) t.match(form.body, `${label}</label>`, label);
  for (const legend of ['必填申报信息', '是否需要单位公示', '所学专业与从事专业不一致时', '申报条件不符合时']) t.match(form.body, `${legend}</legend>`, legend);
  t.notMatch(form.body, 'name="committee_org_id"', 'staff do not pick a committee');
  t.match(form.body, '不填为当天24:00关闭申报通道');
  t.match(form.body, 'name="year" type="number" value="2026"', 'this year by default');
  t.match(form.body, 'name="max_returns" type="number" value="4"');
  t.match(form.body, 'name="publicity_days" type="number" value="5"');
  t.match(form.body, 'id="f-publicity_required-1" name="publicity_required" value="1" checked');
  t.match(form.body, 'id="f-major_mismatch-warn" name="major_mismatch" value="warn" checked');
  t.match(form.body, '身份证正反面\n职称证书图片和聘用证明|选传\n毕业证书和学位证书图片', 'default attachment slots prefilled');
  t.match(form.body, 'id="f-required_sections-educations" name="required_sections" value="educations" checked', 'registry-required section checked');
  t.match(form.body, /id="f-required_sections-papers" name="required_sections" value="papers">/, 'optional section unchecked');
  t.match(form.body, /id="f-categories-recognition" name="categories" value="recognition" checked/, 'all categories by default');
  // 系列: the committee's own series by default; 不限 is offered but never preselected.
  t.match(form.body, '<option value="S04" selected>卫生技术人员</option>', 'the committee\'s series preselected');
  t.match(form.body, '<option value="*">不限（所有系列）</option>', '不限 offered, not selected');
  t.match(form.body, '<option value="">请选择</option>');
  t.match(form.body, '本评委会评审“卫生技术人员”系列');

  const res = await a.post('/org/plans/new', planForm({ notice: '一、申报范围\n二、申报时间' }));
  t.equal(res.statusCode, 303);
  const plan = await app.ctx.db.selectFrom('plans').selectAll().where('committee_org_id', '=', health).executeTakeFirstOrThrow();
  t.equal(res.headers.location, `/org/plans/${plan.id}`);
  t.match(plan, {
    year: 2026, name: '2026年度卫生技术高级职称评审', series_code: 'S04', any_series: 0, levels: 'senior_full,senior_vice', specialties: '临床医学\n护理学',
    categories: 'normal,exceptional', opens_at: '2026-06-01', closes_at: '2026-06-30', required_sections: null, required_slots: null,
    max_returns: 4, publicity_required: 1, publicity_days: 5, major_mismatch: 'warn', eligibility_mode: 'block', notice: '一、申报范围\n二、申报时间',
  });
  const notices = await app.ctx.db.selectFrom('notices').selectAll().where('plan_id', '=', plan.id).execute();
  t.equal(notices.length, 1, 'the 申报通知 is published as a notice linked to the plan');
  t.match(notices[0], { org_id: health, title: '2026年度卫生技术高级职称评审申报通知', body: '一、申报范围\n二、申报时间' });

  const page = await a.get(`/org/plans/${plan.id}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, '评审计划“2026年度卫生技术高级职称评审”已创建，申报通知已发布到通知公告');
  t.match(page.body, 'value="2026年度卫生技术高级职称评审"');
  t.match(page.body, 'id="f-levels-senior_full" name="levels" value="senior_full" checked');
  t.match(page.body, /id="f-levels-intermediate" name="levels" value="intermediate">/);
  t.match(page.body, 'id="f-eligibility_mode-block" name="eligibility_mode" value="block" checked');
  t.match(page.body, '状态：申报中');

  const list = await a.get('/org/plans');
  t.match(list.body, `<a href="/org/plans/${plan.id}">2026年度卫生技术高级职称评审</a>`);
  t.match(list.body, '正高级、副高级');
  t.match(list.body, '2026年6月1日00:00至6月30日24:00');
  t.match(list.body, '申报中（剩余15天）');
  t.match(list.body, '共 1 条');
  t.match((await a.get('/org/plans?year=2025')).body, '共 0 条', 'year filter');

  // Edit: rules, slots and the notice text. A declaration exists: the page says what changes.
  const applicant = await createApplicant(app);
  const stamp = app.clock.now().toISOString();
  await app.ctx.db.insertInto('declarations').values({ user_id: applicant.userId, plan_id: plan.id, year: 2026, status: 'draft', cover: '{}', created_at: stamp, updated_at: stamp }).execute();
  const withDecl = await a.get(`/org/plans/${plan.id}`);
  t.match(withDecl.body, '本计划已有 1 份申报');
  t.match(withDecl.body, '适用于尚未提交的申报（草稿）和今后的提交');
  const edit = await a.post(`/org/plans/${plan.id}`, planForm({
    name: '2026年度卫生技术高级职称评审（第二批）',
    required_sections: ['educations', 'work', 'papers'],
    required_slots: '身份证正反面\n业绩证明材料\n论文检索证明|选传',
    max_returns: '3',
    pass_ratio: '3／4',
    publicity_required: '0',
    notice: '一、申报范围（修订）',
  }));
  t.equal(edit.statusCode, 303);
  t.equal(edit.headers.location, `/org/plans/${plan.id}`);
  const saved = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', plan.id).executeTakeFirstOrThrow();
  t.match(saved, { name: '2026年度卫生技术高级职称评审（第二批）', required_sections: 'educations,work,papers', max_returns: 3, publicity_required: 0, pass_ratio: '3/4' });
  t.same(JSON.parse(saved.required_slots!), [
    { key: 'id_card', label: '身份证正反面', required: true },
    { key: 's1', label: '业绩证明材料', required: true },
    { key: 's2', label: '论文检索证明', required: false },
  ]);
  const after = await app.ctx.db.selectFrom('notices').selectAll().where('plan_id', '=', plan.id).execute();
  t.equal(after.length, 1, 'the plan notice is updated, not duplicated');
  t.match(after[0], { title: '2026年度卫生技术高级职称评审（第二批）申报通知', body: '一、申报范围（修订）' });
  const shown = (await a.get(`/org/plans/${plan.id}`)).body;
  t.match(shown, '评审计划已保存，申报通知已发布到通知公告');
  t.match(shown, 'name="pass_ratio" type="text" value="3/4"', 'the form shows the stored ratio');

  // Saved again with a slot added: existing keys stay.
  await a.post(`/org/plans/${plan.id}`, planForm({ required_slots: '业绩证明材料\n获奖证书\n论文检索证明|选传', notice: '一、申报范围（修订）' }));
  const again = await app.ctx.db.selectFrom('plans').select(['required_slots']).where('id', '=', plan.id).executeTakeFirstOrThrow();
  t.same(JSON.parse(again.required_slots!).map((s: { key: string }) => s.key), ['s1', 's3', 's2']);
  t.equal((await app.ctx.db.selectFrom('notices').select('id').where('plan_id', '=', plan.id).execute()).length, 1, 'unchanged notice text publishes nothing');
});

t.test('scope: another committee\'s plan is 404; admin sees all; others 403', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const health = await committeeId(app, '卫生技术');
  const teachers = await committeeId(app, '中小学高级教师');
  const stamp = app.clock.now().toISOString();
  const other = await app.ctx.db.insertInto('plans').values({ committee_org_id: teachers, year: 2026, name: '2026年度中小学高级教师评审', levels: 'senior_vice', opens_at: '2026-06-01', closes_at: '2026-06-30', created_at: stamp }).returning('id').executeTakeFirstOrThrow();

  const a = await staffAgent(app, 'com_sun', health);
  t.equal((await a.get(`/org/plans/${other.id}`)).statusCode, 404);
  t.equal((await a.get('/org/plans/abc')).statusCode, 404);
  await a.get('/org/plans/new');
  const post = await a.post(`/org/plans/${other.id}`, planForm());
  t.equal(post.statusCode, 404);
  const row = await app.ctx.db.selectFrom('plans').select('name').where('id', '=', other.id).executeTakeFirstOrThrow();
  t.equal(row.name, '2026年度中小学高级教师评审', 'untouched');
  t.notMatch((await a.get('/org/plans')).body, '中小学高级教师评审', 'not in the list');

  // Platform admin: any committee, committee select and filter.
  const admin = await staffAgent(app, 'admin1');
  const adminHome = await admin.get('/admin');
  t.match(adminHome.body, '<a href="/org/plans">评审计划</a>');
  const list = await admin.get('/org/plans');
  t.equal(list.statusCode, 200);
  t.match(list.body, '<th>评委会</th>');
  t.match(list.body, '中小学高级教师评审');
  t.match((await admin.get(`/org/plans?committee=${health}`)).body, '共 0 条', 'committee filter');
  t.match((await admin.get(`/org/plans?committee=${teachers}`)).body, '共 1 条');
  t.equal((await admin.get(`/org/plans/${other.id}`)).statusCode, 200);
  const form = await admin.get('/org/plans/new');
  t.match(form.body, '<span class="req">*</span>评委会</label>');
  const missing = await admin.post('/org/plans/new', planForm());
  t.equal(missing.statusCode, 422);
  t.match(missing.body, '请选择评委会');
  const unit = await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'hrb').executeTakeFirstOrThrow();
  t.match((await admin.post('/org/plans/new', planForm({ committee_org_id: String(unit.id) }))).body, '请选择评委会', 'not a committee');
  const ok = await admin.post('/org/plans/new', planForm({ committee_org_id: String(health), name: '平台代建计划' }));
  t.equal(ok.statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('plans').select('committee_org_id').where('name', '=', '平台代建计划').executeTakeFirstOrThrow()).committee_org_id, health);

  // A committee staff cannot move a plan to another committee by posting committee_org_id.
  await a.get('/org/plans/new');
  await a.post('/org/plans/new', planForm({ committee_org_id: String(teachers), name: '越权计划' }));
  t.equal((await app.ctx.db.selectFrom('plans').select('committee_org_id').where('name', '=', '越权计划').executeTakeFirstOrThrow()).committee_org_id, health);

  // Applicants and staff of other orgs: 403; nobody signed in: the login page.
  const ap = await createApplicant(app);
  const b = new Agent(app);
  await login(b, 'applicant', ap.id);
  t.equal((await b.get('/org/plans')).statusCode, 403);
  t.equal((await b.get('/org/plans/new')).statusCode, 403);
  t.equal((await b.get(`/org/plans/${other.id}`)).statusCode, 403);
  const hrbStaff = await staffAgent(app, 'hrb_chen', unit.id);
  t.equal((await hrbStaff.get('/org/plans')).statusCode, 403);
  t.notMatch((await hrbStaff.get('/org')).body, 'href="/org/plans"', 'no menu entry');
  const anon = new Agent(app);
  const r = await anon.get('/org/plans');
  t.equal(r.statusCode, 303);
  t.match(r.headers.location, /^\/login/);
  // A platform user without the admin role: 403.
  const platform = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'platform').executeTakeFirstOrThrow()).id;
  const plain = await staffAgent(app, 'platform_plain', platform, '');
  t.equal((await plain.get('/org/plans')).statusCode, 403);
});

t.test('validation: 422, Chinese messages next to the fields, values kept', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = await staffAgent(app, 'com_sun', await committeeId(app, '卫生技术'));
  await a.get('/org/plans/new');

  const blank = await a.post('/org/plans/new', { specialties: '临床医学', required_slots: '', max_returns: '4', publicity_required: '1', publicity_days: '5', major_mismatch: 'warn', eligibility_mode: 'warn' });
  t.equal(blank.statusCode, 422);
  for (const m of ['请填写年度', '请填写计划名称', '请选择申报等级', '请选择参评类别', '请填写申报开始日期', '请填写申报截止日期']) t.match(blank.body, m, m);
  t.match(blank.body, '>临床医学</textarea>', 'value kept');
  t.match(blank.body, '<small class="err" id="e-name">请填写计划名称</small>', 'error next to the field');

  const bad = await a.post('/org/plans/new', planForm({
    year: '26', opens_at: '2026-06-30', closes_at: '2026-06-01', max_returns: '11', publicity_days: '3', required_slots: '业绩|可选', name: '名'.repeat(81), pass_ratio: '3/2',
  }));
  t.match(bad.body, '评审通过比例应写成“分子/分母”，如 2/3、1/2，且不大于1');
  t.match(bad.body, 'value="3/2"', 'the ratio typed is kept');
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '年度应为2000至2100之间的四位年份');
  t.match(bad.body, '申报截止日期不能早于申报开始日期');
  t.match(bad.body, '返回修改和重置流程次数上限应为1至10的整数');
  t.match(bad.body, '公示工作日数应为5至30的整数（不少于5个工作日）');
  t.match(bad.body, '“业绩|可选”格式不正确');
  t.match(bad.body, '计划名称不能超过80个字');
  t.match(bad.body, 'id="f-levels-senior_full" name="levels" value="senior_full" checked', 'checkboxes kept');

  const dates = await a.post('/org/plans/new', planForm({ opens_at: '2026-02-30', closes_at: '2026/06/30', max_returns: '0' }));
  t.match(dates.body, '申报开始日期不是有效日期');
  t.match(dates.body, '申报截止日期格式应为YYYY-MM-DD');
  t.match(dates.body, '返回修改和重置流程次数上限应为1至10的整数');

  const series = await a.post('/org/plans/new', planForm({ series_code: 'NOPE', levels: ['bogus'], publicity_days: '' }));
  t.match(series.body, '请选择系列');
  t.match(series.body, '请选择申报等级', 'unknown level codes are ignored');
  t.match(series.body, '请填写公示工作日数');

  // Same day open and close is fine (a one-day window).
  const oneDay = await a.post('/org/plans/new', planForm({ opens_at: '2026-06-30', closes_at: '2026-06-30' }));
  t.equal(oneDay.statusCode, 303);
  t.equal(await app.ctx.db.selectFrom('plans').select('id').execute().then((r) => r.length), 1, 'only the valid post saved');
});

t.test('系列: 不限 only when chosen on purpose; the cover offers only the plan\'s series', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const health = await committeeId(app, '卫生技术');
  const a = await staffAgent(app, 'com_sun', health);
  await a.get('/org/plans/new');

  // Nothing chosen (the old form's silent 不限): refused, next to the field, values kept.
  let res = await a.post('/org/plans/new', planForm({ series_code: '', name: '未选系列计划' }));
  t.equal(res.statusCode, 422);
  t.match(res.body, /<small class="err">请选择系列；申报人可申报所有系列职称的，请选择“不限（所有系列）”<\/small>/);
  t.match(res.body, 'value="未选系列计划"', 'typed name kept');
  // Another series than the committee's: refused.
  res = await a.post('/org/plans/new', planForm({ series_code: 'S01', name: '教师系列计划' }));
  t.equal(res.statusCode, 422);
  t.match(res.body, '该评委会评审“卫生技术人员”系列职称，请选择“卫生技术人员”；确需受理所有系列的，请选择“不限（所有系列）”');
  t.match(res.body, '<option value="S01" selected>', 'the choice is kept');
  t.equal((await app.ctx.db.selectFrom('plans').select('id').execute()).length, 0, 'nothing saved');

  // 不限, deliberately.
  res = await a.post('/org/plans/new', planForm({ series_code: '*', name: '不限系列计划', opens_at: '2026-06-01', closes_at: '2026-06-30' }));
  t.equal(res.statusCode, 303);
  const anyPlan = await app.ctx.db.selectFrom('plans').selectAll().where('name', '=', '不限系列计划').executeTakeFirstOrThrow();
  t.match(anyPlan, { series_code: null, any_series: 1 });
  t.match((await a.get(`/org/plans/${anyPlan.id}`)).body, '<option value="*" selected>不限（所有系列）</option>', 'shown as 不限 when edited');
  res = await a.post('/org/plans/new', planForm({ series_code: 'S04', name: '卫生系列计划' }));
  t.equal(res.statusCode, 303);
  const healthPlan = await app.ctx.db.selectFrom('plans').selectAll().where('name', '=', '卫生系列计划').executeTakeFirstOrThrow();
  // A plan saved before 不限 had to be chosen (series empty, flag 0): its committee's series.
  const stamp = app.clock.now().toISOString();
  const legacy = await app.ctx.db.insertInto('plans').values({ committee_org_id: health, year: 2026, name: '旧计划', levels: 'senior_vice', opens_at: '2026-06-01', closes_at: '2026-06-30', created_at: stamp }).returning('id').executeTakeFirstOrThrow();
  t.match((await a.get(`/org/plans/${legacy.id}`)).body, '<option value="S04" selected>卫生技术人员</option>', 'an old plan edits as the committee\'s series');

  const ap = await createApplicant(app);
  const b = new Agent(app);
  await login(b, 'applicant', ap.id);
  await b.get('/me/declaration');
  const titlesOf = async (planId: number) => {
    const page = await b.post('/me/declaration/cover', { plan_id: String(planId), level: 'senior_vice', _refresh: '1' });
    return [...page.body.matchAll(/<option value="([^"]+ - [^"]+)"/g)].map((m) => m[1]!);
  };
  for (const [planId, what] of [[healthPlan.id, '卫生 plan'], [legacy.id, 'old plan']] as const) {
    const titles = await titlesOf(planId);
    t.ok(titles.length > 0, `${what}: titles offered`);
    t.same(titles.filter((x) => !x.startsWith('卫生技术人员 - ')), [], `${what}: only 卫生技术人员 titles (no 副教授, no 律师)`);
  }
  const all = await titlesOf(anyPlan.id);
  t.ok(all.includes('高等学校教师 - 副教授') && all.includes('卫生技术人员 - 副主任医师'), '不限: every series');
});

t.test('the plan window on /me: open through 24:00 of the close date (China time)', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  // 2026-06-15 10:00 CST.
  const health = await committeeId(app, '卫生技术');
  const stamp = app.clock.now().toISOString();
  const add = (name: string, opens_at: string, closes_at: string, notice: string | null = null) =>
    app.ctx.db.insertInto('plans').values({ committee_org_id: health, year: 2026, name, levels: 'senior_vice', opens_at, closes_at, notice, created_at: stamp }).returning('id').executeTakeFirstOrThrow();
  await add('今日截止计划', '2026-06-01', '2026-06-15', '今日截止计划的申报通知');
  await add('昨日截止计划', '2026-06-01', '2026-06-14');
  await add('明日开始计划', '2026-06-16', '2026-06-30');
  const ap = await createApplicant(app);
  const b = new Agent(app);
  await login(b, 'applicant', ap.id);

  let me = await b.get('/me');
  t.match(me.body, '今日截止计划', 'a plan closing today is listed');
  t.notMatch(me.body, '昨日截止计划', 'a plan that closed yesterday is not');
  t.notMatch(me.body, '明日开始计划', 'a plan opening tomorrow is not');
  t.match(me.body, '申报通知</th>');

  // 23:59:59 CST on the close day: still open. 00:00 next day: closed, and tomorrow's opens.
  // (Signing in again: the idle session timeout runs on the same clock.)
  app.clock.t = Date.parse('2026-06-15T15:59:59.000Z');
  await login(b, 'applicant', ap.id);
  me = await b.get('/me');
  t.match(me.body, '今日截止计划');
  t.notMatch(me.body, '明日开始计划');
  app.clock.t = Date.parse('2026-06-15T16:00:00.000Z');
  me = await b.get('/me');
  t.equal(me.statusCode, 200);
  t.notMatch(me.body, '今日截止计划', 'closed at 24:00');
  t.match(me.body, '明日开始计划', 'opens at 00:00');
});

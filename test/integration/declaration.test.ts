import t from 'tap';
import { unspan } from '../helpers/print.js';
import { makeApp, Agent, login } from '../helpers/app.js';
import { kunming, readyApplicant, fillDeclarationSlots } from '../helpers/world.js';

async function setup(o: Parameters<typeof kunming>[1] = {}) {
  const app = await makeApp();
  const w = await kunming(app, o);
  const zhang = await readyApplicant(app, w.unit);
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  return { app, w, zhang, a };
}

const COVER = (plan: number) => ({ plan_id: String(plan), level: 'senior_vice', title: '卫生技术 - 副主任医师', specialty: '心血管内科', category: 'normal' });

async function titleOf(app: Awaited<ReturnType<typeof makeApp>>) {
  const dicts = await app.ctx.dicts.ready();
  return dicts.options('titles').find((o) => o.name.includes('副主任医师'))!.name;
}

t.test('the 4 steps: cover with the computed route, missing items, preview, pledge, one submission', async (t) => {
  const { app, w, zhang, a } = await setup();
  t.teardown(() => app.close());
  const title = await titleOf(app);
  let page = await a.get('/me/declaration');
  t.equal(page.statusCode, 200);
  // Seed 001 §4.1: 封面填写→基本信息确认→申报信息预览→提交申报.
  t.match(page.body, /<ol class="steps" aria-label="申报步骤">\s*<li class="on"><span>1\. 封面填写<\/span><\/li><li class=""><span>2\. 基本信息确认<\/span><\/li><li class=""><span>3\. 申报信息预览<\/span><\/li><li class=""><span>4\. 提交申报<\/span><\/li>/);
  t.match(page.body, '卫生技术高级职称评审委员会');

  // No-JS: choosing the committee posts back to load its levels; the titles follow the level.
  page = await a.post('/me/declaration/cover', { plan_id: String(w.plan), level: 'senior_vice', _refresh: '1' });
  t.match(page.body, '副高级');
  t.match(page.body, title);

  // Validation keeps the choices.
  let res = await a.post('/me/declaration/cover', { plan_id: String(w.plan), level: 'senior_vice', title: '', specialty: '', category: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请选择申报职称');
  t.match(res.body, '请选择参评类别');

  res = await a.post('/me/declaration/cover', { ...COVER(w.plan), title });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/me/declaration?step=2');
  const d = await app.ctx.db.selectFrom('declarations').selectAll().executeTakeFirstOrThrow();
  t.equal(d.status, 'draft');
  const route = JSON.parse(d.route!);
  t.same(route.map((r: { kind: string }) => r.kind), ['unit', 'supervisor', 'committee'], 'city public unit: unit → supervisor → committee');

  // Step 2: the plan's attachment slots are still missing.
  page = await a.get('/me/declaration?step=2');
  t.match(page.body, '昆明市第一人民医院 → 昆明市卫生健康委员会 → 昆明市卫生技术高级职称评审委员会');
  t.match(page.body, '附件：身份证');
  t.notMatch(page.body, 'href="/me/declaration?step=3">下一步', 'next is disabled');
  const plan = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', w.plan).executeTakeFirstOrThrow();
  await fillDeclarationSlots(app, zhang.userId, d.id, plan);
  page = await a.get('/me/declaration?step=2');
  t.match(page.body, '必填项已全部完成');
  t.match(page.body, '申报条件参考');

  // Step 3: the preview of the review form, marked 预览.
  page = await a.get('/me/declaration?step=3');
  t.match(page.body, '专业技术职称申报评审表');
  t.match(page.body, '预览');
  t.match(page.body, '表十七');
  t.match(page.body, '昆明医科大学', 'archive rows in the form');

  // Step 4: the pledge must be ticked; the budget sentence of seed 001.
  page = await a.get('/me/declaration?step=4');
  t.match(page.body, '您当前已经返回修改或重置流程 0 次，您还能返回修改或重置流程 4 次');
  // 同意条款 in the seed's words.
  t.match(page.body, '<h3>同意条款</h3>');
  t.match(page.body, '对申报人员弄虚作假、提供虚假材料的，相关信息记入职称评审诚信档案库，并纳入全国信用信息共享平台。记录期限为3年，记录期内不得参加职称申报评审。');
  t.notMatch(page.body, '个人承诺');
  const token = /name="token" value="([^"]+)"/.exec(page.body)![1]!;
  res = await a.post('/me/declaration/submit', { declaration_id: String(d.id), token });
  t.equal(res.headers.location, '/me/declaration?step=4');
  t.match((await a.get('/me/declaration?step=4')).body, '请阅读并勾选同意条款');

  // Double click: five identical posts at once make one submission.
  page = await a.get('/me/declaration?step=4');
  const token2 = /name="token" value="([^"]+)"/.exec(page.body)![1]!;
  const csrf = a.csrf();
  const results = await Promise.all(Array.from({ length: 5 }, () => a.post('/me/declaration/submit', { declaration_id: String(d.id), token: token2, pledge: '1' }, { csrf })));
  t.same(results.map((r) => r.statusCode), [303, 303, 303, 303, 303]);
  t.ok(results.every((r) => r.headers.location === `/me/declaration/done?id=${d.id}`), 'all land on the success page');
  const versions = await app.ctx.db.selectFrom('declaration_versions').selectAll().where('declaration_id', '=', d.id).execute();
  t.equal(versions.length, 1, 'exactly one version');
  const events = await app.ctx.db.selectFrom('workflow_events').select('action').where('declaration_id', '=', d.id).where('action', '=', 'submit').execute();
  t.equal(events.length, 1, 'one submit event');
  // …and one audit row, with the applicant, the source IP and the version's digest.
  const audited = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'declaration_submit').execute();
  t.equal(audited.length, 1, 'one audit row for five posts');
  t.match(audited[0], { user_id: zhang.userId, role: 'applicant', object_type: 'declaration', object_id: String(d.id), result: 'ok' });
  t.equal(audited[0]!.detail, `提交：draft→reviewing（环节0），版本1，sha256 ${versions[0]!.sha256.slice(0, 16)}`);
  t.ok(audited[0]!.ip, 'source IP');
  const dump = JSON.stringify(audited);
  for (const v of [zhang.phone, zhang.id]) t.notMatch(dump, v, 'no phone or ID number');

  const done = await a.get(`/me/declaration/done?id=${d.id}`);
  t.match(done.body, '<h1 class="ok">提交申报成功!</h1>');
  t.match(done.body, '恭喜您，提交申报成功。当前申报人数较多，请您耐心等待审核结果。');
  for (const s of ['申报职称', '申报时间', '申报专业', '参评类别', '查看申报表', '查看进度', '单位审核中']) t.match(done.body, s);

  // A second tab with its own token: told it is already submitted.
  res = await a.post('/me/declaration/submit', { declaration_id: String(d.id), token: 'another-tab', pledge: '1' });
  t.equal(res.headers.location, '/me/records');
  t.match((await a.get('/me/records')).body, '无需重复提交');

  // The frozen version does not follow later archive edits.
  const snapBefore = versions[0]!.snapshot;
  await app.ctx.db.updateTable('section_rows').set({ data: JSON.stringify({ school: '已修改' }) }).where('user_id', '=', zhang.userId).where('section', '=', 'study').execute();
  const formPage = await a.get(`/me/records/${d.id}/form`);
  t.match(formPage.body, '昆明医科大学');
  t.equal((await app.ctx.db.selectFrom('declaration_versions').select('snapshot').executeTakeFirstOrThrow()).snapshot, snapBefore);

  // Records: status in plain words and the timeline; the message was sent.
  const records = await a.get('/me/records');
  t.match(records.body, '单位审核中');
  t.match(records.body, '提交申报');
  t.match((await a.get('/me/messages')).body, '您已提交');
  // Home: the progress bar.
  const home = await a.get('/me');
  t.match(home.body, '您的申报进度');
  t.match(home.body, '单位审核');
  // Declaring again to the same plan this year: refused.
  res = await a.post('/me/declaration/cover', { ...COVER(w.plan), title });
  t.equal(res.statusCode, 422, 'no new cover while one is under review');
  t.match(res.body, '不能重复申报');
});

t.test('现职称履职年限: one figure, stated the same way at step 2, in the form (preview and submitted) and on the profile (publicity list: unitstage.test, 汇总表: export.test)', async (t) => {
  const { app, w, zhang, a } = await setup();
  t.teardown(() => app.close());
  const title = await titleOf(app);
  await a.get('/me/declaration');
  await a.post('/me/declaration/cover', { ...COVER(w.plan), title });
  // The demo archive: 主治(主管)医师 since 2019-09-01, at the hospital since 2010-08-01; declared for 2026.
  const TITLE = '截至2026年12月31日满7年3个月';
  const WORK = '截至2026年12月31日满16年5个月';
  const step2 = await a.get('/me/declaration?step=2');
  t.match(step2.body, `履职年限：${TITLE}，要求满5年`, 'the eligibility check');
  const step3 = await a.get('/me/declaration?step=3');
  t.match(unspan(step3.body), `<th>现职称履职年限</th><td colspan="2">${TITLE}</td>`, 'the review form preview');
  t.match(unspan(step3.body), `<th>从事专业技术工作年限</th><td colspan="3">${WORK}</td>`);
  t.notMatch(step3.body, '6年3个月');
  const profile = await a.get('/me/profile');
  t.match(profile.body, `<label>现职称(同级)履职年限</label><p>${TITLE} `, 'the profile shows the computed figure');
  t.match(profile.body, `<label>从事专业技术工作年限</label><p>${WORK} `);
  t.notMatch(profile.body, 'id="f-title_years"', 'no longer typed');

  // Submitted: the frozen form states the same figure.
  const d = await app.ctx.db.selectFrom('declarations').selectAll().executeTakeFirstOrThrow();
  const plan = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', w.plan).executeTakeFirstOrThrow();
  await fillDeclarationSlots(app, zhang.userId, d.id, plan);
  const step4 = await a.get('/me/declaration?step=4');
  const token = /name="token" value="([^"]+)"/.exec(step4.body)![1]!;
  t.equal((await a.post('/me/declaration/submit', { declaration_id: String(d.id), token, pledge: '1' })).statusCode, 303);
  const form = unspan((await a.get(`/me/records/${d.id}/form`)).body);
  t.match(form, `<th>现职称履职年限</th><td colspan="2">${TITLE}</td>`, 'the submitted form');
  t.match(form, `<th>从事专业技术工作年限</th><td colspan="3">${WORK}</td>`);
});

t.test('unit problems are the seed messages, shown at the cover', async (t) => {
  for (const [o, msg] of [
    [{ nature: '' }, '单位信息不完整'],
    [{ region: '530100' }, '查找人社局失败'],
    [{ supervisorStatus: 'pending' }, '主管单位审核未通过'],
  ] as const) {
    const { app, w, a } = await setup(o as any);
    const title = await titleOf(app);
    await a.get('/me/declaration');
    const res = await a.post('/me/declaration/cover', { ...COVER(w.plan), title });
    t.equal(res.statusCode, 422, msg);
    t.match(res.body, msg);
    await app.close();
  }
});

t.test('county public unit and provincial committee routes', async (t) => {
  const { app, w, a } = await setup({ unitLevel: 'county', tier: 'province' });
  t.teardown(() => app.close());
  const title = await titleOf(app);
  await a.get('/me/declaration');
  await a.post('/me/declaration/cover', { ...COVER(w.plan), title });
  const d = await app.ctx.db.selectFrom('declarations').selectAll().executeTakeFirstOrThrow();
  t.same(JSON.parse(d.route!).map((r: { kind: string }) => r.kind), ['unit', 'supervisor', 'hrb_county', 'hrb_city', 'committee']);
});

t.test('plan window: submit at 23:59 of the close date works; at 00:00 it is refused', async (t) => {
  for (const [offsetMs, ok] of [[-60_000, true], [0, false]] as const) {
    const { app, w, zhang } = await setup();
    // Work on the last evening: the plan closes today; the session starts at 23:50.
    const { chinaToday } = await import('../../src/features/plans/repository.js');
    const today = chinaToday(app.clock.now());
    await app.ctx.db.updateTable('plans').set({ closes_at: today }).where('id', '=', w.plan).execute();
    app.clock.t = Date.parse(`${today}T15:50:00Z`);
    const a = new Agent(app);
    await login(a, 'applicant', zhang.phone);
    const title = await titleOf(app);
    await a.get('/me/declaration');
    await a.post('/me/declaration/cover', { ...COVER(w.plan), title });
    const d = await app.ctx.db.selectFrom('declarations').selectAll().executeTakeFirstOrThrow();
    const plan = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', w.plan).executeTakeFirstOrThrow();
    await fillDeclarationSlots(app, zhang.userId, d.id, plan);
    const page = await a.get('/me/declaration?step=4');
    const token = /name="token" value="([^"]+)"/.exec(page.body)![1]!;
    // 24:00 of closes_at in China = closes_at + 1 day 00:00 +08:00.
    app.clock.t = Date.parse(`${plan.closes_at}T16:00:00Z`) + offsetMs;
    await a.get('/me/declaration?step=4'); // keep the session alive, as the user's page would
    const token2 = /name="token" value="([^"]+)"/.exec(a.lastHtml)?.[1] ?? token;
    void token2;
    const res = await a.post('/me/declaration/submit', { declaration_id: String(d.id), token, pledge: '1' });
    if (ok) t.equal(res.headers.location, `/me/declaration/done?id=${d.id}`, 'open at 23:59');
    else {
      t.equal(res.headers.location, '/me/declaration?step=4', 'closed at 00:00');
      t.match((await a.get('/me/declaration?step=4')).body, '24:00关闭，不能提交申报');
      const after = await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', d.id).executeTakeFirstOrThrow();
      t.equal(after.status, 'draft');
    }
    await app.close();
  }
});

t.test('someone else\'s declaration id is not found', async (t) => {
  const { app, w, a } = await setup();
  t.teardown(() => app.close());
  const title = await titleOf(app);
  await a.get('/me/declaration');
  await a.post('/me/declaration/cover', { ...COVER(w.plan), title });
  const d = await app.ctx.db.selectFrom('declarations').selectAll().executeTakeFirstOrThrow();
  const li = await readyApplicant(app, w.unit, { name: '王芳', seq: '142', phone: '13900139000' });
  const b = new Agent(app);
  await login(b, 'applicant', li.phone);
  t.equal((await b.get(`/me/records/${d.id}/form`)).statusCode, 404);
  t.equal((await b.get(`/me/declaration/done?id=${d.id}`)).statusCode, 404);
  await b.get('/me/declaration');
  const res = await b.post('/me/declaration/submit', { declaration_id: String(d.id), token: 'x', pledge: '1' });
  t.equal(res.statusCode, 303);
  const still = await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', d.id).executeTakeFirstOrThrow();
  t.equal(still.status, 'draft', 'untouched');
});

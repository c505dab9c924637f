/**
 * Issue #16, sections per series: a 中小学教师 plan shows the teachers' sections (and not the
 * 高校 or 工程 ones); a 公开课 row with its attachment saves, is checked (Chinese errors next
 * to the field, nothing lost), counts in completeness and prints as its own table in the
 * preview, in the series' order; 代表作 print first and are capped by the plan; the plan form
 * keeps the settings (migration 0026). One app, on SQLite or (ZC_TEST_PG) PostgreSQL.
 */
import t from 'tap';
import { makeApp, Agent, login, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, makePng, teacherPlan, TEACHER_COVER, type World } from '../helpers/world.js';
import { multipart } from '../helpers/files.js';
import { chinaToday } from '../../src/features/plans/repository.js';

const app: TestApp = await makeApp();
t.teardown(() => app.close());
const w: World = await kunming(app);
const { plan: teacherPlanId, committee: teacherCommittee } = await teacherPlan(app, { theory_pass_mark: 70, max_representative: 1 });
const today = chinaToday(app.clock.now());

/** The h2 titles of the preview's tables, in order. */
const headings = (html: string) => [...html.matchAll(/<h2>([^<]+)<\/h2>/g)].map((m) => m[1]!);
/** The rows of the table under a heading, cells as text. */
function tableRows(html: string, heading: string): string[][] {
  const sec = new RegExp(`<h2>${heading}</h2>([\\s\\S]*?)</section>`).exec(html)?.[1] ?? '';
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(sec)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '').trim()));
}
const headOf = (html: string, heading: string) => {
  const sec = new RegExp(`<h2>${heading}</h2>([\\s\\S]*?)</section>`).exec(html)?.[1] ?? '';
  return [...(/<thead>([\s\S]*?)<\/thead>/.exec(sec)?.[1] ?? '').matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]!);
};

async function upload(agent: Agent, rowId: number, slot: string, back: string) {
  const { payload, contentType } = await multipart('公开课证明.png', makePng(300, 200, 7), 'image/png', 'file', { csrf: agent.csrf() });
  return app.app.inject({ method: 'POST', url: `/me/attachments?owner=row&id=${rowId}&slot=${slot}&back=${encodeURIComponent(back)}`, payload, headers: { 'content-type': contentType, cookie: agent.cookieHeader() } });
}

t.test('a teacher plan: the teachers sections, 公开课 saved with its file, checked, counted and printed as its own table', async (t) => {
  const user = await readyApplicant(app, w.unit, { name: '张伟' });
  const agent = new Agent(app);
  await login(agent, 'applicant', user.phone);

  // No declaration yet: the common sections only.
  t.equal((await agent.get('/me/sections/open-classes')).statusCode, 404, 'no 公开课 before a teacher plan is chosen');
  t.notMatch((await agent.get('/me')).body, '/me/sections/open-classes');

  await agent.get('/me/declaration');
  const cover = await agent.post('/me/declaration/cover', { plan_id: String(teacherPlanId), ...TEACHER_COVER });
  t.equal(cover.statusCode, 303, `cover saved: ${/class="err"[^>]*>([^<]*)/.exec(cover.body)?.[1] ?? ''}`);

  const home = (await agent.get('/me')).body;
  for (const key of ['teacher-type', 'open-classes', 'satisfaction', 'theory-exam']) t.match(home, `href="/me/sections/${key}"`, `menu and completion offer ${key}`);
  for (const key of ['teaching', 'student-work', 'ethics', 'study-hours']) {
    t.notMatch(home, `href="/me/sections/${key}"`, `no ${key} for a teacher plan`);
    t.equal((await agent.get(`/me/sections/${key}`)).statusCode, 404, `${key} is 404 for a teacher plan`);
  }
  const list = await agent.get('/me/sections/open-classes');
  t.equal(list.statusCode, 200);
  t.match(list.body, '精品课、评优课、与基本功竞赛有关的课、与教学设计比赛有关的课等内容不放在公开课栏目内', 'the seed’s note on the form');

  // Bad input: Chinese errors next to the fields, the typed values kept.
  await agent.get('/me/sections/open-classes/new');
  const bad = await agent.post('/me/sections/open-classes', { given_on: '2018-05-10', topic: '勾股定理的证明', subject: '数学', level: '宇宙级', organizer: '', audience: '初二（3）班' });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, /id="e-given_on">请填写任现职以来的公开课：授课时间不能早于现职称资格认定时间2019-09-01</, '任现职以来, next to the date');
  t.match(bad.body, /id="e-level">请选择公开课级别</);
  t.match(bad.body, /id="e-organizer">请填写组织单位</);
  t.match(bad.body, 'value="勾股定理的证明"', 'typed topic kept');
  t.match(bad.body, 'value="初二（3）班"', 'typed audience kept');
  t.equal(Number((await app.ctx.db.selectFrom('section_rows').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', user.userId).where('section', '=', 'open-classes').executeTakeFirstOrThrow()).n), 0, 'nothing saved');

  const ok = await agent.post('/me/sections/open-classes', { given_on: '2024-04-18', topic: '勾股定理的证明', subject: '数学', level: '市（州）级', organizer: '昆明市教育科学研究院', audience: '初二（3）班' });
  t.equal(ok.statusCode, 303);
  const rowId = Number(/\/me\/sections\/open-classes\/(\d+)\/edit/.exec(ok.headers.location as string)?.[1]);
  t.ok(rowId > 0, 'continues on the edit page for the attachment');

  // Step 2 asks for the row's file until it is there.
  let step2 = (await agent.get('/me/declaration?step=2')).body;
  t.match(step2, '公开课：第1条未上传公开课证明材料');
  const edit = await agent.get(`/me/sections/open-classes/${rowId}/edit`);
  t.match(edit.body, '公开课证明材料');
  const up = await upload(agent, rowId, 'proof', `/me/sections/open-classes/${rowId}/edit#attachments`);
  t.equal(up.statusCode, 303, 'uploaded');
  // One attachment per row: a second upload replaces the first.
  await upload(agent, rowId, 'proof', `/me/sections/open-classes/${rowId}/edit#attachments`);
  const files = await app.ctx.db.selectFrom('attachments').select('id').where('owner_type', '=', 'row').where('owner_id', '=', rowId).execute();
  t.equal(files.length, 1, 'one file per 公开课 row');
  step2 = (await agent.get('/me/declaration?step=2')).body;
  t.notMatch(step2, '公开课：第1条');

  // Completeness counts it.
  const done = (await agent.get('/me')).body;
  t.match(done, /<td>公开课<\/td><td><span class="muted">选填<\/span><\/td><td>1<\/td>/, '公开课: 1 row in 填写完成情况');

  // The other teacher sections: 学生满意度 without %, 教育理论 against the plan's 70.
  const pct = await agent.post('/me/sections/satisfaction', { year: '2025', rate: '98%' });
  t.equal(pct.statusCode, 422);
  t.match(pct.body, /id="e-rate">学生满意度不必填百分号，如 98</);
  t.match(pct.body, 'value="98%"', 'typed value kept');
  t.equal((await agent.post('/me/sections/satisfaction', { year: '2025', rate: '98' })).statusCode, 303);
  t.equal((await agent.post('/me/sections/theory-exam', { year: '2012', score: '65' })).statusCode, 303);
  t.equal((await agent.post('/me/sections/teacher-type', { type: '正常晋级', note: '' })).statusCode, 303);
  const second = await agent.post('/me/sections/teacher-type', { type: '破格晋级', note: '' });
  t.match(second.body, /id="e-type">拟评审类型只能填写1条/, 'one 拟评审类型');
  step2 = (await agent.get('/me/declaration?step=2')).body;
  t.match(step2, '教育理论考试成绩：未达到合格分数（70分）');

  // 代表作: at most 1 in this plan; the marked one prints first.
  await agent.get('/me/sections/papers/new');
  const paper = { title: '初中数学探究式教学的实践研究', journal: '中学数学教学参考', published_on: '2023-03-01', issn: '', type: '期刊论文', level: '', part: '独著', cnki_url: '' };
  t.equal((await agent.post('/me/sections/papers', { ...paper, representative: '是' })).statusCode, 303);
  const capped = await agent.post('/me/sections/papers', { ...paper, title: '勾股定理教学设计', representative: '是' });
  t.equal(capped.statusCode, 422);
  t.match(capped.body, /id="e-representative">代表作最多1篇（本评审计划规定），已选1篇/);
  t.equal((await agent.post('/me/sections/papers', { ...paper, title: '勾股定理教学设计', representative: '否' })).statusCode, 303);

  // The preview: each teacher section its own table, in the series' order.
  const preview = (await agent.get('/me/declaration?step=3')).body;
  const h = headings(preview);
  const at = (x: string) => h.indexOf(x);
  t.ok(at('表二　拟评审类型') > at('表二　主要工作经历') && at('表二　拟评审类型') < at('表三　专业技术工作总结'), '拟评审类型 after 工作经历');
  t.ok(at('表四　公开课情况（任现职以来）') > at('表四　完成主要专业技术工作情况'), '公开课 after 表四');
  t.ok(at('表四　学生满意度') > at('表四　公开课情况（任现职以来）') && at('表四　学生满意度') < at('表五　承担课题（项目）情况'), '学生满意度 after 公开课, before 表五');
  t.ok(at('表九　教育理论考试成绩') > at('表九　参加继续教育和国际学术活动情况') && at('表九　教育理论考试成绩') < at('表十　个人承诺书'), '教育理论 after 表九');
  t.same(headOf(preview, '表四　公开课情况（任现职以来）'), ['序号', '授课时间', '课题', '学科', '公开课级别', '组织单位', '授课对象']);
  t.same(tableRows(preview, '表四　公开课情况（任现职以来）'), [['1', '2024-04-18', '勾股定理的证明', '数学', '市（州）级', '昆明市教育科学研究院', '初二（3）班']], 'the 公开课 row in its own table');
  t.same(tableRows(preview, '表九　教育理论考试成绩'), [['1', '2012', '65', '不合格']], '是否合格 against the plan’s 70');
  t.same(headOf(preview, '表九　教育理论考试成绩').slice(-1), ['是否合格']);
  const papers = tableRows(preview, '表八　撰写论文情况');
  t.equal(papers[0]![1], '初中数学探究式教学的实践研究', '代表作 first');
  t.equal(papers[0]!.at(-1), '是');
  t.ok(headOf(preview, '表八　撰写论文情况').includes('代表作'), '代表作 column when the plan has 代表作 review');
  t.notOk(headOf(preview, '表八　撰写论文情况').includes('知网收录网址'), 'no 知网 column when the plan does not ask');
  for (const x of ['教学情况', '师德考核', '考试考核学时情况']) t.notMatch(preview, `<h2>[^<]*${x}</h2>`, `no ${x} table`);
});

t.test('a health plan: no teacher sections, no teacher tables', async (t) => {
  const user = await readyApplicant(app, w.unit, { name: '王芳', seq: '342', phone: '13900139000' });
  const agent = new Agent(app);
  await login(agent, 'applicant', user.phone);
  const dicts = await app.ctx.dicts.ready();
  const title = dicts.options('titles').find((o) => o.name.includes('副主任医师'))!.name;
  await agent.get('/me/declaration');
  t.equal((await agent.post('/me/declaration/cover', { plan_id: String(w.plan), level: 'senior_vice', title, specialty: '心血管内科', category: 'normal' })).statusCode, 303);
  t.equal((await agent.get('/me/sections/open-classes')).statusCode, 404);
  t.equal((await agent.post('/me/sections/open-classes', { given_on: '2024-04-18', topic: '课', subject: '数学', level: '校级', organizer: '某校' })).statusCode, 404, 'nothing saved through another series');
  const preview = (await agent.get('/me/declaration?step=3')).body;
  t.match(preview, '<h2>表四　完成主要专业技术工作情况</h2>');
  t.notMatch(preview, '公开课');
  t.notMatch(preview, '学生满意度');
  t.notOk(headOf(preview, '表八　撰写论文情况').includes('代表作'), 'no 代表作 column without 代表作 review');
});

t.test('plan form: the series settings, checked and kept', async (t) => {
  const { createStaff } = await import('../helpers/app.js');
  await createStaff(app, { username: 'com_zhou', name: '周敏', orgId: teacherCommittee, roles: '' });
  const a = new Agent(app);
  await login(a, 'staff', 'com_zhou');
  const form = await a.get(`/org/plans/${teacherPlanId}`);
  t.equal(form.statusCode, 200);
  t.match(form.body, '系列申报信息要求');
  t.match(form.body, /name="theory_pass_mark" value="70"[^>]* checked/, 'the stored pass mark');
  t.match(form.body, /name="max_representative" type="number" value="1"/);
  // Post the form as shown, with a wrong pass mark and 学时 minimum.
  const fields: Record<string, string | string[]> = {};
  for (const m of form.body.matchAll(/<input[^>]*name="([^"]+)"[^>]*>/g)) {
    const tag = m[0];
    const name = m[1]!;
    if (name === '_csrf') continue;
    const value = /value="([^"]*)"/.exec(tag)?.[1] ?? '';
    if (/type="(checkbox|radio)"/.test(tag)) {
      if (!/ checked/.test(tag)) continue;
      if (/type="checkbox"/.test(tag)) fields[name] = [...((fields[name] as string[]) ?? []), value];
      else fields[name] = value;
    } else fields[name] = value;
  }
  for (const m of form.body.matchAll(/<select[^>]*name="([^"]+)"[\s\S]*?<\/select>/g)) fields[m[1]!] = /<option value="([^"]*)" selected/.exec(m[0])?.[1] ?? '';
  for (const m of form.body.matchAll(/<textarea[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/textarea>/g)) fields[m[1]!] = m[2]!.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  const bad = await a.post(`/org/plans/${teacherPlanId}`, { ...fields, theory_pass_mark: '80', min_study_hours: '0' });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, /id="f-theory_pass_mark">[\s\S]*?<small class="err">教育理论考试合格分数请选择60分或70分<\/small>\s*<\/fieldset>/, 'next to the radios');
  t.match(bad.body, /id="e-min_study_hours">每年最低学时应为1至500的整数/);
  const good = await a.post(`/org/plans/${teacherPlanId}`, { ...fields, theory_pass_mark: '60', max_representative: '3', cnki_required: '1', min_study_hours: '' });
  t.equal(good.statusCode, 303, `saved: ${[...good.body.matchAll(/class="err" id="e-([^"]+)">([^<]*)/g)].map((m) => `${m[1]} ${m[2]}`).join('; ')}`);
  const saved = await app.ctx.db.selectFrom('plans').select(['theory_pass_mark', 'min_study_hours', 'max_representative', 'cnki_required']).where('id', '=', teacherPlanId).executeTakeFirstOrThrow();
  t.same({ ...saved, cnki_required: Number(saved.cnki_required) }, { theory_pass_mark: 60, min_study_hours: null, max_representative: 3, cnki_required: 1 });
});

t.test('an engineering plan (贵州 style): 考试考核学时情况 against the plan’s yearly minimum', async (t) => {
  const committee = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('name', '=', '昆明市机电工程高级工程师评审委员会').executeTakeFirstOrThrow()).id;
  const year = Number(today.slice(0, 4));
  const plan = (
    await app.ctx.db
      .insertInto('plans')
      .values({ committee_org_id: committee, year, name: `${year}年度机电工程高级工程师评审`, series_code: 'S05', levels: 'senior_vice', opens_at: today, closes_at: today, notice: null, min_study_hours: 72, created_at: app.clock.now().toISOString() } as any)
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  const user = await readyApplicant(app, w.unit, { name: '张伟', seq: '519', phone: '13600136519' });
  const agent = new Agent(app);
  await login(agent, 'applicant', user.phone);
  await agent.get('/me/declaration');
  t.equal((await agent.post('/me/declaration/cover', { plan_id: String(plan), level: 'senior_vice', title: '工程技术人员 - 高级工程师', specialty: '机械工程', category: 'normal' })).statusCode, 303);
  t.equal((await agent.get('/me/sections/open-classes')).statusCode, 404, 'no teacher section');
  t.equal((await agent.get('/me/sections/study-hours')).statusCode, 200);
  t.equal((await agent.post('/me/sections/study-hours', { year: String(year - 1), hours: '48', content: '继续教育公需科目', org: '昆明市人社局' })).statusCode, 303);
  const dup = await agent.post('/me/sections/study-hours', { year: String(year - 1), hours: '80' });
  t.match(dup.body, new RegExp(`id="e-year">${year - 1}年已填写过，每年只能填写一条`), 'one row per year');
  t.equal((await agent.post('/me/sections/study-hours', { year: String(year - 2), hours: '90' })).statusCode, 303);
  const step2 = (await agent.get('/me/declaration?step=2')).body;
  t.match(step2, `考试考核学时情况：${year - 1}年学时不足（48/72学时）`);
  t.notMatch(step2, `${year - 2}年学时不足`);
  const preview = (await agent.get('/me/declaration?step=3')).body;
  t.same(tableRows(preview, '表九　考试考核学时情况').map((r) => r.at(-1)), ['未达标（要求72学时）', '达标'], '是否达标 per year, printed');
});

import t from 'tap';
import { makeApp, Agent, createStaff, login, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi } from '../helpers/world.js';

// Issue #13: plans open and close at a minute (China time); the cover starts with 申报年份;
// a submission says "申报流程开始!".

const at = (app: TestApp, iso: string) => { app.clock.t = Date.parse(iso); };

async function step4Token(agent: Agent) {
  const page = await agent.get('/me/declaration?step=4');
  return /name="token" value="([^"]+)"/.exec(page.body)![1]!;
}

t.test('closing minute: 17:00:59 is in time, 17:01 is refused naming 17:00', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  at(app, '2026-06-15T08:50:00Z'); // 16:50 China time
  const w = await kunming(app);
  await app.ctx.db.updateTable('plans').set({ opens_time: '08:00', closes_at: '2026-06-15', closes_time: '17:00' }).where('id', '=', w.plan).execute();

  const zhang = await readyApplicant(app, w.unit);
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  const d1 = await declareThroughUi(app, a, w, zhang.userId);
  const wang = await readyApplicant(app, w.unit, { name: '王芳', seq: '342', phone: '13900139000' });
  const b = new Agent(app);
  await login(b, 'applicant', wang.phone);
  const d2 = await declareThroughUi(app, b, w, wang.userId);

  // The cover lists the plan with its times.
  const cover = await b.get('/me/declaration');
  t.match(cover.body, '2026年6月10日08:00至6月15日17:00', 'the window with its minutes');

  const tokA = await step4Token(a);
  const tokB = await step4Token(b);

  at(app, '2026-06-15T09:00:59Z'); // 17:00:59
  const ok = await a.post('/me/declaration/submit', { declaration_id: String(d1), token: tokA, pledge: '1' }, { csrf: a.csrf() });
  t.equal(ok.headers.location, `/me/declaration/done?id=${d1}`, '17:00:59 is accepted');
  const done = await a.get(ok.headers.location as string);
  t.match(done.body, '申报流程开始!', 'the flash of seed 001 §5.1');
  const msgs = await app.ctx.db.selectFrom('messages').select(['type', 'content']).where('user_id', '=', zhang.userId).execute();
  t.ok(msgs.some((m) => m.type === '系统消息' && m.content === '申报流程开始!'), '系统消息 申报流程开始!');
  t.equal((await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', d1).executeTakeFirstOrThrow()).status, 'reviewing');

  at(app, '2026-06-15T09:01:00Z'); // 17:01:00
  const late = await b.post('/me/declaration/submit', { declaration_id: String(d2), token: tokB, pledge: '1' }, { csrf: b.csrf() });
  t.equal(late.statusCode, 303);
  t.equal(late.headers.location, '/me/declaration?step=4');
  const back = await b.get('/me/declaration?step=4');
  t.match(back.body, '申报通道已于2026年6月15日17:00关闭，不能提交申报', 'the refusal names the closing time');
  t.equal((await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', d2).executeTakeFirstOrThrow()).status, 'draft', 'still a draft');
  t.notOk((await app.ctx.db.selectFrom('messages').select('id').where('user_id', '=', wang.userId).where('content', '=', '申报流程开始!').executeTakeFirst()), 'no message for a refused submit');

  // The plan is gone from the cover and from 开评评委会 at 17:01.
  const cover2 = await b.get('/me/declaration?step=1');
  t.notMatch(cover2.body, '6月15日17:00）', 'no longer offered');
  const home = await b.get('/me');
  t.notMatch(home.body, '6月15日17:00', 'not among the open committees');
});

t.test('a date-only plan keeps 00:00–23:59:59', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  at(app, '2026-06-15T15:50:00Z'); // 23:50
  const w = await kunming(app);
  await app.ctx.db.updateTable('plans').set({ closes_at: '2026-06-15' }).where('id', '=', w.plan).execute();
  const zhang = await readyApplicant(app, w.unit);
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  const d = await declareThroughUi(app, a, w, zhang.userId);
  const tok = await step4Token(a);
  at(app, '2026-06-15T15:59:59Z');
  const ok = await a.post('/me/declaration/submit', { declaration_id: String(d), token: tok, pledge: '1' }, { csrf: a.csrf() });
  t.equal(ok.headers.location, `/me/declaration/done?id=${d}`, '23:59:59 is in time');
});

t.test('the cover starts with 申报年份 and lists the open plans of that year', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const plan = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', w.plan).executeTakeFirstOrThrow();
  const { id: _id, ...rest } = plan;
  await app.ctx.db.insertInto('plans').values({ ...rest, year: 2027, name: '2027年度卫生技术高级职称评审（提前申报）' }).execute();
  const zhang = await readyApplicant(app, w.unit);
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  const page = await a.get('/me/declaration');
  const yearAt = page.body.indexOf('申报年份</label>');
  t.ok(yearAt > 0 && yearAt < page.body.indexOf('评委会</label>'), '申报年份 comes before 评委会');
  t.match(page.body, '<option value="2026" selected>2026年</option>', 'this year first');
  t.match(page.body, '<option value="2027">2027年</option>');
  t.match(page.body, '2026年度卫生技术高级职称评审');
  t.notMatch(page.body, '2027年度卫生技术高级职称评审', 'only the chosen year\'s plans');
  const y27 = await a.post('/me/declaration/cover', { _refresh: '1', year: '2027' });
  t.match(y27.body, '2027年度卫生技术高级职称评审');
  t.notMatch(y27.body, '>昆明市卫生系列高级职称评审委员会 — 2026年度', 'the 2026 plan is not offered for 2027');
  // A plan of another year than the one chosen is refused.
  const dicts = await app.ctx.dicts.ready();
  const title = dicts.options('titles').find((o) => o.name.includes('副主任医师'))!.name;
  const wrong = await a.post('/me/declaration/cover', { year: '2027', plan_id: String(w.plan), level: 'senior_vice', title, specialty: '心血管内科', category: 'normal' });
  t.equal(wrong.statusCode, 422);
  t.match(wrong.body, '所选评委会不是2027年度的评审计划');
});

t.test('plan form: times are saved; a provincial committee computes its window from 收审材料日期', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  await createStaff(app, { username: 'com_zhou', name: '周敏', orgId: w.committee, roles: '' });
  const a = new Agent(app);
  await login(a, 'staff', 'com_zhou');
  const form = await a.get(`/org/plans/${w.plan}`);
  t.match(form.body, '申报开始时间</label>');
  t.match(form.body, 'name="closes_time" type="text" value="24:00"', 'a date-only plan shows 24:00');
  t.notMatch(form.body, '开始收审材料日期', 'a city committee has no calculator');
  const fields = (body: string) => {
    const out: Record<string, string | string[]> = {};
    for (const m of body.matchAll(/<input id="f-[^"]+" name="([^"]+)" type="(?:text|date|number)" value="([^"]*)"/g)) out[m[1]!] = m[2]!.replace(/&amp;/g, '&');
    for (const m of body.matchAll(/<textarea id="f-[^"]+" name="([^"]+)"[^>]*>([^<]*)<\/textarea>/g)) out[m[1]!] = m[2]!;
    for (const m of body.matchAll(/<input type="(?:checkbox|radio)" id="[^"]+" name="([^"]+)" value="([^"]+)" checked>/g)) {
      const k = m[1]!;
      const prev = out[k];
      out[k] = prev === undefined ? m[2]! : ([] as string[]).concat(prev, m[2]!);
    }
    out.series_code = 'S04';
    return out;
  };
  const base = fields(form.body);
  const bad = await a.post(`/org/plans/${w.plan}`, { ...base, closes_time: '17:61' });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '申报截止时间格式应为“时:分”');
  t.match(bad.body, 'value="17:61"', 'what was typed stays');
  const saved = await a.post(`/org/plans/${w.plan}`, { ...base, opens_time: '8:00', closes_time: '17：00' });
  t.equal(saved.statusCode, 303);
  const row = await app.ctx.db.selectFrom('plans').select(['opens_time', 'closes_time']).where('id', '=', w.plan).executeTakeFirstOrThrow();
  t.same(row, { opens_time: '08:00', closes_time: '17:00' }, 'normalised and stored');

  // Computing on a city committee's plan is refused with the reason.
  const city = await a.post(`/org/plans/${w.plan}`, { ...base, _compute: '1', materials_from: '2026-09-10', central_submit: '1' });
  t.match(city.body, '只适用于省级评委会');

  await app.ctx.db.updateTable('orgs').set({ committee_tier: 'province' }).where('id', '=', w.committee).execute();
  const prov = await a.get(`/org/plans/${w.plan}`);
  t.match(prov.body, '开始收审材料日期', 'the calculator shows for a provincial committee');
  const before = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', w.plan).executeTakeFirstOrThrow();
  const computed = await a.post(`/org/plans/${w.plan}`, { ...fields(prov.body), _compute: '1', materials_from: '2026-09-10', materials_until: '2026-09-20', central_submit: '1' });
  t.equal(computed.statusCode, 200);
  t.match(computed.body, '按收审材料日期计算的申报时间：2026年9月3日00:00至9月17日24:00');
  t.match(computed.body, 'name="opens_at" type="date" value="2026-09-03"', 'the form carries the computed dates');
  t.match(computed.body, 'name="closes_at" type="date" value="2026-09-17"');
  t.same(await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', w.plan).executeTakeFirstOrThrow(), before, 'nothing saved by 计算');
  const individual = await a.post(`/org/plans/${w.plan}`, { ...fields(prov.body), _compute: '1', materials_from: '2026-09-10', materials_until: '2026-09-20', central_submit: '0' });
  t.match(individual.body, '2026年9月3日00:00至9月19日24:00', '不要求统一报送: the day before');
  // Saving the computed form stores the window and the 收审材料 dates.
  const save = await a.post(`/org/plans/${w.plan}`, fields(computed.body));
  t.equal(save.statusCode, 303);
  const p = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', w.plan).executeTakeFirstOrThrow();
  t.same([p.opens_at, p.opens_time, p.closes_at, p.closes_time, p.materials_from, p.materials_until, p.central_submit], ['2026-09-03', null, '2026-09-17', null, '2026-09-10', '2026-09-20', 1]);
});

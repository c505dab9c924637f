import t from 'tap';
import { unspan } from '../helpers/print.js';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, fillDeclarationSlots, makePng, org, uscc, type World } from '../helpers/world.js';
import { OPINION, PDF, PLEDGE, REPORT, postRecommend, multipart } from '../helpers/unitstage.js';

const COVER = (plan: number, title: string) => ({ plan_id: String(plan), level: 'senior_vice', title, specialty: '心血管内科', category: 'normal' });

async function titleOf(app: TestApp) {
  const dicts = await app.ctx.dicts.ready();
  return dicts.options('titles').find((o) => o.name.includes('副主任医师'))!.name;
}

/** An applicant of the unit who declares through the UI (cover, attachments, pledge, submit). */
async function declare(app: TestApp, w: World, o: { name?: string; seq?: string; phone?: string } = {}) {
  const person = await readyApplicant(app, w.unit, o);
  const a = new Agent(app);
  await login(a, 'applicant', person.phone);
  await a.get('/me/declaration');
  const res = await a.post('/me/declaration/cover', COVER(w.plan, await titleOf(app)));
  if (res.statusCode !== 303) throw new Error(`cover: ${res.statusCode}`);
  const d = await app.ctx.db.selectFrom('declarations').selectAll().where('user_id', '=', person.userId).executeTakeFirstOrThrow();
  const plan = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', w.plan).executeTakeFirstOrThrow();
  await fillDeclarationSlots(app, person.userId, d.id, plan);
  const page = await a.get('/me/declaration?step=4');
  const token = /name="token" value="([^"]+)"/.exec(page.body)![1]!;
  const sub = await a.post('/me/declaration/submit', { declaration_id: String(d.id), token, pledge: '1' });
  if (sub.headers.location !== `/me/declaration/done?id=${d.id}`) throw new Error(`submit: ${sub.headers.location}`);
  return { ...person, declId: d.id, agent: a };
}

const decl = (app: TestApp, id: number) => app.ctx.db.selectFrom('declarations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** Moves the clock (China time = UTC+8) and signs the staff agent in again (sessions expire). */
async function at(app: TestApp, iso: string, agent: Agent, username: string) {
  app.clock.t = Date.parse(iso);
  // Months pass in this journey; password expiry (90 days for staff) is tested elsewhere.
  await app.ctx.db.updateTable('users').set({ password_changed_at: iso }).execute();
  agent.cookies.clear();
  await login(agent, 'staff', username);
}

t.test('opinion → verify → publicity over National Day → completion with an objection → recommendation', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await declare(app, w);
  const wang = await declare(app, w, { name: '王芳', seq: '232', phone: '13800138001' });
  const s = new Agent(app);
  await login(s, 'staff', w.staff.unit);

  // The unit's list of declarations at its stage, and the menu entries.
  let page = await s.get('/org/unit-stage');
  t.equal(page.statusCode, 200);
  t.match(page.body, '张伟');
  t.match(page.body, '王芳');
  t.match(page.body, '待填写基层单位意见');
  t.match(page.body, 'href="/org/publicity"');
  t.match(page.body, 'href="/org/recommend"');

  // 核验 before the opinion: refused with the reason.
  page = await s.get(`/org/unit-stage/${zhang.declId}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, '填写基层单位意见');
  t.notMatch(page.body, '>核验通过</button>');
  let res = await s.post(`/org/unit-stage/${zhang.declId}/verify`, {});
  t.equal(res.statusCode, 409);
  t.match(res.body, '请先填写基层单位意见');

  // 基层单位意见: validation messages, typed values kept.
  page = await s.get(`/org/unit-stage/${zhang.declId}/opinion`);
  t.equal(page.statusCode, 200);
  for (const label of ['单位对申报人的评价意见', '推荐方式', '参与推荐的人员范围及人数', '推荐意见', '意见形成情况', '公示情况', '同意推荐', '不同意推荐']) t.match(page.body, label);
  res = await s.post(`/org/unit-stage/${zhang.declId}/opinion`, { evaluation: '', method: '民主推荐', scope: '人'.repeat(201), recommendation: '', formation: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请填写单位对申报人的评价意见');
  t.match(res.body, '参与推荐的人员范围及人数不能超过200个字');
  t.match(res.body, '请选择推荐意见');
  t.match(res.body, '请填写意见形成情况');
  t.match(res.body, 'value="民主推荐"', 'the typed value is kept');
  t.equal((await decl(app, zhang.declId)).unit_opinion, null, 'nothing saved');

  res = await s.post(`/org/unit-stage/${zhang.declId}/opinion`, OPINION);
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, `/org/unit-stage/${zhang.declId}`);
  t.same(JSON.parse((await decl(app, zhang.declId)).unit_opinion!), OPINION);
  page = await s.get(`/org/unit-stage/${zhang.declId}`);
  t.match(page.body, '基层单位意见已保存');
  t.match(page.body, '院职称推荐委员会委员15人');
  t.match(page.body, '>核验通过</button>');

  // 不同意推荐 blocks 核验通过.
  await s.get(`/org/unit-stage/${wang.declId}/opinion`);
  res = await s.post(`/org/unit-stage/${wang.declId}/opinion`, { ...OPINION, recommendation: '不同意推荐', back: `/org/reviews/${wang.declId}` });
  t.equal(res.headers.location, `/org/reviews/${wang.declId}`, 'back to the page the panel was on');
  await s.get(`/org/unit-stage/${wang.declId}`);
  res = await s.post(`/org/unit-stage/${wang.declId}/verify`, {});
  t.equal(res.statusCode, 409);
  t.match(res.body, '不同意推荐');

  // 核验通过.
  await s.get(`/org/unit-stage/${zhang.declId}`);
  res = await s.post(`/org/unit-stage/${zhang.declId}/verify`, {});
  t.equal(res.statusCode, 303);
  t.ok((await decl(app, zhang.declId)).unit_verified_at);
  const ev = await app.ctx.db.selectFrom('workflow_events').selectAll().where('declaration_id', '=', zhang.declId).where('action', '=', 'verify').execute();
  t.equal(ev.length, 1);
  t.equal(ev[0]!.stage, 0);
  res = await s.post(`/org/unit-stage/${zhang.declId}/verify`, {});
  t.equal(res.statusCode, 409, 'no second verification');
  await s.get(`/org/unit-stage/${wang.declId}/opinion`);
  await s.post(`/org/unit-stage/${wang.declId}/opinion`, OPINION);
  await s.get(`/org/unit-stage/${wang.declId}`);
  t.equal((await s.post(`/org/unit-stage/${wang.declId}/verify`, {})).statusCode, 303);
  // After verification the opinion can still be completed (公示情况), but not turned against.
  await s.get(`/org/unit-stage/${wang.declId}/opinion`);
  res = await s.post(`/org/unit-stage/${wang.declId}/opinion`, { ...OPINION, recommendation: '不同意推荐' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '已核验通过');

  // Not yet publicised: nothing to recommend.
  page = await s.get('/org/recommend');
  t.match(page.body, '暂无可推荐上报的人员');

  // 申报公示, a week before National Day (China time).
  await at(app, '2026-09-25T02:00:00Z', s, w.staff.unit);
  page = await s.get('/org/publicity/new');
  t.equal(page.statusCode, 200);
  t.match(page.body, '张伟');
  t.match(page.body, '王芳');
  t.match(page.body, 'name="days" type="number" value="5"', 'the plan\'s publicity days by default');
  t.match(page.body, 'name="contact_phone" type="tel" value="0871-63638888"', '异议受理电话: the unit\'s 联系电话 by default');
  t.match(page.body, 'name="contact_address" type="text" value="昆明市五华区西昌路157号"', '异议受理地址: the unit\'s address by default');
  res = await s.post('/org/publicity', { title: '', start_date: '2026-09-28', days: '5', _preview: '1' });
  t.equal(res.statusCode, 200, 'computing the end date saves nothing and does not complain about the title');
  t.match(res.body, '<b id="end-date">2026-10-09</b>', '中秋 and 国庆 skipped, 10-10 is a workday but after the 5th');
  t.notMatch(res.body, '缺少');
  res = await s.post('/org/publicity', { title: '公示', start_date: '2027-12-29', days: '5', _preview: '1' });
  t.match(res.body, '缺少2027、2028年节假日数据，按普通工作日计算');

  res = await s.post('/org/publicity', { title: '', start_date: '2026-09-20', days: '4' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请填写标题');
  t.match(res.body, '开始日期不能早于今天（2026-09-25）');
  t.match(res.body, '公示期不能少于5个工作日');
  t.match(res.body, '请勾选公示名单');
  t.match(res.body, '请填写异议受理电话', 'the notice needs where objections go');
  res = await s.post('/org/publicity', { title: 'x', start_date: '2026-02-30', days: 'abc', contact_phone: '找人事科', contact_address: '人事科', ids: [String(zhang.declId)] });
  t.match(res.body, '开始日期格式不正确');
  t.match(res.body, '公示工作日数应为整数');
  t.match(res.body, '异议受理电话应为11位手机号或带区号的固定电话');
  t.match(res.body, 'name="contact_phone" type="tel" value="找人事科"', 'what was typed is kept');
  t.match(res.body, 'name="contact_address" type="text" value="人事科"');
  t.equal(await app.ctx.db.selectFrom('publicities').select('id').execute().then((r) => r.length), 0);

  const TITLE = '关于2026年度卫生技术高级职称申报人员的公示';
  res = await s.post('/org/publicity', { title: TITLE, start_date: '2026-09-28', days: '5', contact_phone: '0871 6363 8888', contact_address: '本院人事科（行政楼302室）', ids: [String(zhang.declId), String(wang.declId)] });
  t.equal(res.statusCode, 303);
  const pub = await app.ctx.db.selectFrom('publicities').selectAll().executeTakeFirstOrThrow();
  t.equal(res.headers.location, `/org/publicity/${pub.id}`);
  t.same([pub.start_date, pub.days, pub.end_date, pub.status], ['2026-09-28', 5, '2026-10-09', 'open']);
  t.same([pub.contact_phone, pub.contact_address], ['0871-63638888', '本院人事科（行政楼302室）'], 'the contact line, the phone normalised');
  t.equal((await decl(app, zhang.declId)).publicity_state, 'open');
  t.equal((await decl(app, wang.declId)).publicity_state, 'open');

  page = await s.get(`/org/publicity/${pub.id}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, '公示已保存，公示期2026-09-28至2026-10-09');
  for (const x of [TITLE, '张伟', '王芳', '昆明市第一人民医院', '副主任医师（心血管内科）', '硕士研究生', '昆明医科大学', '现职称', '现职称履职年限：截至2026年12月31日满7年3个月', '牵头建设胸痛中心']) t.match(unspan(page.body), x);
  t.match(page.body, '公示期满后（2026-10-09 次日起）方可完成公示');
  t.notMatch(page.body, '>完成公示</button>');
  const print = await s.get(`/org/publicity/${pub.id}/print`);
  t.equal(print.statusCode, 200);
  t.match(print.body, TITLE);
  t.match(print.body, 'class="review-form rf-notice"');
  const printed = print.body.replace(/<[^>]+>/g, '');
  t.match(printed, '2026-09-28 至 2026-10-09');
  t.match(printed, '异议受理电话：0871-63638888　　异议受理地址：本院人事科（行政楼302室）', 'where objections go');
  t.match(print.body, /<div class="rf-sealarea">\s*<p class="rf-name">昆明市第一人民医院（盖章）<\/p>/, 'the unit\'s name above room for its seal');
  t.match(printed, '2026年9月28日', 'dated the first day of the publicity');
  for (const name of ['张伟', '王芳']) t.match(print.body, `<td class="rf-name">${name}</td>`, `${name} never wraps`);
  t.match(page.body, '电话：0871-63638888；地址：本院人事科（行政楼302室）', 'the detail page shows it too');
  t.notMatch(print.body, 'class="side"', 'the printed notice has no menu');
  t.notMatch(print.body, '公示结果', 'nor the results');
  const list = await s.get('/org/publicity');
  t.match(list.body, TITLE);
  t.match(list.body, '公示中');
  t.notMatch((await s.get("/org/publicity/new")).body, `name="ids" value="${zhang.declId}"`, 'no longer waiting for publicity');

  // Panel and list: publicising.
  page = await s.get(`/org/unit-stage/${zhang.declId}`);
  t.match(page.body, '公示中');
  t.match(page.body, `/org/publicity/${pub.id}`);

  // The last day of the publicity (China time): too early to complete.
  await at(app, '2026-10-09T10:00:00Z', s, w.staff.unit);
  await s.get(`/org/publicity/${pub.id}`);
  res = await s.post(`/org/publicity/${pub.id}/complete`, { [`result_${zhang.declId}`]: 'none', [`result_${wang.declId}`]: 'none' });
  t.equal(res.statusCode, 409);
  t.match(res.body, '公示期至2026-10-09，期满后（次日起）方可完成公示');
  t.equal((await decl(app, zhang.declId)).publicity_state, 'open');

  // 00:30 on 10-10 in China (still 10-09 in UTC): the publicity is over.
  await at(app, '2026-10-09T16:30:00Z', s, w.staff.unit);
  page = await s.get(`/org/publicity/${pub.id}`);
  t.match(page.body, '>完成公示</button>');
  res = await s.post(`/org/publicity/${pub.id}/complete`, { [`result_${zhang.declId}`]: 'none', [`result_${wang.declId}`]: 'objection' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '有异议的，请填写异议情况');
  res = await s.post(`/org/publicity/${pub.id}/complete`, { [`result_${zhang.declId}`]: 'none' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请选择公示结果');
  t.equal((await decl(app, zhang.declId)).publicity_state, 'open', 'nothing recorded');

  res = await s.post(`/org/publicity/${pub.id}/complete`, {
    [`result_${zhang.declId}`]: 'none', [`note_${zhang.declId}`]: '',
    [`result_${wang.declId}`]: 'objection', [`note_${wang.declId}`]: '收到实名反映：论文存在署名争议',
  });
  t.equal(res.statusCode, 303);
  t.equal((await decl(app, zhang.declId)).publicity_state, 'no_objection');
  t.equal((await decl(app, wang.declId)).publicity_state, 'objection');
  const items = await app.ctx.db.selectFrom('publicity_items').selectAll().orderBy('declaration_id').execute();
  t.same(items.map((i) => [i.declaration_id, i.objection, i.note]), [[zhang.declId, 0, null], [wang.declId, 1, '收到实名反映：论文存在署名争议']]);
  t.equal((await app.ctx.db.selectFrom('publicities').select('status').executeTakeFirstOrThrow()).status, 'completed');
  page = await s.get(`/org/publicity/${pub.id}`);
  t.match(page.body, '1人有异议');
  t.match(page.body, '有异议：收到实名反映');
  res = await s.post(`/org/publicity/${pub.id}/complete`, { [`result_${zhang.declId}`]: 'none', [`result_${wang.declId}`]: 'none' });
  t.equal(res.statusCode, 409, 'completed once');

  // 推荐上报: the objection cannot be recommended.
  page = await s.get('/org/recommend');
  t.match(page.body, `name="ids" value="${zhang.declId}"`);
  t.notMatch(page.body, `name="ids" value="${wang.declId}"`);
  t.match(page.body, '公示有异议（不能推荐上报）');
  res = await postRecommend(app, s, [wang.declId], [PLEDGE, REPORT]);
  t.equal(res.statusCode, 409);
  t.match(res.body, '所选人员中有不能推荐上报的');
  t.equal((await decl(app, wang.declId)).stage, 0);
  res = await postRecommend(app, s, [zhang.declId, wang.declId], [PLEDGE, REPORT]);
  t.equal(res.statusCode, 409, 'the whole batch is refused');
  t.equal((await decl(app, zhang.declId)).stage, 0);
  t.equal(await app.ctx.db.selectFrom('recommendations').select('id').execute().then((r) => r.length), 0);

  // Both files are required when someone was publicised.
  res = await postRecommend(app, s, [zhang.declId], []);
  t.equal(res.statusCode, 422);
  t.match(res.body, '请上传诚信承诺书');
  t.match(res.body, '请上传公示情况说明');
  t.match(res.body, `name="ids" value="${zhang.declId}" checked`, 'the selection is kept');
  res = await postRecommend(app, s, [], [PLEDGE, REPORT]);
  t.equal(res.statusCode, 422);
  t.match(res.body, '请勾选推荐上报的人员');
  res = await postRecommend(app, s, [zhang.declId], [PLEDGE, { ...REPORT, data: Buffer.from('plain text, not a document') }]);
  t.equal(res.statusCode, 422);
  t.match(res.body, '只能上传 jpg、png 或 pdf 文件');
  t.equal(await app.ctx.db.selectFrom('files').select('id').where('user_id', '=', (await staffId(app, w.staff.unit))).execute().then((r) => r.length), 0, 'the accepted file of a refused form is not kept');
  // Without the CSRF token: refused.
  const { payload, contentType } = multipart([['ids', String(zhang.declId)]], [PLEDGE, REPORT]);
  res = await app.app.inject({ method: 'POST', url: '/org/recommend', payload, headers: { 'content-type': contentType, cookie: [...s.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  t.equal(res.statusCode, 403);

  res = await postRecommend(app, s, [zhang.declId], [PLEDGE, REPORT]);
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/org/recommend');
  const after = await decl(app, zhang.declId);
  t.same([after.status, after.stage], ['reviewing', 1], 'moved to the supervisor');
  const rec = await app.ctx.db.selectFrom('recommendations').selectAll().executeTakeFirstOrThrow();
  t.equal(after.recommendation_id, rec.id);
  t.equal(rec.count, 1);
  t.ok(rec.pledge_file_id && rec.report_file_id);
  const actions = await app.ctx.db.selectFrom('workflow_events').select(['action', 'stage', 'opinion', 'to_status']).where('declaration_id', '=', zhang.declId).orderBy('id').execute();
  t.same(actions.map((e) => e.action), ['save_cover', 'submit', 'verify', 'publicize', 'publicize', 'recommend', 'approve']);
  t.same(actions.at(-1), { action: 'approve', stage: 0, opinion: '同意推荐', to_status: 'reviewing' });
  // The same steps in the audit log, each with its actor and source IP; no opinion or objection text.
  const audited = (declId: number) => app.ctx.db.selectFrom('audit_log').selectAll().where('object_type', '=', 'declaration').where('object_id', '=', String(declId)).orderBy('id').execute();
  const za = await audited(zhang.declId);
  t.same(za.map((r) => r.action), ['declaration_submit', 'unit_verify', 'publicity_start', 'publicity_complete', 'workflow']);
  t.match(za[0], { user_id: zhang.userId, role: 'applicant' });
  for (const r of za.slice(1)) t.match(r, { username: w.staff.unit, org_id: w.unit, result: 'ok' });
  t.ok(za.every((r) => r.ip === '127.0.0.1'), 'source IP on every row');
  t.equal(za[1]!.detail, '核验通过（环节0）');
  t.equal(za[2]!.detail, `公示 ${pub.id}：2026-09-28至2026-10-09（5个工作日，共2人）`);
  t.equal(za[3]!.detail, `公示 ${pub.id} 完成：无异议`);
  const wa = await audited(wang.declId);
  t.same(wa.map((r) => r.action), ['declaration_submit', 'unit_verify', 'publicity_start', 'publicity_complete']);
  t.equal(wa[3]!.detail, `公示 ${pub.id} 完成：有异议（不能推荐上报）`);
  const dump = JSON.stringify(await app.ctx.db.selectFrom('audit_log').selectAll().execute());
  for (const v of ['署名争议', OPINION.evaluation, zhang.phone, zhang.id, wang.phone, wang.id]) t.notMatch(dump, v, 'no opinion, objection or personal data');
  const msgs = await app.ctx.db.selectFrom('messages').select('content').where('user_id', '=', zhang.userId).execute();
  t.equal(msgs.filter((m) => m.content.includes('您的申报已通过单位审核')).length, 1, 'one message');
  page = await s.get('/org/recommend');
  t.match(page.body, '已推荐上报1人');
  t.match(page.body, 'pledge.png');
  t.match(page.body, 'report.pdf');
  const file = await s.get(`/org/recommend/files/${rec.pledge_file_id}`);
  t.equal(file.statusCode, 200);
  t.equal(file.headers['content-type'], 'image/png');

  // The unit's turn is over for 张伟; 王芳 stays with the unit (return or reject).
  res = await s.get(`/org/unit-stage/${zhang.declId}/opinion`);
  t.equal(res.statusCode, 409);
  t.match(res.body, '主管部门');
  t.equal((await decl(app, wang.declId)).stage, 0);

  // The supervisor: 张伟 is in its scope but not at a unit stage; 王芳 is not in its scope yet.
  const sup = new Agent(app);
  await login(sup, 'staff', w.staff.supervisor);
  res = await sup.get(`/org/unit-stage/${zhang.declId}/opinion`);
  t.equal(res.statusCode, 409);
  t.match(res.body, '没有单位核验、公示和推荐上报');
  await sup.get('/org');
  res = await sup.post(`/org/unit-stage/${zhang.declId}/verify`, {});
  t.equal(res.statusCode, 409);
  res = await sup.get(`/org/unit-stage/${wang.declId}`);
  t.equal(res.statusCode, 404);
  t.equal((await sup.get('/org/publicity')).statusCode, 403);
  t.equal((await sup.get('/org/recommend')).statusCode, 403);
  t.notMatch((await sup.get('/org')).body, 'href="/org/publicity"', 'no menu entries for the supervisor');
});

async function staffId(app: TestApp, username: string) {
  return (await app.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id;
}

t.test('a plan without publicity: verify → recommend with the pledge only', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  await app.ctx.db.updateTable('plans').set({ publicity_required: 0 }).where('id', '=', w.plan).execute();
  const zhang = await declare(app, w);
  const s = new Agent(app);
  await login(s, 'staff', w.staff.unit);
  await s.get(`/org/unit-stage/${zhang.declId}/opinion`);
  t.equal((await s.post(`/org/unit-stage/${zhang.declId}/opinion`, OPINION)).statusCode, 303);
  let page = await s.get(`/org/unit-stage/${zhang.declId}`);
  t.match(page.body, '本评审计划无需单位公示');
  t.equal((await s.post(`/org/unit-stage/${zhang.declId}/verify`, {})).statusCode, 303);
  page = await s.get(`/org/unit-stage/${zhang.declId}`);
  t.match(page.body, '前往推荐上报');
  t.match((await s.get('/org/publicity/new')).body, '暂无待公示人员', 'not offered for publicity');
  page = await s.get('/org/recommend');
  t.match(page.body, '无需公示');
  let res = await postRecommend(app, s, [zhang.declId], []);
  t.equal(res.statusCode, 422);
  t.match(res.body, '请上传诚信承诺书');
  t.notMatch(res.body, '请上传公示情况说明');
  res = await postRecommend(app, s, [zhang.declId], [PLEDGE]);
  t.equal(res.statusCode, 303);
  const d = await decl(app, zhang.declId);
  t.same([d.status, d.stage, d.publicity_state], ['reviewing', 1, null]);
  const rec = await app.ctx.db.selectFrom('recommendations').selectAll().executeTakeFirstOrThrow();
  t.ok(rec.pledge_file_id);
  t.equal(rec.report_file_id, null);
  // The batch writes each declaration's audit row with the source IP, like a single review action.
  const wf = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'workflow').where('object_id', '=', String(zhang.declId)).execute();
  t.equal(wf.length, 1);
  t.match(wf[0], { ip: '127.0.0.1', username: w.staff.unit, object_type: 'declaration', result: 'ok' });
});

t.test('scope: another unit gets 404, a returned declaration is verified again', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await declare(app, w);
  const other = await org(app, { kind: 'unit', name: '昆明市第二人民医院', uscc: uscc(2), nature: 'institution', unit_level: 'city', region_code: '530102', supervisor_org_id: w.supervisor, supervisor_status: 'approved' });
  await createStaff(app, { username: 'unit2_wu', name: '吴敏', orgId: other, roles: '' });
  const o = new Agent(app);
  await login(o, 'staff', 'unit2_wu');
  t.equal((await o.get(`/org/unit-stage/${zhang.declId}`)).statusCode, 404);
  t.equal((await o.get(`/org/unit-stage/${zhang.declId}/opinion`)).statusCode, 404);
  await o.get('/org');
  t.equal((await o.post(`/org/unit-stage/${zhang.declId}/opinion`, OPINION)).statusCode, 404);
  t.equal((await o.post(`/org/unit-stage/${zhang.declId}/verify`, {})).statusCode, 404);
  t.equal((await o.get('/org/unit-stage/abc')).statusCode, 404);
  t.notMatch((await o.get('/org/unit-stage')).body, '张伟');
  t.match((await o.get('/org')).body, 'href="/org/publicity"', 'menu entries for unit staff');

  const s = new Agent(app);
  await login(s, 'staff', w.staff.unit);
  await s.get(`/org/unit-stage/${zhang.declId}/opinion`);
  await s.post(`/org/unit-stage/${zhang.declId}/opinion`, OPINION);
  await s.get(`/org/unit-stage/${zhang.declId}`);
  await s.post(`/org/unit-stage/${zhang.declId}/verify`, {});
  await s.get('/org/publicity/new');
  const res = await s.post('/org/publicity', { title: '公示', start_date: '2026-06-15', days: '5', contact_phone: '0871-63638888', ids: [String(zhang.declId)] });
  t.equal(res.statusCode, 303);
  const pub = await app.ctx.db.selectFrom('publicities').select('id').executeTakeFirstOrThrow();
  t.equal((await o.get(`/org/publicity/${pub.id}`)).statusCode, 404, 'another unit cannot open the publicity');
  t.equal((await o.get(`/org/publicity/${pub.id}/print`)).statusCode, 404);
  await o.get('/org/publicity');
  t.equal((await o.post(`/org/publicity/${pub.id}/complete`, { [`result_${zhang.declId}`]: 'none' })).statusCode, 404);

  // 返回修改 and resubmission: the verification was of the old version.
  app.clock.advance(60_000);
  await app.ctx.db.updateTable('declarations').set({ status: 'returned', returns_count: 1 }).where('id', '=', zhang.declId).execute();
  await app.ctx.db.updateTable('declarations').set({ status: 'reviewing', submitted_at: app.clock.now().toISOString() }).where('id', '=', zhang.declId).execute();
  const page = await s.get(`/org/unit-stage/${zhang.declId}`);
  t.match(page.body, '>核验通过</button>', 'verify again');
});

t.test('an HR agency (freelancers) works the unit stage the same way', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const agency = await org(app, { kind: 'agency', name: '昆明市人才服务中心', uscc: uscc(3), region_code: '530102' });
  await createStaff(app, { username: 'agency_he', name: '何平', orgId: agency, roles: '' });
  const zhang = await declare(app, { ...w, unit: agency });
  const d0 = await decl(app, zhang.declId);
  t.same(JSON.parse(d0.route!).map((r: { kind: string }) => r.kind), ['agency', 'hrb_county', 'committee']);
  const s = new Agent(app);
  await login(s, 'staff', 'agency_he');
  t.match((await s.get('/org')).body, 'href="/org/recommend"');
  await s.get(`/org/unit-stage/${zhang.declId}/opinion`);
  t.equal((await s.post(`/org/unit-stage/${zhang.declId}/opinion`, { ...OPINION, method: '考核推荐' })).statusCode, 303);
  const page = await s.get(`/org/unit-stage/${zhang.declId}`);
  t.match(page.body, '人事代理机构（行业协会）审核');
  t.equal((await s.post(`/org/unit-stage/${zhang.declId}/verify`, {})).statusCode, 303);
  await s.get('/org/publicity/new');
  t.equal((await s.post('/org/publicity', { title: '人才服务中心职称申报公示', start_date: '2026-06-15', days: '5', contact_phone: '0871-63638888', ids: [String(zhang.declId)] })).statusCode, 303);
  t.equal((await decl(app, zhang.declId)).publicity_state, 'open');
  // The unit of the Kunming world sees nothing of it.
  const u = new Agent(app);
  await login(u, 'staff', w.staff.unit);
  t.equal((await u.get(`/org/unit-stage/${zhang.declId}`)).statusCode, 404);
});

import t from 'tap';
import { makeApp, Agent, createStaff, login, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, fillDeclarationSlots, org, uscc } from '../helpers/world.js';
import { SUPERVISOR_CHANGED_OPINION } from '../../src/features/units/supervision.js';

async function titleOf(app: TestApp) {
  const dicts = await app.ctx.dicts.ready();
  return dicts.options('titles').find((o) => o.name.includes('副主任医师'))!.name;
}
const COVER = (plan: number, title: string) => ({ plan_id: String(plan), level: 'senior_vice', title, specialty: '心血管内科', category: 'normal' });

/** The applicant's cover through the UI: 303 when the route is found, 422 with the reason otherwise. */
async function saveCover(app: TestApp, a: Agent, plan: number) {
  await a.get('/me/declaration');
  return a.post('/me/declaration/cover', COVER(plan, await titleOf(app)));
}

/** Cover, slots and submission through the applicant UI; returns the declaration. */
async function submitDeclaration(app: TestApp, a: Agent, userId: number, plan: number) {
  const res = await saveCover(app, a, plan);
  if (res.statusCode !== 303) throw new Error(`cover refused: ${res.body.slice(0, 500)}`);
  const d = await app.ctx.db.selectFrom('declarations').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow();
  const p = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', plan).executeTakeFirstOrThrow();
  await fillDeclarationSlots(app, userId, d.id, p);
  const page = await a.get('/me/declaration?step=4');
  const token = /name="token" value="([^"]+)"/.exec(page.body)![1]!;
  const sub = await a.post('/me/declaration/submit', { declaration_id: String(d.id), token, pledge: '1' });
  if (sub.headers.location !== `/me/declaration/done?id=${d.id}`) throw new Error(`submit failed: ${sub.headers.location} ${(await a.get(String(sub.headers.location))).body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 1500)}`);
  return app.ctx.db.selectFrom('declarations').selectAll().where('id', '=', d.id).executeTakeFirstOrThrow();
}

t.test('first choice: pending blocks the route, the supervisor approves, the route works', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  // A second public unit without a supervisor.
  const unit = await org(app, { kind: 'unit', name: '昆明市儿童医院', uscc: uscc(21), nature: 'institution', unit_level: 'city', region_code: '530102', phone: '0871-63300000' });
  await createStaff(app, { username: 'etyy', name: '马丽', orgId: unit, roles: 'unit_admin' });
  const u = new Agent(app);
  await login(u, 'staff', 'etyy');
  const zhang = await readyApplicant(app, unit);
  const ap = new Agent(app);
  await login(ap, 'applicant', zhang.phone);

  let res = await saveCover(app, ap, w.plan);
  t.equal(res.statusCode, 422);
  t.match(res.body, '主管单位审核未通过');

  let page = await u.get('/org/unit/supervisor?q=卫生');
  t.equal(page.statusCode, 200);
  t.match(page.body, `<option value="${w.supervisor}">昆明市卫生健康委员会</option>`, 'searchable');
  t.notMatch((await u.get('/org/unit/supervisor?q=不存在的部门')).body, `<option value="${w.supervisor}">`);
  res = await u.post('/org/unit/supervisor', { supervisor_org_id: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请选择主管部门');
  res = await u.post('/org/unit/supervisor', { supervisor_org_id: String(w.unit) });
  t.equal(res.statusCode, 422, 'a unit is not a supervisor');
  res = await u.post('/org/unit/supervisor', { supervisor_org_id: String(w.supervisor) });
  t.equal(res.statusCode, 303);
  let o = await app.ctx.db.selectFrom('orgs').selectAll().where('id', '=', unit).executeTakeFirstOrThrow();
  t.equal(o.supervisor_status, 'pending');
  t.equal(o.supervisor_org_id, null, 'a first choice is not bound until approved');
  page = await u.get('/org/unit/supervisor');
  t.match(page.body, '等待审核');
  t.match(page.body, '撤回申请');
  res = await u.post('/org/unit/supervisor', { supervisor_org_id: String(w.supervisor) });
  t.match(res.body, '已有等待审核的主管部门申请');
  t.match((await u.get('/org/unit')).body, '主管部门（等待主管部门审核）');

  res = await saveCover(app, ap, w.plan);
  t.equal(res.statusCode, 422, 'still blocked while pending');
  t.match(res.body, '主管单位审核未通过');

  // The supervisor: 下属单位审核 (not 单位审核, the declaration stage's name) — its home page's
  // 待办, the message, the menu, the list, the detail with the unit's data, then 通过.
  const s = new Agent(app);
  await login(s, 'staff', w.staff.supervisor);
  page = await s.get('/org');
  t.match(page.body, '下属单位审核：有 <b>1</b> 个单位申请以本部门为主管部门');
  t.match((await s.get('/org/messages')).body, '请在“下属单位审核”中审核');
  page = await s.get('/org/unit-reviews');
  t.match(page.body, '>下属单位审核</a>', 'menu entry');
  t.notMatch(page.body, '>单位审核</a>', 'the declaration stage\'s words are not used for it');
  t.match(page.body, '<h1>下属单位审核</h1>');
  t.match(page.body, '<title>下属单位审核 - ');
  t.match(page.body, 'aria-label="下属单位审核列表"', 'the list\'s name for screen readers too');
  t.notMatch(page.body.replaceAll('下属单位审核', ''), '单位审核', 'nowhere on the page the declaration stage\'s name');
  t.match(page.body, '昆明市儿童医院');
  t.match(page.body, '首次选择');
  const req = await app.ctx.db.selectFrom('supervisor_requests').selectAll().executeTakeFirstOrThrow();
  page = await s.get(`/org/unit-reviews/${req.id}`);
  t.equal(page.statusCode, 200);
  t.notMatch(page.body.replaceAll('下属单位审核', ''), '单位审核', 'nor on the detail page');
  t.match(page.body, '<h1>下属单位审核：昆明市儿童医院</h1>');
  t.match(page.body, uscc(21));
  t.match(page.body, '事业单位');
  res = await s.post(`/org/unit-reviews/${req.id}`, { action: 'approve', opinion: '' });
  t.equal(res.statusCode, 303);
  o = await app.ctx.db.selectFrom('orgs').selectAll().where('id', '=', unit).executeTakeFirstOrThrow();
  t.equal(o.supervisor_status, 'approved');
  t.equal(o.supervisor_org_id, w.supervisor);
  t.equal((await app.ctx.db.selectFrom('supervisor_requests').select('status').where('id', '=', req.id).executeTakeFirstOrThrow()).status, 'approved');
  res = await s.post(`/org/unit-reviews/${req.id}`, { action: 'approve' });
  t.equal(res.statusCode, 422, 'decided once');
  t.match(res.body, '该申请已审核');
  t.match((await u.get('/org/messages')).body, '已通过本单位的主管部门申请');
  t.match((await s.get('/org/unit-reviews?status=approved')).body, '昆明市儿童医院');
  // The decision is audited once (the repeated post changed nothing and wrote nothing).
  const decided = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'supervisor_decision').execute();
  t.equal(decided.length, 1);
  t.match(decided[0], { username: w.staff.supervisor, org_id: w.supervisor, object_type: 'org', object_id: String(unit), result: 'ok', detail: `通过单位“昆明市儿童医院”的主管部门申请（申请 ${req.id}）` });
  t.ok(decided[0]!.ip, 'source IP');

  // The applicant's cover now finds the route.
  res = await saveCover(app, ap, w.plan);
  t.equal(res.statusCode, 303);
  const d = await app.ctx.db.selectFrom('declarations').selectAll().where('user_id', '=', zhang.userId).executeTakeFirstOrThrow();
  t.same(JSON.parse(d.route!).map((r: { kind: string; orgId: number }) => [r.kind, r.orgId]), [['unit', unit], ['supervisor', w.supervisor], ['committee', w.committee]]);
});

t.test('不通过 needs an opinion; a refused first choice; withdraw; other supervisors see nothing', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const other = await org(app, { kind: 'supervisor', name: '昆明市教育体育局', region_code: '530100' });
  await createStaff(app, { username: 'edu_wang', orgId: other, roles: '' });
  const unit = await org(app, { kind: 'unit', name: '昆明市第二人民医院', uscc: uscc(22), nature: 'institution', unit_level: 'city', region_code: '530102' });
  await createStaff(app, { username: 'ey', orgId: unit, roles: '' });
  const u = new Agent(app);
  await login(u, 'staff', 'ey');
  await u.get('/org/unit/supervisor');
  await u.post('/org/unit/supervisor', { supervisor_org_id: String(w.supervisor) });
  const req = await app.ctx.db.selectFrom('supervisor_requests').selectAll().executeTakeFirstOrThrow();

  const e = new Agent(app);
  await login(e, 'staff', 'edu_wang');
  t.equal((await e.get(`/org/unit-reviews/${req.id}`)).statusCode, 404, "another supervisor's request");
  t.equal((await e.get(`/org/unit-reviews/${req.id}/license`)).statusCode, 404);
  t.notMatch((await e.get('/org/unit-reviews?status=all')).body, '昆明市第二人民医院');
  await e.get('/org/unit-reviews');
  t.equal((await e.post(`/org/unit-reviews/${req.id}`, { action: 'approve' })).statusCode, 404);

  const s = new Agent(app);
  await login(s, 'staff', w.staff.supervisor);
  await s.get(`/org/unit-reviews/${req.id}`);
  let res = await s.post(`/org/unit-reviews/${req.id}`, { action: 'reject', opinion: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '不通过时请填写审核意见');
  res = await s.post(`/org/unit-reviews/${req.id}`, { action: 'reject', opinion: '非本部门所属单位' });
  t.equal(res.statusCode, 303);
  let o = await app.ctx.db.selectFrom('orgs').selectAll().where('id', '=', unit).executeTakeFirstOrThrow();
  t.equal(o.supervisor_status, 'rejected');
  t.equal(o.supervisor_org_id, null);
  let page = await u.get('/org/unit/supervisor');
  t.match(page.body, '非本部门所属单位');
  t.match(page.body, '上次申请未通过');
  t.match((await u.get('/org/messages')).body, '未通过本单位的主管部门申请');
  const decided = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'supervisor_decision').execute();
  t.equal(decided.length, 1, 'the refusal without an opinion wrote nothing');
  t.match(decided[0], { object_id: String(unit), result: 'ok', detail: '不通过单位“昆明市第二人民医院”的主管部门申请' });
  t.notMatch(decided[0]!.detail, '非本部门所属单位', 'the opinion text is not copied');
  t.ok(decided[0]!.ip);

  // Ask again, then withdraw.
  await u.post('/org/unit/supervisor', { supervisor_org_id: String(other) });
  t.equal((await app.ctx.db.selectFrom('orgs').select('supervisor_status').where('id', '=', unit).executeTakeFirstOrThrow()).supervisor_status, 'pending');
  page = await u.get('/org/unit/supervisor');
  res = await u.post('/org/unit/supervisor/withdraw');
  t.equal(res.statusCode, 303);
  o = await app.ctx.db.selectFrom('orgs').selectAll().where('id', '=', unit).executeTakeFirstOrThrow();
  t.equal(o.supervisor_status, null);
  t.equal(o.supervisor_org_id, null);
  t.match((await u.get('/org/unit/supervisor')).body, '单位已撤回申请');
  const asked = (await app.ctx.db.selectFrom('audit_log').select(['action', 'ip', 'object_id']).execute()).filter((r) => r.object_id === String(unit)).map((r) => r.action);
  t.ok(asked.includes('supervisor_request') && asked.includes('supervisor_withdraw'), 'request and withdrawal are audited');
});

t.test('change of supervisor: an in-flight declaration goes back to the unit with the new route', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await readyApplicant(app, w.unit);
  const ap = new Agent(app);
  await login(ap, 'applicant', zhang.phone);
  const d0 = await submitDeclaration(app, ap, zhang.userId, w.plan);
  t.equal(d0.status, 'reviewing');
  // Past the unit: at the (old) supervisor.
  await app.ctx.db.updateTable('declarations').set({ stage: 1, recommendation_id: 7 }).where('id', '=', d0.id).execute();
  // A second declaration of another applicant still at the unit (stage 0).
  const li = await readyApplicant(app, w.unit, { name: '王芳', seq: '452', phone: '13800138111' });
  const ap2 = new Agent(app);
  await login(ap2, 'applicant', li.phone);
  const d1 = await submitDeclaration(app, ap2, li.userId, w.plan);

  const edu = await org(app, { kind: 'supervisor', name: '昆明市教育体育局', region_code: '530100' });
  await createStaff(app, { username: 'edu_wang', orgId: edu, roles: '' });
  const u = new Agent(app);
  await login(u, 'staff', w.staff.unit);
  let page = await u.get('/org/unit/supervisor');
  t.match(page.body, '昆明市卫生健康委员会（审核通过）');
  t.match(page.body, '全部退回单位', 'the consequence is spelled out');
  let res = await u.post('/org/unit/supervisor', { supervisor_org_id: String(w.supervisor) });
  t.equal(res.statusCode, 422, 'already the supervisor');
  res = await u.post('/org/unit/supervisor', { supervisor_org_id: String(edu) });
  t.equal(res.statusCode, 303);
  let o = await app.ctx.db.selectFrom('orgs').selectAll().where('id', '=', w.unit).executeTakeFirstOrThrow();
  t.equal(o.supervisor_org_id, w.supervisor, 'the old supervisor stays until the new one approves');
  t.equal(o.supervisor_status, 'pending');

  const e = new Agent(app);
  await login(e, 'staff', 'edu_wang');
  page = await e.get('/org/unit-reviews');
  t.match(page.body, '更换（原：昆明市卫生健康委员会）');
  const req = await app.ctx.db.selectFrom('supervisor_requests').selectAll().executeTakeFirstOrThrow();
  page = await e.get(`/org/unit-reviews/${req.id}`);
  t.match(page.body, '已上报的 1 份申报将退回单位');
  res = await e.post(`/org/unit-reviews/${req.id}`, { action: 'approve', opinion: '同意' });
  t.equal(res.statusCode, 303);
  t.match((await e.get('/org/unit-reviews')).body, '1 份进行中的申报已退回单位重新上报');

  o = await app.ctx.db.selectFrom('orgs').selectAll().where('id', '=', w.unit).executeTakeFirstOrThrow();
  t.equal(o.supervisor_org_id, edu);
  t.equal(o.supervisor_status, 'approved');
  const decided = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'supervisor_decision').execute();
  t.match(decided, [{ username: 'edu_wang', org_id: edu, object_id: String(w.unit), detail: `通过单位“昆明市第一人民医院”的更换主管部门申请（申请 ${req.id}），1份进行中的申报退回单位` }]);
  t.ok(decided[0]!.ip);

  const d = await app.ctx.db.selectFrom('declarations').selectAll().where('id', '=', d0.id).executeTakeFirstOrThrow();
  t.equal(d.status, 'reviewing');
  t.equal(d.stage, 0, 'back at the unit');
  t.equal(d.recommendation_id, null);
  const route = JSON.parse(d.route!) as { kind: string; orgId: number; name: string }[];
  t.same(route.map((r) => [r.kind, r.orgId]), [['unit', w.unit], ['supervisor', edu], ['committee', w.committee]]);
  t.equal(route[1]!.name, '昆明市教育体育局');
  const stages = await app.ctx.db.selectFrom('declaration_stages').selectAll().where('declaration_id', '=', d.id).orderBy('idx').execute();
  t.same(stages.map((s) => s.org_id), [w.unit, edu, w.committee], 'scope rows follow the new route');
  const ev = await app.ctx.db.selectFrom('workflow_events').selectAll().where('declaration_id', '=', d.id).where('action', '=', 'supervisor_changed').execute();
  t.equal(ev.length, 1);
  t.equal(ev[0]!.opinion, SUPERVISOR_CHANGED_OPINION);
  t.equal(ev[0]!.stage, 1);
  const msg = await app.ctx.db.selectFrom('messages').select('content').where('user_id', '=', zhang.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  t.match(msg.content, '更换了主管部门');
  t.match(msg.content, '昆明市第一人民医院 → 昆明市教育体育局 → 昆明市卫生技术高级职称评审委员会');

  // The one still at the unit keeps its stage and gets the new route, without an event.
  const d1b = await app.ctx.db.selectFrom('declarations').selectAll().where('id', '=', d1.id).executeTakeFirstOrThrow();
  t.equal(d1b.stage, 0);
  t.same(JSON.parse(d1b.route!).map((r: { orgId: number }) => r.orgId), [w.unit, edu, w.committee]);
  t.equal((await app.ctx.db.selectFrom('workflow_events').select('id').where('declaration_id', '=', d1.id).where('action', '=', 'supervisor_changed').execute()).length, 0);
  t.equal((await app.ctx.db.selectFrom('messages').select('id').where('user_id', '=', li.userId).where('content', 'like', '%更换了主管部门%').execute()).length, 0);
});

t.test('a refused change keeps the old supervisor approved', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const edu = await org(app, { kind: 'supervisor', name: '昆明市教育体育局', region_code: '530100' });
  await createStaff(app, { username: 'edu_wang', orgId: edu, roles: '' });
  const u = new Agent(app);
  await login(u, 'staff', w.staff.unit);
  await u.get('/org/unit/supervisor');
  await u.post('/org/unit/supervisor', { supervisor_org_id: String(edu) });
  const e = new Agent(app);
  await login(e, 'staff', 'edu_wang');
  const req = await app.ctx.db.selectFrom('supervisor_requests').selectAll().executeTakeFirstOrThrow();
  await e.get(`/org/unit-reviews/${req.id}`);
  await e.post(`/org/unit-reviews/${req.id}`, { action: 'reject', opinion: '不属于本系统' });
  const o = await app.ctx.db.selectFrom('orgs').selectAll().where('id', '=', w.unit).executeTakeFirstOrThrow();
  t.equal(o.supervisor_org_id, w.supervisor);
  t.equal(o.supervisor_status, 'approved');
});

import t from 'tap';
import { makeApp, Agent, login, idNumber, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submittedDeclaration, submitThroughUi, makePng, type World } from '../helpers/world.js';
import { multipart } from '../helpers/unitstage.js';

const EVIDENCE = { name: 'evidence', filename: '处理决定书.png', type: 'image/png', data: makePng(120, 160, 7) };

/** The no-JS 记入诚信档案 form: multipart, the CSRF token first. */
async function postRecord(app: TestApp, agent: Agent, fields: Record<string, string>, files = [EVIDENCE]) {
  await agent.get('/org/integrity/new');
  const { payload, contentType } = multipart([['_csrf', agent.csrf()], ...Object.entries(fields)], files);
  const res = await app.app.inject({ method: 'POST', url: '/org/integrity', payload, headers: { 'content-type': contentType, cookie: agent.cookieHeader() } });
  if (String(res.headers['content-type'] ?? '').startsWith('text/html')) agent.lastHtml = res.body;
  return res;
}

const ZHANG_ID = idNumber('19850612', '231');
const WANG_ID = idNumber('19850612', '232');

async function staff(app: TestApp, username: string) {
  const a = new Agent(app);
  await login(a, 'staff', username);
  return a;
}

t.test('a 失信 record bars submitting until its last day; the day after, the applicant can', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w: World = await kunming(app);
  const wang = await readyApplicant(app, w.unit, { name: '王芳', seq: '232', phone: '13800138001' });
  const a = new Agent(app);
  await login(a, 'applicant', wang.phone);
  const declId = await declareThroughUi(app, a, w, wang.userId);

  // Today is 2026-06-15 (China): a record of 2023-06-15 ends today, the last day inside.
  const hrb = await staff(app, w.staff.county);
  const bad = await postRecord(app, hrb, { name: '王芳', id_number: WANG_ID, recorded_on: '2023-06-15', reason: '', confirm: '1' }, []);
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '请填写失信行为及处理依据');
  t.match(bad.body, '请上传证明材料');
  t.match(bad.body, `value="${WANG_ID}"`, 'what was typed is kept');
  const res = await postRecord(app, hrb, { name: '王芳', id_number: WANG_ID, recorded_on: '2023-06-15', reason: '提供虚假论文材料', confirm: '1' });
  t.equal(res.statusCode, 303, res.body.slice(0, 300));
  const rec = await app.ctx.db.selectFrom('integrity_records').selectAll().executeTakeFirstOrThrow();
  t.equal(rec.org_id, w.countyHrb);
  t.not(rec.id_hmac, WANG_ID, 'the number is kept only as its look-up hash');
  t.equal(rec.id_masked.includes(WANG_ID), false);

  // Step 2 shows the refusal; the submit is refused with the seeds' words.
  const step2 = await a.get('/me/declaration?step=2');
  t.match(step2.body, '✗ 记录期内不得参加职称申报评审（至2026-06-15）');
  const page = await a.get('/me/declaration?step=4');
  const token = /name="token" value="([^"]+)"/.exec(page.body)![1]!;
  const sub = await a.post('/me/declaration/submit', { declaration_id: String(declId), token, pledge: '1' });
  t.equal(sub.headers.location, '/me/declaration?step=4');
  const after = await a.get('/me/declaration?step=4');
  t.match(after.body, '记录期内不得参加职称申报评审（至2026-06-15）');
  t.equal((await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', declId).executeTakeFirstOrThrow()).status, 'draft');

  // The day after the period ends: allowed.
  app.clock.t = Date.parse('2026-06-15T16:00:00Z'); // 2026-06-16 00:00 China time
  a.cookies.clear();
  await login(a, 'applicant', wang.phone);
  const step2b = await a.get('/me/declaration?step=2');
  t.match(step2b.body, '✓ 职称评审诚信档案：无记录期内的失信记录');
  await submitThroughUi(a, declId);
  t.equal((await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', declId).executeTakeFirstOrThrow()).status, 'reviewing');
});

t.test('recording closes the declaration in flight as 不予受理; records are scoped to the office; lifting needs a reason', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await submittedDeclaration(app, w);
  const hrb = await staff(app, w.staff.county);
  const res = await postRecord(app, hrb, { name: '张伟', id_number: ZHANG_ID, recorded_on: '2026-06-15', reason: '伪造学历证书', confirm: '1' });
  t.equal(res.statusCode, 303);
  const recId = Number(/\/org\/integrity\/(\d+)/.exec(String(res.headers.location))![1]);
  const d = await app.ctx.db.selectFrom('declarations').selectAll().where('id', '=', zhang.id).executeTakeFirstOrThrow();
  t.equal(d.status, 'rejected', 'closed as 不予受理');
  const ev = await app.ctx.db.selectFrom('workflow_events').selectAll().where('declaration_id', '=', zhang.id).orderBy('id', 'desc').executeTakeFirstOrThrow();
  t.equal(ev.action, 'integrity_reject');
  t.equal(ev.to_status, 'rejected');
  t.match(ev.opinion, '伪造学历证书');
  t.match(ev.opinion, '记录期内不得参加职称申报评审（至2029-06-15）');
  const msg = await app.ctx.db.selectFrom('messages').select('content').where('user_id', '=', zhang.user.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  t.match(msg.content, '不予受理');
  const records = await zhang.agent.get('/me/records');
  t.match(records.body, '不予受理（记入诚信档案）');

  // Audited.
  const audits = await app.ctx.db.selectFrom('audit_log').select(['action', 'object_type', 'object_id']).where('action', 'in', ['integrity_record', 'workflow']).execute();
  t.ok(audits.some((r) => r.action === 'integrity_record' && r.object_id === String(recId)));
  t.ok(audits.some((r) => r.action === 'workflow' && r.object_id === String(zhang.id)));

  // The office's pages: list, view with the evidence; another office sees neither.
  const list = await hrb.get('/org/integrity');
  t.match(list.body, '张伟');
  t.match(list.body, '2029-06-15');
  const view = await hrb.get(`/org/integrity/${recId}`);
  t.match(view.body, '伪造学历证书');
  t.match(view.body, '处理决定书.png');
  const file = await hrb.get(`/org/integrity/${recId}/evidence`);
  t.equal(file.statusCode, 200);
  const com = await staff(app, w.staff.committee);
  t.notMatch((await com.get('/org/integrity')).body, '张伟');
  t.equal((await com.get(`/org/integrity/${recId}`)).statusCode, 404);
  t.equal((await com.get(`/org/integrity/${recId}/evidence`)).statusCode, 404);
  const unit = await staff(app, w.staff.unit);
  t.equal((await unit.get('/org/integrity')).statusCode, 403);

  // Lifting early: a reason and a confirmation are required; then audited, and the person may declare.
  await hrb.get(`/org/integrity/${recId}`);
  const noReason = await hrb.post(`/org/integrity/${recId}/lift`, { lift_reason: '', confirm: '1' });
  t.equal(noReason.statusCode, 422);
  t.match(noReason.body, '请填写撤销原因');
  const noConfirm = await hrb.post(`/org/integrity/${recId}/lift`, { lift_reason: '复查后认定材料属实' });
  t.equal(noConfirm.statusCode, 422);
  t.match(noConfirm.body, '复查后认定材料属实', 'the reason typed is kept');
  const ok = await hrb.post(`/org/integrity/${recId}/lift`, { lift_reason: '复查后认定材料属实', confirm: '1' });
  t.equal(ok.statusCode, 303);
  const lifted = await app.ctx.db.selectFrom('integrity_records').selectAll().where('id', '=', recId).executeTakeFirstOrThrow();
  t.ok(lifted.lifted_at);
  t.equal(lifted.lift_reason, '复查后认定材料属实');
  t.ok(await app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'integrity_lift').where('object_id', '=', String(recId)).executeTakeFirst());
  t.equal((await com.post(`/org/integrity/${recId}/lift`, { lift_reason: 'x', confirm: '1' }, { csrf: (await com.get('/org/integrity'), com.csrf()) })).statusCode, 404);
});

t.test('a unit sanction refuses that year only: declarations through the unit, its 核验 and 推荐上报', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const sup = await staff(app, w.staff.supervisor);
  await sup.get('/org/sanctions');
  const bad = await sup.post('/org/sanctions', { unit_org_id: String(w.unit), year: '2027', reason: '', confirm: '1' });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '请填写暂停原因');
  // 2027 suspended: this year's (2026) declarations are unaffected.
  t.equal((await sup.post('/org/sanctions', { unit_org_id: String(w.unit), year: '2027', reason: '推荐不符合条件人员', confirm: '1' })).statusCode, 303);
  const zhang = await submittedDeclaration(app, w);
  t.equal((await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', zhang.id).executeTakeFirstOrThrow()).status, 'reviewing');

  // 2026 suspended: a draft cannot be submitted, the unit cannot verify.
  const wang = await readyApplicant(app, w.unit, { name: '王芳', seq: '232', phone: '13800138001' });
  const a = new Agent(app);
  await login(a, 'applicant', wang.phone);
  const declId = await declareThroughUi(app, a, w, wang.userId);
  await sup.get('/org/sanctions');
  t.equal((await sup.post('/org/sanctions', { unit_org_id: String(w.unit), year: '2026', reason: '审核把关不严', confirm: '1' })).statusCode, 303);
  const msg = '昆明市第一人民医院已被暂停2026年度职称申报推荐工作（原因：审核把关不严）';
  t.match((await a.get('/me/declaration?step=2')).body, `✗ ${msg}`);
  const page = await a.get('/me/declaration?step=4');
  const token = /name="token" value="([^"]+)"/.exec(page.body)![1]!;
  await a.post('/me/declaration/submit', { declaration_id: String(declId), token, pledge: '1' });
  t.match((await a.get('/me/declaration?step=4')).body, msg);
  t.equal((await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', declId).executeTakeFirstOrThrow()).status, 'draft');
  const unit = await staff(app, w.staff.unit);
  await unit.get('/org/unit-stage');
  const v = await unit.post(`/org/unit-stage/${zhang.id}/verify`, {});
  t.equal(v.statusCode, 409);
  t.match(v.body, msg);
  t.ok(await app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'unit_sanction').executeTakeFirst());

  // Another office cannot lift it; lifting needs a reason; then the year is open again.
  const s2026 = await app.ctx.db.selectFrom('unit_sanctions').select('id').where('year', '=', 2026).executeTakeFirstOrThrow();
  const com = await staff(app, w.staff.county);
  await com.get('/org/sanctions');
  t.equal((await com.post(`/org/sanctions/${s2026.id}/lift`, { lift_reason: '整改完成', confirm: '1' })).statusCode, 404);
  await sup.get('/org/sanctions');
  t.equal((await sup.post(`/org/sanctions/${s2026.id}/lift`, { lift_reason: '', confirm: '1' })).statusCode, 422);
  t.equal((await sup.post(`/org/sanctions/${s2026.id}/lift`, { lift_reason: '整改完成', confirm: '1' })).statusCode, 303);
  await submitThroughUi(a, declId);
  t.equal((await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', declId).executeTakeFirstOrThrow()).status, 'reviewing');
  t.equal((await (await staff(app, w.staff.unit)).get('/org/sanctions')).statusCode, 403);
});

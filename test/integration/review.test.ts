import t from 'tap';
import { makeApp, Agent, login, type TestApp } from '../helpers/app.js';
import { declareThroughUi, kunming, makePng, readyApplicant, submitThroughUi, submittedDeclaration, type World } from '../helpers/world.js';
import { attach, storeFile } from '../../src/features/files/service.js';

async function staffAgent(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username} failed`);
  return a;
}

/** Submitted and moved past the unit stage, as 推荐上报 would (that flow has its own tests). */
async function atSupervisor(app: TestApp, w: World) {
  const { id, agent: applicant, user: zhang } = await submittedDeclaration(app, w);
  await app.ctx.db.updateTable('declarations').set({ stage: 1 }).where('id', '=', id).execute();
  return { id, applicant, zhang };
}

async function act(agent: Agent, id: number, form: Record<string, string | string[]>) {
  await agent.get(`/org/reviews/${id}`);
  return agent.post(`/org/reviews/${id}/act`, form);
}

const state = (app: TestApp, id: number) => app.ctx.db.selectFrom('declarations').select(['status', 'stage', 'returns_count']).where('id', '=', id).executeTakeFirstOrThrow();

t.test('scope: only organisations on the route that the declaration has reached see it', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id } = await atSupervisor(app, w);
  const sup = await staffAgent(app, w.staff.supervisor);
  const unit = await staffAgent(app, w.staff.unit);
  const county = await staffAgent(app, w.staff.county);
  const com = await staffAgent(app, w.staff.committee);

  const todo = await sup.get('/org/reviews?status=todo');
  t.match(todo.body, '张伟');
  t.match(todo.body, '待本单位审核');
  t.notMatch(todo.body, /\d{6}19850612\d{3}[\dX]/, 'never a full ID number');
  // Name search: the count and the page agree (the count runs without the display joins).
  const byName = await sup.get(`/org/reviews?q=${encodeURIComponent('张')}`);
  t.match(byName.body, '张伟');
  t.match(byName.body, '共 1 条');
  const nobody = await sup.get(`/org/reviews?q=${encodeURIComponent('欧阳')}`);
  t.notMatch(nobody.body, '张伟');
  t.match(nobody.body, '共 0 条');
  t.match((await sup.get('/org/reviews?status=todo')).body, '共 1 条');
  t.equal((await sup.get(`/org/reviews/${id}`)).statusCode, 200);
  t.equal((await unit.get(`/org/reviews/${id}`)).statusCode, 200, 'the unit still sees what it passed on');
  t.match((await unit.get('/org/reviews?status=done')).body, '张伟');
  t.notMatch((await unit.get('/org/reviews?status=todo')).body, '张伟');
  for (const [who, agent] of [['county HRB (not on this route)', county], ['committee (not reached yet)', com]] as const) {
    t.equal((await agent.get(`/org/reviews/${id}`)).statusCode, 404, `${who}: detail 404`);
    t.equal((await agent.get(`/org/reviews/${id}/track`)).statusCode, 404, `${who}: track 404`);
    t.notMatch((await agent.get('/org/reviews')).body, '张伟', `${who}: not listed`);
    await agent.get('/org/reviews');
    t.equal((await agent.post(`/org/reviews/${id}/act`, { action: 'approve' })).statusCode, 404, `${who}: cannot act`);
  }
  // Files of the version: scoped the same way.
  const snap = JSON.parse((await app.ctx.db.selectFrom('declaration_versions').select('snapshot').executeTakeFirstOrThrow()).snapshot);
  const fileId = snap.attachments[0].files[0].fileId;
  const f = await sup.get(`/org/reviews/${id}/files/${fileId}`);
  t.equal(f.statusCode, 200);
  t.equal(f.headers['x-content-type-options'], 'nosniff');
  t.equal((await county.get(`/org/reviews/${id}/files/${fileId}`)).statusCode, 404);
  // The unit cannot act on a stage that is not theirs.
  const r = await act(unit, id, { action: 'reject', opinion: '不符合' });
  t.equal(r.statusCode, 303);
  t.match((await unit.get(`/org/reviews/${id}`)).body, '不在本单位审核环节');
  t.equal((await state(app, id)).status, 'reviewing');
  // Applicants are not staff.
  const applicant = new Agent(app);
  await login(applicant, 'applicant', '13800138000');
  t.equal((await applicant.get('/org/reviews')).statusCode, 403);
});

t.test('return with sections ticked → applicant fixes and resubmits → back at the same stage, diff shown → approve to the end', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, applicant, zhang } = await atSupervisor(app, w);
  const sup = await staffAgent(app, w.staff.supervisor);

  let r = await act(sup, id, { action: 'return', opinion: '' });
  t.match((await sup.get(`/org/reviews/${id}`)).body, '请填写审核意见', 'opinion required');
  r = await act(sup, id, { action: 'return', opinion: '论文情况请补充刊号', sections: ['papers', 'summaries'] });
  t.equal(r.headers.location, '/org/reviews?status=todo');
  t.same(await state(app, id), { status: 'returned', stage: 1, returns_count: 1 });

  // The applicant sees the opinion and the ticked sections.
  const rec = await applicant.get('/me/records');
  t.match(rec.body, '已返回修改：请根据审核意见修改后重新提交');
  t.match(rec.body, '论文情况请补充刊号');
  const msg = await app.ctx.db.selectFrom('messages').select('content').where('user_id', '=', zhang.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  t.match(msg.content, '审核意见：论文情况请补充刊号（需要修改的内容：专业技术工作总结、撰写论文情况）');
  t.match((await applicant.get('/me/declaration?step=4')).body, '您当前已经返回修改或重置流程 1 次，您还能返回修改或重置流程 3 次');

  // Fix a paper and resubmit: lands back at the supervisor, with the change highlighted.
  const paper = await app.ctx.db.selectFrom('section_rows').select(['id', 'data']).where('user_id', '=', zhang.userId).where('section', '=', 'papers').executeTakeFirstOrThrow();
  const data = Object.fromEntries(Object.entries(JSON.parse(paper.data)).map(([k, v]) => [k, v === null ? '' : String(v)]));
  await applicant.get(`/me/sections/papers/${paper.id}/edit`);
  const edit = await applicant.post(`/me/sections/papers/${paper.id}`, { ...data, issn: 'CN 11-5547/R' });
  t.equal(edit.statusCode, 303);
  // 专业技术工作总结 was ticked too and is left as it was: confirmed at resubmission.
  await submitThroughUi(applicant, id, { confirm_unchanged: '1' });
  t.same(await state(app, id), { status: 'reviewing', stage: 1, returns_count: 1 }, 'resubmission lands back at the returning stage');
  const submits = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'declaration_submit').where('object_id', '=', String(id)).orderBy('id').execute();
  t.equal(submits.length, 2, 'submit and resubmit audited');
  t.match(submits[1], { user_id: zhang.userId, role: 'applicant', result: 'ok' });
  t.match(submits[1]!.detail, '重新提交（返回修改后）：returned→reviewing（环节1），版本2');
  t.ok(submits[1]!.ip, 'source IP');
  const detail = await sup.get(`/org/reviews/${id}`);
  t.match(detail.body, '与第 1 版相比的修改');
  t.match(detail.body, 'CN 11-5547/R');
  t.match(detail.body, '上次返回修改时要求修改：专业技术工作总结、撰写论文情况');

  // Approve → committee; committee e-review approves → printable; paper received.
  r = await act(sup, id, { action: 'approve' });
  t.same(await state(app, id), { status: 'reviewing', stage: 2, returns_count: 1 });
  const com = await staffAgent(app, w.staff.committee);
  const page = await com.get(`/org/reviews/${id}`);
  t.match(page.body, '电子材料审核通过');
  await act(com, id, { action: 'approve' });
  t.equal((await state(app, id)).status, 'approved');
  t.match((await applicant.get('/me/records')).body, '评委会电子材料审核通过，可打印申报表');
  await com.get(`/org/reviews/${id}`);
  r = await com.post(`/org/reviews/${id}/paper`, {});
  t.equal(r.statusCode, 303);
  const after = await app.ctx.db.selectFrom('declarations').select('paper_received_at').where('id', '=', id).executeTakeFirstOrThrow();
  t.ok(after.paper_received_at, 'paper copy recorded');
  await com.get(`/org/reviews/${id}`);
  await com.post(`/org/reviews/${id}/paper`, {});
  const paperRows = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'paper_received').execute();
  t.equal(paperRows.length, 1, 'audited once (a second click records nothing)');
  t.match(paperRows[0], { username: w.staff.committee, object_type: 'declaration', object_id: String(id), result: 'ok' });
  t.ok(paperRows[0]!.ip);
  // The supervisor cannot record the paper copy.
  await sup.get(`/org/reviews/${id}`);
  await sup.post(`/org/reviews/${id}/paper`, {});
  t.match((await sup.get(`/org/reviews/${id}`)).body, '只有评委会办公室');
});

t.test('需修改: ticked sections on /me and on their pages; resubmitting with one untouched asks for confirmation', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, applicant, zhang } = await atSupervisor(app, w);
  const sup = await staffAgent(app, w.staff.supervisor);
  await act(sup, id, { action: 'return', opinion: '学历证书编号有误，论文请补充刊号', sections: ['educations', 'papers'] });
  t.equal((await state(app, id)).status, 'returned');

  // /me: the ticked sections, linked, and marked in the completion table.
  let home = await applicant.get('/me');
  t.match(home.body, '<b>需修改</b>：昆明市卫生健康委员会返回修改时要求修改以下申报信息（审核意见：学历证书编号有误，论文请补充刊号）');
  t.match(home.body, '<li><a href="/me/sections/educations">学历情况</a> <span class="req-tag">需修改</span></li>');
  t.match(home.body, '<li><a href="/me/sections/papers">撰写论文情况</a> <span class="req-tag">需修改</span></li>');
  t.match(home.body, /<tr><td>学历情况 <span class="req-tag">需修改<\/span><\/td>/, 'marked in the completion table');
  t.match(home.body, /<tr><td>工作经历<\/td>/, 'an unticked section is not marked');

  // The section pages say so too; an unticked one does not.
  const edus = await applicant.get('/me/sections/educations');
  t.match(edus.body, '<h1>学历情况<span class="req-tag">（必填）</span> <span class="req-tag">需修改</span></h1>');
  t.match(edus.body, '返回修改时要求修改本项（审核意见：学历证书编号有误，论文请补充刊号）');
  const edu = await app.ctx.db.selectFrom('section_rows').select(['id', 'data']).where('user_id', '=', zhang.userId).where('section', '=', 'educations').executeTakeFirstOrThrow();
  t.match((await applicant.get(`/me/sections/educations/${edu.id}/edit`)).body, '<span class="req-tag">需修改</span></h1>', 'the edit page too');
  t.notMatch((await applicant.get('/me/sections/work')).body, '需修改');

  // Step 4 lists them; both untouched: a confirmation box.
  let step4 = await applicant.get('/me/declaration?step=4');
  t.match(step4.body, 'name="confirm_unchanged"');
  t.match(step4.body, '审核部门要求修改的“学历情况、撰写论文情况”尚未修改，本人确认无需修改，仍要重新提交');
  const token = /name="token" value="([^"]+)"/.exec(step4.body)![1]!;
  let res = await applicant.post('/me/declaration/submit', { declaration_id: String(id), token, pledge: '1' });
  t.equal(res.statusCode, 422, 'not submitted without the confirmation');
  t.match(res.body, '<small class="err" id="e-confirm_unchanged">审核部门要求修改的“学历情况、撰写论文情况”自返回修改后未作修改。确认无需修改的，请勾选后再提交</small>');
  t.match(res.body, 'name="pledge" value="1" required checked', 'the ticked pledge is kept');
  t.match(res.body, `name="token" value="${token}"`, 'the same submission token');
  t.equal((await state(app, id)).status, 'returned');

  // Saving a row unchanged does not count; changing it does.
  const data = Object.fromEntries(Object.entries(JSON.parse(edu.data)).map(([k, v]) => [k, v === null ? '' : String(v)]));
  await applicant.get(`/me/sections/educations/${edu.id}/edit`);
  t.equal((await applicant.post(`/me/sections/educations/${edu.id}`, data)).statusCode, 303);
  t.match((await applicant.get('/me/declaration?step=4')).body, '“学历情况、撰写论文情况”尚未修改', 'an unchanged save is not a change');
  await applicant.get(`/me/sections/educations/${edu.id}/edit`);
  t.equal((await applicant.post(`/me/sections/educations/${edu.id}`, { ...data, cert_no: '106781201002000999' })).statusCode, 303);
  home = await applicant.get('/me');
  t.match(home.body, '<li><a href="/me/sections/educations">学历情况</a> <span class="muted">已修改</span></li>');
  t.match(home.body, '<li><a href="/me/sections/papers">撰写论文情况</a> <span class="req-tag">需修改</span></li>');
  t.match((await applicant.get('/me/sections/educations')).body, '本项已修改');
  step4 = await applicant.get('/me/declaration?step=4');
  t.match(step4.body, '审核部门要求修改的“撰写论文情况”尚未修改', 'only the untouched one asks');
  const token2 = /name="token" value="([^"]+)"/.exec(step4.body)![1]!;
  res = await applicant.post('/me/declaration/submit', { declaration_id: String(id), token: token2, pledge: '1' });
  t.equal(res.statusCode, 422);
  // Confirmed: resubmitted; the 需修改 marks are gone.
  res = await applicant.post('/me/declaration/submit', { declaration_id: String(id), token: token2, pledge: '1', confirm_unchanged: '1' });
  t.equal(res.headers.location, `/me/declaration/done?id=${id}`);
  t.same(await state(app, id), { status: 'reviewing', stage: 1, returns_count: 1 });
  home = await applicant.get('/me');
  t.notMatch(home.body, '需修改');
  t.notMatch((await applicant.get('/me/sections/educations')).body, '需修改');
});

t.test('需修改: every ticked section changed → resubmission needs no confirmation', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, applicant, zhang } = await atSupervisor(app, w);
  const sup = await staffAgent(app, w.staff.supervisor);
  await act(sup, id, { action: 'return', opinion: '请删除重复的学习经历', sections: ['study'] });
  const study = await app.ctx.db.selectFrom('section_rows').select('id').where('user_id', '=', zhang.userId).where('section', '=', 'study').orderBy('id').execute();
  await applicant.get('/me/sections/study');
  t.equal((await applicant.post(`/me/sections/study/${study[1]!.id}/delete`, {})).statusCode, 303, 'a row removed');
  t.notMatch((await applicant.get('/me/declaration?step=4')).body, 'name="confirm_unchanged"', 'nothing to confirm');
  await submitThroughUi(applicant, id);
  t.equal((await state(app, id)).status, 'reviewing');
});

t.test('reset starts over; the budget: the 5th return/reset fails the year', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, applicant } = await atSupervisor(app, w);
  const sup = await staffAgent(app, w.staff.supervisor);

  await act(sup, id, { action: 'reset', opinion: '封面申报专业填写有误，请重新申报' });
  t.same(await state(app, id), { status: 'draft', stage: 0, returns_count: 1 });
  const stages = await app.ctx.db.selectFrom('declaration_stages').select('idx').where('declaration_id', '=', id).execute();
  t.equal(stages.length, 3);
  // The cover is editable again; resubmission starts at the first stage (the unit).
  const cover = await applicant.get('/me/declaration');
  t.match(cover.body, '保存封面');
  await submitThroughUi(applicant, id);
  t.same(await state(app, id), { status: 'reviewing', stage: 0, returns_count: 1 });

  // Returns until the budget (4) is used, then one more fails the year.
  await app.ctx.db.updateTable('declarations').set({ stage: 1 }).where('id', '=', id).execute();
  for (let i = 2; i <= 4; i++) {
    await act(sup, id, { action: 'return', opinion: `第${i}次返回` });
    t.same(await state(app, id), { status: 'returned', stage: 1, returns_count: i });
    await submitThroughUi(applicant, id);
  }
  const r = await act(sup, id, { action: 'return', opinion: '第5次返回' });
  t.equal(r.statusCode, 303);
  t.same(await state(app, id), { status: 'failed_for_year', stage: 1, returns_count: 5 });
  t.match((await applicant.get('/me/records')).body, '本年度申报失败');
  t.match((await applicant.get('/me/messages')).body, '本年度申报失败');
  t.match((await sup.get(`/org/reviews/${id}/track`)).body, '本年度申报失败');
});

t.test('不予受理 closes the declaration', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, applicant } = await atSupervisor(app, w);
  const sup = await staffAgent(app, w.staff.supervisor);
  await act(sup, id, { action: 'reject', opinion: '不符合申报条件' });
  t.equal((await state(app, id)).status, 'rejected');
  t.match((await applicant.get('/me/records')).body, '不予受理');
  // Nothing more can be done on it.
  await act(sup, id, { action: 'approve' });
  t.equal((await state(app, id)).status, 'rejected');
});

t.test('the review screen names section attachments by the sections\' Chinese titles (not titles 附件)', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await readyApplicant(app, w.unit);
  // A certificate on the 现有职称情况 row and a copy on the paper, before submitting.
  const rowOf = (section: string) => app.ctx.db.selectFrom('section_rows').select('id').where('user_id', '=', zhang.userId).where('section', '=', section).executeTakeFirstOrThrow();
  for (const [section, slot, name, shade] of [['titles', 'certificate', '主治医师证书.png', 31], ['papers', 'copy', '论文全文.png', 32]] as const) {
    const f = await storeFile(app.ctx, zhang.userId, { filename: name, buffer: makePng(120, 90, shade) }, 'doc');
    if (!f.ok) throw new Error(f.error);
    await attach(app.ctx, zhang.userId, 'row', (await rowOf(section)).id, slot, f.fileId);
  }
  const agent = new Agent(app);
  await login(agent, 'applicant', zhang.phone);
  const id = await declareThroughUi(app, agent, w, zhang.userId);
  await submitThroughUi(agent, id);
  const unit = await staffAgent(app, w.staff.unit);
  const page = await unit.get(`/org/reviews/${id}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, /<td>现有职称情况 · 职称证书<br><small class="muted">YN2019ZZ0231[^<]*<\/small><\/td><td><a href="\/org\/reviews\/\d+\/files\/\d+"[^>]*>主治医师证书\.png<\/a>/);
  t.match(page.body, /<td>撰写论文情况 · 刊物封面、目录及正文<br><small class="muted">急性心肌梗死患者介入治疗后的康复管理 \/ 中国实用医刊<\/small>/);
  t.notMatch(page.body, /(titles|papers) 附件/, 'no registry keys');
  // The links work for the organisations on the route.
  const href = /<td>现有职称情况 · 职称证书[\s\S]*?href="(\/org\/reviews\/\d+\/files\/\d+)"/.exec(page.body)![1]!;
  t.equal((await unit.get(href)).statusCode, 200);
});

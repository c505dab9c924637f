import t from 'tap';
import { makeApp, Agent, login, type TestApp } from '../helpers/app.js';
import { kunming, makePng, submittedDeclaration, readyApplicant } from '../helpers/world.js';
import { multipart } from '../helpers/files.js';

// 补充材料 (issue #13): the stage asks for named files; no return, no return chance spent; the
// applicant uploads only those; the stage sees them marked with their time; the version stays.

async function staffAgent(app: TestApp, username: string) {
  const a = new Agent(app);
  await login(a, 'staff', username);
  return a;
}

async function upload(app: TestApp, agent: Agent, url: string, name: string, bytes: Buffer) {
  const { payload, contentType } = await multipart(name, bytes, 'image/png', 'file', { csrf: agent.csrf() });
  return app.app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType, cookie: agent.cookieHeader() } });
}

t.test('a stage asks for 补充材料; the applicant uploads only those; the version is unchanged', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, agent: zhang, user } = await submittedDeclaration(app, w);
  await app.ctx.db.updateTable('declarations').set({ stage: 1 }).where('id', '=', id).execute();
  const before = await app.ctx.db.selectFrom('declarations').select(['status', 'stage', 'returns_count', 'version_id']).where('id', '=', id).executeTakeFirstOrThrow();
  const version = await app.ctx.db.selectFrom('declaration_versions').selectAll().where('id', '=', before.version_id).executeTakeFirstOrThrow();
  const sup = await staffAgent(app, w.staff.supervisor);

  // Not their turn: the county bureau has not been reached (404 by scope); the unit's turn is over (409).
  const county = await staffAgent(app, w.staff.county);
  await county.get('/org');
  t.equal((await county.post(`/org/reviews/${id}/supplements`, { items: '年度考核表' })).statusCode, 404, 'out of scope');
  const unit = await staffAgent(app, w.staff.unit);
  await unit.get(`/org/reviews/${id}`);
  const notTurn = await unit.post(`/org/reviews/${id}/supplements`, { items: '年度考核表' });
  t.equal(notTurn.statusCode, 303);
  t.match((await unit.get(notTurn.headers.location as string)).body, '该申报当前不在本环节审核，不能要求补充材料');

  const page = await sup.get(`/org/reviews/${id}`);
  t.match(page.body, '要求补充材料</button>');
  const empty = await sup.post(`/org/reviews/${id}/supplements`, { items: '  \n' });
  t.match((await sup.get(empty.headers.location as string)).body, '请填写需要补充的材料名称（每行一项）');
  const asked = await sup.post(`/org/reviews/${id}/supplements`, { items: '近五年年度考核表\n论文检索证明', note: '原件扫描' });
  t.equal(asked.statusCode, 303);
  t.same(await app.ctx.db.selectFrom('declarations').select(['status', 'stage', 'returns_count', 'version_id']).where('id', '=', id).executeTakeFirstOrThrow(), before, 'not returned, no chance spent');
  const req = await app.ctx.db.selectFrom('supplement_requests').selectAll().where('declaration_id', '=', id).executeTakeFirstOrThrow();
  t.equal(req.org_id, w.supervisor);
  t.ok(await app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'supplement_request').where('object_id', '=', String(id)).executeTakeFirst(), 'audited');
  const msg = await app.ctx.db.selectFrom('messages').select('content').where('user_id', '=', user.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  t.match(msg.content, '要求您补充材料：近五年年度考核表、论文检索证明');

  // The applicant sees it on /me and on the declaration page.
  const home = await zhang.get('/me');
  t.match(home.body, '要求您补充以下材料（说明：原件扫描）');
  t.match(home.body, '近五年年度考核表');
  const decl = await zhang.get('/me/declaration');
  t.match(decl.body, `action="/me/supplements/${req.id}/i1"`, 'an upload form per item');
  t.match(decl.body, `action="/me/supplements/${req.id}/i2"`);

  // Another applicant cannot upload to it.
  const wang = await readyApplicant(app, w.unit, { name: '王芳', seq: '342', phone: '13900139000' });
  const other = new Agent(app);
  await login(other, 'applicant', wang.phone);
  await other.get('/me');
  t.equal((await upload(app, other, `/me/supplements/${req.id}/i1`, 'x.png', makePng(80, 80, 1))).statusCode, 404, "another applicant's request → 404");
  t.equal((await upload(app, zhang, `/me/supplements/${req.id}/i9`, 'x.png', makePng(80, 80, 1))).statusCode, 404, 'an item not asked for → 404');

  await zhang.get('/me/declaration');
  app.clock.advance(60_000);
  const up1 = await upload(app, zhang, `/me/supplements/${req.id}/i1`, '年度考核表.png', makePng(90, 120, 4));
  t.equal(up1.statusCode, 303);
  t.match((await zhang.get('/me/declaration')).body, '上传成功');
  t.equal((await app.ctx.db.selectFrom('supplement_requests').select('submitted_at').where('id', '=', req.id).executeTakeFirstOrThrow()).submitted_at, null, 'one item left');
  const up2 = await upload(app, zhang, `/me/supplements/${req.id}/i2`, '检索证明.png', makePng(90, 120, 5));
  t.equal(up2.statusCode, 303);
  t.match((await zhang.get('/me/declaration')).body, '补充材料已全部上传');
  t.ok((await app.ctx.db.selectFrom('supplement_requests').select('submitted_at').where('id', '=', req.id).executeTakeFirstOrThrow()).submitted_at, 'handed in');
  t.notMatch((await zhang.get('/me')).body, '要求您补充以下材料', 'no longer asked on /me');

  // The stage sees them marked, with their time; the files download within scope only.
  const seen = await sup.get(`/org/reviews/${id}`);
  t.match(seen.body, /<span class="req-tag">补充材料<\/span> <a href="\/org\/reviews\/\d+\/supplements\/(\d+)"[^>]*>年度考核表\.png<\/a> <small class="muted">上传于 2026-06-15 10:01<\/small>/);
  t.match(seen.body, '已全部上传');
  const fileId = /\/org\/reviews\/\d+\/supplements\/(\d+)"[^>]*>年度考核表/.exec(seen.body)![1];
  const dl = await sup.get(`/org/reviews/${id}/supplements/${fileId}`);
  t.equal(dl.statusCode, 200);
  t.equal(dl.headers['content-type'], 'image/png');
  t.equal((await county.get(`/org/reviews/${id}/supplements/${fileId}`)).statusCode, 404, 'a stage not yet reached cannot download');
  t.equal((await sup.get(`/org/reviews/${id}/supplements/999999`)).statusCode, 404);

  // The frozen version stays as it was; the timeline shows the request and the uploads.
  t.same(await app.ctx.db.selectFrom('declaration_versions').selectAll().where('id', '=', version.id).executeTakeFirstOrThrow(), version, 'version unchanged');
  t.equal((await app.ctx.db.selectFrom('declaration_versions').select('id').where('declaration_id', '=', id).execute()).length, 1, 'no new version');
  t.same(await app.ctx.db.selectFrom('declarations').select(['status', 'stage', 'returns_count', 'version_id']).where('id', '=', id).executeTakeFirstOrThrow(), before);
  const records = await zhang.get('/me/records');
  t.match(records.body, '要求补充材料');
  t.match(records.body, '上传补充材料');
  // Handed in: no more uploads.
  await zhang.get('/me/declaration');
  const again = await upload(app, zhang, `/me/supplements/${req.id}/i1`, 'x.png', makePng(80, 80, 6));
  t.match((await zhang.get(again.headers.location as string)).body, '补充材料已全部上传，不能再修改');
});

t.test('a wrong file is removed while the request is open; the stage withdraws a request', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, agent: zhang } = await submittedDeclaration(app, w);
  await app.ctx.db.updateTable('declarations').set({ stage: 1 }).where('id', '=', id).execute();
  const sup = await staffAgent(app, w.staff.supervisor);
  await sup.get(`/org/reviews/${id}`);
  await sup.post(`/org/reviews/${id}/supplements`, { items: '近五年年度考核表\n论文检索证明' });
  const [req] = await app.ctx.db.selectFrom('supplement_requests').select('id').where('declaration_id', '=', id).execute();

  // A wrong file: removed after a confirmation page, then the right one goes up.
  await zhang.get('/me/declaration');
  await upload(app, zhang, `/me/supplements/${req!.id}/i1`, '错误文件.png', makePng(90, 120, 7));
  const att = await app.ctx.db.selectFrom('attachments').select(['id', 'file_id']).where('owner_type', '=', 'supplement').where('owner_id', '=', req!.id).executeTakeFirstOrThrow();
  const page = await zhang.get('/me/declaration');
  const removeUrl = `/me/supplements/${req!.id}/i1/files/${att.file_id}/remove`;
  t.match(page.body, `href="${removeUrl}"`, 'a 删除 link per uploaded file');
  // Not through the generic 附件管理 delete: the record of a request is not edited there.
  t.equal((await zhang.post(`/me/attachments/${att.id}/delete`, {})).statusCode, 404, 'generic delete refused');
  const confirm = await zhang.get(removeUrl);
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, '确定删除“近五年年度考核表”的文件“错误文件.png”吗？');
  const wang = await readyApplicant(app, w.unit, { name: '王芳', seq: '342', phone: '13900139000' });
  const other = new Agent(app);
  await login(other, 'applicant', wang.phone);
  await other.get('/me');
  t.equal((await other.get(removeUrl)).statusCode, 404, "another applicant's file → 404");
  t.equal((await other.post(removeUrl, {})).statusCode, 404);
  const removed = await zhang.post(removeUrl, {});
  t.equal(removed.statusCode, 303);
  t.match((await zhang.get(removed.headers.location as string)).body, '已删除，请重新上传正确的文件');
  t.notOk(await app.ctx.db.selectFrom('attachments').select('id').where('id', '=', att.id).executeTakeFirst(), 'attachment gone');
  t.notOk(await app.ctx.db.selectFrom('files').select('id').where('id', '=', att.file_id).executeTakeFirst(), 'file row gone');
  t.ok(await app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'supplement_remove').executeTakeFirst(), 'audited');
  t.match((await zhang.get('/me/records')).body, '删除补充材料', 'on the timeline');

  // Another organisation cannot withdraw it; the stage that asked can, after confirming.
  const unit = await staffAgent(app, w.staff.unit);
  await unit.get(`/org/reviews/${id}`);
  t.equal((await unit.get(`/org/reviews/${id}/supplements/${req!.id}/cancel`)).statusCode, 404, 'not the org that asked');
  t.equal((await unit.post(`/org/reviews/${id}/supplements/${req!.id}/cancel`, {})).statusCode, 404);
  const county = await staffAgent(app, w.staff.county);
  await county.get('/org');
  t.equal((await county.post(`/org/reviews/${id}/supplements/${req!.id}/cancel`, {})).statusCode, 404, 'out of scope');
  t.match((await sup.get(`/org/reviews/${id}`)).body, `href="/org/reviews/${id}/supplements/${req!.id}/cancel"`);
  const ask = await sup.get(`/org/reviews/${id}/supplements/${req!.id}/cancel`);
  t.match(ask.body, '确定撤销于 2026-06-15 要求的补充材料吗？');
  const cancelled = await sup.post(`/org/reviews/${id}/supplements/${req!.id}/cancel`, {});
  t.match((await sup.get(cancelled.headers.location as string)).body, '已撤销补充材料要求');
  t.match((await sup.get(`/org/reviews/${id}`)).body, '已撤销（2026-06-15');
  const again = await sup.post(`/org/reviews/${id}/supplements/${req!.id}/cancel`, {});
  t.match((await sup.get(again.headers.location as string)).body, '该补充材料要求已撤销');
  t.equal((await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status, 'reviewing', 'still under review');

  // Nothing more is asked of the applicant; an upload now is refused with the reason.
  t.notMatch((await zhang.get('/me')).body, '要求您补充以下材料');
  const msg = await app.ctx.db.selectFrom('messages').select('content').where('user_id', '=', (await app.ctx.db.selectFrom('declarations').select('user_id').where('id', '=', id).executeTakeFirstOrThrow()).user_id).orderBy('id', 'desc').executeTakeFirstOrThrow();
  t.match(msg.content, '已撤销此前要求的补充材料');
  await zhang.get('/me');
  const late = await upload(app, zhang, `/me/supplements/${req!.id}/i2`, 'x.png', makePng(80, 80, 8));
  t.match((await zhang.get(late.headers.location as string)).body, '审核部门已撤销该补充材料要求，无需上传');
});

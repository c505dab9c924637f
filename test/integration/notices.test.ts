import t from 'tap';
import { makeApp, Agent, createApplicant, createStaff, login, type TestApp } from '../helpers/app.js';

async function committeeId(app: TestApp, like: string) {
  return (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('name', 'like', `%${like}%`).orderBy('id').executeTakeFirstOrThrow()).id;
}

async function staffAgent(app: TestApp, username: string, orgId?: number) {
  await createStaff(app, { username, orgId, roles: orgId === undefined ? 'admin' : '' });
  const a = new Agent(app);
  await login(a, 'staff', username);
  return a;
}

async function applicantAgent(app: TestApp) {
  const ap = await createApplicant(app);
  const b = new Agent(app);
  await login(b, 'applicant', ap.id);
  return { b, userId: ap.userId };
}

const BADGE = (n: number) => `通知公告<b class="badge" aria-label="${n}条未读">${n}</b>`;

t.test('publish → applicant sees it unread in the header → reads it → count drops; body escaped', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const health = await committeeId(app, '卫生技术');
  const a = await staffAgent(app, 'com_sun', health);
  const { b, userId } = await applicantAgent(app);

  let home = await b.get('/me');
  t.match(home.body, '<a href="/notices" class="msg">通知公告</a>', 'header link, no badge');
  t.match(home.body, '<a href="/notices">通知公告</a>', 'applicant menu entry');

  const form = await a.get('/org/notices/new');
  t.equal(form.statusCode, 200);
  t.match(form.body, '<span class="req">*</span>标题</label>');
  t.match(form.body, '<span class="req">*</span>正文</label>');
  t.match(form.body, '关联评审计划</label>');
  const body = '各有关单位：\n请于6月30日前完成申报。<script>alert("x")</script>\n<b>不加粗</b>';
  const res = await a.post('/org/notices/new', { title: '关于2026年度卫生技术高级职称评审的通知', body });
  t.equal(res.statusCode, 303);
  const notice = await app.ctx.db.selectFrom('notices').selectAll().executeTakeFirstOrThrow();
  t.equal(res.headers.location, `/org/notices/${notice.id}`);
  t.match(notice, { org_id: health, plan_id: null, title: '关于2026年度卫生技术高级职称评审的通知', body, published_at: app.clock.now().toISOString() });
  t.match((await a.get(res.headers.location as string)).body, '通知已发布');

  home = await b.get('/me');
  t.match(home.body, BADGE(1), 'unread count in the header');
  const list = await b.get('/notices');
  t.equal(list.statusCode, 200);
  t.match(list.body, `<b>[未读]</b> <a href="/notices/${notice.id}">关于2026年度卫生技术高级职称评审的通知</a>`);
  t.match(list.body, '昆明市卫生技术高级职称评审委员会');

  const detail = await b.get(`/notices/${notice.id}`);
  t.equal(detail.statusCode, 200);
  t.match(detail.body, '<div class="pre">各有关单位：\n请于6月30日前完成申报。&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\n&lt;b&gt;不加粗&lt;/b&gt;</div>', 'plain text, escaped, line breaks kept');
  t.notMatch(detail.body, '<script>alert');
  t.notMatch(detail.body, BADGE(1), 'read on opening: the header of this very page already counts it');
  const read = await app.ctx.db.selectFrom('notice_reads').selectAll().where('user_id', '=', userId).execute();
  t.equal(read.length, 1);
  await b.get(`/notices/${notice.id}`);
  t.equal((await app.ctx.db.selectFrom('notice_reads').selectAll().execute()).length, 1, 'read once');
  t.match((await b.get('/me')).body, '<a href="/notices" class="msg">通知公告</a>', 'no badge any more');
  t.notMatch((await b.get('/notices')).body, '[未读]');

  // Staff see the read count; a second notice makes the count 1 again.
  t.match((await a.get('/org/notices')).body, /<td>1<\/td>/);
  await a.get('/org/notices/new');
  await a.post('/org/notices/new', { title: '第二条', body: '内容' });
  t.match((await b.get('/me')).body, BADGE(1));
  t.match((await a.get('/org')).body, BADGE(2), 'staff have the header link too');

  // A notice dated in the future is neither listed nor counted nor readable.
  const stamp = app.clock.now().toISOString();
  const future = await app.ctx.db.insertInto('notices').values({ org_id: health, title: '未来通知', body: 'x', published_at: '2099-01-01T00:00:00.000Z', created_at: stamp }).returning('id').executeTakeFirstOrThrow();
  t.notMatch((await b.get('/notices')).body, '未来通知');
  t.match((await b.get('/me')).body, BADGE(1));
  t.equal((await b.get(`/notices/${future.id}`)).statusCode, 404);
  t.equal((await b.get('/notices/999999')).statusCode, 404);
  t.equal((await b.get('/notices/abc')).statusCode, 404);
});

t.test('manage: validation, edit, delete with confirmation, scope', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const health = await committeeId(app, '卫生技术');
  const teachers = await committeeId(app, '中小学高级教师');
  const stamp = app.clock.now().toISOString();
  const own = await app.ctx.db.insertInto('plans').values({ committee_org_id: health, year: 2026, name: '卫生计划', levels: 'senior_vice', opens_at: '2026-06-01', closes_at: '2026-06-30', created_at: stamp }).returning('id').executeTakeFirstOrThrow();
  const theirs = await app.ctx.db.insertInto('plans').values({ committee_org_id: teachers, year: 2026, name: '教师计划', levels: 'senior_vice', opens_at: '2026-06-01', closes_at: '2026-06-30', created_at: stamp }).returning('id').executeTakeFirstOrThrow();
  const a = await staffAgent(app, 'com_sun', health);

  const form = await a.get('/org/notices/new');
  t.match(form.body, `<option value="${own.id}">卫生计划（2026年度）</option>`, 'own plans offered');
  t.notMatch(form.body, '教师计划', "another committee's plans are not");
  t.match((await a.get(`/org/notices/new?plan=${own.id}`)).body, `<option value="${own.id}" selected>`);

  const blank = await a.post('/org/notices/new', { title: ' ', body: '' });
  t.equal(blank.statusCode, 422);
  t.match(blank.body, '请填写标题');
  t.match(blank.body, '请填写正文');
  const long = await a.post('/org/notices/new', { title: '长'.repeat(101), body: '文'.repeat(5001), plan_id: String(theirs.id) });
  t.equal(long.statusCode, 422);
  t.match(long.body, '标题不能超过100个字');
  t.match(long.body, '正文不能超过5000个字');
  t.match(long.body, '请选择关联评审计划');
  t.match(long.body, `value="${'长'.repeat(101)}"`, 'values kept');
  t.equal((await app.ctx.db.selectFrom('notices').select('id').execute()).length, 0);

  const ok = await a.post('/org/notices/new', { title: '卫生计划申报须知', body: '第一行\n第二行', plan_id: String(own.id) });
  t.equal(ok.statusCode, 303);
  const n = await app.ctx.db.selectFrom('notices').selectAll().executeTakeFirstOrThrow();
  t.equal(n.plan_id, own.id);

  // Edit keeps the publication time.
  app.clock.advance(60_000);
  const edit = await a.post(`/org/notices/${n.id}`, { title: '卫生计划申报须知（更正）', body: '第一行\n第二行（更正）', plan_id: '' });
  t.equal(edit.statusCode, 303);
  const edited = await app.ctx.db.selectFrom('notices').selectAll().where('id', '=', n.id).executeTakeFirstOrThrow();
  t.match(edited, { title: '卫生计划申报须知（更正）', body: '第一行\n第二行（更正）', plan_id: null, published_at: n.published_at });
  const list = await a.get('/org/notices');
  t.match(list.body, `<a href="/org/notices/${n.id}">卫生计划申报须知（更正）</a>`);

  // Another committee's staff: not found, and their list does not show it.
  const other = await staffAgent(app, 'com_wang', teachers);
  t.equal((await other.get(`/org/notices/${n.id}`)).statusCode, 404);
  t.equal((await other.get(`/org/notices/${n.id}/delete`)).statusCode, 404);
  await other.get('/org/notices');
  t.equal((await other.post(`/org/notices/${n.id}`, { title: 'x', body: 'y' })).statusCode, 404);
  t.equal((await other.post(`/org/notices/${n.id}/delete`)).statusCode, 404);
  t.notMatch((await other.get('/org/notices')).body, '卫生计划申报须知');

  // Delete: a confirmation page, then the notice and its reads are gone.
  const { b } = await applicantAgent(app);
  await b.get(`/notices/${n.id}`);
  const confirm = await a.get(`/org/notices/${n.id}/delete`);
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, '确定删除通知“卫生计划申报须知（更正）”吗？');
  t.match(confirm.body, `action="/org/notices/${n.id}/delete"`);
  const del = await a.post(`/org/notices/${n.id}/delete`);
  t.equal(del.statusCode, 303);
  t.equal(del.headers.location, '/org/notices');
  t.equal((await app.ctx.db.selectFrom('notices').select('id').execute()).length, 0);
  t.equal((await app.ctx.db.selectFrom('notice_reads').select('notice_id').execute()).length, 0);
  t.match((await a.get('/org/notices')).body, '通知已删除');
  t.equal((await b.get(`/notices/${n.id}`)).statusCode, 404);
  const noticeAudit = (await app.ctx.db.selectFrom('audit_log').select(['action', 'ip', 'object_id']).execute()).filter((r) => r.action.startsWith('notice_') && r.object_id === String(n.id));
  t.same(noticeAudit.map((r) => r.action).sort(), ['notice_delete', 'notice_publish', 'notice_update'], 'publish, edit and delete are audited');
  t.ok(noticeAudit.every((r) => r.ip), 'with the source IP');

  // Applicants cannot manage; nobody signed in cannot read.
  t.equal((await b.get('/org/notices')).statusCode, 403);
  t.equal((await b.get('/org/notices/new')).statusCode, 403);
  const anon = await new Agent(app).get('/notices');
  t.equal(anon.statusCode, 303);
  t.match(anon.headers.location, /^\/login/);
});

t.test('platform admin publishes as the platform; pagination newest first', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const admin = await staffAgent(app, 'admin1');
  const health = await committeeId(app, '卫生技术');
  const stamp = app.clock.now().toISOString();
  const plan = await app.ctx.db.insertInto('plans').values({ committee_org_id: health, year: 2026, name: '卫生计划', levels: 'senior_vice', opens_at: '2026-06-01', closes_at: '2026-06-30', created_at: stamp }).returning('id').executeTakeFirstOrThrow();
  const form = await admin.get('/org/notices/new');
  t.match(form.body, `<option value="${plan.id}">昆明市卫生技术高级职称评审委员会 · 卫生计划</option>`, 'admins may link any plan');
  t.match((await admin.get('/admin')).body, '<a href="/org/notices">通知公告</a>');
  for (let i = 1; i <= 12; i++) {
    app.clock.advance(1000);
    await admin.post('/org/notices/new', { title: `平台通知${String(i).padStart(2, '0')}`, body: `第${i}条` });
  }
  const platform = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'platform').executeTakeFirstOrThrow()).id;
  t.equal((await app.ctx.db.selectFrom('notices').select('id').where('org_id', '=', platform).execute()).length, 12);
  const { b } = await applicantAgent(app);
  const p1 = await b.get('/notices');
  t.match(p1.body, '共 12 条');
  t.match(p1.body, '平台运营中心');
  t.ok(p1.body.indexOf('平台通知12') < p1.body.indexOf('平台通知11'), 'newest first');
  t.notMatch(p1.body, '平台通知02');
  const p2 = await b.get('/notices?page=2');
  t.match(p2.body, '平台通知02');
  t.match(p2.body, '平台通知01');
  t.match((await b.get('/me')).body, BADGE(12));
});

t.test("a plan's 申报通知: linked from /me, newest linked notice or the plan's own text", async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const health = await committeeId(app, '卫生技术');
  const stamp = app.clock.now().toISOString();
  const withText = await app.ctx.db.insertInto('plans').values({ committee_org_id: health, year: 2026, name: '有通知计划', levels: 'senior_vice', opens_at: '2026-06-01', closes_at: '2026-06-30', notice: '计划自带的申报要求', created_at: stamp }).returning('id').executeTakeFirstOrThrow();
  const without = await app.ctx.db.insertInto('plans').values({ committee_org_id: health, year: 2026, name: '无通知计划', levels: 'senior_vice', opens_at: '2026-06-01', closes_at: '2026-06-30', created_at: stamp }).returning('id').executeTakeFirstOrThrow();
  const { b } = await applicantAgent(app);

  const me = await b.get('/me');
  t.match(me.body, `<a href="/notices/plan/${withText.id}">申报通知</a>`);
  t.notMatch(me.body, `/notices/plan/${without.id}`);

  // No notice published for it (inserted directly): the plan's own text.
  const own = await b.get(`/notices/plan/${withText.id}`);
  t.equal(own.statusCode, 200);
  t.match(own.body, '有通知计划申报通知');
  t.match(own.body, '计划自带的申报要求');
  t.match(own.body, '申报时间 2026年6月1日00:00至6月30日24:00');
  t.equal((await b.get(`/notices/plan/${without.id}`)).statusCode, 404);

  // Published notices linked to the plan: the newest one.
  const a = await staffAgent(app, 'com_sun', health);
  await a.get('/org/notices/new');
  await a.post('/org/notices/new', { title: '第一版', body: '一', plan_id: String(withText.id) });
  app.clock.advance(1000);
  await a.post('/org/notices/new', { title: '补充通知', body: '二', plan_id: String(withText.id) });
  const newest = await app.ctx.db.selectFrom('notices').select('id').where('title', '=', '补充通知').executeTakeFirstOrThrow();
  const go = await b.get(`/notices/plan/${withText.id}`);
  t.equal(go.statusCode, 303);
  t.equal(go.headers.location, `/notices/${newest.id}`);
  const detail = await b.get(`/notices/${newest.id}`);
  t.match(detail.body, '评审计划：有通知计划');
  t.match(detail.body, '申报中');
});

import t from 'tap';
import { makeApp, Agent, createApplicant, createStaff, login, type TestApp } from '../helpers/app.js';
import { makePng } from '../helpers/world.js';

/**
 * 申报通知附件 (seed 004: 点击通知附件可以下载), on SQLite and (ZC_TEST_PG) PostgreSQL: the
 * publishing office uploads (checked by content), a reader downloads (always an attachment,
 * nosniff), another office gets 404, removal asks first, deleting the notice removes its files.
 */

async function committeeId(app: TestApp, like: string) {
  return (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('name', 'like', `%${like}%`).orderBy('id').executeTakeFirstOrThrow()).id;
}

async function upload(agent: Agent, url: string, name: string, bytes: Buffer, type: string, csrf = true) {
  const fd = new FormData();
  if (csrf) fd.append('_csrf', agent.csrf());
  fd.append('file', new Blob([new Uint8Array(bytes)], { type }), name);
  const r = new Response(fd);
  return agent.t.app.inject({ method: 'POST', url, payload: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')!, cookie: agent.cookieHeader() } });
}

t.test('notice attachments: upload, download, scope, removal', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  await createStaff(app, { username: 'com_sun', name: '孙丽', orgId: await committeeId(app, '卫生技术'), roles: '' });
  await createStaff(app, { username: 'com_zhou', name: '周强', orgId: await committeeId(app, '工程'), roles: '' });
  const a = new Agent(app);
  await login(a, 'staff', 'com_sun');
  const other = new Agent(app);
  await login(other, 'staff', 'com_zhou');
  const ap = await createApplicant(app, { name: '王芳' });
  const b = new Agent(app);
  await login(b, 'applicant', ap.id);

  await a.get('/org/notices/new');
  let res = await a.post('/org/notices/new', { title: '关于2026年度卫生技术高级职称评审的通知', body: '见附件。' });
  t.equal(res.statusCode, 303);
  const id = (await app.ctx.db.selectFrom('notices').select('id').executeTakeFirstOrThrow()).id;
  let page = await a.get(`/org/notices/${id}`);
  t.match(page.body, '通知附件');
  t.match(page.body, '暂无附件');

  // A fake file (HTML named .pdf): refused by its content.
  res = await upload(a, `/org/notices/${id}/files`, '申报表.pdf', Buffer.from('<html><script>alert(1)</script></html>'), 'application/pdf');
  t.equal(res.statusCode, 303);
  t.match((await a.get(`/org/notices/${id}`)).body, '只能上传 jpg、png 或 pdf 文件');
  // Without the token: 403; another office: 404 (after the form is read).
  t.equal((await upload(a, `/org/notices/${id}/files`, 'a.png', makePng(40, 40), 'image/png', false)).statusCode, 403);
  await other.get('/org/notices');
  t.equal((await upload(other, `/org/notices/${id}/files`, 'a.png', makePng(40, 40), 'image/png')).statusCode, 404);
  t.equal((await app.ctx.db.selectFrom('attachments').select('id').where('owner_type', '=', 'notice').execute()).length, 0, 'nothing stored');

  await a.get(`/org/notices/${id}`);
  res = await upload(a, `/org/notices/${id}/files`, '申报流程图.png', makePng(300, 200, 7), 'image/png');
  t.equal(res.statusCode, 303);
  page = await a.get(`/org/notices/${id}`);
  t.match(page.body, '附件已上传');
  t.match(page.body, '申报流程图.png');

  // The reader: listed on the notice, a download.
  page = await b.get(`/notices/${id}`);
  const fileId = Number(new RegExp(`/notices/${id}/files/(\\d+)`).exec(page.body)![1]);
  t.match(page.body, '申报流程图.png');
  res = await b.get(`/notices/${id}/files/${fileId}`);
  t.equal(res.statusCode, 200);
  t.match(String(res.headers['content-disposition']), /^attachment;/);
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.equal(res.headers['content-type'], 'image/png');
  // Another notice's id with this file: 404; a file that is not a notice's: 404.
  t.equal((await b.get(`/notices/${id + 1}/files/${fileId}`)).statusCode, 404);
  t.equal((await b.get(`/notices/${id}/files/${fileId + 100}`)).statusCode, 404);

  // Removal: another office 404; the publisher confirms first.
  const aid = (await app.ctx.db.selectFrom('attachments').select('id').where('owner_type', '=', 'notice').executeTakeFirstOrThrow()).id;
  t.equal((await other.get(`/org/notices/${id}/files/${aid}/delete`)).statusCode, 404);
  t.equal((await other.post(`/org/notices/${id}/files/${aid}/delete`)).statusCode, 404);
  page = await a.get(`/org/notices/${id}/files/${aid}/delete`);
  t.match(page.body, '确定删除通知');
  res = await a.post(`/org/notices/${id}/files/${aid}/delete`);
  t.equal(res.statusCode, 303);
  t.equal((await b.get(`/notices/${id}/files/${fileId}`)).statusCode, 404);
  t.equal(await app.ctx.db.selectFrom('files').select('id').where('id', '=', fileId).executeTakeFirst(), undefined, 'the file row went too');

  // Deleting the notice removes its files.
  await a.get(`/org/notices/${id}`);
  await upload(a, `/org/notices/${id}/files`, '附件二.png', makePng(200, 100, 9), 'image/png');
  await a.get(`/org/notices/${id}/delete`);
  res = await a.post(`/org/notices/${id}/delete`);
  t.equal(res.statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('attachments').select('id').where('owner_type', '=', 'notice').execute()).length, 0);
  t.ok(await app.ctx.db.selectFrom('audit_log').select('id').where('object_type', '=', 'notice').where('action', '=', 'file_upload').executeTakeFirst(), 'audited');
});

/**
 * 【表十七】上传 (seed 001 §4.3.1): closed until the committee's e-review approves; then the
 * applicant uploads the stamped scan in 附件管理 (待提交 → 已提交), a new upload replaces the
 * old one, and the committee office sees and opens it (and finds it in the materials zip).
 */
import t from 'tap';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, submittedDeclaration, approveByCommittee, makePng, type World } from '../helpers/world.js';
import { multipart } from '../helpers/files.js';


/** Posts a file through the 表十七 form exactly as the page renders it (its action, its hidden token first). */
async function uploadVia(app: TestApp, agent: Agent, filename: string, bytes: Buffer, type = 'image/png') {
  const page = await agent.get('/me/attachments');
  const m = /<form method="post" enctype="multipart\/form-data" class="att-upload[^"]*" data-crop[^>]*action="([^"]+)">\s*<input type="hidden" name="_csrf" value="([^"]+)">/s.exec(page.body);
  if (!m) throw new Error('no 表十七 upload form on /me/attachments');
  const { payload, contentType } = await multipart(filename, bytes, type, 'file', { csrf: m[2]! });
  return app.app.inject({ method: 'POST', url: m[1]!.replace(/&amp;/g, '&'), payload, headers: { 'content-type': contentType, cookie: agent.cookieHeader() } });
}

async function staff(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username} failed`);
  return a;
}

/** The names in a zip's central directory. */
function zipNames(buf: Buffer): string[] {
  const names: string[] = [];
  let i = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(i + 10);
  let p = buf.readUInt32LE(i + 16);
  for (let n = 0; n < count; n++) {
    const len = buf.readUInt16LE(p + 28), extra = buf.readUInt16LE(p + 30), comment = buf.readUInt16LE(p + 32);
    names.push(buf.subarray(p + 46, p + 46 + len).toString('utf8'));
    p += 46 + len + extra + comment;
  }
  return names;
}

let app: TestApp;
let w: World;
t.before(async () => {
  app = await makeApp();
  w = await kunming(app);
});
t.teardown(() => app.close());

t.test('表十七: closed before approval, 待提交 → 已提交, replace, committee sees it', async (t) => {
  const { id, agent } = await submittedDeclaration(app, w, { name: '张伟', seq: '217', phone: '13912340217' });

  // Under review: no upload yet, and the upload URL refuses the slot.
  let page = await agent.get('/me/attachments');
  t.match(page.body, '状态：<b>待提交</b>。评委会电子材料审核通过后');
  t.notMatch(page.body, 'data-crop', 'no upload form before the form is printable');
  const early = await app.app.inject({
    method: 'POST', url: `/me/attachments?owner=declaration&id=${id}&slot=table17`,
    ...(await (async () => { const m = await multipart('t17.png', makePng(800, 1100), 'image/png', 'file', { csrf: agent.csrf() }); return { payload: m.payload, headers: { 'content-type': m.contentType, cookie: agent.cookieHeader() } }; })()),
  });
  t.equal(early.statusCode, 404, 'the 表十七 slot does not exist before approval');

  await approveByCommittee(app, id);

  page = await agent.get('/me/attachments');
  t.match(page.body, '状态：<b>待提交</b></p>');
  t.match(page.body, `href="/me/records/${id}/pdf"`, 'print link');
  t.match(page.body, 'data-cropper-src="/public/vendor/cropper.min.', 'the crop step is offered to JS');
  t.match(page.body, 'class="crop-stage" hidden', 'hidden until an image is chosen (no JS: plain upload)');

  // A fake image is refused with a clear message; nothing changes.
  const fake = await uploadVia(app, agent, 't17.png', Buffer.from('not an image at all'), 'image/png');
  t.equal(fake.statusCode, 303);
  t.equal(fake.headers.location, `/me/attachments#att-declaration-${id}-table17`, 'back at the 表十七 form');
  const after = await agent.get(String(fake.headers.location).replace(/#.*/, ''));
  t.match(after.body, /<small class="err" id="t17-err" role="alert">只能上传[^<]+<\/small>/, 'the message next to the 表十七 upload');
  t.match(after.body, '状态：<b>待提交</b></p>');

  // The real scan.
  const up = await uploadVia(app, agent, '表十七.png', makePng(800, 1100, 10));
  t.equal(up.statusCode, 303);
  t.equal(up.headers.location, '/me/attachments#table17');
  page = await agent.get('/me/attachments');
  t.match(page.body, /状态：<b>已提交<\/b>（\d{4}-\d\d-\d\d \d\d:\d\d 上传）/);
  t.match(page.body, '表十七.png');
  t.match(page.body, '重新上传将替换已提交的扫描件');

  // Re-upload replaces: one scan only.
  const again = await uploadVia(app, agent, '表十七-重扫.png', makePng(800, 1100, 40));
  t.equal(again.statusCode, 303);
  const rows = await app.ctx.db.selectFrom('attachments').select(['file_id']).where('owner_type', '=', 'declaration').where('owner_id', '=', id).where('slot', '=', 'table17').execute();
  t.equal(rows.length, 1, 'the new scan replaced the old one');
  page = await agent.get('/me/attachments');
  t.match(page.body, '表十七-重扫.png');

  // Someone else cannot upload into this declaration.
  const other = await readyApplicant(app, w.unit, { name: '王芳', seq: '218', phone: '13912340218' });
  const otherAgent = new Agent(app);
  await login(otherAgent, 'applicant', other.phone);
  await otherAgent.get('/me');
  const m = await multipart('x.png', makePng(800, 1100), 'image/png', 'file', { csrf: otherAgent.csrf() });
  const foreign = await app.app.inject({
    method: 'POST', url: `/me/attachments?owner=declaration&id=${id}&slot=table17`,
    payload: m.payload, headers: { 'content-type': m.contentType, cookie: otherAgent.cookieHeader() },
  });
  t.equal(foreign.statusCode, 404);

  // The committee office sees it on the review screen, opens it, and gets it in the zip.
  const com = await staff(app, w.staff.committee);
  const detail = await com.get(`/org/reviews/${id}`);
  t.match(detail.body, '【表十七】盖章扫描件');
  t.match(detail.body, '<b>已提交</b>');
  const fileId = rows[0]!.file_id;
  t.match(detail.body, `/org/reviews/${id}/files/${fileId}`);
  const file = await com.get(`/org/reviews/${id}/files/${fileId}`);
  t.equal(file.statusCode, 200);
  t.equal(file.headers['content-type'], 'image/png');
  const zip = await com.get(`/org/reviews/${id}/materials.zip`);
  t.equal(zip.statusCode, 200);
  t.ok(zipNames(zip.rawPayload).includes('附件/表十七-1.png'), 'the scan is in the materials zip');
  // Not reachable by an organisation off the route.
  const otherCommittee = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('id', '!=', w.committee).executeTakeFirstOrThrow()).id;
  await createStaff(app, { username: 'com_other', name: '赵敏', orgId: otherCommittee, roles: '' });
  const stranger = await staff(app, 'com_other');
  t.equal((await stranger.get(`/org/reviews/${id}/files/${fileId}`)).statusCode, 404);
});

import { listFiles, storedCounts, multipart } from '../helpers/files.js';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import t from 'tap';
import { makePng } from '../helpers/world.js';
import nunjucks from 'nunjucks';
import { makeApp, Agent, createApplicant, login, idNumber, type TestApp } from '../helpers/app.js';
import { ROOT } from '../../src/app.js';
import {
  listAttachments, deleteOwnerAttachments, rowSlots, profileSlots, quotaMessage, storeFile, TYPE_MESSAGE, PHOTO_TYPE_MESSAGE, PHOTO_MISMATCH_MESSAGE,
} from '../../src/features/files/service.js';
import { reencodeImage } from '../../src/lib/reencode.js';
import { UNEXPECTED_FILE_MESSAGE } from '../../src/lib/multipart.js';

// ---------------------------------------------------------------------------------------
// Fixtures

const PORTRAIT = makePng(390, 567);
const LANDSCAPE = makePng(567, 390);
const SMALL = makePng(1, 1);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n', 'latin1');


function cookieOf(agent: Agent): string {
  return [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

interface Upload {
  owner?: string;
  id?: number | string;
  slot?: string;
  back?: string;
  csrf?: string | null;
  filename?: string;
  bytes: Buffer;
  headers?: Record<string, string>;
}

/** POSTs a multipart upload the way the partial's form does (the token as its first field, never in the URL). */
async function upload(app: TestApp, agent: Agent, u: Upload) {
  if (u.csrf === undefined) await agent.get('/me');
  const token = u.csrf === undefined ? agent.csrf() : u.csrf;
  const q = new URLSearchParams();
  q.set('owner', u.owner ?? 'row');
  if (u.id !== undefined) q.set('id', String(u.id));
  q.set('slot', u.slot ?? 'certificate');
  // By default the page that shows the slot (where a refusal's message appears).
  const owner = u.owner ?? 'row';
  q.set('back', u.back ?? (owner === 'row' ? `/me/sections/titles/${u.id}/edit` : owner === 'profile' ? '/me/profile' : '/me/attachments'));
  const { payload, contentType } = await multipart(u.filename ?? (u.bytes.subarray(0, 5).toString('latin1') === '%PDF-' ? 'x.pdf' : 'x.png'), u.bytes, 'application/octet-stream', 'file', token === null ? {} : { csrf: token });
  return app.app.inject({ method: 'POST', url: `/me/attachments?${q}`, payload, headers: { 'content-type': contentType, cookie: cookieOf(agent), ...u.headers } });
}

/**
 * What the page a redirect leads to says: the top flash (上传成功…), or the message next to an
 * upload slot (a refused upload). The redirect may carry the slot's #id.
 */
async function flashAfter(agent: Agent, res: { headers: Record<string, unknown> }): Promise<string> {
  const page = await agent.get(String(res.headers.location).split('#')[0]!);
  return /<p class="flash (?:ok|error)"[^>]*>([^<]*)<\/p>/.exec(page.body)?.[1] ?? /<small class="err" id="att-[^"]+-err" role="alert">([^<]+)<\/small>/.exec(page.body)?.[1] ?? '';
}


const counts = (app: TestApp) => storedCounts(app, app.ctx.config.uploadDir);

async function addRow(app: TestApp, userId: number, section = 'titles') {
  const stamp = app.clock.now().toISOString();
  const r = await app.ctx.db
    .insertInto('section_rows')
    .values({ user_id: userId, section, position: 1, data: '{}', created_at: stamp, updated_at: stamp })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

async function setup(overrides: Parameters<typeof makeApp>[0] = {}) {
  const app = await makeApp(overrides);
  const a = await createApplicant(app);
  const b = await createApplicant(app, { name: '李娜', id: idNumber('19880101', '456'), phone: '13912345678' });
  const agentA = new Agent(app);
  const agentB = new Agent(app);
  await login(agentA, 'applicant', a.id);
  await login(agentB, 'applicant', b.id);
  const rowA = await addRow(app, a.userId);
  return { app, a, b, agentA, agentB, rowA };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** What is stored for an uploaded PNG: its pixels re-encoded (src/lib/reencode.ts). */
const stored = (png: Buffer) => {
  const r = reencodeImage(png, 'image/png');
  if (!r.ok) throw new Error(r.message);
  return r.buffer;
};

// ---------------------------------------------------------------------------------------

t.test('upload a PNG to a row: stored by hash, listed, served to its owner only', async (t) => {
  const { app, a, agentA, agentB, rowA } = await setup();
  t.teardown(() => app.close());

  const res = await upload(app, agentA, { id: rowA, filename: '职称证书.png', bytes: PORTRAIT, back: `/me/sections/titles/${rowA}/edit` });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, `/me/sections/titles/${rowA}/edit`);
  // The redirect target may not exist in this test; read the flash from a page that does.
  t.equal(await flashAfter(agentA, { headers: { location: '/me' } }), '上传成功');

  const kept = stored(PORTRAIT);
  const h = sha(kept);
  // Under its hash, in the configured store (the folder: uploadDir/<aa>/<sha>; or the database).
  t.same(await app.ctx.blobs.read(h), kept, 'blob under the sha of the re-encoded bytes');
  t.same((await counts(app)).blobs, [`${h.slice(0, 2)}/${h}`], 'no temp files left');

  const file = await app.ctx.db.selectFrom('files').selectAll().executeTakeFirstOrThrow();
  t.match(file, { user_id: a.userId, sha256: h, size: kept.length, mime: 'image/png', original_name: '职称证书.png', width: 390, height: 567 });

  const map = await listAttachments(app.ctx, a.userId, 'row', [rowA, 999]);
  t.equal(map.size, 1);
  const items = map.get(rowA)!;
  t.equal(items.length, 1);
  t.match(items[0], { slot: 'certificate', fileId: file.id, name: '职称证书.png', mime: 'image/png', size: kept.length, width: 390, height: 567, isImage: true });

  // View: the bytes, with nosniff, an inline disposition carrying the UTF-8 name, a sandbox CSP.
  const view = await agentA.get(`/me/files/${file.id}`);
  t.equal(view.statusCode, 200);
  t.same(view.rawPayload, kept);
  t.equal(view.headers['content-type'], 'image/png');
  t.equal(view.headers['x-content-type-options'], 'nosniff');
  t.equal(view.headers['content-disposition'], `inline; filename="____.png"; filename*=UTF-8''${encodeURIComponent('职称证书.png')}`);
  t.equal(view.headers['content-security-policy'], 'sandbox');
  t.equal(view.headers['cache-control'], 'private, no-store');
  const dl = await agentA.get(`/me/files/${file.id}?download=1`);
  t.match(dl.headers['content-disposition'], /^attachment; /);

  // Someone else: not found, whatever the id.
  t.equal((await agentB.get(`/me/files/${file.id}`)).statusCode, 404);
  t.equal((await agentB.get(`/me/files/${file.id}?download=1`)).statusCode, 404);
  t.equal((await agentB.get('/me/files/abc')).statusCode, 404);
  // Not signed in: to the login page.
  const anon = await app.app.inject({ method: 'GET', url: `/me/files/${file.id}` });
  t.equal(anon.statusCode, 303);
  t.match(anon.headers.location, /^\/login/);
});

t.test("another applicant's row, attachment or file id → 404 and nothing changes", async (t) => {
  const { app, a, agentA, agentB, rowA } = await setup();
  t.teardown(() => app.close());
  t.equal((await upload(app, agentA, { id: rowA, bytes: PORTRAIT })).statusCode, 303);
  const before = await counts(app);
  const att = await app.ctx.db.selectFrom('attachments').selectAll().executeTakeFirstOrThrow();

  const up = await upload(app, agentB, { id: rowA, bytes: SMALL });
  t.equal(up.statusCode, 404, "B cannot upload to A's row");
  t.same(await counts(app), before);

  t.equal((await agentB.get(`/me/attachments/${att.id}/delete`)).statusCode, 404, "B cannot see the confirm page of A's attachment");
  await agentB.get('/me');
  const del = await agentB.post(`/me/attachments/${att.id}/delete`);
  t.equal(del.statusCode, 404, "B cannot delete A's attachment");
  t.same(await counts(app), before);

  // B's profile is B's: ownerId other than the user is not found.
  t.equal((await upload(app, agentB, { owner: 'profile', id: a.userId, slot: 'id_front', bytes: SMALL })).statusCode, 404);
  t.same(await counts(app), before);
});

t.test('content decides the type: PNG named .pdf and text named .jpg refused, nothing stored', async (t) => {
  const { app, a, agentA, rowA } = await setup();
  t.teardown(() => app.close());
  const empty = await counts(app);

  // The name may not contradict the content (the message says so)…
  const renamed = await upload(app, agentA, { id: rowA, filename: 'scan.pdf', bytes: SMALL });
  t.equal(renamed.statusCode, 303);
  t.equal(await flashAfter(agentA, renamed), TYPE_MESSAGE);
  t.same(await counts(app), empty, 'nothing stored');
  const renamed2 = await upload(app, agentA, { id: rowA, filename: 'scan.jpeg', bytes: PDF });
  t.equal(await flashAfter(agentA, renamed2), TYPE_MESSAGE);
  t.same(await counts(app), empty, 'nothing stored');

  // …but it never decides the type: a PNG with another name is stored as a PNG.
  t.equal((await upload(app, agentA, { id: rowA, filename: 'SCAN.PNG', bytes: SMALL })).statusCode, 303);
  t.equal((await upload(app, agentA, { id: rowA, filename: 'scan.bin', bytes: SMALL })).statusCode, 303);
  const f = await app.ctx.db.selectFrom('files').selectAll().where('original_name', '=', 'scan.bin').executeTakeFirstOrThrow();
  t.equal(f.mime, 'image/png');
  const view = await agentA.get(`/me/files/${f.id}`);
  t.equal(view.headers['content-type'], 'image/png');
  t.match(view.headers['content-disposition'], /filename\*=UTF-8''scan\.bin\.png$/, 'downloaded under the real extension');

  const before = await counts(app);
  const txt = await upload(app, agentA, { id: rowA, filename: 'photo.jpg', bytes: Buffer.from('just some text, not a jpeg\n') });
  t.equal(txt.statusCode, 303);
  t.equal(await flashAfter(agentA, txt), TYPE_MESSAGE);
  t.same(await counts(app), before, 'nothing stored');

  const html = await upload(app, agentA, { id: rowA, filename: 'a.png', bytes: Buffer.from('<html><script>alert(1)</script>') });
  t.equal(await flashAfter(agentA, html), TYPE_MESSAGE);
  t.same(await counts(app), before);

  // A PDF is fine for a document slot, and its name is cleaned.
  const pdf = await upload(app, agentA, { id: rowA, filename: '..\\..\\evil\u202e\u0007fdp.pdf', bytes: PDF });
  t.equal(pdf.statusCode, 303);
  const stored = await app.ctx.db.selectFrom('files').selectAll().where('mime', '=', 'application/pdf').executeTakeFirstOrThrow();
  t.equal(stored.original_name, 'evilfdp.pdf');
  const pv = await agentA.get(`/me/files/${stored.id}`);
  t.equal(pv.headers['content-type'], 'application/pdf');
  t.equal(pv.headers['x-content-type-options'], 'nosniff');
  t.equal(pv.headers['content-security-policy'], 'sandbox');
  t.match(pv.headers['content-disposition'], /^attachment; /, 'a PDF is never shown inline (field test #19)');
  t.same(pv.rawPayload, PDF, 'a PDF without scripts is stored as sent');

  // Straight through the service too: a PNG as a "photo" must also be portrait.
  t.same(await storeFile(app.ctx, a.userId, { filename: 'x.txt', buffer: Buffer.from('hello') }, 'doc'), { ok: false, error: TYPE_MESSAGE });
  t.same(await storeFile(app.ctx, a.userId, { filename: 'me.pdf', buffer: PORTRAIT }, 'photo'), { ok: false, error: PHOTO_MISMATCH_MESSAGE });
  t.same(await storeFile(app.ctx, a.userId, { filename: 'me.jpg', buffer: PDF }, 'photo'), { ok: false, error: PHOTO_TYPE_MESSAGE });
});

t.test('avatar: jpg/png only, 3.3×4.8 portrait, one photo (a new one replaces the old)', async (t) => {
  const { app, a, agentA } = await setup();
  t.teardown(() => app.close());
  const before = await counts(app);

  const land = await upload(app, agentA, { owner: 'profile', slot: 'avatar', bytes: LANDSCAPE, back: '/me/profile#attachments' });
  t.equal(land.statusCode, 303);
  t.equal(land.headers.location, `/me/profile#att-profile-${a.userId}-avatar`, 'back to the page, at the slot');
  const landPage = await agentA.get('/me/profile');
  t.match(landPage.body, `<small class="err" id="att-profile-${a.userId}-avatar-err" role="alert">照片比例应为3.3cm×4.8cm（宽:高约为 2:3），当前为 567×390 像素</small>`, 'the message sits at the avatar slot');
  t.notMatch(landPage.body, /<p class="flash/, 'not a page-level message');
  t.same(await counts(app), before, 'nothing stored');

  t.equal(await flashAfter(agentA, await upload(app, agentA, { owner: 'profile', slot: 'avatar', bytes: PDF })), PHOTO_TYPE_MESSAGE);
  t.match(await flashAfter(agentA, await upload(app, agentA, { owner: 'profile', slot: 'avatar', bytes: makePng(100, 145) })), /^照片分辨率过低/);
  t.same(await counts(app), before, 'nothing stored');

  const ok = await upload(app, agentA, { owner: 'profile', slot: 'avatar', bytes: PORTRAIT });
  t.equal(ok.statusCode, 303);
  t.equal(await flashAfter(agentA, ok), '上传成功');
  const second = makePng(330, 480);
  t.equal((await upload(app, agentA, { owner: 'profile', slot: 'avatar', bytes: second })).statusCode, 303);
  const map = await listAttachments(app.ctx, a.userId, 'profile', [a.userId]);
  t.equal(map.get(a.userId)!.length, 1, 'replaced, not added');
  t.equal(map.get(a.userId)![0]!.width, 330);
  const c = await counts(app);
  t.equal(c.files, 1, 'the replaced file row is gone');
  t.same(c.blobs, [`${sha(stored(second)).slice(0, 2)}/${sha(stored(second))}`], 'and its blob');

  // 身份证 front and back: documents, one each.
  t.equal((await upload(app, agentA, { owner: 'profile', slot: 'id_front', bytes: PDF })).statusCode, 303);
  t.equal((await upload(app, agentA, { owner: 'profile', slot: 'id_back', bytes: LANDSCAPE })).statusCode, 303);
  const slots = (await listAttachments(app.ctx, a.userId, 'profile', [a.userId])).get(a.userId)!.map((i) => i.slot).sort();
  t.same(slots, ['avatar', 'id_back', 'id_front']);
});

t.test('size limit (configurable) and per-user quota: message, nothing stored', async (t) => {
  const { app, agentA, rowA } = await setup({ uploadMaxFileBytes: 1024 });
  t.teardown(() => app.close());
  const before = await counts(app);
  const padded = (n: number) => Buffer.concat([SMALL, Buffer.alloc(n - SMALL.length, 0x20)]);

  for (const n of [1025, 2000]) {
    const res = await upload(app, agentA, { id: rowA, bytes: padded(n) });
    t.equal(res.statusCode, 303, `${n} bytes`);
    t.equal(await flashAfter(agentA, res), '文件不能超过1KB');
    t.same(await counts(app), before, 'nothing stored');
  }
  // Far over the limit (past the request budget): not read to its end; the same page, the
  // message at the slot (no separate 上传失败 page).
  const far = await upload(app, agentA, { id: rowA, bytes: padded(50_000) });
  t.equal(far.statusCode, 303, '50000 bytes');
  t.equal(far.headers.location, `/me/sections/titles/${rowA}/edit#att-row-${rowA}-certificate`);
  t.equal(far.headers.connection, 'close', 'the unread body is not drained');
  t.equal(await flashAfter(agentA, far), '文件不能超过1KB');
  t.same(await counts(app), before, 'nothing stored');
  const exact = await upload(app, agentA, { id: rowA, bytes: padded(1024) });
  t.equal(exact.statusCode, 303);
  t.equal(await flashAfter(agentA, exact), '上传成功', 'exactly at the limit is fine');

  const q = await setup({ uploadQuotaBytes: 2 * stored(PORTRAIT).length + 10 });
  t.teardown(() => q.app.close());
  for (let i = 0; i < 2; i++) t.equal((await upload(q.app, q.agentA, { id: q.rowA, bytes: PORTRAIT })).statusCode, 303);
  const full = await counts(q.app);
  t.equal(full.files, 2, 'both count towards the quota (duplicates included)');
  const over = await upload(q.app, q.agentA, { id: q.rowA, bytes: SMALL }); // SMALL is > 10 bytes: over quota
  t.equal(await flashAfter(q.agentA, over), quotaMessage(q.app.ctx));
  t.match(quotaMessage(q.app.ctx), /^您的附件总大小已超过上限（.+），请删除不需要的附件后再上传$/);
  t.same(await counts(q.app), full, 'nothing stored');
  // Another user's quota is their own.
  const rowB = await addRow(q.app, q.b.userId);
  const theirs = await upload(q.app, q.agentB, { id: rowB, bytes: SMALL });
  t.equal(theirs.statusCode, 303);
  t.equal(await flashAfter(q.agentB, theirs), '上传成功');
});

t.test('default limits in messages and slots', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  t.equal(quotaMessage(app.ctx), '您的附件总大小已超过上限（200MB），请删除不需要的附件后再上传');
  t.same(rowSlots(app.ctx, 'titles').map((s) => [s.key, s.required, s.kind, s.rule]), [['certificate', true, 'doc', '支持 jpg、png、pdf，单个文件不超过5MB']]);
  t.same(rowSlots(app.ctx, 'nope'), []);
  t.same(profileSlots(app.ctx).map((s) => [s.key, s.label, s.kind, s.single]), [
    ['avatar', '头像', 'photo', true], ['id_front', '身份证人像面', 'doc', true], ['id_back', '身份证国徽面', 'doc', true],
  ]);
  t.match(profileSlots(app.ctx)[0]!.rule, '不超过500KB');
});

t.test('unknown owner or slot → 404; CSRF required; back must be same-site', async (t) => {
  const { app, agentA, rowA } = await setup();
  t.teardown(() => app.close());
  const before = await counts(app);
  const noAttachSection = await addRow(app, (await app.ctx.db.selectFrom('section_rows').select('user_id').executeTakeFirstOrThrow()).user_id, 'nonexistent');

  t.equal((await upload(app, agentA, { id: rowA, slot: 'nope', bytes: SMALL })).statusCode, 404, 'unknown slot');
  t.equal((await upload(app, agentA, { id: rowA, slot: 'avatar', bytes: SMALL })).statusCode, 404, 'profile slot on a row');
  t.equal((await upload(app, agentA, { owner: 'profile', slot: 'certificate', bytes: SMALL })).statusCode, 404, 'row slot on the profile');
  t.equal((await upload(app, agentA, { owner: 'other', id: rowA, bytes: SMALL })).statusCode, 404, 'unknown owner type');
  t.equal((await upload(app, agentA, { id: 'abc', bytes: SMALL })).statusCode, 404, 'bad id');
  t.equal((await upload(app, agentA, { id: 99999, bytes: SMALL })).statusCode, 404, 'missing row');
  t.equal((await upload(app, agentA, { id: noAttachSection, bytes: SMALL })).statusCode, 404, 'row of an unknown section');
  t.same(await counts(app), before);

  const noToken = await upload(app, agentA, { id: rowA, bytes: SMALL, csrf: null });
  t.equal(noToken.statusCode, 403, 'multipart without the token is refused');
  t.match(noToken.body, '请求已失效');
  const badToken = await upload(app, agentA, { id: rowA, bytes: SMALL, csrf: 'forged' });
  t.equal(badToken.statusCode, 403);
  t.same(await counts(app), before, 'nothing stored');

  // A token in the URL is never honoured, multipart or not.
  await agentA.get('/me');
  const { payload: qp, contentType: qct } = await multipart('x.png', SMALL, 'image/png');
  const multipartViaQuery = await app.app.inject({
    method: 'POST', url: `/me/attachments?owner=row&id=${rowA}&slot=certificate&_csrf=${encodeURIComponent(agentA.csrf())}`, payload: qp,
    headers: { 'content-type': qct, cookie: cookieOf(agentA) },
  });
  t.equal(multipartViaQuery.statusCode, 403, 'a multipart POST cannot put the token in the URL');
  t.same(await counts(app), before, 'nothing stored');
  // The token after the file (not the form's first field): refused before the file is stored.
  const late = new FormData();
  late.append('file', new Blob([new Uint8Array(SMALL)], { type: 'image/png' }), 'x.png');
  late.append('_csrf', agentA.csrf());
  const lateBody = new Response(late);
  const tokenLast = await app.app.inject({
    method: 'POST', url: `/me/attachments?owner=row&id=${rowA}&slot=certificate`, payload: Buffer.from(await lateBody.arrayBuffer()),
    headers: { 'content-type': lateBody.headers.get('content-type')!, cookie: cookieOf(agentA) },
  });
  t.equal(tokenLast.statusCode, 403, 'the token must come before the file');
  t.same(await counts(app), before, 'nothing stored');
  await agentA.get('/me');
  const att = await upload(app, agentA, { id: rowA, bytes: SMALL });
  t.equal(att.statusCode, 303);
  const attId = (await app.ctx.db.selectFrom('attachments').select('id').executeTakeFirstOrThrow()).id;
  await agentA.get('/me');
  const viaQuery = await agentA.post(`/me/attachments/${attId}/delete?_csrf=${encodeURIComponent(agentA.csrf())}`, {}, { csrf: null });
  t.equal(viaQuery.statusCode, 403, 'a urlencoded POST cannot put the token in the URL');
  t.equal((await counts(app)).attachments, 1);
  await agentA.get('/me');
  t.equal((await agentA.post(`/me/attachments/${attId}/delete`)).statusCode, 303);

  // The header (htmx) works as well as the first field.
  await agentA.get('/me');
  const viaHeader = await upload(app, agentA, { id: rowA, bytes: SMALL, csrf: null, headers: { 'x-csrf-token': agentA.csrf(), 'hx-request': 'true', 'hx-boosted': 'true' } });
  t.equal(viaHeader.statusCode, 303);

  for (const back of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
    const r = await upload(app, agentA, { id: rowA, bytes: SMALL, back });
    t.equal(r.headers.location, '/me', `back=${back} → /me`);
  }

  // A non-multipart POST to the upload URL: a clear message, nothing stored.
  await agentA.get('/me');
  const edit = `/me/sections/titles/${rowA}/edit`;
  const form = await agentA.post(`/me/attachments?owner=row&id=${rowA}&slot=certificate&back=${encodeURIComponent(edit)}`, { file: 'x' });
  t.equal(form.statusCode, 303);
  t.equal(await flashAfter(agentA, form), '请选择要上传的文件');
  // A multipart body whose file part is not named "file": refused, not ignored; said at the slot.
  const beforeWrong = await counts(app);
  await agentA.get('/me');
  const { payload, contentType } = await multipart('x.png', SMALL, 'image/png', 'other', { csrf: agentA.csrf() });
  const wrongField = await app.app.inject({
    method: 'POST', url: `/me/attachments?owner=row&id=${rowA}&slot=certificate&back=${encodeURIComponent(edit)}`, payload,
    headers: { 'content-type': contentType, cookie: cookieOf(agentA) },
  });
  t.equal(wrongField.statusCode, 303);
  t.equal(await flashAfter(agentA, wrongField), UNEXPECTED_FILE_MESSAGE);
  t.same(await counts(app), beforeWrong, 'nothing stored');
});

t.test('delete through the confirm page; identical bytes share one blob', async (t) => {
  const { app, a, agentA, rowA } = await setup();
  t.teardown(() => app.close());
  const back = `/me/sections/titles/${rowA}/edit`;
  for (const name of ['一.png', '二.png']) t.equal((await upload(app, agentA, { id: rowA, filename: name, bytes: PORTRAIT, back })).statusCode, 303);
  let c = await counts(app);
  t.equal(c.attachments, 2, 'two attachments');
  t.equal(c.files, 2, 'two file records');
  t.equal(c.blobs.length, 1, 'one blob');

  const [first, second] = (await listAttachments(app.ctx, a.userId, 'row', [rowA])).get(rowA)!;
  const confirm = await agentA.get(`/me/attachments/${first!.id}/delete?back=${encodeURIComponent(back)}`);
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, '确定删除附件“一.png”吗？');
  const action = /<form method="post" action="([^"]+)" class="actions"/.exec(confirm.body)![1]!.replace(/&amp;/g, '&');
  t.equal(action, `/me/attachments/${first!.id}/delete?back=${encodeURIComponent(back)}`);
  t.match(confirm.body, `href="${back}"`, 'cancel goes back');
  const del = await agentA.post(action);
  t.equal(del.statusCode, 303);
  t.equal(del.headers.location, back);
  t.equal(await flashAfter(agentA, { headers: { location: '/me' } }), '附件已删除');
  c = await counts(app);
  t.same([c.attachments, c.files, c.blobs.length], [1, 1, 1], 'the blob stays while another file uses it');

  await agentA.get(`/me/attachments/${second!.id}/delete`);
  t.equal((await agentA.post(`/me/attachments/${second!.id}/delete`)).statusCode, 303);
  c = await counts(app);
  t.same([c.attachments, c.files, c.blobs.length], [0, 0, 0], 'last reference gone: row and blob deleted');
  t.equal((await agentA.post(`/me/attachments/${second!.id}/delete`)).statusCode, 404, 'already gone');
  t.equal((await agentA.get(`/me/attachments/${second!.id}/delete`)).statusCode, 404);
  const fileAudit = (await app.ctx.db.selectFrom('audit_log').select(['action', 'ip', 'object_id']).execute()).map((r) => r.action);
  t.ok(fileAudit.filter((a) => a === 'file_upload').length >= 2, 'uploads are audited');
  t.equal(fileAudit.filter((a) => a === 'file_delete').length, 2, 'deletes are audited');
});

t.test('deleteOwnerAttachments (a section row deleted) removes rows, files and unused blobs', async (t) => {
  const { app, a, agentA, rowA } = await setup();
  t.teardown(() => app.close());
  const rowA2 = await addRow(app, a.userId);
  await upload(app, agentA, { id: rowA, bytes: PORTRAIT });
  await upload(app, agentA, { id: rowA, bytes: PDF });
  await upload(app, agentA, { id: rowA2, bytes: PORTRAIT });
  t.equal((await counts(app)).blobs.length, 2);

  const res = await deleteOwnerAttachments(app.ctx, a.userId, 'row', rowA);
  t.equal(res.deleted, 2);
  const c = await counts(app);
  t.same([c.attachments, c.files], [1, 1]);
  t.same(c.blobs, [`${sha(stored(PORTRAIT)).slice(0, 2)}/${sha(stored(PORTRAIT))}`], 'the PDF blob went, the shared PNG stayed');
  t.same(await deleteOwnerAttachments(app.ctx, a.userId + 1, 'row', rowA2), { deleted: 0, orphanShas: [] }, "not someone else's");
  t.equal((await counts(app)).attachments, 1);
});

t.test('the partial renders slots, thumbnails and a working no-JS upload form', async (t) => {
  const { app, a, agentA, rowA } = await setup();
  t.teardown(() => app.close());
  await upload(app, agentA, { id: rowA, filename: '证书<1>.png', bytes: PORTRAIT });
  await upload(app, agentA, { id: rowA, filename: 'b.pdf', bytes: PDF });
  const items = (await listAttachments(app.ctx, a.userId, 'row', [rowA])).get(rowA);

  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(path.join(ROOT, 'views')), { autoescape: true, trimBlocks: true, lstripBlocks: true });
  await agentA.get('/me');
  const token = agentA.csrf();
  const back = `/me/sections/titles/${rowA}/edit?x=1&y=2`;
  const render = (slots: unknown, its: unknown, owner: string, id: number, flash?: unknown) =>
    env.renderString('{% from "files/_attachments.njk" import attachments %}{{ attachments(slots, items, owner, ownerId, back, csrf, flash) }}', {
      slots, items: its, owner, ownerId: id, back, csrf: () => token, flash,
    });
  const html = render(rowSlots(app.ctx, 'titles'), items, 'row', rowA);
  t.match(html, '<span class="req">*</span>职称证书');
  t.match(html, /<img src="\/me\/files\/\d+" alt="职称证书：证书&lt;1&gt;.png" loading="lazy" class="thumb">/);
  t.notMatch(html, '证书<1>', 'names are escaped');
  t.match(html, '📄');
  t.match(html, 'target="_blank"');
  t.match(html, `/delete?back=${encodeURIComponent(back)}`);
  t.match(html, 'accept=".jpg,.jpeg,.png,.pdf"');
  t.match(html, '支持 jpg、png、pdf，单个文件不超过5MB');
  const action = /<form method="post" enctype="multipart\/form-data" class="att-upload" action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
  t.equal(action, `/me/attachments?owner=row&id=${rowA}&slot=certificate&back=${encodeURIComponent(back)}`, 'no token in the URL');
  t.notMatch(html, '_csrf=');
  // The token is the form's first field, before the file input.
  t.match(html, new RegExp(`class="att-upload" action="[^"]+">\\s*<input type="hidden" name="_csrf" value="${token}">\\s*<input id="att-row-${rowA}-certificate-file" type="file"`));
  t.match(html, `data-max-bytes="${5 * 1024 * 1024}" data-size-message="文件不能超过5MB"`, 'the limit for the page\'s own check');
  t.match(html, `<small class="err" id="att-row-${rowA}-certificate-err" role="alert" hidden></small>`, 'an empty message place');

  // Submitting that form (as a browser without JS would: token first, then the file) works.
  const { payload, contentType } = await multipart('c.png', SMALL, 'image/png', 'file', { csrf: token });
  const res = await app.app.inject({ method: 'POST', url: action, payload, headers: { 'content-type': contentType, cookie: cookieOf(agentA) } });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, back);
  t.equal((await listAttachments(app.ctx, a.userId, 'row', [rowA])).get(rowA)!.length, 3);

  // A refusal for this slot shows next to it, not for another slot.
  const refused = render(rowSlots(app.ctx, 'titles'), items, 'row', rowA, { kind: 'error', text: '文件不能超过5MB', slot: `att-row-${rowA}-certificate` });
  t.match(refused, `<div class="att-slot has-error" id="att-row-${rowA}-certificate">`);
  t.match(refused, `<small class="err" id="att-row-${rowA}-certificate-err" role="alert">文件不能超过5MB</small>`);
  t.match(refused, `aria-describedby="att-row-${rowA}-certificate-err att-row-${rowA}-certificate-rule" aria-invalid="true"`);
  const elsewhere = render(rowSlots(app.ctx, 'titles'), items, 'row', rowA, { kind: 'error', text: '文件不能超过5MB', slot: 'att-row-999-certificate' });
  t.notMatch(elsewhere, '文件不能超过5MB</small>');

  // The profile: empty slots say so; photo slot accepts images only.
  const prof = render(profileSlots(app.ctx), undefined, 'profile', a.userId);
  t.match(prof, '头像');
  t.match(prof, '身份证人像面');
  t.match(prof, '身份证国徽面');
  t.match(prof, '未上传');
  t.match(prof, 'accept=".jpg,.jpeg,.png"');
  // Registry slots without the upload extras still render with the default limits text.
  t.match(render([{ key: 'proof', label: '立项或结题证明' }], [], 'row', rowA), '支持 jpg、png、pdf，单个文件不超过5MB');
});

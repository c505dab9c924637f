import { listFiles, storedCounts } from '../helpers/files.js';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import t from 'tap';
import { makeApp, Agent, createApplicant, login, type TestApp } from '../helpers/app.js';
import { makePng } from '../helpers/world.js';
import { TYPE_MESSAGE } from '../../src/features/files/service.js';
import { checkImagePixels, MAX_IMAGE_PIXELS } from '../../src/domain/images.js';

const PORTRAIT = makePng(390, 567);

/** A multipart body built by hand, so filenames keep every byte (NUL, CR, LF) as sent. */
function rawMultipart(files: { field?: string; filename: string; type: string; data: Buffer }[], fields: [string, string][] = []) {
  const boundary = `----zcsec${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of fields) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field ?? 'file'}"; filename="${f.filename}"\r\nContent-Type: ${f.type}\r\n\r\n`, 'utf8'), f.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

const cookieOf = (a: Agent) => [...a.cookies].map(([k, v]) => `${k}=${v}`).join('; ');


const counts = (app: TestApp) => storedCounts(app, app.dir);

async function setup(overrides: Parameters<typeof makeApp>[0] = {}) {
  const app = await makeApp(overrides);
  const a = await createApplicant(app);
  const agent = new Agent(app);
  await login(agent, 'applicant', a.phone);
  const stamp = app.clock.now().toISOString();
  const row = await app.ctx.db.insertInto('section_rows').values({ user_id: a.userId, section: 'titles', position: 1, data: '{}', created_at: stamp, updated_at: stamp }).returning('id').executeTakeFirstOrThrow();
  return { app, a, agent, rowId: row.id };
}

async function upload(app: TestApp, agent: Agent, body: { payload: Buffer; contentType: string }, q: Record<string, string>) {
  await agent.get('/me');
  const qs = new URLSearchParams({ back: '/me', ...q, _csrf: agent.csrf() });
  return app.app.inject({ method: 'POST', url: `/me/attachments?${qs}`, payload: body.payload, headers: { 'content-type': body.contentType, cookie: cookieOf(agent) } });
}

async function flash(agent: Agent): Promise<string> {
  const page = await agent.get('/me');
  return /<p class="flash (?:ok|error)"[^>]*>([^<]*)<\/p>/.exec(page.body)?.[1] ?? '';
}

/** A PNG whose IHDR claims w×h; the IDAT holds one highly compressible row (a decompression bomb's header). */
function bombPng(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(w + 1))), chunk('IEND', Buffer.alloc(0)),
  ]);
}

t.test('hostile filenames: stored under the content hash, the name cleaned everywhere it is shown', async (t) => {
  const { app, a, agent, rowId } = await setup();
  t.teardown(() => app.close());
  const outside = path.resolve(app.ctx.config.uploadDir, '../../etc');
  const names: [string, string][] = [
    ['../../etc/passwd.png', 'passwd.png'],
    ['..\\..\\..\\windows\\win.ini.png', 'win.ini.png'],
    ['a\u0000b\u0001c\u001b[31m\u007f.png', 'abc[31m.png'],
    ['/abs/olute.png', 'olute.png'],
  ];
  for (const [i, [filename, shown]] of names.entries()) {
    const bytes = makePng(10 + i, 10);
    const res = await upload(app, agent, rawMultipart([{ filename, type: 'image/png', data: bytes }]), { owner: 'row', id: String(rowId), slot: 'certificate' });
    t.equal(res.statusCode, 303, `${JSON.stringify(filename)}: accepted`);
    t.equal(await flash(agent), '上传成功');
    const f = await app.ctx.db.selectFrom('files').selectAll().where('user_id', '=', a.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    t.equal(f.original_name, shown, `${JSON.stringify(filename)} stored as ${shown}`);
    t.notOk(/[\u0000-\u001f\u007f/\\]/.test(f.original_name), 'no control characters or separators');
    const blob = path.join(app.ctx.config.uploadDir, f.sha256.slice(0, 2), f.sha256);
    t.ok(fs.existsSync(blob), 'the blob lives at uploadDir/<aa>/<sha256>');
    // Download header: the cleaned name, no CR/LF/quote breaking out of it.
    const dl = await agent.get(`/me/files/${f.id}?download=1`);
    t.equal(dl.statusCode, 200);
    const cd = String(dl.headers['content-disposition']);
    t.notOk(/[\r\n\u0000]/.test(cd), 'Content-Disposition has no control characters');
    t.notOk(cd.includes('..'), 'Content-Disposition has no ..');
    const page = await agent.get(`/me/sections/titles/${rowId}/edit`);
    t.ok(page.body.includes(shown), 'the edit page shows the cleaned name');
    t.notOk(page.body.includes('../../etc') || page.body.includes('\u0000') || page.body.includes('\u001b'), 'and never the raw one');
  }
  // Nothing anywhere but the blob store.
  const stored = listFiles(app.dir).filter((p) => !p.startsWith(path.relative(app.dir, app.ctx.config.uploadDir)));
  t.same(stored.filter((p) => /passwd|win\.ini|olute/.test(p)), [], 'no file created under the given name');
  t.notOk(fs.existsSync(path.join(outside, 'passwd.png')), 'nothing written outside the upload dir');
  for (const p of listFiles(app.ctx.config.uploadDir)) t.match(p, /^[0-9a-f]{2}\/[0-9a-f]{64}$/, `blob name ${p}`);
});

t.test('a claimed content type is not trusted: text as image/png is refused, nothing stored', async (t) => {
  const { app, agent, rowId } = await setup();
  t.teardown(() => app.close());
  const before = await counts(app);
  for (const [filename, data] of [
    ['photo.png', Buffer.from('just text pretending to be a PNG\n')],
    ['x.png', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')],
    ['y.png', Buffer.from('<html><script>alert(1)</script></html>')],
    ['z.png', Buffer.from([0x89, 0x50, 0x4e, 0x47])], // a truncated signature
  ] as const) {
    const res = await upload(app, agent, rawMultipart([{ filename, type: 'image/png', data: Buffer.from(data) }]), { owner: 'row', id: String(rowId), slot: 'certificate' });
    t.equal(res.statusCode, 303);
    t.equal(await flash(agent), TYPE_MESSAGE, `${filename}: refused with the type message`);
    t.same(await counts(app), before, `${filename}: nothing stored`);
  }
  // The avatar too.
  const res = await upload(app, agent, rawMultipart([{ filename: 'me.png', type: 'image/png', data: Buffer.from('GIF89a not a png') }]), { owner: 'profile', slot: 'avatar' });
  t.equal(res.statusCode, 303);
  t.not(await flash(agent), '上传成功');
  t.same(await counts(app), before, 'avatar: nothing stored');
});

t.test('an oversized upload is refused and nothing is stored', async (t) => {
  const { app, agent, rowId } = await setup();
  t.teardown(() => app.close());
  const before = await counts(app);
  const big = Buffer.concat([PORTRAIT, Buffer.alloc(app.ctx.config.uploadMaxFileBytes + 1 - PORTRAIT.length, 0x20)]);
  const res = await upload(app, agent, rawMultipart([{ filename: 'big.png', type: 'image/png', data: big }]), { owner: 'row', id: String(rowId), slot: 'certificate' });
  t.equal(res.statusCode, 303);
  t.equal(await flash(agent), '文件不能超过5MB');
  t.same(await counts(app), before, 'nothing stored');
  // The photo limit is smaller.
  const photo = Buffer.concat([PORTRAIT, Buffer.alloc(app.ctx.config.uploadMaxPhotoBytes + 1 - PORTRAIT.length, 0x20)]);
  const p = await upload(app, agent, rawMultipart([{ filename: 'me.png', type: 'image/png', data: photo }]), { owner: 'profile', slot: 'avatar' });
  t.equal(p.statusCode, 303);
  t.match(await flash(agent), /不能超过500KB/);
  t.same(await counts(app), before, 'nothing stored');
  // A urlencoded body over the 1 MB body limit: 413, not a crash.
  await agent.get('/me/profile');
  const huge = await agent.post('/me/profile', { name: 'x'.repeat(1024 * 1024 + 10) });
  t.equal(huge.statusCode, 413);
});

t.test('many parts in one request: at most the first file is read, nothing else stored', async (t) => {
  // The files scope allows files: 1, fields: 10, parts: 12. busboy stops handing out parts past
  // those limits; req.file() takes the first file part and the rest is discarded unread into
  // memory. (Refusing the whole request instead needs readUpload to iterate req.parts() and
  // treat FilesLimitError/PartsLimitError as "too many parts": see the security report.)
  const { app, a, agent, rowId } = await setup();
  t.teardown(() => app.close());
  const before = await counts(app);
  const files = Array.from({ length: 50 }, (_, i) => ({ filename: `p${i}.png`, type: 'image/png', data: makePng(20 + i, 20) }));
  const res = await upload(app, agent, rawMultipart(files), { owner: 'row', id: String(rowId), slot: 'certificate' });
  t.equal(res.statusCode, 303, '50 file parts: handled, no crash');
  let after = await counts(app);
  t.equal(after.files, before.files + 1, 'one file row, not 50');
  t.equal(after.attachments, before.attachments + 1, 'one attachment');
  t.equal(after.blobs.length, before.blobs.length + 1, 'one blob');
  const f = await app.ctx.db.selectFrom('files').select(['original_name', 'width']).where('user_id', '=', a.userId).executeTakeFirstOrThrow();
  t.same(f, { original_name: 'p0.png', width: 20 }, 'the first part');
  // Forty text fields before the file: over the field limit, still at most one file.
  const fields = Array.from({ length: 40 }, (_, i) => [`f${i}`, 'x'.repeat(2000)] as [string, string]);
  const res2 = await upload(app, agent, rawMultipart([{ filename: 'ok.png', type: 'image/png', data: PORTRAIT }, { filename: 'two.png', type: 'image/png', data: makePng(5, 5) }], fields), { owner: 'row', id: String(rowId), slot: 'certificate' });
  t.equal(res2.statusCode, 303, '40 fields + 2 files: handled');
  after = await counts(app);
  t.ok(after.files <= before.files + 2, 'at most one more file');
  t.notOk(await app.ctx.db.selectFrom('files').select('id').where('original_name', '=', 'two.png').executeTakeFirst(), 'the second file part is never stored');
});

t.test('a decompression-bomb PNG (IHDR claims a huge canvas) is refused', async (t) => {
  const { app, agent, rowId } = await setup();
  t.teardown(() => app.close());
  const before = await counts(app);
  // Portrait ratio (33:48) so the photo rule alone would let it through: 618 megapixels.
  for (const [w, h] of [[30000, 30000], [20625, 30000], [8250, 12000]]) {
    const bomb = bombPng(w, h);
    t.ok(bomb.length < 100_000, `${w}×${h}: only ${bomb.length} bytes on the wire`);
    const res = await upload(app, agent, rawMultipart([{ filename: 'me.png', type: 'image/png', data: bomb }]), { owner: 'profile', slot: 'avatar' });
    t.equal(res.statusCode, 303);
    t.equal(await flash(agent), checkImagePixels(w!, h!), `avatar ${w}×${h}: refused`);
    const doc = await upload(app, agent, rawMultipart([{ filename: 'scan.png', type: 'image/png', data: bomb }]), { owner: 'row', id: String(rowId), slot: 'certificate' });
    t.equal(doc.statusCode, 303);
    t.equal(await flash(agent), checkImagePixels(w!, h!), `document ${w}×${h}: refused`);
    t.same(await counts(app), before, `${w}×${h}: nothing stored`);
  }
  t.equal(MAX_IMAGE_PIXELS, 40_000_000);
  t.match(checkImagePixels(20625, 30000), /^图片尺寸过大（当前为 20625×30000 像素）/);
  // A large but sane scan is still fine (6000×8000 = 48 MP is over; 5000×7000 = 35 MP is under).
  const ok = await upload(app, agent, rawMultipart([{ filename: 'scan.png', type: 'image/png', data: bombPng(5000, 7000) }]), { owner: 'row', id: String(rowId), slot: 'certificate' });
  t.equal(ok.statusCode, 303);
  t.equal(await flash(agent), '上传成功', '35 megapixels: accepted');
});

import { listFiles, storedCounts } from '../helpers/files.js';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import t from 'tap';
import { makeApp, Agent, createApplicant, login, type TestApp } from '../helpers/app.js';
import { makePng, pngChunk } from '../helpers/world.js';
import { TYPE_MESSAGE } from '../../src/features/files/service.js';
import { uploadFormLimits } from '../../src/features/files/routes.js';
import { checkImagePixels, sniff, MAX_IMAGE_PIXELS } from '../../src/domain/images.js';
import { FIELDS_MESSAGE, FIELD_SIZE_MESSAGE, FILES_MESSAGE, UNEXPECTED_FILE_MESSAGE } from '../../src/lib/multipart.js';
import { kunming } from '../helpers/world.js';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import jpeg from 'jpeg-js';

const PORTRAIT = makePng(390, 567);
const GPS = 'GPS-25.0420N-102.7100E';

/** A real JPEG with an APP1 Exif segment: Orientation and a GPS IFD whose map datum spells GPS. */
function gpsJpeg(w: number, h: number, orientation = 1): Buffer {
  const pixels = Buffer.alloc(w * h * 4, 0x80);
  const plain = Buffer.from(jpeg.encode({ data: pixels, width: w, height: h }, 85).data);
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const datum = Buffer.from(`${GPS}\0`, 'latin1');
  // TIFF: header (8) | IFD0 at 8: Orientation, GPSInfo → 38 (2 + 2*12 + 4 = 30) | GPS IFD at 38: MapDatum → 56 (18) | datum at 56
  const tiff = Buffer.concat([
    Buffer.from('MM\0*', 'latin1'), u32(8),
    u16(2), u16(0x0112), u16(3), u32(1), u16(orientation), u16(0), u16(0x8825), u16(4), u32(1), u32(38), u32(0),
    u16(1), u16(0x0012), u16(2), u32(datum.length), u32(56), u32(0),
    datum,
  ]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  return Buffer.concat([plain.subarray(0, 2), Buffer.from([0xff, 0xe1]), u16(body.length + 2), body, plain.subarray(2)]);
}

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

/** The body with the hidden `_csrf` field put first, as the upload forms send it. */
function withToken(body: { payload: Buffer; contentType: string }, token: string) {
  const boundary = /boundary=(.+)$/.exec(body.contentType)![1]!;
  const part = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n`);
  return { payload: Buffer.concat([part, body.payload]), contentType: body.contentType };
}

/** The page of the slot (where a refusal is said). */
const slotPage = (q: Record<string, string>) => (q.owner === 'profile' ? '/me/profile' : q.owner === 'row' ? `/me/sections/titles/${q.id}/edit` : '/me/attachments');

/** Where the last upload's answer leads (its message is read there). */
let lastLocation = '/me';

async function upload(app: TestApp, agent: Agent, body: { payload: Buffer; contentType: string }, q: Record<string, string>) {
  await agent.get('/me');
  const qs = new URLSearchParams({ back: slotPage(q), ...q });
  const sent = withToken(body, agent.csrf());
  const res = await app.app.inject({ method: 'POST', url: `/me/attachments?${qs}`, payload: sent.payload, headers: { 'content-type': sent.contentType, cookie: cookieOf(agent) } });
  lastLocation = String(res.headers.location ?? '/me');
  return res;
}

/** What the page after the last upload says: the top flash, or the message next to the slot. */
async function flash(agent: Agent): Promise<string> {
  const page = await agent.get(lastLocation.split('#')[0]!);
  return /<p class="flash (?:ok|error)"[^>]*>([^<]*)<\/p>/.exec(page.body)?.[1] ?? /<small class="err" id="att-[^"]+-err" role="alert">([^<]+)<\/small>/.exec(page.body)?.[1] ?? '';
}

/** A PNG whose IHDR claims w×h; the IDAT holds one highly compressible row (a decompression bomb's header). */
function bombPng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(w + 1))), pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

t.test('hostile filenames: stored under the content hash, the name cleaned everywhere it is shown', async (t) => {
  // The upload folder's layout is what is checked here (the database store has no paths).
  const { app, a, agent, rowId } = await setup({ blobStore: 'local' });
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

/** Everything uploads can leave behind: rows, blobs and any temp file anywhere in the data dir. */
async function traces(app: TestApp) {
  return { ...(await counts(app)), everything: listFiles(app.dir).filter((p) => !/\.db(-wal|-shm)?$|master\.key$/.test(p)) };
}

t.test('extra parts are refused, not ignored: nothing stored, no temp file left', async (t) => {
  const { app, agent, rowId } = await setup();
  t.teardown(() => app.close());
  const q = { owner: 'row', id: String(rowId), slot: 'certificate' };
  const before = await traces(app);

  // Each refusal: back to the page, the message next to the slot (no separate error page).
  const two = await upload(app, agent, rawMultipart([{ filename: 'a.png', type: 'image/png', data: PORTRAIT }, { filename: 'b.png', type: 'image/png', data: makePng(20, 20) }]), q);
  t.equal(two.statusCode, 303, 'two files in a one-file form');
  t.equal(two.headers.location, `/me/sections/titles/${rowId}/edit#att-row-${rowId}-certificate`);
  t.equal(await flash(agent), FILES_MESSAGE);
  t.same(await traces(app), before, 'two files: nothing stored');

  const fifty = await upload(app, agent, rawMultipart(Array.from({ length: 50 }, (_, i) => ({ filename: `p${i}.png`, type: 'image/png', data: makePng(20 + i, 20) }))), q);
  t.equal(fifty.statusCode, 303, '50 file parts');
  t.equal(await flash(agent), FILES_MESSAGE);
  t.same(await traces(app), before, '50 files: nothing stored');

  const fields = Array.from({ length: 50 }, (_, i) => [`f${i}`, 'x'] as [string, string]);
  const many = await upload(app, agent, rawMultipart([{ filename: 'ok.png', type: 'image/png', data: PORTRAIT }], fields), q);
  t.equal(many.statusCode, 303, '50 fields');
  t.equal(await flash(agent), FIELDS_MESSAGE);
  t.same(await traces(app), before, '50 fields: nothing stored');

  const long = await upload(app, agent, rawMultipart([{ filename: 'ok.png', type: 'image/png', data: PORTRAIT }], [['note', 'x'.repeat(5000)]]), q);
  t.equal(long.statusCode, 303, 'an oversized field');
  t.equal(await flash(agent), FIELD_SIZE_MESSAGE);
  t.same(await traces(app), before, 'oversized field: nothing stored');

  const other = await upload(app, agent, rawMultipart([{ field: 'avatar', filename: 'ok.png', type: 'image/png', data: PORTRAIT }]), q);
  t.equal(other.statusCode, 303, 'a file under another name');
  t.equal(await flash(agent), UNEXPECTED_FILE_MESSAGE);

  // The file after the refused part is never reached: the valid first file is not kept either.
  const after = await upload(app, agent, rawMultipart([{ filename: 'ok.png', type: 'image/png', data: PORTRAIT }, { field: 'x', filename: 'y.png', type: 'image/png', data: PORTRAIT }]), q);
  t.equal(after.statusCode, 303);
  t.same(await traces(app), before, 'a valid file followed by an extra one: nothing stored');
  t.equal(after.headers.connection, 'close', 'a body refused part-way is not drained: the connection closes');
});

t.test('a body over the request total: refused before reading (Content-Length) and while reading (chunked), said at the slot', async (t) => {
  const { app, agent, rowId } = await setup();
  t.teardown(() => app.close());
  const q = { owner: 'row', id: String(rowId), slot: 'certificate' };
  const before = await traces(app);
  const total = uploadFormLimits(app.ctx, 'doc').totalBytes;
  const body = rawMultipart([{ filename: 'huge.pdf', type: 'application/pdf', data: Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(2 * total, 0x20)]) }]);
  t.ok(body.payload.length > 2 * total);

  const declared = await upload(app, agent, body, q);
  t.equal(declared.statusCode, 303, 'Content-Length over the total');
  t.equal(declared.headers.connection, 'close');
  t.equal(await flash(agent), '文件不能超过5MB', 'said next to the slot');
  t.same(await traces(app), before, 'nothing stored');

  // Without a Content-Length (a stream): the bytes are counted as they arrive.
  await agent.get('/me');
  const qs = new URLSearchParams({ back: slotPage(q), ...q });
  const withTok = withToken(body, agent.csrf());
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= withTok.payload.length) return void this.push(null);
      const piece = withTok.payload.subarray(sent, sent + 256 * 1024);
      sent += piece.length;
      this.push(piece);
    },
  });
  const chunked = await app.app.inject({ method: 'POST', url: `/me/attachments?${qs}`, payload: stream, headers: { 'content-type': body.contentType, cookie: cookieOf(agent) } });
  t.equal(chunked.statusCode, 303, 'counted while streaming');
  lastLocation = String(chunked.headers.location);
  t.equal(await flash(agent), '文件不能超过5MB');
  t.ok(sent < withTok.payload.length, `stopped reading early (${sent} of ${withTok.payload.length} bytes)`);
  t.same(await traces(app), before, 'nothing stored, no temp file');
});

t.test('traversal filename on a JPEG: stored under a generated name, EXIF/GPS gone', async (t) => {
  const { app, a, agent, rowId } = await setup({ blobStore: 'local' });
  t.teardown(() => app.close());
  const data = gpsJpeg(64, 48);
  t.ok(data.includes(Buffer.from('Exif')) && data.includes(Buffer.from(GPS)), 'the upload carries EXIF with GPS');
  const res = await upload(app, agent, rawMultipart([{ filename: '../../etc/passwd.jpg', type: 'image/jpeg', data }]), { owner: 'row', id: String(rowId), slot: 'certificate' });
  t.equal(res.statusCode, 303);
  t.equal(await flash(agent), '上传成功');
  const f = await app.ctx.db.selectFrom('files').selectAll().where('user_id', '=', a.userId).executeTakeFirstOrThrow();
  t.equal(f.original_name, 'passwd.jpg');
  t.notOk(fs.existsSync(path.resolve(app.ctx.config.uploadDir, '../../etc/passwd.jpg')), 'nothing at the given path');
  t.same(listFiles(app.ctx.config.uploadDir), [`${f.sha256.slice(0, 2)}/${f.sha256}`], 'one blob under its hash, no temp file');
  const blob = fs.readFileSync(path.join(app.ctx.config.uploadDir, f.sha256.slice(0, 2), f.sha256));
  t.equal(createHash('sha256').update(blob).digest('hex'), f.sha256, 'the hash is of the stored (re-encoded) bytes');
  t.equal(f.size, blob.length);
  t.notOk(blob.includes(Buffer.from('Exif')) || blob.includes(Buffer.from(GPS)), 'no EXIF, no GPS in the stored file');
  const dl = await agent.get(`/me/files/${f.id}`);
  t.notOk(dl.rawPayload.includes(Buffer.from(GPS)), 'nor in what is served');
  t.same(sniff(blob), { mime: 'image/jpeg', ext: 'jpg', width: 64, height: 48 });
});

t.test('avatar from a phone: stored upright, so the portrait rule sees the real shape', async (t) => {
  const { app, a, agent } = await setup();
  t.teardown(() => app.close());
  // Stored landscape 567×390 with Orientation 6: a portrait photo as a phone writes it.
  const res = await upload(app, agent, rawMultipart([{ filename: 'me.jpg', type: 'image/jpeg', data: gpsJpeg(567, 390, 6) }]), { owner: 'profile', slot: 'avatar' });
  t.equal(res.statusCode, 303);
  t.equal(await flash(agent), '上传成功');
  const f = await app.ctx.db.selectFrom('files').selectAll().where('user_id', '=', a.userId).executeTakeFirstOrThrow();
  t.same([f.width, f.height], [390, 567], 'upright dimensions recorded');
  const blob = await app.ctx.blobs.read(f.sha256);
  t.same(sniff(blob), { mime: 'image/jpeg', ext: 'jpg', width: 390, height: 567 });
  t.notOk(blob.includes(Buffer.from(GPS)));
});

t.test('the other upload forms are strict too (单位签章, 推荐上报)', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  await kunming(app);
  const staff = new Agent(app);
  await login(staff, 'staff', 'unit_lina');
  const before = await traces(app);
  const post = async (url: string, body: { payload: Buffer; contentType: string }) => {
    await staff.get('/org/unit');
    const sent = withToken(body, staff.csrf());
    return app.app.inject({ method: 'POST', url, payload: sent.payload, headers: { 'content-type': sent.contentType, cookie: cookieOf(staff) } });
  };
  const two = await post('/org/unit/files/seal', rawMultipart([{ filename: 'a.png', type: 'image/png', data: PORTRAIT }, { filename: 'b.png', type: 'image/png', data: PORTRAIT }]));
  t.equal(two.statusCode, 413, '单位签章: two files');
  t.same(await traces(app), before, 'nothing stored');
  const thirdFile = await post('/org/recommend', rawMultipart([
    { field: 'pledge', filename: 'p.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.4\n%%EOF\n') },
    { field: 'pledge', filename: 'q.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.4\n%%EOF\n') },
  ]));
  t.equal(thirdFile.statusCode, 413, '推荐上报: the same file field twice');
  const stray = await post('/org/recommend', rawMultipart([{ field: 'extra', filename: 'x.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.4\n%%EOF\n') }]));
  t.equal(stray.statusCode, 400, '推荐上报: a file field the form does not have');
  t.same(await traces(app), before, 'nothing stored');
  // The unit's seal itself still uploads, re-encoded.
  const ok = await post('/org/unit/files/seal', rawMultipart([{ filename: 'seal.png', type: 'image/png', data: makePng(200, 200) }]));
  t.equal(ok.statusCode, 303);
  t.equal((await counts(app)).files, before.files + 1);
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
  t.equal(MAX_IMAGE_PIXELS, 25_000_000, 'default cap: 25 megapixels (IMAGE_MAX_MEGAPIXELS)');
  t.match(checkImagePixels(20625, 30000), /^图片尺寸过大（当前为 20625×30000 像素），请缩小到不超过 2500 万像素后重新上传$/);
  // A large but sane scan is still fine (4000×6000 = 24 MP; 5000×7000 = 35 MP is over):
  // decoded (the missing rows read as black) and stored re-encoded.
  const ok = await upload(app, agent, rawMultipart([{ filename: 'scan.png', type: 'image/png', data: bombPng(4000, 6000) }]), { owner: 'row', id: String(rowId), slot: 'certificate' });
  t.equal(ok.statusCode, 303);
  t.equal(await flash(agent), '上传成功', '24 megapixels: accepted');
  const f = await app.ctx.db.selectFrom('files').select(['width', 'height']).executeTakeFirstOrThrow();
  t.same(f, { width: 4000, height: 6000 });
});

t.test('field test #19: a complete 40-megapixel PNG of a few dozen KB is refused at once, before decoding', async (t) => {
  const { app, agent, rowId } = await setup();
  t.teardown(() => app.close());
  const before = await counts(app);
  // Every row present (a valid image, not a truncated bomb): 5000×8000 grey, deflated.
  const [w, h] = [5000, 8000];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // 8-bit grey
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(Buffer.alloc((w + 1) * h, 0), { level: 9 })), pngChunk('IEND', Buffer.alloc(0)),
  ]);
  t.ok(png.length < 120_000, `${png.length} bytes on the wire`);
  const started = Date.now();
  const res = await upload(app, agent, rawMultipart([{ filename: 'scan.png', type: 'image/png', data: png }]), { owner: 'row', id: String(rowId), slot: 'certificate' });
  const took = Date.now() - started;
  t.equal(res.statusCode, 303);
  t.equal(await flash(agent), '图片尺寸过大（当前为 5000×8000 像素），请缩小到不超过 2500 万像素后重新上传', 'the slot\'s message says why');
  t.ok(took < 3000, `answered in ${took} ms (re-encoding it took ~10 s of CPU)`);
  t.same(await counts(app), before, 'nothing stored');

  // The cap is configurable (IMAGE_MAX_MEGAPIXELS).
  const small = await setup({ imageMaxPixels: 1_000_000 });
  t.teardown(() => small.app.close());
  await upload(small.app, small.agent, rawMultipart([{ filename: 'scan.png', type: 'image/png', data: bombPng(1200, 1000) }]), { owner: 'row', id: String(small.rowId), slot: 'certificate' });
  t.equal(await flash(small.agent), '图片尺寸过大（当前为 1200×1000 像素），请缩小到不超过 100 万像素后重新上传');
});

t.test('re-encodes are bounded: with the pool full an upload answers 503 + Retry-After at once', async (t) => {
  const { app, agent, rowId } = await setup({ imageConcurrency: 1, imageQueueMax: 0 });
  t.teardown(() => app.close());
  const big = makePng(2500, 2500);
  await agent.get('/me');
  const token = agent.csrf();
  const send = () => {
    const body = withToken(rawMultipart([{ filename: 'scan.png', type: 'image/png', data: big }]), token);
    const qs = new URLSearchParams({ back: '/me', owner: 'row', id: String(rowId), slot: 'certificate' });
    return app.app.inject({ method: 'POST', url: `/me/attachments?${qs}`, payload: body.payload, headers: { 'content-type': body.contentType, cookie: agent.cookieHeader() } });
  };
  const results = await Promise.all([send(), send()]);
  const codes = results.map((r) => r.statusCode).sort();
  t.same(codes, [303, 503], 'one is re-encoded, the other is told to come back');
  const busy = results.find((r) => r.statusCode === 503)!;
  t.equal(busy.headers['retry-after'], '30');
  t.match(busy.body, '系统正在处理较多图片，请稍后重新上传');
  t.equal((await counts(app)).files, 1);
});

/**
 * The blob store's two backends (src/lib/blobs.ts): the upload folder and the database. The
 * whole suite also runs over both (SQLite half: folder; PostgreSQL half: database); here each is
 * exercised directly, on whichever database this run uses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import t from 'tap';
import { makeApp, createApplicant } from '../helpers/app.js';
import { makePng } from '../helpers/world.js';
import { LocalBlobStore, DbBlobStore, type BlobStore } from '../../src/lib/blobs.js';
import { storeFile, discardFile } from '../../src/features/files/service.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const kind of ['local', 'db'] as const) {
  t.test(`${kind} store: put, has, read, stream, remove; a put of the same bytes is a no-op`, async (t) => {
    const app = await makeApp({ blobStore: kind });
    t.teardown(() => app.close());
    const store: BlobStore = kind === 'db' ? new DbBlobStore(app.ctx.db) : new LocalBlobStore(path.join(app.dir, 'blobs'));
    const bytes = Buffer.from('张伟的职称证书扫描件');
    const id = sha(bytes);
    t.equal(await store.has(id), false);
    t.equal(await store.stream(id), null, 'missing: no stream');
    await t.rejects(store.read(id), /[0-9a-f]{64}/, 'missing: read refuses');
    await Promise.all([store.put(id, { buffer: bytes }), store.put(id, { buffer: bytes })]);
    t.equal(await store.has(id), true);
    t.same(await store.read(id), bytes);
    const chunks: Buffer[] = [];
    for await (const c of (await store.stream(id))!) chunks.push(Buffer.from(c));
    t.same(Buffer.concat(chunks), bytes, 'streamed');
    if (kind === 'local') {
      const leftovers = fs.readdirSync(path.join(app.dir, 'blobs', id.slice(0, 2))).filter((f) => f.startsWith('.tmp-'));
      t.same(leftovers, [], 'no temp files left');
    } else {
      t.equal(Number((await app.ctx.db.selectFrom('blobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n), 1, 'one row');
    }
    await store.remove(id);
    t.equal(await store.has(id), false, 'removed');
    await t.rejects(store.has('../etc/passwd'), /invalid sha256/, 'only shas name blobs');
  });

  t.test(`${kind} store through the app: an upload lands there, a discarded one is swept`, async (t) => {
    const app = await makeApp({ blobStore: kind });
    t.teardown(() => app.close());
    t.equal(app.ctx.blobs.kind, kind);
    const zhang = await createApplicant(app);
    const r = await storeFile(app.ctx, zhang.userId, { filename: '照片.png', buffer: makePng(330, 480, 7) }, 'doc');
    t.ok(r.ok);
    const row = await app.ctx.db.selectFrom('files').select('sha256').where('id', '=', (r as { fileId: number }).fileId).executeTakeFirstOrThrow();
    t.equal(await app.ctx.blobs.has(row.sha256), true, 'stored');
    const inDb = await app.ctx.db.selectFrom('blobs').select('sha256').where('sha256', '=', row.sha256).executeTakeFirst();
    const onDisk = fs.existsSync(path.join(app.ctx.config.uploadDir, row.sha256.slice(0, 2), row.sha256));
    t.same([!!inDb, onDisk], kind === 'db' ? [true, false] : [false, true], 'in the configured store only');
    await discardFile(app.ctx, zhang.userId, (r as { fileId: number }).fileId);
    t.equal(await app.ctx.blobs.has(row.sha256), false, 'swept once no file row uses it');
  });
}

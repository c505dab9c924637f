import fs from 'node:fs';
import path from 'node:path';
import type { TestApp } from './app.js';

/** Every file below `dir`, relative, sorted (the stored blobs). */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath ?? (e as any).path, e.name)));
  }
  return out.sort();
}

/**
 * What uploads left behind: files rows, attachments rows, and the blobs — files under `dir`
 * (BLOB_STORE=local), or rows of the blobs table named the same way ('ab/abcd…', BLOB_STORE=db).
 */
export async function storedCounts(app: TestApp, dir: string) {
  const f = await app.ctx.db.selectFrom('files').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const a = await app.ctx.db.selectFrom('attachments').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const blobs = app.ctx.blobs.kind === 'db'
    ? (await app.ctx.db.selectFrom('blobs').select('sha256').orderBy('sha256').execute()).map((b) => `${b.sha256.slice(0, 2)}/${b.sha256}`)
    : listFiles(dir);
  return { files: Number(f.n), attachments: Number(a.n), blobs };
}

/**
 * A multipart/form-data body with one file part, as a browser's upload form sends it: the
 * hidden `_csrf` field first when `o.csrf` is given (the upload forms put it first), then
 * `o.fields`, then the file.
 */
export async function multipart(filename: string, bytes: Buffer, type = 'application/octet-stream', field = 'file', o: { csrf?: string; fields?: [string, string][] } = {}) {
  const fd = new FormData();
  if (o.csrf !== undefined) fd.append('_csrf', o.csrf);
  for (const [k, v] of o.fields ?? []) fd.append(k, v);
  fd.append(field, new Blob([new Uint8Array(bytes)], { type }), filename);
  const r = new Response(fd);
  return { payload: Buffer.from(await r.arrayBuffer()), contentType: r.headers.get('content-type')! };
}

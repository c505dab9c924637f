import zlib from 'node:zlib';
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

/** The entries of a ZIP answer (stored or deflated), each checked against its CRC-32. */
export function unzip(buf: Buffer): { name: string; data: Buffer; flags: number; method: number }[] {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central header');
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const csize = buf.readUInt32LE(p + 20);
    const nlen = buf.readUInt16LE(p + 28);
    const xlen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    const off = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nlen).toString('utf8');
    if (buf.readUInt32LE(off) !== 0x04034b50) throw new Error('bad local header');
    const start = off + 30 + buf.readUInt16LE(off + 26) + buf.readUInt16LE(off + 28);
    const raw = buf.subarray(start, start + csize);
    const data = method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw);
    if ((zlib.crc32(data) >>> 0) !== crc) throw new Error(`crc mismatch: ${name}`);
    out.push({ name, data, flags, method });
    p += 46 + nlen + xlen + clen;
  }
  return out;
}

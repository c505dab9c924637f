// The backup archive's tar writer and reader: round trips in chunks, partial reads, and refusal
// of damaged or foreign archives.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { PassThrough } from 'node:stream';
import { TarWriter, readTar, header } from '../../../src/ops/tar.js';

async function archive(entries: [string, Buffer][]): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-tar-'));
  try {
    const out = new PassThrough();
    const parts: Buffer[] = [];
    out.on('data', (c: Buffer) => parts.push(c));
    const w = new TarWriter(out, new Date('2026-06-15T02:00:00Z'));
    for (const [name, data] of entries) {
      if (data.length > 1000) {
        const f = path.join(dir, 'f');
        fs.writeFileSync(f, data);
        const e = await w.addFile(name, f);
        t.equal(e.sha256, crypto.createHash('sha256').update(data).digest('hex'));
      } else {
        await w.addBuffer(name, data);
      }
    }
    await w.finish();
    return Buffer.concat(parts);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function* chunked(buf: Buffer, size: number) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function readAll(buf: Buffer, chunk = 777) {
  const out: [string, Buffer][] = [];
  for await (const e of readTar(chunked(buf, chunk))) {
    const parts: Buffer[] = [];
    for await (const c of e.data) parts.push(c);
    out.push([e.name, Buffer.concat(parts)]);
  }
  return out;
}

const entries: [string, Buffer][] = [
  ['zhicheng.db', crypto.randomBytes(70_000)],
  ['master.key', Buffer.from('a2V5\n')],
  ['empty', Buffer.alloc(0)],
  ['uploads/ab/exactly-512', crypto.randomBytes(512)],
  ['manifest.json', Buffer.from('{"format":"zhicheng-backup"}')],
];

t.test('round trip, whatever the chunk sizes of the input', async (t) => {
  const buf = await archive(entries);
  t.equal(buf.length % 512, 0);
  for (const size of [1, 511, 512, 4096, buf.length]) t.same(await readAll(buf, size), entries, `chunks of ${size}`);
});

t.test('entries left unread or half read are skipped correctly', async (t) => {
  const buf = await archive(entries);
  const names: string[] = [];
  for await (const e of readTar(chunked(buf, 1000))) {
    names.push(e.name);
    if (e.name === 'zhicheng.db') for await (const _ of e.data) break; // one chunk only
    if (e.name === 'manifest.json') {
      const parts: Buffer[] = [];
      for await (const c of e.data) parts.push(c);
      t.equal(Buffer.concat(parts).toString(), '{"format":"zhicheng-backup"}');
    }
  }
  t.same(names, entries.map(([n]) => n));
});

t.test('damaged, truncated and foreign archives are refused', async (t) => {
  const buf = await archive(entries);
  const badSum = Buffer.from(buf);
  badSum[10] ^= 1;
  await t.rejects(readAll(badSum), /checksum/);
  await t.rejects(readAll(buf.subarray(0, buf.length - 1024 - 512)), /truncated/);
  await t.rejects(readAll(buf.subarray(0, 700)), /truncated/);
  const link = header('evil', 0, new Date());
  link[156] = 0x32; // '2': a symlink
  link.write('        ', 148, 8, 'ascii');
  let sum = 0;
  for (const b of link) sum += b;
  link.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  await t.rejects(readAll(Buffer.concat([link, Buffer.alloc(1024)])), /not a plain file/);
  t.throws(() => header('../'.repeat(40), 0, new Date()), /unsupported entry name/);
  t.throws(() => header('名字', 0, new Date()), /unsupported entry name/);
});

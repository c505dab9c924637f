/**
 * A small streaming ustar writer and reader for backup archives (POSIX.1-1988 headers, plain
 * files only). Streaming both ways: a file's bytes go through in chunks, never whole in memory,
 * so a multi-gigabyte database copies in constant memory. Archives open with any `tar`.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';

const BLOCK = 512;
const ZERO = Buffer.alloc(BLOCK);

export class TarError extends Error {}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** Sizes ≥ 8 GiB do not fit 11 octal digits: GNU base-256 (high bit set), which tar reads. */
function writeSize(buf: Buffer, size: number) {
  if (size < 0o77777777777) {
    buf.write(octal(size, 12), 124, 12, 'ascii');
    return;
  }
  buf[124] = 0x80;
  let v = BigInt(size);
  for (let i = 135; i > 124; i--) {
    buf[i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function readSize(buf: Buffer): number {
  if (buf[124]! & 0x80) {
    let v = 0n;
    for (let i = 125; i < 136; i++) v = (v << 8n) | BigInt(buf[i]!);
    return Number(v);
  }
  return parseOctal(buf, 124, 12);
}

function parseOctal(buf: Buffer, off: number, len: number): number {
  const s = buf.toString('ascii', off, off + len).replace(/\0.*$/s, '').trim();
  if (!/^[0-7]*$/.test(s)) throw new TarError('archive header is damaged');
  return s ? parseInt(s, 8) : 0;
}

function checksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum;
}

export function header(name: string, size: number, mtime: Date, mode = 0o600): Buffer {
  if (!/^[\x21-\x7e]{1,100}$/.test(name)) throw new TarError(`unsupported entry name: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'ascii');
  h.write(octal(mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  writeSize(h, size);
  h.write(octal(Math.floor(mtime.getTime() / 1000), 12), 136, 12, 'ascii');
  h[156] = 0x30; // '0': regular file
  h.write('ustar\u000000', 257, 8, 'ascii');
  h.write(octal(checksum(h), 7) + ' ', 148, 8, 'ascii');
  return h;
}

async function put(out: Writable, chunk: Buffer) {
  if (!out.write(chunk)) await once(out, 'drain');
}

export interface WrittenEntry {
  name: string;
  size: number;
  sha256: string;
}

/** Writes entries to `out` (a file stream, or a gzip stream in front of one). */
export class TarWriter {
  constructor(private out: Writable, private mtime = new Date()) {}

  /** Adds a file from disk; its size must not change while it is read (our files are immutable). */
  async addFile(name: string, file: string, signal?: AbortSignal): Promise<WrittenEntry> {
    const fd = await fs.promises.open(file, 'r');
    try {
      const { size } = await fd.stat();
      await put(this.out, header(name, size, this.mtime));
      const hash = createHash('sha256');
      let seen = 0;
      for await (const chunk of fd.createReadStream({ autoClose: false, start: 0 }) as AsyncIterable<Buffer>) {
        signal?.throwIfAborted();
        seen += chunk.length;
        if (seen > size) break;
        hash.update(chunk);
        await put(this.out, chunk);
      }
      if (seen !== size) throw new TarError(`${name} changed size while it was archived`);
      await this.pad(size);
      return { name, size, sha256: hash.digest('hex') };
    } finally {
      await fd.close();
    }
  }

  async addBuffer(name: string, data: Buffer): Promise<WrittenEntry> {
    await put(this.out, header(name, data.length, this.mtime));
    await put(this.out, data);
    await this.pad(data.length);
    return { name, size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  }

  private async pad(size: number) {
    const rest = size % BLOCK;
    if (rest) await put(this.out, ZERO.subarray(0, BLOCK - rest));
  }

  /** The two zero blocks that end an archive, then ends the stream and waits for it to flush. */
  async finish(): Promise<void> {
    await put(this.out, Buffer.alloc(BLOCK * 2));
    const done = once(this.out, 'finish');
    this.out.end();
    await done;
  }
}

/** Exact-length reads over an async byte stream. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private it: AsyncIterator<Buffer>;
  private ended = false;
  constructor(input: AsyncIterable<Buffer>) {
    this.it = input[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    return true;
  }

  /** Exactly n bytes, or null at a clean end of input (nothing buffered). */
  async read(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (!(await this.fill())) {
        if (this.buf.length === 0) return null;
        throw new TarError('archive is truncated');
      }
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Up to `state.left` bytes as chunks; `state.left` counts down as they are handed out. */
  async *chunks(state: { left: number }): AsyncGenerator<Buffer> {
    while (state.left > 0) {
      if (this.buf.length === 0 && !(await this.fill())) throw new TarError('archive is truncated');
      const take = Math.min(state.left, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      state.left -= take;
      yield out;
    }
  }

  async skip(n: number) {
    const state = { left: n };
    for await (const _ of this.chunks(state)) void _;
  }
}

export interface TarEntry {
  name: string;
  size: number;
  /** The entry's bytes, in order; what is left unread is skipped when the next entry is asked for. */
  data: AsyncGenerator<Buffer>;
}

/** Reads plain-file entries; anything else (links, devices, pax headers) is refused. */
export async function* readTar(input: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(input);
  for (;;) {
    const h = await r.read(BLOCK);
    if (!h) throw new TarError('archive is truncated (no end marker)');
    if (h.equals(ZERO)) return;
    if (parseOctal(h, 148, 8) !== checksum(h)) throw new TarError('archive header checksum mismatch');
    const type = h[156];
    if (type !== 0x30 && type !== 0) throw new TarError('archive holds an entry that is not a plain file');
    const prefix = h.toString('utf8', 345, 500).replace(/\0.*$/s, '');
    const base = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const name = prefix ? `${prefix}/${base}` : base;
    const size = readSize(h);
    const state = { left: size };
    const data = r.chunks(state);
    yield { name, size, data };
    // Whatever the consumer did not read of this entry is skipped.
    await data.return(undefined);
    if (state.left) await r.skip(state.left);
    const rest = size % BLOCK;
    if (rest) await r.skip(BLOCK - rest);
  }
}

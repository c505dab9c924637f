/**
 * EXIF-free re-encoding of uploaded images (GB/T 22239: photos and scans must not carry GPS
 * or camera metadata into storage, nor whatever else a crafted file hides between its pixels).
 *
 * Every JPEG and PNG that is stored is decoded and written anew from its pixels only:
 * - JPEG (jpeg-js, quality 90): the EXIF Orientation is applied to the pixels first, so phone
 *   photos stay upright without the tag; the output has a JFIF header and nothing else.
 * - PNG (pngjs): pixels and alpha kept exactly (8 bits per channel); the output has only
 *   IHDR, IDAT and IEND, so tEXt/iTXt/zTXt/eXIf/tIME/iCCP/gAMA… are all gone. A grayscale or
 *   opaque image is written as grayscale / RGB so it does not grow for nothing.
 * The pixel cap (IMAGE_MAX_MEGAPIXELS, default MAX_IMAGE_PIXELS) is checked from the header
 * before anything is decoded: a decompression bomb is refused without ever being inflated.
 * PDFs are not touched here.
 *
 * reencodeImage() is synchronous and CPU-bound (a 12-megapixel JPEG takes seconds in pure JS);
 * servers call reencodeOffThread(), which runs it in a bounded pool of worker threads
 * (IMAGE_CONCURRENCY at once, IMAGE_QUEUE_MAX waiting, IMAGE_TIMEOUT_MS each, waiting
 * included): beyond that the answer is 'busy' at once, and a job over its time has its worker
 * terminated, so a burst of huge images cannot take every core for minutes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { checkImagePixels, sniff, MAX_IMAGE_PIXELS } from '../domain/images.js';

export const JPEG_QUALITY = 90;

export type ReencodeMime = 'image/jpeg' | 'image/png';

export type ReencodeResult =
  | { ok: true; buffer: Buffer; width: number; height: number }
  /**
   * 'too-large': over the pixel cap (not decoded); 'broken': not decodable as its type;
   * 'busy': the pool's queue is full, or the job ran out of time (try again later).
   */
  | { ok: false; reason: 'too-large' | 'broken' | 'busy'; message: string };

const BROKEN = '图片文件已损坏或无法识别，请重新导出后上传';
export const BUSY_MESSAGE = '系统正在处理较多图片，请稍后重新上传';
export const TIMEOUT_MESSAGE = '图片处理超时，请缩小图片后重新上传，或稍后再试';

// ---------------------------------------------------------------------------------------
// EXIF Orientation

function u16(buf: Uint8Array, i: number, le: boolean): number {
  return le ? buf[i]! | (buf[i + 1]! << 8) : (buf[i]! << 8) | buf[i + 1]!;
}

function u32(buf: Uint8Array, i: number, le: boolean): number {
  return le
    ? (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16)) + buf[i + 3]! * 0x1000000
    : buf[i]! * 0x1000000 + ((buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!);
}

/** The Orientation tag (1–8) of a TIFF structure (the body of an APP1 Exif segment); 1 when absent. */
function tiffOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const le = tiff[0] === 0x49 && tiff[1] === 0x49; // "II"
  if (!le && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 1; // nor "MM"
  if (u16(tiff, 2, le) !== 42) return 1;
  const ifd = u32(tiff, 4, le);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(tiff, ifd, le);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > tiff.length) return 1;
    if (u16(tiff, e, le) !== 0x0112) continue;
    // SHORT, count 1: the value sits in the first two bytes of the value field.
    if (u16(tiff, e + 2, le) !== 3) return 1;
    const v = u16(tiff, e + 8, le);
    return v >= 1 && v <= 8 ? v : 1;
  }
  return 1;
}

/**
 * The EXIF Orientation of a JPEG (1 = as stored, 6 = turn 90° clockwise to view, …), read from
 * its first APP1 "Exif" segment. Total: damaged input gives 1.
 */
export function jpegOrientation(buf: Uint8Array): number {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return 1;
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) return 1;
    while (i < buf.length && buf[i] === 0xff) i++;
    const marker = buf[i]!;
    i++;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    if (marker === 0xd9 || marker === 0xda || i + 2 > buf.length) return 1;
    const len = (buf[i]! << 8) | buf[i + 1]!;
    if (len < 2) return 1;
    const body = buf.subarray(i + 2, Math.min(buf.length, i + len));
    if (marker === 0xe1 && body.length >= 6 && body[0] === 0x45 && body[1] === 0x78 && body[2] === 0x69 && body[3] === 0x66 && body[4] === 0 && body[5] === 0) {
      return tiffOrientation(body.subarray(6));
    }
    i += len;
  }
  return 1;
}

/**
 * RGBA pixels turned upright for an EXIF orientation. 5–8 swap width and height. For each
 * output pixel (x, y) the source pixel is looked up (w, h: the stored size).
 */
export function orient(data: Uint8Array, w: number, h: number, orientation: number): { data: Uint8Array; width: number; height: number } {
  if (orientation < 2 || orientation > 8) return { data, width: w, height: h };
  const swap = orientation >= 5;
  const W = swap ? h : w;
  const H = swap ? w : h;
  const out = new Uint8Array(W * H * 4);
  // One 32-bit word per RGBA pixel (needs a 4-byte aligned view: copy when it is not).
  const src = data.byteOffset % 4 === 0 ? data : new Uint8Array(data);
  const src32 = new Uint32Array(src.buffer, src.byteOffset, w * h);
  const out32 = new Uint32Array(out.buffer);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break; // mirrored
        case 3: sx = w - 1 - x; sy = h - 1 - y; break; // 180°
        case 4: sx = x; sy = h - 1 - y; break; // flipped vertically
        case 5: sx = y; sy = x; break; // transposed
        case 6: sx = y; sy = h - 1 - x; break; // 90° clockwise
        case 7: sx = w - 1 - y; sy = h - 1 - x; break; // transversed
        default: sx = w - 1 - y; sy = x; break; // 8: 90° counter-clockwise
      }
      out32[y * W + x] = src32[sy * w + sx]!;
    }
  }
  return { data: out, width: W, height: H };
}

// ---------------------------------------------------------------------------------------
// Re-encoding

function reencodeJpeg(input: Buffer, width: number, height: number, maxPixels: number): ReencodeResult {
  // Second guard behind the header check: jpeg-js refuses frames over this by itself.
  const decoded = jpeg.decode(input, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: maxPixels / 1e6,
    maxMemoryUsageInMB: 1024,
  });
  if (decoded.width !== width || decoded.height !== height) return { ok: false, reason: 'broken', message: BROKEN };
  const up = orient(decoded.data, decoded.width, decoded.height, jpegOrientation(input));
  // Only pixels go in: no exifBuffer, no comments.
  const out = jpeg.encode({ data: up.data, width: up.width, height: up.height }, JPEG_QUALITY);
  return { ok: true, buffer: Buffer.from(out.data.buffer, out.data.byteOffset, out.data.length), width: up.width, height: up.height };
}

/**
 * The PNG up to and including its IEND chunk. Bytes after it (left by some tools, or a payload
 * appended on purpose) are not part of the image: they are dropped, not a reason to refuse.
 */
export function pngUntilIend(buf: Buffer): Buffer {
  let i = 8;
  while (i + 12 <= buf.length) {
    const len = buf.readUInt32BE(i);
    const end = i + 12 + len;
    if (end > buf.length) break;
    if (buf.toString('latin1', i + 4, i + 8) === 'IEND') return buf.subarray(0, end);
    i = end;
  }
  return buf;
}

function reencodePng(input: Buffer): ReencodeResult {
  // 16-bit channels are scaled to 8 bits (pngjs' default), palettes and tRNS become RGBA.
  const png = PNG.sync.read(pngUntilIend(input));
  const { width, height, data } = png;
  let alpha = false;
  let gray = true;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] !== 255) alpha = true;
    if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) gray = false;
    if (alpha && !gray) break;
  }
  const colorType = gray ? (alpha ? 4 : 0) : alpha ? 6 : 2;
  // A fresh object: nothing of the source (gamma, text) reaches the writer.
  const buffer = PNG.sync.write({ width, height, data } as PNG, { colorType, inputColorType: 6, inputHasAlpha: true, bitDepth: 8 });
  return { ok: true, buffer, width, height };
}

/**
 * Decodes a JPEG or PNG and encodes it again from its pixels only (see the module comment).
 * Checks the pixel cap from the header first. Never throws: undecodable input is 'broken'.
 */
export function reencodeImage(input: Buffer, mime: ReencodeMime, maxPixels = MAX_IMAGE_PIXELS): ReencodeResult {
  const type = sniff(input);
  if (!type || type.mime !== mime || type.width === undefined || type.height === undefined) return { ok: false, reason: 'broken', message: BROKEN };
  const huge = checkImagePixels(type.width, type.height, maxPixels);
  if (huge) return { ok: false, reason: 'too-large', message: huge };
  try {
    return mime === 'image/jpeg' ? reencodeJpeg(input, type.width, type.height, maxPixels) : reencodePng(input);
  } catch {
    return { ok: false, reason: 'broken', message: BROKEN };
  }
}

// ---------------------------------------------------------------------------------------
// Off the event loop: a bounded pool of worker threads

/** The pool's bounds (from the config: IMAGE_CONCURRENCY, IMAGE_QUEUE_MAX, IMAGE_TIMEOUT_MS, IMAGE_MAX_MEGAPIXELS). */
export interface ReencodeLimits {
  concurrency: number;
  queueMax: number;
  timeoutMs: number;
  maxPixels: number;
}

export const DEFAULT_REENCODE_LIMITS: ReencodeLimits = { concurrency: 1, queueMax: 6, timeoutMs: 30_000, maxPixels: MAX_IMAGE_PIXELS };

interface Job {
  input: Buffer;
  mime: ReencodeMime;
  maxPixels: number;
  resolve: (r: ReencodeResult) => void;
  timer: NodeJS.Timeout | null;
  done: boolean;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

const queue: Job[] = [];
const slots: Slot[] = [];
/** Set once a worker could not be started (e.g. inside a bundle without the worker file). */
let inThreadOnly = false;

/** The worker module next to this one, in the same language (.ts under tsx, .js when built). */
function workerFile(): string | null {
  // The single binary unpacks a bundled copy next to its other files (scripts/build-binary.mjs).
  const binaryRoot = (globalThis as { __ZHICHENG_ROOT__?: string }).__ZHICHENG_ROOT__;
  if (binaryRoot) {
    const file = path.join(binaryRoot, 'worker', 'reencode-worker.cjs');
    return fs.existsSync(file) ? file : null;
  }
  try {
    const self = fileURLToPath(import.meta.url);
    // Compiled (scripts/compile.mjs), this code is inside dist/cli.mjs and the worker is its neighbour.
    const file = /reencode\.(ts|js|mjs)$/.test(self) ? self.replace(/reencode\.(ts|js|mjs)$/, 'reencode-worker.$1') : path.join(path.dirname(self), 'reencode-worker.mjs');
    return file !== self && fs.existsSync(file) ? file : null;
  } catch {
    return null;
  }
}

function finish(job: Job, r: ReencodeResult): void {
  if (job.done) return;
  job.done = true;
  if (job.timer) clearTimeout(job.timer);
  job.resolve(r);
}

function startWorker(): Slot | null {
  if (inThreadOnly) return null;
  const file = workerFile();
  if (!file) {
    inThreadOnly = true;
    return null;
  }
  let w: Worker;
  try {
    // Under tsx (development, tests) the worker must register tsx itself: Node 20 does not
    // carry `--import tsx` loader hooks into worker threads.
    w = file.endsWith('.ts')
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); })`, { eval: true })
      : new Worker(file);
  } catch {
    inThreadOnly = true;
    return null;
  }
  const slot: Slot = { worker: w, job: null };
  w.unref();
  w.on('message', (r: ReencodeResult) => {
    const job = slot.job;
    slot.job = null;
    if (r.ok) r = { ...r, buffer: Buffer.from(r.buffer) };
    if (job) finish(job, r);
    next();
  });
  const fail = () => {
    // A crash (e.g. out of memory on a hostile file) or a termination fails the job in hand, not the server.
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    const job = slot.job;
    slot.job = null;
    if (job) finish(job, { ok: false, reason: 'broken', message: BROKEN });
    next();
  };
  w.on('error', fail);
  w.on('exit', fail);
  slots.push(slot);
  return slot;
}

function next(): void {
  while (queue.length > 0) {
    const job = queue[0]!;
    if (job.done) { queue.shift(); continue; }
    let slot = slots.find((s) => s.job === null);
    if (!slot && slots.length < poolSize) slot = startWorker() ?? undefined;
    if (!slot) {
      if (inThreadOnly) {
        queue.shift();
        finish(job, reencodeImage(job.input, job.mime, job.maxPixels));
        continue;
      }
      break;
    }
    queue.shift();
    slot.job = job;
    slot.worker.ref();
    slot.worker.postMessage({ input: job.input, mime: job.mime, maxPixels: job.maxPixels });
  }
  for (const s of slots) if (s.job === null) s.worker.unref();
}

/** Workers allowed at once: the largest concurrency asked for by a caller so far. */
let poolSize = 1;

/** Jobs running or waiting now (for tests and diagnostics). */
export function reencodeLoad(): { running: number; waiting: number; workers: number } {
  return { running: slots.filter((s) => s.job).length, waiting: queue.filter((j) => !j.done).length, workers: slots.length };
}

/**
 * reencodeImage in the worker pool (at most `concurrency` images decoded at once); in this
 * thread when no worker can be started. 'busy' at once when `queueMax` jobs already wait, or
 * when the job has not finished within `timeoutMs` (waiting included: its worker is then
 * terminated).
 */
export function reencodeOffThread(input: Buffer, mime: ReencodeMime, limits: Partial<ReencodeLimits> = {}): Promise<ReencodeResult> {
  const l = { ...DEFAULT_REENCODE_LIMITS, ...limits };
  poolSize = Math.max(poolSize, l.concurrency);
  return new Promise((resolve) => {
    const job: Job = { input, mime, maxPixels: l.maxPixels, resolve, timer: null, done: false };
    const idle = slots.some((s) => s.job === null) || slots.length < l.concurrency;
    const waiting = queue.filter((j) => !j.done).length;
    if (!idle && waiting >= l.queueMax) {
      finish(job, { ok: false, reason: 'busy', message: BUSY_MESSAGE });
      return;
    }
    job.timer = setTimeout(() => {
      if (job.done) return;
      const slot = slots.find((s) => s.job === job);
      finish(job, { ok: false, reason: 'busy', message: TIMEOUT_MESSAGE });
      if (slot) {
        slot.job = null;
        const i = slots.indexOf(slot);
        if (i >= 0) slots.splice(i, 1);
        void slot.worker.terminate();
      }
      next();
    }, l.timeoutMs);
    job.timer.unref();
    queue.push(job);
    next();
  });
}

/**
 * Strict multipart forms (uploads). @fastify/multipart does not apply Fastify's bodyLimit and,
 * used with req.file(), quietly ignores parts beyond its limits. Here every form declares what
 * it accepts and anything else refuses the whole request:
 * - each named file field at most once (any other file part: refused), each up to its limit;
 * - a small number of text fields, each up to `fieldBytes`;
 * - the whole body up to `totalBytes` (Content-Length checked before reading, and the bytes
 *   actually received counted, for chunked bodies);
 * - files are streamed to a temp file under the upload dir (generated name, never the client's)
 *   and hashed on the way, never held whole in memory. Temp files are removed before the
 *   response is sent (or when the client goes away), whatever happened: storeFile renames the
 *   ones it keeps.
 * An oversized file is not a refusal: it is reported per field (`tooLarge`) so the form can
 * say so next to the field, and nothing of it is kept.
 *
 * CSRF without a token in any URL: the app-wide check (src/app.ts) runs before a multipart body
 * is read. A multipart POST to a route declared with UPLOAD_ROUTE that carries no x-csrf-token
 * header (htmx sends one; a plain no-JS form cannot) is left to the reader here: the form's
 * FIRST part must be the hidden `_csrf` field, and it is verified before any further part is
 * read, so nothing of a forged request is stored. Anything else (no token, the token after the
 * file, a wrong token) answers the app's 403 page. Upload routes read the body through readForm
 * before they change anything.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A multipart upload route: its CSRF token may come as the form's first field (see above). */
    upload?: boolean;
  }
}

/** Route options of an upload route (multipart form, CSRF token as its first field). */
export const UPLOAD_ROUTE = { config: { upload: true } } as const;

const deferredCsrf = new WeakSet<FastifyRequest>();

/** True when the app-wide CSRF check leaves this request to readForm (its first multipart field). */
export function csrfDeferred(req: FastifyRequest): boolean {
  return deferredCsrf.has(req);
}

/** The same error the app-wide check raises: the app's 403 page (src/app.ts). */
function csrfError(): Error {
  return Object.assign(new Error('Invalid csrf token'), { code: 'FST_CSRF_INVALID_TOKEN', statusCode: 403 });
}

/** An uploaded file on disk, checked for nothing yet but its size. */
export interface TempUpload {
  /** The client's file name, as sent (clean it before showing or storing it). */
  filename: string;
  path: string;
  size: number;
  sha256: string;
}

export interface FormLimits {
  /** Accepted file fields and the largest file of each, in bytes. */
  files: Record<string, number>;
  /** Text fields allowed in one request. */
  fields: number;
  /** Longest text field value, bytes. */
  fieldBytes: number;
  /** The whole body, bytes (see requestBudget). */
  totalBytes: number;
}

export type FormRead =
  | { ok: true; fields: Record<string, string[]>; files: Record<string, TempUpload>; tooLarge: string[] }
  | { ok: false; status: 400 | 413; error: string };

export type ReadForm = (req: FastifyRequest, limits: FormLimits, messages?: { total?: string }) => Promise<FormRead>;

type VerifyCsrf = (req: FastifyRequest, token: string) => Promise<boolean>;

export const TOTAL_MESSAGE = '提交的内容过大，请检查文件大小后重新上传';
export const FILES_MESSAGE = '一次提交的文件过多，每项只能上传一个文件';
export const FIELDS_MESSAGE = '提交的表单项过多，请刷新页面后重新提交';
export const FIELD_SIZE_MESSAGE = '提交的内容过长，请刷新页面后重新提交';
export const UNEXPECTED_FILE_MESSAGE = '提交了不应上传的文件，请刷新页面后重新提交';
export const MALFORMED_MESSAGE = '上传的数据不完整，请重新上传';

/** Part headers and boundaries of one part, generously. */
const PART_OVERHEAD = 2048;

/**
 * A body budget for a form: every file field may send twice its limit or twice `floor`
 * (so a file somewhat too large, the usual mistake, is read to its end and gets its message
 * next to the field rather than a 413 page), plus the text fields, plus part overhead.
 */
export function requestBudget(files: Record<string, number>, fields: number, fieldBytes: number, floor = 0): number {
  const fileBytes = Object.values(files).reduce((s, n) => s + 2 * Math.max(n, floor), 0);
  const parts = Object.keys(files).length + fields;
  return fileBytes + fields * fieldBytes + parts * PART_OVERHEAD + 16 * 1024;
}

class Refusal extends Error {
  constructor(public status: 400 | 413, message: string) {
    super(message);
  }
}

class CsrfRefusal extends Error {}

const temps = new WeakMap<FastifyRequest, string[]>();
const cutShort = new WeakSet<FastifyRequest>();

async function removeTemps(req: FastifyRequest): Promise<void> {
  const list = temps.get(req);
  if (!list) return;
  temps.delete(req);
  await Promise.all(list.map((p) => fsp.rm(p, { force: true }).catch(() => {})));
}

/**
 * Registers @fastify/multipart in the caller's plugin scope (nowhere else accepts multipart)
 * and returns the strict reader for that scope's routes. `tmpDir` must be on the same file
 * system as the blob store so a kept upload is renamed, not copied.
 */
export async function registerUploads(app: FastifyInstance, opts: { tmpDir: string }): Promise<ReadForm> {
  // Plugin-wide ceilings; each form narrows them (readForm passes its own limits).
  await app.register(multipart, {
    limits: { files: 1, fields: 10, parts: 11, fieldSize: 1000, fieldNameSize: 100, headerPairs: 20 },
    throwFileSizeLimit: false,
  });

  // The app-wide CSRF check runs in preHandler, before a multipart body is read, and looks at
  // body._csrf or the x-csrf-token header. A no-JS multipart form to an upload route carries
  // the token as its first field instead (never in the URL): readForm checks it.
  app.addHook('onRequest', async (req) => {
    if (req.method !== 'POST' || req.headers['x-csrf-token'] || !req.routeOptions.config?.upload) return;
    if (!/^multipart\/form-data\b/i.test(String(req.headers['content-type'] ?? ''))) return;
    deferredCsrf.add(req);
  });
  // The plugin's own check, with the first field's token in the header it reads. It answers
  // through reply.send(error) or next(); a stand-in reply turns both into a boolean.
  const verify: VerifyCsrf = (req, token) =>
    new Promise((resolve) => {
      req.headers['x-csrf-token'] = token;
      // The secret may sit in a signed cookie (src/plugins/csrf.ts): the plugin reads it through
      // reply.unsignCookie, which the request offers as well.
      const stand = { send: () => resolve(false), unsignCookie: (v: string) => req.unsignCookie(v) } as unknown as FastifyReply;
      app.csrfProtection(req, stand, () => resolve(true));
    });

  app.addHook('onSend', async (req, reply) => {
    // A body left unread (refused part-way) must not be drained: close the connection instead.
    if (cutShort.has(req)) reply.header('Connection', 'close');
    // Before the response leaves: whoever sees it sees no temp file left behind.
    await removeTemps(req);
  });
  app.addHook('onRequest', async (req, reply) => {
    // A client that goes away before the response: onResponse does not run.
    reply.raw.once('close', () => void removeTemps(req));
  });

  return (req, limits, messages = {}) => readForm(req, limits, opts.tmpDir, messages.total ?? TOTAL_MESSAGE, verify);
}

async function readForm(req: FastifyRequest, limits: FormLimits, tmpDir: string, totalMessage: string, verify: VerifyCsrf): Promise<FormRead> {
  const fields: Record<string, string[]> = {};
  const files: Record<string, TempUpload> = {};
  const tooLarge: string[] = [];
  const mine: string[] = [];
  /** File fields already sent (each at most once, an empty file input included). */
  const seen = new Set<string>();
  const fileCount = Object.keys(limits.files).length;

  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.totalBytes) {
    cutShort.add(req);
    return { ok: false, status: 413, error: totalMessage };
  }

  const largest = Math.max(0, ...Object.values(limits.files));
  const it = req.parts({
    limits: {
      files: fileCount,
      fields: limits.fields,
      parts: fileCount + limits.fields,
      fieldSize: limits.fieldBytes,
      // One byte over the largest limit, so "exactly at the limit" passes and more is seen.
      fileSize: largest + 1,
    },
  });
  // The first next() starts piping the request into the parser (synchronously); counting the
  // same 'data' events from here on sees every body byte. Past the total the reading stops at
  // once, whatever is being awaited (busboy discards the rest of a truncated file without
  // telling anyone, so waiting for the next chunk or part would read the whole body).
  let received = 0;
  let stopped = false;
  let abort!: (err: Refusal) => void;
  const aborted = new Promise<never>((_, reject) => {
    abort = reject;
  });
  aborted.catch(() => {});
  const stop = () => {
    if (stopped) return;
    stopped = true;
    req.raw.off('data', onData);
    req.raw.unpipe();
    req.raw.pause();
    cutShort.add(req);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limits.totalBytes && !stopped) {
      stop();
      abort(new Refusal(413, totalMessage));
    }
  };
  /** `p`, unless the request is cut first; a later rejection of `p` is then ignored. */
  const race = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => {});
    return Promise.race([p, aborted]);
  };
  const first = it.next();
  req.raw.on('data', onData);
  let pending: ReturnType<typeof it.next> | null = first;
  /** The token still to be read from the first part (a no-JS form to an upload route). */
  let tokenDue = deferredCsrf.has(req);

  try {
    for (;;) {
      let step;
      try {
        step = await race(pending ?? it.next());
      } catch (err) {
        throw err instanceof Refusal ? err : parserRefusal(err);
      } finally {
        pending = null;
      }
      if (step.done) break;
      const part = step.value;
      if (tokenDue) {
        // Nothing is read past a first part that is not a valid `_csrf` field.
        const ok = part.type === 'field' && part.fieldname === '_csrf' && typeof part.value === 'string' && !part.valueTruncated && (await verify(req, part.value));
        if (!ok) throw new CsrfRefusal();
        tokenDue = false;
        continue;
      }
      if (part.type === 'field') {
        if (part.fieldnameTruncated || part.valueTruncated) throw new Refusal(413, FIELD_SIZE_MESSAGE);
        if (typeof part.value !== 'string') throw new Refusal(400, MALFORMED_MESSAGE);
        (fields[part.fieldname] ??= []).push(part.value);
        continue;
      }
      const limit = Object.hasOwn(limits.files, part.fieldname) ? limits.files[part.fieldname]! : undefined;
      if (limit === undefined) throw new Refusal(400, UNEXPECTED_FILE_MESSAGE);
      if (seen.has(part.fieldname)) throw new Refusal(413, FILES_MESSAGE);
      seen.add(part.fieldname);
      const saved = await saveTemp(part.file, limit, tmpDir, race, (p) => {
        mine.push(p);
        const list = temps.get(req) ?? [];
        list.push(p);
        temps.set(req, list);
      });
      if (saved === 'too-large') tooLarge.push(part.fieldname);
      // An empty file input of a browser form: a part with no name and no bytes.
      else if (saved.size === 0 && !part.filename) await fsp.rm(saved.path, { force: true });
      else files[part.fieldname] = { filename: part.filename ?? '', ...saved };
    }
    if (tokenDue) throw new CsrfRefusal(); // an empty form
    req.raw.off('data', onData);
    return { ok: true, fields, files, tooLarge };
  } catch (err) {
    stop();
    // Nothing of a refused request is kept.
    await Promise.all(mine.map((p) => fsp.rm(p, { force: true })));
    if (err instanceof CsrfRefusal) throw csrfError();
    if (!(err instanceof Refusal)) throw err;
    return { ok: false, status: err.status, error: err.message };
  }
}

/** busboy / @fastify/multipart errors: the client's fault, never a 500. */
function parserRefusal(err: unknown): Refusal {
  const code = (err as { code?: string }).code;
  if (code === 'FST_FILES_LIMIT') return new Refusal(413, FILES_MESSAGE);
  if (code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT') return new Refusal(413, FIELDS_MESSAGE);
  return new Refusal(400, MALFORMED_MESSAGE);
}

/**
 * Streams one file part into a new temp file (mode 0600), hashing it. 'too-large' when it
 * passes `limit` (the temp file is removed, the rest of the part is read and dropped, which
 * busboy bounds at limit + 1). Every wait goes through `race`, which throws the request's
 * Refusal when the body passes its total.
 */
async function saveTemp(
  file: AsyncIterable<Buffer> & { truncated?: boolean },
  limit: number,
  tmpDir: string,
  race: <T>(p: Promise<T>) => Promise<T>,
  track: (p: string) => void,
): Promise<{ path: string; size: number; sha256: string } | 'too-large'> {
  await fsp.mkdir(tmpDir, { recursive: true });
  const p = path.join(tmpDir, `up-${randomBytes(12).toString('hex')}`);
  const fh = await fsp.open(p, 'wx', 0o600);
  track(p);
  const hash = createHash('sha256');
  let size = 0;
  let closed = false;
  const drop = async () => {
    if (!closed) {
      closed = true;
      await fh.close();
    }
    await fsp.rm(p, { force: true });
  };
  try {
    const chunks = file[Symbol.asyncIterator]();
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = await race(chunks.next());
      } catch (err) {
        throw err instanceof Refusal ? err : parserRefusal(err);
      }
      if (r.done) break;
      size += r.value.length;
      if (size > limit) {
        if (!closed) await drop();
        continue;
      }
      hash.update(r.value);
      await fh.write(r.value);
    }
    if (size > limit || file.truncated) {
      await drop();
      return 'too-large';
    }
    await fh.sync();
    closed = true;
    await fh.close();
    return { path: p, size, sha256: hash.digest('hex') };
  } catch (err) {
    await drop().catch(() => {});
    throw err;
  }
}

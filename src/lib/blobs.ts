/**
 * Uploaded file bytes, content-addressed by sha256, behind one interface (BLOB_STORE):
 *
 * - `local` (default): `<UPLOAD_DIR>/<sha[0..2]>/<sha>`, written to a temp file, fsynced and
 *   renamed, so a crash never leaves half a file under a real name. UPLOAD_DIR may be a shared
 *   mount (NFS…) for several app machines: names are unique and writes atomic.
 * - `db`: the `blobs` table of the database itself (bytea on PostgreSQL, blob on SQLite), so a
 *   pg_dump (or the SQLite backup) holds everything.
 *
 * Rows in `files` say which blobs are in use; the store knows bytes only. A put of an existing
 * sha is a no-op (identical uploads share their bytes).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { DB } from '../db/index.js';

const SHA_RE = /^[0-9a-f]{64}$/;

/** Bytes to store: in memory, or a temp file (`move`: the store may take the file itself). */
export type BlobSource = { path: string; move?: boolean } | { buffer: Buffer };

/** Bytes made ready outside any transaction (written and flushed), to be committed inside one. */
export interface PreparedBlob {
  sha: string;
  /** A temp file beside the blob (local store). */
  tmp?: string;
  /** The bytes (database store). */
  buffer?: Buffer;
}

export interface BlobStore {
  readonly kind: 'local' | 'db';
  /** The same store, its database work done in `db` (a transaction of the caller's). */
  in(db: DB): BlobStore;
  /** Writes the bytes out (slow part, no lock needed). */
  prepare(sha: string, source: BlobSource): Promise<PreparedBlob>;
  /** Makes a prepared blob present under its sha; true when it was not there before. */
  commit(prepared: PreparedBlob): Promise<boolean>;
  /** Drops what prepare made when commit did not use it. */
  abandon(prepared: PreparedBlob): Promise<void>;
  /** prepare + commit. */
  put(sha: string, source: BlobSource): Promise<void>;
  has(sha: string): Promise<boolean>;
  read(sha: string): Promise<Buffer>;
  /** For downloads: a stream of the bytes (null when missing). */
  stream(sha: string): Promise<Readable | null>;
  remove(sha: string): Promise<void>;
}

export class BlobMissingError extends Error {}

function checkSha(sha: string) {
  if (!SHA_RE.test(sha)) throw new Error('invalid sha256');
}

export class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const;
  constructor(readonly dir: string) {}

  pathOf(sha: string): string {
    checkSha(sha);
    return path.join(this.dir, sha.slice(0, 2), sha);
  }

  async has(sha: string): Promise<boolean> {
    const p = this.pathOf(sha);
    try {
      await fsp.access(p, fs.constants.F_OK);
      return true;
    } catch {
      return false;
    }
  }

  in(): BlobStore {
    return this;
  }

  async prepare(sha: string, source: BlobSource): Promise<PreparedBlob> {
    const dir = path.dirname(this.pathOf(sha));
    await fsp.mkdir(dir, { recursive: true });
    // A streamed upload already sits in a temp file on this file system: it is renamed as is.
    if ('path' in source && source.move && path.dirname(path.dirname(source.path)) === this.dir) return { sha, tmp: source.path };
    const tmp = path.join(dir, `.tmp-${process.pid}-${randomBytes(8).toString('hex')}`);
    try {
      if ('buffer' in source) {
        const fh = await fsp.open(tmp, 'wx', 0o600);
        try {
          await fh.writeFile(source.buffer);
          await fh.sync();
        } finally {
          await fh.close();
        }
      } else {
        await fsp.copyFile(source.path, tmp);
        const fh = await fsp.open(tmp, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    return { sha, tmp };
  }

  async commit(prepared: PreparedBlob): Promise<boolean> {
    if (await this.has(prepared.sha)) return false;
    const final = this.pathOf(prepared.sha);
    await fsp.rename(prepared.tmp!, final);
    prepared.tmp = undefined;
    await syncDir(path.dirname(final));
    return true;
  }

  async abandon(prepared: PreparedBlob): Promise<void> {
    if (prepared.tmp) await fsp.rm(prepared.tmp, { force: true });
  }

  async put(sha: string, source: BlobSource): Promise<void> {
    if (await this.has(sha)) return;
    const prepared = await this.prepare(sha, source);
    try {
      await this.commit(prepared);
    } finally {
      await this.abandon(prepared);
    }
  }

  async read(sha: string): Promise<Buffer> {
    try {
      return await fsp.readFile(this.pathOf(sha));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobMissingError(sha);
      throw err;
    }
  }

  async stream(sha: string): Promise<Readable | null> {
    // Opened before it is handed out: a missing file is null here, not an error mid-response.
    return new Promise((resolve, reject) => {
      const s = fs.createReadStream(this.pathOf(sha));
      s.once('open', () => resolve(s));
      s.once('error', (err) => ((err as NodeJS.ErrnoException).code === 'ENOENT' ? resolve(null) : reject(err)));
    });
  }

  async remove(sha: string): Promise<void> {
    await fsp.rm(this.pathOf(sha), { force: true });
  }
}

/** Makes a rename durable (best effort: not every platform can fsync a directory). */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* ignore */
  }
}

export class DbBlobStore implements BlobStore {
  readonly kind = 'db' as const;
  constructor(private db: DB, private now: () => Date = () => new Date()) {}

  async has(sha: string): Promise<boolean> {
    checkSha(sha);
    return !!(await this.db.selectFrom('blobs').select('sha256').where('sha256', '=', sha).executeTakeFirst());
  }

  in(db: DB): BlobStore {
    return new DbBlobStore(db, this.now);
  }

  async prepare(sha: string, source: BlobSource): Promise<PreparedBlob> {
    checkSha(sha);
    return { sha, buffer: 'buffer' in source ? source.buffer : await fsp.readFile(source.path) };
  }

  async commit(prepared: PreparedBlob): Promise<boolean> {
    const data = prepared.buffer!;
    const r = await this.db
      .insertInto('blobs')
      .values({ sha256: prepared.sha, size: data.length, data, created_at: this.now().toISOString() })
      .onConflict((oc) => oc.column('sha256').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async abandon(): Promise<void> {}

  async put(sha: string, source: BlobSource): Promise<void> {
    await this.commit(await this.prepare(sha, source));
  }

  async read(sha: string): Promise<Buffer> {
    checkSha(sha);
    const row = await this.db.selectFrom('blobs').select('data').where('sha256', '=', sha).executeTakeFirst();
    if (!row) throw new BlobMissingError(sha);
    return Buffer.from(row.data);
  }

  async stream(sha: string): Promise<Readable | null> {
    try {
      return Readable.from([await this.read(sha)]);
    } catch (err) {
      if (err instanceof BlobMissingError) return null;
      throw err;
    }
  }

  async remove(sha: string): Promise<void> {
    checkSha(sha);
    await this.db.deleteFrom('blobs').where('sha256', '=', sha).execute();
  }
}

export function createBlobStore(config: { blobStore: 'local' | 'db'; uploadDir: string; now?: () => Date }, db: DB): BlobStore {
  return config.blobStore === 'db' ? new DbBlobStore(db, config.now) : new LocalBlobStore(config.uploadDir);
}

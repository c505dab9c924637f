/**
 * Backup and restore of one installation: the database, the master key and the uploaded files
 * in one tar archive (gzipped when the name ends in .gz/.tgz), with a manifest of every entry's
 * SHA-256 and size.
 *
 * - The database copy is `VACUUM INTO` on a read-only connection: one read transaction, so the
 *   copy is a consistent snapshot while the server keeps writing (WAL readers never block it).
 * - Uploads: exactly the blobs the snapshot's `files` rows name (content-addressed, immutable).
 * - The master key goes in: without it the encrypted ID numbers and phones are unreadable. An
 *   archive is therefore as sensitive as the data folder: mode 0600, keep it as safe.
 * - Restore extracts into a temp folder inside the data folder, checks everything (manifest
 *   hashes, integrity_check, foreign_key_check, a blob for every files row, the key opens the
 *   data), and only then swaps it in. What was there before is moved aside, never deleted.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { DB } from '../db/index.js';
import { startPeriodic } from '../lib/jobs.js';
import type { Database } from '../db/schema.js';
import { createSecrets } from '../lib/secrets.js';
import { verifyChain, type VerifyResult } from '../features/audit/service.js';
import { migrations } from '../../migrations/index.js';
import { APP_VERSION } from '../version.js';
import { TarWriter, readTar, type WrittenEntry } from './tar.js';

export const BACKUP_FORMAT = 'zhicheng-backup';
const FORMAT_VERSION = 1;
const DB_ENTRY = 'zhicheng.db';
const KEY_ENTRY = 'master.key';
const MANIFEST_ENTRY = 'manifest.json';
const SHA_RE = /^[0-9a-f]{64}$/;
const BLOB_ENTRY_RE = /^uploads\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

export class BackupError extends Error {
  override name = 'BackupError';
}

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  app: string;
  node: string;
  /** The newest migration applied in the copied database. */
  schema: string | null;
  createdAt: string;
  /** Every entry but the manifest itself. */
  entries: WrittenEntry[];
  /** Blobs a files row names that were not on disk when the backup ran (listed, not hidden). */
  missingFiles: string[];
}

export interface BackupResult {
  file: string;
  bytes: number;
  files: number;
  missingFiles: string[];
  ms: number;
}

const blobFile = (uploadDir: string, sha: string) => path.join(uploadDir, sha.slice(0, 2), sha);

/** The shas stored in the database's blobs table (BLOB_STORE=db); none before migration 0010. */
function blobShas(db: SqliteDatabase.Database): string[] {
  try {
    return db.prepare('SELECT sha256 FROM blobs').pluck().all() as string[];
  } catch {
    return [];
  }
}

/** The master key bytes: MASTER_KEY when set, else `<dataDir>/master.key`. */
function readKey(config: Config): Buffer {
  if (config.masterKey) return Buffer.from(config.masterKey, 'base64');
  const file = path.join(config.dataDir, 'master.key');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new BackupError(`找不到主密钥 ${file}（没有它备份无法使用）`);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new BackupError(`${file} 不是有效的主密钥`);
  return key;
}

function isGzipName(file: string) {
  return /\.(gz|tgz)$/i.test(file);
}

async function fsyncFile(file: string) {
  const fd = await fs.promises.open(file, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

async function fsyncDir(dir: string) {
  // Makes a rename durable; some platforms cannot open a directory for sync: best effort.
  try {
    await fsyncFile(dir);
  } catch {
    /* not supported here */
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.promises.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes one archive to `file` (refused if it exists). The archive appears atomically (temp
 * name in the same folder, then rename), mode 0600.
 */
export async function backup(config: Config, file: string, opts: { signal?: AbortSignal } = {}): Promise<BackupResult> {
  const started = Date.now();
  if (config.dbFile === ':memory:') throw new BackupError('内存数据库无法备份');
  if (!fs.existsSync(config.dbFile)) throw new BackupError(`数据库文件不存在：${config.dbFile}`);
  const target = path.resolve(file);
  if (await exists(target)) throw new BackupError(`备份文件已存在：${target}`);
  const key = readKey(config);
  await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  // Scratch space beside the archive: same file system for the final rename.
  const work = await fs.promises.mkdtemp(path.join(path.dirname(target), '.zhicheng-backup-'));
  try {
    const snapshot = path.join(work, DB_ENTRY);
    const src = new SqliteDatabase(config.dbFile, { readonly: true, fileMustExist: true });
    let shas: string[];
    let dbFiles = 0;
    let schema: string | null = null;
    try {
      src.pragma('busy_timeout = 5000');
      src.prepare('VACUUM INTO ?').run(snapshot);
    } finally {
      src.close();
    }
    const snap = new SqliteDatabase(snapshot, { readonly: true, fileMustExist: true });
    try {
      // Files whose bytes are in the database itself (BLOB_STORE=db) travel inside the copy.
      const inDb = new Set(blobShas(snap));
      const all = (snap.prepare('SELECT DISTINCT sha256 FROM files ORDER BY sha256').pluck().all() as string[]).filter((s) => SHA_RE.test(s));
      shas = all.filter((s) => !inDb.has(s));
      dbFiles = all.length - shas.length;
      try {
        schema = (snap.prepare('SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1').pluck().get() as string | undefined) ?? null;
      } catch {
        schema = null;
      }
    } finally {
      snap.close();
    }
    await fs.promises.chmod(snapshot, 0o600);

    const tmp = path.join(work, 'archive');
    const fileOut = fs.createWriteStream(tmp, { mode: 0o600, flags: 'wx' });
    let out: Writable = fileOut;
    let piped: Promise<void> | null = null;
    if (isGzipName(target)) {
      const gz = zlib.createGzip({ level: 6 });
      piped = pipeline(gz, fileOut);
      out = gz;
    }
    const tar = new TarWriter(out, config.now());
    const entries: WrittenEntry[] = [];
    const missingFiles: string[] = [];
    try {
      entries.push(await tar.addFile(DB_ENTRY, snapshot, opts.signal));
      entries.push(await tar.addBuffer(KEY_ENTRY, Buffer.from(key.toString('base64') + '\n')));
      for (const sha of shas) {
        opts.signal?.throwIfAborted();
        try {
          entries.push(await tar.addFile(`uploads/${sha.slice(0, 2)}/${sha}`, blobFile(config.uploadDir, sha), opts.signal));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          missingFiles.push(sha);
        }
      }
      const manifest: Manifest = {
        format: BACKUP_FORMAT,
        formatVersion: FORMAT_VERSION,
        app: APP_VERSION,
        node: process.version,
        schema,
        createdAt: config.now().toISOString(),
        entries,
        missingFiles,
      };
      await tar.addBuffer(MANIFEST_ENTRY, Buffer.from(JSON.stringify(manifest, null, 1)));
      await tar.finish();
      if (piped) await piped;
    } catch (err) {
      out.destroy();
      fileOut.destroy();
      await piped?.catch(() => {});
      throw err;
    }
    await fsyncFile(tmp);
    await fs.promises.chmod(tmp, 0o600);
    // link() fails if the name appeared meanwhile: an existing archive is never replaced.
    try {
      await fs.promises.link(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || !['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code ?? '')) throw err;
      // File systems without hard links (FAT, some network shares): a plain rename.
      if (await exists(target)) throw new BackupError(`备份文件已存在：${target}`);
      await fs.promises.rename(tmp, target);
    }
    await fsyncDir(path.dirname(target));
    const bytes = (await fs.promises.stat(target)).size;
    return { file: target, bytes, files: shas.length - missingFiles.length + dbFiles, missingFiles, ms: Date.now() - started };
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Restore

export interface RestoreOptions {
  /** Replace a data folder that already holds data (it is moved aside, not deleted). */
  force?: boolean;
}

export interface RestoreReport {
  manifest: Manifest;
  /** 'ok' (restore refuses anything else). */
  integrity: string;
  files: number;
  /** Blobs the archive itself declared missing at backup time. */
  missingFiles: string[];
  audit: VerifyResult;
  /** Where the previous contents of the data folder went, or null when it was empty. */
  movedAside: string | null;
}

/** Does the data folder hold an installation (database, key or uploaded files)? */
export function hasData(config: Config): boolean {
  if (config.dbFile !== ':memory:' && fs.existsSync(config.dbFile)) return true;
  if (fs.existsSync(path.join(config.dataDir, 'master.key'))) return true;
  try {
    return fs.readdirSync(config.uploadDir).length > 0;
  } catch {
    return false;
  }
}

/**
 * A server still running on the database would keep writing into the file we replace.
 * Leaving WAL mode needs every other connection closed: refused (SQLITE_BUSY) while one is open.
 */
function assertNotInUse(dbFile: string) {
  if (!fs.existsSync(dbFile)) return;
  let db: SqliteDatabase.Database | null = null;
  try {
    db = new SqliteDatabase(dbFile, { fileMustExist: true });
    db.pragma('busy_timeout = 0');
    db.pragma('journal_mode = DELETE');
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new BackupError('数据库正被其他进程使用：请先停止服务，再恢复备份');
    }
    // A damaged or foreign file is what a restore replaces: carry on.
  } finally {
    db?.close();
  }
}

async function openArchive(file: string): Promise<AsyncIterable<Buffer>> {
  const fd = await fs.promises.open(file, 'r');
  const magic = Buffer.alloc(2);
  try {
    await fd.read(magic, 0, 2, 0);
  } finally {
    await fd.close();
  }
  const raw = fs.createReadStream(file);
  if (magic[0] === 0x1f && magic[1] === 0x8b) return raw.pipe(zlib.createGunzip());
  return raw;
}

function allowedEntry(name: string): boolean {
  return name === DB_ENTRY || name === KEY_ENTRY || name === MANIFEST_ENTRY || BLOB_ENTRY_RE.test(name);
}

async function extract(file: string, work: string): Promise<{ manifest: Manifest; got: Map<string, { size: number; sha256: string }> }> {
  const got = new Map<string, { size: number; sha256: string }>();
  let manifest: Manifest | null = null;
  try {
    for await (const e of readTar(await openArchive(file))) {
      if (!allowedEntry(e.name)) throw new BackupError(`备份文件包含不应有的条目：${e.name.slice(0, 120)}`);
      if (got.has(e.name) || (e.name === MANIFEST_ENTRY && manifest)) throw new BackupError(`备份文件中条目重复：${e.name}`);
      if (e.name === MANIFEST_ENTRY) {
        if (e.size > 256 * 1024 * 1024) throw new BackupError('备份清单过大');
        const parts: Buffer[] = [];
        for await (const c of e.data) parts.push(c);
        try {
          manifest = JSON.parse(Buffer.concat(parts).toString('utf8')) as Manifest;
        } catch {
          throw new BackupError('备份清单无法读取');
        }
        continue;
      }
      const dest = path.join(work, ...e.name.split('/'));
      await fs.promises.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
      const hash = crypto.createHash('sha256');
      let size = 0;
      await pipeline(
        (async function* () {
          for await (const c of e.data) {
            hash.update(c);
            size += c.length;
            yield c;
          }
        })(),
        fs.createWriteStream(dest, { mode: 0o600, flags: 'wx' }),
      );
      got.set(e.name, { size, sha256: hash.digest('hex') });
    }
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`备份文件损坏或不完整：${(err as Error).message}`);
  }
  if (!manifest || manifest.format !== BACKUP_FORMAT || !Array.isArray(manifest.entries)) throw new BackupError('不是本系统的备份文件（缺少备份清单）');
  if (manifest.formatVersion > FORMAT_VERSION) throw new BackupError('备份文件格式较新，请先升级程序');
  return { manifest, got };
}

function checkAgainstManifest(manifest: Manifest, got: Map<string, { size: number; sha256: string }>) {
  const listed = new Map(manifest.entries.map((e) => [e.name, e]));
  for (const [name, e] of listed) {
    const g = got.get(name);
    if (!g) throw new BackupError(`备份文件不完整：缺少 ${name}`);
    if (g.size !== e.size || g.sha256 !== e.sha256) throw new BackupError(`备份文件校验失败：${name} 与清单不符（文件已损坏或被篡改）`);
  }
  for (const name of got.keys()) {
    if (!listed.has(name)) throw new BackupError(`备份文件校验失败：${name} 不在清单中`);
  }
  for (const name of got.keys()) {
    const m = BLOB_ENTRY_RE.exec(name);
    if (m && (m[2]!.slice(0, 2) !== m[1] || got.get(name)!.sha256 !== m[2])) throw new BackupError(`备份文件校验失败：${name} 内容与名称不符`);
  }
  if (!got.has(DB_ENTRY)) throw new BackupError('备份文件中没有数据库');
  if (!got.has(KEY_ENTRY)) throw new BackupError('备份文件中没有主密钥 master.key');
}

/** Checks the extracted database and key; throws BackupError with the first problem. */
async function checkExtracted(work: string, manifest: Manifest, config: Config): Promise<{ integrity: string; files: number; missingFiles: string[]; audit: VerifyResult }> {
  const key = Buffer.from(fs.readFileSync(path.join(work, KEY_ENTRY), 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new BackupError('备份中的主密钥无效');
  if (config.masterKey && !Buffer.from(config.masterKey, 'base64').equals(key)) {
    throw new BackupError('环境变量 MASTER_KEY 与备份中的主密钥不同：恢复后数据将无法解密。请去掉或改正 MASTER_KEY 后再恢复');
  }
  const raw = new SqliteDatabase(path.join(work, DB_ENTRY), { readonly: true, fileMustExist: true });
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
  try {
    const integrity = (raw.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
    if (integrity.length !== 1 || integrity[0] !== 'ok') throw new BackupError(`数据库完整性检查未通过：${integrity.slice(0, 3).join('；')}`);
    const fk = raw.pragma('foreign_key_check') as { table: string }[];
    if (fk.length) throw new BackupError(`数据库外键检查未通过：${fk.length} 处（表 ${[...new Set(fk.map((r) => r.table))].slice(0, 5).join('、')}）`);
    const applied = raw.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all() as string[];
    const unknown = applied.filter((n) => !(n in migrations));
    if (unknown.length) throw new BackupError(`备份来自较新版本的程序（迁移 ${unknown[0]}），请先升级程序再恢复`);
    const inDb = new Set(blobShas(raw));
    const all = raw.prepare('SELECT DISTINCT sha256 FROM files').pluck().all() as string[];
    const shas = all.filter((s) => !inDb.has(s));
    const declared = new Set(Array.isArray(manifest.missingFiles) ? manifest.missingFiles : []);
    const missingFiles: string[] = [];
    for (const sha of shas) {
      if (SHA_RE.test(sha) && fs.existsSync(blobFile(path.join(work, 'uploads'), sha))) continue;
      if (declared.has(sha)) missingFiles.push(sha);
      else throw new BackupError(`附件文件缺失：数据库登记的文件 ${sha.slice(0, 12)}… 不在备份中`);
    }
    // The key must open the data it came with (a sample of the encrypted columns).
    const secrets = createSecrets(key);
    const sample = raw.prepare('SELECT id_enc, phone_enc FROM users WHERE id_enc IS NOT NULL OR phone_enc IS NOT NULL LIMIT 1').get() as { id_enc: string | null; phone_enc: string | null } | undefined;
    if (sample) {
      try {
        secrets.decrypt((sample.id_enc ?? sample.phone_enc)!);
      } catch {
        throw new BackupError('备份中的主密钥与数据库不匹配（无法解密个人信息）');
      }
    }
    const audit = await verifyChain(db, secrets.auditKey);
    return { integrity: 'ok', files: all.length - missingFiles.length, missingFiles, audit };
  } finally {
    await db.destroy();
    if (raw.open) raw.close();
  }
}

async function move(from: string, to: string) {
  await fs.promises.mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
  try {
    await fs.promises.rename(from, to);
  } catch (err) {
    // DB_FILE may live on another file system than the data folder.
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await fs.promises.cp(from, to, { recursive: true, errorOnExist: true, force: false });
    await fs.promises.rm(from, { recursive: true, force: true });
  }
}

/**
 * Restores an archive into config's data folder. Refuses a folder that holds data unless
 * `force` (then the old contents are moved to `<dataDir>/pre-restore-<time>/`), and refuses
 * while a server has the database open.
 */
export async function restore(file: string, config: Config, opts: RestoreOptions = {}): Promise<RestoreReport> {
  if (config.dbFile === ':memory:') throw new BackupError('内存数据库无法恢复');
  if (!fs.existsSync(file)) throw new BackupError(`备份文件不存在：${file}`);
  if (hasData(config) && !opts.force) {
    throw new BackupError(`数据目录 ${config.dataDir} 中已有数据。恢复会替换它（原数据将移到 pre-restore-… 文件夹），确认请加 --force`);
  }
  assertNotInUse(config.dbFile);
  await fs.promises.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const work = await fs.promises.mkdtemp(path.join(config.dataDir, '.restore-'));
  try {
    const { manifest, got } = await extract(file, work);
    checkAgainstManifest(manifest, got);
    const checked = await checkExtracted(work, manifest, config).catch((err) => {
      throw err instanceof BackupError ? err : new BackupError(`备份中的数据库无法读取：${(err as Error).message}`);
    });

    // Swap: the current installation moves aside, the checked copy moves in.
    const keyFile = path.join(config.dataDir, 'master.key');
    const current = [config.dbFile, `${config.dbFile}-wal`, `${config.dbFile}-shm`, `${config.dbFile}-journal`, keyFile, config.uploadDir];
    const present: string[] = [];
    for (const p of current) if (await exists(p)) present.push(p);
    let aside: string | null = null;
    const moved: [string, string][] = [];
    const placed: string[] = [];
    try {
      if (present.length) {
        aside = path.join(config.dataDir, `pre-restore-${config.now().toISOString().replace(/[:.]/g, '-')}`);
        await fs.promises.mkdir(aside, { mode: 0o700 });
        for (const p of present) {
          const to = path.join(aside, path.basename(p));
          await move(p, to);
          moved.push([p, to]);
        }
      }
      await move(path.join(work, DB_ENTRY), config.dbFile);
      placed.push(config.dbFile);
      await move(path.join(work, KEY_ENTRY), keyFile);
      placed.push(keyFile);
      await fs.promises.chmod(keyFile, 0o600);
      const uploads = path.join(work, 'uploads');
      if (await exists(uploads)) await move(uploads, config.uploadDir);
      else await fs.promises.mkdir(config.uploadDir, { recursive: true });
      placed.push(config.uploadDir);
      await fsyncDir(path.dirname(config.dbFile));
      await fsyncDir(config.dataDir);
    } catch (err) {
      // Put the previous installation back as it was.
      for (const p of placed) await fs.promises.rm(p, { recursive: true, force: true }).catch(() => {});
      for (const [p, to] of moved.reverse()) await move(to, p).catch(() => {});
      if (aside) await fs.promises.rmdir(aside).catch(() => {});
      throw err;
    }
    return { manifest, ...checked, movedAside: aside };
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Daily schedule

interface Log {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const DAILY_RE = /^zhicheng-(\d{8})\.tar\.gz$/;

/** zhicheng-YYYYMMDD.tar.gz in the server's local time. */
export function dailyName(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `zhicheng-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}.tar.gz`;
}

/** Deletes the oldest daily archives beyond `keep`; other files in the folder are left alone. */
export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const daily = names.filter((n) => DAILY_RE.test(n)).sort();
  const old = daily.slice(0, Math.max(0, daily.length - keep));
  for (const n of old) await fs.promises.rm(path.join(dir, n), { force: true });
  return old;
}

/**
 * One scheduler tick: from BACKUP_HOUR (local time) on, makes today's archive unless it exists
 * (so it runs once a day, and catches up after a server that was down at that hour), then prunes.
 */
export async function runDailyBackup(config: Config, now = config.now(), signal?: AbortSignal): Promise<BackupResult | null> {
  if (now.getHours() < config.backupHour) return null;
  const file = path.join(config.backupDir, dailyName(now));
  if (fs.existsSync(file)) return null;
  await fs.promises.mkdir(config.backupDir, { recursive: true, mode: 0o700 });
  const r = await backup(config, file, { signal });
  await pruneBackups(config.backupDir, config.backupKeep);
  return r;
}

const TICK_MS = 10 * 60_000;

/**
 * Checks every 10 minutes (first a minute after start); errors are logged, never fatal. Every
 * process on the database asks; the job lease lets one at a time back up, and the day's file
 * makes it once a day.
 */
export function startBackupScheduler(config: Config, log: Log, db: DB): () => Promise<void> {
  const abort = new AbortController();
  const stop = startPeriodic(log as FastifyBaseLogger, 'daily backup', TICK_MS, async () => {
    let r: BackupResult | null;
    try {
      r = await runDailyBackup(config, config.now(), abort.signal);
    } catch (err) {
      if (abort.signal.aborted) return 0; // the server is stopping
      throw err;
    }
    if (r) log.info({ file: r.file, bytes: r.bytes, files: r.files, missingFiles: r.missingFiles.length, ms: r.ms }, 'daily backup written');
    return 0;
  }, { db, now: config.now, firstDelayMs: 60_000 });
  return async () => {
    abort.abort();
    await stop();
  };
}

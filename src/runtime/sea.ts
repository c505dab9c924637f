/**
 * Runtime support for the single binary (Node SEA, built by scripts/build-binary.mjs).
 *
 * The app reads views/, public/, fixtures/ and fonts/ from disk relative to ROOT, and native
 * addons cannot be loaded from inside the executable. So at start the binary unpacks its
 * embedded files once into a cache folder named by their content hash (a later start finds it
 * and skips the work), and loads the addons from there with process.dlopen.
 *
 * Nothing here runs under `npm start` or the tests: only src/binary.ts calls prepareSea().
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import * as nodeSea from 'node:sea';

/** What the build script embeds as the asset `manifest.json`. */
export interface SeaManifest {
  version: string;
  /** sha256 over every embedded file (paths and contents), hex. */
  hash: string;
  /** Files to unpack: asset key `app/<path>` → `<dir>/<path>`. */
  files: { path: string; size: number }[];
  /** Native addons: asset key `native/<name>.node`, checked against sha256 before loading. */
  natives: Record<string, { sha256: string; size: number }>;
}

let prepared: { root: string; manifest: SeaManifest } | undefined;
const addons = new Map<string, unknown>();

/** An embedded file's bytes without a copy (getRawAsset hands out the executable's own memory). */
function asset(key: string): Uint8Array {
  return new Uint8Array(nodeSea.getRawAsset(key) as ArrayBuffer);
}

/** A start-up problem the operator can fix: printed as a message, not a stack trace. */
class SeaError extends Error {}

/**
 * The cache folder: ZHICHENG_CACHE_DIR, else $XDG_CACHE_HOME/zhicheng (~/.cache/zhicheng),
 * else <tmp>/zhicheng-<uid>. It holds code we execute (the addons), so it must be ours and
 * not writable by others; on a noexec mount dlopen fails and the error names the variable.
 */
export function cacheBase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ZHICHENG_CACHE_DIR) return path.resolve(env.ZHICHENG_CACHE_DIR);
  const home = env.HOME || os.homedir();
  const xdg = env.XDG_CACHE_HOME || (home && home !== '/' ? path.join(home, '.cache') : '');
  if (xdg) return path.join(xdg, 'zhicheng');
  return path.join(os.tmpdir(), `zhicheng-${process.getuid?.() ?? 'user'}`);
}

function ensureOwnDir(dir: string) {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new SeaError(`无法创建缓存目录 ${dir}（${(err as Error).message}）。请用 ZHICHENG_CACHE_DIR 指定一个可写目录。`);
  }
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  // Someone else's folder (e.g. planted under a shared /tmp) could hold a rogue addon.
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) {
    throw new SeaError(`缓存目录 ${dir} 不属于当前用户或可被他人写入。请用 ZHICHENG_CACHE_DIR 指定一个本用户专用的目录。`);
  }
}

function sha256(buf: Uint8Array): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/** Writes every embedded file into a fresh folder, then renames it into place (atomic). */
function extract(manifest: SeaManifest, target: string) {
  const base = path.dirname(target);
  const tmp = fs.mkdtempSync(path.join(base, '.tmp-'));
  try {
    for (const f of manifest.files) {
      const dest = path.join(tmp, f.path);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, asset(`app/${f.path}`));
    }
    fs.mkdirSync(path.join(tmp, 'native'));
    for (const name of Object.keys(manifest.natives)) {
      fs.writeFileSync(path.join(tmp, 'native', `${name}.node`), asset(`native/${name}.node`), { mode: 0o700 });
    }
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest));
    try {
      fs.renameSync(tmp, target);
    } catch (err) {
      // Another process (a second start, a CLI command) unpacked the same content first: use theirs.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Unpacks the embedded files (once per content hash) and returns the folder that serves as the
 * app's ROOT. Call before any app module loads.
 */
export function prepareSea(env: NodeJS.ProcessEnv = process.env): { root: string; manifest: SeaManifest; extracted: boolean } {
  const manifest = JSON.parse(nodeSea.getAsset('manifest.json', 'utf8')) as SeaManifest;
  const base = cacheBase(env);
  ensureOwnDir(base);
  const root = path.join(base, `${manifest.version}-${manifest.hash.slice(0, 16)}`);
  let extracted = false;
  if (!fs.existsSync(path.join(root, 'manifest.json'))) {
    try {
      extract(manifest, root);
    } catch (err) {
      throw new SeaError(`无法把程序文件解压到 ${base}（${(err as Error).message}）。可用 ZHICHENG_CACHE_DIR 指定其他目录。`);
    }
    extracted = true;
  }
  prepared = { root, manifest };
  return { root, manifest, extracted };
}

/**
 * Loads an embedded native addon (`better_sqlite3`, `argon2`) from the unpacked folder. The
 * file is checked against the build's hash first: it is code, and the folder outlives us.
 */
export function loadAddon(name: string): unknown {
  const cached = addons.get(name);
  if (cached) return cached;
  if (!prepared) throw new Error(`native addon ${name} requested before prepareSea()`);
  const meta = prepared.manifest.natives[name];
  if (!meta) throw new Error(`native addon ${name} is not embedded in this binary`);
  const file = path.join(prepared.root, 'native', `${name}.node`);
  if (sha256(fs.readFileSync(file)) !== meta.sha256) {
    throw new SeaError(`${file} 与本程序内置的版本不一致（可能被改动）。删除目录 ${prepared.root} 后重新启动即可。`);
  }
  const mod = { exports: {} as unknown };
  try {
    process.dlopen(mod, file);
  } catch (err) {
    throw new SeaError(
      `无法加载 ${file}：${(err as Error).message}\n` +
        '若缓存目录所在分区以 noexec 挂载，请用 ZHICHENG_CACHE_DIR 指定其他目录；若提示 GLIBC 版本，请见 README「单文件程序」的系统要求。',
    );
  }
  addons.set(name, mod.exports);
  return mod.exports;
}

export { SeaError };

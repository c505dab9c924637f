// The command line: version, help, usage errors (exit 2), migrate on an empty folder,
// create-admin (one-time password, forced change at first login), audit-verify.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import SqliteDatabase from 'better-sqlite3';
import pkg from '../../package.json' with { type: 'json' };
import { main, parseArgs, configEnvNames, flagOf } from '../../src/cli.js';
import { makeApp, Agent, login } from '../helpers/app.js';
import { PROJECT } from '../helpers/child.js';

/** Runs main in-process with captured output; flags only, the process environment is not used. */
async function run(argv: string[], env: NodeJS.ProcessEnv = { NODE_ENV: 'test' }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function tempDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-cli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('--version and -v print the app and Node versions', async (t) => {
  for (const flag of ['--version', '-v']) {
    const r = await run([flag]);
    t.equal(r.code, 0);
    t.match(r.out, `zhicheng ${pkg.version}`);
    t.match(r.out, `Node ${process.version}`);
  }
});

t.test('--help lists the commands in Chinese and English and a flag for every setting', async (t) => {
  const r = await run(['--help']);
  t.equal(r.code, 0);
  for (const s of ['serve', 'migrate', 'backup <file>', 'restore', '--force', 'create-admin', 'audit-verify', '启动服务', 'Start the server', '在线备份']) t.match(r.out, s);
  for (const env of ['PORT', 'DATA_DIR', 'PUBLIC_URL', 'BACKUP_DIR', 'BACKUP_HOUR', 'MAX_EVENT_LOOP_DELAY_MS', 'CHROMIUM_PATH']) {
    t.ok(configEnvNames().includes(env), `${env} is a setting`);
    t.match(r.out, flagOf(env), `${flagOf(env)} is listed`);
  }
  t.equal((await run(['-h'])).code, 0);
});

t.test('flags mirror the environment variables', async (t) => {
  const a = parseArgs(['--port', '4000', '--data-dir=/srv/zc', '--public-url', 'https://zc.example.cn', '--backup-keep', '30']);
  t.equal(a.command, 'serve', 'no command = serve');
  t.same(a.env, { PORT: '4000', DATA_DIR: '/srv/zc', PUBLIC_URL: 'https://zc.example.cn', BACKUP_KEEP: '30' });
  const b = parseArgs(['restore', 'x.tar.gz', '--force', '--data-dir', '/d']);
  t.same([b.command, b.positional, b.force, b.env], ['restore', ['x.tar.gz'], true, { DATA_DIR: '/d' }]);
});

t.test('wrong usage: message and help on stderr, exit 2', async (t) => {
  const cases: [string[], string][] = [
    [['--bogus'], '未知选项 unknown option: --bogus'],
    [['--data_dir', 'x'], '未知选项'],
    [['-x'], '未知选项'],
    [['frobnicate'], '未知命令 unknown command: frobnicate'],
    [['backup'], '需要一个备份文件路径'],
    [['restore', 'a.tar', 'b.tar'], '需要一个备份文件路径'],
    [['migrate', 'extra'], '多余的参数'],
    [['serve', '--force'], '--force 只用于 restore'],
    [['migrate', '--username', 'x'], '--username 只用于 create-admin'],
    [['--port'], '--port 需要一个值'],
  ];
  for (const [argv, message] of cases) {
    const r = await run(argv);
    t.equal(r.code, 2, argv.join(' '));
    t.match(r.err, message);
    t.match(r.err, '用法 Usage', 'help follows the message');
  }
  const bad = await run(['migrate', '--port', 'abc']);
  t.equal(bad.code, 2);
  t.match(bad.err, '配置错误: PORT must be an integer');
});

t.test('run directly with node: exit codes reach the shell', async (t) => {
  const ok = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--version'], { cwd: PROJECT, encoding: 'utf8', timeout: 120_000 });
  t.equal(ok.status, 0);
  t.match(ok.stdout, `zhicheng ${pkg.version}`);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--no-such-flag'], { cwd: PROJECT, encoding: 'utf8', timeout: 120_000 });
  t.equal(bad.status, 2);
  t.match(bad.stderr, '未知选项');
});

t.test('npm start runs the compiled dist/cli.mjs (made at install), or the sources when it is missing or older', async (t) => {
  const compile = spawnSync(process.execPath, ['scripts/compile.mjs'], { cwd: PROJECT, encoding: 'utf8', timeout: 300_000 });
  t.equal(compile.status, 0, compile.stderr);
  t.ok(fs.existsSync(path.join(PROJECT, 'dist', 'cli.mjs')), 'dist/cli.mjs');
  const compiled = spawnSync(process.execPath, ['scripts/start.mjs', '--version'], { cwd: PROJECT, encoding: 'utf8', timeout: 120_000 });
  t.equal(compiled.status, 0, compiled.stderr);
  t.match(compiled.stdout, `zhicheng ${pkg.version}`);
  t.notMatch(compiled.stderr, '从源码启动', 'no fallback note: the compiled code ran');
  const bad = spawnSync(process.execPath, ['scripts/start.mjs', '--no-such-flag'], { cwd: PROJECT, encoding: 'utf8', timeout: 120_000 });
  t.equal(bad.status, 2, 'exit codes reach the shell');
  const source = spawnSync(process.execPath, ['scripts/start.mjs', '--version'], { cwd: PROJECT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ZHICHENG_FROM_SOURCE: '1' } });
  t.equal(source.status, 0, source.stderr);
  t.match(source.stdout, `zhicheng ${pkg.version}`);

  // The compiled image re-encoder runs in its own worker file next to dist/cli.mjs: a real PNG in, a PNG out.
  const probe = path.join(tempDir(t), 'probe.mjs');
  fs.writeFileSync(probe, `import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
const chunk = (type, data) => { const len = Buffer.alloc(4); len.writeUInt32BE(data.length); const td = Buffer.concat([Buffer.from(type), data]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([len, td, c]); };
const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(4, 0); ihdr.writeUInt32BE(4, 4); ihdr[8] = 8; ihdr[9] = 2;
const raw = Buffer.alloc(4 * (1 + 4 * 3), 0x80); for (let y = 0; y < 4; y++) raw[y * 13] = 0;
const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
const w = new Worker(${JSON.stringify(path.join(PROJECT, 'dist', 'reencode-worker.mjs'))});
w.on('message', (r) => { console.log(JSON.stringify({ ok: r.ok, width: r.width })); process.exit(0); });
w.on('error', (e) => { console.error(String(e)); process.exit(1); });
w.postMessage({ input: new Uint8Array(png), mime: 'image/png', maxPixels: 1e6 });
`);
  const worker = spawnSync(process.execPath, [probe], { cwd: PROJECT, encoding: 'utf8', timeout: 60_000 });
  t.equal(worker.status, 0, worker.stderr);
  t.match(worker.stdout, '{"ok":true,"width":4}', 'the worker re-encoded it');
});

t.test('migrate on an empty folder creates the database and loads the dictionaries; twice is a no-op', async (t) => {
  const dir = path.join(tempDir(t), 'data');
  const first = await run(['migrate', '--data-dir', dir]);
  t.equal(first.code, 0, first.err);
  t.match(first.out, '已执行迁移');
  t.match(first.out, '0001_foundation');
  t.match(first.out, '已载入字典');
  const raw = new SqliteDatabase(path.join(dir, 'zhicheng.db'), { readonly: true });
  t.ok((raw.prepare('SELECT count(*) FROM series').pluck().get() as number) > 0, 'dictionaries are in');
  t.ok((raw.prepare("SELECT count(*) FROM orgs WHERE kind = 'platform'").pluck().get() as number) === 1);
  raw.close();
  const again = await run(['migrate', '--data-dir', dir]);
  t.equal(again.code, 0);
  t.match(again.out, '数据库已是最新');
  t.notMatch(again.out, '已载入字典');
});

t.test('create-admin prints a one-time password; the login must change it; audit-verify passes then catches tampering', async (t) => {
  const dir = tempDir(t);
  const env = { NODE_ENV: 'test', DATA_DIR: dir };
  const r = await run(['create-admin', '--username', 'sys_lina', '--name', '李娜', '--role', 'admin'], env);
  t.equal(r.code, 0, r.err);
  const password = /初始密码 one-time password: (\S+)/.exec(r.out)?.[1];
  t.ok(password, 'password printed');
  t.match(r.out, '首次登录须修改密码');

  const sec = await run(['create-admin', '--username', 'sec_wang', '--name', '王芳', '--role', 'security'], env);
  t.equal(sec.code, 0, sec.err);
  const dup = await run(['create-admin', '--username', 'sys_lina', '--name', '李娜', '--role', 'audit'], env);
  t.equal(dup.code, 1);
  t.match(dup.err, '该用户名已被使用');
  const badRole = await run(['create-admin', '--username', 'zhang', '--name', '张伟', '--role', 'root'], env);
  t.equal(badRole.code, 2);
  t.match(badRole.err, '--role');
  const missing = await run(['create-admin', '--username', 'zhang'], env);
  t.equal(missing.code, 2);
  t.match(missing.err, '--name --role');

  const app = await makeApp({ dataDir: dir, dbFile: path.join(dir, 'zhicheng.db'), uploadDir: path.join(dir, 'uploads') });
  t.teardown(() => app.close());
  t.equal(app.setupLink, null, 'an admin exists: no first-start setup link');
  const users = await app.ctx.db.selectFrom('users').select(['username', 'roles', 'must_change_password']).orderBy('id').execute();
  t.same(users, [
    { username: 'sys_lina', roles: 'admin', must_change_password: 1 },
    { username: 'sec_wang', roles: 'security', must_change_password: 1 },
  ]);
  const a = new Agent(app);
  const res = await login(a, 'staff', 'sys_lina', password!);
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/account/password', 'the one-time password must be changed first');
  t.equal((await a.get('/admin')).headers.location, '/account/password');
  const wrong = await login(new Agent(app), 'staff', 'sys_lina', 'Wrong#2026pass');
  t.not(wrong.headers.location, '/account/password', 'only the printed password works');
  const created = await app.ctx.db.selectFrom('audit_log').select(['action', 'detail', 'username', 'name', 'role', 'ip']).where('action', '=', 'user_create').execute();
  t.equal(created.length, 2, 'both creations are audited');
  t.ok(created.every((r) => r.username === 'cli' && r.name === '命令行' && r.role === 'cli' && r.ip === null), 'actor: the command line');
  t.notMatch(JSON.stringify(created), password!, 'never the password');
  await app.close();

  const ok = await run(['audit-verify'], env);
  t.equal(ok.code, 0, ok.err);
  t.match(ok.out, '审计日志校验通过');
  const raw = new SqliteDatabase(path.join(dir, 'zhicheng.db'));
  raw.prepare("UPDATE audit_log SET detail = 'edited' WHERE id = (SELECT min(id) FROM audit_log)").run();
  raw.close();
  const bad = await run(['audit-verify'], env);
  t.equal(bad.code, 1);
  t.match(bad.err, '内容被修改');
  const none = await run(['audit-verify', '--data-dir', path.join(dir, 'nothing-here')], env);
  t.equal(none.code, 2, 'no database: an error, and nothing is created');
  t.notOk(fs.existsSync(path.join(dir, 'nothing-here')));
});

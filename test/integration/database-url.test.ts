/**
 * A wrong DATABASE_URL stops `serve` with a clear message naming what failed — never a stack
 * trace (issue #12). The real CLI is started as a child process for each case:
 *   - a port where nothing listens (needs no server: runs on SQLite-only machines too), also
 *     with `--workers 2` (the cluster primary checks the database before forking);
 *   - a host name that does not resolve (`.invalid` never does: needs no server either);
 *   - a database that does not exist, a role that does not exist (the test server trusts local
 *     connections, so a wrong password cannot be shown; an unknown role is refused the same way,
 *     28000) — these need the PostgreSQL of ZC_TEST_PG;
 *   - `migrate` and `migrate-to-postgres` with an unreachable target say the same sentence.
 * Each: exit code 1, stderr names the host and port / the database / the user, no "    at " line.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { onPostgres, dbUrl } from '../helpers/pg.js';
import { PROJECT } from '../helpers/child.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-dburl-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI to its end (a server that did start is killed after 60 s and fails the test). */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: PROJECT,
      env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dir, BACKUP_ENABLED: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const STACK = /^\s+at /m;

async function refused(t: Test, args: string[], url: string, names: (string | RegExp)[], what: string) {
  const r = await cli(args, { DATABASE_URL: url });
  t.equal(r.code, 1, `${what}: exit 1 (stdout: ${r.out.slice(-300)})`);
  for (const n of names) t.match(r.err, n, `${what}: names ${n}`);
  t.notMatch(r.err, STACK, `${what}: no stack trace`);
  t.notMatch(r.out, /已启动/, `${what}: never started`);
  return r;
}

t.test('nothing listens on the port: refused, naming host and port', async (t) => {
  const url = 'postgres://zhicheng:secret@127.0.0.1:1/zhicheng';
  const r = await refused(t, ['serve'], url, ['127.0.0.1:1', '无法连接数据库服务器', '启动失败'], 'serve');
  t.notMatch(r.err, 'secret', 'the password is never printed');
  await refused(t, ['serve', '--workers', '2'], url, ['127.0.0.1:1', '启动失败'], 'serve --workers 2');
  await refused(t, ['migrate'], url, ['127.0.0.1:1'], 'migrate');
});

t.test('a host name that does not resolve: named', async (t) => {
  // `.invalid` is reserved (RFC 2606): a resolver answers NXDOMAIN, a machine without DNS
  // EAI_AGAIN; either is the same sentence.
  await refused(t, ['serve'], 'postgres://zhicheng@db1.zhicheng.invalid:5432/zhicheng', ['db1.zhicheng.invalid', '无法解析数据库主机'], 'serve');
});

t.test('migrate-to-postgres to an unreachable server: the same sentence, no stack trace', async (t) => {
  // A SQLite site to move (the command checks the source before connecting).
  const made = await cli(['migrate'], { DATABASE_URL: '' });
  t.equal(made.code, 0, `a SQLite site made: ${made.err}`);
  fs.writeFileSync(path.join(dir, 'master.key'), Buffer.alloc(32, 7).toString('base64'));
  await refused(t, ['migrate-to-postgres', 'postgres://zhicheng@127.0.0.1:1/zhicheng'], '', ['127.0.0.1:1', '无法连接数据库服务器'], 'migrate-to-postgres');
});

const pgOnly = { skip: onPostgres ? false : 'needs the PostgreSQL of ZC_TEST_PG' };

t.test('a database that does not exist: named', pgOnly, async (t) => {
  const name = `zc_no_such_db_${process.pid}`;
  await refused(t, ['serve'], dbUrl(name), [name, '不存在', '启动失败'], 'serve');
});

t.test('a role that does not exist: named as an authentication failure', pgOnly, async (t) => {
  const u = new URL(dbUrl('postgres'));
  u.username = 'zc_no_such_role';
  u.password = 'wrong';
  const r = await refused(t, ['serve'], u.toString(), ['zc_no_such_role', '认证失败', `${u.hostname}:${u.port || 5432}`], 'serve');
  t.notMatch(r.err, 'wrong', 'the password is never printed');
});

t.test('backup and restore on a PostgreSQL site say what to use instead (pg_dump / pg_restore), touching nothing', async (t) => {
  // Decided before any connection: an address where nothing listens is enough.
  for (const command of ['backup', 'restore']) {
    const r = await cli([command, path.join(dir, 'x.tar.gz')], { DATABASE_URL: 'postgres://zhicheng@127.0.0.1:1/zhicheng' });
    t.equal(r.code, 2, `${command}: exit 2`);
    t.match(r.err, 'pg_dump -Fc', `${command}: names pg_dump`);
    t.match(r.err, 'pg_restore --clean', `${command}: names pg_restore`);
    t.match(r.err, 'UPLOAD_DIR', `${command}: the uploads too`);
    t.notMatch(r.err, STACK, `${command}: no stack trace`);
    t.notOk(fs.existsSync(path.join(dir, 'x.tar.gz')), `${command}: no archive written`);
  }
});

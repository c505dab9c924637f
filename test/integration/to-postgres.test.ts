/**
 * `migrate-to-postgres` (src/ops/toPostgres.ts, the CLI subcommand in src/cli.ts): a real SQLite
 * site — 昆明市第一人民医院, 张伟 with a seeded archive, uploaded photo and scans, a submitted
 * declaration, audit rows — moved into fresh empty PostgreSQL databases twice: through the CLI
 * with the files left in UPLOAD_DIR (BLOB_STORE=local), and through migrateToPostgres with the
 * files copied into the database (BLOB_STORE=db; the upload folder is moved away before the
 * site opens, so the bytes can only come from PostgreSQL). Each target: every table's row count
 * equals the source's; an app on DATABASE_URL with the same DATA_DIR (master key) lets 张伟 sign
 * in and see his rows, his file downloads byte for byte, the audit chain verifies. Refused: a
 * target that is not empty (a moved site, or any table at all) with the clear message and
 * nothing written; a URL that is not postgres:// (this one runs without PostgreSQL too).
 */
import t, { type Test } from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { makeApp, Agent, login, TestClock, type TestApp } from '../helpers/app.js';
import { kunming, submittedDeclaration } from '../helpers/world.js';
import { onPostgres, TEST_PG_URL, dbUrl } from '../helpers/pg.js';
import { PROJECT } from '../helpers/child.js';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { listTables, openDatabase } from '../../src/db/index.js';
import { migrateToPostgres, MoveError } from '../../src/ops/toPostgres.js';
import { verifyChain } from '../../src/features/audit/service.js';

const STACK = /^\s+at /m;

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: PROJECT, env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

t.test('a target that is not postgres:// is refused', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-topg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir });
  await t.rejects(migrateToPostgres(config, 'mysql://root@127.0.0.1/zhicheng'), new MoveError('目标必须是 postgres:// 地址 the target must be a postgres:// URL'));
  const r = await cli(['migrate-to-postgres', 'sqlite:///srv/zhicheng.db'], { DATA_DIR: dir });
  t.equal(r.code, 1, 'exit 1');
  t.match(r.err, 'postgres://');
  t.notMatch(r.err, STACK, 'no stack trace');
});

const pgOnly = { skip: onPostgres ? false : 'needs the PostgreSQL of ZC_TEST_PG' };

t.test('a SQLite site moved into PostgreSQL: records, files and audit chain intact', pgOnly, async (t) => {
  const admin = async (q: string, url = TEST_PG_URL) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return await c.query(q);
    } finally {
      await c.end();
    }
  };
  const emptyDb = async () => {
    const name = `zc_topg_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
    await admin(`create database ${name}`);
    t.teardown(() => admin(`drop database if exists ${name} with (force)`));
    return dbUrl(name);
  };
  const counts = async (db: Kysely<any>) => {
    const out: Record<string, number> = {};
    for (const table of await listTables(db)) out[table] = Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db)).rows[0]!.n);
    return out;
  };
  const countsAt = async (url: string) => {
    const store = await openDatabase({ databaseUrl: url, dbFile: '', dbPoolMax: 1 });
    try {
      return await counts(store.db);
    } finally {
      await store.close();
    }
  };

  // The SQLite site.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-topg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dbFile = path.join(dir, 'zhicheng.db');
  const uploadDir = path.join(dir, 'uploads');
  const site = await makeApp({ dataDir: dir, dbFile, uploadDir, blobStore: 'local' });
  const w = await kunming(site);
  const { id: declId, user, agent } = await submittedDeclaration(site, w);
  const file = await site.ctx.db.selectFrom('files').select(['id', 'sha256']).where('user_id', '=', user.userId).orderBy('id').executeTakeFirstOrThrow();
  const bytes = (await agent.get(`/me/files/${file.id}`)).rawPayload;
  t.equal(crypto.createHash('sha256').update(bytes).digest('hex'), file.sha256, 'the file as uploaded');
  const summary = await site.ctx.db.selectFrom('section_rows').select('data').where('user_id', '=', user.userId).where('section', '=', 'summaries').executeTakeFirstOrThrow();
  const summaryText = String(JSON.parse(summary.data).content).slice(0, 12);
  const declStatus = (await site.ctx.db.selectFrom('declarations').select('status').where('id', '=', declId).executeTakeFirstOrThrow()).status;
  const source = await counts(site.ctx.db);
  t.ok(source.audit_log! > 0 && source.files! > 0 && source.declarations! > 0 && source.section_rows! > 0, 'the site has records, files and audit rows');
  const shas = new Set((await site.ctx.db.selectFrom('files').select('sha256').execute()).map((r) => r.sha256)).size;
  await site.close();

  const env = { DATA_DIR: dir, DB_FILE: dbFile, UPLOAD_DIR: uploadDir };
  const config = loadConfig({ NODE_ENV: 'test', ...env });

  /** The moved site, opened as an operator would: DATABASE_URL, the same data folder and key. */
  const check = async (t: Test, url: string, blobStore: 'local' | 'db') => {
    // The db store adds one blobs row per distinct file.
    t.same(await countsAt(url), blobStore === 'db' ? { ...source, blobs: shas } : source, 'every table: the same row count');
    const clock = new TestClock();
    const built = await buildApp(loadConfig({ NODE_ENV: 'test', ...env, DATABASE_URL: url, BLOB_STORE: blobStore }, { now: clock.now, rateLimit: false }));
    await built.app.ready();
    const app = { ...built, clock, dir, close: () => built.app.close() } as TestApp;
    try {
      t.equal(built.ctx.config.databaseUrl, url);
      const v = await verifyChain(built.ctx.db, built.ctx.secrets.auditKey);
      t.ok(v.ok, 'the audit chain verifies with the site key');
      t.equal(v.rows, source.audit_log);
      const zhang = new Agent(app);
      t.equal((await login(zhang, 'applicant', user.phone, user.password)).statusCode, 303, '张伟 signs in (phone blind index and password hash moved)');
      const me = await zhang.get('/me/sections/summaries');
      t.equal(me.statusCode, 200);
      t.match(me.body, summaryText, 'his 工作总结 is there');
      const decl = await built.ctx.db.selectFrom('declarations').select(['status', 'user_id']).where('id', '=', declId).executeTakeFirstOrThrow();
      t.same(decl, { status: declStatus, user_id: user.userId }, 'his declaration, same id and status');
      const dl = await zhang.get(`/me/files/${file.id}?download=1`);
      t.equal(dl.statusCode, 200);
      t.ok(dl.rawPayload.equals(bytes), `the file downloads byte for byte (${blobStore} store)`);
      // Ids continue after the copied ones (sequences moved past them).
      const next = await zhang.post('/me/sections/summaries', { year: '2020', content: '迁移后新增的工作总结' });
      t.equal(next.statusCode, 303, 'a new row is saved after the move');
    } finally {
      await app.close();
    }
  };

  await t.test('through the CLI, files left in UPLOAD_DIR', async (t) => {
    const url = await emptyDb();
    const r = await cli(['migrate-to-postgres', url], { ...env, BLOB_STORE: 'local' });
    t.equal(r.code, 0, `exit 0 ${r.err}`);
    t.match(r.out, '迁移完成');
    t.match(r.out, `审计日志校验通过（${source.audit_log} 条）`);
    t.match(r.out, 'BLOB_STORE=local');
    await check(t, url, 'local');

    // Again into the same (now full) database: refused, nothing written.
    const before = await countsAt(url);
    const again = await cli(['migrate-to-postgres', url], { ...env, BLOB_STORE: 'local' });
    t.equal(again.code, 1, 'a second move is refused');
    t.match(again.err, '不是空的');
    t.notMatch(again.err, STACK, 'no stack trace');
    t.same(await countsAt(url), before, 'nothing written');
  });

  await t.test('through migrateToPostgres, files copied into the database', async (t) => {
    const url = await emptyDb();
    const said: string[] = [];
    const r = await migrateToPostgres({ ...config, blobStore: 'db' }, url, (l) => said.push(l));
    t.equal(r.rows, Object.values(source).reduce((a, b) => a + b, 0), 'every row copied');
    t.same(r.audit, { ok: true, rows: source.audit_log });
    t.same(r.files, { copied: shas, missing: 0, store: 'db' }, 'every file into the blobs table');
    t.match(said.join('\n'), '附件已复制到数据库');
    // The files can only come from PostgreSQL now.
    fs.renameSync(uploadDir, `${uploadDir}.away`);
    try {
      await check(t, url, 'db');
    } finally {
      fs.renameSync(`${uploadDir}.away`, uploadDir);
    }
  });

  await t.test('a target with any table in it is refused, nothing written', async (t) => {
    const url = await emptyDb();
    await admin("create table notes (body text); insert into notes values ('李娜的备注')", url);
    await t.rejects(migrateToPostgres(config, url), { name: 'Error', message: /不是空的.*请使用新建的空数据库/ });
    const tables = await admin("select table_name from information_schema.tables where table_schema = 'public' order by 1", url);
    t.same(tables.rows.map((r) => r.table_name), ['notes'], 'no table created, no migration run');
  });
});

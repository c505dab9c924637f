// The local SMS transport's outbox keeps verification codes only for a while: rows older than
// 7 days are purged by an hourly job, a code is masked in its row once used, voided or expired
// (10 min), and /admin/sms shows it only while valid. Codes reach the log only in development.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { makeApp, Agent, createStaff, login, lastSmsCode, idNumber, type TestApp } from '../helpers/app.js';
import { issueCode, verifyCode, SMS_MAX_ATTEMPTS } from '../../src/features/sms/codes.js';
import { clearExpiredOutboxCodes, maskCodes, purgeSmsOutbox, startSmsOutboxPurge, OUTBOX_KEEP_DAYS } from '../../src/features/sms/outbox.js';
import { loadConfig } from '../../src/config.js';

const DAY = 86_400_000;

t.test('outbox rows older than 7 days are purged (TestClock); newer ones stay and still give their code', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const db = app.ctx.db;
  const count = async () => (await db.selectFrom('sms_outbox').select('id').execute()).length;

  t.equal((await issueCode(app.ctx, '13800138000', 'register')).ok, true);
  const first = await db.selectFrom('sms_outbox').select('created_at').executeTakeFirstOrThrow();
  app.clock.advance(6 * DAY);
  t.equal((await issueCode(app.ctx, '13900139000', 'forgot')).ok, true);
  t.equal(await count(), 2);

  // Exactly 7 days after the first message: not older than 7 days yet.
  app.clock.t = Date.parse(first.created_at) + OUTBOX_KEEP_DAYS * DAY;
  t.equal(await purgeSmsOutbox(app.ctx), 0);
  t.equal(await count(), 2);
  app.clock.advance(1);
  t.equal(await purgeSmsOutbox(app.ctx), 1, 'the 7-day-old message goes');
  t.equal(await count(), 1);
  t.match(await lastSmsCode(app, '139****9000'), /^\d{6}$/, 'the recent code is still readable (development, tests)');
  await t.rejects(lastSmsCode(app, '138****8000'), 'the old one is gone');

  // The scheduled job: runs at once when started, then hourly; stop() waits for a run in progress.
  app.clock.advance(6 * DAY); // the second message is now 7 days + 1 ms old
  const stop = startSmsOutboxPurge(app.ctx);
  await stop();
  t.equal(await count(), 0, 'the job purged the remaining old row');
});

t.test('the app runs the purge when it starts, unless a process ran it within the hour (and hourly after)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-sms-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const files = { dataDir: dir, dbFile: path.join(dir, 'zhicheng.db'), uploadDir: path.join(dir, 'uploads') };
  const first = await makeApp(files);
  t.equal((await issueCode(first.ctx, '13800138000', 'register')).ok, true);
  await first.ctx.db.updateTable('sms_outbox').set({ created_at: new Date(first.clock.t - 8 * DAY).toISOString() }).execute();
  // The first app's own purge at start counts for an hour (the job lease, src/lib/jobs.ts).
  await first.ctx.db.updateTable('job_runs').set({ last_run_at: new Date(first.clock.t - 2 * 3_600_000).toISOString() }).where('name', '=', 'sms outbox purge').execute();
  await first.close();
  const app = await makeApp(files);
  t.teardown(() => app.close());
  let left = 1;
  for (let i = 0; i < 100 && left; i++) {
    await new Promise((r) => setTimeout(r, 20));
    left = (await app.ctx.db.selectFrom('sms_outbox').select('id').execute()).length;
  }
  t.equal(left, 0, 'the 8-day-old row is gone after start');
});

t.test('/admin/sms shows a code in clear for 10 minutes, then masked', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  await createStaff(app, { username: 'admin1' });
  const a = new Agent(app);
  await login(a, 'staff', 'admin1');
  t.equal((await issueCode(app.ctx, '13800138000', 'register')).ok, true);
  const code = await lastSmsCode(app, '138****8000');

  let page = await a.get('/admin/sms');
  t.equal(page.statusCode, 200);
  t.match(page.body, `验证码：${code}`, 'valid: shown in clear');
  t.match(page.body, '记录保留7天');

  app.clock.advance(10 * 60_000 + 1000);
  await login(a, 'staff', 'admin1'); // the idle session may have gone meanwhile; sign in again
  page = await a.get('/admin/sms');
  t.equal(page.statusCode, 200);
  t.notMatch(page.body, code, 'expired: never in clear');
  t.match(page.body, `验证码：****${code.slice(-2)}`);
  t.match(page.body, '138****8000');
  // The minute job masks the stored row too: an expired code is not kept in clear.
  t.equal(await lastSmsCode(app, '138****8000'), code, 'not yet masked in the row…');
  t.equal(await clearExpiredOutboxCodes(app.ctx), 1);
  await t.rejects(lastSmsCode(app, '138****8000'), '…then masked');
  const row = await app.ctx.db.selectFrom('sms_outbox').select(['body', 'cleared']).executeTakeFirstOrThrow();
  t.same(row, { body: `【职称申报评审系统】您正在注册账号，验证码：****${code.slice(-2)}，10分钟内有效。如非本人操作，请忽略本短信。`, cleared: 1 });
  t.equal(await clearExpiredOutboxCodes(app.ctx), 0, 'each row once');
});

t.test('a used code, or one voided by wrong tries, is masked in the outbox at once; a newer unused one is not', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const rows = () => app.ctx.db.selectFrom('sms_outbox').select(['phone_masked', 'purpose', 'body', 'cleared']).orderBy('id').execute();
  t.equal((await issueCode(app.ctx, '13800138000', 'register')).ok, true);
  t.equal((await issueCode(app.ctx, '13900139000', 'register')).ok, true);
  const code = await lastSmsCode(app, '138****8000');
  t.same(await verifyCode(app.ctx, '13800138000', 'register', code), { ok: true });
  let list = await rows();
  t.equal(list[0]!.cleared, 1);
  t.notMatch(list[0]!.body, code, 'used: no longer in clear');
  t.equal(list[1]!.cleared, 0, 'another phone: untouched');
  for (let i = 0; i < SMS_MAX_ATTEMPTS; i++) await verifyCode(app.ctx, '13900139000', 'register', '000000');
  list = await rows();
  t.equal(list[1]!.cleared, 1, 'voided after 5 wrong tries: masked');

  // Through /admin/sms: a used code is masked even within its 10 minutes.
  await createStaff(app, { username: 'admin1' });
  const a = new Agent(app);
  await login(a, 'staff', 'admin1');
  const page = await a.get('/admin/sms');
  t.notMatch(page.body, code);
  t.match(page.body, `验证码：****${code.slice(-2)}`);
});

t.test('safe default: without NODE_ENV the server runs as production and never logs a code; development does', async (t) => {
  t.equal(loadConfig({}).env, 'production', 'NODE_ENV unset');
  t.equal(loadConfig({ NODE_ENV: '' }).env, 'production', 'NODE_ENV empty');
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  t.notMatch(pkg.scripts.start, /NODE_ENV/, 'npm start sets no NODE_ENV (so: production)');
  t.match(pkg.scripts.dev, /NODE_ENV=development/, 'npm run dev prints codes');

  const run = async (env: 'production' | 'development') => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    const app: TestApp = await makeApp({ env, logLevel: 'info' }, { logStream: stream });
    try {
      const a = new Agent(app);
      await a.get('/register');
      await a.post('/register/sms', { name: '张伟', idNumber: idNumber(), phone: '13800138000' });
      return { code: await lastSmsCode(app, '138****8000'), log: lines.join('') };
    } finally {
      await app.close();
    }
  };
  const prod = await run('production');
  t.notMatch(prod.log, prod.code, 'production: the code is not in the log');
  t.notMatch(prod.log, '[短信]');
  const dev = await run('development');
  t.match(dev.log, dev.code, 'development: printed for the developer');
});

t.test('maskCodes', async (t) => {
  t.equal(maskCodes('【职称申报评审系统】您正在注册账号，验证码：012345，10分钟内有效。'), '【职称申报评审系统】您正在注册账号，验证码：****45，10分钟内有效。');
  t.equal(maskCodes('验证码: 987654'), '验证码: ****54');
  t.equal(maskCodes('code 123456 here'), 'code ****56 here');
  t.equal(maskCodes('无验证码的通知'), '无验证码的通知');
  t.equal(maskCodes('【职称申报评审系统】某医院已为您创建职称申报个人账号，初始密码：Ab#3k9Pq=x2M，首次登录须修改密码。'), '【职称申报评审系统】某医院已为您创建职称申报个人账号，初始密码：************，首次登录须修改密码。', 'an initial password, wholly');
});

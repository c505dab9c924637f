// Backup and restore drill: a world with declarations and uploaded files → online backup →
// wipe → restore → integrity ok, every table's rows and every file (same hash) back, the key
// still opens the data. Tampered archives, occupied folders and a running server are refused.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import SqliteDatabase from 'better-sqlite3';
import { makeApp, Agent, login, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi } from '../helpers/world.js';
import { listFiles } from '../helpers/files.js';
import { loadConfig, type Config } from '../../src/config.js';
import { backup, restore, runDailyBackup, dailyName } from '../../src/ops/backup.js';
import { main } from '../../src/cli.js';
import { audit } from '../../src/features/audit/service.js';
import { migrations } from '../../migrations/index.js';

function tempDir(t: { teardown(fn: () => unknown): void }, prefix = 'zc-bak-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A test app on a real database file in `dir` (a backup needs a file). */
const fileApp = (dir: string) => makeApp({ dataDir: dir, dbFile: path.join(dir, 'zhicheng.db'), uploadDir: path.join(dir, 'uploads'), backupDir: path.join(dir, 'backups') });
const configOf = (dir: string, extra: Partial<Config> = {}) => loadConfig({ NODE_ENV: 'test', DATA_DIR: dir }, extra);

/** Row counts of every table, and each stored blob's SHA-256. */
function snapshot(dir: string) {
  const raw = new SqliteDatabase(path.join(dir, 'zhicheng.db'), { readonly: true });
  try {
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    const counts = Object.fromEntries(tables.map((n) => [n, raw.prepare(`SELECT count(*) FROM "${n}"`).pluck().get() as number]));
    const files = raw.prepare('SELECT id, sha256, size FROM files ORDER BY id').all() as { id: number; sha256: string; size: number }[];
    return { counts, files };
  } finally {
    raw.close();
  }
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function world(app: TestApp) {
  const w = await kunming(app);
  for (const [name, seq, phone] of [['张伟', '231', '13800138000'], ['王芳', '142', '13900139000']] as const) {
    const who = await readyApplicant(app, w.unit, { name, seq, phone });
    const agent = new Agent(app);
    await login(agent, 'applicant', who.phone);
    const id = await declareThroughUi(app, agent, w, who.userId);
    await submitThroughUi(agent, id);
  }
  return w;
}

t.test('drill: backup while the app runs → wipe → restore → everything back', async (t) => {
  const dir = tempDir(t);
  const out = tempDir(t, 'zc-archive-');
  const app = await fileApp(dir);
  await world(app);
  const before = snapshot(dir);
  t.ok(before.counts.declarations! >= 2 && before.files.length >= 8, `a real world: ${before.counts.declarations} declarations, ${before.files.length} files`);
  const keyBefore = fs.readFileSync(path.join(dir, 'master.key'));

  // Online: the app still has the database open while the archive is written.
  const archive = path.join(out, 'drill.tar.gz');
  const r = await backup(app.ctx.config, archive);
  t.equal(r.files, new Set(before.files.map((f) => f.sha256)).size, 'every stored blob archived');
  t.same(r.missingFiles, []);
  t.equal(fs.statSync(archive).mode & 0o777, 0o600, 'archive is private (mode 0600)');
  await t.rejects(backup(app.ctx.config, archive), { message: /已存在/ }, 'an existing archive is never overwritten');
  await app.close();

  const tar = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' });
  if (tar.status === 0) {
    const names = tar.stdout.trim().split('\n');
    t.ok(names.includes('zhicheng.db') && names.includes('master.key') && names.includes('manifest.json'), 'a standard tar archive (tar -t reads it)');
    t.equal(names.filter((n) => n.startsWith('uploads/')).length, r.files);
  }

  fs.rmSync(dir, { recursive: true, force: true });
  const report = await restore(archive, configOf(dir));
  t.equal(report.integrity, 'ok');
  t.equal(report.audit.ok, true, 'the audit chain verifies with the restored key');
  t.equal(report.movedAside, null, 'nothing was there to move aside');

  const after = snapshot(dir);
  t.same(after.counts, before.counts, 'every table has the same number of rows');
  t.same(after.files, before.files);
  for (const f of after.files) {
    const blob = path.join(dir, 'uploads', f.sha256.slice(0, 2), f.sha256);
    t.equal(sha(blob), f.sha256, `file ${f.id} present with the same hash`);
  }
  t.same(fs.readFileSync(path.join(dir, 'master.key')), keyBefore, 'the master key is back');
  t.equal(fs.statSync(path.join(dir, 'master.key')).mode & 0o777, 0o600);
  const raw = new SqliteDatabase(path.join(dir, 'zhicheng.db'), { readonly: true });
  t.same(raw.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
  t.same(raw.pragma('foreign_key_check'), []);
  raw.close();

  // The restored installation works: the applicant logs in by ID number (a keyed look-up).
  const again = await fileApp(dir);
  t.teardown(() => again.close());
  const a = new Agent(again);
  const res = await login(a, 'applicant', '13800138000');
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/me');
  const me = await a.get('/me/declaration');
  t.equal(me.statusCode, 200);
});

t.test('a tampered or truncated archive is refused and the data folder is left as it was', async (t) => {
  const dir = tempDir(t);
  const out = tempDir(t, 'zc-archive-');
  const app = await fileApp(dir);
  await world(app);
  const archive = path.join(out, 'plain.tar');
  await backup(app.ctx.config, archive);
  await app.close();

  // One byte of the database entry changed (its data starts after the first 512-byte header).
  const bytes = fs.readFileSync(archive);
  const tampered = path.join(out, 'tampered.tar');
  const copy = Buffer.from(bytes);
  copy[512 + 4096 + 17] ^= 0x5a;
  fs.writeFileSync(tampered, copy);
  const empty = path.join(out, 'restore-here');
  await t.rejects(restore(tampered, configOf(empty)), { message: /校验失败：zhicheng\.db 与清单不符/ });
  t.same(fs.readdirSync(empty), [], 'nothing left behind in the target folder');

  const truncated = path.join(out, 'truncated.tar');
  fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await t.rejects(restore(truncated, configOf(empty)), { name: 'BackupError', message: /损坏或不完整/ });

  // A manifest that lies about a file: a changed upload is caught by its hash too.
  const names: string[] = [];
  for (let off = 0; off + 512 <= bytes.length; ) {
    const name = bytes.toString('utf8', off, off + 100).replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(bytes.toString('ascii', off + 124, off + 136).replace(/\0.*$/s, '').trim(), 8);
    names.push(name);
    if (name.startsWith('uploads/') && names.filter((n) => n.startsWith('uploads/')).length === 1) {
      const evil = Buffer.from(bytes);
      evil[off + 512] ^= 0xff;
      fs.writeFileSync(path.join(out, 'evil.tar'), evil);
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  await t.rejects(restore(path.join(out, 'evil.tar'), configOf(empty)), { message: /校验失败：uploads\// });

  // Through the command line: exit 1 and a clear message.
  const err: string[] = [];
  const code = await main(['restore', tampered, '--data-dir', empty], { out: () => {}, err: (s) => err.push(s), env: { NODE_ENV: 'test' } });
  t.equal(code, 1);
  t.match(err.join('\n'), '恢复失败 restore failed: 备份文件校验失败');
});

t.test('restore refuses a folder with data unless --force, and a database a server has open', async (t) => {
  const dir = tempDir(t);
  const out = tempDir(t, 'zc-archive-');
  const app = await fileApp(dir);
  await world(app);
  const archive = path.join(out, 'a.tar.gz');
  await backup(app.ctx.config, archive);

  // The app (a "server") still has the database open.
  await t.rejects(restore(archive, configOf(dir), { force: true }), { message: /正被其他进程使用/ });
  await app.close();

  await t.rejects(restore(archive, configOf(dir)), { message: /已有数据.*--force/ });
  const err: string[] = [];
  t.equal(await main(['restore', archive, '--data-dir', dir], { out: () => {}, err: (s) => err.push(s), env: { NODE_ENV: 'test' } }), 1);
  t.match(err.join('\n'), '--force');

  // Data written after the backup, then a forced restore: the old state is moved aside, not lost.
  const raw = new SqliteDatabase(path.join(dir, 'zhicheng.db'));
  raw.prepare("UPDATE users SET name = '张伟改' WHERE name = '张伟'").run();
  raw.close();
  const lines: string[] = [];
  t.equal(await main(['restore', archive, '--force', '--data-dir', dir], { out: (s) => lines.push(s), err: (s) => lines.push(s), env: { NODE_ENV: 'test' } }), 0, lines.join('\n'));
  t.match(lines.join('\n'), '恢复完成');
  const aside = /原有数据已移到 previous data moved to: (\S+)（/.exec(lines.join('\n'))?.[1];
  t.ok(aside && fs.existsSync(path.join(aside, 'zhicheng.db')) && fs.existsSync(path.join(aside, 'master.key')) && fs.existsSync(path.join(aside, 'uploads')), 'previous data kept aside');
  const restored = new SqliteDatabase(path.join(dir, 'zhicheng.db'), { readonly: true });
  t.equal(restored.prepare("SELECT count(*) FROM users WHERE name = '张伟'").pluck().get(), 1, 'the backed-up state is back');
  restored.close();
  t.notOk(fs.existsSync(path.join(dir, 'zhicheng.db-wal')) && fs.statSync(path.join(dir, 'zhicheng.db-wal')).size > 0, 'no stale WAL beside the restored database');
});

t.test('a MASTER_KEY that differs from the archived key is refused', async (t) => {
  const dir = tempDir(t);
  const out = tempDir(t, 'zc-archive-');
  const app = await fileApp(dir);
  await world(app);
  const archive = path.join(out, 'k.tar');
  await backup(app.ctx.config, archive);
  await app.close();
  const other = crypto.randomBytes(32).toString('base64');
  await t.rejects(restore(archive, configOf(path.join(out, 'x'), { masterKey: other })), { message: /MASTER_KEY/ });
});

t.test('daily backup: from BACKUP_HOUR on, once a day, oldest deleted beyond BACKUP_KEEP, other files kept', async (t) => {
  const dir = tempDir(t);
  const app = await fileApp(dir);
  t.teardown(() => app.close());
  const config = { ...app.ctx.config, backupHour: 2, backupKeep: 3 };
  const at = (iso: string) => new Date(iso);
  const day = at('2026-06-15T01:30:00');
  t.equal(await runDailyBackup(config, day), null, 'before the hour: nothing');
  t.same(listFiles(config.backupDir), []);

  const r = await runDailyBackup(config, at('2026-06-15T02:05:00'));
  t.ok(r, 'at the hour: written');
  t.equal(path.basename(r!.file), 'zhicheng-20260615.tar.gz');
  t.equal(fs.statSync(r!.file).mode & 0o777, 0o600);
  t.equal(await runDailyBackup(config, at('2026-06-15T23:55:00')), null, 'once a day');

  for (const d of ['20260610', '20260611', '20260612', '20260613']) fs.writeFileSync(path.join(config.backupDir, `zhicheng-${d}.tar.gz`), 'old');
  fs.writeFileSync(path.join(config.backupDir, 'before-upgrade.tar.gz'), 'manual');
  const next = await runDailyBackup(config, at('2026-06-16T09:00:00'));
  t.equal(path.basename(next!.file), dailyName(at('2026-06-16T09:00:00')));
  t.same(listFiles(config.backupDir), ['before-upgrade.tar.gz', 'zhicheng-20260613.tar.gz', 'zhicheng-20260615.tar.gz', 'zhicheng-20260616.tar.gz']);
});

t.test('backup, restore and migrate on the command line write an audit row (actor cli) into the database they worked on', async (t) => {
  const dir = tempDir(t);
  const out = tempDir(t, 'zc-archive-');
  const app = await fileApp(dir);
  await kunming(app);
  for (const i of [1, 2]) await audit(app.ctx, null, { action: 'config_change', objectType: 'test', objectId: i });
  await app.close();
  const run = async (argv: string[]) => {
    const lines: string[] = [];
    const code = await main(argv, { out: (s) => lines.push(s), err: (s) => lines.push(s), env: { NODE_ENV: 'test' } });
    return { code, text: lines.join('\n') };
  };
  const auditOf = (d: string) => {
    const raw = new SqliteDatabase(path.join(d, 'zhicheng.db'), { readonly: true });
    try {
      return raw.prepare('SELECT * FROM audit_log ORDER BY id').all() as Record<string, unknown>[];
    } finally {
      raw.close();
    }
  };
  const cliRow = { user_id: null, username: 'cli', name: '命令行', role: 'cli', org_id: null, ip: null, result: 'ok' };

  // backup: the row goes into the live database, after the snapshot.
  const archive = path.join(out, 'cli.tar.gz');
  let r = await run(['backup', archive, '--data-dir', dir]);
  t.equal(r.code, 0, r.text);
  t.notMatch(r.text, '未写入审计记录');
  const before = auditOf(dir);
  const b = before.at(-1)!;
  t.match(b, { ...cliRow, action: 'backup', object_type: 'backup', object_id: 'cli.tar.gz' });
  t.match(b.detail, `在线备份 ${archive}`);
  t.match(b.detail, '系统用户 ');
  t.equal((await run(['audit-verify', '--data-dir', dir])).code, 0, 'the chain still verifies');

  // restore: the row goes into the restored database, chained to the restored log.
  const dir2 = path.join(tempDir(t), 'restored');
  r = await run(['restore', archive, '--data-dir', dir2]);
  t.equal(r.code, 0, r.text);
  const restored = auditOf(dir2);
  t.equal(before.length, 3);
  t.equal(restored.length, before.length, 'the archived rows (without the backup row, written after the snapshot) + the restore row');
  t.same(restored.slice(0, -1).map((x) => x.id), before.slice(0, -1).map((x) => x.id));
  const rr = restored.at(-1)!;
  t.match(rr, { ...cliRow, action: 'restore', object_type: 'backup', object_id: 'cli.tar.gz' });
  t.match(rr.detail, '从备份恢复（备份时间 ');
  t.match(rr.detail, '审计日志校验通过');
  t.equal((await run(['audit-verify', '--data-dir', dir2])).code, 0);

  // migrate: a row per run, into the migrated database.
  r = await run(['migrate', '--data-dir', dir2]);
  t.equal(r.code, 0, r.text);
  const m = auditOf(dir2).at(-1)!;
  t.match(m, { ...cliRow, action: 'migrate', object_type: 'database', object_id: Object.keys(migrations).at(-1) });
  t.match(m.detail, '数据库已是最新');
  t.equal((await run(['audit-verify', '--data-dir', dir2])).code, 0);

  // A key that does not belong to the chain writes nothing (it would break the chain) and says so.
  const rows = auditOf(dir2).length;
  r = await run(['migrate', '--data-dir', dir2, '--master-key', crypto.randomBytes(32).toString('base64')]);
  t.equal(r.code, 0);
  t.match(r.text, '未写入审计记录');
  t.equal(auditOf(dir2).length, rows);
  t.equal((await run(['audit-verify', '--data-dir', dir2])).code, 0);

  // A first migrate of an empty folder: no key yet, none is created, the note says why.
  const dir3 = path.join(tempDir(t), 'fresh');
  r = await run(['migrate', '--data-dir', dir3]);
  t.equal(r.code, 0);
  t.match(r.text, '未写入审计记录');
  t.notOk(fs.existsSync(path.join(dir3, 'master.key')), 'no key file is created by migrate');
  t.equal(auditOf(dir3).length, 0);
});

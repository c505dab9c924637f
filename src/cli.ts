/**
 * The command line: `zhicheng [command] [options]` (no command = serve). Options mirror the
 * environment variables of src/config.ts: `--data-dir /srv/zc` is `DATA_DIR=/srv/zc`, and a
 * flag beats the environment. Exit codes: 0 done, 1 failed, 2 wrong usage or configuration.
 *
 * No side effects on import: `main` runs only when this file is the program (tsx, `npm start`);
 * the single binary's entry (src/binary.ts) imports it and calls main itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import { loadConfig, ConfigError, type Config } from './config.js';
import { APP_NAME, APP_VERSION } from './version.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** The environment the flags are laid over (default process.env). */
  env: NodeJS.ProcessEnv;
}

const COMMANDS = ['serve', 'migrate', 'backup', 'restore', 'create-admin', 'audit-verify', 'migrate-to-postgres'] as const;
type Command = (typeof COMMANDS)[number];
/** Flags that belong to one command rather than to the configuration. */
const COMMAND_FLAGS: Record<string, Command> = { username: 'create-admin', name: 'create-admin', role: 'create-admin' };

/**
 * The environment variables loadConfig reads, found by letting it read a recording empty
 * environment: a setting added to config.ts gets its flag without a second list to keep.
 */
export function configEnvNames(): string[] {
  const seen = new Set<string>();
  const probe = new Proxy({} as NodeJS.ProcessEnv, {
    get(_t, key) {
      if (typeof key === 'string') seen.add(key);
      return undefined;
    },
  });
  loadConfig(probe);
  return [...seen];
}

export const flagOf = (envName: string) => `--${envName.toLowerCase().replace(/_/g, '-')}`;

export function helpText(): string {
  const flags = configEnvNames().map(flagOf);
  const lines: string[] = [];
  let line = ' ';
  for (const f of flags) {
    if (line.length + f.length + 1 > 78) {
      lines.push(line);
      line = ' ';
    }
    line += ` ${f}`;
  }
  lines.push(line);
  return `${APP_NAME} ${APP_VERSION} — 职称申报评审系统 (professional-title declaration and review)

用法 Usage: ${APP_NAME} [命令 command] [选项 options]

命令 Commands:
  serve                  启动服务（默认）：建库、迁移、载入字典、打印首次设置链接
                         Start the server (default): create/migrate the database, load dictionaries
  migrate                创建或升级数据库并载入字典后退出
                         Create or upgrade the database, load dictionaries, exit
  backup <文件>          在线备份数据库、主密钥和附件（.tar 或 .tar.gz）
  backup <file>          Online backup of database, master key and uploads (.tar or .tar.gz)
  restore <文件> [--force]
                         从备份恢复（先停止服务；已有数据须加 --force，原数据移到 pre-restore-…）
                         Restore a backup (server stopped; --force to replace existing data)
  create-admin --username <用户名> --name <姓名> --role admin|security|audit
                         创建平台管理员（系统/安全/审计），输出一次性密码，首次登录须修改
                         Create a platform administrator; prints a one-time password
  audit-verify           校验审计日志链（0 完好，1 被篡改）
                         Verify the tamper-evident audit trail (exit 1 if tampered)
  migrate-to-postgres <postgres://…>
                         把现有 SQLite 站点（DATA_DIR）复制到空的 PostgreSQL 数据库并校验
                         Copy this SQLite site into an empty PostgreSQL database, then verify it
  --version, -v          显示程序和 Node 版本  Print app and Node versions
  --help, -h             显示本帮助            Show this help

选项 Options — 与环境变量一一对应，如 --port 3000 即 PORT=3000，--data-dir x 即 DATA_DIR=x
               (each mirrors an environment variable; a flag beats the environment):
${lines.join('\n')}
`;
}

export class UsageError extends Error {}

export interface ParsedArgs {
  command: Command;
  positional: string[];
  /** Configuration from flags, as environment variables. */
  env: Record<string, string>;
  /** Command options (create-admin). */
  options: Record<string, string>;
  force: boolean;
  help: boolean;
  version: boolean;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const known = new Set(configEnvNames());
  const r: ParsedArgs = { command: 'serve', positional: [], env: {}, options: {}, force: false, help: false, version: false };
  let command: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') r.help = true;
    else if (a === '--version' || a === '-v') r.version = true;
    else if (a === '--force') r.force = true;
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      let value: string | undefined = eq > 0 ? a.slice(eq + 1) : undefined;
      const envName = name.toUpperCase().replace(/-/g, '_');
      const isOption = name in COMMAND_FLAGS;
      if (!isOption && (!/^[a-z][a-z0-9-]*$/.test(name) || !known.has(envName))) throw new UsageError(`未知选项 unknown option: --${name}`);
      if (value === undefined) {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new UsageError(`选项 --${name} 需要一个值 (needs a value)`);
        value = next;
        i++;
      }
      if (isOption) r.options[name] = value;
      else r.env[envName] = value;
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`未知选项 unknown option: ${a}`);
    } else if (command === null) {
      if (!(COMMANDS as readonly string[]).includes(a)) throw new UsageError(`未知命令 unknown command: ${a}`);
      command = a;
    } else {
      r.positional.push(a);
    }
  }
  r.command = (command ?? 'serve') as Command;
  for (const [name, cmd] of Object.entries(COMMAND_FLAGS)) {
    if (name in r.options && cmd !== r.command) throw new UsageError(`选项 --${name} 只用于 ${cmd} 命令`);
  }
  if (r.force && r.command !== 'restore') throw new UsageError('选项 --force 只用于 restore 命令');
  const wanted = r.command === 'backup' || r.command === 'restore' || r.command === 'migrate-to-postgres' ? 1 : 0;
  if (!r.help && !r.version && r.positional.length !== wanted) {
    throw new UsageError(
      r.command === 'migrate-to-postgres' ? 'migrate-to-postgres 需要目标数据库地址 (needs the target postgres:// URL)'
        : wanted ? `${r.command} 需要一个备份文件路径 (needs one archive path)` : `多余的参数 unexpected argument: ${r.positional[0]}`,
    );
  }
  return r;
}

/** A logger for services that want one outside the server (warnings and errors to stderr). */
function cliLogger(io: CliIo): FastifyBaseLogger {
  const say = (to: (s: string) => void) => (a: unknown, b?: unknown) => to(String(typeof a === 'string' ? a : (b ?? '')));
  const noop = () => {};
  const log = { level: 'warn', fatal: say(io.err), error: say(io.err), warn: say(io.err), info: noop, debug: noop, trace: noop, silent: noop, child: () => log };
  return log as unknown as FastifyBaseLogger;
}

async function withContext<T>(config: Config, io: CliIo, fn: (ctx: import('./context.js').AppContext) => Promise<T>): Promise<T> {
  const [{ openDatabase }, { migrateToLatest }, { loadFixtures }, { createSecrets, loadMasterKey }, { Dicts }, { OutboxSmsSender }, { ROOT }, { createBlobStore }] = await Promise.all([
    import('./db/index.js'),
    import('./db/migrate.js'),
    import('./db/fixtures.js'),
    import('./lib/secrets.js'),
    import('./features/dicts/service.js'),
    import('./features/sms/sender.js'),
    import('./app-root.js'),
    import('./lib/blobs.js'),
  ]);
  const secrets = createSecrets(loadMasterKey(config.dataDir, config.masterKey));
  const store = await openDatabase(config);
  const { db } = store;
  try {
    await migrateToLatest(db);
    await loadFixtures(db, path.join(ROOT, 'fixtures'), config.now());
    const log = cliLogger(io);
    return await fn({ db, config, secrets, log, dicts: new Dicts(db), blobs: createBlobStore(config, db), sms: new OutboxSmsSender(db, secrets, log, false, config.now) });
  } finally {
    await store.close();
  }
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** Prints why a command's audit row could not be written (the command itself succeeded). */
function auditNote(io: CliIo, r: { written: boolean; reason?: string }) {
  if (!r.written) io.err(`注意：未写入审计记录 audit row not written（${r.reason}）`);
}

/** Shown for backup/restore when the site runs on PostgreSQL. */
const POSTGRES_BACKUP_HELP = `数据库为 PostgreSQL：backup/restore 只用于 SQLite 文件。请改用：
  备份 pg_dump -Fc -f zhicheng-$(date +%Y%m%d).dump "$DATABASE_URL"
  恢复 pg_restore --clean --if-exists -d "$DATABASE_URL" zhicheng-YYYYMMDD.dump
附件：BLOB_STORE=db 时已在数据库中（pg_dump 一并备份）；BLOB_STORE=local 时另行备份 UPLOAD_DIR。
主密钥（MASTER_KEY 或 DATA_DIR/master.key）须与数据库一起另行妥善保管。
The database is PostgreSQL: back up with pg_dump (and UPLOAD_DIR unless BLOB_STORE=db) and keep the master key.`;

async function backupCommand(config: Config, io: CliIo, args: ParsedArgs): Promise<number> {
  const { backup, BackupError } = await import('./ops/backup.js');
  try {
    const r = await backup(config, args.positional[0]!);
    io.out(`备份完成 backup written: ${r.file}（${mb(r.bytes)}，附件 ${r.files} 个，${r.ms} ms）`);
    // Into the database that was backed up (after the snapshot: the archive does not hold it).
    const { cliAudit } = await import('./ops/cliAudit.js');
    auditNote(io, await cliAudit(config, {
      action: 'backup', objectType: 'backup', objectId: path.basename(r.file),
      detail: `在线备份 ${r.file}（${mb(r.bytes)}，附件 ${r.files} 个${r.missingFiles.length ? `，缺失 ${r.missingFiles.length} 个` : ''}）`,
    }));
    if (r.missingFiles.length) io.err(`注意：${r.missingFiles.length} 个附件在备份时已不在磁盘上（已记入备份清单）`);
    io.out('备份文件含主密钥和全部个人信息，请像数据目录一样妥善保管。The archive holds the master key: keep it as safe as the data folder.');
    return 0;
  } catch (err) {
    if (!(err instanceof BackupError)) io.err(String((err as Error).stack ?? err));
    io.err(`备份失败 backup failed: ${(err as Error).message}`);
    return 1;
  }
}

async function restoreCommand(config: Config, io: CliIo, args: ParsedArgs): Promise<number> {
  const { restore, BackupError } = await import('./ops/backup.js');
  try {
    const r = await restore(path.resolve(args.positional[0]!), config, { force: args.force });
    io.out(`恢复完成 restored: 备份时间 ${r.manifest.createdAt}，程序版本 ${r.manifest.app}，数据库完整性 ${r.integrity}，附件 ${r.files} 个`);
    io.out(r.audit.ok ? `审计日志校验通过：共 ${r.audit.rows} 条` : `注意：审计日志校验未通过（第 ${r.audit.firstBad?.id} 条${r.audit.firstBad?.reason}）`);
    if (r.missingFiles.length) io.err(`注意：${r.missingFiles.length} 个附件在备份时已缺失`);
    if (r.movedAside) io.out(`原有数据已移到 previous data moved to: ${r.movedAside}（确认无误后可删除）`);
    // Into the restored database, chained to its own (restored) audit log.
    const { cliAudit } = await import('./ops/cliAudit.js');
    auditNote(io, await cliAudit(config, {
      action: 'restore', objectType: 'backup', objectId: path.basename(args.positional[0]!),
      detail: `从备份恢复（备份时间 ${r.manifest.createdAt}，程序版本 ${r.manifest.app}，附件 ${r.files} 个，审计日志${r.audit.ok ? '校验通过' : '校验未通过'}${r.movedAside ? `，原数据移到 ${path.basename(r.movedAside)}` : ''}）`,
    }));
    return 0;
  } catch (err) {
    if (!(err instanceof BackupError)) io.err(String((err as Error).stack ?? err));
    io.err(`恢复失败 restore failed: ${(err as Error).message}`);
    return 1;
  }
}

/** Runs one command line; resolves with the exit code (serve: once the server has closed). */
export async function main(argv: string[], ioIn: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = { out: (s) => console.log(s), err: (s) => console.error(s), env: process.env, ...ioIn };
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`${err.message}\n`);
    io.err(helpText());
    return 2;
  }
  if (args.help) {
    io.out(helpText());
    return 0;
  }
  if (args.version) {
    io.out(`${APP_NAME} ${APP_VERSION}\nNode ${process.version}`);
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig({ ...io.env, ...args.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`配置错误: ${err.message}`);
    return 2;
  }

  switch (args.command) {
    case 'serve': {
      const { isClusterWorker, serveCluster } = await import('./cluster.js');
      if (config.workers > 1 && !isClusterWorker()) return serveCluster(config, io);
      const { serve } = await import('./server.js');
      return serve(config, io, { worker: isClusterWorker() });
    }
    case 'migrate': {
      const [{ openDatabase }, { migrateToLatest }, { loadFixtures }, { ROOT }, { cliAudit }, { migrations }] = await Promise.all([
        import('./db/index.js'),
        import('./db/migrate.js'),
        import('./db/fixtures.js'),
        import('./app-root.js'),
        import('./ops/cliAudit.js'),
        import('../migrations/index.js'),
      ]);
      let store: Awaited<ReturnType<typeof openDatabase>>;
      try {
        store = await openDatabase(config);
      } catch (err) {
        io.err(`迁移失败 migration failed: ${(err as Error).message}`);
        return 1;
      }
      const { db } = store;
      try {
        const applied = await migrateToLatest(db);
        const loaded = await loadFixtures(db, path.join(ROOT, 'fixtures'), config.now());
        io.out(applied.length ? `已执行迁移 migrations applied: ${applied.join(', ')}` : '数据库已是最新 database is up to date');
        if (loaded) io.out('已载入字典 dictionaries loaded');
        io.out(`数据库 database: ${store.describe}`);
        // A first migrate of an empty folder has no key yet (serve creates it): nothing to chain to.
        auditNote(io, await cliAudit(config, {
          action: 'migrate', objectType: 'database', objectId: Object.keys(migrations).sort().pop() ?? null,
          detail: `${applied.length ? `执行迁移 ${applied.join(', ')}` : '数据库已是最新'}${loaded ? '，载入字典' : ''}`,
        }, db));
        return 0;
      } catch (err) {
        io.err(`迁移失败 migration failed: ${(err as Error).message}`);
        return 1;
      } finally {
        await store.close();
      }
    }
    case 'backup':
    case 'restore':
      if (config.databaseUrl) {
        io.err(POSTGRES_BACKUP_HELP);
        return 2;
      }
      return args.command === 'backup' ? backupCommand(config, io, args) : restoreCommand(config, io, args);
    case 'migrate-to-postgres': {
      const { migrateToPostgres, MoveError } = await import('./ops/toPostgres.js');
      try {
        const r = await migrateToPostgres(config, args.positional[0]!, io.out);
        io.out(`迁移完成 done: ${r.tables.length} 张表 ${r.rows} 行（${(r.ms / 1000).toFixed(1)} s），审计日志校验通过（${r.audit.rows} 条）`);
        io.out('下一步：设置 DATABASE_URL 为该地址启动服务（主密钥 master.key 保持不变）。Next: start with DATABASE_URL set to it, same master key.');
        return 0;
      } catch (err) {
        if (!(err instanceof MoveError)) io.err(String((err as Error).stack ?? err));
        io.err(`迁移失败 failed: ${(err as Error).message}`);
        return 1;
      }
    }
    case 'create-admin': {
      const { createAdmin } = await import('./ops/createAdmin.js');
      const missing = ['username', 'name', 'role'].filter((k) => !args.options[k]);
      if (missing.length) {
        io.err(`create-admin 需要 ${missing.map((k) => `--${k}`).join(' ')}（例：create-admin --username sysadmin --name 李娜 --role admin）`);
        return 2;
      }
      const r = await withContext(config, io, (ctx) => createAdmin(ctx, args.options));
      if (!r.ok) {
        io.err(`--${r.field}: ${r.error}`);
        return r.error === '该用户名已被使用' ? 1 : 2;
      }
      io.out(`已创建 created: ${args.options.username}（${r.role}）`);
      io.out(`初始密码 one-time password: ${r.password}`);
      io.out('仅显示这一次；首次登录须修改密码。Shown once; it must be changed at first login.');
      return 0;
    }
    case 'audit-verify': {
      const { auditVerify } = await import('./ops/auditVerify.js');
      return auditVerify(config, io.out, io.err);
    }
  }
}

/** True when this file is the program itself (not imported, not inside a bundle). */
function executedDirectly(): boolean {
  try {
    const self = fileURLToPath(import.meta.url);
    return !!process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(self);
  } catch {
    return false;
  }
}

if (executedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

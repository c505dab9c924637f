import { buildApp } from './app.js';
import type { Config } from './config.js';
import { findBrowser } from './print/browser.js';
import { startBackupScheduler } from './ops/backup.js';
import { APP_VERSION } from './version.js';
import { DbConnectError } from './db/postgres.js';

export const INSECURE_COOKIES_MESSAGE = '警告：NODE_ENV=production 但未设置 SECURE_COOKIES=true：登录 Cookie 可经明文 HTTP 传输。请在 HTTPS 之后运行并设置 SECURE_COOKIES=true（反向代理另设 TRUST_PROXY）';
export const NO_BROWSER_START_MESSAGE = '未找到 Chromium/Chrome/Edge：PDF 打印不可用（设置 CHROMIUM_PATH）';

/** What an operator must know at start (printed once, by the process that starts the rest). */
export function startWarnings(config: Config, io: ServeIo): void {
  // Printing is optional: say so plainly at start; every other page works without a browser.
  if (!findBrowser(config.chromiumPath)) io.err(NO_BROWSER_START_MESSAGE);
  // Plain HTTP is fine on a desk; in production the session cookie must travel over TLS only.
  if (config.env === 'production' && !config.secureCookies) io.err(INSECURE_COOKIES_MESSAGE);
}

/** Hard limit for a graceful shutdown; then the process exits 1. */
const SHUTDOWN_MS = 10_000;

export interface ServeIo {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `zhicheng serve`: listen, the daily backup, graceful shutdown — nothing else.
 * Resolves with the exit code once the server has closed: 0 after SIGTERM/SIGINT finished the
 * in-flight requests and closed the PDF browser and the database; a second signal or a close
 * slower than 10 s exits 1 at once.
 */
export async function serve(config: Config, io: ServeIo = { out: (s) => console.log(s), err: (s) => console.error(s) }, opts: { worker?: boolean } = {}): Promise<number> {
  // Said once per start: by the primary when there are workers (src/cluster.ts).
  if (!opts.worker) startWarnings(config, io);

  // Socket timeouts (slowloris) are set where the server is made: buildApp, from the config.
  let built: Awaited<ReturnType<typeof buildApp>>;
  try {
    built = await buildApp(config, { setupLink: !opts.worker });
  } catch (err) {
    // A wrong DATABASE_URL (host, credentials, database) is a sentence, not a stack trace.
    if (err instanceof DbConnectError) {
      io.err(`启动失败：${err.message}`);
      return 1;
    }
    throw err;
  }
  const { app, setupLink } = built;

  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  io.out(`zhicheng ${APP_VERSION} ${opts.worker ? `工作进程 ${process.pid} ` : ''}已启动：http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}（数据目录 ${config.dataDir}）`);
  if (setupLink) {
    // The one-time first-admin link; printed, never stored in clear.
    io.out(`\n首次启动：请在 24 小时内打开以下链接创建平台管理员（仅可使用一次）：\n  ${setupLink}\n`);
  }
  // The daily archive copies the SQLite file; a PostgreSQL site backs up with pg_dump (README).
  const onPostgres = !!config.databaseUrl;
  if (config.backupEnabled && onPostgres) app.log.info('database is PostgreSQL: the built-in daily backup is off; use pg_dump and back up the blob store (README, Backups)');
  const stopBackups = config.backupEnabled && !onPostgres ? startBackupScheduler(config, app.log, built.ctx.db) : null;

  return new Promise<number>((resolve) => {
    let closing = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (closing) {
        app.log.warn({ signal: sig }, 'second signal: exiting now');
        process.exit(1);
      }
      closing = true;
      app.log.info({ signal: sig }, 'shutting down: no new connections, finishing in-flight requests');
      const force = setTimeout(() => {
        app.log.error('shutdown took longer than 10 s: exiting');
        process.exit(1);
      }, SHUTDOWN_MS);
      force.unref();
      (async () => {
        await stopBackups?.();
        // Stops listening, waits for in-flight requests, then the onClose hooks: PDF browser, reminders, database.
        await app.close();
      })().then(
        () => finish(force, 0),
        (err) => {
          app.log.error({ err }, 'shutdown failed');
          finish(force, 1);
        },
      );
    };
    const finish = (force: NodeJS.Timeout, code: number) => {
      clearTimeout(force);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // Whatever the caller does next, a stray handle cannot keep a closed server's process alive.
      setTimeout(() => process.exit(code), 2_000).unref();
      resolve(code);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

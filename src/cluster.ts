/**
 * `zhicheng serve --workers N` (WORKERS=N): N server processes on one port (node:cluster).
 *
 * The primary prepares the database once (migrations, dictionaries, the first-admin link),
 * then forks the workers, each a full `serve` sharing the listening socket. A worker that dies
 * is replaced (a crash loop — five deaths within a minute of their start — stops the cluster
 * instead of spinning). SIGTERM/SIGINT reach every worker, each drains its requests, and the
 * primary exits 0 once all have exited cleanly (1 if one did not, or after 15 s).
 *
 * Every worker keeps nothing that matters in memory (DESIGN.md §7): sessions, rate limits,
 * pending forms and job leases are rows, so any worker may answer any request.
 */
import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import type { Config } from './config.js';
import type { ServeIo } from './server.js';

const SHUTDOWN_MS = 15_000;
const CRASH_WINDOW_MS = 60_000;
const CRASH_LIMIT = 5;

/** Migrations, dictionaries and the setup link, once, before any worker starts. */
async function prepare(config: Config, io: ServeIo): Promise<boolean> {
  const [{ openDatabase }, { migrateToLatest }, { loadFixtures }, { prepareSetup }, { ROOT }, { DbConnectError }] = await Promise.all([
    import('./db/index.js'),
    import('./db/migrate.js'),
    import('./db/fixtures.js'),
    import('./features/setup/service.js'),
    import('./app-root.js'),
    import('./db/postgres.js'),
  ]);
  let store;
  try {
    store = await openDatabase(config);
  } catch (err) {
    if (err instanceof DbConnectError) {
      io.err(`启动失败：${err.message}`);
      return false;
    }
    throw err;
  }
  try {
    await migrateToLatest(store.db);
    await loadFixtures(store.db, path.join(ROOT, 'fixtures'), config.now());
    // Only what prepareSetup reads (the database, the clock, the public URL).
    const link = await prepareSetup({ db: store.db, config } as Parameters<typeof prepareSetup>[0]);
    if (link) io.out(`\n首次启动：请在 24 小时内打开以下链接创建平台管理员（仅可使用一次）：\n  ${link}\n`);
    return true;
  } finally {
    await store.close();
  }
}

export async function serveCluster(config: Config, io: ServeIo): Promise<number> {
  const { startWarnings } = await import('./server.js');
  startWarnings(config, io);
  if (!(await prepare(config, io))) return 1;

  // Workers run this same program: the entry (src/cli.ts or the binary) sees cluster.isWorker
  // and serves without forking again and without a setup link of its own.
  cluster.setupPrimary({ args: process.argv.slice(2), silent: false });
  const started = new Map<number, number>();
  const listening = new Set<number>();
  cluster.on('listening', (w) => listening.add(w.id));
  const deaths: number[] = [];
  let stopping = false;
  let failed = false;

  const fork = () => {
    const w = cluster.fork({ ZHICHENG_WORKER: '1' });
    started.set(w.id, Date.now());
    return w;
  };

  return new Promise<number>((resolve) => {
    const done = (code: number) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(code);
    };
    cluster.on('exit', (w: Worker, code, signal) => {
      const alive = Object.keys(cluster.workers ?? {}).length;
      if (stopping) {
        // A worker still starting when the signal came dies of it: nothing was in flight there.
        const cleanStop = code === 0 || (!listening.has(w.id) && signal !== null && signal !== 'SIGKILL');
        if (!cleanStop) failed = true;
        if (alive === 0) done(failed ? 1 : 0);
        return;
      }
      io.err(`工作进程 ${w.process.pid} 已退出（${signal ?? `exit ${code}`}），正在重启 worker died, restarting`);
      const now = Date.now();
      if (now - (started.get(w.id) ?? 0) < CRASH_WINDOW_MS) deaths.push(now);
      while (deaths.length && now - deaths[0]! > CRASH_WINDOW_MS) deaths.shift();
      if (deaths.length >= CRASH_LIMIT) {
        io.err(`工作进程在一分钟内退出 ${CRASH_LIMIT} 次，停止服务 workers keep dying: stopping`);
        failed = true;
        onSignal('SIGTERM');
        if (alive === 0) done(1);
        return;
      }
      fork();
    });

    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
        process.exit(1);
      }
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig);
      const force = setTimeout(() => {
        io.err('工作进程未能在 15 秒内退出 workers did not stop within 15 s');
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
        done(1);
      }, SHUTDOWN_MS);
      force.unref();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    for (let i = 0; i < config.workers; i++) fork();
    io.out(`zhicheng 以 ${config.workers} 个工作进程运行 serving with ${config.workers} workers on port ${config.port}（主进程 ${process.pid}）`);
  });
}

/** This process is a worker forked by serveCluster. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env.ZHICHENG_WORKER === '1';
}

import { buildApp } from './app.js';
import { loadConfig, ConfigError } from './config.js';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`配置错误: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const { app, setupLink } = await buildApp(config);
  // Slow clients must not hold sockets forever (slowloris).
  app.server.requestTimeout = 30_000;
  app.server.headersTimeout = 15_000;
  app.server.keepAliveTimeout = 5_000;

  await app.listen({ port: config.port, host: config.host });
  if (setupLink) {
    // The one-time first-admin link; printed, never stored in clear.
    console.log(`\n首次启动：请在 24 小时内打开以下链接创建平台管理员（仅可使用一次）：\n  ${setupLink}\n`);
  }

  let closing = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (closing) return;
      closing = true;
      app.log.info(`${sig}: finishing in-flight requests`);
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      app.close().then(() => process.exit(0), () => process.exit(1));
    });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

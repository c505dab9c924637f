import type { FastifyBaseLogger } from 'fastify';

/**
 * Runs `job` now and then every `intervalMs`, never two at once; logs what it did (when it
 * returns a non-zero count) and its failures. Returns a stop function that waits for a run in
 * progress, for app.close().
 */
export function startPeriodic(
  log: FastifyBaseLogger,
  name: string,
  intervalMs: number,
  job: () => Promise<number>,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (stopped || running) return;
    running = job()
      .then((n) => {
        if (n) log.info({ job: name, count: n }, `${name} done`);
      })
      .catch((err) => log.error({ err, job: name }, `${name} failed`))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return async () => {
    stopped = true;
    clearInterval(timer);
    if (running) await running;
  };
}

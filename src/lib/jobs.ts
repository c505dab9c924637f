import crypto from 'node:crypto';
import os from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { DB } from '../db/index.js';

/** This process, as a lease holder: host, pid and a random part (a restarted pid is new). */
export const PROCESS_ID = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;

/** How long a run may take before another process may assume the holder died. */
const LEASE_MS = 30 * 60_000;
/** How often a process asks whether a leased job is due. */
const POLL_MS = 60_000;

/**
 * Takes the job `name` for this process when it is due (never ran, or last ran at least
 * `intervalMs` ago) and nobody holds it. One statement, atomic on SQLite and PostgreSQL: of
 * several processes asking at once, exactly one gets the row back.
 */
export async function takeLease(db: DB, name: string, intervalMs: number, now: Date, holder = PROCESS_ID): Promise<boolean> {
  const at = now.toISOString();
  const row = await db
    .insertInto('job_runs')
    .values({ name, holder, lease_until: new Date(now.getTime() + LEASE_MS).toISOString(), last_run_at: null })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder'), lease_until: eb.ref('excluded.lease_until') }))
        .where('job_runs.lease_until', '<=', at)
        .where((eb) => eb.or([eb('job_runs.last_run_at', 'is', null), eb('job_runs.last_run_at', '<=', new Date(now.getTime() - intervalMs).toISOString())])),
    )
    .returning('name')
    .executeTakeFirst();
  return !!row;
}

/** Marks the run done (it counts from now) and frees the lease; a failed run frees it only. */
export async function endLease(db: DB, name: string, now: Date, ok: boolean, holder = PROCESS_ID): Promise<void> {
  const at = now.toISOString();
  await db
    .updateTable('job_runs')
    .set(ok ? { lease_until: at, last_run_at: at } : { lease_until: at })
    .where('name', '=', name)
    .where('holder', '=', holder)
    .execute();
}

export interface LeaseOptions {
  db: DB;
  now: () => Date;
  /** Wait this long before the first run (default: run at once). */
  firstDelayMs?: number;
}

/**
 * Runs `job` now and then every `intervalMs`, never two at once; logs what it did (when it
 * returns a non-zero count) and its failures. With `lease`, the job is shared by every process
 * on the database: each asks every minute, and only the one that takes the lease runs it.
 * Returns a stop function that waits for a run in progress, for app.close().
 */
export function startPeriodic(
  log: FastifyBaseLogger,
  name: string,
  intervalMs: number,
  job: () => Promise<number>,
  lease?: LeaseOptions,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const run = async () => {
    if (lease && !(await takeLease(lease.db, name, intervalMs, lease.now()))) return;
    let ok = false;
    try {
      const n = await job();
      ok = true;
      if (n) log.info({ job: name, count: n }, `${name} done`);
    } finally {
      if (lease) await endLease(lease.db, name, lease.now(), ok);
    }
  };
  const tick = () => {
    if (stopped || running) return;
    running = run()
      .catch((err) => log.error({ err, job: name }, `${name} failed`))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, lease ? Math.min(intervalMs, POLL_MS) : intervalMs);
  timer.unref();
  const first = lease?.firstDelayMs ? setTimeout(tick, lease.firstDelayMs) : null;
  if (first) first.unref();
  else tick();
  return async () => {
    stopped = true;
    clearInterval(timer);
    if (first) clearTimeout(first);
    if (running) await running;
  };
}

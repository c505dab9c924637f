/**
 * Fixed-window counters as rows (table rate_counters), so that every process behind a load
 * balancer shares them (DESIGN §7: nothing that matters lives in one process's memory). Rate
 * limits (src/plugins/ratelimit.ts) and the SMS caps (src/features/sms/codes.ts) use them.
 *
 * hit() is ONE statement, atomic on SQLite and PostgreSQL alike (standard SQL only):
 *   insert into rate_counters (key, count, reset_at) values (:key, 1, :now + window)
 *   on conflict (key) do update set
 *     count    = case when rate_counters.reset_at <= :now then 1 else rate_counters.count + 1 end,
 *     reset_at = case when rate_counters.reset_at <= :now then excluded.reset_at else rate_counters.reset_at end
 *   returning count, reset_at
 * Both CASE expressions read the row as it was before the update (SQL semantics), so a window
 * that has ended restarts at 1 with a new reset_at; two processes hitting the same key at once
 * are serialised by the row's uniqueness. Timestamps are ISO-8601 text (toISOString), which
 * compares in time order as text.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { startPeriodic } from './jobs.js';
import type { FastifyBaseLogger } from 'fastify';

type Db = Kysely<Database>;

export interface Hit {
  /** Hits in the current window, this one included. */
  count: number;
  /** When the current window ends. */
  resetAt: Date;
}

/** Counts one hit on `key` in a window of `windowMs` starting at its first hit. One round-trip. */
export async function hit(db: Db, key: string, windowMs: number, now: Date): Promise<Hit> {
  const nowIso = now.toISOString();
  const fresh = new Date(now.getTime() + windowMs).toISOString();
  const ended = sql<boolean>`${sql.ref('rate_counters.reset_at')} <= ${nowIso}`;
  const row = await db
    .insertInto('rate_counters')
    .values({ key, count: 1, reset_at: fresh })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        count: sql<number>`case when ${ended} then 1 else ${sql.ref('rate_counters.count')} + 1 end`,
        reset_at: sql<string>`case when ${ended} then ${sql.ref('excluded.reset_at')} else ${sql.ref('rate_counters.reset_at')} end`,
      }),
    )
    .returning(['count', 'reset_at'])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), resetAt: new Date(row.reset_at) };
}

/** The current window of `key` without counting (0 when none is running). */
export async function peek(db: Db, key: string, now: Date): Promise<Hit> {
  const row = await db
    .selectFrom('rate_counters')
    .select(['count', 'reset_at'])
    .where('key', '=', key)
    .where('reset_at', '>', now.toISOString())
    .executeTakeFirst();
  return row ? { count: Number(row.count), resetAt: new Date(row.reset_at) } : { count: 0, resetAt: now };
}

/** Seconds until `resetAt` (at least 1): for Retry-After and "请N秒后再试". */
export function secondsUntil(resetAt: Date, now: Date): number {
  return Math.max(1, Math.ceil((resetAt.getTime() - now.getTime()) / 1000));
}

/** Deletes the rows whose window has ended; returns how many went. */
export async function purgeCounters(db: Db, now: Date): Promise<number> {
  const r = await db.deleteFrom('rate_counters').where('reset_at', '<=', now.toISOString()).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export const COUNTER_PURGE_INTERVAL_MS = 10 * 60_000;

/** Purges now and every 10 minutes; returns the stop function. */
export function startCounterPurge(db: Db, log: FastifyBaseLogger, now: () => Date): () => Promise<void> {
  return startPeriodic(log, 'rate counter purge', COUNTER_PURGE_INTERVAL_MS, () => purgeCounters(db, now()), { db, now });
}

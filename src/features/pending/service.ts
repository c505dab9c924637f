/**
 * Pending forms (issue #19): a form posted after its session ended is kept server-side for a
 * short time, in the browser that typed it, for the account that typed it, and shown again
 * once after the next login. Queries only; the HTTP side is src/plugins/pending.ts.
 */
import crypto from 'node:crypto';
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import { startPeriodic } from '../../lib/jobs.js';

/** The browser's key (random, HttpOnly); the row stores only its SHA-256. */
export const PENDING_COOKIE = 'zc_pending';
export const PENDING_TTL_MS = 2 * 3_600_000;
/** Largest form kept (as JSON). A section row or the profile is a few KB; this stops abuse, not users. */
export const PENDING_MAX_BYTES = 256 * 1024;
/** Forms kept per account (older ones go first): one account cannot fill the table. */
export const PENDING_PER_OWNER = 5;
export const PENDING_PURGE_INTERVAL_MS = 10 * 60_000;

export type FormBody = Record<string, string | string[]>;

export interface PendingRow {
  owner_tag: string;
  page: string;
  body: string;
}

const hashKey = (key: string) => crypto.createHash('sha256').update(key).digest('base64url');
export const newPendingKey = () => crypto.randomBytes(32).toString('base64url');
export const isPendingKey = (s: unknown): s is string => typeof s === 'string' && /^[A-Za-z0-9_-]{43}$/.test(s);

/**
 * The fields of a urlencoded form worth keeping: strings or lists of strings, names not
 * starting with `_` (the CSRF token, 搜索 buttons). Null when it is not such a form or too big.
 */
export function keepableBody(body: unknown): FormBody | null {
  if (!body || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) return null;
  const out: FormBody = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k.startsWith('_')) continue;
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
  }
  return JSON.stringify(out).length <= PENDING_MAX_BYTES ? out : null;
}

/** Keeps (or replaces) this browser's pending form. */
export async function savePending(ctx: AppContext, key: string, o: { ownerTag: string; page: string; body: FormBody }): Promise<void> {
  const now = ctx.config.now();
  const row = {
    owner_tag: o.ownerTag, page: o.page, body: JSON.stringify(o.body),
    created_at: now.toISOString(), expires_at: new Date(now.getTime() + PENDING_TTL_MS).toISOString(),
  };
  await writeTx(ctx.db, async (trx) => {
    await trx.insertInto('pending_forms').values({ key_hash: hashKey(key), ...row }).onConflict((oc) => oc.column('key_hash').doUpdateSet(row)).execute();
    const keep = await trx.selectFrom('pending_forms').select('key_hash').where('owner_tag', '=', o.ownerTag)
      .orderBy('created_at', 'desc').orderBy('key_hash', 'desc').limit(PENDING_PER_OWNER).execute();
    await trx.deleteFrom('pending_forms').where('owner_tag', '=', o.ownerTag).where('key_hash', 'not in', keep.map((k) => k.key_hash)).execute();
  });
}

/** This browser's pending form, if it has one that has not expired. */
export async function findPending(ctx: AppContext, key: string): Promise<PendingRow | null> {
  const row = await ctx.db.selectFrom('pending_forms').select(['owner_tag', 'page', 'body'])
    .where('key_hash', '=', hashKey(key)).where('expires_at', '>', ctx.config.now().toISOString()).executeTakeFirst();
  return row ?? null;
}

export async function deletePending(ctx: AppContext, key: string): Promise<void> {
  await ctx.db.deleteFrom('pending_forms').where('key_hash', '=', hashKey(key)).execute();
}

/** Deletes expired rows; returns how many went. */
export async function purgePending(ctx: AppContext, now = ctx.config.now()): Promise<number> {
  const r = await ctx.db.deleteFrom('pending_forms').where('expires_at', '<=', now.toISOString()).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export function startPendingPurge(ctx: AppContext): () => Promise<void> {
  return startPeriodic(ctx.log, 'pending form purge', PENDING_PURGE_INTERVAL_MS, () => purgePending(ctx));
}

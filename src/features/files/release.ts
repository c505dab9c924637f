/**
 * Removing uploads (see the consistency rules in ./service.ts): a `files` row goes when no
 * attachment uses it, and its blob only in a later write transaction that finds no `files` row
 * for its sha.
 */
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';

type Db = Kysely<Database>;

const SHA_RE = /^[0-9a-f]{64}$/;

/**
 * Unlinks the blobs of these shas that no `files` row refers to any more. Runs in its own
 * write transaction (see the header comment); call it after the deleting transaction commits.
 */
export async function sweepBlobs(ctx: AppContext, shas: Iterable<string>): Promise<void> {
  const list = [...new Set(shas)].filter((s) => SHA_RE.test(s));
  if (list.length === 0) return;
  await writeTx(ctx.db, async (trx) => {
    for (const sha of list) {
      const used = await trx.selectFrom('files').select('id').where('sha256', '=', sha).limit(1).executeTakeFirst();
      if (used) continue;
      try {
        await ctx.blobs.in(trx).remove(sha);
      } catch (err) {
        ctx.log.warn({ err, sha }, 'could not remove an unused upload');
      }
    }
  });
}

/** Deletes the files rows among `fileIds` that no attachment refers to; returns their shas. */
export async function releaseFiles(trx: Db, userId: number, fileIds: number[]): Promise<string[]> {
  const shas: string[] = [];
  for (const fileId of new Set(fileIds)) {
    const ref = await trx.selectFrom('attachments').select('id').where('file_id', '=', fileId).limit(1).executeTakeFirst();
    if (ref) continue;
    const file = await trx.selectFrom('files').select('sha256').where('id', '=', fileId).where('user_id', '=', userId).executeTakeFirst();
    if (!file) continue;
    await trx.deleteFrom('files').where('id', '=', fileId).execute();
    shas.push(file.sha256);
  }
  return shas;
}

/** Drops an upload that went into no slot (its blob too, when nothing else uses it). */
export async function discardFile(ctx: AppContext, userId: number, fileId: number): Promise<void> {
  const shas = await writeTx(ctx.db, (trx) => releaseFiles(trx, userId, [fileId]));
  await sweepBlobs(ctx, shas);
}

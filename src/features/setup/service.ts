import crypto from 'node:crypto';
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';

const TOKEN_KEY = 'setup_token';
const TOKEN_HOURS = 24;

export async function hasAdmin(ctx: AppContext): Promise<boolean> {
  const row = await ctx.db
    .selectFrom('users as u')
    .innerJoin('orgs as o', 'o.id', 'u.org_id')
    .select('u.id')
    .where('o.kind', '=', 'platform')
    .where('u.roles', 'like', '%admin%')
    .limit(1)
    .executeTakeFirst();
  return !!row;
}

const hashToken = (t: string) => crypto.createHash('sha256').update(t).digest('hex');

/**
 * With no platform admin yet, makes a one-time setup token (valid 24 h; a restart makes a new
 * one and voids the old) and returns the link to print. Never a default password.
 */
export async function prepareSetup(ctx: AppContext): Promise<string | null> {
  if (await hasAdmin(ctx)) return null;
  const token = crypto.randomBytes(24).toString('base64url');
  const value = JSON.stringify({ hash: hashToken(token), expires: ctx.config.now().getTime() + TOKEN_HOURS * 3_600_000 });
  await ctx.db.insertInto('settings').values({ key: TOKEN_KEY, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  return `${ctx.config.publicUrl}/setup/${token}`;
}

export async function checkSetupToken(ctx: AppContext, token: string): Promise<boolean> {
  const row = await ctx.db.selectFrom('settings').select('value').where('key', '=', TOKEN_KEY).executeTakeFirst();
  if (!row) return false;
  const { hash, expires } = JSON.parse(row.value) as { hash: string; expires: number };
  const given = hashToken(token);
  return expires > ctx.config.now().getTime() && crypto.timingSafeEqual(Buffer.from(hash), Buffer.from(given));
}

/** Burns the setup link (an admin was created another way, e.g. `zhicheng create-admin`). */
export async function voidSetupToken(db: AppContext['db']): Promise<void> {
  await db.deleteFrom('settings').where('key', '=', TOKEN_KEY).execute();
}

/** Creates the first platform admin and burns the token, atomically. */
export async function createFirstAdmin(ctx: AppContext, token: string, v: { username: string; name: string; passwordHash: string }): Promise<number | null> {
  return writeTx(ctx.db, async (trx) => {
    if (!(await checkSetupToken({ ...ctx, db: trx as any }, token))) return null;
    const platform = await trx.selectFrom('orgs').select('id').where('kind', '=', 'platform').orderBy('id').executeTakeFirstOrThrow();
    const stamp = ctx.config.now().toISOString();
    const row = await trx
      .insertInto('users')
      .values({ kind: 'staff', username: v.username, name: v.name, password_hash: v.passwordHash, org_id: platform.id, roles: 'admin', password_changed_at: stamp, created_at: stamp, updated_at: stamp })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.deleteFrom('settings').where('key', '=', TOKEN_KEY).execute();
    return row.id;
  });
}

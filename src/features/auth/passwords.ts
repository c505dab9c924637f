import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { checkPassword } from '../../domain/password.js';
import { verifyPassword } from '../../lib/passwords.js';
import { commonPasswords } from '../../lib/commonPasswords.js';

/** How many earlier passwords (the current one included) a new password must differ from. */
export const HISTORY_SIZE = 5;
export const REUSE_MESSAGE = '不能与最近5次使用过的密码相同';

/**
 * The rules for a password a person chooses: complexity, no ID number or phone, not on the
 * common-password list. (Generated one-time passwords skip the list: they are random.)
 */
export function newPasswordProblems(pw: string, who: { idNumber?: string; phone?: string } = {}): string[] {
  return checkPassword(pw, { ...who, common: commonPasswords() });
}

/**
 * Whether `pw` is one of the user's last 5 passwords. The current hash is always a candidate
 * (accounts set before the history existed, or by a path that did not record it).
 */
export async function reusedPassword(db: Kysely<Database>, userId: number, pw: string): Promise<boolean> {
  const current = await db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
  const rows = await db.selectFrom('password_history').select('hash').where('user_id', '=', userId).orderBy('id', 'desc').limit(HISTORY_SIZE).execute();
  const hashes = [...new Set([...(current ? [current.password_hash] : []), ...rows.map((r) => r.hash)])].slice(0, HISTORY_SIZE);
  for (const h of hashes) if (await verifyPassword(h, pw)) return true;
  return false;
}

/**
 * Appends a newly set password hash to the history and keeps the last 5. `previous` (the hash
 * being replaced) is added first when the history does not end with it: passwords set by paths
 * that do not record (one-time passwords, a unit's registration) still count.
 */
export async function recordPassword(db: Kysely<Database>, userId: number, hash: string, stamp: string, previous?: string): Promise<void> {
  if (previous) {
    const last = await db.selectFrom('password_history').select('hash').where('user_id', '=', userId).orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (last?.hash !== previous) await db.insertInto('password_history').values({ user_id: userId, hash: previous, created_at: stamp }).execute();
  }
  await db.insertInto('password_history').values({ user_id: userId, hash, created_at: stamp }).execute();
  const keep = await db.selectFrom('password_history').select('id').where('user_id', '=', userId).orderBy('id', 'desc').limit(HISTORY_SIZE).execute();
  await db.deleteFrom('password_history').where('user_id', '=', userId).where('id', 'not in', keep.map((r) => r.id)).execute();
}

/**
 * SQL for "locked from at least one source" of the user row aliased `u` (3 wrong passwords from
 * one IP): lists that show a lock and an unlock button need it besides users.locked_at.
 */
export const lockedFromASource = sql<number>`exists (select 1 from login_failures lf where lf.user_id = u.id and lf.locked_at is not null)`;

/**
 * Clears every (account, source) failure counter and lock of a user. Any update that sets
 * users.failed_logins = 0 does the same through the trigger of migration 0009, so the
 * security admin's and the unit's unlock buttons need no call of their own.
 */
export async function clearLoginFailures(db: Kysely<Database>, userId: number): Promise<void> {
  await db.deleteFrom('login_failures').where('user_id', '=', userId).execute();
}

import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { parsePolicy, type AuthPolicy } from '../../domain/authPolicy.js';

export const POLICY_KEY = 'auth_policy';

/**
 * The login security policy (2FA required for whom, password expiry per class). Read on every
 * signed-in request (the guard needs it); one primary-key read, so no cache to invalidate.
 */
export async function getPolicy(db: Kysely<Database>): Promise<AuthPolicy> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', POLICY_KEY).executeTakeFirst();
  return parsePolicy(row?.value);
}

export async function savePolicy(db: Kysely<Database>, p: AuthPolicy): Promise<void> {
  const value = JSON.stringify(p);
  await db.insertInto('settings').values({ key: POLICY_KEY, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
}

import type { Kysely } from 'kysely';

// Two-factor login, password history and expiry, lockout per account + source.
export async function up(_db: Kysely<any>): Promise<void> {}

import type { Kysely } from 'kysely';

// 三权分立: separate system / security / audit administrators, permissions, policies.
export async function up(_db: Kysely<any>): Promise<void> {}

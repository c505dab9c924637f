import type { Kysely } from 'kysely';

// Issue #19 (field test): a form posted after the session ended is kept for a short time and
// given back after the next login (src/features/pending). One row per browser (the random id
// in its zc_pending cookie, stored only as a hash); the owner is a keyed hash of the account
// that typed it (the user tag of its CSRF token), so nothing readable names the person.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('pending_forms')
    .addColumn('key_hash', 'text', (c) => c.primaryKey())
    .addColumn('owner_tag', 'text', (c) => c.notNull())
    // The GET page the form is shown on again, e.g. /me/sections/papers/new.
    .addColumn('page', 'text', (c) => c.notNull())
    // The urlencoded fields as JSON (string or string[] per name), without the CSRF token.
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('pending_forms_expires').on('pending_forms').column('expires_at').execute();
  await db.schema.createIndex('pending_forms_owner').on('pending_forms').columns(['owner_tag', 'created_at']).execute();
}


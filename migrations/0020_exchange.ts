import type { Kysely } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// Issue #17 (data exchange): legacy certificates imported from a province's spreadsheets, the
// import batches (the uploaded file in the blob store between the dry run and the confirmation),
// API tokens for other government systems, and a disabled flag on the dictionaries that had none
// (a dictionary entry in use is disabled, never deleted).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('import_batches')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('report', 'text', (c) => c.notNull())
    .addColumn('created_by', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('imported_at', 'text')
    .addColumn('imported_count', 'integer')
    .execute();

  await db.schema
    .createTable('legacy_certificates')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('batch_id', 'integer', (c) => c.notNull())
    .addColumn('id_enc', 'text', (c) => c.notNull())
    .addColumn('id_hmac', 'text', (c) => c.notNull())
    .addColumn('id_masked', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('title_name', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('specialty', 'text', (c) => c.notNull())
    .addColumn('obtained_on', 'text', (c) => c.notNull())
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('verify_code', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('legacy_certificates_id_hmac').on('legacy_certificates').column('id_hmac').execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_by', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('revoked_by', 'integer')
    .addColumn('last_used_at', 'text')
    .execute();

  for (const t of ['series', 'titles', 'regions']) {
    await db.schema.alterTable(t).addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  }
}

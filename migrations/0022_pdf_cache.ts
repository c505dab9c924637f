import type { Kysely } from 'kysely';

// Issue #18: a version's printed review form never changes, so it is rendered once. One row per
// distinct printed content (key = sha256 of the canonical page: the version, the evaluation, the
// unit's opinion and seal, the photo, the templates); the PDF's bytes live in the blob store
// (shared by every process), its verification code in print_records like any print.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('pdf_cache')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('code', 'text', (c) => c.notNull().references('print_records.code'))
    .addColumn('sha256', 'text', (c) => c.notNull()) // of the PDF, in the blob store
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('pdf_cache_declaration').on('pdf_cache').column('declaration_id').execute();
}

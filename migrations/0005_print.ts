import type { Kysely } from 'kysely';

// PDF printing: one row per printed review form. The code is printed on every page and in
// the QR code (/verify/<code>); the row ties it to the exact version that was printed.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('print_records')
    .addColumn('code', 'text', (c) => c.primaryKey()) // 12 characters of Crockford base32, random
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('version_id', 'integer', (c) => c.notNull().references('declaration_versions.id'))
    .addColumn('sha256', 'text', (c) => c.notNull()) // of the version's snapshot, as stored with it
    .addColumn('printed_by', 'integer', (c) => c.references('users.id'))
    .addColumn('printed_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('print_records_declaration').on('print_records').columns(['declaration_id', 'printed_at']).execute();
}


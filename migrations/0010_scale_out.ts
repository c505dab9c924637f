import type { Kysely } from 'kysely';
import { dialectOf } from '../src/db/index.js';

// Several processes on one database (DESIGN.md §7): periodic jobs take a lease so exactly one
// process runs each; uploaded files may live in the database itself (BLOB_STORE=db).
export async function up(db: Kysely<any>): Promise<void> {
  // One row per periodic job: who holds it until when, and when it last ran to completion.
  await db.schema
    .createTable('job_runs')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text', (c) => c.notNull())
    .addColumn('last_run_at', 'text')
    .execute();

  // Content-addressed file bytes (the PostgreSQL blob store; a pg_dump then holds everything).
  await db.schema
    .createTable('blobs')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('data', dialectOf(db) === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

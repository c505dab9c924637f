import type { Kysely } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// Issue #13: timed plan windows and 补充材料 requests.
export async function up(db: Kysely<any>): Promise<void> {
  // Opening and closing minute (HH:MM, China time). Null keeps the old meaning: 00:00 and 24:00.
  // 收审材料日期 and 统一报送 are kept so a provincial plan's computed window can be re-checked.
  await db.schema.alterTable('plans').addColumn('opens_time', 'text').execute();
  await db.schema.alterTable('plans').addColumn('closes_time', 'text').execute();
  await db.schema.alterTable('plans').addColumn('materials_from', 'text').execute();
  await db.schema.alterTable('plans').addColumn('materials_until', 'text').execute();
  await db.schema.alterTable('plans').addColumn('central_submit', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  // 补充材料: a review stage asks for named extra files without returning the declaration. The
  // files are attachments with owner_type 'supplement' and owner_id = this row, slot = item key.
  await db.schema
    .createTable('supplement_requests')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('stage', 'integer', (c) => c.notNull())
    .addColumn('items', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('requested_by', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('submitted_at', 'text')
    .execute();
  await db.schema.createIndex('supplement_requests_decl').on('supplement_requests').column('declaration_id').execute();
}

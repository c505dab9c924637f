import type { Kysely } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// Issue #15: organisations form a tree; each admin runs its children and its staff's duties.
export async function up(db: Kysely<any>): Promise<void> {
  // The organisation that created this one (null: made by the platform before the tree existed).
  // removed_at: a removed child stays as a row (audit rows and old events name it) but leaves the tree.
  await db.schema.alterTable('orgs').addColumn('parent_org_id', 'integer', (c) => c.references('orgs.id')).execute();
  await db.schema.alterTable('orgs').addColumn('removed_at', 'text').execute();
  await db.schema.createIndex('orgs_parent').on('orgs').column('parent_org_id').execute();

  // 本级人员授权: a staff account's duties (comma list, src/domain/duties.ts). Null = every duty
  // of its organisation, as before this migration, so existing accounts keep working until their
  // admin narrows them.
  await db.schema.alterTable('users').addColumn('duties', 'text').execute();

  // 更名记录: every rename of an organisation (old name, new name, when, who).
  await db.schema
    .createTable('org_renames')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('old_name', 'text', (c) => c.notNull())
    .addColumn('new_name', 'text', (c) => c.notNull())
    .addColumn('by_user_id', 'integer', (c) => c.references('users.id'))
    .addColumn('by_name', 'text', (c) => c.notNull())
    .addColumn('renamed_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('org_renames_org').on('org_renames').column('org_id').execute();
}

import type { Kysely } from 'kysely';

// Issue #19 (field test): the unit's 申报公示 notice names where objections go — 异议受理电话
// and 异议受理地址, entered with the publicity (prefilled from the unit's 联系电话/单位地址).
// Publicities created before this have neither: the notice falls back to the unit's current ones.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('publicities').addColumn('contact_phone', 'text').execute();
  await db.schema.alterTable('publicities').addColumn('contact_address', 'text').execute();
}

import type { Kysely } from 'kysely';

// Issue #18, /org/stats at 50 000 declarations: the statistics' two grouped scans read the
// stage a declaration is at (its kind) and the applicant's unit for every row in scope. Both
// lookups hit wide table rows; these narrow indexes answer them from index pages only
// (src/features/stats/service.ts, src/db/index.ts usersByUnit).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('declaration_stages_kind').on('declaration_stages').columns(['declaration_id', 'idx', 'kind']).execute();
  await db.schema.createIndex('users_unit').on('users').columns(['id', 'unit_org_id']).execute();
}


import type { Kysely } from 'kysely';

// Issue #19 (field test): a plan whose 系列 is 不限 is a deliberate choice (any_series = 1). A plan
// with neither a series nor that flag offers its committee's series (src/domain/plans.ts
// planSeries), so plans saved before this migration with 系列 left empty (the form's old default)
// no longer offer every series' titles.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('plans').addColumn('any_series', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}


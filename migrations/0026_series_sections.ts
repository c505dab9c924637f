import type { Kysely } from 'kysely';

// Issue #16: the plan's settings for its series' sections and for papers. Section rows need no
// table of their own (section_rows holds every section, src/domain/sections.ts); a new series
// section that needs a plan setting adds its column in a migration like this one.
export async function up(db: Kysely<any>): Promise<void> {
  // 教育理论考试 合格分数 (60 or 70); null: the plan does not ask.
  await db.schema.alterTable('plans').addColumn('theory_pass_mark', 'integer').execute();
  // 考试考核学时: the minimum 学时 per year; null: no minimum.
  await db.schema.alterTable('plans').addColumn('min_study_hours', 'integer').execute();
  // 代表作: at most this many papers; null: no 代表作 review.
  await db.schema.alterTable('plans').addColumn('max_representative', 'integer').execute();
  // Papers need 知网收录 proof (screenshot + link).
  await db.schema.alterTable('plans').addColumn('cnki_required', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

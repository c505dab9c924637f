import type { Kysely } from 'kysely';

// Issue #18, big offices' lists: the review queue and the statistics count and group in SQL.
//
// - declarations_list: a narrow covering index of the columns the lists filter, sort and group
//   by. Declaration rows are wide (cover, route and unit opinion JSON); read through this index a
//   supervisor's 10 000 visible rows cost index pages, not table pages (src/db/index.ts
//   listDeclarations).
// - declaration_stages_scope (org_id, declaration_id, idx): the scope join without the table
//   (replaces declaration_stages_org, its prefix).
// - cover_level / cover_level_name: the 封面's 申报级别 as columns, so that 按申报级别 is a
//   GROUP BY instead of parsing every cover. Written with the cover (declaration/cover.ts); the
//   cover changes only while a declaration is a draft. Backfilled here from the JSON (an
//   unreadable cover gives nulls, as the statistics read it before: 未填写).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('declarations').addColumn('cover_level', 'text').execute();
  await db.schema.alterTable('declarations').addColumn('cover_level_name', 'text').execute();

  const rows: { id: number; cover: string }[] = await db.selectFrom('declarations').select(['id', 'cover']).execute();
  const byValue = new Map<string, number[]>();
  for (const r of rows) {
    let c: { level?: unknown; level_name?: unknown } = {};
    try {
      c = JSON.parse(r.cover) ?? {};
    } catch { /* 未填写 */ }
    const level = typeof c.level === 'string' && c.level ? c.level : null;
    const name = typeof c.level_name === 'string' && c.level_name ? c.level_name : null;
    if (level === null && name === null) continue;
    const key = JSON.stringify([level, name]);
    if (!byValue.has(key)) byValue.set(key, []);
    byValue.get(key)!.push(r.id);
  }
  for (const [key, ids] of byValue) {
    const [level, name] = JSON.parse(key) as [string | null, string | null];
    for (let i = 0; i < ids.length; i += 500) {
      await db.updateTable('declarations').set({ cover_level: level, cover_level_name: name }).where('id', 'in', ids.slice(i, i + 500)).execute();
    }
  }

  await db.schema
    .createIndex('declarations_list')
    .on('declarations')
    .columns(['id', 'submitted_at', 'stage', 'status', 'updated_at', 'year', 'plan_id', 'user_id', 'returns_count', 'cover_level', 'cover_level_name'])
    .execute();
  await db.schema.createIndex('declaration_stages_scope').on('declaration_stages').columns(['org_id', 'declaration_id', 'idx']).execute();
  await db.schema.dropIndex('declaration_stages_org').execute();
}

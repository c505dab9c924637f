import type { Kysely } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// Issue #15: 岗位设置与聘任 (seed 004 聘任管理、结构比例管理; seed 002 Q7(1)).
//
// - post_quotas: a unit's number of professional posts (岗位数) per level (src/domain/plans.ts
//   LEVELS). No row = not set.
// - appointments: 聘任 records (person, level, start, optional end, optional certificate).
//   Ended appointments stay as history; 现聘 = started and not ended (src/domain/posts.ts).
// - Two duties join 本级人员授权 (src/domain/duties.ts): 'people' for units (人员与聘任管理) and
//   'plans' for committee offices and the platform (计划通知管理). Accounts whose duties were
//   already ticked keep what they could do: the new duty of their kind is added to them.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('post_quotas')
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('quota', 'integer', (c) => c.notNull())
    .addColumn('updated_by', 'integer', (c) => c.references('users.id'))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('post_quotas_pk', ['org_id', 'level'])
    .execute();

  await db.schema
    .createTable('appointments')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('post_name', 'text')
    .addColumn('start_date', 'text', (c) => c.notNull())
    .addColumn('end_date', 'text')
    .addColumn('certificate_id', 'integer', (c) => c.references('certificates.id'))
    .addColumn('created_by', 'integer', (c) => c.references('users.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('ended_by', 'integer', (c) => c.references('users.id'))
    .addColumn('ended_at', 'text')
    .execute();
  await db.schema.createIndex('appointments_org').on('appointments').columns(['org_id', 'level']).execute();
  await db.schema.createIndex('appointments_user').on('appointments').column('user_id').execute();

  const ticked: { id: number; duties: string; kind: string }[] = await db
    .selectFrom('users as u')
    .innerJoin('orgs as o', 'o.id', 'u.org_id')
    .select(['u.id', 'u.duties', 'o.kind'])
    .where('u.duties', 'is not', null)
    .where('u.kind', '=', 'staff')
    .execute();
  for (const u of ticked) {
    const extra = u.kind === 'unit' || u.kind === 'agency' ? 'people' : u.kind === 'committee' || u.kind === 'platform' ? 'plans' : '';
    if (!extra) continue;
    const list = u.duties.split(',').map((s) => s.trim()).filter(Boolean);
    if (!list.includes(extra)) list.push(extra);
    await db.updateTable('users').set({ duties: list.join(',') }).where('id', '=', u.id).execute();
  }
}

import type { Kysely } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// The review chain: unit registration details, supervisor bindings, the stages of each
// declaration's route (for scoped queries), the unit stage (opinion, publicity,
// recommendation) and the committee's paper receipt.
export async function up(db: Kysely<any>): Promise<void> {
  for (const col of ['legal_rep', 'industry', 'location', 'fax', 'remark']) {
    await db.schema.alterTable('orgs').addColumn(col, 'text').execute();
  }
  await db.schema.alterTable('orgs').addColumn('license_file_id', 'integer').execute(); // 营业执照 scan
  await db.schema.alterTable('orgs').addColumn('seal_file_id', 'integer').execute(); // 单位签章 image
  // A unit staff account may be linked to the person's own (applicant) registration (seed 004).
  await db.schema.alterTable('users').addColumn('person_user_id', 'integer').execute();

  // 选择或更换主管部门: a request the supervisor approves or rejects.
  await db.schema
    .createTable('supervisor_requests')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('unit_org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('supervisor_org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('status', 'text', (c) => c.notNull()) // pending|approved|rejected
    .addColumn('opinion', 'text')
    .addColumn('requested_by', 'integer')
    .addColumn('decided_by', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text')
    .execute();
  await db.schema.createIndex('supervisor_requests_sup').on('supervisor_requests').columns(['supervisor_org_id', 'status']).execute();

  // One row per stage of a declaration's route: scope queries join here (no JSON search).
  await db.schema
    .createTable('declaration_stages')
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('declaration_stages_pk', ['declaration_id', 'idx'])
    .execute();
  await db.schema.createIndex('declaration_stages_org').on('declaration_stages').columns(['org_id', 'declaration_id']).execute();

  // The unit stage: 表十二 opinion, 核验, 公示, 推荐上报; the committee's paper copy.
  await db.schema.alterTable('declarations').addColumn('unit_opinion', 'text').execute(); // JSON
  await db.schema.alterTable('declarations').addColumn('unit_verified_at', 'text').execute();
  await db.schema.alterTable('declarations').addColumn('publicity_state', 'text').execute(); // null|open|no_objection|objection
  await db.schema.alterTable('declarations').addColumn('recommendation_id', 'integer').execute();
  await db.schema.alterTable('declarations').addColumn('paper_received_at', 'text').execute();

  await db.schema
    .createTable('publicities')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('start_date', 'text', (c) => c.notNull())
    .addColumn('days', 'integer', (c) => c.notNull())
    .addColumn('end_date', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull()) // open|completed
    .addColumn('created_by', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'text')
    .execute();
  await db.schema
    .createTable('publicity_items')
    .addColumn('publicity_id', 'integer', (c) => c.notNull().references('publicities.id'))
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('objection', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('note', 'text')
    .addPrimaryKeyConstraint('publicity_items_pk', ['publicity_id', 'declaration_id'])
    .execute();

  await db.schema
    .createTable('recommendations')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('created_by', 'integer')
    .addColumn('pledge_file_id', 'integer') // 诚信承诺书
    .addColumn('report_file_id', 'integer') // 公示情况说明
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// 初定/认定 (issue #14, seed 002 Q9, Q12–Q14): a first title recognised from education and time in
// post by the deciding office (county HRB, city department or city HRB), with no committee. Each
// recognition carries its own certificate (numbered per office and year by certNumberer, next to
// the committees' certificates) and its timeline of 上报/退回/认定/不予认定.
export async function up(db: Kysely<any>): Promise<void> {
  // The months a bureau accepts recognitions, e.g. '1,4,7,10'; null = January, April, July, October.
  await db.schema.alterTable('orgs').addColumn('recognition_months', 'text').execute();

  await db.schema
    .createTable('recognitions')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('unit_org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('level', 'text', (c) => c.notNull().check(sql`level in ('junior', 'assistant', 'intermediate', 'senior_vice')`))
    .addColumn('title_name', 'text', (c) => c.notNull())
    .addColumn('specialty', 'text', (c) => c.notNull())
    .addColumn('education', 'text')
    .addColumn('degree', 'text')
    .addColumn('double_bachelor', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('postdoc', 'integer', (c) => c.notNull().defaultTo(0))
    // 认定时间: the date on 招工录用登记表 / 聘用通知书
    .addColumn('hired_on', 'text', (c) => c.notNull())
    // 学信网 备案表 出具日期 (valid 6 months)
    .addColumn('filing_date', 'text', (c) => c.notNull())
    .addColumn('decider_org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('decider_kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('draft', 'unit', 'office', 'returned', 'approved', 'refused')`))
    // Filled in by the unit on the applicant's behalf (Hangzhou): who did it, and at 上报 the operator.
    .addColumn('by_unit', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('operator_name', 'text')
    .addColumn('operator_phone', 'text')
    .addColumn('created_by', 'integer', (c) => c.references('users.id'))
    .addColumn('submitted_at', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('decided_by', 'integer', (c) => c.references('users.id'))
    .addColumn('cert_year', 'integer')
    .addColumn('cert_seq', 'integer')
    .addColumn('cert_number', 'text', (c) => c.unique())
    .addColumn('verify_code', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('recognitions_office_year_seq', ['decider_org_id', 'cert_year', 'cert_seq'])
    .execute();
  await db.schema.createIndex('recognitions_user').on('recognitions').column('user_id').execute();
  await db.schema.createIndex('recognitions_unit').on('recognitions').columns(['unit_org_id', 'status']).execute();
  await db.schema.createIndex('recognitions_decider').on('recognitions').columns(['decider_org_id', 'status']).execute();

  await db.schema
    .createTable('recognition_events')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('recognition_id', 'integer', (c) => c.notNull().references('recognitions.id'))
    .addColumn('actor_user_id', 'integer', (c) => c.references('users.id'))
    .addColumn('org_id', 'integer', (c) => c.references('orgs.id'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('recognition_events_rec').on('recognition_events').column('recognition_id').execute();
}

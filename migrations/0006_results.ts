import type { Kysely } from 'kysely';
import { autoId } from '../src/db/ddl.js';
import { sql } from 'kysely';

// 评后管理: the committee's evaluation meeting and votes, the results publicity (结果公示),
// and certificates (证书编号, 发文字号, a verification code of their own).
export async function up(db: Kysely<any>): Promise<void> {
  // 通过规则: 同意票数 / 实到人数 ≥ pass_ratio, written as "a/b" (exact rational; default 2/3).
  await db.schema.alterTable('plans').addColumn('pass_ratio', 'text', (c) => c.notNull().defaultTo('2/3')).execute();
  // Certificate number pattern of a committee (src/domain/evaluation.ts documents the syntax);
  // null = the default pattern.
  await db.schema.alterTable('orgs').addColumn('cert_pattern', 'text').execute();

  await db.schema
    .createTable('evaluations')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('plan_id', 'integer', (c) => c.notNull().references('plans.id'))
    .addColumn('meeting_date', 'text', (c) => c.notNull())
    .addColumn('members_expected', 'integer', (c) => c.notNull())
    .addColumn('members_present', 'integer', (c) => c.notNull())
    // null until 结果确认 moves the voted declarations to passed/failed
    .addColumn('confirmed_at', 'text')
    .addColumn('created_by', 'integer', (c) => c.references('users.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('evaluations_plan').on('evaluations').column('plan_id').execute();

  await db.schema
    .createTable('evaluation_votes')
    .addColumn('evaluation_id', 'integer', (c) => c.notNull().references('evaluations.id'))
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('agree', 'integer', (c) => c.notNull())
    .addColumn('disagree', 'integer', (c) => c.notNull())
    .addColumn('abstain', 'integer', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull().check(sql`result in ('passed', 'failed')`))
    .addPrimaryKeyConstraint('evaluation_votes_pk', ['evaluation_id', 'declaration_id'])
    .execute();
  await db.schema.createIndex('evaluation_votes_declaration').on('evaluation_votes').column('declaration_id').execute();

  await db.schema
    .createTable('result_publicities')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('plan_id', 'integer', (c) => c.notNull().references('plans.id'))
    .addColumn('start_date', 'text', (c) => c.notNull())
    .addColumn('days', 'integer', (c) => c.notNull())
    .addColumn('end_date', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open'))
    .addColumn('created_by', 'integer', (c) => c.references('users.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('result_publicities_plan').on('result_publicities').column('plan_id').execute();

  await db.schema
    .createTable('certificates')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('declaration_id', 'integer', (c) => c.notNull().unique().references('declarations.id'))
    .addColumn('committee_org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('doc_no', 'text', (c) => c.notNull())
    .addColumn('verify_code', 'text', (c) => c.notNull().unique())
    .addColumn('issued_by', 'integer', (c) => c.references('users.id'))
    .addColumn('issued_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('certificates_committee_year_seq', ['committee_org_id', 'year', 'seq'])
    .execute();
}

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// Issue #15 (seed 004 客户端 职能部门审核端; seed 002 Q10, Q18):
// - unit_checkers: a unit's internal checkers (人事处、教务处、组织部、学工部、基层考核…), each
//   assigned to one staff account of the unit; 'under40' applies only to applicants under 40.
// - checker_signoffs: one opinion per declaration and checker (同意/不同意 + text), replaced when
//   the checker signs again; it counts for the version submitted before it.
// - unit_stage_records: the finished unit stage of a route with two (a dispatch worker's
//   dispatch company, then the employer): its 表十二 opinion, 核验, publicity and recommendation,
//   moved off the declaration when the next unit stage starts, so both print.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('unit_checkers')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('applies_to', 'text', (c) => c.notNull().defaultTo('all').check(sql`applies_to in ('all', 'under40')`))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('removed_at', 'text')
    .execute();
  await db.schema.createIndex('unit_checkers_org').on('unit_checkers').column('org_id').execute();

  await db.schema
    .createTable('checker_signoffs')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('checker_id', 'integer', (c) => c.notNull().references('unit_checkers.id'))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('checker_name', 'text', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('signer_name', 'text', (c) => c.notNull())
    .addColumn('verdict', 'text', (c) => c.notNull().check(sql`verdict in ('同意', '不同意')`))
    .addColumn('opinion', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('checker_signoffs_decl_checker', ['declaration_id', 'checker_id'])
    .execute();

  await db.schema
    .createTable('unit_stage_records')
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('stage', 'integer', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('unit_opinion', 'text')
    .addColumn('unit_verified_at', 'text')
    .addColumn('submitted_at', 'text')
    .addColumn('publicity_state', 'text')
    .addColumn('recommendation_id', 'integer', (c) => c.references('recommendations.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('unit_stage_records_pk', ['declaration_id', 'stage'])
    .execute();
}

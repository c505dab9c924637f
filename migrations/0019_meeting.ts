import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// Issue #16: the committee's real meeting. 学科组 of a plan with their declarations and 初审
// recommendations; online meetings (评委 registered per group, numbered rounds, 复议); secret
// ballots kept as per-member "voted" rows plus anonymous tallies (no voter id next to a choice).
export async function up(db: Kysely<any>): Promise<void> {
  // 否决比例 (optional: 不同意 / 实到 ≥ a/b fails; without it, not passing fails) and the
  // plan's quorum (最少参加表决评委人数; null = no minimum).
  await db.schema.alterTable('plans').addColumn('reject_ratio', 'text').execute();
  await db.schema.alterTable('plans').addColumn('min_members', 'integer').execute();
  // 'paper': the office types the totals (as before); 'online': members vote, totals computed.
  await db.schema.alterTable('evaluations').addColumn('mode', 'text', (c) => c.notNull().defaultTo('paper')).execute();

  await db.schema
    .createTable('eval_groups')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('plan_id', 'integer', (c) => c.notNull().references('plans.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    // 评审专业 covered, a comma list (automatic assignment matches the cover's specialty)
    .addColumn('specialties', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('eval_groups_plan_name', ['plan_id', 'name'])
    .execute();

  await db.schema
    .createTable('eval_group_decls')
    .addColumn('declaration_id', 'integer', (c) => c.primaryKey().references('declarations.id'))
    .addColumn('group_id', 'integer', (c) => c.notNull().references('eval_groups.id'))
    // 1 when the office moved it by hand (automatic assignment leaves it alone then)
    .addColumn('moved', 'integer', (c) => c.notNull().defaultTo(0))
    // 学科组初审: the group's recommendation before the plenary meeting
    .addColumn('recommendation', 'text', (c) => c.check(sql`recommendation in ('agree', 'disagree')`))
    .addColumn('recommendation_note', 'text')
    .addColumn('recommended_by', 'integer', (c) => c.references('users.id'))
    .addColumn('recommended_at', 'text')
    .execute();
  await db.schema.createIndex('eval_group_decls_group').on('eval_group_decls').column('group_id').execute();

  await db.schema
    .createTable('evaluation_members')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('evaluation_id', 'integer', (c) => c.notNull().references('evaluations.id'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('group_id', 'integer', (c) => c.notNull().references('eval_groups.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('evaluation_members_once', ['evaluation_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('evaluation_rounds')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('evaluation_id', 'integer', (c) => c.notNull().references('evaluations.id'))
    .addColumn('no', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('first', 'reconsider')`))
    .addColumn('opened_by', 'integer', (c) => c.references('users.id'))
    .addColumn('opened_at', 'text', (c) => c.notNull())
    .addColumn('closed_at', 'text')
    .addUniqueConstraint('evaluation_rounds_no', ['evaluation_id', 'no'])
    .execute();

  // The anonymous tally of a round per declaration: counters only, never who.
  await db.schema
    .createTable('round_tallies')
    .addColumn('round_id', 'integer', (c) => c.notNull().references('evaluation_rounds.id'))
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('agree', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disagree', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('abstain', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('round_tallies_pk', ['round_id', 'declaration_id'])
    .execute();

  // That a member voted on a declaration in a round (no choice here): the key refuses a second vote.
  await db.schema
    .createTable('round_voted')
    .addColumn('round_id', 'integer', (c) => c.notNull().references('evaluation_rounds.id'))
    .addColumn('member_id', 'integer', (c) => c.notNull().references('evaluation_members.id'))
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addPrimaryKeyConstraint('round_voted_pk', ['round_id', 'member_id', 'declaration_id'])
    .execute();

  // 评委专家库 of a committee and its draws (评委抽取): each draw keeps its seed, its whole input
  // and its result, so that re-running src/domain/draw.ts on the input re-checks it.
  await db.schema
    .createTable('experts')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('committee_org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('series_code', 'text')
    .addColumn('specialty', 'text', (c) => c.notNull())
    .addColumn('level', 'text')
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('region_code', 'text')
    .addColumn('available', 'integer', (c) => c.notNull().defaultTo(1))
    // 专家诚信 record: null = none; text = the breach (keeps the expert out of draws)
    .addColumn('integrity_note', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('experts_committee').on('experts').column('committee_org_id').execute();

  await db.schema
    .createTable('expert_conflicts')
    .addColumn('expert_id', 'integer', (c) => c.notNull().references('experts.id'))
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addPrimaryKeyConstraint('expert_conflicts_pk', ['expert_id', 'declaration_id'])
    .execute();

  await db.schema
    .createTable('expert_draws')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('evaluation_id', 'integer', (c) => c.notNull().references('evaluations.id'))
    .addColumn('seed', 'text', (c) => c.notNull())
    .addColumn('input', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('created_by', 'integer', (c) => c.references('users.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('drawn_experts')
    .addColumn('draw_id', 'integer', (c) => c.notNull().references('expert_draws.id'))
    .addColumn('expert_id', 'integer', (c) => c.notNull().references('experts.id'))
    .addColumn('group_id', 'integer', (c) => c.notNull().references('eval_groups.id'))
    .addColumn('declined', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('drawn_experts_pk', ['draw_id', 'expert_id'])
    .execute();
}

import { sql, type Kysely } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// Plans get their rules; declarations, their frozen versions and the workflow timeline;
// notices; reminder bookkeeping.
export async function up(db: Kysely<any>): Promise<void> {
  // Committee tier decides the route (a provincial committee adds the city HRB stage).
  await db.schema.alterTable('orgs').addColumn('committee_tier', 'text').execute(); // city|province
  // A unit's binding to its supervisor must be approved by the supervisor (seed 004).
  await db.schema.alterTable('orgs').addColumn('supervisor_status', 'text').execute(); // pending|approved|rejected

  for (const [name, type, def] of [
    ['specialties', 'text', null], // accepted 申报专业, one per line; empty = any
    ['categories', 'text', "'normal,exceptional,transfer,recognition'"],
    ['required_sections', 'text', null], // comma keys; null = the registry's defaults
    ['required_slots', 'text', null], // JSON [{key,label,required,hint}]; null = defaults
    ['max_returns', 'integer', '4'],
    ['publicity_required', 'integer', '1'],
    ['publicity_days', 'integer', '5'],
    ['major_mismatch', 'text', "'warn'"], // warn|block: 所学专业和从事专业不一致
    ['eligibility_mode', 'text', "'warn'"], // warn|block
    ['eligibility_rules', 'text', null], // JSON; null = fixtures/eligibility.json defaults
    ['updated_at', 'text', null],
  ] as const) {
    await db.schema
      .alterTable('plans')
      .addColumn(name, type, (c) => (def === null ? c : c.notNull().defaultTo(sql.raw(def))))
      .execute();
  }

  await db.schema
    .createTable('declarations')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('plan_id', 'integer', (c) => c.notNull().references('plans.id'))
    .addColumn('year', 'integer', (c) => c.notNull())
    // draft|reviewing|returned|approved|rejected|failed_for_year|passed|failed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('cover', 'text', (c) => c.notNull()) // JSON: the 封面
    .addColumn('route', 'text') // JSON [{kind, orgId, name}], computed at cover/submit
    .addColumn('stage', 'integer', (c) => c.notNull().defaultTo(0)) // index into route
    .addColumn('returns_count', 'integer', (c) => c.notNull().defaultTo(0)) // returns + resets
    .addColumn('version_id', 'integer') // the version under review
    .addColumn('submit_token', 'text') // idempotency of 申报
    .addColumn('submitted_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('declarations_user_plan', ['user_id', 'plan_id'])
    .execute();
  await db.schema.createIndex('declarations_user').on('declarations').columns(['user_id', 'year']).execute();
  await db.schema.createIndex('declarations_plan').on('declarations').columns(['plan_id', 'status']).execute();

  await db.schema
    .createTable('declaration_versions')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('no', 'integer', (c) => c.notNull())
    .addColumn('snapshot', 'text', (c) => c.notNull()) // immutable JSON: profile, sections, cover, attachments
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('declaration_versions_no', ['declaration_id', 'no'])
    .execute();

  await db.schema
    .createTable('workflow_events')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('actor_user_id', 'integer')
    .addColumn('org_id', 'integer')
    .addColumn('stage', 'integer')
    .addColumn('action', 'text', (c) => c.notNull()) // save_cover|submit|resubmit|approve|return|reset|reject|…
    .addColumn('opinion', 'text')
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text')
    .addColumn('data', 'text') // JSON extras (e.g. sections ticked on return)
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workflow_events_decl').on('workflow_events').columns(['declaration_id', 'id']).execute();

  // 通知公告: by the platform or a committee office; optionally a plan's 申报通知.
  await db.schema
    .createTable('notices')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('plan_id', 'integer', (c) => c.references('plans.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('author_user_id', 'integer')
    .addColumn('published_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('notice_reads')
    .addColumn('notice_id', 'integer', (c) => c.notNull().references('notices.id'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('read_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('notice_reads_pk', ['notice_id', 'user_id'])
    .execute();

  // Deadline reminders sent, so a restart never sends one twice.
  await db.schema
    .createTable('reminders_sent')
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('kind', 'text', (c) => c.notNull()) // 7d|1d
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('reminders_sent_pk', ['declaration_id', 'kind'])
    .execute();
}

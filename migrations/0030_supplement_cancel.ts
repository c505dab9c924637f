import type { Kysely } from 'kysely';

// 补充材料 (issue #13): the stage that asked may withdraw an open request (撤销); the applicant
// may remove a wrong file while the request is open. Withdrawn requests stay for the record.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('supplement_requests').addColumn('cancelled_at', 'text').execute();
  await db.schema.alterTable('supplement_requests').addColumn('cancelled_by', 'integer', (c) => c.references('users.id')).execute();
}

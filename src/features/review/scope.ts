import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { DB } from '../../db/index.js';
import type { CurrentUser } from '../../plugins/auth.js';

/**
 * Authorisation by scope (DESIGN.md §4): a staff user sees a declaration only when its route
 * passes through their organisation and it has reached that stage (or passed it). Every list,
 * export and id from a URL goes through `scoped()`; nothing else queries other people's
 * declarations for staff.
 */
export function scoped(db: DB | Kysely<Database>, user: Pick<CurrentUser, 'orgId'>) {
  const orgId = user.orgId ?? -1;
  return db
    .selectFrom('declarations as d')
    .innerJoin('declaration_stages as s', (j) => j.onRef('s.declaration_id', '=', 'd.id').on('s.org_id', '=', orgId))
    .where('d.submitted_at', 'is not', null)
    .where((eb) => eb.or([eb('s.idx', '<=', eb.ref('d.stage')), eb('d.status', 'in', ['approved', 'passed', 'failed'])]));
}

/** The route stages of a declaration, written at (re)submission and on a change of supervisor. */
export async function writeStages(db: Kysely<Database>, declarationId: number, stages: readonly { orgId: number; kind: string }[]): Promise<void> {
  await db.deleteFrom('declaration_stages').where('declaration_id', '=', declarationId).execute();
  if (!stages.length) return;
  await db
    .insertInto('declaration_stages')
    .values(stages.map((s, idx) => ({ declaration_id: declarationId, idx, org_id: s.orgId, kind: s.kind })))
    .execute();
}

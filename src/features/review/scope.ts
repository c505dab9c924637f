import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { listDeclarations, type DB } from '../../db/index.js';
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

/** Visible: the organisation's stage is reached or passed, or the declaration is past the committee. */
const VISIBLE_PAST = ['approved', 'passed', 'failed'] as const;

/**
 * scoped() for the lists (review queue, counts, statistics' options): the same rows, read
 * through the narrow covering indexes of migration 0021 (db/index.ts listDeclarations), so a
 * count or a page of a big office touches index pages only.
 */
export function scopedList(db: DB | Kysely<Database>, user: Pick<CurrentUser, 'orgId'>) {
  const orgId = user.orgId ?? -1;
  return listDeclarations(db)
    .innerJoin('declaration_stages as s', (j) => j.onRef('s.declaration_id', '=', 'd.id').on('s.org_id', '=', orgId))
    .where('d.submitted_at', 'is not', null)
    .where((eb) => eb.or([eb('s.idx', '<=', eb.ref('d.stage')), eb('d.status', 'in', VISIBLE_PAST)]));
}

/**
 * The declarations in scope, each once (statistics count people): an organisation at two stages
 * of one route sees it from its first one (s.idx is the lowest of its stages on that route).
 */
export function scopedOnce(db: DB | Kysely<Database>, user: Pick<CurrentUser, 'orgId'>) {
  const orgId = user.orgId ?? -1;
  return listDeclarations(db)
    .innerJoin(
      (eb) => eb.selectFrom('declaration_stages').select((e) => ['declaration_id', e.fn.min<number>('idx').as('idx')]).where('org_id', '=', orgId).groupBy('declaration_id').as('s'),
      (j) => j.onRef('s.declaration_id', '=', 'd.id'),
    )
    .where('d.submitted_at', 'is not', null)
    .where((eb) => eb.or([eb('s.idx', '<=', eb.ref('d.stage')), eb('d.status', 'in', VISIBLE_PAST)]));
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

/**
 * Routes with two unit stages (a dispatch worker's dispatch company, then the employer, seed 002
 * Q18 “双公示、双审核、双盖章”): the declaration's unit-stage columns (表十二 opinion, 核验,
 * publicity, recommendation) belong to the unit stage it is at. When 推荐上报 moves it on to the
 * next unit stage, the finished stage is kept in unit_stage_records and the columns start empty
 * for the next unit; a reset (back to the first unit) restores the first unit's opinion.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database>;

/** Moves the finished unit stage `stage` of the declaration off its columns (inside the caller's transaction). */
export async function archiveUnitStage(db: Db, declarationId: number, stage: number, orgId: number, stamp: string): Promise<void> {
  const d = await db.selectFrom('declarations').select(['unit_opinion', 'unit_verified_at', 'submitted_at', 'publicity_state', 'recommendation_id']).where('id', '=', declarationId).executeTakeFirstOrThrow();
  await db.deleteFrom('unit_stage_records').where('declaration_id', '=', declarationId).where('stage', '=', stage).execute();
  await db.insertInto('unit_stage_records').values({ declaration_id: declarationId, stage, org_id: orgId, ...d, created_at: stamp }).execute();
  await db.updateTable('declarations').set({ unit_opinion: null, unit_verified_at: null, publicity_state: null, recommendation_id: null }).where('id', '=', declarationId).execute();
}

/** A reset reopens the first unit stage: its opinion comes back (editable), the later records go. */
export async function reopenFirstUnitStage(db: Db, declarationId: number): Promise<void> {
  const first = await db.selectFrom('unit_stage_records').select(['unit_opinion']).where('declaration_id', '=', declarationId).orderBy('stage').executeTakeFirst();
  if (!first) return;
  await db.updateTable('declarations').set({ unit_opinion: first.unit_opinion }).where('id', '=', declarationId).execute();
  await db.deleteFrom('unit_stage_records').where('declaration_id', '=', declarationId).execute();
}

export async function unitStageRecords(db: Db, declarationId: number) {
  return db.selectFrom('unit_stage_records').selectAll().where('declaration_id', '=', declarationId).orderBy('stage').execute();
}

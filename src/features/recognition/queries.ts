import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { recognitionLocked } from '../../domain/recognition.js';
// STATUS_TEXT and the types from service.ts (which re-exports this file): used only inside the
// functions, so the circular import is safe.
import { STATUS_TEXT, type Actor, type Recognition } from './service.js';

// Recognition queries, every one scoped to the user or organisation asking (re-exported by service.ts).

const base = (db: Kysely<Database>) =>
  db.selectFrom('recognitions as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .innerJoin('orgs as unit', 'unit.id', 'r.unit_org_id')
    .innerJoin('orgs as office', 'office.id', 'r.decider_org_id')
    .selectAll('r')
    .select(['u.name', 'u.id_masked', 'unit.name as unit_name', 'office.name as office_name']);

export type RecRow = Recognition & { name: string; id_masked: string | null; unit_name: string; office_name: string };

export function ownRecognitions(ctx: AppContext, userId: number) {
  return base(ctx.db).where('r.user_id', '=', userId).orderBy('r.id', 'desc').execute() as Promise<RecRow[]>;
}

export async function ownRecognition(ctx: AppContext, userId: number, id: number): Promise<RecRow | undefined> {
  if (!Number.isSafeInteger(id)) return undefined;
  return (await base(ctx.db).where('r.id', '=', id).where('r.user_id', '=', userId).executeTakeFirst()) as RecRow | undefined;
}

/** Staff see the recognitions of their unit, and those their office decides (after 上报). */
export async function staffRecognition(ctx: AppContext, u: Actor, id: number): Promise<(RecRow & { asUnit: boolean; asOffice: boolean }) | undefined> {
  if (!Number.isSafeInteger(id) || !u.orgId) return undefined;
  const r = (await base(ctx.db).where('r.id', '=', id).executeTakeFirst()) as RecRow | undefined;
  if (!r) return undefined;
  const asUnit = r.unit_org_id === u.orgId;
  const asOffice = r.decider_org_id === u.orgId && r.submitted_at !== null;
  return asUnit || asOffice ? { ...r, asUnit, asOffice } : undefined;
}

export interface ListFilter {
  status?: string;
}

/** A staff list: the unit's own, or the office's queue (submitted at least once). Paged. */
export async function staffList(ctx: AppContext, u: Actor, f: ListFilter, limit: number, offset: number) {
  let q = base(ctx.db);
  q = u.orgKind === 'unit' || u.orgKind === 'agency' ? q.where('r.unit_org_id', '=', u.orgId ?? -1) : q.where('r.decider_org_id', '=', u.orgId ?? -1).where('r.submitted_at', 'is not', null);
  if (f.status && STATUS_TEXT[f.status]) q = q.where('r.status', '=', f.status as any);
  const [{ n }] = await q.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).execute();
  const rows = (await q.orderBy('r.id', 'desc').limit(limit).offset(offset).execute()) as RecRow[];
  return { rows, total: Number(n) };
}

/** How many wait for this organisation: the unit's 待上报 or the office's 待审核. */
export async function recognitionTodo(db: Kysely<Database>, u: { orgId: number | null; orgKind: string | null }): Promise<number> {
  if (!u.orgId) return 0;
  const q = u.orgKind === 'unit' || u.orgKind === 'agency'
    ? db.selectFrom('recognitions').where('unit_org_id', '=', u.orgId).where('status', '=', 'unit')
    : db.selectFrom('recognitions').where('decider_org_id', '=', u.orgId).where('status', '=', 'office');
  const r = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Counts by status of the recognitions this organisation sees (statistics). */
export async function recognitionCounts(db: Kysely<Database>, u: { orgId: number | null; orgKind: string | null }): Promise<{ total: number; byStatus: { label: string; value: number }[] }> {
  if (!u.orgId) return { total: 0, byStatus: [] };
  let q = db.selectFrom('recognitions').select(['status']).select((eb) => eb.fn.countAll<number>().as('n'));
  q = u.orgKind === 'unit' || u.orgKind === 'agency' ? q.where('unit_org_id', '=', u.orgId) : q.where('decider_org_id', '=', u.orgId).where('submitted_at', 'is not', null);
  const rows = await q.groupBy('status').execute();
  const byStatus = Object.keys(STATUS_TEXT).map((s) => ({ label: STATUS_TEXT[s]!, value: Number(rows.find((r) => r.status === s)?.n ?? 0) })).filter((x) => x.value > 0);
  return { total: byStatus.reduce((a, b) => a + b.value, 0), byStatus };
}

export async function eventsOf(db: Kysely<Database>, recId: number) {
  return db.selectFrom('recognition_events as e')
    .leftJoin('orgs as o', 'o.id', 'e.org_id')
    .leftJoin('users as u', 'u.id', 'e.actor_user_id')
    .select(['e.id', 'e.action', 'e.reason', 'e.from_status', 'e.to_status', 'e.created_at', 'o.name as org_name', 'u.name as actor_name'])
    .where('e.recognition_id', '=', recId)
    .orderBy('e.id')
    .execute();
}

/** The last 退回: 退回部门, 退回时间, 退回理由 (seed 004 1.4.1). */
export async function lastReturn(db: Kysely<Database>, recId: number) {
  return db.selectFrom('recognition_events as e').leftJoin('orgs as o', 'o.id', 'e.org_id')
    .select(['e.reason', 'e.created_at', 'o.name as org_name'])
    .where('e.recognition_id', '=', recId).where('e.action', '=', 'return').orderBy('e.id', 'desc').executeTakeFirst();
}

/** A recognition certificate by its verification code (the public /verify-cert check). */
export async function recognitionByCode(db: Kysely<Database>, code: string) {
  return db.selectFrom('recognitions as r').innerJoin('users as u', 'u.id', 'r.user_id').innerJoin('orgs as o', 'o.id', 'r.decider_org_id')
    .select(['r.id', 'r.level', 'r.education', 'r.degree', 'r.double_bachelor', 'r.postdoc', 'r.title_name', 'r.specialty', 'r.cert_number', 'r.decided_at', 'u.name', 'o.name as office'])
    .where('r.verify_code', '=', code).where('r.status', '=', 'approved').executeTakeFirst();
}

/** Why the applicant may not change their recognition now (recognitionLocked), or null (may, or not theirs). */
export async function lockedForApplicant(db: Kysely<Database>, userId: number, recognitionId: number): Promise<string | null> {
  if (!Number.isSafeInteger(recognitionId)) return null;
  const r = await db.selectFrom('recognitions').select('status').where('id', '=', recognitionId).where('user_id', '=', userId).executeTakeFirst();
  return r ? recognitionLocked(r.status, 'applicant') : null;
}

/**
 * 职能部门审核 inside one unit (seed 004 客户端; rules in src/domain/checkers.ts): the unit admin's
 * checkers, each checker's queue and sign-off, and what they mean for 核验通过 (verify() and the
 * panel call checkBlock()). Every declaration id goes through gate() (the caller's scope, waiting
 * for the caller's organisation at a unit stage); a checker id must be one of the caller's
 * organisation (and, to sign, assigned to the caller). Every change is audited.
 */
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { validateIdNumber } from '../../domain/idcard.js';
import { chinaToday } from '../plans/repository.js';
import {
  checkersBlock, checkStatus, validateChecker, validateSignoff,
  type CheckerDef, type CheckerErrors, type CheckStatus, type Signoff, type SignoffErrors, type Verdict,
} from '../../domain/checkers.js';
import { unitActions, type UnitActions } from '../../domain/unitstage.js';
import { audit } from '../audit/service.js';
import { parseCover } from '../declaration/service.js';
import { isTheirTurn } from '../review/service.js';
import { scoped } from '../review/scope.js';
import { gate, titleName, type Refusal, type Staff, type UnitDecl } from './service.js';

type Db = Kysely<Database>;

const NOT_FOUND: Refusal = { ok: false, status: 404, error: '申报不存在' };

// ---------------------------------------------------------------------------------------
// The unit admin's list

export async function listCheckers(db: Db, orgId: number): Promise<(CheckerDef & { userId: number })[]> {
  const rows = await db
    .selectFrom('unit_checkers as c')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .select(['c.id', 'c.name', 'c.applies_to', 'c.user_id', 'u.name as user_name', 'u.username'])
    .where('c.org_id', '=', orgId)
    .where('c.removed_at', 'is', null)
    .orderBy('c.id')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, scope: r.applies_to, userId: r.user_id, userName: `${r.user_name}${r.username ? `，${r.username}` : ''}` }));
}

/** The unit's active staff accounts a checker may be assigned to. */
export async function unitStaff(db: Db, orgId: number) {
  return db.selectFrom('users').select(['id', 'name', 'username']).where('org_id', '=', orgId).where('kind', '=', 'staff').where('disabled', '=', 0).orderBy('id').execute();
}

export type AddCheckerResult = { ok: true; id: number } | { ok: false; values: Record<string, string>; errors: CheckerErrors };

export async function addChecker(ctx: AppContext, user: Staff, body: Record<string, unknown>, ip?: string): Promise<AddCheckerResult> {
  const orgId = user.orgId!;
  return writeTx(ctx.db, async (trx) => {
    const staff = await unitStaff(trx, orgId);
    const taken = (await listCheckers(trx, orgId)).map((c) => c.name);
    const v = validateChecker(body, staff.map((s) => s.id), taken);
    if (!v.checker) return { ok: false, values: v.values, errors: v.errors };
    const stamp = ctx.config.now().toISOString();
    const row = await trx.insertInto('unit_checkers').values({ org_id: orgId, name: v.checker.name, user_id: v.checker.userId, applies_to: v.checker.scope, created_at: stamp, removed_at: null }).returning('id').executeTakeFirstOrThrow();
    const who = staff.find((s) => s.id === v.checker!.userId)!;
    await audit(ctx, null, { action: 'unit_checker_add', objectType: 'org', objectId: orgId, detail: `新增职能部门审核：${v.checker.name}（审核人：${who.name}${v.checker.scope === 'under40' ? '，仅40岁以下' : ''}）`, actor: user, ip }, trx);
    return { ok: true, id: row.id };
  });
}

/** One active checker of the caller's organisation, or undefined (404). */
export async function ownChecker(db: Db, user: Staff, checkerId: number) {
  if (!Number.isSafeInteger(checkerId) || checkerId <= 0) return undefined;
  return db.selectFrom('unit_checkers').selectAll().where('id', '=', checkerId).where('org_id', '=', user.orgId ?? -1).where('removed_at', 'is', null).executeTakeFirst();
}

/** Removes a checker (its past sign-offs stay and still print). */
export async function removeChecker(ctx: AppContext, user: Staff, checkerId: number, ip?: string): Promise<boolean> {
  return writeTx(ctx.db, async (trx) => {
    const c = await ownChecker(trx, user, checkerId);
    if (!c) return false;
    const stamp = ctx.config.now().toISOString();
    await trx.updateTable('unit_checkers').set({ removed_at: stamp }).where('id', '=', c.id).execute();
    await audit(ctx, null, { action: 'unit_checker_remove', objectType: 'org', objectId: c.org_id, detail: `删除职能部门审核：${c.name}`, actor: user, ip }, trx);
    return true;
  });
}

// ---------------------------------------------------------------------------------------
// Where a declaration stands with the checkers of the organisation at its unit stage

async function birthOf(ctx: AppContext, db: Db, userId: number): Promise<string> {
  const u = await db.selectFrom('users').select('id_enc').where('id', '=', userId).executeTakeFirst();
  if (!u?.id_enc) return '';
  const id = validateIdNumber(ctx.secrets.decrypt(u.id_enc), ctx.config.now());
  return id.ok ? id.birthDate : '';
}

async function signoffsOf(db: Db, declarationId: number, orgId: number): Promise<Signoff[]> {
  const rows = await db.selectFrom('checker_signoffs').selectAll().where('declaration_id', '=', declarationId).where('org_id', '=', orgId).execute();
  return rows.map((r) => ({ checkerId: r.checker_id, verdict: r.verdict, opinion: r.opinion, signedAt: r.signed_at, signerName: r.signer_name }));
}

export async function statusOf(
  ctx: AppContext, db: Db, orgId: number,
  d: { id: number; user_id: number; submitted_at: string | null },
): Promise<CheckStatus> {
  const checkers = await listCheckers(db, orgId);
  if (!checkers.length) return { rows: [], missing: [], against: [] };
  const onDate = d.submitted_at ? chinaToday(new Date(d.submitted_at)) : chinaToday(ctx.config.now());
  return checkStatus(checkers, await signoffsOf(db, d.id, orgId), { birthDate: await birthOf(ctx, db, d.user_id), submittedAt: d.submitted_at, onDate });
}

/** The unit's actions with the checkers taken into account (核验通过 waits for them). */
export async function actionsWithCheckers(ctx: AppContext, db: Db, orgId: number, g: UnitDecl): Promise<{ actions: UnitActions; checks: CheckStatus }> {
  const checks = await statusOf(ctx, db, orgId, g.d);
  const block = checkersBlock(checks);
  return { actions: block ? unitActions({ ...g.state, checkersBlock: block }) : g.actions, checks };
}

/** The opinions of one organisation's checkers on a declaration, for 表十二 (latest first signed, in checker order). */
export async function printedChecks(db: Db, declarationId: number, orgId: number) {
  const rows = await db.selectFrom('checker_signoffs').selectAll().where('declaration_id', '=', declarationId).where('org_id', '=', orgId).orderBy('checker_id').execute();
  return rows.map((r) => ({ name: r.checker_name, verdict: r.verdict, opinion: r.opinion, signer: r.signer_name, date: chinaToday(new Date(r.signed_at)) }));
}

// ---------------------------------------------------------------------------------------
// The checker's queue and sign-off

export interface CheckQueueRow {
  id: number;
  applicant: string;
  title: string;
  specialty: string;
  submittedAt: string | null;
  checks: { checkerId: number; name: string; signed: boolean; verdict: Verdict | null }[];
}

/** The declarations at the caller's unit stage that one of the caller's checkers must (or did) sign. */
export async function checkQueue(ctx: AppContext, user: Staff): Promise<CheckQueueRow[]> {
  const orgId = user.orgId ?? -1;
  const mine = (await listCheckers(ctx.db, orgId)).filter((c) => c.userId === user.id);
  if (!mine.length) return [];
  const rows = await scoped(ctx.db, user)
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .where('d.status', '=', 'reviewing')
    .whereRef('s.idx', '=', 'd.stage')
    .where('s.kind', 'in', ['unit', 'agency'])
    .selectAll('d')
    .select(['u.name as applicant'])
    .orderBy('d.submitted_at')
    .orderBy('d.id')
    .execute();
  const out: CheckQueueRow[] = [];
  for (const d of rows) {
    if (!isTheirTurn(d, orgId)) continue;
    const st = await statusOf(ctx, ctx.db, orgId, d);
    const checks = st.rows.filter((r) => mine.some((m) => m.id === r.id)).map((r) => ({ checkerId: r.id, name: r.name, signed: !!r.signoff, verdict: r.signoff?.verdict ?? null }));
    if (!checks.length) continue;
    const cover = parseCover(d);
    out.push({ id: d.id, applicant: d.applicant, title: titleName(cover.title), specialty: cover.specialty, submittedAt: d.submitted_at, checks });
  }
  return out;
}

/** The declaration as the checker sees it, with the caller's checkers that apply to it. */
export async function checkPage(ctx: AppContext, user: Staff, id: number) {
  const g = await gate(ctx.db, user, id);
  if (!g.ok) return g;
  const st = await statusOf(ctx, ctx.db, user.orgId!, g.d);
  const mine = (await listCheckers(ctx.db, user.orgId!)).filter((c) => c.userId === user.id).map((c) => c.id);
  const rows = st.rows.filter((r) => mine.includes(r.id));
  if (!rows.length) return { ok: false as const, status: 404 as const, error: '申报不存在' };
  return { ok: true as const, g, rows, open: g.step === 'opinion' || g.step === 'verify' };
}

export type SignoffResult = { ok: true } | Refusal | { ok: false; status: 422; errors: SignoffErrors; values: Record<string, string> };

/** 同意/不同意 with an opinion, by the staff account assigned to the checker, before 核验通过. */
export async function signOff(ctx: AppContext, user: Staff, id: number, checkerId: number, body: Record<string, unknown>, ip?: string): Promise<SignoffResult> {
  return writeTx(ctx.db, async (trx) => {
    const g = await gate(trx, user, id);
    if (!g.ok) return g;
    const c = await ownChecker(trx, user, checkerId);
    if (!c || c.user_id !== user.id) return NOT_FOUND;
    const st = await statusOf(ctx, trx, user.orgId!, g.d);
    if (!st.rows.some((r) => r.id === c.id)) return { ok: false, status: 409, error: `该申报人不在“${c.name}”的审核范围内` };
    if (g.step !== 'opinion' && g.step !== 'verify') return { ok: false, status: 409, error: '该申报已核验通过，职能部门审核意见不能再修改' };
    const v = validateSignoff(body);
    if (!v.ok) return { ok: false, status: 422, errors: v.errors, values: v.values };
    const stamp = ctx.config.now().toISOString();
    const me = await trx.selectFrom('users').select('name').where('id', '=', user.id).executeTakeFirstOrThrow();
    const row = { org_id: c.org_id, checker_name: c.name, user_id: user.id, signer_name: me.name, verdict: v.values.verdict as Verdict, opinion: v.values.opinion, signed_at: stamp };
    const had = await trx.selectFrom('checker_signoffs').select('id').where('declaration_id', '=', id).where('checker_id', '=', c.id).executeTakeFirst();
    if (had) await trx.updateTable('checker_signoffs').set(row).where('id', '=', had.id).execute();
    else await trx.insertInto('checker_signoffs').values({ declaration_id: id, checker_id: c.id, ...row }).execute();
    await audit(ctx, null, { action: 'unit_check', objectType: 'declaration', objectId: id, detail: `${c.name}：${v.values.verdict}（环节${g.d.stage}）`, actor: user, ip }, trx);
    return { ok: true };
  });
}

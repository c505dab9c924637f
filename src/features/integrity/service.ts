import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { validateIdNumber } from '../../domain/idcard.js';
import { maskIdNumber } from '../../domain/mask.js';
import { isDate } from '../../domain/plans.js';
import { integrityMessage, integrityRefusal, recordEnd, REASON_MAX } from '../../domain/integrity.js';
import { idHmac } from '../../lib/pii.js';
import { makePage, type Page } from '../../lib/paging.js';
import { chinaToday } from '../plans/repository.js';
import { discardFile, storeFile, type UploadInput } from '../files/service.js';
import { audit } from '../audit/service.js';

type Db = Kysely<Database>;
export type Staff = Pick<CurrentUser, 'id' | 'orgId' | 'orgKind' | 'name' | 'username' | 'roles' | 'kind'>;

/** 诚信档案 are kept by HR bureaus and committee offices (seed 002 一(一)1: 人力资源社会保障行政部门或者职称评审委员会核准备案部门). */
export const canRecord = (u: Pick<CurrentUser, 'kind' | 'orgKind'>) => u.kind === 'staff' && (u.orgKind === 'hrb' || u.orgKind === 'committee');

/** Declarations still in flight: submitted, not yet decided. A draft cannot be submitted any more anyway. */
const IN_FLIGHT = ['reviewing', 'returned'] as const;

export interface RecordValues {
  name: string;
  id_number: string;
  recorded_on: string;
  reason: string;
}
export type RecordErrors = Partial<Record<keyof RecordValues | 'evidence', string>>;

export function readRecordValues(fields: Record<string, string[] | string | undefined>): RecordValues {
  const one = (k: string) => {
    const v = fields[k];
    return (Array.isArray(v) ? v[v.length - 1] ?? '' : v ?? '').trim();
  };
  return { name: one('name'), id_number: one('id_number').toUpperCase(), recorded_on: one('recorded_on'), reason: one('reason') };
}

export function checkReason(reason: string, label = '原因'): string | null {
  if (!reason) return `请填写${label}`;
  if ([...reason].length > REASON_MAX) return `${label}不能超过${REASON_MAX}个字`;
  return null;
}

/** The 失信 records of the person with this ID number's look-up hash (all, lifted too). */
export function recordsOf(db: Db, hmac: string) {
  return db.selectFrom('integrity_records').select(['id', 'recorded_on', 'lifted_at', 'reason']).where('id_hmac', '=', hmac).execute();
}

/** Why this applicant may not declare today (诚信档案), or null. `db`: the transaction inside writeTx. */
export async function applicantIntegrityRefusal(ctx: AppContext, userId: number, db: Db = ctx.db): Promise<string | null> {
  const u = await db.selectFrom('users').select(['id_hmac']).where('id', '=', userId).executeTakeFirst();
  if (!u?.id_hmac) return null;
  return integrityRefusal(await recordsOf(db, u.id_hmac), chinaToday(ctx.config.now()));
}

export type RecordRow = Awaited<ReturnType<typeof listRecords>>['rows'][number];

/** The recording office's own records, newest first. */
export async function listRecords(ctx: AppContext, orgId: number, p: { page: number; size: number; offset: number }) {
  const base = ctx.db.selectFrom('integrity_records as r').where('r.org_id', '=', orgId);
  const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
  const rows = await base
    .leftJoin('users as u', 'u.id', 'r.created_by')
    .select(['r.id', 'r.name', 'r.id_masked', 'r.recorded_on', 'r.reason', 'r.lifted_at', 'r.created_at', 'u.name as by'])
    .orderBy('r.id', 'desc')
    .limit(p.size)
    .offset(p.offset)
    .execute();
  const today = chinaToday(ctx.config.now());
  const page: Page<(typeof rows)[number] & { until: string; state: string }> = makePage(
    rows.map((r) => ({ ...r, until: recordEnd(r.recorded_on), state: stateOf(r, today) })),
    total, p.page, p.size,
  );
  return page;
}

function stateOf(r: { recorded_on: string; lifted_at: string | null }, today: string): string {
  if (r.lifted_at) return '已撤销';
  if (r.recorded_on > today) return '未开始';
  return today <= recordEnd(r.recorded_on) ? '记录期内' : '已期满';
}

/** One record of the caller's office (another office's id → undefined, a 404). */
export async function getRecord(ctx: AppContext, orgId: number, id: number) {
  if (!Number.isSafeInteger(id)) return undefined;
  const r = await ctx.db
    .selectFrom('integrity_records as r')
    .leftJoin('users as u', 'u.id', 'r.created_by')
    .leftJoin('users as l', 'l.id', 'r.lifted_by')
    .leftJoin('files as f', 'f.id', 'r.evidence_file_id')
    .selectAll('r')
    .select(['u.name as by', 'l.name as lifted_by_name', 'f.original_name as evidence_name'])
    .where('r.id', '=', id)
    .where('r.org_id', '=', orgId)
    .executeTakeFirst();
  if (!r) return undefined;
  const closed = await ctx.db
    .selectFrom('workflow_events as e')
    .innerJoin('declarations as d', 'd.id', 'e.declaration_id')
    .select(['d.id', 'd.year', 'e.created_at'])
    .where('e.action', '=', 'integrity_reject')
    .where('e.data', '=', JSON.stringify({ integrityRecordId: r.id }))
    .execute();
  return { ...r, until: recordEnd(r.recorded_on), state: stateOf(r, chinaToday(ctx.config.now())), closed };
}

export async function evidenceFile(ctx: AppContext, orgId: number, id: number) {
  if (!Number.isSafeInteger(id)) return undefined;
  return ctx.db
    .selectFrom('integrity_records as r')
    .innerJoin('files as f', 'f.id', 'r.evidence_file_id')
    .select(['f.id', 'f.sha256', 'f.size', 'f.mime', 'f.original_name'])
    .where('r.id', '=', id)
    .where('r.org_id', '=', orgId)
    .executeTakeFirst();
}

export type CreateResult = { ok: true; id: number; closed: number } | { ok: false; errors: RecordErrors };

/**
 * 记入诚信档案: validates, stores the evidence through the blob store, then in one transaction
 * writes the record, closes the person's declarations in flight as 不予受理 with the reason (a
 * workflow event, the applicant's message) and the audit rows.
 */
export async function createRecord(ctx: AppContext, user: Staff, v: RecordValues, evidence: UploadInput | null, o: { tooLarge?: string; ip?: string } = {}): Promise<CreateResult> {
  const errors: RecordErrors = {};
  const today = chinaToday(ctx.config.now());
  if (!v.name) errors.name = '请填写姓名';
  else if ([...v.name].length > 50) errors.name = '姓名不能超过50个字';
  const id = validateIdNumber(v.id_number, ctx.config.now());
  if (!id.ok) errors.id_number = id.error;
  if (!v.recorded_on) errors.recorded_on = '请填写记录日期';
  else if (!isDate(v.recorded_on)) errors.recorded_on = '记录日期格式应为YYYY-MM-DD，如2026-03-15';
  else if (v.recorded_on > today) errors.recorded_on = '记录日期不能晚于今天';
  const r = checkReason(v.reason, '失信行为及处理依据');
  if (r) errors.reason = r;
  if (o.tooLarge) errors.evidence = o.tooLarge;
  else if (!evidence) errors.evidence = '请上传证明材料';
  if (Object.keys(errors).length || !id.ok) return { ok: false, errors };

  const stored = await storeFile(ctx, user.id, evidence!, 'doc');
  if (!stored.ok) return { ok: false, errors: { evidence: stored.error } };
  const hmac = idHmac(ctx.secrets, id.value);
  const stamp = ctx.config.now().toISOString();
  const until = recordEnd(v.recorded_on);
  try {
    return await writeTx(ctx.db, async (trx) => {
      const rec = await trx
        .insertInto('integrity_records')
        .values({ id_hmac: hmac, id_masked: maskIdNumber(id.value), name: v.name, recorded_on: v.recorded_on, reason: v.reason, evidence_file_id: stored.fileId, org_id: user.orgId!, created_by: user.id, created_at: stamp })
        .returning('id')
        .executeTakeFirstOrThrow();
      await audit(ctx, null, { action: 'integrity_record', objectType: 'integrity_record', objectId: rec.id, detail: `记入诚信档案：${v.name}（${maskIdNumber(id.value)}），记录日期${v.recorded_on}，至${until}`, actor: user, ip: o.ip }, trx);
      const closed = until >= today ? await closeInFlight(ctx, trx, user, hmac, rec.id, `记入职称评审诚信档案（${v.reason}），${integrityMessage(until)}`, o.ip) : 0;
      return { ok: true as const, id: rec.id, closed };
    });
  } catch (err) {
    await discardFile(ctx, user.id, stored.fileId);
    throw err;
  }
}

/** Closes the person's declarations in flight as 不予受理 (rejected) with `opinion`; returns how many. */
async function closeInFlight(ctx: AppContext, trx: Db, user: Staff, hmac: string, recordId: number, opinion: string, ip?: string): Promise<number> {
  const stamp = ctx.config.now().toISOString();
  const decls = await trx
    .selectFrom('declarations as d')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .select(['d.id', 'd.status', 'd.stage', 'd.user_id'])
    .where('u.id_hmac', '=', hmac)
    .where('d.status', 'in', [...IN_FLIGHT])
    .execute();
  for (const d of decls) {
    await trx.updateTable('declarations').set({ status: 'rejected', updated_at: stamp }).where('id', '=', d.id).where('status', '=', d.status).execute();
    await trx.insertInto('workflow_events').values({
      declaration_id: d.id, actor_user_id: user.id, org_id: user.orgId, stage: d.stage, action: 'integrity_reject',
      opinion, from_status: d.status, to_status: 'rejected', data: JSON.stringify({ integrityRecordId: recordId }), created_at: stamp,
    }).execute();
    await audit(ctx, null, { action: 'workflow', objectType: 'declaration', objectId: d.id, detail: `integrity_reject：${d.status}→rejected（诚信档案${recordId}）`, actor: user, ip }, trx);
    await trx.insertInto('messages').values({ user_id: d.user_id, type: '审核消息', content: `您的申报不予受理。原因：${opinion}`, created_at: stamp }).execute();
  }
  return decls.length;
}

export type LiftResult = { ok: true } | { ok: false; status: 404 | 409 | 422; error: string };

/** 提前撤销: only with a reason; audited. A lifted record bars nothing. */
export async function liftRecord(ctx: AppContext, user: Staff, id: number, reason: string, ip?: string): Promise<LiftResult> {
  const bad = checkReason(reason.trim(), '撤销原因');
  if (bad) return { ok: false, status: 422, error: bad };
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    const r = await trx.selectFrom('integrity_records').select(['id', 'name', 'id_masked', 'lifted_at']).where('id', '=', id).where('org_id', '=', user.orgId ?? -1).executeTakeFirst();
    if (!r) return { ok: false as const, status: 404 as const, error: '记录不存在' };
    if (r.lifted_at) return { ok: false as const, status: 409 as const, error: '该记录已撤销' };
    await trx.updateTable('integrity_records').set({ lifted_at: stamp, lifted_by: user.id, lift_reason: reason.trim() }).where('id', '=', id).execute();
    await audit(ctx, null, { action: 'integrity_lift', objectType: 'integrity_record', objectId: id, detail: `撤销诚信档案记录：${r.name}（${r.id_masked}），原因：${reason.trim()}`, actor: user, ip }, trx);
    return { ok: true as const };
  });
}

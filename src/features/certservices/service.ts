import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { CertServicesTable, Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { KIND_TEXT, REISSUE_STATUS_TEXT, SERVICE_STATUS_TEXT, refuseError, reissueErrors, transferErrors, transferOffice, type Errors, type TransferInput } from '../../domain/certServices.js';
import { chinaToday } from '../plans/repository.js';
import { routeInputs } from '../declaration/service.js';
import { storeFile, discardFile, type UploadInput } from '../files/service.js';
import { newVerifyCode, certificateQuery, certificateView } from '../results/service.js';
import { audit } from '../audit/service.js';
import { certNumberer } from '../results/certnumber.js';

/**
 * 证书服务 (issue #13, seed 002 §四). 外地调入人员职称资格确认: the applicant sends the certificate
 * of another province with its scan; the HR bureau of their unit's region confirms (a certificate
 * of this system, numbered in the bureau's sequence, linked to the original's number, authority and
 * date, added to 现有职称) or refuses with a reason. 遗失补办: the holder asks the office that
 * issued a certificate for a replacement (遗失原因, optional 登报声明); the replacement links to the
 * lost one, which /verify-cert then shows as 已补办.
 */

export type CertService = Omit<CertServicesTable, 'id'> & { id: number };
export type Actor = Pick<CurrentUser, 'id' | 'kind' | 'orgId' | 'orgKind' | 'roles' | 'name' | 'username'>;
export type OldType = 'certificate' | 'recognition' | 'cert_service';
export { KIND_TEXT };

export const statusText = (s: Pick<CertService, 'kind' | 'status'>) => (s.kind === 'reissue' ? REISSUE_STATUS_TEXT : SERVICE_STATUS_TEXT)[s.status] ?? s.status;
const stamp = (ctx: AppContext) => ctx.config.now().toISOString();
const today = (ctx: AppContext) => chinaToday(ctx.config.now());
export const str = (v: unknown) => (typeof v === 'string' ? v.trim() : Array.isArray(v) ? String(v[v.length - 1] ?? '').trim() : '');

/** The scan slots: the original certificate (required) and the 登报声明 (optional). */
export const SLOTS = { scan: '原职称证书扫描件', notice: '登报遗失声明' } as const;

// ---------------------------------------------------------------------------------------
// The holder's certificates that may be replaced

export interface OwnCert {
  key: string;
  type: OldType;
  id: number;
  number: string;
  title: string;
  level: string | null;
  specialty: string;
  officeId: number;
  office: string;
  issuedOn: string;
}

/** Every certificate of this system the user holds and that is not already replaced or being replaced. */
export async function replaceableCerts(db: Kysely<Database>, userId: number): Promise<OwnCert[]> {
  const out: OwnCert[] = [];
  for (const c of await certificateQuery(db).select('c.committee_org_id').where('d.user_id', '=', userId).orderBy('c.id').execute()) {
    const v = certificateView(c);
    out.push({ key: `certificate:${c.id}`, type: 'certificate', id: c.id, number: c.number, title: v.cover.title, level: v.cover.level ?? null, specialty: v.cover.specialty ?? '', officeId: c.committee_org_id, office: c.committee, issuedOn: c.issued_at.slice(0, 10) });
  }
  const recs = await db.selectFrom('recognitions as r').innerJoin('orgs as o', 'o.id', 'r.decider_org_id')
    .select(['r.id', 'r.cert_number', 'r.title_name', 'r.level', 'r.specialty', 'r.decider_org_id', 'o.name as office', 'r.decided_at'])
    .where('r.user_id', '=', userId).where('r.status', '=', 'approved').orderBy('r.id').execute();
  for (const r of recs) out.push({ key: `recognition:${r.id}`, type: 'recognition', id: r.id, number: r.cert_number ?? '', title: r.title_name, level: r.level, specialty: r.specialty, officeId: r.decider_org_id, office: r.office, issuedOn: (r.decided_at ?? '').slice(0, 10) });
  const svcs = await db.selectFrom('cert_services as s').innerJoin('orgs as o', 'o.id', 's.office_org_id')
    .select(['s.id', 's.cert_number', 's.title_name', 's.level', 's.specialty', 's.office_org_id', 'o.name as office', 's.decided_at'])
    .where('s.user_id', '=', userId).where('s.status', '=', 'confirmed').orderBy('s.id').execute();
  for (const s of svcs) out.push({ key: `cert_service:${s.id}`, type: 'cert_service', id: s.id, number: s.cert_number ?? '', title: s.title_name, level: s.level, specialty: s.specialty, officeId: s.office_org_id, office: s.office, issuedOn: (s.decided_at ?? '').slice(0, 10) });
  // Not one already replaced (confirmed) or with a request under way.
  const taken = await db.selectFrom('cert_services').select(['old_type', 'old_id']).where('user_id', '=', userId).where('kind', '=', 'reissue').where('status', '!=', 'refused').execute();
  return out.filter((c) => !taken.some((t) => t.old_type === c.type && t.old_id === c.id));
}

// ---------------------------------------------------------------------------------------
// Applying

export interface ApplyInput extends TransferInput {
  cert?: string;
  reason?: string;
}
export type ApplyResult = { ok: true; id: number } | { ok: false; errors: Errors };

export function formValues(fields: Record<string, string[]>): ApplyInput {
  const f = (k: string) => str(fields[k]);
  return { title_name: f('title_name'), specialty: f('specialty'), orig_number: f('orig_number'), orig_issuer: f('orig_issuer'), orig_date: f('orig_date'), cert: f('cert'), reason: f('reason') };
}

async function attachScan(trx: Kysely<Database>, ctx: AppContext, userId: number, id: number, slot: keyof typeof SLOTS, fileId: number) {
  await trx.insertInto('attachments').values({ user_id: userId, owner_type: 'cert_service', owner_id: id, slot, file_id: fileId, created_at: stamp(ctx) }).execute();
}

/** Stores the upload (content-checked like every upload); its refusal goes next to the file field. */
async function storeScan(ctx: AppContext, userId: number, file: UploadInput | undefined, required: boolean): Promise<{ ok: true; fileId: number | null } | { ok: false; error: string }> {
  if (!file) return required ? { ok: false, error: '请上传原职称证书扫描件' } : { ok: true, fileId: null };
  const s = await storeFile(ctx, userId, file, 'doc');
  return s.ok ? { ok: true, fileId: s.fileId } : { ok: false, error: s.error };
}

/** 外地调入人员职称资格确认: to the HR bureau of the applicant's unit. */
export async function applyTransfer(ctx: AppContext, actor: Actor, v: ApplyInput, file: UploadInput | undefined, ip?: string): Promise<ApplyResult> {
  const user = await ctx.db.selectFrom('users').select(['unit_org_id']).where('id', '=', actor.id).executeTakeFirstOrThrow();
  if (!user.unit_org_id) return { ok: false, errors: { form: '未选择工作单位：请先在“基本信息”中选择工作单位。' } };
  const dicts = await ctx.dicts.ready();
  const errors = transferErrors(v, today(ctx), (t) => dicts.titleLevel(t) ?? null);
  const inputs = await routeInputs(ctx.db, user.unit_org_id);
  const office = transferOffice(inputs.unit, inputs.hrbs);
  if (!office.ok) errors.form = `${office.error}：${office.detail}`;
  if (!Object.keys(errors).length) {
    const dup = await ctx.db.selectFrom('cert_services').select('id').where('user_id', '=', actor.id).where('kind', '=', 'transfer').where('orig_number', '=', v.orig_number!).where('status', '!=', 'refused').executeTakeFirst();
    if (dup) errors.orig_number = '该证书已申请过确认（待审核或已确认），不能重复申请';
  }
  const scan = await storeScan(ctx, actor.id, Object.keys(errors).length ? undefined : file, !Object.keys(errors).length);
  if (!scan.ok) errors.file = scan.error;
  if (Object.keys(errors).length || !scan.ok) return { ok: false, errors };
  const scanId = scan.fileId!;
  const o = (office as Extract<typeof office, { ok: true }>).office;
  const id = await writeTx(ctx.db, async (trx) => {
    const now = stamp(ctx);
    const row = await trx.insertInto('cert_services').values({
      kind: 'transfer', user_id: actor.id, office_org_id: o.orgId, status: 'office', title_name: v.title_name!, level: dicts.titleLevel(v.title_name!) ?? null, specialty: v.specialty!,
      orig_number: v.orig_number!, orig_issuer: v.orig_issuer!, orig_date: v.orig_date!, verify_code: newVerifyCode(), created_at: now, updated_at: now,
    }).returning('id').executeTakeFirstOrThrow();
    await attachScan(trx, ctx, actor.id, row.id, 'scan', scanId);
    await audit(ctx, null, { action: 'cert_service_apply', objectType: 'cert_service', objectId: row.id, detail: `${KIND_TEXT.transfer}：${v.orig_number}（${v.orig_issuer}）→ ${o.name}`, actor, ip }, trx);
    return row.id;
  });
  return { ok: true, id };
}

/** 遗失补办: to the office that issued the lost certificate. */
export async function applyReissue(ctx: AppContext, actor: Actor, v: ApplyInput, file: UploadInput | undefined, ip?: string): Promise<ApplyResult> {
  let certs = await replaceableCerts(ctx.db, actor.id);
  const errors = reissueErrors(v, certs.map((c) => c.key));
  const scan = Object.keys(errors).length ? { ok: true as const, fileId: null } : await storeScan(ctx, actor.id, file, false);
  if (!scan.ok) errors.notice_file = scan.error;
  if (Object.keys(errors).length || !scan.ok) return { ok: false, errors };
  const noticeId = scan.fileId;
  const r = await writeTx(ctx.db, async (trx) => {
    certs = await replaceableCerts(trx, actor.id);
    const c = certs.find((x) => x.key === v.cert);
    if (!c) return null;
    const now = stamp(ctx);
    const row = await trx.insertInto('cert_services').values({
      kind: 'reissue', user_id: actor.id, office_org_id: c.officeId, status: 'office', title_name: c.title, level: c.level, specialty: c.specialty,
      orig_number: c.number, orig_issuer: c.office, orig_date: c.issuedOn, reason: v.reason!, old_type: c.type, old_id: c.id,
      verify_code: newVerifyCode(), created_at: now, updated_at: now,
    }).returning('id').executeTakeFirstOrThrow();
    if (noticeId) await attachScan(trx, ctx, actor.id, row.id, 'notice', noticeId);
    await audit(ctx, null, { action: 'cert_service_apply', objectType: 'cert_service', objectId: row.id, detail: `${KIND_TEXT.reissue}：${c.number}（${c.office}）`, actor, ip }, trx);
    return row.id;
  });
  if (r === null) {
    if (noticeId) await discardFile(ctx, actor.id, noticeId);
    return { ok: false, errors: { cert: '该证书不能申请补办（已补办或正在办理中），请重新选择' } };
  }
  return { ok: true, id: r };
}

// ---------------------------------------------------------------------------------------
// Deciding

export type DecideResult = { ok: true; number?: string } | { ok: false; error: string; field?: string };

/** The office confirms (a certificate numbered in its sequence) or refuses with a reason. Once. */
export async function decide(ctx: AppContext, actor: Actor, s: CertService, action: 'confirm' | 'refuse', reasonRaw: string, ip?: string): Promise<DecideResult> {
  const reason = reasonRaw.trim();
  if (action === 'refuse') {
    const e = refuseError(reason);
    if (e) return { ok: false, error: e, field: 'reason' };
  }
  return writeTx(ctx.db, async (trx) => {
    const cur = await trx.selectFrom('cert_services').select('status').where('id', '=', s.id).executeTakeFirstOrThrow();
    if (cur.status !== 'office') return { ok: false as const, error: `该申请已办结（${statusText({ kind: s.kind, status: cur.status })}），不能重复处理` };
    const now = stamp(ctx);
    const what = KIND_TEXT[s.kind];
    if (action === 'refuse') {
      await trx.updateTable('cert_services').set({ status: 'refused', refuse_reason: reason, decided_by: actor.id, decided_at: now, updated_at: now }).where('id', '=', s.id).execute();
      await audit(ctx, null, { action: 'cert_service_refuse', objectType: 'cert_service', objectId: s.id, detail: reason, actor, ip }, trx);
      await trx.insertInto('messages').values({ user_id: s.user_id, type: '证书服务', content: `您的${what}申请未通过，理由：${reason}`, created_at: now }).execute();
      return { ok: true as const };
    }
    const year = Number(today(ctx).slice(0, 4));
    const { seq, number } = (await certNumberer(trx, s.office_org_id, year)).next();
    await trx.updateTable('cert_services').set({ status: 'confirmed', decided_by: actor.id, decided_at: now, cert_year: year, cert_seq: seq, cert_number: number, updated_at: now }).where('id', '=', s.id).execute();
    await currentTitle(trx, ctx, s, number, now);
    await audit(ctx, null, { action: 'cert_service_confirm', objectType: 'cert_service', objectId: s.id, detail: `证书编号 ${number}${s.kind === 'reissue' ? `（补发，原证书 ${s.orig_number}）` : `（原证书 ${s.orig_number}）`}`, actor, ip }, trx);
    await trx.insertInto('messages').values({
      user_id: s.user_id, type: '证书服务',
      content: s.kind === 'reissue' ? `您的职称证书（${s.orig_number}）已补办，新证书编号：${number}，原证书作废。` : `您的外地职称证书（${s.orig_number}）已确认，证书编号：${number}。已记入“现有职称情况”。`,
      created_at: now,
    }).execute();
    return { ok: true as const, number };
  });
}

/** 现有职称: a confirmed transfer adds a row; a replacement puts its number on the lost one's row. */
async function currentTitle(trx: Kysely<Database>, ctx: AppContext, s: CertService, number: string, now: string) {
  const rows = await trx.selectFrom('section_rows').select(['id', 'data', 'position']).where('user_id', '=', s.user_id).where('section', '=', 'titles').execute();
  if (s.kind === 'reissue') {
    for (const r of rows) {
      const d = JSON.parse(r.data) as Record<string, unknown>;
      if (d.cert_no !== s.orig_number) continue;
      await trx.updateTable('section_rows').set({ data: JSON.stringify({ ...d, cert_no: number, replaces_cert_no: s.orig_number, cert_service_id: s.id }), updated_at: now }).where('id', '=', r.id).execute();
    }
    return;
  }
  const office = await trx.selectFrom('orgs').select('name').where('id', '=', s.office_org_id).executeTakeFirstOrThrow();
  const data = {
    cert_no: number, specialty: s.specialty, title_name: s.title_name, title_level: s.level, acquisition: '申报评审', committee: s.orig_issuer, certified_on: s.orig_date,
    approval_doc: `外地调入确认 ${number}（${office.name}；原证书编号 ${s.orig_number}）`, employed: '', cert_service_id: s.id, orig_cert_no: s.orig_number,
  };
  const pos = rows.reduce((m, r) => Math.max(m, r.position), 0) + 1;
  await trx.insertInto('section_rows').values({ user_id: s.user_id, section: 'titles', position: pos, data: JSON.stringify(data), created_at: now, updated_at: now }).execute();
  void ctx;
}

// ---------------------------------------------------------------------------------------
// Queries (scoped)

const base = (db: Kysely<Database>) =>
  db.selectFrom('cert_services as s').innerJoin('users as u', 'u.id', 's.user_id').innerJoin('orgs as o', 'o.id', 's.office_org_id')
    .leftJoin('orgs as unit', 'unit.id', 'u.unit_org_id')
    .selectAll('s').select(['u.name', 'u.id_masked', 'o.name as office_name', 'unit.name as unit_name']);
export type ServiceRow = CertService & { name: string; id_masked: string | null; office_name: string; unit_name: string | null };

export function ownServices(db: Kysely<Database>, userId: number) {
  return base(db).where('s.user_id', '=', userId).orderBy('s.id', 'desc').execute() as Promise<ServiceRow[]>;
}
export async function ownService(db: Kysely<Database>, userId: number, id: number): Promise<ServiceRow | undefined> {
  if (!Number.isSafeInteger(id)) return undefined;
  return (await base(db).where('s.id', '=', id).where('s.user_id', '=', userId).executeTakeFirst()) as ServiceRow | undefined;
}
/** An office sees only the requests addressed to it. */
export async function officeService(db: Kysely<Database>, u: Actor, id: number): Promise<ServiceRow | undefined> {
  if (!Number.isSafeInteger(id) || !u.orgId) return undefined;
  return (await base(db).where('s.id', '=', id).where('s.office_org_id', '=', u.orgId).executeTakeFirst()) as ServiceRow | undefined;
}
export async function officeList(db: Kysely<Database>, u: Actor, status: string | undefined, limit: number, offset: number) {
  let q = base(db).where('s.office_org_id', '=', u.orgId ?? -1);
  if (status && SERVICE_STATUS_TEXT[status]) q = q.where('s.status', '=', status as CertService['status']);
  const [{ n }] = await q.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).execute();
  const rows = (await q.orderBy('s.id', 'desc').limit(limit).offset(offset).execute()) as ServiceRow[];
  return { rows, total: Number(n) };
}
export async function officeTodo(db: Kysely<Database>, orgId: number | null): Promise<number> {
  if (!orgId) return 0;
  const r = await db.selectFrom('cert_services').select((eb) => eb.fn.countAll<number>().as('n')).where('office_org_id', '=', orgId).where('status', '=', 'office').executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** The scans of a request (its owner's files). */
export function filesOf(db: Kysely<Database>, s: { id: number; user_id: number }) {
  return db.selectFrom('attachments as a').innerJoin('files as f', 'f.id', 'a.file_id')
    .select(['a.slot', 'f.id', 'f.sha256', 'f.size', 'f.mime', 'f.original_name as name'])
    .where('a.owner_type', '=', 'cert_service').where('a.owner_id', '=', s.id).where('a.user_id', '=', s.user_id).orderBy('a.id').execute();
}

// ---------------------------------------------------------------------------------------
// /verify-cert

/** A certificate of a confirmed request, by its code. */
export function serviceByCode(db: Kysely<Database>, code: string) {
  return base(db).where('s.verify_code', '=', code).where('s.status', '=', 'confirmed').executeTakeFirst() as Promise<ServiceRow | undefined>;
}

/** The replacement of a certificate, if it was replaced: its number and date. */
export function replacementOf(db: Kysely<Database>, type: OldType, id: number) {
  return db.selectFrom('cert_services').select(['id', 'cert_number', 'decided_at']).where('kind', '=', 'reissue').where('status', '=', 'confirmed').where('old_type', '=', type).where('old_id', '=', id).executeTakeFirst();
}

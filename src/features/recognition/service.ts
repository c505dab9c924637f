import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database, RecognitionsTable } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import type { CurrentUser } from '../../plugins/auth.js';
import {
  DECIDER_LABELS, REC_LEVEL_NAMES, REC_LEVELS, REC_SLOTS, basisOf, filingError, isRecLevel, levelError, parseWindowMonths, proposeLevel,
  recKindOf, recognitionDecider, recognitionLocked, windowError, windowState, type Basis, type DeciderResult, type EducationFacts, type RecLevel,
} from '../../domain/recognition.js';
import { isValidDate } from '../../domain/workdays.js';
import { validatePhone } from '../../domain/phone.js';
import { chinaToday } from '../plans/repository.js';
import { routeInputs } from '../declaration/service.js';
import { listAttachments, type AttachmentItem } from '../files/service.js';
import { newVerifyCode } from '../results/service.js';
import { audit } from '../audit/service.js';
import { certNumberer } from '../results/certnumber.js';

export type Recognition = Omit<RecognitionsTable, 'id' | 'double_bachelor' | 'postdoc' | 'by_unit'> & { id: number; double_bachelor: number; postdoc: number; by_unit: number };
export type Actor = Pick<CurrentUser, 'id' | 'kind' | 'orgId' | 'orgKind' | 'roles' | 'name' | 'username'>;

export const STATUS_TEXT: Record<string, string> = {
  draft: '填写中',
  unit: '待单位审核上报',
  office: '待认定部门审核',
  returned: '被退回修改',
  approved: '已认定',
  refused: '不予认定',
};
export const ACTION_TEXT: Record<string, string> = {
  create: '填写材料', send: '提交单位', submit: '上报', return: '退回', approve: '认定通过', refuse: '不予认定',
};

const today = (ctx: AppContext) => chinaToday(ctx.config.now());

// ---------------------------------------------------------------------------------------
// The archive: education (highest by the rule's order) and the 认定时间 default

const BASIS_RANK: readonly Basis[] = ['none', 'secondary', 'college', 'bachelor', 'double_bachelor', 'master', 'doctor', 'postdoc'];

export async function archiveFacts(db: Kysely<Database>, userId: number): Promise<{ education: string | null; degree: string | null; hiredDefault: string | null }> {
  const rows = await db.selectFrom('section_rows').select(['section', 'data']).where('user_id', '=', userId).where('section', 'in', ['educations', 'work']).orderBy('position').execute();
  let best: { education: string | null; degree: string | null; rank: number } = { education: null, degree: null, rank: -1 };
  let hired: string | null = null;
  for (const r of rows) {
    const d = JSON.parse(r.data) as Record<string, string | null>;
    if (r.section === 'educations') {
      const rank = BASIS_RANK.indexOf(basisOf({ education: d.education ?? null, degree: d.degree ?? null, doubleBachelor: false, postdoc: false }));
      if (rank > best.rank) best = { education: d.education ?? null, degree: d.degree && d.degree !== '无' ? d.degree : null, rank };
    } else if (d.end === '至今' && d.start && isValidDate(d.start)) hired = d.start;
  }
  return { education: best.education, degree: best.degree, hiredDefault: hired };
}

// ---------------------------------------------------------------------------------------
// Deciding office and its window

export async function deciderOf(db: Kysely<Database>, level: RecLevel, unitOrgId: number): Promise<DeciderResult> {
  const inputs = await routeInputs(db, unitOrgId);
  return recognitionDecider(level, inputs.unit, inputs.hrbs, inputs.parentRegion);
}

export async function windowOf(db: Kysely<Database>, officeId: number, todayStr: string) {
  const o = await db.selectFrom('orgs').select(['name', 'recognition_months']).where('id', '=', officeId).executeTakeFirst();
  const months = parseWindowMonths(o?.recognition_months) ?? parseWindowMonths(null)!;
  const w = windowState(months, todayStr);
  return { ...w, months, error: windowError(w, months, o?.name ?? '认定部门') };
}

// ---------------------------------------------------------------------------------------
// The form

export interface RecInput {
  level?: string;
  title_name?: string;
  specialty?: string;
  hired_on?: string;
  filing_date?: string;
  double_bachelor?: string;
  postdoc?: string;
}
export type Errors = Record<string, string>;

export const str = (v: unknown) => (typeof v === 'string' ? v.trim() : Array.isArray(v) ? String(v[v.length - 1] ?? '').trim() : '');

export function formValues(b: Record<string, unknown>): RecInput {
  return {
    level: str(b.level), title_name: str(b.title_name), specialty: str(b.specialty), hired_on: str(b.hired_on), filing_date: str(b.filing_date),
    double_bachelor: str(b.double_bachelor) ? '1' : '', postdoc: str(b.postdoc) ? '1' : '',
  };
}

export function valuesOf(r: Recognition): RecInput {
  return { level: r.level, title_name: r.title_name, specialty: r.specialty, hired_on: r.hired_on, filing_date: r.filing_date, double_bachelor: r.double_bachelor ? '1' : '', postdoc: r.postdoc ? '1' : '' };
}

/** The titles a recognition may give, by level (资格名称 as the archive stores them: '系列 - 名称'). */
export async function titleOptions(ctx: AppContext) {
  const dicts = await ctx.dicts.ready();
  return dicts.options('titles').map((o) => ({ name: o.name, level: dicts.titleLevel(o.name) ?? '' })).filter((o) => isRecLevel(o.level));
}

/** 初定 or 认定 of a stored recognition (its education as recorded when it was filled in). */
export const kindOf = (r: Pick<Recognition, 'level' | 'education' | 'degree' | 'double_bachelor' | 'postdoc'>) =>
  recKindOf(r.level, { education: r.education, degree: r.degree, doubleBachelor: !!r.double_bachelor, postdoc: !!r.postdoc });

export function factsOf(archive: { education: string | null; degree: string | null }, v: RecInput): EducationFacts {
  return { education: archive.education, degree: archive.degree, doubleBachelor: v.double_bachelor === '1', postdoc: v.postdoc === '1', hiredOn: v.hired_on || null };
}

interface Checked {
  errors: Errors;
  level?: RecLevel;
  decider?: { kind: string; orgId: number; name: string };
}

/**
 * Every refusal of issue #14 with its reason next to its field: a level the education does not
 * support (or not yet), an expired 备案表, outside the office's window, a duplicate for the same
 * level, and the decider's missing pieces (单位信息不完整 / 主管单位审核未通过 / 查找人社局失败).
 */
export async function checkForm(ctx: AppContext, db: Kysely<Database>, userId: number, unitOrgId: number, v: RecInput, exceptId?: number): Promise<Checked> {
  const errors: Errors = {};
  const now = today(ctx);
  const level = isRecLevel(v.level) ? v.level : undefined;
  if (!level) errors.level = '请选择认定级别';
  // The callers load the dictionaries before their writeTx: ready() may read ctx.db, which the
  // transaction holds (a deadlock on SQLite).
  const dicts = ctx.dicts;
  if (!v.title_name) errors.title_name = '请选择资格名称';
  else if (level && dicts.titleLevel(v.title_name) !== level) errors.title_name = `资格名称“${v.title_name}”不是${REC_LEVEL_NAMES[level]}职称，请重新选择`;
  if (!v.specialty) errors.specialty = '请填写职称专业';
  else if ([...v.specialty].length > 50) errors.specialty = '职称专业不超过50个字';
  if (!v.hired_on) errors.hired_on = '请填写认定时间（《招工录用登记表》或《事业单位聘用通知书》上的记载时间）';
  else if (!isValidDate(v.hired_on)) errors.hired_on = '认定时间格式不正确（年-月-日）';
  else if (v.hired_on > now) errors.hired_on = '认定时间不能晚于今天';
  const fErr = filingError(v.filing_date, now);
  if (fErr) errors.filing_date = fErr;
  const archive = await archiveFacts(db, userId);
  if (level && !errors.hired_on) {
    const e = levelError(factsOf(archive, v), level, now);
    if (e) errors.level = e;
  }
  let decider: Checked['decider'];
  if (level) {
    const d = await deciderOf(db, level, unitOrgId);
    if (!d.ok) errors.form = `${d.error}：${d.detail}`;
    else {
      decider = d.decider;
      const w = await windowOf(db, d.decider.orgId, now);
      if (w.error) errors.form = w.error;
    }
    let q = db.selectFrom('recognitions').select(['id', 'status']).where('user_id', '=', userId).where('level', '=', level).where('status', '!=', 'refused');
    if (exceptId) q = q.where('id', '!=', exceptId);
    const dup = await q.executeTakeFirst();
    if (dup && !errors.level) errors.level = `已有一份${REC_LEVEL_NAMES[level]}职称认定（${STATUS_TEXT[dup.status]}），同一级别不能重复申报`;
  }
  return { errors, level, decider };
}

// ---------------------------------------------------------------------------------------
// Use cases

const stamp = (ctx: AppContext) => ctx.config.now().toISOString();

async function event(trx: Kysely<Database>, ctx: AppContext, r: { id: number }, actor: Actor, action: string, from: string | null, to: string, reason: string | null = null) {
  await trx.insertInto('recognition_events').values({ recognition_id: r.id, actor_user_id: actor.id, org_id: actor.kind === 'staff' ? actor.orgId : null, action, reason, from_status: from, to_status: to, created_at: stamp(ctx) }).execute();
}

export type SaveResult = { ok: true; id: number } | { ok: false; errors: Errors };

/** Starts a recognition for `userId` (the applicant, or the unit on their behalf). */
export async function createRecognition(ctx: AppContext, actor: Actor, userId: number, v: RecInput, ip?: string): Promise<SaveResult> {
  const user = await ctx.db.selectFrom('users').select(['unit_org_id']).where('id', '=', userId).executeTakeFirstOrThrow();
  if (!user.unit_org_id) return { ok: false, errors: { form: '未选择工作单位：请先在“基本信息”中选择工作单位。' } };
  const unitOrgId = user.unit_org_id;
  await ctx.dicts.ready();
  return writeTx(ctx.db, async (trx) => {
    const c = await checkForm(ctx, trx, userId, unitOrgId, v);
    if (Object.keys(c.errors).length) return { ok: false as const, errors: c.errors };
    const archive = await archiveFacts(trx, userId);
    const now = stamp(ctx);
    const row = await trx.insertInto('recognitions').values({
      user_id: userId, unit_org_id: unitOrgId, level: c.level!, title_name: v.title_name!, specialty: v.specialty!, education: archive.education, degree: archive.degree,
      double_bachelor: v.double_bachelor === '1' ? 1 : 0, postdoc: v.postdoc === '1' ? 1 : 0, hired_on: v.hired_on!, filing_date: v.filing_date!,
      decider_org_id: c.decider!.orgId, decider_kind: c.decider!.kind, status: 'draft', by_unit: actor.kind === 'staff' ? 1 : 0, created_by: actor.id,
      verify_code: newVerifyCode(), created_at: now, updated_at: now,
    }).returning('id').executeTakeFirstOrThrow();
    await event(trx, ctx, row, actor, 'create', null, 'draft');
    await audit(ctx, null, { action: 'recognition_create', objectType: 'recognition', objectId: row.id, detail: `${REC_LEVEL_NAMES[c.level!]}：${v.title_name}`, actor, ip }, trx);
    return { ok: true as const, id: row.id };
  });
}

export async function updateRecognition(ctx: AppContext, actor: Actor, r: Recognition, v: RecInput, ip?: string): Promise<SaveResult> {
  const locked = recognitionLocked(r.status, actor.kind === 'applicant' ? 'applicant' : 'unit');
  if (locked) return { ok: false, errors: { form: locked } };
  await ctx.dicts.ready();
  return writeTx(ctx.db, async (trx) => {
    const c = await checkForm(ctx, trx, r.user_id, r.unit_org_id, v, r.id);
    if (Object.keys(c.errors).length) return { ok: false as const, errors: c.errors };
    const archive = await archiveFacts(trx, r.user_id);
    await trx.updateTable('recognitions').set({
      level: c.level!, title_name: v.title_name!, specialty: v.specialty!, education: archive.education, degree: archive.degree,
      double_bachelor: v.double_bachelor === '1' ? 1 : 0, postdoc: v.postdoc === '1' ? 1 : 0, hired_on: v.hired_on!, filing_date: v.filing_date!,
      decider_org_id: c.decider!.orgId, decider_kind: c.decider!.kind, updated_at: stamp(ctx),
    }).where('id', '=', r.id).execute();
    await audit(ctx, null, { action: 'recognition_update', objectType: 'recognition', objectId: r.id, actor, ip }, trx);
    return { ok: true as const, id: r.id };
  });
}

export async function filesOf(ctx: AppContext, r: { id: number; user_id: number }): Promise<AttachmentItem[]> {
  return (await listAttachments(ctx, r.user_id, 'recognition', [r.id])).get(r.id) ?? [];
}

/** The required slots still empty (`db`: the caller's transaction inside writeTx). */
export async function missingFiles(db: Kysely<Database>, r: { id: number; user_id: number }): Promise<string[]> {
  const rows = await db.selectFrom('attachments').select('slot').where('user_id', '=', r.user_id).where('owner_type', '=', 'recognition').where('owner_id', '=', r.id).execute();
  return REC_SLOTS.filter((s) => s.required && !rows.some((f) => f.slot === s.key)).map((s) => s.label);
}

type Move = { ok: true } | { ok: false; error: string; errors?: Errors };

/** Everything checked again when the recognition moves on: the form's rules, the window, the files. */
async function readyToMove(ctx: AppContext, trx: Kysely<Database>, r: Recognition): Promise<Move> {
  const c = await checkForm(ctx, trx, r.user_id, r.unit_org_id, valuesOf(r), r.id);
  if (Object.keys(c.errors).length) return { ok: false, error: Object.values(c.errors)[0]!, errors: c.errors };
  const missing = await missingFiles(trx, r);
  if (missing.length) return { ok: false, error: `请上传：${missing.join('、')}` };
  return { ok: true };
}

/** The applicant hands the filled recognition to the unit. */
export async function sendToUnit(ctx: AppContext, actor: Actor, r: Recognition, ip?: string): Promise<Move> {
  if (r.status !== 'draft' && r.status !== 'returned') return { ok: false, error: '当前状态不能提交单位' };
  await ctx.dicts.ready();
  return writeTx(ctx.db, async (trx) => {
    const ready = await readyToMove(ctx, trx, r);
    if (!ready.ok) return ready;
    await trx.updateTable('recognitions').set({ status: 'unit', updated_at: stamp(ctx) }).where('id', '=', r.id).execute();
    await event(trx, ctx, r, actor, 'send', r.status, 'unit');
    await audit(ctx, null, { action: 'recognition_send', objectType: 'recognition', objectId: r.id, actor, ip }, trx);
    return { ok: true as const };
  });
}

/** 上报: the unit sends it to the deciding office with the operator's name and phone (seed 004 1.2.1). */
export async function unitSubmit(ctx: AppContext, actor: Actor, r: Recognition, b: { operator_name?: string; operator_phone?: string }, ip?: string): Promise<Move> {
  const errors: Errors = {};
  const name = str(b.operator_name);
  if (!name) errors.operator_name = '请填写操作人姓名';
  else if ([...name].length > 20) errors.operator_name = '操作人姓名不超过20个字';
  const phoneRaw = str(b.operator_phone);
  const phone = phoneRaw ? validatePhone(phoneRaw) : null;
  if (!phoneRaw) errors.operator_phone = '请填写联系电话';
  else if (phone && !phone.ok && !/^0\d{2,3}-?\d{7,8}$/.test(phoneRaw)) errors.operator_phone = '联系电话格式不正确（手机号或带区号的固定电话）';
  if (Object.keys(errors).length) return { ok: false, error: Object.values(errors)[0]!, errors };
  const locked = recognitionLocked(r.status, 'unit');
  if (locked) return { ok: false, error: locked };
  await ctx.dicts.ready();
  return writeTx(ctx.db, async (trx) => {
    const ready = await readyToMove(ctx, trx, r);
    if (!ready.ok) return ready;
    const now = stamp(ctx);
    await trx.updateTable('recognitions').set({ status: 'office', operator_name: name, operator_phone: phone?.ok ? phone.value : phoneRaw, submitted_at: now, updated_at: now }).where('id', '=', r.id).execute();
    await event(trx, ctx, r, actor, 'submit', r.status, 'office', `操作人：${name}，联系电话：${phoneRaw}`);
    await audit(ctx, null, { action: 'recognition_submit', objectType: 'recognition', objectId: r.id, detail: `上报至认定部门 ${r.decider_org_id}`, actor, ip }, trx);
    await trx.insertInto('messages').values({ user_id: r.user_id, type: '职称认定', content: `您的${REC_LEVEL_NAMES[r.level]}职称认定材料已由单位上报。`, created_at: now }).execute();
    return { ok: true as const };
  });
}

export type DecideResult = { ok: true; number?: string } | { ok: false; error: string; field?: string };

/**
 * The deciding office: 认定通过 issues the certificate (certNumberer: the office's pattern and
 * sequence) and fills 现有职称; 退回 (reason required) goes back to the unit and applicant;
 * 不予认定 (reason required) ends it.
 */
export async function decide(ctx: AppContext, actor: Actor, r: Recognition, action: string, reasonRaw: string, ip?: string): Promise<DecideResult> {
  const reason = reasonRaw.trim();
  if (!['approve', 'return', 'refuse'].includes(action)) return { ok: false, error: '请选择审核结果', field: 'action' };
  if (action !== 'approve' && !reason) return { ok: false, error: action === 'return' ? '请填写退回理由' : '请填写不予认定的理由', field: 'reason' };
  if ([...reason].length > 500) return { ok: false, error: '意见不超过500字', field: 'reason' };
  return writeTx(ctx.db, async (trx) => {
    const cur = await trx.selectFrom('recognitions').select(['status']).where('id', '=', r.id).executeTakeFirstOrThrow();
    if (cur.status !== 'office') return { ok: false as const, error: '该材料当前不在认定部门审核中' };
    const now = stamp(ctx);
    const kindName = kindOf(r);
    if (action === 'approve') {
      const year = Number(today(ctx).slice(0, 4));
      const { seq, number } = (await certNumberer(trx, r.decider_org_id, year)).next();
      await trx.updateTable('recognitions').set({ status: 'approved', decided_at: now, decided_by: actor.id, cert_year: year, cert_seq: seq, cert_number: number, updated_at: now }).where('id', '=', r.id).execute();
      await event(trx, ctx, r, actor, 'approve', 'office', 'approved', reason || null);
      await fillCurrentTitle(trx, ctx, r, number, now);
      await audit(ctx, null, { action: 'recognition_approve', objectType: 'recognition', objectId: r.id, detail: `证书编号 ${number}`, actor, ip }, trx);
      await trx.insertInto('messages').values({ user_id: r.user_id, type: '职称认定', content: `您的${REC_LEVEL_NAMES[r.level]}职称${kindName}已通过，证书编号：${number}。已记入“现有职称情况”。`, created_at: now }).execute();
      return { ok: true as const, number };
    }
    const to = action === 'return' ? 'returned' : 'refused';
    await trx.updateTable('recognitions').set({ status: to, decided_at: action === 'refuse' ? now : null, decided_by: actor.id, updated_at: now }).where('id', '=', r.id).execute();
    await event(trx, ctx, r, actor, action, 'office', to, reason);
    await audit(ctx, null, { action: action === 'return' ? 'recognition_return' : 'recognition_refuse', objectType: 'recognition', objectId: r.id, detail: reason, actor, ip }, trx);
    await trx.insertInto('messages').values({
      user_id: r.user_id, type: '职称认定',
      content: action === 'return' ? `您的${REC_LEVEL_NAMES[r.level]}职称认定材料被退回修改，理由：${reason}` : `您的${REC_LEVEL_NAMES[r.level]}职称认定未通过（不予认定），理由：${reason}`,
      created_at: now,
    }).execute();
    return { ok: true as const };
  });
}

/** 现有职称: a row of the 'titles' section, 获取方式 直接认定 or 考核定职 (the dictionary's words for 初定/认定). */
async function fillCurrentTitle(trx: Kysely<Database>, ctx: AppContext, r: Recognition, number: string, now: string) {
  const facts = factsOf({ education: r.education, degree: r.degree }, valuesOf(r));
  const opt = proposeLevel(facts, today(ctx)).options.find((o) => o.level === r.level);
  const direct = !opt || opt.from === r.hired_on || opt.from === null;
  const office = await trx.selectFrom('orgs').select('name').where('id', '=', r.decider_org_id).executeTakeFirstOrThrow();
  const data = {
    cert_no: number, specialty: r.specialty, title_name: r.title_name, title_level: r.level, acquisition: direct ? '直接认定' : '考核定职',
    committee: office.name, certified_on: today(ctx), approval_doc: `${kindOf(r)}表 ${number}`, employed: '否', recognition_id: r.id,
  };
  const max = await trx.selectFrom('section_rows').select((eb) => eb.fn.max<number>('position').as('p')).where('user_id', '=', r.user_id).where('section', '=', 'titles').executeTakeFirst();
  await trx.insertInto('section_rows').values({ user_id: r.user_id, section: 'titles', position: Number(max?.p ?? 0) + 1, data: JSON.stringify(data), created_at: now, updated_at: now }).execute();
}

// The scoped queries (lists, counts, events, /verify-cert) are in queries.ts.
export * from './queries.js';

export { DECIDER_LABELS, REC_LEVEL_NAMES, REC_LEVELS, REC_SLOTS, recKindOf, proposeLevel };

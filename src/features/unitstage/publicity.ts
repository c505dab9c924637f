/**
 * 申报公示 (seed 002 §五(三)4: ≥ 5 working days at the unit, 学历、资历条件及主要业绩): the unit
 * puts verified declarations into a publicity, prints the notice for its notice board or website
 * (with where objections go: 异议受理电话/地址, and a seal area), and completes it with the result
 * per person. Declarations go through the unit-stage gate (./service.ts).
 */
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { addWorkingDays, isValidDate } from '../../domain/workdays.js';
import { display } from '../../domain/sectionRules.js';
import { minPublicityDays, publicityOver, MAX_PUBLICITY_DAYS } from '../../domain/unitstage.js';
import { reviewFormModel, chineseDate } from '../../print/reviewForm.js';
import { loadCalendar } from '../holidays/service.js';
import type { Snapshot } from '../declaration/service.js';
import { chinaToday } from '../plans/repository.js';
import { audit } from '../audit/service.js';
import { validateContactPhone } from '../units/service.js';
import { gate, titleName, unitQueue, Refused, type QueueRow, type Refusal, type Staff } from './service.js';

type Db = Kysely<Database>;

export interface PublicityValues {
  title: string;
  start_date: string;
  days: string;
  /** 异议受理电话 / 异议受理地址: printed on the notice. */
  contact_phone: string;
  contact_address: string;
  ids: string[];
}

export type PublicityErrors = Partial<Record<'title' | 'start_date' | 'days' | 'contact_phone' | 'contact_address' | 'ids', string>>;

export const CONTACT_PHONE_MAX = 30;
export const CONTACT_ADDRESS_MAX = 100;

function missingYearsWarning(years: number[]): string {
  return years.length ? `缺少${years.join('、')}年节假日数据，按普通工作日计算` : '';
}

/** End date of a publicity from its start and working days, with the missing-holiday warning. */
export async function publicityEnd(ctx: AppContext, start: string, days: number): Promise<{ end: string; warning: string }> {
  const r = addWorkingDays(start, days, await loadCalendar(ctx.db));
  return { end: r.end, warning: missingYearsWarning(r.missingYears) };
}

/** The unit's verified, not yet publicised declarations of plans that require publicity. */
export async function publicityCandidates(db: Db, user: Staff): Promise<QueueRow[]> {
  return (await unitQueue(db, user)).filter((r) => r.step === 'publicity');
}

/** The unit's own 联系电话 and 单位地址: the defaults of a new publicity's contact line. */
export async function unitContact(db: Db, orgId: number | null): Promise<{ phone: string; address: string }> {
  const o = await db.selectFrom('orgs').select(['phone', 'address']).where('id', '=', orgId ?? -1).executeTakeFirst();
  return { phone: o?.phone ?? '', address: o?.address ?? '' };
}

export function newPublicityValues(candidates: QueueRow[], today: string, contact: { phone: string; address: string } = { phone: '', address: '' }): PublicityValues {
  return {
    title: '', start_date: today, days: String(minPublicityDays(candidates.map((c) => c.publicityDays))),
    contact_phone: contact.phone, contact_address: contact.address, ids: [],
  };
}

export function readPublicityForm(body: Record<string, unknown>): PublicityValues {
  const s = (v: unknown) => (typeof v === 'string' ? v.trim() : Array.isArray(v) ? String(v[v.length - 1] ?? '').trim() : '');
  const raw = body.ids;
  const ids = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((x) => String(x).trim()).filter((x) => /^\d{1,12}$/.test(x));
  return {
    title: s(body.title), start_date: s(body.start_date), days: s(body.days),
    contact_phone: s(body.contact_phone), contact_address: s(body.contact_address), ids: [...new Set(ids)],
  };
}

/** Field checks of the 新增公示 form; `end` when start and days are valid. */
export async function checkPublicity(
  ctx: AppContext, v: PublicityValues, candidates: QueueRow[], o: { requireIds: boolean },
): Promise<{ errors: PublicityErrors; end: string; warning: string; days: number; contactPhone: string }> {
  const errors: PublicityErrors = {};
  const today = chinaToday(ctx.config.now());
  if (!v.title) errors.title = '请填写标题';
  else if ([...v.title].length > 100) errors.title = '标题不能超过100个字';
  if (!v.start_date) errors.start_date = '请填写开始日期';
  else if (!isValidDate(v.start_date)) errors.start_date = '开始日期格式不正确，应为YYYY-MM-DD';
  else if (v.start_date < today) errors.start_date = `开始日期不能早于今天（${today}）`;
  const chosen = candidates.filter((c) => v.ids.includes(String(c.id)));
  const min = minPublicityDays((chosen.length ? chosen : candidates).map((c) => c.publicityDays));
  const days = /^\d{1,3}$/.test(v.days) ? Number(v.days) : NaN;
  if (!v.days) errors.days = '请填写公示工作日数';
  else if (!Number.isInteger(days)) errors.days = '公示工作日数应为整数';
  else if (days < min) errors.days = `公示期不能少于${min}个工作日`;
  else if (days > MAX_PUBLICITY_DAYS) errors.days = `公示工作日数不能超过${MAX_PUBLICITY_DAYS}`;
  const phone = validateContactPhone(v.contact_phone, '异议受理电话');
  if (!phone.ok) errors.contact_phone = phone.error;
  if ([...v.contact_address].length > CONTACT_ADDRESS_MAX) errors.contact_address = `异议受理地址不能超过${CONTACT_ADDRESS_MAX}个字`;
  if (o.requireIds) {
    if (!v.ids.length) errors.ids = '请勾选公示名单';
    else if (chosen.length !== v.ids.length) errors.ids = '公示名单中有人员已不在待公示名单中，请刷新后重新选择';
  }
  let end = '';
  let warning = '';
  if (!errors.start_date && isValidDate(v.start_date) && !errors.days) ({ end, warning } = await publicityEnd(ctx, v.start_date, days));
  return { errors, end, warning, days, contactPhone: phone.ok ? phone.value : v.contact_phone };
}

export type CreatePublicityResult =
  | { ok: true; id: number; end: string; warning: string }
  | { ok: false; status: 409 | 422; errors: PublicityErrors; end: string; warning: string };

export async function createPublicity(ctx: AppContext, user: Staff, v: PublicityValues, ip?: string): Promise<CreatePublicityResult> {
  const candidates = await publicityCandidates(ctx.db, user);
  const check = await checkPublicity(ctx, v, candidates, { requireIds: true });
  if (Object.keys(check.errors).length) return { ok: false, status: 422, errors: check.errors, end: check.end, warning: check.warning };
  const stamp = ctx.config.now().toISOString();
  try {
    const id = await writeTx(ctx.db, async (trx) => {
      const p = await trx
        .insertInto('publicities')
        .values({
          org_id: user.orgId!, title: v.title, start_date: v.start_date, days: check.days, end_date: check.end, status: 'open',
          contact_phone: check.contactPhone, contact_address: v.contact_address || null, created_by: user.id, created_at: stamp,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      for (const raw of v.ids) {
        const declId = Number(raw);
        const g = await gate(trx, user, declId);
        if (!g.ok || g.step !== 'publicity') throw new Refused({ ok: false, status: 409, error: '公示名单中有人员已不在待公示名单中，请刷新后重新选择' });
        await trx.insertInto('publicity_items').values({ publicity_id: p.id, declaration_id: declId, objection: 0, note: null }).execute();
        await trx.updateTable('declarations').set({ publicity_state: 'open', updated_at: stamp }).where('id', '=', declId).execute();
        await trx.insertInto('workflow_events').values({
          declaration_id: declId, actor_user_id: user.id, org_id: user.orgId, stage: g.d.stage, action: 'publicize',
          opinion: `申报公示：${v.start_date}至${check.end}（${check.days}个工作日）`, from_status: g.d.status, to_status: g.d.status,
          data: JSON.stringify({ publicityId: p.id, state: 'open' }), created_at: stamp,
        }).execute();
        await audit(ctx, null, {
          action: 'publicity_start', objectType: 'declaration', objectId: declId,
          detail: `公示 ${p.id}：${v.start_date}至${check.end}（${check.days}个工作日，共${v.ids.length}人）`, actor: user, ip,
        }, trx);
      }
      return p.id;
    });
    return { ok: true, id, end: check.end, warning: check.warning };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, status: 409, errors: { ids: err.refusal.error }, end: check.end, warning: check.warning };
    throw err;
  }
}

export async function listPublicities(ctx: AppContext, user: Staff, limit: number, offset: number) {
  const orgId = user.orgId ?? -1;
  const total = await ctx.db.selectFrom('publicities').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', orgId).executeTakeFirst();
  const rows = await ctx.db
    .selectFrom('publicities as p')
    .leftJoin('publicity_items as i', 'i.publicity_id', 'p.id')
    .select(['p.id', 'p.title', 'p.start_date', 'p.days', 'p.end_date', 'p.status', 'p.created_at', 'p.completed_at'])
    .select((eb) => [eb.fn.count<number>('i.declaration_id').as('people'), eb.fn.sum<number>('i.objection').as('objections')])
    .where('p.org_id', '=', orgId)
    .groupBy('p.id')
    .orderBy('p.id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
  const today = chinaToday(ctx.config.now());
  return {
    total: Number(total?.n ?? 0),
    rows: rows.map((r) => ({
      ...r, people: Number(r.people ?? 0), objections: Number(r.objections ?? 0),
      statusLabel: r.status === 'completed' ? '已完成公示' : publicityOver(r.end_date, today) ? '公示期满，待完成公示' : '公示中',
    })),
  };
}

/** One row of the printable 公示表, from the version under review. */
export interface PublicityRow {
  declarationId: number;
  name: string;
  unit: string;
  title: string;
  education: string;
  qualification: string;
  achievements: string[];
  objection: boolean;
  note: string | null;
  state: string | null;
}

function rowsOf(s: Snapshot, key: string): Record<string, unknown>[] {
  return (s.sections[key] ?? []).map((r) => r.data as Record<string, unknown>);
}

export function publicityRowOf(s: Snapshot, today: string): Omit<PublicityRow, 'declarationId' | 'objection' | 'note' | 'state'> {
  const m = reviewFormModel(s, { today, preview: false, pledge: '' });
  const edu = m.education.highest ? `${m.education.highest}（${[m.education.school, m.education.major].filter(Boolean).join('，')}${m.education.graduated ? `，${m.education.graduated}毕业` : ''}）` : '无';
  const achievements = [
    ...rowsOf(s, 'main-works').slice(0, 2).map((r) => `${display(r.start)}至${display(r.end)}，${display(r.duty)}：${display(r.content)}${r.effect ? `成效：${display(r.effect)}` : ''}`),
    ...rowsOf(s, 'awards').slice(0, 2).map((r) => `${display(r.approved_on)} ${display(r.name)}（${[display(r.level), display(r.grade)].filter(Boolean).join('')}）`),
  ];
  return {
    name: s.person.name,
    unit: s.person.unitName ?? '',
    title: `${titleName(s.cover.title)}${s.cover.specialty ? `（${s.cover.specialty}）` : ''}`,
    education: edu,
    qualification: `现职称：${m.currentTitle}；现职称履职年限：${m.tenure.titleText}；从事专业技术工作年限：${m.tenure.workText}`,
    achievements,
  };
}

export async function publicityDetail(ctx: AppContext, user: Staff, id: number) {
  if (!Number.isSafeInteger(id) || id <= 0) return null;
  const p = await ctx.db.selectFrom('publicities').selectAll().where('id', '=', id).where('org_id', '=', user.orgId ?? -1).executeTakeFirst();
  if (!p) return null;
  const org = await ctx.db.selectFrom('orgs').select(['name', 'phone', 'address']).where('id', '=', p.org_id).executeTakeFirstOrThrow();
  const items = await ctx.db
    .selectFrom('publicity_items as i')
    .innerJoin('declarations as d', 'd.id', 'i.declaration_id')
    .leftJoin('declaration_versions as v', 'v.id', 'd.version_id')
    .select(['i.declaration_id', 'i.objection', 'i.note', 'd.publicity_state', 'v.snapshot'])
    .where('i.publicity_id', '=', p.id)
    .orderBy('i.declaration_id')
    .execute();
  const today = chinaToday(ctx.config.now());
  const rows: PublicityRow[] = items.map((it) => {
    const base = it.snapshot
      ? publicityRowOf(JSON.parse(it.snapshot) as Snapshot, today)
      : { name: '', unit: '', title: '', education: '', qualification: '', achievements: [] };
    return { declarationId: it.declaration_id, ...base, objection: !!it.objection, note: it.note, state: it.publicity_state };
  });
  const over = publicityOver(p.end_date, today);
  // Older publicities (before 0013) name the unit's current phone and address.
  const contact = { phone: p.contact_phone ?? org.phone ?? '', address: p.contact_address ?? (p.contact_phone ? '' : org.address ?? '') };
  return { publicity: p, orgName: org.name, contact, issuedOn: chineseDate(p.start_date), rows, over, today, canComplete: p.status === 'open' && over };
}

export type CompleteValues = Record<string, { result: string; note: string }>;

/** The posted result_<declarationId> (none|objection) and note_<declarationId> fields. */
export function readCompleteForm(body: Record<string, unknown>): CompleteValues {
  const s = (v: unknown) => (typeof v === 'string' ? v.replace(/\r\n/g, '\n').trim() : Array.isArray(v) ? String(v[v.length - 1] ?? '').trim() : '');
  const out: CompleteValues = {};
  for (const key of Object.keys(body ?? {})) {
    const m = /^(?:result|note)_(\d{1,12})$/.exec(key);
    if (m && !out[m[1]!]) out[m[1]!] = { result: s(body[`result_${m[1]}`]), note: s(body[`note_${m[1]}`]) };
  }
  return out;
}

export type CompleteResult = { ok: true; objections: number } | Refusal | { ok: false; status: 422; error: string; errors: Record<string, string> };

/** 完成公示: from the day after the end date, with 无异议/有异议 recorded per person. */
export async function completePublicity(ctx: AppContext, user: Staff, id: number, values: CompleteValues, ip?: string): Promise<CompleteResult> {
  const today = chinaToday(ctx.config.now());
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    const p = await trx.selectFrom('publicities').selectAll().where('id', '=', id).where('org_id', '=', user.orgId ?? -1).executeTakeFirst();
    if (!p) return { ok: false, status: 404, error: '公示不存在' } as Refusal;
    if (p.status !== 'open') return { ok: false, status: 409, error: '该公示已完成，不能重复操作' } as Refusal;
    if (!publicityOver(p.end_date, today)) return { ok: false, status: 409, error: `公示期至${p.end_date}，期满后（次日起）方可完成公示` } as Refusal;
    const items = await trx.selectFrom('publicity_items').select(['declaration_id']).where('publicity_id', '=', p.id).orderBy('declaration_id').execute();
    const errors: Record<string, string> = {};
    for (const it of items) {
      const v = values[String(it.declaration_id)];
      if (!v || (v.result !== 'none' && v.result !== 'objection')) errors[`result_${it.declaration_id}`] = '请选择公示结果（无异议或有异议）';
      else if (v.result === 'objection' && !v.note) errors[`note_${it.declaration_id}`] = '有异议的，请填写异议情况';
      if (v && [...v.note].length > 200) errors[`note_${it.declaration_id}`] = '异议情况不能超过200个字';
    }
    if (Object.keys(errors).length) return { ok: false, status: 422, error: '请为每位公示人员选择公示结果', errors };
    let objections = 0;
    for (const it of items) {
      const v = values[String(it.declaration_id)]!;
      const objection = v.result === 'objection';
      if (objection) objections++;
      await trx.updateTable('publicity_items').set({ objection: objection ? 1 : 0, note: v.note || null }).where('publicity_id', '=', p.id).where('declaration_id', '=', it.declaration_id).execute();
      // Only declarations still in this publicity change state (a reset one has left it).
      const d = await trx.selectFrom('declarations').select(['id', 'status', 'stage', 'publicity_state']).where('id', '=', it.declaration_id).executeTakeFirstOrThrow();
      if (d.publicity_state !== 'open') continue;
      await trx.updateTable('declarations').set({ publicity_state: objection ? 'objection' : 'no_objection', updated_at: stamp }).where('id', '=', d.id).execute();
      await trx.insertInto('workflow_events').values({
        declaration_id: d.id, actor_user_id: user.id, org_id: user.orgId, stage: d.stage, action: 'publicize',
        opinion: objection ? `公示有异议：${v.note}` : '公示期满，无异议', from_status: d.status, to_status: d.status,
        data: JSON.stringify({ publicityId: p.id, state: objection ? 'objection' : 'no_objection' }), created_at: stamp,
      }).execute();
      await audit(ctx, null, {
        action: 'publicity_complete', objectType: 'declaration', objectId: d.id,
        detail: `公示 ${p.id} 完成：${objection ? '有异议（不能推荐上报）' : '无异议'}`, actor: user, ip,
      }, trx);
    }
    await trx.updateTable('publicities').set({ status: 'completed', completed_at: stamp }).where('id', '=', p.id).execute();
    return { ok: true, objections };
  });
}

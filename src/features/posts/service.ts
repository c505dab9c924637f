/**
 * 岗位设置与聘任 (seed 004; src/domain/posts.ts holds the rules): a unit's 岗位数 per level,
 * its 聘任 records, vacancies, the 核验 check and the statistics for supervisors.
 */
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { audit } from '../audit/service.js';
import { chinaToday } from '../plans/repository.js';
import { appointedNow, checkAppointment, checkQuotas, postTable, POST_LEVEL_NAME, vacancyDecision, type LevelPosts, type VacancyDecision } from '../../domain/posts.js';
import { ruleModes } from '../../domain/whoMay.js';
import { sanctionableUnits } from '../integrity/sanctions.js';

type Db = Kysely<Database>;
export interface Actor { id: number; name: string; username: string | null; orgId: number | null; roles: string[]; kind: 'applicant' | 'staff' }

const todayOf = (ctx: AppContext) => chinaToday(ctx.config.now());

/** The unit's table (岗位数, 现聘, 空岗 per level) on `today`. */
export async function postsOf(db: Db, orgId: number, today: string): Promise<LevelPosts[]> {
  const quotas = await db.selectFrom('post_quotas').select(['level', 'quota']).where('org_id', '=', orgId).execute();
  const list = await db.selectFrom('appointments').select(['level', 'start_date', 'end_date']).where('org_id', '=', orgId).execute();
  return postTable(Object.fromEntries(quotas.map((q) => [q.level, q.quota])), appointedNow(list, today));
}

export const unitPosts = (ctx: AppContext, orgId: number) => postsOf(ctx.db, orgId, todayOf(ctx));

/** Saves the 岗位数 form; a number below the people appointed now is refused (nothing saved). */
export async function saveQuotas(ctx: AppContext, actor: Actor, orgId: number, body: Record<string, unknown>, ip?: string) {
  return writeTx(ctx.db, async (trx) => {
    const posts = await postsOf(trx, orgId, todayOf(ctx));
    const r = checkQuotas(body, Object.fromEntries(posts.map((p) => [p.level, p.appointed])));
    if (!r.quotas) return { ok: false as const, values: r.values, errors: r.errors };
    const stamp = ctx.config.now().toISOString();
    await trx.deleteFrom('post_quotas').where('org_id', '=', orgId).execute();
    const rows = Object.entries(r.quotas).filter(([, q]) => q !== null).map(([level, quota]) => ({ org_id: orgId, level, quota: quota!, updated_by: actor.id, updated_at: stamp }));
    if (rows.length) await trx.insertInto('post_quotas').values(rows).execute();
    const detail = rows.map((x) => `${POST_LEVEL_NAME[x.level]}${x.quota}`).join('，') || '（未设置）';
    await audit(ctx, null, { action: 'post_quotas', objectType: 'org', objectId: orgId, detail: `岗位数：${detail}`, actor, ip }, trx);
    return { ok: true as const };
  });
}

export interface AppointmentRow {
  id: number; user_id: number; name: string; id_masked: string | null; level: string; levelName: string; post_name: string | null;
  start_date: string; end_date: string | null; certificate: string | null; current: boolean; endable: boolean;
}

export async function listAppointments(ctx: AppContext, orgId: number, all = false): Promise<AppointmentRow[]> {
  const today = todayOf(ctx);
  let q = ctx.db
    .selectFrom('appointments as a')
    .innerJoin('users as u', 'u.id', 'a.user_id')
    .leftJoin('certificates as c', 'c.id', 'a.certificate_id')
    .select(['a.id', 'a.user_id', 'u.name', 'u.id_masked', 'a.level', 'a.post_name', 'a.start_date', 'a.end_date', 'c.number as certificate'])
    .where('a.org_id', '=', orgId);
  if (!all) q = q.where('a.start_date', '<=', today).where((eb) => eb.or([eb('a.end_date', 'is', null), eb('a.end_date', '>=', today)]));
  const rows = await q.orderBy('a.level').orderBy('u.name').orderBy('a.id').execute();
  return rows.map((r) => ({
    ...r, levelName: POST_LEVEL_NAME[r.level] ?? r.level, certificate: r.certificate ?? null,
    current: r.start_date <= today && (!r.end_date || r.end_date >= today),
    endable: !r.end_date || r.end_date >= today,
  }));
}

/** The unit's people (the 聘任 form's choices). */
export const unitPeople = (ctx: AppContext, orgId: number) =>
  ctx.db.selectFrom('users').select(['id', 'name', 'id_masked']).where('kind', '=', 'applicant').where('unit_org_id', '=', orgId).orderBy('name').orderBy('id').execute();

export type AppointmentValues = Record<'user_id' | 'level' | 'post_name' | 'start_date' | 'end_date' | 'certificate', string>;

export const readAppointment = (body: Record<string, unknown>): AppointmentValues => {
  const s = (k: string) => { const v = body[k]; return (typeof v === 'string' ? v : '').trim(); };
  return { user_id: s('user_id'), level: s('level'), post_name: s('post_name'), start_date: s('start_date'), end_date: s('end_date'), certificate: s('certificate') };
};

/** Adds a 聘任: the person must be one of the unit's; a current one needs a vacant post. */
export async function addAppointment(ctx: AppContext, actor: Actor, orgId: number, v: AppointmentValues, ip?: string) {
  return writeTx(ctx.db, async (trx) => {
    const errors: Record<string, string> = {};
    const person = /^\d{1,12}$/.test(v.user_id)
      ? await trx.selectFrom('users').select(['id', 'name']).where('id', '=', Number(v.user_id)).where('kind', '=', 'applicant').where('unit_org_id', '=', orgId).executeTakeFirst()
      : undefined;
    if (!person) errors.user_id = '请选择本单位的专业技术人员';
    if ([...v.post_name].length > 50) errors.post_name = '岗位名称不能超过50个字';
    let certificateId: number | null = null;
    if (v.certificate && person) {
      const cert = await trx.selectFrom('certificates as c').innerJoin('declarations as d', 'd.id', 'c.declaration_id')
        .select('c.id').where('c.number', '=', v.certificate).where('d.user_id', '=', person.id).executeTakeFirst();
      if (!cert) errors.certificate = '未找到该人员的此证书编号（须为本系统发放给该人员的证书）';
      else certificateId = cert.id;
    }
    const today = todayOf(ctx);
    const posts = await postsOf(trx, orgId, today);
    const current = person
      ? await trx.selectFrom('appointments').select('level').where('user_id', '=', person.id).where('org_id', '=', orgId)
        .where('start_date', '<=', today).where((eb) => eb.or([eb('end_date', 'is', null), eb('end_date', '>=', today)])).executeTakeFirst()
      : undefined;
    Object.assign(errors, checkAppointment(v, posts, today, current ?? null), errors);
    if (errors.person) { errors.user_id = errors.person; delete errors.person; }
    if (Object.keys(errors).length) return { ok: false as const, errors };
    const stamp = ctx.config.now().toISOString();
    const row = await trx.insertInto('appointments').values({
      org_id: orgId, user_id: person!.id, level: v.level, post_name: v.post_name || null, start_date: v.start_date, end_date: v.end_date || null,
      certificate_id: certificateId, created_by: actor.id, created_at: stamp, ended_by: null, ended_at: null,
    }).returning('id').executeTakeFirstOrThrow();
    await audit(ctx, null, { action: 'appointment_add', objectType: 'appointment', objectId: row.id, detail: `${person!.name}：${POST_LEVEL_NAME[v.level]}岗位，${v.start_date}起`, actor, ip }, trx);
    return { ok: true as const, name: person!.name };
  });
}

/** One appointment of the unit (404 otherwise). */
export async function appointmentOf(ctx: AppContext, orgId: number, id: number) {
  if (!Number.isSafeInteger(id)) return undefined;
  const r = await ctx.db.selectFrom('appointments as a').innerJoin('users as u', 'u.id', 'a.user_id')
    .select(['a.id', 'u.name', 'a.level', 'a.start_date', 'a.end_date']).where('a.id', '=', id).where('a.org_id', '=', orgId).executeTakeFirst();
  return r && { ...r, levelName: POST_LEVEL_NAME[r.level] ?? r.level };
}

/** 解聘: the appointment ends today (the post is free from tomorrow, a history row stays). */
export async function endAppointment(ctx: AppContext, actor: Actor, orgId: number, id: number, ip?: string): Promise<string | null> {
  const a = await appointmentOf(ctx, orgId, id);
  if (!a) return null;
  const today = todayOf(ctx);
  if (a.end_date && a.end_date < today) return `该聘任已于${a.end_date}结束`;
  // Ends yesterday: the post is vacant from today. One not yet begun is thereby withdrawn
  // (its end before its start: never current).
  const finalEnd = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  const stamp = ctx.config.now().toISOString();
  await writeTx(ctx.db, async (trx) => {
    await trx.updateTable('appointments').set({ end_date: finalEnd, ended_by: actor.id, ended_at: stamp }).where('id', '=', id).execute();
    await audit(ctx, null, { action: 'appointment_end', objectType: 'appointment', objectId: id, detail: `${a.name}：解聘${a.levelName}岗位（聘任至${finalEnd}）`, actor, ip }, trx);
  });
  return '';
}

/**
 * Q7(1) at the unit's 核验: the declared level's vacancy, judged as the declaration's plan says
 * (rule post_vacancy of declare_rules). Runs inside the verify transaction.
 */
export async function vacancyAtVerify(db: Db, orgId: number, declarationId: number, today: string): Promise<VacancyDecision> {
  const d = await db.selectFrom('declarations as d').innerJoin('plans as p', 'p.id', 'd.plan_id')
    .select(['d.cover_level', 'p.declare_rules']).where('d.id', '=', declarationId).executeTakeFirst();
  if (!d) return { ok: true, warning: '' };
  return vacancyDecision(d.cover_level, await postsOf(db, orgId, today), ruleModes(d.declare_rules).post_vacancy);
}

/** Adds up tables: 岗位数 and 现聘 summed; 空岗 summed per unit (an over-appointed unit fills no other's vacancy). */
function sumTables(tables: readonly LevelPosts[][]): LevelPosts[] {
  const levels = postTable({}, {});
  const at = (t: readonly LevelPosts[], level: string) => t.find((x) => x.level === level)!;
  const out = postTable(
    Object.fromEntries(levels.map((l) => [l.level, tables.some((t) => at(t, l.level).quota !== null) ? tables.reduce((s, t) => s + (at(t, l.level).quota ?? 0), 0) : null])),
    Object.fromEntries(levels.map((l) => [l.level, tables.reduce((s, t) => s + at(t, l.level).appointed, 0)])),
  );
  for (const row of out) {
    row.vacant = tables.reduce((s, t) => s + at(t, row.level).vacant, 0);
    row.over = tables.reduce((s, t) => s + at(t, row.level).over, 0);
  }
  return out;
}

/**
 * 岗位统计 (结构比例): one row per unit — a unit sees itself, a supervisor its units, an HR bureau
 * the units of its region — with the totals, and for an HR bureau one row per 主管部门.
 */
export async function postStats(ctx: AppContext, user: { id: number; orgId: number | null; orgKind: string | null; name: string; username: string | null; roles: string[]; kind: 'applicant' | 'staff' }) {
  const today = todayOf(ctx);
  const orgs = user.orgKind === 'supervisor' || user.orgKind === 'hrb'
    ? await sanctionableUnits(ctx.db, user)
    : await ctx.db.selectFrom('orgs').select(['id', 'name']).where('id', '=', user.orgId ?? -1).execute();
  const ids = orgs.map((o) => o.id);
  const inIds = <T>(q: () => Promise<T[]>) => (ids.length ? q() : Promise.resolve([] as T[]));
  const quotas = await inIds(() => ctx.db.selectFrom('post_quotas').select(['org_id', 'level', 'quota']).where('org_id', 'in', ids).execute());
  const appts = await inIds(() => ctx.db.selectFrom('appointments').select(['org_id', 'level', 'start_date', 'end_date']).where('org_id', 'in', ids)
    .where('start_date', '<=', today).where((eb) => eb.or([eb('end_date', 'is', null), eb('end_date', '>=', today)])).execute());
  const rows = orgs.map((o) => ({
    id: o.id, name: o.name,
    posts: postTable(Object.fromEntries(quotas.filter((q) => q.org_id === o.id).map((q) => [q.level, q.quota])), appointedNow(appts.filter((a) => a.org_id === o.id), today)),
  }));
  const totals = sumTables(rows.map((r) => r.posts));
  let bySupervisor: { name: string; units: number; posts: LevelPosts[] }[] = [];
  if (user.orgKind === 'hrb' && ids.length) {
    const sup = await ctx.db.selectFrom('orgs as u').leftJoin('orgs as s', 's.id', 'u.supervisor_org_id')
      .select(['u.id', 's.name as supervisor', 'u.supervisor_status']).where('u.id', 'in', ids).execute();
    const nameOf = new Map(sup.map((x) => [x.id, x.supervisor && x.supervisor_status === 'approved' ? x.supervisor : '（无主管部门）']));
    const groups = new Map<string, LevelPosts[][]>();
    for (const r of rows) {
      const k = nameOf.get(r.id) ?? '（无主管部门）';
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k)!.push(r.posts);
    }
    bySupervisor = [...groups].sort(([a], [b]) => a.localeCompare(b, 'zh')).map(([name, tables]) => ({ name, units: tables.length, posts: sumTables(tables) }));
  }
  return { rows, totals, bySupervisor };
}

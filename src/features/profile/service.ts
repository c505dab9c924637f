import { sql } from 'kysely';
import type { AppContext } from '../../context.js';
import { validateIdNumber } from '../../domain/idcard.js';
import { PROFILE_FIELDS, profileExtraErrors, DISPATCH_YES, EMPLOYER_KEY } from '../../domain/profile.js';
import { validateFields, type RowValues } from '../../domain/sectionRules.js';
import { chinaToday } from '../plans/repository.js';
import { tenureOf, type Tenure, type TitleRow, type WorkRow } from '../../domain/tenure.js';
import { listRows } from '../sections/service.js';

/**
 * 现职称(同级)履职年限 and 从事专业技术工作年限 for this year's declarations (as of 31 December),
 * computed from 现有职称情况 and 工作经历: the figures step 2 and the printed form show.
 */
export async function tenureNow(ctx: AppContext, userId: number): Promise<Tenure> {
  const titles = (await listRows(ctx, userId, 'titles')).map((r) => r.data as TitleRow);
  const work = (await listRows(ctx, userId, 'work')).map((r) => r.data as WorkRow);
  return tenureOf({ titles, work }, Number(chinaToday(ctx.config.now()).slice(0, 4)));
}

export async function loadProfile(ctx: AppContext, userId: number): Promise<RowValues> {
  const row = await ctx.db.selectFrom('profiles').select('data').where('user_id', '=', userId).executeTakeFirst();
  return row ? JSON.parse(row.data) : {};
}

/** Birth date and gender come from the ID number, decrypted for its owner only. */
export async function identityOf(ctx: AppContext, userId: number) {
  const u = await ctx.db.selectFrom('users as u').leftJoin('orgs as o', 'o.id', 'u.unit_org_id')
    .select(['u.name', 'u.id_enc', 'u.id_masked', 'u.phone_masked', 'u.unit_org_id', 'o.name as unit_name'])
    .where('u.id', '=', userId).executeTakeFirstOrThrow();
  const id = u.id_enc ? validateIdNumber(ctx.secrets.decrypt(u.id_enc), ctx.config.now()) : null;
  return {
    name: u.name, idMasked: u.id_masked, phoneMasked: u.phone_masked, unitOrgId: u.unit_org_id, unitName: u.unit_name ?? null,
    birth: id?.ok ? id.birthDate.slice(0, 7) : '', gender: id?.ok ? id.gender : '',
  };
}

/** Registered units (and HR agencies, which act as the unit for freelancers) matching a search. */
export async function searchUnits(ctx: AppContext, q: string, limit = 30) {
  const term = q.trim();
  if (!term) return [];
  const like = `%${term.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
  return ctx.db.selectFrom('orgs').select(['id', 'name', 'kind'])
    .where('kind', 'in', ['unit', 'agency']).where('disabled', '=', 0)
    .where(sql<boolean>`name like ${like} escape '\\'`)
    .orderBy('name').limit(limit).execute();
}

export async function saveProfile(ctx: AppContext, userId: number, body: Record<string, unknown>) {
  const dicts = await ctx.dicts.ready();
  const { values, errors } = validateFields(PROFILE_FIELDS, body, { today: chinaToday(ctx.config.now()), dicts });
  Object.assign(errors, profileExtraErrors(values));
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  if (!name) errors.name = '请填写姓名';
  else if ([...name].length > 50) errors.name = '姓名不能超过50个字';
  const unitRaw = typeof body.unit_org_id === 'string' ? body.unit_org_id : '';
  let unitId: number | null = null;
  if (!unitRaw) errors.unit_org_id = '请选择工作单位（先输入单位名称搜索）';
  else {
    const u = await ctx.db.selectFrom('orgs').select('id').where('id', '=', Number(unitRaw)).where('kind', 'in', ['unit', 'agency']).where('disabled', '=', 0).executeTakeFirst();
    if (!u) errors.unit_org_id = '请选择工作单位（先输入单位名称搜索）';
    else unitId = u.id;
  }
  // 派遣人员: 用工单位, a registered employer other than the 工作单位 (the dispatch company).
  if (values.dispatched === DISPATCH_YES) {
    const raw = typeof body[EMPLOYER_KEY] === 'string' ? (body[EMPLOYER_KEY] as string) : '';
    const e = /^\d{1,12}$/.test(raw)
      ? await ctx.db.selectFrom('orgs').select('id').where('id', '=', Number(raw)).where('kind', '=', 'unit').where('disabled', '=', 0).executeTakeFirst()
      : undefined;
    if (!e) errors[EMPLOYER_KEY] = '劳务派遣人员请选择用工单位（先输入单位名称搜索）';
    else if (unitId !== null && e.id === unitId) errors[EMPLOYER_KEY] = '用工单位不能与工作单位（派遣单位）相同';
    else values[EMPLOYER_KEY] = String(e.id);
  }
  if (Object.keys(errors).length) return { ok: false as const, values, errors, name };
  const stamp = ctx.config.now().toISOString();
  await ctx.db.insertInto('profiles').values({ user_id: userId, data: JSON.stringify(values), updated_at: stamp })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ data: JSON.stringify(values), updated_at: stamp })).execute();
  await ctx.db.updateTable('users').set({ name, unit_org_id: unitId, updated_at: stamp }).where('id', '=', userId).execute();
  return { ok: true as const };
}

import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import { SECTIONS, NO_PLAN_SETTINGS, type PlanSectionSettings, type SectionDef } from '../../domain/sections.js';
import { isRepresentative, representativeError } from '../../domain/seriesRules.js';
import { currentTitle, type TitleRow } from '../../domain/tenure.js';
import { validateRow, reorderSubset, moveInOrder, type RowValues, type FieldErrors } from '../../domain/sectionRules.js';
import { chinaToday } from '../plans/repository.js';

export interface Row {
  id: number;
  position: number;
  data: RowValues;
}

const parse = (r: { id: number; position: number; data: string }): Row => ({ id: r.id, position: r.position, data: JSON.parse(r.data) });

export async function countRows(ctx: AppContext, userId: number): Promise<Record<string, number>> {
  const rows = await ctx.db
    .selectFrom('section_rows')
    .select(['section', (eb) => eb.fn.countAll<number>().as('n')])
    .where('user_id', '=', userId)
    .groupBy('section')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.section, Number(r.n)]));
}

export async function listRows(ctx: AppContext, userId: number, key: string, limit = 1000, offset = 0): Promise<Row[]> {
  const rows = await ctx.db
    .selectFrom('section_rows')
    .select(['id', 'position', 'data'])
    .where('user_id', '=', userId)
    .where('section', '=', key)
    .orderBy('position')
    .orderBy('id')
    .limit(limit)
    .offset(offset)
    .execute();
  return rows.map(parse);
}

/** A row of this user in this section, or undefined: ids from URLs never reach other people's rows. */
export async function getRow(ctx: AppContext, userId: number, key: string, id: number): Promise<Row | undefined> {
  if (!Number.isSafeInteger(id)) return undefined;
  const r = await ctx.db.selectFrom('section_rows').select(['id', 'position', 'data']).where('id', '=', id).where('user_id', '=', userId).where('section', '=', key).executeTakeFirst();
  return r && parse(r);
}

type SaveResult = { ok: true; id: number } | { ok: false; values: RowValues; errors: FieldErrors };

async function check(ctx: AppContext, userId: number, def: SectionDef, input: Record<string, unknown>, exceptId: number | undefined, plan: PlanSectionSettings) {
  const dicts = await ctx.dicts.ready();
  const { values, errors } = validateRow(def, input, { today: chinaToday(ctx.config.now()), dicts });
  // 拟评审类型: one row only.
  if (def.maxRows && exceptId === undefined) {
    const n = (await countRows(ctx, userId))[def.key] ?? 0;
    const first = def.fields[0]!;
    if (n >= def.maxRows) errors[first.key] ??= `${def.title}只能填写${def.maxRows}条，请修改已填写的记录`;
  }
  // 任现职以来 (公开课): not before the current title's 资格认定时间.
  const sinceKey = def.sinceCurrentTitle;
  if (sinceKey && !errors[sinceKey] && typeof values[sinceKey] === 'string') {
    const cur = currentTitle((await listRows(ctx, userId, 'titles')).map((r) => r.data as unknown as TitleRow));
    if (cur?.since && (values[sinceKey] as string) < cur.since) {
      const label = def.fields.find((f) => f.key === sinceKey)?.label ?? sinceKey;
      errors[sinceKey] = `请填写任现职以来的${def.title}：${label}不能早于现职称资格认定时间${cur.since}`;
    }
  }
  // 代表作: at most the plan's N.
  if (def.fields.some((f) => f.key === 'representative') && !errors.representative) {
    const others = (await listRows(ctx, userId, def.key)).filter((r) => r.id !== exceptId).map((r) => r.data);
    const e = representativeError(others, isRepresentative(values), plan.maxRepresentative);
    if (e) errors.representative = e;
  }
  if (def.uniqueBy && !errors[def.uniqueBy] && values[def.uniqueBy] !== null) {
    const others = await listRows(ctx, userId, def.key);
    if (others.some((r) => r.id !== exceptId && r.data[def.uniqueBy!] === values[def.uniqueBy!])) {
      const field = def.fields.find((f) => f.key === def.uniqueBy);
      // A year reads “2025年已填写过，每年只能填写一条” whatever its label (年度考核's is 时间).
      const unit = field?.type === 'year' ? '年' : field?.label ?? def.uniqueBy;
      errors[def.uniqueBy] = `${values[def.uniqueBy]}${unit}已填写过，每${unit}只能填写一条`;
    }
  }
  // Derived: the level of a 资格名称, so "highest employed title" needs no dictionary later.
  if (def.key === 'titles' && typeof values.title_name === 'string') values.title_level = dicts.titleLevel(values.title_name) ?? null;
  return { values, errors };
}

export async function createRow(ctx: AppContext, userId: number, def: SectionDef, input: Record<string, unknown>, plan: PlanSectionSettings = NO_PLAN_SETTINGS): Promise<SaveResult> {
  const { values, errors } = await check(ctx, userId, def, input, undefined, plan);
  if (Object.keys(errors).length) return { ok: false, values, errors };
  const stamp = ctx.config.now().toISOString();
  const id = await writeTx(ctx.db, async (trx) => {
    const max = await trx
      .selectFrom('section_rows')
      .select((eb) => eb.fn.max<number>('position').as('p'))
      .where('user_id', '=', userId)
      .where('section', '=', def.key)
      .executeTakeFirst();
    const row = await trx
      .insertInto('section_rows')
      .values({ user_id: userId, section: def.key, position: Number(max?.p ?? 0) + 1, data: JSON.stringify(values), created_at: stamp, updated_at: stamp })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  });
  return { ok: true, id };
}

export async function updateRow(ctx: AppContext, userId: number, def: SectionDef, id: number, input: Record<string, unknown>, plan: PlanSectionSettings = NO_PLAN_SETTINGS): Promise<SaveResult | null> {
  if (!(await getRow(ctx, userId, def.key, id))) return null;
  const { values, errors } = await check(ctx, userId, def, input, id, plan);
  if (Object.keys(errors).length) return { ok: false, values, errors };
  await ctx.db
    .updateTable('section_rows')
    .set({ data: JSON.stringify(values), updated_at: ctx.config.now().toISOString() })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .execute();
  return { ok: true, id };
}

export async function deleteRow(ctx: AppContext, userId: number, key: string, id: number, cleanup: (rowId: number) => Promise<void>): Promise<boolean> {
  if (!(await getRow(ctx, userId, key, id))) return false;
  await cleanup(id);
  await ctx.db.deleteFrom('section_rows').where('id', '=', id).where('user_id', '=', userId).execute();
  return true;
}

/**
 * Saves a new order. `posted` is the order of the rows shown (one page, as dragged or as
 * posted by the no-JS form); `move` moves one row up or down across the whole list.
 */
export async function reorder(ctx: AppContext, userId: number, key: string, posted: number[], move?: { id: number; dir: 'up' | 'down' }): Promise<boolean> {
  return writeTx(ctx.db, async (trx) => {
    const rows = await trx.selectFrom('section_rows').select(['id']).where('user_id', '=', userId).where('section', '=', key).orderBy('position').orderBy('id').execute();
    const full = rows.map((r) => r.id);
    let next: number[] | null = posted.length ? reorderSubset(full, posted) : full;
    if (!next) return false;
    if (move) {
      if (!full.includes(move.id)) return false;
      next = moveInOrder(next, move.id, move.dir);
    }
    for (let i = 0; i < next.length; i++) {
      await trx.updateTable('section_rows').set({ position: i + 1 }).where('id', '=', next[i]!).where('user_id', '=', userId).execute();
    }
    return true;
  });
}

export { SECTIONS };

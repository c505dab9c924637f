import { sql } from 'kysely';
import type { AppContext } from '../../context.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { statusText, LEVEL_NAMES, type Status } from '../../domain/declaration.js';
import { STAGE_LABELS } from '../../domain/route.js';
import { parseCover, parseRoute } from '../declaration/service.js';
import { scopedList, scopedOnce } from '../review/scope.js';
import { routeStageLabel, usersByUnit } from '../../db/index.js';
import { chinaToday } from '../plans/repository.js';
import { xlsxBuffer, type XlsxColumn } from '../../lib/xlsx.js';

type Scope = Pick<CurrentUser, 'orgId'>;

/** ISO instant → 'YYYY-MM-DD HH:mm' in China Standard Time, whatever the server's zone. */
export function chinaMinute(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = new Date(t + 8 * 3_600_000).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 16)}`;
}

/** 'YYYYMMDD' of today in China, for file names. */
export const chinaStamp = (now: Date) => chinaToday(now).replace(/-/g, '');

export function safeCover(d: { cover: string }): Partial<ReturnType<typeof parseCover>> {
  try {
    return parseCover(d) ?? {};
  } catch {
    return {};
  }
}

export function safeRoute(d: { route: string | null }) {
  try {
    return parseRoute(d);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------
// 统计: counts of the declarations in scope

export interface StatsFilters {
  year?: number;
  plan?: number;
}

export function parseStatsFilters(query: unknown): StatsFilters {
  const q = (query ?? {}) as Record<string, unknown>;
  const n = (v: unknown) => (typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : undefined);
  return { year: n(q.year), plan: n(q.plan) };
}

export interface StatItem {
  label: string;
  value: number;
}

export interface StatGroup {
  key: 'plan' | 'stage' | 'status' | 'level' | 'unit';
  title: string;
  items: StatItem[];
  note?: string;
}

export interface Stats {
  total: number;
  /** Sum of returns_count: 返回修改 and 重置流程 together (one budget). */
  returns: number;
  /** 审核通过: approved (committee e-review passed) or passed. */
  passes: number;
  groups: StatGroup[];
  /** The (year, plan) pairs counted: without filters the whole scope's, so statsOptions need not scan again. */
  pairs: { year: number; plan_id: number }[];
}

export const APPROVED_STAGE = '评委会审核通过';
export const UNIT_TOP = 20;
const STATUS_ORDER: Status[] = ['reviewing', 'returned', 'draft', 'approved', 'passed', 'failed', 'rejected', 'failed_for_year'];
const STAGE_ORDER = [...Object.values(STAGE_LABELS), APPROVED_STAGE];
const LEVEL_ORDER = Object.keys(LEVEL_NAMES);

/** Where a declaration stands on its route: the label of route[stage]; past the committee, 评委会审核通过. */
export function stageLabel(d: { status: string; stage: number; route: string | null }): string {
  if (d.status === 'approved' || d.status === 'passed' || d.status === 'failed') return APPROVED_STAGE;
  return safeRoute(d)[d.stage]?.label ?? '未知环节';
}

function add(map: Map<string, number>, key: string, n: number) {
  map.set(key, (map.get(key) ?? 0) + n);
}

function ordered(map: Map<string, number>, order: readonly string[]): StatItem[] {
  const rank = (k: string) => {
    const i = order.indexOf(k);
    return i < 0 ? order.length : i;
  };
  return [...map].map(([label, value]) => ({ label, value })).sort((a, b) => rank(a.label) - rank(b.label) || b.value - a.value || a.label.localeCompare(b.label, 'zh-CN'));
}

const byCount = (map: Map<string, number>): StatItem[] =>
  [...map].map(([label, value]) => ({ label, value })).sort((a, b) => b.value - a.value || a.label.localeCompare(b.label, 'zh-CN'));

/**
 * The counts behind /org/stats, grouped in SQL (issue #18: loading every visible declaration
 * with its JSON took 350–470 ms for a big office at 50 000). Every row comes through
 * scopedOnce(): a unit counts its own applicants, a committee only what has reached it, another
 * unit nothing; each declaration once. Small GROUP BYs over the covering indexes; only the
 * few reset drafts in scope read their route's JSON, in SQL.
 */
export async function computeStats(ctx: AppContext, user: Scope, f: StatsFilters): Promise<Stats> {
  const base = () => {
    let q = scopedOnce(ctx.db, user);
    if (f.year) q = q.where('d.year', '=', f.year);
    if (f.plan) q = q.where('d.plan_id', '=', f.plan);
    return q;
  };
  const PAST = ['approved', 'passed', 'failed'] as const;
  // Two grouped scans over the covering indexes (migrations 0021, 0031). One scan grouped by
  // all six columns would be a single pass but makes thousands of groups (units × plans ×
  // levels …); the unit has its own scan.
  const [rows, byUnit] = await Promise.all([
    base()
      .leftJoin('declaration_stages as st', (j) => j.onRef('st.declaration_id', '=', 'd.id').onRef('st.idx', '=', 'd.stage'))
      .select((eb) => [
        'd.status',
        eb.case().when('d.status', 'in', PAST).then(sql.lit<string | null>(null)).else(eb.ref('st.kind')).end().as('stage_kind'),
        'd.year',
        'd.plan_id',
        'd.cover_level',
        'd.cover_level_name',
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>('d.returns_count').as('returns'),
      ])
      .groupBy(['d.status', 'stage_kind', 'd.year', 'd.plan_id', 'd.cover_level', 'd.cover_level_name'])
      .execute(),
    base().innerJoin(usersByUnit(ctx.db), 'u.id', 'd.user_id').select((eb) => ['u.unit_org_id', eb.fn.countAll<number>().as('n')]).groupBy('u.unit_org_id').execute(),
  ]);
  const planIds = [...new Set(rows.map((r) => r.plan_id))];
  const unitIds = [...new Set(byUnit.map((r) => r.unit_org_id).filter((id): id is number => id !== null))];
  const [drafts, planNames, unitNames] = await Promise.all([
    // A reset draft's stage is read from its route (the applicant may have changed the cover, and
    // with it the route, since its stages were written): the few drafts only, and only when the
    // first scan found some.
    rows.some((r) => r.status === 'draft')
      ? base().where('d.status', '=', 'draft').select((eb) => [routeStageLabel(ctx.db).as('label'), eb.fn.countAll<number>().as('n')]).groupBy('label').execute()
      : [],
    planIds.length ? ctx.db.selectFrom('plans').select(['id', 'name']).where('id', 'in', planIds).execute() : [],
    unitIds.length ? ctx.db.selectFrom('orgs').select(['id', 'name']).where('id', 'in', unitIds).execute() : [],
  ]);
  const planName = new Map(planNames.map((p) => [p.id, p.name]));
  const unitName = new Map(unitNames.map((o) => [o.id, o.name]));

  const plans = new Map<string, number>();
  const stages = new Map<string, number>();
  const statuses = new Map<string, number>();
  const levels = new Map<string, number>();
  const units = new Map<string, number>();
  let total = 0;
  let returns = 0;
  let passes = 0;
  for (const r of rows) {
    const n = Number(r.n);
    total += n;
    returns += Number(r.returns ?? 0);
    if (r.status === 'approved' || r.status === 'passed') passes += n;
    if (r.status !== 'draft') add(stages, (PAST as readonly string[]).includes(r.status) ? APPROVED_STAGE : (r.stage_kind && STAGE_LABELS[r.stage_kind as keyof typeof STAGE_LABELS]) ?? '未知环节', n);
    add(statuses, statusText(r.status as Status, null), n);
    add(plans, planName.get(r.plan_id) ?? '', n);
    add(levels, (r.cover_level && LEVEL_NAMES[r.cover_level]) || r.cover_level_name || '未填写', n);
  }
  for (const r of byUnit) add(units, (r.unit_org_id !== null ? unitName.get(r.unit_org_id) : undefined) ?? '未选择单位', Number(r.n));
  for (const r of drafts) add(stages, r.label ?? '未知环节', Number(r.n));
  const allUnits = byCount(units);
  const statusOrder = STATUS_ORDER.map((s) => statusText(s, null));
  const levelOrder = LEVEL_ORDER.map((k) => LEVEL_NAMES[k]!);
  return {
    total,
    returns,
    passes,
    pairs: rows.map((r) => ({ year: r.year, plan_id: r.plan_id })),
    groups: [
      { key: 'plan', title: '按评审计划', items: byCount(plans) },
      { key: 'stage', title: '按审核环节', items: ordered(stages, STAGE_ORDER) },
      { key: 'status', title: '按申报状态', items: ordered(statuses, statusOrder) },
      { key: 'level', title: '按申报级别', items: ordered(levels, levelOrder) },
      {
        key: 'unit',
        title: '按单位',
        items: allUnits.slice(0, UNIT_TOP),
        note: allUnits.length > UNIT_TOP ? `共 ${allUnits.length} 个单位，仅显示申报人数最多的 ${UNIT_TOP} 个。` : undefined,
      },
    ],
  };
}

/**
 * Years and plans to filter by: only those the user's scope contains (one grouped scan, or the
 * pairs an unfiltered computeStats already counted).
 */
export async function statsOptions(ctx: AppContext, user: Scope, counted?: Stats['pairs']) {
  const pairs = counted ?? (await scopedList(ctx.db, user).select(['d.year', 'd.plan_id']).groupBy(['d.year', 'd.plan_id']).execute());
  const planIds = [...new Set(pairs.map((r) => r.plan_id))];
  const plans = planIds.length
    ? await ctx.db.selectFrom('plans').select(['id', 'name', 'year']).where('id', 'in', planIds).orderBy('year', 'desc').orderBy('id', 'desc').execute()
    : [];
  const years = [...new Set(pairs.map((r) => r.year))].sort((a, b) => b - a);
  return { years, plans: plans.map((p) => ({ code: p.id, name: p.name, year: p.year })) };
}

export interface StatsSheetRow {
  group: string;
  label: string;
  value: number;
}

export const STATS_COLUMNS: readonly XlsxColumn<StatsSheetRow>[] = [
  { header: '分类', width: 14, value: (r) => r.group },
  { header: '项目', width: 40, value: (r) => r.label },
  { header: '数量', width: 10, value: (r) => r.value },
];

/** The same numbers as the page: one sheet, a 分类 column, totals first. */
export function statsSheetRows(s: Stats): StatsSheetRow[] {
  return [
    { group: '合计', label: '申报总数', value: s.total },
    { group: '合计', label: '返回修改和重置流程次数', value: s.returns },
    { group: '合计', label: '审核通过', value: s.passes },
    ...s.groups.flatMap((g) => g.items.map((i) => ({ group: g.title, label: i.label, value: i.value }))),
  ];
}

export async function statsXlsx(ctx: AppContext, user: Scope, f: StatsFilters) {
  const stats = await computeStats(ctx, user, f);
  const stamp = chinaStamp(ctx.config.now());
  return {
    buffer: await xlsxBuffer(statsSheetRows(stats), STATS_COLUMNS, { sheet: '申报统计' }),
    filename: `申报统计-${stamp}.xlsx`,
    ascii: `statistics-${stamp}.xlsx`,
  };
}

import type { AppContext } from '../../context.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { statusText, LEVEL_NAMES, type Status } from '../../domain/declaration.js';
import { STAGE_LABELS } from '../../domain/route.js';
import { parseCover, parseRoute } from '../declaration/service.js';
import { scoped } from '../review/scope.js';
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

function count(map: Map<string, number>, key: string) {
  map.set(key, (map.get(key) ?? 0) + 1);
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
 * The counts behind /org/stats. Every row comes through scoped(): a unit counts its own
 * applicants, a committee only what has reached it, another unit nothing.
 */
export async function computeStats(ctx: AppContext, user: Scope, f: StatsFilters): Promise<Stats> {
  let q = scoped(ctx.db, user)
    .innerJoin('plans as p', 'p.id', 'd.plan_id')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .leftJoin('orgs as unit', 'unit.id', 'u.unit_org_id')
    .select(['d.id', 'd.status', 'd.stage', 'd.route', 'd.cover', 'd.returns_count', 'p.name as plan_name', 'unit.name as unit_name']);
  if (f.year) q = q.where('d.year', '=', f.year);
  if (f.plan) q = q.where('d.plan_id', '=', f.plan);
  const rows = await q.execute();

  const seen = new Set<number>();
  const plans = new Map<string, number>();
  const stages = new Map<string, number>();
  const statuses = new Map<string, number>();
  const levels = new Map<string, number>();
  const units = new Map<string, number>();
  let returns = 0;
  let passes = 0;
  for (const d of rows) {
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    const cover = safeCover(d);
    count(plans, d.plan_name);
    count(stages, stageLabel(d));
    count(statuses, statusText(d.status as Status, null));
    count(levels, (cover.level && LEVEL_NAMES[cover.level]) || cover.level_name || '未填写');
    count(units, d.unit_name ?? '未选择单位');
    returns += d.returns_count ?? 0;
    if (d.status === 'approved' || d.status === 'passed') passes++;
  }
  const allUnits = byCount(units);
  const statusOrder = STATUS_ORDER.map((s) => statusText(s, null));
  const levelOrder = LEVEL_ORDER.map((k) => LEVEL_NAMES[k]!);
  return {
    total: seen.size,
    returns,
    passes,
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

/** Years and plans to filter by: only those the user's scope contains. */
export async function statsOptions(ctx: AppContext, user: Scope) {
  const plans = await scoped(ctx.db, user)
    .innerJoin('plans as p', 'p.id', 'd.plan_id')
    .select(['p.id', 'p.name', 'p.year'])
    .distinct()
    .orderBy('p.year', 'desc')
    .orderBy('p.id', 'desc')
    .execute();
  const years = (await scoped(ctx.db, user).select('d.year').distinct().orderBy('d.year', 'desc').execute()).map((r) => r.year);
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

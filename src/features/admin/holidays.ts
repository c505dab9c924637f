import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import { compileForm, type FieldErrors } from '../../lib/forms.js';
import { isValidDate, dayOfWeek, addWorkingDays } from '../../domain/workdays.js';
import { loadCalendar } from '../holidays/service.js';
import { withBlanks } from './orgs.js';
import { audit } from '../audit/service.js';

const WEEKDAYS = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'];
const KINDS = [
  { code: 'holiday', name: '放假' },
  { code: 'workday', name: '调休上班' },
];
const KIND_LABEL: Record<string, string> = Object.fromEntries(KINDS.map((k) => [k.code, k.name]));
const MIN_YEAR = 2000;
const MAX_YEAR = 2100;

// ---- chinese-days: its dist JSON maps date → "English,中文,n" for days off and 调休上班 days ----
interface ChineseDaysData {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}
let cdCache: { data: ChineseDaysData; version: string } | undefined;
function chineseDays() {
  if (!cdCache) {
    const require = createRequire(import.meta.url);
    cdCache = {
      data: require('chinese-days/dist/chinese-days.json') as ChineseDaysData,
      version: (require('chinese-days/package.json') as { version: string }).version,
    };
  }
  return cdCache;
}
// The package's short names, written as the State Council notices (and fixtures/holidays.json) write them.
const NAME_FIX: Record<string, string> = { 清明: '清明节', 端午: '端午节', 中秋: '中秋节' };

/** Every day off and 调休上班 day chinese-days has for a year (empty when it has none). */
export function chineseDaysYear(year: number): { date: string; kind: 'holiday' | 'workday'; name: string }[] {
  const { data } = chineseDays();
  const out: { date: string; kind: 'holiday' | 'workday'; name: string }[] = [];
  for (const kind of ['holiday', 'workday'] as const) {
    const map = kind === 'holiday' ? data.holidays : data.workdays;
    for (const [date, v] of Object.entries(map)) {
      if (!date.startsWith(`${year}-`)) continue;
      const cn = v.split(',')[1] ?? v;
      out.push({ date, kind, name: NAME_FIX[cn] ?? cn });
    }
  }
  return out.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

interface HolidayForm {
  date?: string;
  kind?: 'holiday' | 'workday';
  name?: string;
}
const parseHoliday = compileForm<HolidayForm>({
  type: 'object',
  properties: {
    date: { type: 'string', title: '日期', maxLength: 10 },
    kind: { type: 'string', title: '类型', enum: KINDS.map((k) => k.code) },
    name: { type: 'string', title: '名称', maxLength: 30 },
  },
  required: ['date', 'kind', 'name'],
});

function chinaYear(now: Date): number {
  return new Date(now.getTime() + 8 * 3_600_000).getUTCFullYear();
}

function yearParam(raw: unknown): number | null {
  const y = Number(raw);
  return Number.isInteger(y) && y >= MIN_YEAR && y <= MAX_YEAR ? y : null;
}

const yearRange = (y: number) => [`${y}-01-01`, `${y}-12-31`] as const;

export default async function holidaysRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const countYear = async (y: number) => {
    const [from, to] = yearRange(y);
    const { n } = await ctx.db.selectFrom('holidays').select((eb) => eb.fn.countAll<number>().as('n')).where('date', '>=', from).where('date', '<=', to).executeTakeFirstOrThrow();
    return Number(n);
  };

  /** The whole page for a year; the add form and the calculator each keep their own values and errors. */
  const holidaysPage = async (
    reply: FastifyReply,
    year: number,
    opts: { values?: object; errors?: FieldErrors; calc?: { start?: string; days?: string }; calcErrors?: FieldErrors; result?: object } = {},
  ) => {
    const thisYear = chinaYear(ctx.config.now());
    const dates = await ctx.db.selectFrom('holidays').select('date').execute();
    const complete = await ctx.db.selectFrom('holiday_years').select(['year', 'source']).execute();
    const years = new Set<number>([thisYear, thisYear + 1, year, ...complete.map((c) => c.year), ...dates.map((d) => Number(d.date.slice(0, 4)))]);
    const [from, to] = yearRange(year);
    const days = await ctx.db.selectFrom('holidays').selectAll().where('date', '>=', from).where('date', '<=', to).orderBy('date').execute();
    const status = complete.find((c) => c.year === year);
    const errors = opts.errors ?? {};
    const calcErrors = opts.calcErrors ?? {};
    return reply.page(
      'admin/holidays.njk',
      {
        year,
        years: [...years].sort((a, b) => a - b),
        days: days.map((d) => ({ ...d, weekday: WEEKDAYS[dayOfWeek(d.date)], kindLabel: KIND_LABEL[d.kind] ?? d.kind })),
        holidayCount: days.filter((d) => d.kind === 'holiday').length,
        workdayCount: days.filter((d) => d.kind === 'workday').length,
        complete: status ?? null,
        packageHasYear: chineseDaysYear(year).length > 0,
        kinds: KINDS,
        values: withBlanks(opts.values ?? { kind: 'holiday' }, ['kind']),
        errors,
        calc: opts.calc ?? {},
        calcErrors,
        result: opts.result ?? null,
      },
      Object.keys(errors).length || Object.keys(calcErrors).length ? 422 : 200,
    );
  };

  // 节假日: year tabs, the year's days, add form, completeness, import, and the calculator (GET form).
  app.get('/admin/holidays', async (req, reply) => {
    const query = req.query as Record<string, string | undefined>;
    const year = yearParam(query.year) ?? chinaYear(ctx.config.now());
    const start = (query.start ?? '').trim();
    const daysRaw = (query.days ?? '').trim();
    if (!start && !daysRaw) return holidaysPage(reply, year);
    // 工作日计算器: start date + N working days → end date.
    const calcErrors: FieldErrors = {};
    if (!isValidDate(start)) calcErrors.start = '请输入正确的开始日期，格式为YYYY-MM-DD';
    const n = Number(daysRaw);
    if (!/^\d+$/.test(daysRaw) || n < 1 || n > 365) calcErrors.days = '工作日数应为1–365之间的整数';
    const calc = { start, days: daysRaw };
    if (Object.keys(calcErrors).length) return holidaysPage(reply, year, { calc, calcErrors });
    const { end, missingYears } = addWorkingDays(start, n, await loadCalendar(ctx.db));
    return holidaysPage(reply, year, { calc, result: { start, days: n, end, weekday: WEEKDAYS[dayOfWeek(end)], missingYears } });
  });

  // 新增/替换 a day: the date is the key, so an existing day is replaced.
  app.post('/admin/holidays', async (req, reply) => {
    const { values, errors } = parseHoliday(req.body);
    if (values.date && !errors.date) {
      if (!isValidDate(values.date)) errors.date = '日期格式应为YYYY-MM-DD，如 2026-10-01';
      else if (!yearParam(values.date.slice(0, 4))) errors.date = `日期年份应在${MIN_YEAR}–${MAX_YEAR}年之间`;
      else if (values.kind === 'workday' && ![0, 6].includes(dayOfWeek(values.date))) errors.kind = '调休上班日应为周六或周日';
    }
    const year = values.date && !errors.date ? Number(values.date.slice(0, 4)) : chinaYear(ctx.config.now());
    if (Object.keys(errors).length) return holidaysPage(reply, year, { values, errors });
    const row = { date: values.date!, kind: values.kind!, name: values.name! };
    const existed = await writeTx(ctx.db, async (trx) => {
      const old = await trx.selectFrom('holidays').select('date').where('date', '=', row.date).executeTakeFirst();
      await trx.insertInto('holidays').values(row).onConflict((oc) => oc.column('date').doUpdateSet({ kind: row.kind, name: row.name })).execute();
      return !!old;
    });
    await audit(ctx, req, { action: 'config_change', objectType: 'holiday', objectId: row.date, detail: `${existed ? '替换' : '添加'}：${row.name}（${row.kind}）` });
    return reply.flashRedirect(`/admin/holidays?year=${year}`, `${existed ? '已替换' : '已添加'}：${row.date} ${row.name}（${KIND_LABEL[row.kind]}）`);
  });

  // 删除 a day: confirmation page, then POST.
  const dayOf = async (raw: string) => (isValidDate(raw) ? ctx.db.selectFrom('holidays').selectAll().where('date', '=', raw).executeTakeFirst() : undefined);

  app.get('/admin/holidays/days/:date/delete', async (req, reply) => {
    const day = await dayOf((req.params as { date: string }).date);
    if (!day) return reply.callNotFound();
    const year = day.date.slice(0, 4);
    return reply.page('components/confirm.njk', {
      title: '删除节假日', message: `确定删除 ${day.date}（${WEEKDAYS[dayOfWeek(day.date)]}）${day.name}（${KIND_LABEL[day.kind]}）吗？`,
      action: `/admin/holidays/days/${day.date}/delete`, cancel: `/admin/holidays?year=${year}`, confirmLabel: '确认删除',
      breadcrumbs: [{ label: '平台管理', href: '/admin' }, { label: '节假日', href: `/admin/holidays?year=${year}` }, { label: '删除' }],
    });
  });

  app.post('/admin/holidays/days/:date/delete', async (req, reply) => {
    const day = await dayOf((req.params as { date: string }).date);
    if (!day) return reply.callNotFound();
    await ctx.db.deleteFrom('holidays').where('date', '=', day.date).execute();
    await audit(ctx, req, { action: 'config_change', objectType: 'holiday', objectId: day.date, detail: `删除：${day.name}` });
    return reply.flashRedirect(`/admin/holidays?year=${day.date.slice(0, 4)}`, `已删除：${day.date} ${day.name}`);
  });

  // 标记该年数据已完整 / 取消标记: the calculator warns about years not marked complete.
  app.post('/admin/holidays/years/:year/complete', async (req, reply) => {
    const year = yearParam((req.params as { year: string }).year);
    if (!year) return reply.callNotFound();
    const on = (req.body as Record<string, string | undefined>)?.complete !== '0';
    if (on) {
      if ((await countYear(year)) === 0) return reply.flashRedirect(`/admin/holidays?year=${year}`, `${year}年尚无节假日数据，不能标记为完整`, 'error');
      await ctx.db.insertInto('holiday_years').values({ year, source: '平台管理员手工录入' }).onConflict((oc) => oc.column('year').doNothing()).execute();
      await audit(ctx, req, { action: 'config_change', objectType: 'holiday_year', objectId: year, detail: '标记数据完整' });
      return reply.flashRedirect(`/admin/holidays?year=${year}`, `已标记${year}年节假日数据完整`);
    }
    await ctx.db.deleteFrom('holiday_years').where('year', '=', year).execute();
    await audit(ctx, req, { action: 'config_change', objectType: 'holiday_year', objectId: year, detail: '取消完整标记' });
    return reply.flashRedirect(`/admin/holidays?year=${year}`, `已取消${year}年的完整标记：该年将按普通工作日计算`);
  });

  // 从 chinese-days 导入: confirmation (it replaces the year's rows), then POST.
  const noData = (year: number) => `chinese-days 中没有${year}年的数据，请按国务院办公厅通知手工录入`;

  app.get('/admin/holidays/years/:year/import', async (req, reply) => {
    const year = yearParam((req.params as { year: string }).year);
    if (!year) return reply.callNotFound();
    const days = chineseDaysYear(year);
    if (!days.length) return reply.flashRedirect(`/admin/holidays?year=${year}`, noData(year), 'error');
    const off = days.filter((d) => d.kind === 'holiday').length;
    return reply.page('components/confirm.njk', {
      title: `导入${year}年节假日`,
      message: `将用 chinese-days ${chineseDays().version} 中${year}年的数据（放假 ${off} 天、调休上班 ${days.length - off} 天）替换该年现有的 ${await countYear(year)} 条记录，并标记该年数据已完整。导入后请对照国务院办公厅通知核对。`,
      action: `/admin/holidays/years/${year}/import`, cancel: `/admin/holidays?year=${year}`, confirmLabel: '确认导入',
      breadcrumbs: [{ label: '平台管理', href: '/admin' }, { label: '节假日', href: `/admin/holidays?year=${year}` }, { label: '导入' }],
    });
  });

  app.post('/admin/holidays/years/:year/import', async (req, reply) => {
    const year = yearParam((req.params as { year: string }).year);
    if (!year) return reply.callNotFound();
    const days = chineseDaysYear(year);
    if (!days.length) return reply.flashRedirect(`/admin/holidays?year=${year}`, noData(year), 'error');
    const [from, to] = yearRange(year);
    const source = `npm chinese-days@${chineseDays().version}`;
    await writeTx(ctx.db, async (trx) => {
      await trx.deleteFrom('holidays').where('date', '>=', from).where('date', '<=', to).execute();
      for (let i = 0; i < days.length; i += 200) await trx.insertInto('holidays').values(days.slice(i, i + 200)).execute();
      await trx.insertInto('holiday_years').values({ year, source }).onConflict((oc) => oc.column('year').doUpdateSet({ source })).execute();
    });
    const off = days.filter((d) => d.kind === 'holiday').length;
    await audit(ctx, req, { action: 'config_change', objectType: 'holiday_year', objectId: year, detail: `从 ${source} 导入${days.length}天` });
    return reply.flashRedirect(`/admin/holidays?year=${year}`, `已从 chinese-days 导入${year}年节假日：放假 ${off} 天，调休上班 ${days.length - off} 天，并已标记该年数据完整`);
  });
}

import type { FastifyInstance } from 'fastify';
import { recognitionCounts } from '../recognition/service.js';
import type { AppContext } from '../../context.js';
import { requireStaff, requireDuty } from '../../plugins/auth.js';
import { parseFilters } from '../review/queue.js';
import { sendXlsx } from '../../lib/xlsx.js';
import { audit } from '../audit/service.js';
import { svgBars } from '../../lib/svgbars.js';
import { computeStats, parseStatsFilters, statsOptions, statsXlsx } from './service.js';
import { chosenColumns, summaryXlsx } from './summary.js';

/**
 * 导出汇总表 (seed 004 §1.2.2) and 统计. HTTP only: every number and row comes from the
 * service through the caller's scope; the charts are SVG drawn here, no script in the browser.
 */
export default async function statsRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  // The review list as currently filtered (same GET parameters), as an .xlsx with the columns
  // chosen in 定制导出 (cols=…; none: the preset ones). A plain GET form: works without JS.
  app.get('/org/reviews/export.xlsx', { preHandler: requireDuty('stats') }, async (req, reply) => {
    const filters = parseFilters(req.query);
    const { columns, error } = chosenColumns(req.query);
    if (error) {
      const qs = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])).toString();
      return reply.flashRedirect(`/org/reviews${qs ? `?${qs}` : ''}#export`, error, 'error');
    }
    const file = await summaryXlsx(ctx, req.user!, filters, columns);
    await audit(ctx, req, { action: 'export', objectType: 'review_summary', detail: `${file.filename}（${file.rows}人，${columns.length}列${file.fullId ? '，含完整身份证号' : ''}）` });
    return sendXlsx(reply, file.buffer, file.filename, file.ascii);
  });

  app.get('/org/stats', { preHandler: requireDuty('stats') }, async (req, reply) => {
    const filters = parseStatsFilters(req.query);
    const [stats, recognitions] = await Promise.all([computeStats(ctx, req.user!, filters), recognitionCounts(ctx.db, req.user!)]);
    const options = await statsOptions(ctx, req.user!, filters.year || filters.plan ? undefined : stats.pairs);
    const charts = stats.groups.map((g) => ({
      ...g,
      svg: svgBars(g.items, { title: `${g.title}统计`, unit: '人', labelWidth: g.key === 'status' ? 240 : 200, width: 600 }),
    }));
    const query = { year: filters.year ?? '', plan: filters.plan ?? '' };
    const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '').map(([k, v]) => [k, String(v)])).toString();
    return reply.page('stats/index.njk', {
      title: '统计',
      stats,
      recognitions,
      charts,
      options,
      filters,
      exportHref: `/org/stats/export.xlsx${qs ? `?${qs}` : ''}`,
      breadcrumbs: [{ label: '首页', href: '/org' }, { label: '统计' }],
    });
  });

  app.get('/org/stats/export.xlsx', { preHandler: requireDuty('stats') }, async (req, reply) => {
    const file = await statsXlsx(ctx, req.user!, parseStatsFilters(req.query));
    await audit(ctx, req, { action: 'export', objectType: 'stats', detail: file.filename });
    return sendXlsx(reply, file.buffer, file.filename, file.ascii);
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireDuty } from '../../plugins/auth.js';
import { attachmentHeader, sendXlsx } from '../../lib/xlsx.js';
import { audit } from '../audit/service.js';
import { statsOptions, chinaStamp } from '../stats/service.js';
import {
  exportCount, exportDetail, exportJsonStream, exportOffice, exportOffices, exportsFullId, exportXlsx, parseExportFilters, XLSX_MAX_ROWS,
} from './export.js';

/**
 * 导出申报与评审结果 (issue #17): a GET form (works without JS) and two downloads, JSON and .xlsx,
 * gated by 统计查询 and scoped like the review queue. Every download is audited.
 */
export default async function exportRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const guard = { preHandler: requireDuty('stats') };
  const isAdmin = (req: FastifyRequest) => req.user!.orgKind === 'platform';

  const page = async (req: FastifyRequest, reply: FastifyReply, errors: Record<string, string> = {}, status = 200) => {
    const q = (req.query ?? {}) as Record<string, string | undefined>;
    const admin = isAdmin(req);
    const { office } = parseExportFilters(req.query);
    const chosen = await exportOffice(ctx, req.user!, office);
    const options = chosen ? await statsOptions(ctx, { orgId: chosen.id }) : { plans: [], years: [] };
    return reply.page('exchange/export.njk', {
      title: '导出申报与评审结果', admin, offices: admin ? await exportOffices(ctx) : [], office: chosen, options, errors,
      values: { office: q.office ?? '', plan: q.plan ?? '', unit: q.unit ?? '', from: q.from ?? '', to: q.to ?? '' }, xlsxMax: XLSX_MAX_ROWS,
      breadcrumbs: admin ? [{ label: '平台管理', href: '/admin' }, { label: '数据交换', href: '/admin/exchange' }, { label: '导出申报与评审结果' }] : [{ label: '首页', href: '/org' }, { label: '导出申报与评审结果' }],
    }, status);
  };

  app.get('/org/exports', guard, async (req, reply) => page(req, reply));

  /** The checks both downloads share: filters, the office, the count. Null when a page was sent. */
  const prepare = async (req: FastifyRequest, reply: FastifyReply) => {
    const { filters, office, errors } = parseExportFilters(req.query);
    const o = await exportOffice(ctx, req.user!, office);
    if (!o && isAdmin(req)) errors.office = '请选择导出哪个机构的数据';
    if (Object.keys(errors).length || !o) {
      await page(req, reply, errors, 422);
      return null;
    }
    const fullId = exportsFullId(req.user!);
    return { filters, o, fullId, total: await exportCount(ctx, o.id, filters) };
  };

  app.get('/org/exports/declarations.json', guard, async (req, reply) => {
    const p = await prepare(req, reply);
    if (!p) return reply;
    await audit(ctx, req, { action: 'exchange_export', objectType: 'declarations', objectId: p.o.id, detail: exportDetail('json', p.o.name, p.filters, p.total, p.fullId) });
    const stamp = chinaStamp(ctx.config.now());
    return reply
      .header('Content-Type', 'application/json; charset=utf-8')
      .header('Content-Disposition', attachmentHeader(`申报与评审结果-${stamp}.json`, `declarations-${stamp}.json`))
      .header('Cache-Control', 'no-store')
      .header('X-Content-Type-Options', 'nosniff')
      .send(exportJsonStream(ctx, p.o.id, p.o.name, p.filters, p.fullId, p.total));
  });

  app.get('/org/exports/declarations.xlsx', guard, async (req, reply) => {
    const p = await prepare(req, reply);
    if (!p) return reply;
    if (p.total > XLSX_MAX_ROWS) return page(req, reply, { format: `共 ${p.total} 条，超过 Excel 导出上限 ${XLSX_MAX_ROWS} 条，请缩小范围或导出 JSON` }, 422);
    const file = await exportXlsx(ctx, p.o.id, p.filters, p.fullId);
    await audit(ctx, req, { action: 'exchange_export', objectType: 'declarations', objectId: p.o.id, detail: exportDetail('xlsx', p.o.name, p.filters, file.rows, p.fullId) });
    return sendXlsx(reply, file.buffer, file.filename, file.ascii);
  });
}

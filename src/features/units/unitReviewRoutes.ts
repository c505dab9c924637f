import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { pageParams, makePage } from '../../lib/paging.js';
import { sendStoredFile } from '../files/send.js';
import * as units from './service.js';
import * as supervision from './supervision.js';
import { crumbs, supervisorStaff } from './guards.js';

type Body = Record<string, string | undefined>;
type Query = Record<string, string | undefined>;

/**
 * 下属单位审核 (supervisor staff): the units that chose this department as their 主管部门. Not
 * the declaration stage 单位审核 (the unit's own review of its applicants' declarations).
 */
export async function unitReviewRoutes(app: FastifyInstance, ctx: AppContext) {
  app.get('/org/unit-reviews', { preHandler: supervisorStaff }, async (req, reply) => {
    const query = req.query as Query;
    const status = ['pending', 'approved', 'rejected', 'all'].includes(query.status ?? '') ? query.status! : 'pending';
    const { page, size, offset } = pageParams(query, 20);
    const r = await supervision.requestsForSupervisor(ctx, req.user!.orgId!, status, offset, size);
    return reply.page('units/reviews.njk', {
      title: '下属单位审核', breadcrumbs: crumbs('下属单位审核'), status,
      list: makePage(r.rows.map((x) => ({ ...x, statusLabel: supervision.REQUEST_STATUS_LABEL[x.status] ?? x.status, change: !!x.supervisor_org_id && x.supervisor_org_id !== req.user!.orgId })), r.total, page, size),
      filters: [{ code: 'pending', name: '待审核' }, { code: 'approved', name: '通过' }, { code: 'rejected', name: '不通过' }, { code: 'all', name: '全部' }],
    });
  });

  const reviewPage = async (req: FastifyRequest, reply: FastifyReply, r: NonNullable<Awaited<ReturnType<typeof supervision.requestForSupervisor>>>, error?: string, opinion = '') => {
    const dicts = await ctx.dicts.ready();
    const { regions } = await units.regionLists(ctx, { all: true });
    const regionName = new Map(regions.map((x) => [x.code, x.name]));
    const inFlight = r.supervisor_org_id && r.supervisor_org_id !== req.user!.orgId ? await supervision.leftTheUnit(ctx, r.unit_org_id) : 0;
    return reply.page('units/review.njk', {
      title: `下属单位审核：${r.unit}`, breadcrumbs: crumbs(r.unit, { label: '下属单位审核', href: '/org/unit-reviews' }), r, error, opinion, inFlight,
      statusLabel: supervision.REQUEST_STATUS_LABEL[r.status] ?? r.status,
      natureName: dicts.options('unit_nature').find((o) => o.code === r.nature)?.name ?? '',
      levelName: dicts.options('unit_level').find((o) => o.code === r.unit_level)?.name ?? '',
      regionName: r.region_code ? regionName.get(r.region_code) ?? r.region_code : '',
      locationName: r.location ? regionName.get(r.location) ?? r.location : '',
      kindLabel: units.UNIT_TYPES.find((t) => t.code === r.unit_kind)?.name ?? '',
    }, error ? 422 : 200);
  };

  const reviewTarget = (req: FastifyRequest) => supervision.requestForSupervisor(ctx, req.user!.orgId!, Number((req.params as { id: string }).id));

  app.get('/org/unit-reviews/:id', { preHandler: supervisorStaff }, async (req, reply) => {
    const r = await reviewTarget(req);
    if (!r) return reply.callNotFound();
    return reviewPage(req, reply, r);
  });

  app.get('/org/unit-reviews/:id/license', { preHandler: supervisorStaff }, async (req, reply) => {
    const r = await reviewTarget(req);
    if (!r) return reply.callNotFound();
    const f = await units.orgFile(ctx, r.unit_org_id, 'license');
    if (!f) return reply.callNotFound();
    return sendStoredFile(req, reply, ctx.blobs, f);
  });

  app.post('/org/unit-reviews/:id', { preHandler: supervisorStaff }, async (req, reply) => {
    const r = await reviewTarget(req);
    if (!r) return reply.callNotFound();
    const b = (req.body ?? {}) as Body;
    const action = b.action === 'approve' ? true : b.action === 'reject' ? false : null;
    if (action === null) return reviewPage(req, reply, r, '请选择审核结果', b.opinion ?? '');
    const res = await supervision.decideRequest(ctx, req, { id: req.user!.id, orgId: req.user!.orgId! }, r.id, action, b.opinion ?? '');
    if (!res.ok) {
      if (res.error === 'not-found') return reply.callNotFound();
      return reviewPage(req, reply, r, res.error, b.opinion ?? '');
    }
    const extra = res.returned ? `，该单位 ${res.returned} 份进行中的申报已退回单位重新上报` : '';
    return reply.flashRedirect('/org/unit-reviews', `已${action ? '通过' : '不通过'}“${r.unit}”的申请${extra}`);
  });
}

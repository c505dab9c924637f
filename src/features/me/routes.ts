import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireApplicant } from '../../plugins/auth.js';
import { pageParams, makePage } from '../../lib/paging.js';
import { openPlans } from '../plans/repository.js';

export default async function meRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  // 首页: progress (filled by the declaration feature) and 开评评委会 with search.
  app.get('/me', { preHandler: requireApplicant }, async (req, reply) => {
    const q = (req.query as Record<string, string>).q?.trim() ?? '';
    const { page, size, offset } = pageParams(req.query);
    const today = ctx.config.now();
    const { rows, total } = await openPlans(ctx.db, today, q, size, offset);
    return reply.page('me/home.njk', { q, plans: makePage(rows, total, page, size), breadcrumbs: [{ label: '首页' }] });
  });
}

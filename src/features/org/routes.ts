import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireStaff } from '../../plugins/auth.js';
import { todoCount } from '../review/queue.js';
import { pendingRequestCount } from '../units/supervision.js';

/** Staff home. The review issue adds the queues; for now the organisation's card. */
export default async function orgRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  app.get('/org', { preHandler: requireStaff }, async (req, reply) => {
    const org = req.user!.orgId ? await ctx.db.selectFrom('orgs').selectAll().where('id', '=', req.user!.orgId).executeTakeFirst() : undefined;
    const todo = await todoCount(ctx, req.user!);
    // A 主管部门 also decides which units it supervises (下属单位审核).
    const unitRequests = org?.kind === 'supervisor' ? await pendingRequestCount(ctx, org.id) : 0;
    return reply.page('org/home.njk', { org, todo, unitRequests, breadcrumbs: [{ label: '首页' }] });
  });
}

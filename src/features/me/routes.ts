import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireApplicant } from '../../plugins/auth.js';
import { redirect } from '../../plugins/views.js';
import { pageParams, makePage } from '../../lib/paging.js';
import { archivePlanOf } from '../sections/plan.js';
import { completion } from '../../domain/sectionRules.js';
import { progressSteps, type Status } from '../../domain/declaration.js';
import { openPlans } from '../plans/repository.js';
import { countRows } from '../sections/service.js';
import { currentDeclaration, describe, parseCover } from '../declaration/service.js';
import { revisionFor } from '../declaration/revision.js';
import { openSupplementsOfUser } from '../supplements/service.js';

export default async function meRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  // 首页 (seed 001 §2.1): progress, 填写完成情况, 开评评委会 with search.
  app.get('/me', { preHandler: requireApplicant }, async (req, reply) => {
    const q = (req.query as Record<string, string>).q?.trim() ?? '';
    const { page, size, offset } = pageParams(req.query);
    const { rows, total } = await openPlans(ctx.db, ctx.config.now(), q, size, offset);
    const done = completion((await archivePlanOf(ctx, req.user!.id)).sections, await countRows(ctx, req.user!.id));
    const d = await currentDeclaration(ctx, req.user!.id);
    let progress = null;
    // 需修改: the sections ticked on 返回修改, until the declaration is resubmitted.
    const revision = d ? await revisionFor(ctx, req.user!.id, d) : null;
    if (d) {
      const info = describe(d);
      const { steps, at } = progressSteps(d.status as Status, d.stage, info.route.map((r) => r.label));
      progress = { steps, at, text: info.text, cover: parseCover(d), id: d.id, status: d.status };
    }
    const supplements = d ? await openSupplementsOfUser(ctx, req.user!.id, d.id) : [];
    return reply.page('me/home.njk', { q, plans: makePage(rows, total, page, size), done, progress, revision, supplements, breadcrumbs: [{ label: '首页' }] });
  });

  app.get('/me/sections', { preHandler: requireApplicant }, async (_req, reply) => redirect(reply, '/me#completion'));
}

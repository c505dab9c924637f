import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireAdmin } from '../../plugins/auth.js';
import { pageParams, makePage } from '../../lib/paging.js';
import { missingHolidayYears } from '../holidays/service.js';
import { outboxView, OUTBOX_KEEP_DAYS } from '../sms/outbox.js';
import { platformSmsToday } from '../sms/codes.js';
import orgsRoutes from './orgs.js';
import usersRoutes from './users.js';
import holidaysRoutes from './holidays.js';
import dictsRoutes from './dicts.js';
import titlesRoutes from './titles.js';

/** Platform administration. Every route here is behind requireAdmin. */
export default async function adminRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  app.addHook('preHandler', async (req, reply) => {
    if (req.url === '/admin' || req.url.startsWith('/admin/') || req.url.startsWith('/admin?')) return requireAdmin(req, reply);
  });

  // Child plugins registered after the hook inherit it: every screen below is admin-only too.
  await app.register(orgsRoutes, { ctx });
  await app.register(usersRoutes, { ctx });
  await app.register(holidaysRoutes, { ctx });
  await app.register(dictsRoutes, { ctx });
  await app.register(titlesRoutes, { ctx });

  app.get('/admin', async (_req, reply) => {
    const count = async (t: 'users' | 'orgs' | 'sms_outbox' | 'plans') =>
      Number((await ctx.db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const stats = { users: await count('users'), orgs: await count('orgs'), sms: await count('sms_outbox'), plans: await count('plans') };
    const missingYears = await missingHolidayYears(ctx.db, ctx.config.now());
    return reply.page('admin/home.njk', { stats, missingYears, smsToday: await platformSmsToday(ctx), breadcrumbs: [{ label: '平台管理' }] });
  });

  // 短信发件箱: what the local SMS transport "delivered" (last 7 days; codes masked once expired).
  app.get('/admin/sms', async (req, reply) => {
    const { page, size, offset } = pageParams(req.query, 20);
    const total = Number((await ctx.db.selectFrom('sms_outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const rows = await ctx.db.selectFrom('sms_outbox').select(['id', 'phone_masked', 'purpose', 'body', 'created_at', 'cleared']).orderBy('id', 'desc').limit(size).offset(offset).execute();
    const now = ctx.config.now();
    return reply.page('admin/sms.njk', {
      list: makePage(rows.map((r) => outboxView(r, now)), total, page, size), keepDays: OUTBOX_KEEP_DAYS, smsToday: await platformSmsToday(ctx),
      breadcrumbs: [{ label: '平台管理', href: '/admin' }, { label: '短信发件箱' }],
    });
  });
}

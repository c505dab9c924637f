import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { anyDutyRefusal, pageDuties } from '../domain/duties.js';
import { hasDuty } from './auth.js';

/**
 * 本级人员授权 on every staff page and action: the duties of the path (src/domain/duties.ts
 * PAGE_DUTIES, the same map the menu hides links by) are checked for every signed-in staff user
 * before the route's own guards, which then check the organisation (and, for actions, the
 * narrower duty of the action). Anonymous users and applicants are left to the route's guards.
 */
export default fp(async function dutiesPlugin(app: FastifyInstance) {
  app.addHook('preHandler', async (req, reply) => {
    const u = req.user;
    if (!u || u.kind !== 'staff') return;
    const path = req.url.split('?')[0]!;
    const need = pageDuties(path);
    if (!need || need.some((d) => hasDuty(u, d))) return;
    // A password or a second factor that is due comes first (the route guards send there).
    if (u.mustChangePassword || u.passwordExpiredDays || u.mustEnrol2fa) return;
    await reply.code(403).page('errors/error.njk', { title: '无权操作', message: anyDutyRefusal(need) }, 403);
    return reply;
  });
});

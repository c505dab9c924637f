import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { hasPlatformRole, homeOf } from '../../plugins/auth.js';
import { redirect } from '../../plugins/views.js';

/** Pages every signed-in user keeps: their own account, messages, public notices, help. */
const OWN = [/^\/$/, /^\/login(\/|$)/, /^\/logout$/, /^\/account(\/|$)/, /^\/org\/messages(\/|$)/, /^\/notices(\/|$)/, /^\/(help|agreement|privacy|health)$/, /^\/public\//];

/** 三权分立: the security and audit admins work only in their own area. */
const AREAS = [
  { role: 'audit', allowed: /^\/admin\/audit(\/|$)/ },
  { role: 'security', allowed: /^\/admin\/security(\/|$)/ },
] as const;
const MEMBER_AREA = { role: 'member', allowed: /^\/vote(\/|$)/ } as const;

/**
 * A global guard after the auth plugin: an audit admin reaches the audit screens and their own
 * account pages only, a security admin the security screens and their own account pages —
 * whatever the guard of a route would otherwise allow platform staff. Matched on the route
 * pattern (not the raw URL), so encodings and query strings cannot slip past it.
 */
export default fp(async function confinePlugin(app: FastifyInstance) {
  app.addHook('preHandler', async (req, reply) => {
    const u = req.user;
    if (!u) return;
    // 评委 (a committee's member accounts, issue #16) vote and read their meeting's declarations only.
    const area = u.kind === 'staff' && u.roles.includes('member') ? MEMBER_AREA : AREAS.find((a) => hasPlatformRole(u, a.role));
    if (!area) return;
    const route = req.routeOptions.url;
    if (!route || area.allowed.test(route) || OWN.some((re) => re.test(route))) return;
    // The staff home (e.g. after a password change) sends them to their own home instead.
    if (route === '/org' && req.method === 'GET') return redirect(reply, homeOf(u));
    return reply.code(403).page('errors/error.njk', { title: '无权访问', message: '您没有访问该页面的权限。' }, 403);
  });
});

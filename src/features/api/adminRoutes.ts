import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireAdmin } from '../../plugins/auth.js';
import { createToken, getToken, listTokens, revokeToken, tokenOrgs } from './tokens.js';

/**
 * 接口令牌 (system admin): create a token for another government system, scoped to one
 * organisation and shown once; list; revoke with a confirmation. Creation and revocation are
 * audited (api_token_create / api_token_revoke); the calls themselves in src/features/api/routes.ts.
 */
export default async function apiTokenRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const admin = { preHandler: requireAdmin };
  const crumbs = (...more: { label: string; href?: string }[]) => [{ label: '平台管理', href: '/admin' }, { label: '数据交换', href: '/admin/exchange' }, { label: '接口令牌', href: more.length ? '/admin/api-tokens' : undefined }, ...more];

  const listPage = async (reply: FastifyReply, data: Record<string, unknown> = {}, status = 200) =>
    reply.page('exchange/api-tokens.njk', { title: '接口令牌', tokens: await listTokens(ctx), orgs: await tokenOrgs(ctx), errors: {}, values: {}, breadcrumbs: crumbs(), ...data }, status);

  app.get('/admin/api-tokens', admin, async (_req, reply) => listPage(reply));

  app.post('/admin/api-tokens', admin, async (req, reply) => {
    const b = (req.body ?? {}) as { name?: string; org_id?: string };
    const r = await createToken(ctx, req, req.user!, b);
    if (!r.ok) return listPage(reply, { errors: r.errors, values: b }, 422);
    // Shown in this answer only (never in a URL, the session or the log): copy it now.
    return listPage(reply, { created: { token: r.token, orgName: r.orgName, name: (b.name ?? '').trim() } });
  });

  app.get('/admin/api-tokens/:id/revoke', admin, async (req, reply) => {
    const t = await getToken(ctx, Number((req.params as { id: string }).id));
    if (!t) return reply.callNotFound();
    if (t.revoked_at) return reply.flashRedirect('/admin/api-tokens', '该令牌已吊销', 'error');
    return reply.page('components/confirm.njk', {
      title: '吊销接口令牌', message: `确定吊销“${t.name}”（${t.org_name}，${t.prefix}…）吗？吊销后使用该令牌的系统将立即无法调用接口，且不能恢复。`,
      action: `/admin/api-tokens/${t.id}/revoke`, cancel: '/admin/api-tokens', confirmLabel: '确认吊销', breadcrumbs: crumbs({ label: '吊销' }),
    });
  });

  app.post('/admin/api-tokens/:id/revoke', admin, async (req, reply) => {
    const r = await revokeToken(ctx, req, req.user!, Number((req.params as { id: string }).id));
    if (!r.ok) return r.status === 404 ? reply.callNotFound() : reply.flashRedirect('/admin/api-tokens', r.error, 'error');
    return reply.flashRedirect('/admin/api-tokens', `已吊销令牌“${r.name}”`);
  });
}

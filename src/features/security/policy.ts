import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import { requireSecurityAdmin } from '../../plugins/auth.js';
import { redirect } from '../../plugins/views.js';
import { POLICY_CLASS_LABEL, describeChanges, readPolicyForm, type AuthPolicy } from '../../domain/authPolicy.js';
import { audit } from '../audit/service.js';
import { clearTotp } from '../account/totp.js';
import { getPolicy, savePolicy } from './authPolicy.js';

type Body = Record<string, string | undefined>;

/**
 * 安全策略 (安全管理员): who must use two-factor login, password expiry per class; and the
 * 2FA reset of one account (a lost phone), posted from the security admin's user page.
 */
export default async function securityPolicyRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const opts = { preHandler: requireSecurityAdmin };
  const crumbs = [{ label: '安全管理', href: '/admin/security/users' }, { label: '安全策略' }];

  const values = (p: AuthPolicy) => ({
    twofa_hrb: p.twofaHrb ? '1' : '', twofa_committee: p.twofaCommittee ? '1' : '',
    expiry_admin: String(p.expiryDays.admin), expiry_staff: String(p.expiryDays.staff), expiry_applicant: String(p.expiryDays.applicant),
  });
  const page = (reply: FastifyReply, v: Record<string, string | undefined>, errors: Record<string, string> = {}) =>
    reply.page('security/policy.njk', { title: '安全策略', breadcrumbs: crumbs, values: v, errors, labels: POLICY_CLASS_LABEL }, Object.keys(errors).length ? 422 : 200);

  app.get('/admin/security/policy', opts, async (_req, reply) => page(reply, values(await getPolicy(ctx.db))));

  app.post('/admin/security/policy', opts, async (req, reply) => {
    const b = req.body as Body;
    const { policy, errors } = readPolicyForm(b);
    if (!policy) return page(reply, b, errors);
    const before = await getPolicy(ctx.db);
    await writeTx(ctx.db, async (trx) => {
      await savePolicy(trx, policy);
      await audit(ctx, req, { action: 'config_change', objectType: 'setting', objectId: 'auth_policy', detail: describeChanges(before, policy) }, trx);
    });
    return reply.flashRedirect('/admin/security/policy', '安全策略已保存，立即生效');
  });

  // ---- 重置某账号的双因素认证 (lost phone): the user enrols again at the next login ----
  app.get('/admin/security/users/:id/totp-reset', opts, async (req, reply) => redirect(reply, `/admin/security/users/${Number((req.params as { id: string }).id) || ''}`));

  app.post('/admin/security/users/:id/totp-reset', opts, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    if (!Number.isInteger(id) || id <= 0) return reply.callNotFound();
    const u = await ctx.db.selectFrom('users').select(['id', 'kind', 'name', 'totp_enabled', 'totp_secret_enc']).where('id', '=', id).executeTakeFirst();
    if (!u || u.kind !== 'staff') return reply.callNotFound();
    const back = `/admin/security/users/${u.id}`;
    if (u.id === req.user!.id) return reply.flashRedirect(back, '不能重置自己的双因素认证，请由另一位安全管理员操作', 'error');
    if ((req.body as Body).confirm !== '1') return reply.flashRedirect(back, '请勾选确认后再重置双因素认证', 'error');
    if (!u.totp_enabled && !u.totp_secret_enc) return reply.flashRedirect(back, '该账号未启用双因素认证');
    const stamp = ctx.config.now().toISOString();
    await writeTx(ctx.db, async (trx) => {
      await clearTotp(trx, u.id, stamp);
      // Signed out everywhere: whoever holds the lost phone and a session loses both.
      await trx.deleteFrom('sessions').where('user_id', '=', u.id).execute();
      await trx.insertInto('messages').values({ user_id: u.id, type: '系统消息', content: '您的双因素认证已由安全管理员重置，请在下次登录后重新绑定认证应用。', created_at: stamp }).execute();
      await audit(ctx, req, { action: '2fa.reset', objectType: 'user', objectId: u.id, detail: `安全管理员重置双因素认证（${u.totp_enabled ? '已启用' : '绑定未完成'}），该用户的会话已结束` }, trx);
    });
    return reply.flashRedirect(back, '双因素认证已重置，该用户下次登录时须重新绑定');
  });
}

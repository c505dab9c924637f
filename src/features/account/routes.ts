import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireUser, requireApplicant } from '../../plugins/auth.js';
import { PASSWORD_HINT } from '../../domain/password.js';
import { validatePhone } from '../../domain/phone.js';
import { phoneColumns, phoneHmac } from '../../lib/pii.js';
import { issueCode, issueErrors, smsRequester, verifyCode } from '../sms/codes.js';
import * as auth from '../auth/service.js';
import { audit } from '../audit/service.js';

type Body = Record<string, string | undefined>;

// After the old phone is verified, the new phone must be bound within this window.
const PHONE_STEP_MS = 10 * 60_000;

declare module 'fastify' {
  interface Session {
    phoneOldVerifiedAt?: number;
  }
}

export default async function accountRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  // ---- 修改密码 ----
  const pwPage = (reply: FastifyReply, errors: Record<string, string> = {}) =>
    reply.page('account/password.njk', { passwordHint: PASSWORD_HINT, errors, forced: reply.request.user?.mustChangePassword, expiredDays: reply.request.user?.passwordExpiredDays }, Object.keys(errors).length ? 422 : 200);

  app.get('/account/password', { preHandler: requireUser }, async (_req, reply) => pwPage(reply));
  // Rate-limited too: the old password is checked here (guessing it must not be free).
  app.post('/account/password', { preHandler: [requireUser, app.limits.strict] }, async (req, reply) => {
    const b = req.body as Body;
    const r = await auth.changePassword(ctx, req.user!.id, { old: b.old ?? '', password: b.password ?? '', password2: b.password2 ?? '' }, req.session.sessionId);
    if (!r.ok) {
      await audit(ctx, req, { action: 'password_change', objectType: 'user', objectId: req.user!.id, result: 'fail', detail: r.errors.old ? '原密码不正确' : '新密码不符合要求' });
      return pwPage(reply, r.errors);
    }
    await audit(ctx, req, { action: 'password_change', objectType: 'user', objectId: req.user!.id, detail: '本人修改，其他会话已结束' });
    await auth.sendMessage(ctx, req.user!.id, '系统消息', '您的登录密码已修改，其他设备上的登录已退出。');
    // A required second factor not set up yet is next (the guard would send every page there).
    const next = req.user!.mustEnrol2fa ? '/account/2fa' : req.user!.kind === 'applicant' ? '/me' : '/org';
    return reply.flashRedirect(next, '密码修改成功');
  });

  // ---- 修改手机号: verify the old phone, then the new one ----
  const currentPhone = async (userId: number) => {
    const u = await ctx.db.selectFrom('users').select(['phone_enc']).where('id', '=', userId).executeTakeFirstOrThrow();
    return u.phone_enc ? ctx.secrets.decrypt(u.phone_enc) : null;
  };
  const phonePage = (reply: FastifyReply, values: Body = {}, errors: Record<string, string> = {}, extra: object = {}) => {
    const at = reply.request.session.phoneOldVerifiedAt;
    const step = at && ctx.config.now().getTime() - at < PHONE_STEP_MS ? 2 : 1;
    return reply.page('account/phone.njk', { step, values, errors, ...extra }, Object.keys(errors).length ? 422 : 200);
  };

  app.get('/account/phone', { preHandler: requireApplicant }, async (_req, reply) => phonePage(reply));
  for (const step of ['old-sms', 'old', 'new-sms', 'new']) {
    app.get(`/account/phone/${step}`, { preHandler: requireApplicant }, async (_req, reply) => reply.redirect('/account/phone', 303));
  }
  app.addHook('onSend', async (req, reply) => {
    if (req.method === 'POST' && req.url.startsWith('/account/phone/') && reply.statusCode !== 303) reply.header('HX-Replace-Url', '/account/phone');
  });

  app.post('/account/phone/old-sms', { preHandler: [requireApplicant, app.limits.strict] }, async (req, reply) => {
    const phone = await currentPhone(req.user!.id);
    if (!phone) return phonePage(reply, {}, { oldCode: '账号未绑定手机号' });
    const r = await issueCode(ctx, phone, 'phone_old', smsRequester(req));
    return r.ok ? phonePage(reply, {}, {}, { oldSent: true }) : phonePage(reply, {}, issueErrors(r, 'oldCode'));
  });

  app.post('/account/phone/old', { preHandler: [requireApplicant, app.limits.strict] }, async (req, reply) => {
    const b = req.body as Body;
    const phone = await currentPhone(req.user!.id);
    const r = phone ? await verifyCode(ctx, phone, 'phone_old', b.oldCode ?? '') : { ok: false as const, error: '账号未绑定手机号' };
    if (!r.ok) return phonePage(reply, {}, { oldCode: r.error });
    req.session.phoneOldVerifiedAt = ctx.config.now().getTime();
    return reply.flashRedirect('/account/phone', '原手机号验证通过，请绑定新手机号');
  });

  const newPhoneChecks = async (req: { user: { id: number } | null; session: { phoneOldVerifiedAt?: number } }, raw: string): Promise<{ phone?: string; error: Record<string, string> }> => {
    const at = req.session.phoneOldVerifiedAt;
    if (!at || ctx.config.now().getTime() - at >= PHONE_STEP_MS) return { error: { oldCode: '请先验证原手机号' } };
    const p = validatePhone(raw);
    if (!p.ok) return { error: { phone: p.error } };
    const other = await ctx.db.selectFrom('users').select('id').where('phone_hmac', '=', phoneHmac(ctx.secrets, p.value)).executeTakeFirst();
    if (other) return { error: { phone: other.id === req.user!.id ? '新手机号与原手机号相同' : '该手机号已被其他账号使用' } };
    return { phone: p.value, error: {} };
  };

  app.post('/account/phone/new-sms', { preHandler: [requireApplicant, app.limits.strict] }, async (req, reply) => {
    const b = req.body as Body;
    const c = await newPhoneChecks(req, b.phone ?? '');
    if (!c.phone) return phonePage(reply, { phone: b.phone }, c.error);
    const r = await issueCode(ctx, c.phone, 'phone_new', smsRequester(req));
    return r.ok ? phonePage(reply, { phone: c.phone }, {}, { newSent: true }) : phonePage(reply, { phone: b.phone }, issueErrors(r, 'newCode'));
  });

  app.post('/account/phone/new', { preHandler: [requireApplicant, app.limits.strict] }, async (req, reply) => {
    const b = req.body as Body;
    const c = await newPhoneChecks(req, b.phone ?? '');
    if (!c.phone) return phonePage(reply, { phone: b.phone }, c.error);
    const r = await verifyCode(ctx, c.phone, 'phone_new', b.newCode ?? '');
    if (!r.ok) return phonePage(reply, { phone: b.phone }, { newCode: r.error });
    try {
      await ctx.db.updateTable('users').set({ ...phoneColumns(ctx.secrets, c.phone), updated_at: ctx.config.now().toISOString() }).where('id', '=', req.user!.id).execute();
    } catch (err) {
      if (/UNIQUE/.test(String(err))) return phonePage(reply, { phone: b.phone }, { phone: '该手机号已被其他账号使用' });
      throw err;
    }
    delete req.session.phoneOldVerifiedAt;
    await audit(ctx, req, { action: 'phone_change', objectType: 'user', objectId: req.user!.id, detail: '本人修改（原、新手机号短信验证）' });
    await auth.sendMessage(ctx, req.user!.id, '系统消息', '您的手机号已修改，新手机号可作为登录账号。');
    return reply.flashRedirect('/me', '手机号修改成功，新手机号可用于登录');
  });
}

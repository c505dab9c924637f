import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { redirect } from '../../plugins/views.js';
import { PASSWORD_HINT } from '../../domain/password.js';
import { validatePhone } from '../../domain/phone.js';
import { issueCode, issueErrors, smsRequester } from '../sms/codes.js';
import { audit } from '../audit/service.js';
import { sendMessage } from './service.js';
import { resetStaffBySms, resetStaffByUnit, staffByPhone, SMS_MISMATCH } from './staffRecovery.js';

type Body = Record<string, string | undefined>;

function keep(b: Body): Body {
  const { password, password2, upassword, upassword2, _csrf, captcha, captchaRefresh, ...rest } = b;
  void password; void password2; void upassword; void upassword2; void _csrf; void captcha; void captchaRefresh;
  return rest;
}

/** /forgot/staff: public, behind the strict rate limit like /forgot (src/features/auth/staffRecovery.ts). */
export default async function staffRecoveryRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const show = (reply: FastifyReply, values: Body, errors: Record<string, string> = {}, extra: object = {}) =>
    reply.page('auth/forgot-staff.njk', { passwordHint: PASSWORD_HINT, values, errors, ...extra }, Object.keys(errors).length ? 422 : 200);

  app.get('/forgot/staff', async (_req, reply) => show(reply, {}));
  app.get('/forgot/staff/sms', async (_req, reply) => redirect(reply, '/forgot/staff'));
  app.get('/forgot/staff/unit', async (_req, reply) => redirect(reply, '/forgot/staff'));

  app.post('/forgot/staff/sms', { preHandler: app.limits.strict }, async (req, reply) => {
    reply.header('HX-Replace-Url', '/forgot/staff');
    const b = (req.body ?? {}) as Body;
    const errors: Record<string, string> = {};
    if (!(b.username ?? '').trim()) errors.username = '请输入用户名';
    const phone = validatePhone(b.phone ?? '');
    if (!phone.ok) errors.phone = phone.error;
    if (Object.keys(errors).length || !phone.ok) return show(reply, keep(b), errors);
    // Nothing is sent (no code spent) unless the phone may recover that account.
    if (!(await staffByPhone(ctx, b.username!, phone.value))) return show(reply, keep(b), { phone: SMS_MISMATCH });
    const r = await issueCode(ctx, phone.value, 'forgot', smsRequester(req));
    if (!r.ok) return show(reply, keep(b), issueErrors(r));
    return show(reply, keep(b), {}, { smsSent: true });
  });

  app.post('/forgot/staff', { preHandler: app.limits.strict }, async (req, reply) => {
    const b = (req.body ?? {}) as Body;
    const r = await resetStaffBySms(ctx, b);
    if (!r.ok) return show(reply, keep(b), r.errors);
    await audit(ctx, req, { action: 'password_reset', objectType: 'user', objectId: r.userId, detail: '工作人员本人短信验证找回密码', actor: { id: r.userId, kind: 'staff' } });
    await sendMessage(ctx, r.userId, '系统消息', '您的密码已通过短信验证重置。如非本人操作，请立即联系本单位管理员或平台。');
    return reply.flashRedirect('/login?type=staff', '密码已重置，请使用新密码登录');
  });

  app.post('/forgot/staff/unit', { preHandler: app.limits.strict }, async (req, reply) => {
    const b = (req.body ?? {}) as Body;
    // This form's password fields are upassword/upassword2 (the SMS form on the same page has password/password2).
    const r = await resetStaffByUnit(ctx, { ...b, password: b.upassword, password2: b.upassword2 });
    if (!r.ok) return show(reply, keep(b), Object.fromEntries(Object.entries(r.errors).map(([k, v]) => [k === 'password' || k === 'password2' ? `u${k}` : k, v])));
    await audit(ctx, req, { action: 'password_reset', objectType: 'user', objectId: r.userId, detail: '工作人员以单位统一社会信用代码和本人身份证号找回密码', actor: { id: r.userId, kind: 'staff' } });
    await sendMessage(ctx, r.userId, '系统消息', '您的密码已通过单位统一社会信用代码和本人身份证号重置。如非本人操作，请立即联系本单位管理员或平台。');
    return reply.flashRedirect('/login?type=staff', '密码已重置，请使用新密码登录');
  });
}

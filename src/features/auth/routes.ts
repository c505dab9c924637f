import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { redirect } from '../../plugins/views.js';
import { homeOf, loadUser, type CurrentUser } from '../../plugins/auth.js';
import { PASSWORD_HINT } from '../../domain/password.js';
import { checkSmsRequest } from '../../domain/smsRequest.js';
import { issueCode, issueErrors, smsRequester } from '../sms/codes.js';
import * as auth from './service.js';
import { audit, maskAccount } from '../audit/service.js';
import { EXPIRED_NOTICE, SAVED_NOTICE, UPLOAD_NOTICE } from '../../plugins/pending.js';

type Body = Record<string, string | undefined>;

/** Only same-site relative paths may be a post-login target. */
export function safeNext(next: unknown): string | null {
  return typeof next === 'string' && /^\/(?!\/)[^\s\\]*$/.test(next) ? next : null;
}

/** Passwords are never echoed back into a page. */
function keep(body: Body): Body {
  const { password, password2, old, _csrf, captcha, captchaRefresh, ...rest } = body;
  void password; void password2; void old; void _csrf; void captcha; void captchaRefresh;
  return rest;
}

/**
 * Where a freshly signed-in user goes: a password to change (set by someone else, or expired)
 * and a required second factor to set up come before anything else.
 */
export function landingOf(user: CurrentUser, next: string | null): string {
  if (user.mustChangePassword || user.passwordExpiredDays) return '/account/password';
  if (user.mustEnrol2fa) return '/account/2fa';
  return next ?? homeOf(user);
}

export async function startSession(req: FastifyRequest, userId: number, now: Date): Promise<void> {
  // A fresh id at login: an id planted before login (session fixation) is worthless.
  await req.session.regenerate();
  req.session.userId = userId;
  req.session.createdAt = now.getTime();
  req.session.lastSeen = now.getTime();
}

export default async function authRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const pageData = { passwordHint: PASSWORD_HINT };

  app.get('/', async (req, reply) => redirect(reply, req.user ? homeOf(req.user) : '/login'));

  // ---- 登录 ----
  app.get('/login', async (req, reply) => {
    const q = req.query as Body;
    if (req.user) return redirect(reply, homeOf(req.user));
    const ended = req.session.endedReason;
    if (ended) delete req.session.endedReason;
    // A form posted after the session ended is waiting for this login (src/plugins/pending.ts).
    const notice = (await app.pendingForms.waiting(req)) ? SAVED_NOTICE
      : q.expired === 'upload' ? UPLOAD_NOTICE : q.expired ? EXPIRED_NOTICE : ended;
    return reply.page('auth/login.njk', { type: q.type === 'staff' ? 'staff' : 'applicant', next: safeNext(q.next), notice, values: {} });
  });

  app.post('/login', { preHandler: app.limits.login }, async (req, reply) => {
    const b = req.body as Body;
    const type = b.type === 'staff' ? 'staff' : 'applicant';
    const r = await auth.login(ctx, type, b.account ?? '', b.password ?? '', req.ip);
    if (!r.ok) {
      await audit(ctx, req, { action: 'login', result: 'fail', objectType: 'user', objectId: r.userId, detail: r.error, actor: { id: r.userId, kind: type, username: maskAccount(b.account ?? '') } });
      if (r.justLocked) await audit(ctx, req, { action: 'account_lock', objectType: 'user', objectId: r.userId, detail: `连续${auth.MAX_FAILED_LOGINS}次密码错误，自动锁定（仅锁定该来源IP的登录）`, actor: { id: r.userId, kind: type, username: maskAccount(b.account ?? '') } });
      return reply.page('auth/login.njk', { type, next: safeNext(b.next), error: r.error, locked: r.locked, values: keep(b) }, 422);
    }
    if (r.totp) {
      // Password right, 2FA on: not signed in yet. The pending state lives server-side in this
      // session; /login/2fa signs in (with a fresh session id) once the code is right.
      req.session.pending2fa = { userId: r.userId, next: safeNext(b.next), at: ctx.config.now().getTime(), fails: 0 };
      return redirect(reply, '/login/2fa');
    }
    await startSession(req, r.userId, ctx.config.now());
    await auth.recordLogin(ctx, r.userId);
    const user = await loadUser(ctx.db, r.userId, ctx.config.now());
    await audit(ctx, req, { action: 'login', objectType: 'user', objectId: r.userId, actor: user && { ...user, username: user.username ?? maskAccount(b.account ?? '') } });
    // Back to a form kept when the last session ended (this account's only), else to `next`.
    const kept = await app.pendingForms.claim(req, reply, r.userId);
    return redirect(reply, landingOf(user!, kept ?? safeNext(b.next)));
  });

  app.post('/logout', async (req, reply) => {
    if (req.user) await audit(ctx, req, { action: 'logout', objectType: 'user', objectId: req.user.id });
    await req.session.destroy();
    return redirect(reply, '/login');
  });

  // ---- 个人注册 ----
  const registerPage = (reply: FastifyReply, values: Body, errors: Record<string, string> = {}, extra: object = {}) =>
    reply.page('auth/register.njk', { ...pageData, values, errors, ...extra }, Object.keys(errors).length ? 422 : 200);

  app.get('/register', async (_req, reply) => registerPage(reply, {}));

  // 获取验证码: without JS the button submits the whole form here; the page comes back with
  // every typed value kept. With htmx the same POST swaps the same page in.
  // After 获取验证码 the page stays /register: htmx replaces the URL; a GET of the button's
  // URL (back button, reload after no-JS) lands on the form instead of a 404.
  app.get('/register/sms', async (_req, reply) => redirect(reply, '/register'));
  app.post('/register/sms', { preHandler: app.limits.strict }, async (req, reply) => {
    reply.header('HX-Replace-Url', '/register');
    const b = req.body as Body;
    // 身份证号 and 手机号 are checked (and must not be registered yet) before a code is sent:
    // a typo must not spend one of the 3 daily codes. Other field errors wait for the final submit.
    const check = checkSmsRequest(b, ctx.config.now());
    if (!check.ok) return registerPage(reply, keep(b), check.errors);
    const dup = await auth.duplicateErrors(ctx, check.idNumber, check.phone);
    if (dup.phone || dup.idNumber) return registerPage(reply, keep(b), dup);
    const r = await issueCode(ctx, check.phone, 'register', smsRequester(req));
    if (!r.ok) return registerPage(reply, keep(b), issueErrors(r));
    return registerPage(reply, keep(b), {}, { smsSent: true });
  });

  app.post('/register', { preHandler: app.limits.strict }, async (req, reply) => {
    const b = req.body as Body;
    const r = await auth.register(ctx, {
      name: b.name ?? '', idNumber: b.idNumber ?? '', phone: b.phone ?? '', smsCode: b.smsCode ?? '',
      password: b.password ?? '', password2: b.password2 ?? '', agree: b.agree,
    });
    if (!r.ok) return registerPage(reply, keep(b), r.errors);
    await audit(ctx, req, { action: 'register', objectType: 'user', objectId: r.userId, detail: '个人注册（短信验证）', actor: { id: r.userId, kind: 'applicant', name: (b.name ?? '').trim() } });
    await auth.sendMessage(ctx, r.userId, '系统消息', '欢迎注册职称申报评审系统。请先完善基本信息和申报信息，再进行职称申报。');
    await startSession(req, r.userId, ctx.config.now());
    return reply.flashRedirect('/me', '注册成功，欢迎使用！');
  });

  // ---- 忘记密码 / 自助解锁 ----
  for (const mode of ['forgot', 'unlock'] as const) {
    const withPassword = mode === 'forgot';
    const tpl = `auth/${mode}.njk`;
    const show = (reply: FastifyReply, values: Body, errors: Record<string, string> = {}, extra: object = {}) =>
      reply.page(tpl, { ...pageData, values, errors, ...extra }, Object.keys(errors).length ? 422 : 200);

    app.get(`/${mode}`, async (_req, reply) => show(reply, {}));

    app.get(`/${mode}/sms`, async (_req, reply) => redirect(reply, `/${mode}`));
    app.post(`/${mode}/sms`, { preHandler: app.limits.strict }, async (req, reply) => {
      reply.header('HX-Replace-Url', `/${mode}`);
      const b = req.body as Body;
      // Nothing is sent (no code spent) unless both numbers are valid and belong to one account.
      const check = checkSmsRequest(b, ctx.config.now());
      if (!check.ok) return show(reply, keep(b), check.errors);
      const found = await auth.findByIdAndPhone(ctx, check.idNumber, check.phone);
      if (!found) return show(reply, keep(b), { phone: '身份证号与注册手机号不匹配' });
      if (!withPassword && found.locked_at) return show(reply, keep(b), { phone: auth.ADMIN_LOCK_MESSAGE });
      const r = await issueCode(ctx, check.phone, mode, smsRequester(req));
      if (!r.ok) return show(reply, keep(b), issueErrors(r));
      return show(reply, keep(b), {}, { smsSent: true });
    });

    app.post(`/${mode}`, { preHandler: app.limits.strict }, async (req, reply) => {
      const b = req.body as Body;
      const r = await auth.resetByPhone(ctx, { idNumber: b.idNumber ?? '', phone: b.phone ?? '', smsCode: b.smsCode ?? '', password: b.password, password2: b.password2 }, withPassword);
      if (!r.ok) return show(reply, keep(b), r.errors);
      await audit(ctx, req, { action: withPassword ? 'password_reset' : 'account_unlock', objectType: 'user', objectId: r.userId, detail: '本人短信验证', actor: { id: r.userId, kind: 'applicant' } });
      await auth.sendMessage(ctx, r.userId, '系统消息', withPassword ? '您的密码已通过短信验证重置。如非本人操作，请立即联系所在单位或平台。' : '您的账号已通过短信验证解锁。');
      return reply.flashRedirect('/login', withPassword ? '密码已重置，请使用新密码登录' : '账号已解锁，请重新登录');
    });
  }

  // ---- 用户协议 / 隐私政策 / 帮助 ----
  app.get('/agreement', async (_req, reply) => reply.page('pages/agreement.njk'));
  app.get('/privacy', async (_req, reply) => reply.page('pages/privacy.njk'));
  app.get('/help', async (_req, reply) => reply.page('pages/help.njk'));
}

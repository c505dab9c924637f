import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireStaff, loadUser, type CurrentUser } from '../../plugins/auth.js';
import { redirect } from '../../plugins/views.js';
import { twoFactorRequired } from '../../domain/authPolicy.js';
import { verifyPassword } from '../../lib/passwords.js';
import { audit } from '../audit/service.js';
import { getPolicy } from '../security/authPolicy.js';
import { landingOf, startSession } from '../auth/routes.js';
import * as auth from '../auth/service.js';
import { checkSecondFactor, confirmEnrolment, enrolmentQr, pendingSecret, regenerateRecoveryCodes, clearTotp, totpState, type SecondFactor } from './totp.js';
import { writeTx } from '../../db/index.js';

type Body = Record<string, string | undefined>;

/** A password-checked login waiting for its second factor (server-side, in the session; set by POST /login). */
export interface Pending2fa {
  userId: number;
  next: string | null;
  at: number;
  fails: number;
}

declare module 'fastify' {
  interface Session {
    pending2fa?: Pending2fa;
    /** Recovery codes just made, encrypted (the session row is on disk), shown once on the next page. */
    recoveryCodes?: string;
  }
}

/** The second step must follow the password within 5 minutes. */
export const PENDING_TTL_MS = 5 * 60_000;
/** Wrong codes that end a pending login (start again with the password). */
export const MAX_CODE_FAILURES = 5;

const failMessage: Record<Exclude<SecondFactor, { ok: true }>['reason'], string> = {
  wrong: '验证码不正确',
  replay: '该验证码已使用过，请等待认证应用显示下一个验证码',
  off: '该账号未启用双因素认证',
};

const actorOf = (u: CurrentUser | null) => u && { id: u.id, kind: u.kind, name: u.name, username: u.username, roles: u.roles, orgId: u.orgId };

export default async function twoFactorRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  // ---- 登录第二步：动态验证码或恢复码 ----
  const live = (req: FastifyRequest): Pending2fa | null => {
    const p = req.session.pending2fa;
    if (!p) return null;
    if (ctx.config.now().getTime() - p.at > PENDING_TTL_MS) {
      delete req.session.pending2fa;
      return null;
    }
    return p;
  };
  const codePage = (reply: FastifyReply, error?: string, status = 200) => reply.page('account/login-2fa.njk', { title: '双因素认证', error }, status);
  const startOver = (reply: FastifyReply, text: string) => reply.flashRedirect('/login?type=staff', text, 'error');

  app.get('/login/2fa', async (req, reply) => {
    if (req.user) return redirect(reply, landingOf(req.user, null));
    if (!live(req)) return startOver(reply, '登录验证已超时，请重新登录');
    return codePage(reply);
  });

  app.post('/login/2fa', { preHandler: app.limits.twofactor }, async (req, reply) => {
    const p = live(req);
    if (!p) return startOver(reply, '登录验证已超时，请重新登录');
    const user = await loadUser(ctx.db, p.userId, ctx.config.now());
    const row = await ctx.db.selectFrom('users').select('locked_at').where('id', '=', p.userId).executeTakeFirst();
    if (!user || row?.locked_at) {
      delete req.session.pending2fa;
      return startOver(reply, '账号已停用或已锁定，请联系平台管理员');
    }
    const code = (req.body as Body).code ?? '';
    const r = code.trim() ? await checkSecondFactor(ctx, p.userId, code) : ({ ok: false, reason: 'wrong' } as const);
    if (!r.ok) {
      p.fails += 1;
      const over = p.fails >= MAX_CODE_FAILURES;
      await audit(ctx, req, {
        action: '2fa.fail', result: 'fail', objectType: 'user', objectId: p.userId, actor: actorOf(user),
        detail: `${r.reason === 'replay' ? '验证码重复使用' : code.trim() ? '验证码错误' : '未输入验证码'}（第${p.fails}次）${over ? '，本次登录作废' : ''}`,
      });
      if (over) {
        delete req.session.pending2fa;
        return startOver(reply, `验证码连续错误${MAX_CODE_FAILURES}次，请重新输入密码登录`);
      }
      req.session.pending2fa = p; // mark the session changed: the count must survive
      const msg = code.trim() ? `${failMessage[r.reason]}，还可以尝试${MAX_CODE_FAILURES - p.fails}次` : '请输入验证码';
      return codePage(reply, msg, 422);
    }
    await audit(ctx, req, {
      action: r.via === 'recovery' ? '2fa.recovery' : '2fa.ok', objectType: 'user', objectId: p.userId, actor: actorOf(user),
      detail: r.via === 'recovery' ? `使用恢复码登录，剩余${r.left}个` : '动态验证码正确',
    });
    await startSession(req, p.userId, ctx.config.now());
    await auth.recordLogin(ctx, p.userId);
    await audit(ctx, req, { action: 'login', objectType: 'user', objectId: p.userId, actor: actorOf(user), detail: '密码 + 双因素认证' });
    const next = (await app.pendingForms.claim(req, reply, p.userId)) ?? p.next;
    if (r.via === 'recovery' && r.left <= 3) {
      return reply.flashRedirect(landingOf(user, next), `您的恢复码仅剩${r.left}个，请在“双因素认证”中重新生成恢复码`, 'error');
    }
    return redirect(reply, landingOf(user, next));
  });

  // ---- 账号设置：双因素认证 ----
  const accountOf = (u: CurrentUser) => u.username ?? String(u.id);

  const enrolPage = async (req: FastifyRequest, reply: FastifyReply, errors: Record<string, string> = {}) => {
    const u = req.user!;
    const required = twoFactorRequired(await getPolicy(ctx.db), u);
    const state = await totpState(ctx, u.id);
    const crumbs = [{ label: '账号设置' }, { label: '双因素认证' }];
    const status = Object.keys(errors).length ? 422 : 200;
    if (state.enabled) return reply.page('account/twofactor.njk', { title: '双因素认证', breadcrumbs: crumbs, state, required, errors }, status);
    const secret = (await pendingSecret(ctx, u.id))!;
    const qr = await enrolmentQr(secret, accountOf(u));
    return reply.page('account/twofactor.njk', {
      title: '双因素认证', breadcrumbs: crumbs, state, required, errors,
      qrSvg: qr.svg, uri: qr.uri, secretGroups: secret.match(/.{1,4}/g)!.join(' '),
    }, status);
  };

  app.get('/account/2fa', { preHandler: requireStaff }, async (req, reply) => enrolPage(req, reply));

  app.post('/account/2fa', { preHandler: [requireStaff, app.limits.twofactor] }, async (req, reply) => {
    const u = req.user!;
    const r = await confirmEnrolment(ctx, u.id, (req.body as Body).code ?? '');
    if (!r.ok) {
      await audit(ctx, req, { action: '2fa.fail', result: 'fail', objectType: 'user', objectId: u.id, detail: '启用时验证码错误' });
      return enrolPage(req, reply, { code: r.error });
    }
    await audit(ctx, req, { action: '2fa.enroll', objectType: 'user', objectId: u.id, detail: '启用双因素认证（认证应用），生成恢复码' });
    req.session.recoveryCodes = ctx.secrets.encrypt(JSON.stringify(r.codes));
    return redirect(reply, '/account/2fa/recovery');
  });

  // Shown once: the codes live in the session until this page is rendered.
  app.get('/account/2fa/recovery', { preHandler: requireStaff }, async (req, reply) => {
    const sealed = req.session.recoveryCodes;
    if (!sealed) return redirect(reply, '/account/2fa');
    delete req.session.recoveryCodes;
    const codes = JSON.parse(ctx.secrets.decrypt(sealed)) as string[];
    return reply.page('account/twofactor-codes.njk', { title: '恢复码', breadcrumbs: [{ label: '账号设置' }, { label: '双因素认证', href: '/account/2fa' }, { label: '恢复码' }], codes, next: landingOf(req.user!, null) });
  });

  /**
   * Password + a current code (or a recovery code): what disabling and new codes require.
   * The two forms share a page, so their fields are prefixed (`off_`, `new_`): unique ids.
   */
  const reauth = async (req: FastifyRequest, prefix: 'off_' | 'new_'): Promise<{ errors: Record<string, string>; via?: SecondFactor }> => {
    const b = req.body as Body;
    const pw = b[`${prefix}password`] ?? '';
    const code = (b[`${prefix}code`] ?? '').trim();
    const errors: Record<string, string> = {};
    const row = await ctx.db.selectFrom('users').select('password_hash').where('id', '=', req.user!.id).executeTakeFirstOrThrow();
    if (!pw) errors[`${prefix}password`] = '请输入登录密码';
    else if (!(await verifyPassword(row.password_hash, pw))) errors[`${prefix}password`] = '登录密码不正确';
    if (!code) errors[`${prefix}code`] = '请输入验证码';
    if (Object.keys(errors).length) return { errors };
    const r = await checkSecondFactor(ctx, req.user!.id, code);
    if (!r.ok) {
      errors[`${prefix}code`] = failMessage[r.reason];
      await audit(ctx, req, { action: '2fa.fail', result: 'fail', objectType: 'user', objectId: req.user!.id, detail: r.reason === 'replay' ? '验证码重复使用（账号设置）' : '验证码错误（账号设置）' });
    }
    return { errors, via: r };
  };

  app.post('/account/2fa/disable', { preHandler: [requireStaff, app.limits.twofactor] }, async (req, reply) => {
    const u = req.user!;
    if (twoFactorRequired(await getPolicy(ctx.db), u)) {
      return reply.flashRedirect('/account/2fa', '根据安全策略，您的账号必须使用双因素认证，不能关闭', 'error');
    }
    const { errors } = await reauth(req, 'off_');
    if (Object.keys(errors).length) return enrolPage(req, reply, errors);
    const stamp = ctx.config.now().toISOString();
    await writeTx(ctx.db, async (trx) => {
      await clearTotp(trx, u.id, stamp);
      await audit(ctx, req, { action: '2fa.disable', objectType: 'user', objectId: u.id, detail: '本人关闭双因素认证' }, trx);
    });
    await auth.sendMessage(ctx, u.id, '系统消息', '您的账号已关闭双因素认证。如非本人操作，请立即修改密码并联系平台安全管理员。');
    return reply.flashRedirect('/account/2fa', '双因素认证已关闭');
  });

  app.post('/account/2fa/recovery-codes', { preHandler: [requireStaff, app.limits.twofactor] }, async (req, reply) => {
    const u = req.user!;
    const { errors } = await reauth(req, 'new_');
    if (Object.keys(errors).length) return enrolPage(req, reply, errors);
    req.session.recoveryCodes = ctx.secrets.encrypt(JSON.stringify(await regenerateRecoveryCodes(ctx, u.id)));
    await audit(ctx, req, { action: '2fa.codes', objectType: 'user', objectId: u.id, detail: '重新生成恢复码（原恢复码作废）' });
    return redirect(reply, '/account/2fa/recovery');
  });
}

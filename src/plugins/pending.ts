import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { redirect } from './views.js';
import {
  PENDING_COOKIE, PENDING_TTL_MS, deletePending, findPending, isPendingKey, keepableBody, newPendingKey, savePending, startPendingPurge, type FormBody,
} from '../features/pending/service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The GET page on which a form posted to this route is shown again when it arrives after its
     * session ended (kept, then given back after the next login). Routes without it are not kept.
     */
    pendingForm?: (params: Record<string, string>) => string | null;
  }
  interface FastifyInstance {
    pendingForms: PendingForms;
  }
}

export interface PendingForms {
  /**
   * A POST typed while signed in whose session has since ended (its CSRF token was issued to an
   * account, and no one is signed in now): keep the form when its route says where it is shown,
   * and send the browser to the login page (HX-Redirect for htmx). False when it is not such a
   * request: the caller answers as usual.
   */
  rescue(req: FastifyRequest, reply: FastifyReply): Promise<boolean>;
  /** The form kept for this page, this browser and the signed-in account — once; null when there is none. */
  take(req: FastifyRequest, reply: FastifyReply): Promise<FormBody | null>;
  /** At login: the page of this browser's kept form when it is this account's; another account's is discarded. */
  claim(req: FastifyRequest, reply: FastifyReply, userId: number): Promise<string | null>;
  /** Whether this browser holds a kept form (the login page says so). */
  waiting(req: FastifyRequest): Promise<boolean>;
}

export const SAVED_NOTICE = '登录已超时，请重新登录；您填写的内容已保存，登录后将自动恢复';
export const UPLOAD_NOTICE = '登录已超时，请重新登录；上传的文件未能保存，请登录后重新上传';
export const EXPIRED_NOTICE = '登录已超时，请重新登录';
export const RESTORED_TEXT = '已恢复您登录超时前填写的内容，请核对后点击【保存】';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const pathOf = (url: string) => url.split('?')[0]!;
/** A same-site path to come back to (the page the form was on), or null. */
const safePath = (s: string | null | undefined) => (s && /^\/(?!\/)[^\s\\]*$/.test(s) ? s : null);

export function refererPath(req: FastifyRequest): string | null {
  const ref = req.headers.referer;
  if (!ref) return null;
  try {
    const u = new URL(ref);
    return safePath(u.pathname + u.search);
  } catch {
    return null;
  }
}

/**
 * Pending forms (issue #19): a form posted after its session ended is kept for two hours,
 * in the browser that posted it (random key in an HttpOnly cookie, only its hash stored), for
 * the account that typed it (the account tag of the form's CSRF token, a keyed hash), and shown
 * again — once — on its page after the next login of that account. Another account signing in
 * in that browser discards it. Multipart (file) posts are not kept; the login page says so.
 */
export default fp(async function pendingPlugin(app: FastifyInstance, opts: { ctx: AppContext }) {
  const { ctx } = opts;
  const cookieOpts = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: ctx.config.secureCookies };
  const forget = (reply: FastifyReply) => reply.clearCookie(PENDING_COOKIE, { path: '/' });
  const keyOf = (req: FastifyRequest) => {
    const k = req.cookies[PENDING_COOKIE];
    return isPendingKey(k) ? k : null;
  };

  const forms: PendingForms = {
    async rescue(req, reply) {
      if (req.user || !UNSAFE.has(req.method)) return false;
      const owner = app.csrfAccountTag(req);
      if (!owner) return false;
      const page = safePath(req.routeOptions.config?.pendingForm?.(req.params as Record<string, string>));
      const multipart = /^multipart\//i.test(String(req.headers['content-type'] ?? ''));
      // A cross-site post never carries a token of this browser; refuse to keep one all the same.
      const crossSite = /^(cross-site|same-site)$/.test(String(req.headers['sec-fetch-site'] ?? ''));
      const body = page && !multipart && !crossSite ? keepableBody(req.body) : null;
      if (page && body) {
        const key = keyOf(req) ?? newPendingKey();
        await savePending(ctx, key, { ownerTag: owner, page, body });
        reply.setCookie(PENDING_COOKIE, key, { ...cookieOpts, maxAge: PENDING_TTL_MS / 1000 });
      }
      const back = page ?? refererPath(req);
      const staff = /^\/(org|admin)(\/|$|\?)/.test(back ?? pathOf(req.url));
      const q = new URLSearchParams();
      if (staff) q.set('type', 'staff');
      if (back) q.set('next', back);
      if (!body) q.set('expired', multipart ? 'upload' : '1');
      const url = `/login?${q}`;
      req.log.info({ kept: !!body }, 'session ended before a form was posted: to the login page');
      // htmx would swap the login page into the form's target: make it a full navigation.
      if (req.headers['hx-request']) reply.code(200).header('HX-Redirect', url).send();
      else redirect(reply, url);
      return true;
    },

    async take(req, reply) {
      const key = keyOf(req);
      if (!key || !req.user) return null;
      const row = await findPending(ctx, key);
      if (!row) {
        forget(reply);
        return null;
      }
      const mine = row.owner_tag === app.csrfTagFor(req.user.id);
      if (mine && row.page !== pathOf(req.url)) return null;
      await deletePending(ctx, key);
      forget(reply);
      return mine ? (JSON.parse(row.body) as FormBody) : null;
    },

    async claim(req, reply, userId) {
      const key = keyOf(req);
      if (!key) return null;
      const row = await findPending(ctx, key);
      if (row && row.owner_tag === app.csrfTagFor(userId)) return row.page;
      if (row) await deletePending(ctx, key);
      forget(reply);
      return null;
    },

    async waiting(req) {
      const key = keyOf(req);
      return !!key && !!(await findPending(ctx, key));
    },
  };
  app.decorate('pendingForms', forms);

  let stopPurge: (() => Promise<void>) | null = null;
  app.addHook('onReady', async () => {
    stopPurge = startPendingPurge(ctx);
  });
  app.addHook('onClose', async () => {
    await stopPurge?.();
  });
});

import fp from 'fastify-plugin';
import fastifyView from '@fastify/view';
import nunjucks from 'nunjucks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Assets } from './assets.js';
import type { MenuItem } from '../lib/menu.js';
import { cspNonceOf } from '../lib/csp.js';
import { printTextHtml } from '../lib/printText.js';
import { windowText, type PlanWindow } from '../domain/plans.js';

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a page with the common context (user, menu, CSRF token, flash). */
    page(template: string, data?: Record<string, unknown>, status?: number): Promise<FastifyReply>;
    /** PRG: store a one-shot notice and redirect (HX-aware); `slot`: the id of the element it belongs next to. */
    flashRedirect(url: string, text: string, kind?: 'ok' | 'error', slot?: string): FastifyReply;
  }
  interface FastifyRequest {
    /** True for htmx requests that want a fragment (not hx-boost navigations). */
    isFragment: boolean;
  }
}

export interface PageContext {
  menu: MenuItem[];
  unread: number;
  /** Published 通知公告 the user has not opened (header badge). */
  unreadNotices: number;
  /** The image code of a page with 获取验证码, when this IP needs one (src/features/sms/routes.ts). */
  smsChallenge?: { src: string; width: number; height: number } | null;
}

/** Set once app.css (of the hash it holds) was sent inside a page. */
export const CSS_COOKIE = 'zc_css';

export default fp(async function viewsPlugin(
  app: FastifyInstance,
  opts: { viewsDir: string; assets: Assets; dev: boolean; inlineCss?: boolean; secureCookies?: boolean; pageContext: (req: FastifyRequest) => Promise<PageContext> },
) {
  const css = opts.assets.inline('css/app.css');
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(opts.viewsDir, { noCache: opts.dev }), {
    autoescape: true, // never turned off: every value is escaped unless a template says |safe
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addGlobal('asset', (rel: string) => opts.assets.url(rel));
  env.addFilter('date', (iso: string | null | undefined, withTime = true) => {
    if (!iso) return '';
    const d = new Date(iso);
    // Display in China Standard Time whatever the server's zone.
    const s = new Date(d.getTime() + 8 * 3_600_000).toISOString();
    return withTime ? `${s.slice(0, 10)} ${s.slice(11, 16)}` : s.slice(0, 10);
  });

  // A plan's window with its times: "2026年11月1日08:00至11月3日17:00".
  env.addFilter('planWindow', (p: PlanWindow | null | undefined) => (p && p.opens_at && p.closes_at ? windowText(p) : ''));

  // Printed cells: escaped text, numbers in the text's face and never broken (src/lib/printText.ts).
  env.addFilter('printText', (v: unknown) => new nunjucks.runtime.SafeString(printTextHtml(v)));

  // @fastify/view calls engine.configure(); handing it our own Environment keeps the loader
  // swappable (the single binary reads templates from its assets) and autoescape explicit.
  await app.register(fastifyView, { engine: { nunjucks: { configure: () => env } }, templates: opts.viewsDir });

  app.decorateRequest('isFragment', false);
  app.addHook('onRequest', async (req) => {
    req.isFragment = req.headers['hx-request'] === 'true' && req.headers['hx-boosted'] !== 'true';
  });

  app.decorateReply('page', async function (this: FastifyReply, template: string, data = {}, status = 200) {
    const req = this.request;
    const reply = this;
    let token: string | undefined;
    const session = req.session as any;
    const flash = session?.flash;
    if (flash) delete session.flash;
    const pc = await opts.pageContext(req);
    // First paint on a slow link: a browser that has not been sent this version of app.css gets
    // it inside the page (no second round trip before anything shows) and prefetches the file
    // for later pages; the cookie says it has been sent. Fragments never need it.
    let inlineCss: string | null = null;
    if (opts.inlineCss && !req.isFragment && req.headers['hx-request'] !== 'true' && req.cookies?.[CSS_COOKIE] !== css.hash) {
      inlineCss = css.text;
      reply.setCookie(CSS_COOKIE, css.hash, { path: '/', maxAge: 31_536_000, sameSite: 'lax', httpOnly: true, secure: !!opts.secureCookies, signed: false });
    }
    const html = await reply.viewAsync(template, {
      ...data,
      user: req.user,
      menu: pc.menu,
      unread: pc.unread,
      unreadNotices: pc.unreadNotices,
      smsChallenge: pc.smsChallenge ?? null,
      // A notice left for this page (PRG) wins over one the handler passes.
      flash: flash ?? data.flash,
      path: req.url.split('?')[0],
      csrf: () => (token ??= reply.csrfToken()),
      // Every <script> tag carries it: the CSP allows no script without (src/lib/csp.ts).
      cspNonce: cspNonceOf(reply.raw),
      inlineCss,
      fragment: req.isFragment,
    });
    // Pages may show personal data: no shared or back-button caching.
    return this.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html);
  });

  app.decorateReply('flashRedirect', function (this: FastifyReply, url: string, text: string, kind: 'ok' | 'error' = 'ok', slot?: string) {
    const session = this.request.session as any;
    if (session && typeof session.set === 'function') session.flash = slot ? { kind, text, slot } : { kind, text };
    return redirect(this, url);
  });
});

/** POST-redirect-GET that also works for htmx (which follows 303 transparently). */
export function redirect(reply: FastifyReply, url: string): FastifyReply {
  return reply.code(303).header('Location', url).send();
}

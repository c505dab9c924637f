import crypto from 'node:crypto';
import fp from 'fastify-plugin';
import csrf from '@fastify/csrf-protection';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { csrfDeferred } from '../lib/multipart.js';

declare module 'fastify' {
  interface FastifyReply {
    /** A CSRF token for this browser, bound to the signed-in account (or to "nobody" before login). */
    csrfToken(): string;
  }
  interface FastifyInstance {
    /**
     * The account tag of the token this unsafe request carries — a keyed hash of the account it
     * was issued to — when the token was issued by this app to this browser for a signed-in
     * account; null otherwise (no token, a forged one, another browser's, an anonymous form's).
     * With no user on the request it means: the session this form was typed in has ended.
     */
    csrfAccountTag(req: FastifyRequest): string | null;
    /** The account tag a token issued to `userId` carries. */
    csrfTagFor(userId: number): string;
  }
}

export const CSRF_COOKIE = 'zc_csrf';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whom a token is bound to: the session's account, or 'anon' before login. */
export const userInfoOf = (req: FastifyRequest): string => {
  const id = req.session?.userId;
  return id ? `u:${id}` : 'anon';
};

/** The token of a request, where @fastify/csrf-protection looks for it (body, then headers). */
function tokenOf(req: FastifyRequest): unknown {
  const h = req.headers;
  return (req.body as Record<string, unknown> | undefined)?._csrf || h['csrf-token'] || h['xsrf-token'] || h['x-csrf-token'] || h['x-xsrf-token'];
}

/**
 * CSRF on every state-changing request, htmx included (it sends the token as a header).
 *
 * The secret lives in a signed HttpOnly cookie, not in the session: an anonymous visitor's
 * login or registration form needs no session row (issue #19). Tokens are HMACs (key derived
 * from the master key) bound to the account signed in when the page was made ('anon' before
 * login), so a token from before login, from another account or from another browser is refused
 * — what a fresh session secret at login used to give — while a form typed by the same account
 * before a re-login in another tab still posts.
 */
export default fp(async function csrfPlugin(app: FastifyInstance, opts: { config: Config; key: Buffer }) {
  const { key } = opts;
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: '/', sameSite: 'lax', httpOnly: true, signed: true, secure: opts.config.secureCookies },
    getUserInfo: userInfoOf,
    csrfOpts: { hmacKey: key },
  });

  app.decorateReply('csrfToken', function () {
    return this.generateCsrf({ userInfo: userInfoOf(this.request) });
  });

  // @fastify/csrf's token: <HMAC(key, userInfo), '-' → '_'>-<8-char salt>-<HMAC(key, "<tag>-<salt>-<secret>")>.
  const tag = (info: string) => crypto.createHmac('sha256', key).update(info).digest('base64url').replace(/-/g, '_');
  const anonTag = tag('anon');
  app.decorate('csrfTagFor', (userId: number) => tag(`u:${userId}`));
  app.decorate('csrfAccountTag', (req: FastifyRequest): string | null => {
    const token = tokenOf(req);
    const m = typeof token === 'string' ? /^([A-Za-z0-9_]{43})-([A-Za-z0-9]{1,64})-([A-Za-z0-9_-]{43})$/.exec(token) : null;
    if (!m || m[1] === anonTag) return null;
    const cookie = req.cookies[CSRF_COOKIE];
    const secret = cookie ? req.unsignCookie(cookie) : null;
    if (!secret?.valid || !secret.value) return null;
    const expected = crypto.createHmac('sha256', key).update(`${m[1]}-${m[2]}-${secret.value}`, 'ascii').digest();
    const actual = Buffer.from(m[3]!, 'base64url');
    return actual.length === expected.length && crypto.timingSafeEqual(actual, expected) ? m[1]! : null;
  });

  // A preHandler, so urlencoded bodies are parsed and `_csrf` can be read from them. A no-JS
  // multipart upload carries it as its first field, checked by the strict reader before the
  // file is read (src/lib/multipart.ts); a token is never put in a URL.
  app.addHook('preHandler', (req, reply, done) => {
    if (!UNSAFE.has(req.method) || csrfDeferred(req)) return done();
    app.csrfProtection(req, reply, done);
  });
});

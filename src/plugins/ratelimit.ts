import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Config } from '../config.js';
import type { Secrets } from '../lib/secrets.js';

/** Route preHandlers limiting abuse-prone endpoints (GB/T 22239: 登录失败处理 / 防暴力破解). */
export interface Limits {
  /** POST /login: 20/min per IP and 10 per 15 min per account. */
  login: preHandlerAsyncHookHandler;
  /** Registration, SMS, forgot password and self-unlock: 10/min per IP. */
  strict: preHandlerAsyncHookHandler;
  /** Two-factor codes (login step 2, enrolment, disable): 20/min per IP and 10 per 15 min per account. */
  twofactor: preHandlerAsyncHookHandler;
}

declare module 'fastify' {
  interface FastifyInstance {
    limits: Limits;
  }
}

type Check = (req: FastifyRequest) => Promise<{ isAllowed: boolean; isExceeded: boolean; ttlInSeconds?: number; ttl?: number }>;

/**
 * In-memory counters (one process; the single binary). The 429 page is Chinese and carries
 * Retry-After. The account key is the look-up HMAC of the typed account, never the account.
 * RATE_LIMIT=off (tests) makes every limit a no-op.
 */
export default fp(async function rateLimitPlugin(app: FastifyInstance, opts: { config: Config; secrets: Secrets }) {
  const noop: preHandlerAsyncHookHandler = async () => {};
  if (!opts.config.rateLimit) {
    app.decorate('limits', { login: noop, strict: noop, twofactor: noop });
    return;
  }
  await app.register(rateLimit, { global: false, timeWindow: 60_000 });
  const create = (o: { max: number; timeWindow: number; keyGenerator: (req: FastifyRequest) => string }): Check => (app as any).createRateLimit(o);

  // Per route and IP: a registration does not use up the forgot-password allowance.
  const byIp = (max: number, name: string) => create({ max, timeWindow: 60_000, keyGenerator: (req) => `${name}:${req.routeOptions.url}:ip:${req.ip}` });
  const account = (req: FastifyRequest) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const acc = typeof b.account === 'string' ? b.account.trim().toUpperCase().replace(/[\s-]/g, '') : '';
    // No account typed: counted against the IP only (the IP limit already applies).
    return acc ? `login:acct:${b.type === 'staff' ? 's' : 'a'}:${opts.secrets.lookupHash(`acct:${acc}`)}` : `login:acct:none:${req.ip}`;
  };
  const loginIp = byIp(20, 'login');
  const loginAccount = create({ max: 10, timeWindow: 15 * 60_000, keyGenerator: account });
  const strictIp = byIp(10, 'strict');
  // The account of a code is the one waiting for its second factor, or the signed-in user.
  const codeAccount = (req: FastifyRequest) => {
    const id = req.session?.pending2fa?.userId ?? req.session?.userId;
    return id ? `2fa:user:${id}` : `2fa:none:${req.ip}`;
  };
  const twofactorIp = create({ max: 20, timeWindow: 60_000, keyGenerator: (req) => `2fa:ip:${req.ip}` });
  const twofactorAccount = create({ max: 10, timeWindow: 15 * 60_000, keyGenerator: codeAccount });

  const tooMany = (reply: FastifyReply, seconds: number) => {
    const s = Math.max(1, seconds);
    return reply.header('Retry-After', String(s)).page('errors/error.njk', { title: '操作过于频繁', message: `操作过于频繁，请${s}秒后再试` }, 429);
  };
  const handler = (checks: Check[]): preHandlerAsyncHookHandler =>
    async function (req, reply) {
      for (const check of checks) {
        const r = await check(req);
        if (!r.isAllowed && r.isExceeded) return tooMany(reply, r.ttlInSeconds ?? Math.ceil((r.ttl ?? 60_000) / 1000));
      }
    };
  app.decorate('limits', { login: handler([loginIp, loginAccount]), strict: handler([strictIp]), twofactor: handler([twofactorIp, twofactorAccount]) });
});

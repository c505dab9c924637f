import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Config } from '../config.js';
import type { DB } from '../db/index.js';
import type { Secrets } from '../lib/secrets.js';
import { hit, secondsUntil, startCounterPurge } from '../lib/counters.js';

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

/** One limit: at most `max` hits per `windowMs` for the key the request maps to. */
interface Rule {
  max: number;
  windowMs: number;
  key: (req: FastifyRequest) => string;
}

/**
 * Counters are rows of rate_counters (src/lib/counters.ts), shared by every process; one atomic
 * upsert per rule and request. The 429 page is Chinese and carries Retry-After. The account key
 * is the look-up HMAC of the typed account, never the account. RATE_LIMIT=off (tests) makes
 * every limit a no-op. Ended windows are purged every 10 minutes.
 */
export default fp(async function rateLimitPlugin(app: FastifyInstance, opts: { config: Config; secrets: Secrets; db: DB }) {
  const { config, db } = opts;
  const noop: preHandlerAsyncHookHandler = async () => {};
  if (!config.rateLimit) {
    app.decorate('limits', { login: noop, strict: noop, twofactor: noop });
    return;
  }

  // Per route and IP: a registration does not use up the forgot-password allowance.
  const byIp = (max: number, name: string): Rule => ({ max, windowMs: 60_000, key: (req) => `rl:${name}:${req.routeOptions.url}:ip:${req.ip}` });
  const account = (req: FastifyRequest) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const acc = typeof b.account === 'string' ? b.account.trim().toUpperCase().replace(/[\s-]/g, '') : '';
    // No account typed: counted against the IP only (the IP limit already applies).
    return acc ? `rl:login:acct:${b.type === 'staff' ? 's' : 'a'}:${opts.secrets.lookupHash(`acct:${acc}`)}` : `rl:login:acct:none:${req.ip}`;
  };
  const loginIp = byIp(20, 'login');
  const loginAccount: Rule = { max: 10, windowMs: 15 * 60_000, key: account };
  const strictIp = byIp(10, 'strict');
  // The account of a code is the one waiting for its second factor, or the signed-in user.
  const codeAccount = (req: FastifyRequest) => {
    const id = req.session?.pending2fa?.userId ?? req.session?.userId;
    return id ? `rl:2fa:user:${id}` : `rl:2fa:none:${req.ip}`;
  };
  const twofactorIp: Rule = { max: 20, windowMs: 60_000, key: (req) => `rl:2fa:ip:${req.ip}` };
  const twofactorAccount: Rule = { max: 10, windowMs: 15 * 60_000, key: codeAccount };

  const tooMany = (reply: FastifyReply, seconds: number) =>
    reply.header('Retry-After', String(seconds)).page('errors/error.njk', { title: '操作过于频繁', message: `操作过于频繁，请${seconds}秒后再试` }, 429);
  const handler = (rules: Rule[]): preHandlerAsyncHookHandler =>
    async function (req, reply) {
      for (const rule of rules) {
        const now = config.now();
        const r = await hit(db, rule.key(req), rule.windowMs, now);
        if (r.count > rule.max) return tooMany(reply, secondsUntil(r.resetAt, now));
      }
    };
  app.decorate('limits', { login: handler([loginIp, loginAccount]), strict: handler([strictIp]), twofactor: handler([twofactorIp, twofactorAccount]) });

  let stop: (() => Promise<void>) | null = null;
  app.addHook('onReady', async () => {
    stop = startCounterPurge(db, app.log, config.now);
  });
  app.addHook('onClose', async () => {
    await stop?.();
  });
});

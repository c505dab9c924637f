import fp from 'fastify-plugin';
import { Signer } from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Config } from '../config.js';
import { RETRY_AFTER_S, busyAnswer, busyPage } from './pressure.js';
import { LagAdmission } from '../lib/admission.js';

declare module 'fastify' {
  interface FastifyInstance {
    shed: {
      /**
       * The second look, as an onRequest hook after the session is loaded: a request whose session
       * cookie turned out to hold no signed-in account counts as anonymous; a signed-in one against
       * its account's limit. app.ts adds it right after the session plugin.
       */
      afterSession: onRequestAsyncHookHandler;
      /** Requests counted now, and the anonymous admission rate while the loop lags (tests, logs). */
      inflight(): { anonymous: number; users: number; anonymousPerSecond: number };
    };
  }
}

const SHED_LOG_INTERVAL_MS = 10_000;
/** How often the event loop's lateness is sampled for the anonymous admission rate. */
const LAG_SAMPLE_MS = 50;
const HEALTH = /^\/health(\?|$)/;

/**
 * Load shedding with priority for signed-in users (issue #19). Anonymous requests — no valid
 * session cookie, or a session with no account in it — are answered at once with 503 +
 * Retry-After (the prebuilt busy page: no template, no database) when
 *   - more than MAX_ANON_INFLIGHT of them are in progress, or MAX_ANON_INFLIGHT_PER_IP from their
 *     IP (slow bodies, heavy pages: what holds requests open), or
 *   - the event loop lags more than ANON_MAX_EVENT_LOOP_DELAY_MS and they exceed the rate the
 *     server keeps up with (src/lib/admission.ts): what a flood of fast requests looks like, as
 *     Node serves them one at a time and they wait in the sockets, not "in progress".
 * Requests of a signed-in account are never counted against those, only against their own
 * account's MAX_USER_INFLIGHT (one account cannot flood either). A flood of anonymous clients
 * then costs one cheap answer per request and the loop turns fast enough for signed-in users;
 * when it lags more than MAX_EVENT_LOOP_DELAY_MS all the same, src/plugins/pressure.ts turns
 * everyone away.
 *
 * The first look runs before anything else (cookies not even parsed): a request without a
 * session cookie that verifies (HMAC of the session secret, no database) is anonymous. Counts
 * live in this process (they are requests in progress here, not shared state).
 */
export default fp(async function shedPlugin(app: FastifyInstance, opts: { config: Config; sessionSecret: string; sessionCookie: string; cssUrl: string }) {
  const { config } = opts;
  const html = busyPage(opts.cssUrl);
  const signer = new Signer(opts.sessionSecret, 'sha256');
  const cookieRe = new RegExp(`(?:^|;\\s*)${opts.sessionCookie}=([^;]+)`);
  let anonymous = 0;
  const perIp = new Map<string, number>();
  const perUser = new Map<number, number>();
  let shedSince = 0;

  const counted = new WeakSet<FastifyRequest>();
  const candidates = new WeakSet<FastifyRequest>();

  const hasSignedSession = (req: FastifyRequest): boolean => {
    const m = cookieRe.exec(req.headers.cookie ?? '');
    if (!m) return false;
    try {
      return signer.unsign(decodeURIComponent(m[1]!)).valid;
    } catch {
      return false;
    }
  };

  /** Runs `release` once when the response is done or the client went away. */
  const onDone = (reply: FastifyReply, release: () => void) => {
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      release();
    };
    reply.raw.once('finish', once);
    reply.raw.once('close', once);
  };

  const busy = (req: FastifyRequest, reply: FastifyReply) => {
    shedSince++;
    const answer = busyAnswer(req, html);
    return reply.code(503).header('Retry-After', String(RETRY_AFTER_S)).header('Cache-Control', 'no-store').type(answer.type).send(answer.body);
  };

  const lag = config.anonMaxEventLoopDelayMs ? new LagAdmission(config.anonMaxEventLoopDelayMs, performance.now()) : null;

  const admitAnonymous = (req: FastifyRequest, reply: FastifyReply) => {
    if (lag && !lag.admit(performance.now())) return busy(req, reply);
    const ip = req.ip;
    const mine = perIp.get(ip) ?? 0;
    if ((config.maxAnonInflight && anonymous >= config.maxAnonInflight) || (config.maxAnonInflightPerIp && mine >= config.maxAnonInflightPerIp)) {
      return busy(req, reply);
    }
    anonymous++;
    perIp.set(ip, mine + 1);
    counted.add(req);
    onDone(reply, () => {
      anonymous--;
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n > 0) perIp.set(ip, n);
      else perIp.delete(ip);
    });
    return undefined;
  };

  const admitUser = (req: FastifyRequest, reply: FastifyReply, userId: number) => {
    const mine = perUser.get(userId) ?? 0;
    if (config.maxUserInflight && mine >= config.maxUserInflight) return busy(req, reply);
    perUser.set(userId, mine + 1);
    onDone(reply, () => {
      const n = (perUser.get(userId) ?? 1) - 1;
      if (n > 0) perUser.set(userId, n);
      else perUser.delete(userId);
    });
    return undefined;
  };

  const off = !config.maxAnonInflight && !config.maxAnonInflightPerIp && !config.maxUserInflight && !lag;

  if (!off) {
    app.addHook('onRequest', async (req, reply) => {
      if (HEALTH.test(req.url)) return;
      if (hasSignedSession(req)) {
        candidates.add(req);
        return;
      }
      if (admitAnonymous(req, reply)) return reply;
    });
  }

  const afterSession: onRequestAsyncHookHandler = async function (req, reply) {
    if (off || !candidates.has(req) || counted.has(req)) return;
    const userId = req.session?.userId;
    if (userId ? admitUser(req, reply, userId) : admitAnonymous(req, reply)) return reply;
  };

  app.decorate('shed', {
    afterSession,
    inflight: () => ({ anonymous, users: [...perUser.values()].reduce((a, b) => a + b, 0), anonymousPerSecond: lag?.budget ?? Infinity }),
  });

  // The lag sampler starts once the app is ready (start-up blocks the loop on purpose).
  let sampler: NodeJS.Timeout | null = null;
  if (lag) {
    app.addHook('onReady', async () => {
      let prev = performance.now();
      sampler = setInterval(() => {
        const now = performance.now();
        lag.sample(now - prev - LAG_SAMPLE_MS, now - prev);
        prev = now;
      }, LAG_SAMPLE_MS);
      sampler.unref();
    });
  }

  // One line now and then instead of one per refused request (a flood would flood the log too).
  const timer = setInterval(() => {
    if (!shedSince) return;
    app.log.warn({ shed: shedSince, anonymousInflight: anonymous, anonymousPerSecond: lag && Number.isFinite(lag.budget) ? Math.round(lag.budget) : null }, 'load shedding: requests answered 503');
    shedSince = 0;
  }, SHED_LOG_INTERVAL_MS);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    if (sampler) clearInterval(sampler);
  });
});

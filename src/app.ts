import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import formbody from '@fastify/formbody';
import compress from '@fastify/compress';
import helmet from '@fastify/helmet';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { openDatabase, type DbHandle } from './db/index.js';
import { migrateToLatest } from './db/migrate.js';
import { loadFixtures } from './db/fixtures.js';
import { createSecrets, loadMasterKey } from './lib/secrets.js';
import { menuFor } from './lib/menu.js';
import postRoutes from './features/posts/routes.js';
import dutiesPlugin from './plugins/duties.js';
import { archivePlanOf } from './features/sections/plan.js';
import { newCspNonce, cspNonceOf } from './lib/csp.js';
import sessionPlugin, { SESSION_COOKIE } from './plugins/session.js';
import csrfPlugin from './plugins/csrf.js';
import pendingPlugin from './plugins/pending.js';
import authPlugin from './plugins/auth.js';
import assetsPlugin, { loadAssets } from './plugins/assets.js';
import viewsPlugin from './plugins/views.js';
import { OutboxSmsSender, type SmsSender } from './features/sms/sender.js';
import authRoutes from './features/auth/routes.js';
import accountRoutes from './features/account/routes.js';
import meRoutes from './features/me/routes.js';
import orgRoutes from './features/org/routes.js';
import orgTreeRoutes from './features/orgtree/routes.js';
import staffRecoveryRoutes from './features/auth/staffRecoveryRoutes.js';
import messageRoutes, { unreadCount } from './features/messages/routes.js';
import setupRoutes from './features/setup/routes.js';
import healthRoutes from './features/health/routes.js';
import adminRoutes from './features/admin/routes.js';
import filesRoutes from './features/files/routes.js';
import sectionRoutes from './features/sections/routes.js';
import profileRoutes from './features/profile/routes.js';
import planRoutes from './features/plans/routes.js';
import noticeRoutes from './features/notices/routes.js';
import { unreadNoticeCount } from './features/notices/service.js';
import { startReminderScheduler } from './features/reminders/service.js';
import { startSmsOutboxPurge } from './features/sms/outbox.js';
import smsRoutes, { smsChallengeView } from './features/sms/routes.js';
import declarationRoutes from './features/declaration/routes.js';
import unitRoutes from './features/units/routes.js';
import statsRoutes from './features/stats/routes.js';
import reviewRoutes from './features/review/routes.js';
import supplementRoutes from './features/supplements/routes.js';
import { todoCount } from './features/review/queue.js';
import unitStageRoutes from './features/unitstage/routes.js';
import checkerRoutes from './features/unitstage/checkerRoutes.js';
import printRoutes from './print/routes.js';
import resultsRoutes from './features/results/routes.js';
import integrityRoutes from './features/integrity/routes.js';
import recognitionRoutes from './features/recognition/routes.js';
import certServiceRoutes from './features/certservices/routes.js';
import { recognitionTodo } from './features/recognition/service.js';
import meetingRoutes from './features/meeting/routes.js';
import exchangeRoutes from './features/exchange/routes.js';
import exchangeExportRoutes from './features/exchange/exportRoutes.js';
import apiRoutes from './features/api/routes.js';
import apiTokenRoutes from './features/api/adminRoutes.js';
import transferRoutes from './features/exchange/transferRoutes.js';
import auditRoutes from './features/audit/routes.js';
import securityRoutes from './features/security/routes.js';
import twoFactorRoutes from './features/account/twofactor.js';
import securityPolicyRoutes from './features/security/policy.js';
import confinePlugin from './features/security/confine.js';
import rateLimitPlugin from './plugins/ratelimit.js';
import requestIdPlugin, { loggerOptions, requestId } from './plugins/logging.js';
import pressurePlugin from './plugins/pressure.js';
import shedPlugin from './plugins/shed.js';
import { unitPanel } from './features/unitstage/service.js';
import { prepareSetup } from './features/setup/service.js';
import { Dicts } from './features/dicts/service.js';
import { createBlobStore } from './lib/blobs.js';

import { ROOT } from './app-root.js';
import { startPdfPrerender } from './features/declaration/prerender.js';
export { ROOT };

export interface BuiltApp {
  app: FastifyInstance;
  ctx: AppContext;
  /** The one-time first-admin link when no admin exists yet (printed by server.ts). */
  setupLink: string | null;
}

/** Builds the whole application without listening; tests drive it with app.inject(). */
export async function buildApp(config: Config, opts: { sms?: SmsSender; logStream?: NodeJS.WritableStream; pressureSampleMs?: number; pressureGraceMs?: number; setupLink?: boolean } = {}): Promise<BuiltApp> {
  const app = Fastify({
    // pino, one JSON line per event, request id in each line; no query strings, bodies or cookies (src/plugins/logging.ts).
    logger: loggerOptions(config, opts.logStream),
    genReqId: requestId,
    bodyLimit: 1024 * 1024,
    // A hop count is supported at run time (fastify/lib/request.js), not in the typings.
    trustProxy: config.trustProxy as boolean | string,
    // Slow clients must not hold sockets (slowloris): Node checks the headers and request
    // timeouts only every connectionsCheckingInterval (30 s by default), so check often enough
    // for the cut to come within a fraction of the headers timeout.
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    },
  });

  const secrets = createSecrets(loadMasterKey(config.dataDir, config.masterKey));
  const store: DbHandle = await openDatabase(config);
  const { db } = store;
  try {
    await migrateToLatest(db);
    await loadFixtures(db, path.join(ROOT, 'fixtures'), config.now());
  } catch (err) {
    await store.close();
    throw err;
  }
  const ctx: AppContext = {
    db,
    config,
    secrets,
    log: app.log,
    dicts: new Dicts(db),
    blobs: createBlobStore(config, db),
    sms: opts.sms ?? new OutboxSmsSender(db, secrets, app.log, config.env === 'development', config.now),
  };
  app.addHook('onClose', async () => {
    await store.close();
  });

  await app.register(requestIdPlugin);
  const assets = loadAssets(path.join(ROOT, 'public'));
  // First of the hooks: a busy server answers 503 before loading a session or doing any work.
  await app.register(pressurePlugin, { config, cssUrl: assets.url('css/app.css'), sampleIntervalMs: opts.pressureSampleMs, startupGraceMs: opts.pressureGraceMs });
  // Then load shedding: anonymous requests over their limits answer 503 at once, before any
  // work; signed-in users are let through (their second look follows the session load).
  await app.register(shedPlugin, { config, sessionSecret: secrets.sessionSecret, sessionCookie: SESSION_COOKIE, cssUrl: assets.url('css/app.css') });
  await app.register(formbody);
  await app.register(compress, { global: true, encodings: ['br', 'gzip'], threshold: 1024 });
  // A fresh CSP nonce for every response, before helmet builds the header from it; pages put
  // it on their <script> tags (reply.page passes it as cspNonce).
  app.addHook('onRequest', async (_req, reply) => {
    newCspNonce(reply.raw);
  });
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // No 'unsafe-inline' or 'unsafe-eval': our own files and tags carrying this response's nonce.
        scriptSrc: ["'self'", (_req, res) => `'nonce-${cspNonceOf(res)}'`],
        // The nonce: a first visit's page carries app.css in a <style> tag (src/plugins/views.ts).
        styleSrc: ["'self'", (_req, res) => `'nonce-${cspNonceOf(res)}'`],
        // data: the empty favicon of layout.njk (href="data:," stops a /favicon.ico request);
        // blob: the 表十七 crop step shows the chosen file from an object URL before upload.
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    // Sent per request below, only when the request came over HTTPS.
    hsts: false,
    referrerPolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
  });
  // HSTS only on HTTPS (directly, or from a TRUST_PROXY'd reverse proxy's X-Forwarded-Proto):
  // over plain HTTP browsers ignore it, and a dev server on http://localhost must not pin itself.
  app.addHook('onRequest', async (req, reply) => {
    if (req.protocol === 'https') reply.header('Strict-Transport-Security', 'max-age=31536000');
  });
  // Nothing is cached unless a route says otherwise (hashed assets do): pages, fragments,
  // redirects, downloads, exports may all carry personal data or a CSRF token.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store');
    return payload;
  });
  await app.register(sessionPlugin, { db, config, secret: secrets.sessionSecret, cookieSecret: secrets.cookieSecret });
  app.addHook('onRequest', app.shed.afterSession);
  await app.register(authPlugin, { db, now: config.now });
  await app.register(confinePlugin);
  await app.register(rateLimitPlugin, { config, secrets, db });
  await app.register(assetsPlugin, { assets });
  await app.register(viewsPlugin, {
    viewsDir: path.join(ROOT, 'views'),
    assets,
    dev: config.env === 'development',
    inlineCss: config.inlineCss,
    secureCookies: config.secureCookies,
    // The counts every page shows, read side by side: on PostgreSQL each is a round trip (and a
    // big office's 待审核 a scan), so together they cost the slowest, not the sum.
    pageContext: async (req) => {
      const u = req.user;
      const staff = u?.kind === 'staff' ? u : null;
      const [todo, recTodo, plan, unread, unreadNotices, smsChallenge] = await Promise.all([
        staff ? todoCount(ctx, staff) : 0,
        staff ? recognitionTodo(ctx.db, staff) : 0,
        u?.kind === 'applicant' ? archivePlanOf(ctx, u.id) : null,
        u ? unreadCount(ctx, u.id) : 0,
        u ? unreadNoticeCount(ctx, u.id) : 0,
        smsChallengeView(ctx, req),
      ]);
      return {
        menu: menuFor(u ? { kind: u.kind, roles: u.roles, orgKind: u.orgKind, todo, recognitionTodo: recTodo, duties: staff ? staff.duties : undefined, sections: plan ? plan.sections : undefined } : null),
        unread,
        unreadNotices,
        smsChallenge,
      };
    },
  });

  // CSRF on every state-changing request (after the user is loaded: the error handler below
  // tells a session that ended from a forged request); then forms posted after their session
  // ended are kept for the next login.
  await app.register(csrfPlugin, { config, key: secrets.csrfKey });
  await app.register(pendingPlugin, { ctx });
  await app.register(dutiesPlugin);

  // Set before the routes: child plugins capture the handlers in force when they are registered.
  app.setNotFoundHandler(async (req, reply) => {
    return reply.page('errors/error.njk', { title: '页面不存在', message: '您访问的页面不存在，或您没有查看它的权限。' }, 404);
  });

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    if (err.code?.startsWith('FST_CSRF')) {
      // Typed while signed in, posted after the session ended: kept, and on to the login page.
      if (await app.pendingForms.rescue(req, reply)) return reply;
      const message = req.user
        ? '页面已过期或来源不可信，请返回上一页刷新后重新提交。'
        : '登录已超时或页面已过期，请重新登录后再提交。';
      return reply.page('errors/error.njk', { title: '请求已失效', message, loginLink: !req.user }, 403);
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'request failed');
    // Never a stack trace, SQL or path: a generic Chinese page.
    const message = status === 413 ? '提交的内容过大。' : status === 500 ? '系统繁忙，请稍后再试。如多次出现，请联系平台技术支持。' : '请求无效，请检查后重试。';
    try {
      return await reply.page('errors/error.njk', { title: '出错了', message }, status);
    } catch {
      return reply.code(status).type('text/plain; charset=utf-8').send(message);
    }
  });

  for (const routes of [healthRoutes, authRoutes, setupRoutes, accountRoutes, meRoutes, orgRoutes, orgTreeRoutes, staffRecoveryRoutes, messageRoutes, adminRoutes, sectionRoutes, profileRoutes, declarationRoutes, filesRoutes, planRoutes, noticeRoutes, statsRoutes, unitStageRoutes, checkerRoutes, unitRoutes, printRoutes, auditRoutes, securityRoutes, twoFactorRoutes, securityPolicyRoutes, resultsRoutes, smsRoutes, integrityRoutes, supplementRoutes, recognitionRoutes, certServiceRoutes, meetingRoutes, exchangeRoutes, postRoutes, exchangeExportRoutes, apiTokenRoutes]) {
    await app.register(routes, { ctx });
  }
  await app.register(reviewRoutes, { ctx, unitPanel });
  // 对外只读接口 (issue #17): token only, JSON errors and 404s of its own under the prefix.
  await app.register(apiRoutes, { ctx, prefix: '/api/v1' });
  await app.register(transferRoutes, { ctx }); // 转评委会 / 接收评审情况 (issue #17)

  // Deadline reminders and the SMS outbox purge (rows older than 7 days): from ready (first run
  // at once), every hour; stopped before the db closes.
  let stopReminders: (() => Promise<void>) | null = null;
  let stopOutboxPurge: (() => Promise<void>) | null = null;
  let stopPrerender: (() => Promise<void>) | null = null;
  app.addHook('onReady', async () => {
    stopReminders = startReminderScheduler(ctx);
    stopOutboxPurge = startSmsOutboxPurge(ctx);
    stopPrerender = startPdfPrerender(ctx, { viewAsync: (page, data) => app.view(page, data) });
  });
  app.addHook('onClose', async () => {
    await stopReminders?.();
    await stopOutboxPurge?.();
    await stopPrerender?.();
  });

  // A cluster worker leaves the one-time link to the primary (a second link would void it).
  const setupLink = opts.setupLink === false ? null : await prepareSetup(ctx);
  return { app, ctx, setupLink };
}

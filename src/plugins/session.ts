import fp from 'fastify-plugin';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DB } from '../db/index.js';
import type { Config } from '../config.js';

declare module 'fastify' {
  interface Session {
    userId?: number;
    createdAt?: number;
    lastSeen?: number;
    /** One-shot notice shown on the next page (PRG). */
    /** A one-shot notice; `slot`: shown next to that element (an upload slot's id) instead of at the top. */
    flash?: { kind: 'ok' | 'error'; text: string; slot?: string };
    /** Why the last session ended, for the login page. */
    endedReason?: string;
    /** Where the signed-in session is used from (copied to the sessions row for the security admin). */
    ip?: string;
    ua?: string;
  }
}

/**
 * Server-side session store on Kysely (no maintained SQLite store exists). The cookie holds
 * only a signed random id; expiry is enforced here and in the idle/absolute check below.
 */
class KyselyStore {
  constructor(private db: DB, private cfg: Config) {}

  set(sid: string, session: any, cb: (err?: unknown) => void) {
    // Nothing to keep (a session regenerated at login before the user is put in, one whose
    // notice has just been shown): no row — a row is written only when something must be stored.
    if (isEmpty(session)) return this.destroy(sid, cb);
    const now = this.cfg.now();
    const lastSeen = typeof session.lastSeen === 'number' ? session.lastSeen : now.getTime();
    const expires = new Date(lastSeen + this.cfg.sessionIdleMinutes * 60_000).toISOString();
    const row = {
      sid, data: JSON.stringify(session), user_id: session.userId ?? null, expires_at: expires,
      ip: session.ip ?? null, user_agent: session.ua ?? null, last_seen_at: session.userId ? new Date(lastSeen).toISOString() : null,
    };
    this.db
      .insertInto('sessions')
      .values({ ...row, created_at: now.toISOString() })
      .onConflict((oc) => oc.column('sid').doUpdateSet(row))
      .execute()
      .then(() => cb(), cb);
  }

  get(sid: string, cb: (err: unknown, session?: any) => void) {
    this.db
      .selectFrom('sessions')
      .select(['data', 'expires_at'])
      .where('sid', '=', sid)
      .executeTakeFirst()
      .then((row) => {
        // An idle-expired session is still returned for a grace day, so the check below can say
        // "登录已超时" instead of silently showing a blank login page; it never authenticates.
        if (!row || row.expires_at <= new Date(this.cfg.now().getTime() - GRACE_MS).toISOString()) return cb(null, null);
        cb(null, JSON.parse(row.data));
      }, cb);
  }

  destroy(sid: string, cb: (err?: unknown) => void) {
    this.db.deleteFrom('sessions').where('sid', '=', sid).execute().then(() => cb(), cb);
  }
}

/** True when a session holds nothing but its cookie settings. */
export function isEmpty(session: Record<string, unknown>): boolean {
  return Object.entries(session).every(([k, v]) => k === 'cookie' || v === undefined);
}

export const SESSION_COOKIE = 'zc_sid';
const GRACE_MS = 24 * 3_600_000;
const UA_MAX = 200;

/**
 * Sessions are created only when something must be stored: a signed-in user, a notice for the
 * next page, a login waiting for its second factor. An anonymous visitor's pages (login,
 * registration) write no row and set no session cookie; their CSRF secret is a cookie of its own
 * (src/plugins/csrf.ts). `cookieSecret` signs those other cookies.
 */
export default fp(async function sessionPlugin(app: FastifyInstance, opts: { db: DB; config: Config; secret: string; cookieSecret: string }) {
  const { db, config, secret } = opts;
  // Added before @fastify/session so it runs before the session's own onSend save: a session
  // signed in during this request (login regenerates it in the handler) is saved with its
  // source already. Only a change marks the session modified, so a page view costs no write.
  app.addHook('onSend', async (req) => {
    const s = req.session;
    if (!s || typeof s.get !== 'function' || !s.userId) return;
    const ua = String(req.headers['user-agent'] ?? '').slice(0, UA_MAX);
    if (s.ip !== req.ip) s.ip = req.ip;
    if (s.ua !== ua) s.ua = ua;
  });
  await app.register(fastifyCookie, { secret: opts.cookieSecret });
  await app.register(fastifySession, {
    secret,
    cookieName: SESSION_COOKIE,
    store: new KyselyStore(db, config) as any,
    // Saved only when touched (login, flash, the throttled lastSeen below):
    // a page view must not cost a synchronous disk write.
    saveUninitialized: false,
    rolling: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: config.secureCookies, path: '/' },
  });

  // Idle (30 min) and absolute (12 h) timeouts, measured on the injectable clock.
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const s = req.session;
    if (!s || typeof s.get !== 'function' || !s.userId) return;
    const now = config.now().getTime();
    const idle = config.sessionIdleMinutes * 60_000;
    const absolute = config.sessionAbsoluteHours * 3_600_000;
    if (now - (s.lastSeen ?? 0) > idle || now - (s.createdAt ?? 0) > absolute) {
      await s.regenerate();
      // regenerate() replaced req.session: write to the new one.
      req.session.endedReason = '登录已超时，请重新登录';
      return;
    }
    // Touch at most once a minute: keeps the idle window sliding without a write per request.
    if (now - (s.lastSeen ?? 0) > 60_000) s.lastSeen = now;
  });

  // Remove expired rows now and then; cheap with the expires_at index.
  const sweep = setInterval(() => {
    db.deleteFrom('sessions').where('expires_at', '<', new Date(config.now().getTime() - GRACE_MS).toISOString()).execute().catch(() => {});
  }, 10 * 60_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
});

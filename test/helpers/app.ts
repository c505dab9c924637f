import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { buildApp, ROOT, type BuiltApp } from '../../src/app.js';
import { createDb, openDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { loadFixtures } from '../../src/db/fixtures.js';
import { onPostgres, templateDb, createTestDb, dropTestDb, dbUrl } from './pg.js';
import { loadConfig, type Config } from '../../src/config.js';
import { hashPassword } from '../../src/lib/passwords.js';
import { idColumns, phoneColumns } from '../../src/lib/pii.js';
import { idCheckChar } from '../../src/domain/idcard.js';
import { base32Decode, timeStep, totp } from '../../src/domain/totp.js';

/** A clock tests can move: sessions, SMS windows and plan dates all read it. */
export class TestClock {
  constructor(public t = Date.parse('2026-06-15T02:00:00Z')) {}
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
}

export interface TestApp extends BuiltApp {
  clock: TestClock;
  dir: string;
  close(): Promise<void>;
}

/** Migrated schema + dictionaries in a fresh PostgreSQL database (the test template). */
async function buildTemplate(url: string) {
  const store = await openDatabase({ databaseUrl: url, dbFile: '' });
  try {
    await migrateToLatest(store.db);
    await loadFixtures(store.db, path.join(ROOT, 'fixtures'), new TestClock().now());
  } finally {
    await store.close();
  }
}

let image: Promise<Buffer> | null = null;
/**
 * The SQLite counterpart of the PostgreSQL template: migrated and loaded once per test process,
 * serialized, and opened from that copy by every in-memory test app (a third of a test app's
 * start-up was migrating and loading the dictionaries again).
 */
function sqliteImage(): Promise<Buffer> {
  image ??= (async () => {
    const { db, raw } = createDb(':memory:');
    await migrateToLatest(db);
    await loadFixtures(db, path.join(ROOT, 'fixtures'), new TestClock().now());
    const buf = raw.serialize();
    await db.destroy();
    return buf;
  })();
  return image;
}

/** Fixture users share one argon2id hash per password (hashing is the slow part of making them). */
const hashes = new Map<string, Promise<string>>();
function fixtureHash(pw: string): Promise<string> {
  let h = hashes.get(pw);
  if (!h) hashes.set(pw, (h = hashPassword(pw)));
  return h;
}

/**
 * A database of its own for one test app: in-memory SQLite, or (ZC_TEST_PG set) a PostgreSQL
 * database copied from the template and dropped at close.
 */
export async function testDatabase(overrides: Partial<Config> = {}): Promise<{ env: Record<string, string>; image?: Buffer; drop(): Promise<void> }> {
  // A test that names its own SQLite file (backups, kill -9, the CLI) is about that file.
  if (overrides.dbFile && overrides.dbFile !== ':memory:') return { env: {}, drop: async () => {} };
  // The PostgreSQL half keeps files in the database (BLOB_STORE=db), the SQLite half in the
  // upload folder: the whole suite runs over both blob stores.
  if (!onPostgres) return { env: { DB_FILE: ':memory:', BLOB_STORE: process.env.ZC_TEST_BLOB_STORE || 'local' }, image: await sqliteImage(), drop: async () => {} };
  const name = await createTestDb(await templateDb(buildTemplate));
  return { env: { DATABASE_URL: dbUrl(name), BLOB_STORE: process.env.ZC_TEST_BLOB_STORE || 'db' }, drop: () => dropTestDb(name) };
}

/** A fresh app on a temp data dir with a database of its own (SQLite in memory, or PostgreSQL). */
export async function makeApp(overrides: Partial<Config> = {}, buildOpts: Parameters<typeof buildApp>[1] = {}): Promise<TestApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-test-'));
  const clock = new TestClock();
  const database = await testDatabase(overrides);
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, ...database.env }, { now: clock.now, rateLimit: false, ...(database.image ? { sqliteImage: database.image } : {}), ...overrides });
  let built: BuiltApp;
  try {
    built = await buildApp(config, buildOpts);
    await built.app.ready();
  } catch (err) {
    await database.drop();
    throw err;
  }
  return {
    ...built,
    clock,
    dir,
    async close() {
      await built.app.close();
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A valid 18-digit ID number from a 17-digit base (region 530102 + birth date + sequence). */
export function idNumber(birth = '19900307', seq = '123'): string {
  const first17 = `530102${birth}${seq}`;
  return first17 + idCheckChar(first17);
}

/**
 * A cookie-keeping browser over app.inject: follows nothing automatically, remembers
 * cookies, and pulls the CSRF token out of the last page it saw.
 */
export class Agent {
  cookies = new Map<string, string>();
  lastHtml = '';
  constructor(public t: TestApp) {}

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: LightMyRequestResponse) {
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      if (c.value === '' || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    if (String(res.headers['content-type'] ?? '').startsWith('text/html')) this.lastHtml = res.body;
  }

  async get(url: string, headers: Record<string, string> = {}) {
    const res = await this.t.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader(), ...headers } });
    this.remember(res);
    return res;
  }

  /** The CSRF token of the last HTML page (hidden _csrf field). */
  csrf(): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(this.lastHtml);
    if (!m) throw new Error('no _csrf field on the last page');
    return m[1]!;
  }

  /** POST a urlencoded form; `_csrf` is added from the last page unless given (null = omit). */
  async post(url: string, form: Record<string, string | string[]> = {}, opts: { csrf?: string | null; headers?: Record<string, string> } = {}) {
    const body = new URLSearchParams();
    const token = opts.csrf === undefined ? this.csrf() : opts.csrf;
    if (token !== null) body.append('_csrf', token);
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    const res = await this.t.app.inject({
      method: 'POST',
      url,
      payload: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: this.cookieHeader(), ...opts.headers },
    });
    this.remember(res);
    return res;
  }
}

/** The newest SMS code sent to a phone (read from the local transport's outbox). */
export async function lastSmsCode(t: TestApp, maskedPhone: string): Promise<string> {
  const row = await t.ctx.db.selectFrom('sms_outbox').select('body').where('phone_masked', '=', maskedPhone).orderBy('id', 'desc').executeTakeFirstOrThrow();
  const m = /验证码：(\d{6})/.exec(row.body);
  if (!m) throw new Error(`no code in ${row.body}`);
  return m[1]!;
}

export const PASSWORD = 'Zhang#2026wei';

/** Inserts an applicant directly (fast path for tests that are not about registration). */
export async function createApplicant(t: TestApp, o: { name?: string; id?: string; phone?: string; password?: string; unitOrgId?: number } = {}) {
  const stamp = t.clock.now().toISOString();
  const id = o.id ?? idNumber();
  const phone = o.phone ?? '13800138000';
  const row = await t.ctx.db
    .insertInto('users')
    .values({
      kind: 'applicant', name: o.name ?? '张伟', ...idColumns(t.ctx.secrets, id), ...phoneColumns(t.ctx.secrets, phone),
      password_hash: await fixtureHash(o.password ?? PASSWORD), unit_org_id: o.unitOrgId ?? null, created_at: stamp, updated_at: stamp,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { userId: row.id, id, phone, password: o.password ?? PASSWORD };
}

/** Inserts a staff user of an org (default: the platform org, as admin). */
export async function createStaff(t: TestApp, o: { username?: string; name?: string; orgId?: number; roles?: string; password?: string } = {}) {
  const stamp = t.clock.now().toISOString();
  const orgId = o.orgId ?? (await t.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'platform').executeTakeFirstOrThrow()).id;
  const row = await t.ctx.db
    .insertInto('users')
    .values({
      kind: 'staff', username: o.username ?? 'admin1', name: o.name ?? '李娜', org_id: orgId, roles: o.roles ?? 'admin',
      password_hash: await fixtureHash(o.password ?? PASSWORD), created_at: stamp, updated_at: stamp,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { userId: row.id, username: o.username ?? 'admin1', password: o.password ?? PASSWORD };
}

/**
 * The code a user's authenticator app shows now: the secret is read through the app (decrypted
 * with ctx.secrets), the code computed with src/domain/totp. A step already used is refused by
 * the app, so the test clock is moved on to the next step first when needed.
 */
export async function totpCode(t: TestApp, userId: number): Promise<string> {
  const u = await t.ctx.db.selectFrom('users').select(['totp_secret_enc', 'totp_last_step']).where('id', '=', userId).executeTakeFirstOrThrow();
  if (!u.totp_secret_enc) throw new Error(`user ${userId} has no TOTP secret`);
  const step = timeStep(t.clock.now().getTime());
  if (u.totp_last_step !== null && step <= u.totp_last_step) t.clock.advance((u.totp_last_step - step + 1) * 30_000);
  return totp(base32Decode(t.ctx.secrets.decrypt(u.totp_secret_enc))!, t.clock.now().getTime());
}

/** Enrols the signed-in user in 2FA through /account/2fa, as a person with a phone would. */
export async function enrolTwoFactor(agent: Agent, userId: number) {
  await agent.get('/account/2fa'); // creates the secret
  const res = await agent.post('/account/2fa', { code: await totpCode(agent.t, userId) });
  if (res.headers.location !== '/account/2fa/recovery') throw new Error(`2FA enrolment refused (${res.statusCode})`);
  const page = await agent.get('/account/2fa/recovery');
  return { res, codes: [...page.body.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!) };
}

/**
 * Logs an agent in (applicant by ID number or phone; staff by username). Two-factor login is
 * completed transparently: a fresh code at /login/2fa; an account that must enrol first (admins)
 * is enrolled, then signed in again with a code, so the answer is the normal login's (303 home).
 */
export async function login(agent: Agent, type: 'applicant' | 'staff', account: string, password = PASSWORD) {
  const attempt = async () => {
    await agent.get(type === 'staff' ? '/login?type=staff' : '/login');
    return agent.post('/login', { type, account, password });
  };
  const userId = async () => (await agent.t.ctx.db.selectFrom('users').select('id').where('username', '=', account.trim()).executeTakeFirstOrThrow()).id;
  let res = await attempt();
  if (type === 'staff' && res.headers.location === '/account/2fa') {
    await enrolTwoFactor(agent, await userId());
    await agent.post('/logout');
    res = await attempt();
  }
  if (type === 'staff' && res.headers.location === '/login/2fa') {
    await agent.get('/login/2fa');
    res = await agent.post('/login/2fa', { code: await totpCode(agent.t, await userId()) });
  }
  return res;
}

/**
 * A second app on the same database, data folder (master key) and clock as `first`: another
 * process or machine of the same site. `first` must not use an in-memory SQLite database (give it
 * a `dbFile`, or run on PostgreSQL). Close the twin before `first`.
 */
export async function makeTwin(first: TestApp): Promise<TestApp> {
  const built = await buildApp({ ...first.ctx.config });
  await built.app.ready();
  return { ...built, clock: first.clock, dir: first.dir, close: () => built.app.close() };
}

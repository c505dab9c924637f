import os from 'node:os';
import path from 'node:path';

/** Typed, validated configuration. Every field has an environment variable (see README). */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** SQLite file; ':memory:' in tests. Unused when databaseUrl is set. */
  dbFile: string;
  /** Tests only (src/db/index.ts DbConfig.sqliteImage): a serialized SQLite database to start from. */
  sqliteImage?: Buffer;
  /** DATABASE_URL: postgres://user:password@host:5432/database selects PostgreSQL; unset = the SQLite file. */
  databaseUrl?: string;
  /** PostgreSQL connections per process (DATABASE_POOL_MAX, default 10). */
  dbPoolMax: number;
  /** Server processes sharing the port (WORKERS / serve --workers N, default 1). */
  workers: number;
  /** Base64 32-byte master key; when absent it is read from / created in `<dataDir>/master.key`. */
  masterKey?: string;
  /** Public URL used in printed links (setup link, verification codes). */
  publicUrl: string;
  /** Set cookies Secure (serve behind HTTPS). */
  secureCookies: boolean;
  /** A first visit gets app.css inside the page (no render-blocking request on a slow link). */
  inlineCss: boolean;
  /** Printable forms rendered in the background, one process at a time (src/features/declaration/prerender.ts). */
  pdfPrerender: boolean;
  /** 'development' prints SMS codes to the log; the default is 'production' (`npm start`). */
  env: 'development' | 'production' | 'test';
  logLevel: string;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  /** Where uploaded files live with BLOB_STORE=local (UPLOAD_DIR, default `<dataDir>/uploads`; may be a shared mount). */
  uploadDir: string;
  /** BLOB_STORE: `local` (files under uploadDir, default) or `db` (in the database's blobs table). */
  blobStore: 'local' | 'db';
  /** Largest applicant photo (avatar), bytes: UPLOAD_MAX_PHOTO_KB, default 500 KB. */
  uploadMaxPhotoBytes: number;
  /** Largest other attachment (jpg/png/pdf), bytes: UPLOAD_MAX_FILE_MB, default 5 MB. */
  uploadMaxFileBytes: number;
  /** Total size of one user's stored files, bytes: UPLOAD_QUOTA_MB, default 200 MB. */
  uploadQuotaBytes: number;
  /** Browser for PDF printing (CHROMIUM_PATH); unset: auto-detected (src/print/browser.ts). */
  chromiumPath?: string;
  /** PDFs printed at once (PDF_CONCURRENCY), default the CPU cores, at most 4. */
  pdfConcurrency: number;
  /** PDF jobs that may wait (PDF_QUEUE_MAX, default 20); beyond that: 503 with Retry-After. */
  pdfQueueMax: number;
  /** Longest a PDF may take, waiting included (PDF_TIMEOUT_MS, default 60 s). */
  pdfTimeoutMs: number;
  /** Days audit rows are kept before the purge job removes them (AUDIT_RETENTION_DAYS, default and minimum 184). */
  auditRetentionDays: number;
  /** Per-IP / per-account rate limits on login, registration, SMS, forgot/unlock (RATE_LIMIT, default on). */
  rateLimit: boolean;
  /** Calls per minute and API token on /api/v1 (API_RATE_LIMIT, default 120; needs RATE_LIMIT on). */
  apiRateLimit: number;
  /**
   * Whose X-Forwarded-For/-Proto to believe (TRUST_PROXY, default off): false, true (any
   * proxy), a hop count, or comma-separated addresses/CIDRs of the reverse proxy. Decides
   * req.ip (rate limits, audit) and req.protocol (HSTS).
   */
  trustProxy: boolean | number | string;
  /** Longest wait for a request's headers, ms (HEADERS_TIMEOUT_MS, default 10 s): slowloris cut-off. */
  headersTimeoutMs: number;
  /** Longest wait for a whole request, body included, ms (REQUEST_TIMEOUT_MS, default 120 s: a 10 MB upload at ~1 Mbit/s). */
  requestTimeoutMs: number;
  /** Idle keep-alive connection closed after, ms (KEEP_ALIVE_TIMEOUT_MS, default 5 s). */
  keepAliveTimeoutMs: number;
  /** A connection silent this long is closed, ms (CONNECTION_TIMEOUT_MS, default 180 s; longer than the slowest PDF). */
  connectionTimeoutMs: number;
  /** Where the daily backup archives go (BACKUP_DIR, default `<dataDir>/backups`). */
  backupDir: string;
  /** Local hour (0–23) from which the daily backup runs (BACKUP_HOUR, default 2). */
  backupHour: number;
  /** Daily archives kept; older ones are deleted (BACKUP_KEEP, default 14). */
  backupKeep: number;
  /** The server's daily backup (BACKUP_ENABLED, default true). */
  backupEnabled: boolean;
  /** Back-pressure: answer 503 while the event loop lags more than this, ms (MAX_EVENT_LOOP_DELAY_MS, default 1000; 0 off). */
  maxEventLoopDelayMs: number;
  /** Back-pressure on V8 heap used, bytes (MAX_HEAP_MB; default 0 = off). */
  maxHeapUsedBytes: number;
  /** Back-pressure on resident memory, bytes (MAX_RSS_MB; default 0 = off). */
  maxRssBytes: number;
  /** SMS codes per source IP and hour (SMS_IP_HOURLY, default 10; needs RATE_LIMIT on). */
  smsIpHourly: number;
  /** SMS codes per source IP and 24 hours (SMS_IP_DAILY, default 30; needs RATE_LIMIT on). */
  smsIpDaily: number;
  /** SMS codes the whole platform sends per day (China time) (SMS_DAILY_MAX, default 2000; 0 = no cap). */
  smsDailyMax: number;
  /** Largest image accepted, in pixels (IMAGE_MAX_MEGAPIXELS, default 25), checked from the header. */
  imageMaxPixels: number;
  /** Images re-encoded at once, each in its own worker thread (IMAGE_CONCURRENCY, default CPU cores - 1, 1 to 2). */
  imageConcurrency: number;
  /** Images that may wait for a re-encode (IMAGE_QUEUE_MAX, default 6); beyond that: 503. */
  imageQueueMax: number;
  /** Longest one image may take, waiting included, ms (IMAGE_TIMEOUT_MS, default 30 s). */
  imageTimeoutMs: number;
  /**
   * Load shedding (src/plugins/shed.ts): anonymous requests (no signed-in session) in progress at
   * once before more are answered 503 + Retry-After (MAX_ANON_INFLIGHT, default 32; 0 = no limit).
   */
  maxAnonInflight: number;
  /** The same per client IP (MAX_ANON_INFLIGHT_PER_IP, default 8; 0 = no limit). */
  maxAnonInflightPerIp: number;
  /** Requests of one signed-in account in progress at once (MAX_USER_INFLIGHT, default 16; 0 = no limit). */
  maxUserInflight: number;
  /**
   * While the event loop lags more than this, ms, anonymous requests are admitted only at the
   * rate the server keeps up with; the rest get 503 (ANON_MAX_EVENT_LOOP_DELAY_MS, default 200;
   * 0 = off, the default under NODE_ENV=test).
   */
  anonMaxEventLoopDelayMs: number;
  /** Clock, injectable so tests can move time (session expiry, SMS windows). */
  now: () => Date;
}

export class ConfigError extends Error {}

function int(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return n;
}

/** TRUST_PROXY: off/false/0, on/true, a hop count, or comma-separated IPs/CIDRs. */
function trustProxy(raw: string | undefined): boolean | number | string {
  const v = (raw ?? '').trim();
  if (v === '' || /^(0|false|no|off)$/i.test(v)) return false;
  if (/^(true|yes|on)$/i.test(v)) return true;
  if (/^\d{1,2}$/.test(v)) return Number(v);
  const list = v.split(',').map((x) => x.trim());
  if (list.every((x) => /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(x) && /[.:]/.test(x))) return list.join(',');
  throw new ConfigError(`TRUST_PROXY must be false, true, a hop count or comma-separated proxy addresses, got "${raw}"`);
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[], def: T): T {
  const v = (raw ?? '').trim();
  if (!v) return def;
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return v as T;
}

/** DATABASE_URL: empty = SQLite; otherwise it must be a postgres:// URL. */
function databaseUrl(raw: string | undefined): string | undefined {
  const v = (raw ?? '').trim();
  if (!v) return undefined;
  if (!/^postgres(ql)?:\/\//i.test(v)) throw new ConfigError('DATABASE_URL must start with postgres:// (e.g. postgres://zhicheng:secret@db1:5432/zhicheng); leave it unset for the embedded SQLite file');
  try {
    new URL(v);
  } catch {
    throw new ConfigError('DATABASE_URL is not a valid URL (special characters in the password must be percent-encoded)');
  }
  return v;
}

function bool(name: string, raw: string | undefined, def: boolean): boolean {
  if (raw === undefined || raw === '') return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  // Production unless told otherwise: `npm start` must never print SMS codes (`npm run dev` sets development).
  const nodeEnv = (env.NODE_ENV || 'production') as Config['env'];
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    throw new ConfigError(`NODE_ENV must be development, production or test, got "${nodeEnv}"`);
  }
  const port = int('PORT', env.PORT, 3000, 0, 65535);
  const host = env.HOST || '0.0.0.0';
  const dataDir = path.resolve(env.DATA_DIR || './data');
  const cfg: Config = {
    host,
    port,
    dataDir,
    dbFile: env.DB_FILE || path.join(dataDir, 'zhicheng.db'),
    databaseUrl: databaseUrl(env.DATABASE_URL),
    dbPoolMax: int('DATABASE_POOL_MAX', env.DATABASE_POOL_MAX, 10, 1, 500),
    workers: int('WORKERS', env.WORKERS, 1, 1, 64),
    masterKey: env.MASTER_KEY || undefined,
    publicUrl: (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, ''),
    secureCookies: bool('SECURE_COOKIES', env.SECURE_COOKIES, false),
    inlineCss: bool('INLINE_CSS', env.INLINE_CSS, true),
    env: nodeEnv,
    logLevel: env.LOG_LEVEL || (nodeEnv === 'test' ? 'silent' : 'info'),
    sessionIdleMinutes: int('SESSION_IDLE_MINUTES', env.SESSION_IDLE_MINUTES, 30, 1, 24 * 60),
    sessionAbsoluteHours: int('SESSION_ABSOLUTE_HOURS', env.SESSION_ABSOLUTE_HOURS, 12, 1, 24 * 7),
    uploadDir: path.resolve(env.UPLOAD_DIR || path.join(dataDir, 'uploads')),
    blobStore: oneOf('BLOB_STORE', env.BLOB_STORE, ['local', 'db'] as const, 'local'),
    uploadMaxPhotoBytes: int('UPLOAD_MAX_PHOTO_KB', env.UPLOAD_MAX_PHOTO_KB, 500, 10, 10 * 1024) * 1024,
    uploadMaxFileBytes: int('UPLOAD_MAX_FILE_MB', env.UPLOAD_MAX_FILE_MB, 5, 1, 100) * 1024 * 1024,
    uploadQuotaBytes: int('UPLOAD_QUOTA_MB', env.UPLOAD_QUOTA_MB, 200, 1, 100 * 1024) * 1024 * 1024,
    chromiumPath: env.CHROMIUM_PATH || undefined,
    pdfConcurrency: int('PDF_CONCURRENCY', env.PDF_CONCURRENCY, Math.max(1, Math.min(4, os.cpus().length)), 1, 64),
    pdfQueueMax: int('PDF_QUEUE_MAX', env.PDF_QUEUE_MAX, 20, 0, 10_000),
    pdfTimeoutMs: int('PDF_TIMEOUT_MS', env.PDF_TIMEOUT_MS, 60_000, 1000, 600_000),
    pdfPrerender: bool('PDF_PRERENDER', env.PDF_PRERENDER, nodeEnv !== 'test'),
    auditRetentionDays: int('AUDIT_RETENTION_DAYS', env.AUDIT_RETENTION_DAYS, 184, 184, 36500),
    rateLimit: bool('RATE_LIMIT', env.RATE_LIMIT, true),
    apiRateLimit: int('API_RATE_LIMIT', env.API_RATE_LIMIT, 120, 1, 100_000),
    trustProxy: trustProxy(env.TRUST_PROXY),
    headersTimeoutMs: int('HEADERS_TIMEOUT_MS', env.HEADERS_TIMEOUT_MS, 10_000, 500, 600_000),
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS', env.REQUEST_TIMEOUT_MS, 120_000, 1000, 3_600_000),
    keepAliveTimeoutMs: int('KEEP_ALIVE_TIMEOUT_MS', env.KEEP_ALIVE_TIMEOUT_MS, 5000, 100, 600_000),
    connectionTimeoutMs: int('CONNECTION_TIMEOUT_MS', env.CONNECTION_TIMEOUT_MS, 180_000, 1000, 3_600_000),
    backupDir: path.resolve(env.BACKUP_DIR || path.join(dataDir, 'backups')),
    backupHour: int('BACKUP_HOUR', env.BACKUP_HOUR, 2, 0, 23),
    backupKeep: int('BACKUP_KEEP', env.BACKUP_KEEP, 14, 1, 3650),
    backupEnabled: bool('BACKUP_ENABLED', env.BACKUP_ENABLED, true),
    // Off by default under NODE_ENV=test: many apps share one busy test process, a slow CI is not overload.
    maxEventLoopDelayMs: int('MAX_EVENT_LOOP_DELAY_MS', env.MAX_EVENT_LOOP_DELAY_MS, nodeEnv === 'test' ? 0 : 1000, 0, 60_000),
    maxHeapUsedBytes: int('MAX_HEAP_MB', env.MAX_HEAP_MB, 0, 0, 1024 * 1024) * 1024 * 1024,
    maxRssBytes: int('MAX_RSS_MB', env.MAX_RSS_MB, 0, 0, 1024 * 1024) * 1024 * 1024,
    smsIpHourly: int('SMS_IP_HOURLY', env.SMS_IP_HOURLY, 10, 1, 100_000),
    smsIpDaily: int('SMS_IP_DAILY', env.SMS_IP_DAILY, 30, 1, 1_000_000),
    smsDailyMax: int('SMS_DAILY_MAX', env.SMS_DAILY_MAX, 2000, 0, 100_000_000),
    imageMaxPixels: int('IMAGE_MAX_MEGAPIXELS', env.IMAGE_MAX_MEGAPIXELS, 25, 1, 100) * 1_000_000,
    imageConcurrency: int('IMAGE_CONCURRENCY', env.IMAGE_CONCURRENCY, Math.max(1, Math.min(2, os.cpus().length - 1)), 1, 16),
    imageQueueMax: int('IMAGE_QUEUE_MAX', env.IMAGE_QUEUE_MAX, 6, 0, 1000),
    imageTimeoutMs: int('IMAGE_TIMEOUT_MS', env.IMAGE_TIMEOUT_MS, 30_000, 1000, 600_000),
    maxAnonInflight: int('MAX_ANON_INFLIGHT', env.MAX_ANON_INFLIGHT, 32, 0, 100_000),
    maxAnonInflightPerIp: int('MAX_ANON_INFLIGHT_PER_IP', env.MAX_ANON_INFLIGHT_PER_IP, 8, 0, 100_000),
    maxUserInflight: int('MAX_USER_INFLIGHT', env.MAX_USER_INFLIGHT, 16, 0, 100_000),
    // Off by default under NODE_ENV=test, like MAX_EVENT_LOOP_DELAY_MS: a busy CI is not a flood.
    anonMaxEventLoopDelayMs: int('ANON_MAX_EVENT_LOOP_DELAY_MS', env.ANON_MAX_EVENT_LOOP_DELAY_MS, nodeEnv === 'test' ? 0 : 200, 0, 60_000),
    now: () => new Date(),
    ...overrides,
  };
  // Node refuses a headers timeout longer than the request timeout; a connection timeout
  // shorter than a PDF would cut the socket while the PDF is still being printed.
  if (cfg.headersTimeoutMs > cfg.requestTimeoutMs) {
    throw new ConfigError(`HEADERS_TIMEOUT_MS (${cfg.headersTimeoutMs}) must not exceed REQUEST_TIMEOUT_MS (${cfg.requestTimeoutMs})`);
  }
  if (cfg.connectionTimeoutMs <= cfg.pdfTimeoutMs) {
    throw new ConfigError(`CONNECTION_TIMEOUT_MS (${cfg.connectionTimeoutMs}) must be longer than PDF_TIMEOUT_MS (${cfg.pdfTimeoutMs})`);
  }
  if (cfg.masterKey !== undefined && Buffer.from(cfg.masterKey, 'base64').length !== 32) {
    throw new ConfigError('MASTER_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
  }
  return cfg;
}

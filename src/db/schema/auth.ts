import type { Generated } from 'kysely';

/** Tables of sign-in and its guards: 2FA recovery codes, password history, lockouts, sessions, SMS codes and limits, kept forms. Re-exported by src/db/schema.ts. */

/** Single-use 2FA recovery codes, stored as keyed hashes (0009). */
export interface TotpRecoveryCodesTable {
  id: Generated<number>;
  user_id: number;
  code_hash: string;
  used_at: string | null;
  created_at: string;
}

/** The last 5 password hashes per user: no reuse (0009). */
export interface PasswordHistoryTable {
  id: Generated<number>;
  user_id: number;
  hash: string;
  created_at: string;
}

/** Consecutive wrong passwords per account and source IP; the 3rd locks that pair (0009). */
export interface LoginFailuresTable {
  user_id: number;
  source: string;
  failures: Generated<number>;
  locked_at: string | null;
  updated_at: string;
}

export interface SessionsTable {
  sid: string;
  data: string;
  user_id: number | null;
  expires_at: string;
  created_at: string;
  /** Source IP, browser (truncated) and last activity: shown to the security admin (0008). */
  ip: string | null;
  user_agent: string | null;
  last_seen_at: string | null;
}

export interface SmsCodesTable {
  id: Generated<number>;
  phone_hmac: string;
  purpose: string;
  code_hash: string;
  attempts: Generated<number>;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** A form posted after its session ended, kept for the next login in the same browser (0011). */
export interface PendingFormsTable {
  /** SHA-256 of the random id in the browser's zc_pending cookie. */
  key_hash: string;
  /** Keyed hash of the account that typed it (the user tag of the form's CSRF token). */
  owner_tag: string;
  /** The GET page the form is shown on again. */
  page: string;
  /** JSON of the urlencoded fields, `_csrf` left out. */
  body: string;
  created_at: string;
  expires_at: string;
}

export interface SmsOutboxTable {
  id: Generated<number>;
  phone_masked: string;
  phone_hmac: string;
  purpose: string;
  body: string;
  created_at: string;
  /** 1 once the code in the body is masked: used, or expired (0012). */
  cleared: Generated<number>;
}

/** Fixed-window counters shared by all processes: rate limits, SMS caps (0012, src/lib/counters.ts). */
export interface RateCountersTable {
  key: string;
  count: number;
  /** ISO-8601 instant the window ends; the next hit after it starts a new window. */
  reset_at: string;
}

/** The live image challenge of a browser session for 获取验证码 (0012): keyed hashes only. */
export interface SmsChallengesTable {
  sid_hash: string;
  answer_hash: string;
  created_at: string;
  expires_at: string;
}

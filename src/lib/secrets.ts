import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Keys derived from one master key: personal-data encryption (AES-256-GCM), the HMAC used
 * to look people up by ID number / phone without decrypting, and the session cookie secret.
 */
export interface Secrets {
  encrypt(plain: string): string;
  decrypt(token: string): string;
  /** Deterministic keyed hash for unique indexes / look-ups. */
  lookupHash(value: string): string;
  sessionSecret: string;
  /** Signs the other cookies (the CSRF secret cookie). */
  cookieSecret: string;
  /** HMAC key of the CSRF tokens: a token is bound to the signed-in account (src/plugins/csrf.ts). */
  csrfKey: Buffer;
  /** HMAC key of the audit trail's chain (src/features/audit). */
  auditKey: Buffer;
  /** Ed25519 key signing the archives this deployment sends to another (转评委会, src/features/exchange/transfer.ts). */
  signingKey: crypto.KeyObject;
  /** Its public key, base64 of the raw 32 bytes: shown for the other deployment to copy. */
  signingPublic: string;
}

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows (RFC 8410). */
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI DER prefix of an Ed25519 public key; the 32 raw bytes follow. */
export const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

/** An Ed25519 public key from its base64 raw form (null when it is not one). */
export function ed25519Public(base64: string): crypto.KeyObject | null {
  const raw = Buffer.from(base64.trim(), 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== base64.trim()) return null;
  try {
    return crypto.createPublicKey({ key: Buffer.concat([ED25519_SPKI, raw]), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

/** Reads `<dataDir>/master.key`, creating it (0600) on first start. */
export function loadMasterKey(dataDir: string, fromEnv?: string): Buffer {
  if (fromEnv) return Buffer.from(fromEnv, 'base64');
  const file = path.join(dataDir, 'master.key');
  try {
    const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const key = crypto.randomBytes(32);
  // 'wx' fails if another process created it meanwhile: then read theirs.
  try {
    fs.writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch {
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  }
}

export function createSecrets(master: Buffer): Secrets {
  const derive = (info: string) => Buffer.from(crypto.hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
  const encKey = derive('zhicheng/pii-enc/v1');
  const macKey = derive('zhicheng/pii-hmac/v1');
  const sessionSecret = derive('zhicheng/session/v1').toString('base64');
  const signingKey = crypto.createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, derive('zhicheng/transfer-sign/v1')]), format: 'der', type: 'pkcs8' });
  return {
    encrypt(plain) {
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', encKey, iv);
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return ['v1', iv.toString('base64'), c.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
    },
    decrypt(token) {
      const [v, iv, tag, ct] = token.split(':');
      if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unknown ciphertext format');
      const d = crypto.createDecipheriv('aes-256-gcm', encKey, Buffer.from(iv, 'base64'));
      d.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64')), d.final()]).toString('utf8');
    },
    lookupHash(value) {
      return crypto.createHmac('sha256', macKey).update(value).digest('base64url');
    },
    sessionSecret,
    cookieSecret: derive('zhicheng/cookie/v1').toString('base64'),
    csrfKey: derive('zhicheng/csrf/v1'),
    auditKey: derive('zhicheng/audit/v1'),
    signingKey,
    signingPublic: (crypto.createPublicKey(signingKey).export({ format: 'der', type: 'spki' }) as Buffer).subarray(ED25519_SPKI.length).toString('base64'),
  };
}

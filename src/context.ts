import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import type { DB } from './db/index.js';
import type { Secrets } from './lib/secrets.js';
import type { SmsSender } from './features/sms/sender.js';
import type { Dicts } from './features/dicts/service.js';
import type { BlobStore } from './lib/blobs.js';

/** What use cases need from the outside world; built once in app.ts, passed to services. */
export interface AppContext {
  db: DB;
  config: Config;
  secrets: Secrets;
  sms: SmsSender;
  log: FastifyBaseLogger;
  /** Dictionaries cached in memory (forms, validation). */
  dicts: Dicts;
  /** Uploaded files' bytes (BLOB_STORE: the upload folder or the database). */
  blobs: BlobStore;
}

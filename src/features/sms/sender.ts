import type { FastifyBaseLogger } from 'fastify';
import type { DB } from '../../db/index.js';
import type { Secrets } from '../../lib/secrets.js';
import { maskPhone } from '../../domain/mask.js';
import { phoneHmac } from '../../lib/pii.js';

/** What an SMS gateway does for us. A real gateway plugs in behind this interface. */
export interface SmsSender {
  send(phone: string, body: string, purpose: string): Promise<void>;
}

/**
 * The working local transport: every message goes to the sms_outbox table (platform admins
 * read it at /admin/sms) and, in development, to the log so a developer can register.
 */
export class OutboxSmsSender implements SmsSender {
  constructor(
    private db: DB,
    private secrets: Secrets,
    private log: FastifyBaseLogger,
    private printToLog: boolean,
    private now: () => Date,
  ) {}

  async send(phone: string, body: string, purpose: string): Promise<void> {
    await this.db
      .insertInto('sms_outbox')
      .values({
        phone_masked: maskPhone(phone),
        phone_hmac: phoneHmac(this.secrets, phone),
        purpose,
        body,
        created_at: this.now().toISOString(),
      })
      .execute();
    if (this.printToLog) this.log.info(`[短信] ${maskPhone(phone)}：${body}`);
  }
}

import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../src/db/index.js';
import { autoId } from '../src/db/ddl.js';

// Two-factor login, password history and expiry, lockout per account + source.
export async function up(db: Kysely<any>): Promise<void> {
  // TOTP (RFC 6238). The secret is AES-GCM encrypted like ID numbers (ctx.secrets); it is
  // written when enrolment starts and only counts once totp_enabled = 1. totp_last_step is the
  // last accepted time step: a code of that step or an earlier one is never accepted again.
  await db.schema.alterTable('users').addColumn('totp_secret_enc', 'text').execute();
  await db.schema.alterTable('users').addColumn('totp_enabled', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('users').addColumn('totp_last_step', 'integer').execute();
  await db.schema.alterTable('users').addColumn('totp_enabled_at', 'text').execute();

  // Recovery codes: keyed hashes (HMAC, the codes are random), each usable once.
  await db.schema
    .createTable('totp_recovery_codes')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('totp_recovery_codes_user').on('totp_recovery_codes').columns(['user_id', 'code_hash']).unique().execute();

  // The last 5 password hashes of each user (argon2id, as users.password_hash), newest = highest id.
  await db.schema
    .createTable('password_history')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('password_history_user').on('password_history').columns(['user_id', 'id']).execute();
  await sql`insert into password_history (user_id, hash, created_at)
            select id, password_hash, coalesce(password_changed_at, created_at) from users`.execute(db);

  // Consecutive wrong passwords per (account, source IP): the 3rd locks that pair only, so
  // nobody can lock an applicant out from elsewhere before a deadline. users.locked_at now
  // means an administrator's lock (everywhere); users.failed_logins the sum over the sources.
  await db.schema
    .createTable('login_failures')
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('login_failures_pk', ['user_id', 'source'])
    .execute();
  // Every unlock (security admin, the unit's 专业技术人员管理, a password reset, SMS self-unlock)
  // sets users.failed_logins = 0: that clears the account's locks from all sources, whichever
  // code path does it. (The login code keeps failed_logins = the sum of the pairs, so it only
  // reaches 0 when no pair has failures left.)
  if (dialectOf(db) === 'postgres') {
    await sql`create function users_unlock_all_sources() returns trigger language plpgsql as $$
                begin delete from login_failures where user_id = NEW.id; return NEW; end $$`.execute(db);
    await sql`create trigger users_unlock_all_sources after update of failed_logins on users
              for each row when (NEW.failed_logins = 0) execute function users_unlock_all_sources()`.execute(db);
  } else {
    await sql`create trigger users_unlock_all_sources after update of failed_logins on users
              when NEW.failed_logins = 0
              begin delete from login_failures where user_id = NEW.id; end`.execute(db);
  }
  // Locks made before this migration (users.locked_at after 3 failures) stay until an unlock:
  // nothing silently unlocks at upgrade.
}

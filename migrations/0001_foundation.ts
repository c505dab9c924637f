import type { Kysely } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// Portable DDL only (Kysely schema builder): PostgreSQL comes later.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('orgs')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('kind', 'text', (c) => c.notNull()) // unit|supervisor|hrb|committee|agency|platform
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.unique()) // fixture code, e.g. committee code
    .addColumn('hrb_level', 'text') // county|city|province (kind = hrb)
    .addColumn('committee_level', 'text') // senior|intermediate (kind = committee)
    .addColumn('region_code', 'text')
    .addColumn('uscc', 'text')
    .addColumn('nature', 'text')
    .addColumn('unit_level', 'text')
    .addColumn('supervisor_org_id', 'integer', (c) => c.references('orgs.id'))
    .addColumn('address', 'text')
    .addColumn('phone', 'text')
    .addColumn('contact', 'text')
    .addColumn('scope', 'text')
    .addColumn('organizer', 'text')
    .addColumn('plan_months', 'text')
    .addColumn('series_code', 'text')
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('orgs_kind').on('orgs').columns(['kind', 'name']).execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('kind', 'text', (c) => c.notNull()) // applicant|staff
    .addColumn('username', 'text', (c) => c.unique()) // staff login
    .addColumn('name', 'text', (c) => c.notNull())
    // Personal data: AES-256-GCM ciphertext, HMAC for look-up, masked copy for lists.
    .addColumn('id_enc', 'text')
    .addColumn('id_hmac', 'text', (c) => c.unique())
    .addColumn('id_masked', 'text')
    .addColumn('phone_enc', 'text')
    .addColumn('phone_hmac', 'text', (c) => c.unique())
    .addColumn('phone_masked', 'text')
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.references('orgs.id'))
    .addColumn('roles', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('unit_org_id', 'integer', (c) => c.references('orgs.id'))
    .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_at', 'text')
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('password_changed_at', 'text')
    .addColumn('last_login_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('users_org').on('users').column('org_id').execute();

  await db.schema
    .createTable('sessions')
    .addColumn('sid', 'text', (c) => c.primaryKey())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('user_id', 'integer')
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('sms_codes')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('phone_hmac', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema.createIndex('sms_codes_phone').on('sms_codes').columns(['phone_hmac', 'created_at']).execute();

  // The local SMS transport's outbox: what a gateway would have delivered.
  await db.schema
    .createTable('sms_outbox')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('phone_masked', 'text', (c) => c.notNull())
    .addColumn('phone_hmac', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  // Dictionaries (admin-editable).
  await db.schema
    .createTable('dict_items')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('dict', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('parent_code', 'text')
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('extra', 'text')
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint('dict_items_dict_code', ['dict', 'code'])
    .execute();
  await db.schema.createIndex('dict_items_parent').on('dict_items').columns(['dict', 'parent_code']).execute();

  await db.schema
    .createTable('regions')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('parent_code', 'text')
    .addColumn('level', 'text', (c) => c.notNull()) // province|city|county
    .addColumn('zone', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('series')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('titles')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('series_code', 'text', (c) => c.notNull().references('series.code'))
    .addColumn('track', 'text')
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('holidays')
    .addColumn('date', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull()) // holiday|workday
    .addColumn('name', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('holiday_years')
    .addColumn('year', 'integer', (c) => c.primaryKey())
    .addColumn('source', 'text')
    .execute();

  // Annual review plans (申报通道); the declaration issue extends this table.
  await db.schema
    .createTable('plans')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('committee_org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('series_code', 'text')
    .addColumn('levels', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('opens_at', 'text', (c) => c.notNull()) // YYYY-MM-DD, from 00:00
    .addColumn('closes_at', 'text', (c) => c.notNull()) // YYYY-MM-DD, until 24:00
    .addColumn('notice', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('plans_window').on('plans').columns(['opens_at', 'closes_at']).execute();


  // 消息中心: one row per message to one user.
  await db.schema
    .createTable('messages')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('type', 'text', (c) => c.notNull()) // 系统消息|审核消息|单位消息|…
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('read_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('messages_user').on('messages').columns(['user_id', 'read_at']).execute();
}

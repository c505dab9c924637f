import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// 证书服务 (issue #13, seed 002 §四): 外地调入人员职称资格确认 (a certificate of another province
// confirmed by the county HR bureau the applicant's unit belongs to) and 遗失补办 (a replacement
// for a lost certificate, by the office that issued it). Each confirmed request carries its own
// certificate: numbered by certNumberer in the office's sequence (with the committees' and the
// recognitions'), its own verification code. The scans are attachments (owner_type
// 'cert_service'); a notice's files too (owner_type 'notice').
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('cert_services')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('transfer', 'reissue')`))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('office_org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('office', 'confirmed', 'refused')`))
    .addColumn('title_name', 'text', (c) => c.notNull())
    .addColumn('level', 'text')
    .addColumn('specialty', 'text', (c) => c.notNull())
    // 外地调入: the original certificate (证书编号, 发证机关, 取得时间); 补办: the lost one's number.
    .addColumn('orig_number', 'text', (c) => c.notNull())
    .addColumn('orig_issuer', 'text', (c) => c.notNull())
    .addColumn('orig_date', 'text', (c) => c.notNull())
    // 补办: 遗失原因; and which certificate it replaces ('certificate' | 'recognition' | 'cert_service').
    .addColumn('reason', 'text')
    .addColumn('old_type', 'text')
    .addColumn('old_id', 'integer')
    .addColumn('refuse_reason', 'text')
    .addColumn('decided_by', 'integer', (c) => c.references('users.id'))
    .addColumn('decided_at', 'text')
    .addColumn('cert_year', 'integer')
    .addColumn('cert_seq', 'integer')
    .addColumn('cert_number', 'text', (c) => c.unique())
    .addColumn('verify_code', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('cert_services_office_year_seq', ['office_org_id', 'cert_year', 'cert_seq'])
    .execute();
  await db.schema.createIndex('cert_services_user').on('cert_services').column('user_id').execute();
  await db.schema.createIndex('cert_services_office').on('cert_services').columns(['office_org_id', 'status']).execute();
  await db.schema.createIndex('cert_services_old').on('cert_services').columns(['old_type', 'old_id']).execute();

}

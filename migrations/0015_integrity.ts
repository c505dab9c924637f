import type { Kysely } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// Issue #13: 诚信档案 (a person recorded as 失信 may not declare for 3 years), unit sanctions
// (暂停该单位下一年度职称申报推荐工作), and who may declare: each plan's choice of warn/block per rule,
// and the 人员身份 dictionary the profile asks for.
export async function up(db: Kysely<any>): Promise<void> {
  // The person is found by the ID number's look-up HMAC (src/lib/pii.ts), as accounts are; the
  // number itself is not kept here, only its masked copy and the name for the list.
  await db.schema
    .createTable('integrity_records')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('id_hmac', 'text', (c) => c.notNull())
    .addColumn('id_masked', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('recorded_on', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('evidence_file_id', 'integer')
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('lifted_at', 'text')
    .addColumn('lifted_by', 'integer')
    .addColumn('lift_reason', 'text')
    .execute();
  await db.schema.createIndex('integrity_records_hmac').on('integrity_records').column('id_hmac').execute();
  await db.schema.createIndex('integrity_records_org').on('integrity_records').columns(['org_id', 'id']).execute();

  await db.schema
    .createTable('unit_sanctions')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('unit_org_id', 'integer', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('lifted_at', 'text')
    .addColumn('lifted_by', 'integer')
    .addColumn('lift_reason', 'text')
    .execute();
  await db.schema.createIndex('unit_sanctions_unit').on('unit_sanctions').columns(['unit_org_id', 'year']).execute();

  // {"civil_servant":"block","retired":"warn",…}: a missing key is the rule's default (src/domain/whoMay.ts).
  await db.schema.alterTable('plans').addColumn('declare_rules', 'text').execute();

  // Existing databases: the new dictionary (a fresh one gets it from fixtures/enums.json).
  const loaded = await db.selectFrom('series').select('code').limit(1).executeTakeFirst();
  for (const [dict, names] of [['staff_type', STAFF_TYPES], ['post_origin', POST_ORIGINS]] as const) {
    const has = await db.selectFrom('dict_items').select('code').where('dict', '=', dict).limit(1).executeTakeFirst();
    if (loaded && !has) {
      await db.insertInto('dict_items').values(names.map((name, i) => ({ dict, code: String(i + 1).padStart(2, '0'), name, parent_code: null, sort: i, extra: null }))).execute();
    }
  }
}

// Kept equal to fixtures/enums.json `staff_type` and `post_origin`.
const STAFF_TYPES = ['事业单位在编人员', '事业单位编制外聘用人员', '企业及其他组织人员', '自由职业者（人事代理）', '公务员', '参照公务员法管理人员', '离退休人员'];
const POST_ORIGINS = ['专业技术岗位', '管理岗位', '工勤技能岗位'];

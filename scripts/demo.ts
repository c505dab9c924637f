/**
 * npm run demo — fills a demo dataset into the database of DATA_DIR (default ./data):
 * a unit with its supervisor, the county and city HR bureaus, a committee office with an
 * open plan, staff of each, and two applicants. Safe to run twice (it skips what exists).
 * Demo logins are printed and listed in the README; never use them in production.
 */
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { hashPassword } from '../src/lib/passwords.js';
import { idColumns, phoneColumns } from '../src/lib/pii.js';
import { idCheckChar } from '../src/domain/idcard.js';
import { usccCheckChar } from '../src/domain/uscc.js';
import { chinaToday } from '../src/features/plans/repository.js';
import { seedDemoArchive } from './demo-archive.js';

export const DEMO_PASSWORD = 'Demo#2026pass';

const config = loadConfig(process.env);
const { app, ctx } = await buildApp(config);
const db = ctx.db;
const now = config.now();
const stamp = now.toISOString();
const hash = await hashPassword(DEMO_PASSWORD);

async function org(name: string, values: Record<string, unknown>): Promise<number> {
  const found = await db.selectFrom('orgs').select('id').where('name', '=', name).executeTakeFirst();
  if (found) return found.id;
  const row = await db.insertInto('orgs').values({ name, created_at: stamp, updated_at: stamp, ...values } as any).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

async function staff(username: string, name: string, orgId: number, roles = ''): Promise<void> {
  if (await db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) return;
  await db.insertInto('users').values({ kind: 'staff', username, name, org_id: orgId, roles, password_hash: hash, password_changed_at: stamp, created_at: stamp, updated_at: stamp }).execute();
}

async function applicant(name: string, birth: string, seq: string, phone: string, unitId: number): Promise<{ id: number; idNumber: string; name: string; unitId: number }> {
  const first17 = `530102${birth}${seq}`;
  const idNumber = first17 + idCheckChar(first17);
  const cols = idColumns(ctx.secrets, idNumber);
  const found = await db.selectFrom('users').select('id').where('id_hmac', '=', cols.id_hmac).executeTakeFirst();
  if (found) return { id: found.id, idNumber, name, unitId };
  const row = await db
    .insertInto('users')
    .values({ kind: 'applicant', name, ...cols, ...phoneColumns(ctx.secrets, phone), password_hash: hash, unit_org_id: unitId, password_changed_at: stamp, created_at: stamp, updated_at: stamp })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, idNumber, name, unitId };
}

const platform = (await db.selectFrom('orgs').select('id').where('kind', '=', 'platform').executeTakeFirstOrThrow()).id;
const supervisor = await org('昆明市卫生健康委员会', { kind: 'supervisor', region_code: '530100', address: '昆明市呈贡区锦绣大街', phone: '0871-63111111' });
const uscc17 = '12530100MB0000001';
const unit = await org('昆明市第一人民医院', {
  kind: 'unit', uscc: uscc17 + usccCheckChar(uscc17), nature: 'institution', unit_level: 'city', region_code: '530102',
  supervisor_org_id: supervisor, supervisor_status: 'approved', address: '昆明市五华区青年路', phone: '0871-63222222', contact: '李娜',
});
const countyHrb = (await db.selectFrom('orgs').select('id').where('kind', '=', 'hrb').where('region_code', '=', '530102').executeTakeFirstOrThrow()).id;
const cityHrb = (await db.selectFrom('orgs').select('id').where('kind', '=', 'hrb').where('hrb_level', '=', 'city').executeTakeFirstOrThrow()).id;
// The health committee (卫生技术 series, S04 in fixtures/committees.json): its plan offers only 卫生技术 titles.
const committee = await db.selectFrom('orgs').select(['id', 'name', 'series_code']).where('kind', '=', 'committee').where('name', 'like', '%卫生技术%').orderBy('id').executeTakeFirstOrThrow();

const today = chinaToday(now);
const plus = (days: number) => new Date(Date.parse(today) + days * 86_400_000).toISOString().slice(0, 10);
const year = Number(today.slice(0, 4));
if (!(await db.selectFrom('plans').select('id').where('committee_org_id', '=', committee.id).where('year', '=', year).executeTakeFirst())) {
  await db.insertInto('plans').values({
    committee_org_id: committee.id, year, name: `${year}年度${committee.name}评审`, series_code: committee.series_code, levels: 'senior_vice,senior_full',
    opens_at: plus(-10), closes_at: plus(60), notice: '请按申报通知要求如实填报，按时提交。', created_at: stamp,
  }).execute();
}

// 三权分立: one account per platform role.
await staff('demo_admin', '系统管理员', platform, 'admin');
await staff('demo_security', '安全管理员', platform, 'security');
await staff('demo_audit', '审计管理员', platform, 'audit');
await staff('demo_unit', '李娜', unit);
await staff('demo_supervisor', '赵强', supervisor);
await staff('demo_county', '陈静', countyHrb);
await staff('demo_city', '刘洋', cityHrb);
await staff('demo_committee', '孙丽', committee.id);
const zhang = await applicant('张伟', '19850612', '231', '13800138000', unit);
const wang = await applicant('王芳', '19900307', '142', '13900139000', unit);
await seedDemoArchive(ctx, [zhang, wang]);

await app.close();
console.log(`演示数据已就绪（数据目录 ${config.dataDir}）。所有演示账号的密码：${DEMO_PASSWORD}
  系统管理员   单位用户  demo_admin
  安全管理员   单位用户  demo_security
  审计管理员   单位用户  demo_audit
  用人单位     单位用户  demo_unit        昆明市第一人民医院
  主管部门     单位用户  demo_supervisor  昆明市卫生健康委员会
  县区人社局   单位用户  demo_county      五华区人力资源和社会保障局
  市人社局     单位用户  demo_city        昆明市人力资源和社会保障局
  评委会办公室 单位用户  demo_committee   ${committee.name}
  申报人       个人用户  ${zhang.idNumber} 或 13800138000（张伟）
  申报人       个人用户  ${wang.idNumber} 或 13900139000（王芳）`);

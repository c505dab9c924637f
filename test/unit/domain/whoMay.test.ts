import t from 'tap';
import { categorySlots, retirementDate, ruleModes, whoMayDeclare, type WhoFacts } from '../../../src/domain/whoMay.js';

const base: WhoFacts = { staffType: '事业单位在编人员', birthDate: '1985-06-12', gender: '男', agencyStart: '', postSince: '', postdocOut: '', postOrigin: '' };
const check = (f: Partial<WhoFacts>, rule: string, category = 'normal', level = 'senior_vice', ref = '2026-07-15') =>
  whoMayDeclare({ ...base, ...f }, category, level, ref).find((c) => c.rule === rule);

t.test('statutory retirement date (2025 reform)', async (t) => {
  const cases: [string, '男' | '女', string][] = [
    ['1964-12-20', '男', '2024-12-20'], // before the reform: 60
    ['1965-01-10', '男', '2025-02-10'], // +1 month
    ['1965-05-10', '男', '2025-07-10'], // +2 months
    ['1976-08-01', '男', '2039-07-01'], // 62 years 11 months
    ['1976-09-01', '男', '2039-09-01'], // 63
    ['1990-01-31', '男', '2053-01-31'],
    ['1969-12-05', '女', '2024-12-05'], // 55
    ['1970-01-05', '女', '2025-02-05'],
    ['1981-09-30', '女', '2039-09-30'], // 58
    ['1970-12-31', '女', '2026-03-31'], // +3 months
  ];
  for (const [birth, g, date] of cases) t.equal(retirementDate(birth, g), date, `${birth} ${g}`);
});

t.test('retired: the day the statutory age is reached counts as retired', async (t) => {
  const cases: [string, '男' | '女', string, boolean][] = [
    ['1966-01-15', '男', '2026-07-14', true], // 60y4m → 2026-05-15
    ['1966-03-15', '男', '2026-07-15', true], // 60y4m → 2026-07-15, the day itself
    ['1966-03-15', '男', '2026-07-14', false],
    ['1970-12-31', '女', '2026-03-30', false],
    ['1970-12-31', '女', '2026-03-31', true],
    ['1985-06-12', '男', '2026-07-15', false],
  ];
  for (const [birth, g, ref, retired] of cases) {
    const c = check({ birthDate: birth, gender: g }, 'retired', 'normal', 'senior_vice', ref)!;
    t.equal(!c.ok, retired, `${birth} ${g} at ${ref}`);
  }
  t.match(check({ birthDate: '1960-03-01' }, 'retired')!.text, /已达到法定退休年龄（2020-03-01），离退休人员不得参加职称评审/);
  t.equal(check({ staffType: '离退休人员' }, 'retired')!.ok, false);
});

t.test('civil servants and staff type', async (t) => {
  const cases: [string, string, boolean][] = [
    ['公务员', 'civil_servant', false],
    ['参照公务员法管理人员', 'civil_servant', false],
    ['事业单位在编人员', 'civil_servant', true],
    ['企业及其他组织人员', 'civil_servant', true],
    ['', 'staff_type', false],
  ];
  for (const [type, rule, ok] of cases) t.equal(check({ staffType: type }, rule)!.ok, ok, type || '(empty)');
  t.match(check({ staffType: '公务员' }, 'civil_servant')!.text, '公务员（含参公管理的人员）不得参加职称评审');
});

t.test('freelancers: one year since 人事代理 began', async (t) => {
  const f = { staffType: '自由职业者（人事代理）' };
  const cases: [string, boolean][] = [
    ['2025-07-16', true], // 2025-07-16 … 2026-07-15: a full year
    ['2025-07-17', false],
    ['2024-01-01', true],
    ['', false],
  ];
  for (const [start, ok] of cases) t.equal(check({ ...f, agencyStart: start }, 'freelancer')!.ok, ok, start || '(empty)');
  t.equal(check({ agencyStart: '2026-07-01' }, 'freelancer'), undefined, 'not a freelancer: no check');
});

t.test('转系列: one year in the new post; postdoc at 副高', async (t) => {
  const cases: [string, boolean][] = [['2025-07-16', true], ['2025-07-17', false], ['', false]];
  for (const [since, ok] of cases) t.equal(check({ postSince: since }, 'transfer', 'transfer')!.ok, ok, since || '(empty)');
  t.equal(check({ postSince: '2026-01-01' }, 'transfer', 'normal'), undefined, 'only for 转系列');
  t.ok(check({ postdocOut: '2025-06-30' }, 'postdoc', 'normal', 'senior_vice')?.ok);
  t.equal(check({ postdocOut: '2025-06-30' }, 'postdoc', 'normal', 'senior_full'), undefined);
});

t.test('slots by category and post origin; modes', async (t) => {
  const cases: [string, string, string[]][] = [
    ['normal', '', []],
    ['normal', '专业技术岗位', []],
    ['transfer', '', ['transfer_proof']],
    ['normal', '管理岗位', ['post_change_pay']],
    ['transfer', '工勤技能岗位', ['transfer_proof', 'post_change_pay']],
  ];
  for (const [cat, origin, keys] of cases) t.same(categorySlots(cat, origin).map((s) => s.key), keys, `${cat} ${origin}`);
  t.same(ruleModes(null), { civil_servant: 'block', retired: 'block', freelancer: 'block', transfer: 'warn', post_vacancy: 'warn' });
  t.same(ruleModes('{"retired":"warn","transfer":"block","x":"y"}'), { civil_servant: 'block', retired: 'warn', freelancer: 'block', transfer: 'block', post_vacancy: 'warn' });
  t.same(ruleModes('not json'), ruleModes(null));
});

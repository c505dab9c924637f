import t from 'tap';
import fs from 'node:fs';
import { tenureOf, tenureText, spanOf } from '../../../src/domain/tenure.js';
import { checkEligibility, type EligibilityRule } from '../../../src/domain/eligibility.js';

const title = (certified_on: string | null, o: { employed?: string; level?: string; name?: string } = {}) => ({
  title_name: o.name ?? '卫生技术 - 主治(主管)医师', title_level: o.level ?? 'intermediate', certified_on, employed: o.employed ?? '是',
});

t.test('tenureText: one wording for every page and printout', async (t) => {
  const cases: [number, string, string][] = [
    [87, '2026-12-31', '截至2026年12月31日满7年3个月'],
    [60, '2026-12-31', '截至2026年12月31日满5年'],
    [8, '2027-12-31', '截至2027年12月31日满8个月'],
    [0, '2026-12-31', '截至2026年12月31日满0个月'],
  ];
  for (const [months, date, want] of cases) t.equal(tenureText(spanOf(months), date), want, want);
});

t.test('tenureOf: 现职称履职年限 and 从事专业技术工作年限 as of 31 December of the year', async (t) => {
  const cases: { name: string; titles: ReturnType<typeof title>[]; work: { start: string; end: string }[]; year: number; titleText: string; workText: string }[] = [
    {
      // The field test: the demo's 张伟 (主治医师 since 2019-09-01, at the hospital since 2010-08-01).
      name: 'the demo archive in 2026', titles: [title('2019-09-01')], work: [{ start: '2010-08-01', end: '至今' }], year: 2026,
      titleText: '截至2026年12月31日满7年3个月', workText: '截至2026年12月31日满16年5个月',
    },
    { name: 'certified 2021-12-31: 5 full years', titles: [title('2021-12-31')], work: [], year: 2026, titleText: '截至2026年12月31日满5年', workText: '截至2026年12月31日满0个月' },
    { name: 'certified 2022-01-01: the day itself does not count', titles: [title('2022-01-01')], work: [], year: 2026, titleText: '截至2026年12月31日满4年11个月', workText: '截至2026年12月31日满0个月' },
    {
      name: 'the highest employed title counts, not a later lower one',
      titles: [title('2018-03-01', { level: 'senior_vice', name: '卫生技术 - 副主任医师' }), title('2023-01-01')], work: [], year: 2026,
      titleText: '截至2026年12月31日满8年9个月', workText: '截至2026年12月31日满0个月',
    },
    { name: 'not employed: no current title', titles: [title('2019-09-01', { employed: '否' })], work: [], year: 2026, titleText: '无（未填写已聘任的职称）', workText: '截至2026年12月31日满0个月' },
    { name: 'no title at all', titles: [], work: [{ start: '2024-07-01', end: '2025-06-30' }], year: 2026, titleText: '无（未填写已聘任的职称）', workText: '截至2026年12月31日满1年' },
    { name: 'no 资格认定时间', titles: [title(null)], work: [], year: 2026, titleText: '未填写资格认定时间', workText: '截至2026年12月31日满0个月' },
    { name: 'another declaration year moves the as-of date', titles: [title('2019-09-01')], work: [{ start: '2010-08-01', end: '至今' }], year: 2027, titleText: '截至2027年12月31日满8年3个月', workText: '截至2027年12月31日满17年5个月' },
  ];
  for (const c of cases) {
    const r = tenureOf({ titles: c.titles, work: c.work }, c.year);
    t.same({ titleText: r.titleText, workText: r.workText }, { titleText: c.titleText, workText: c.workText }, c.name);
  }
});

t.test('the eligibility check states the very figures tenureOf gives (one computation, one wording)', async (t) => {
  const rules: EligibilityRule[] = JSON.parse(fs.readFileSync('fixtures/eligibility.json', 'utf8')).rules;
  const facts = { titles: [title('2019-09-01')], work: [{ start: '2010-08-01', end: '至今' }], educations: [{ education: '硕士研究生', end: '2010-07-01' }] };
  const r = tenureOf(facts, 2026);
  const checks = checkEligibility('senior_vice', facts, rules, 2026).checks.map((c) => c.text).join('\n');
  t.match(checks, `履职年限：${r.titleText}`, 'title tenure');
  t.notMatch(checks, '6年3个月');
  // 助理级 with a bachelor's degree needs 从事专业技术工作满1年 (fixtures/eligibility.json).
  const bachelor = { ...facts, titles: [], educations: [{ education: '大学本科', end: '2010-07-01' }] };
  const assistant = checkEligibility('assistant', bachelor, rules, 2026).checks.map((c) => c.text).join('\n');
  t.match(assistant, `从事专业技术工作年限：${r.workText}，要求满1年`, 'work tenure');
});

t.test('借调 time does not count toward 现职称履职年限 (工作经历 rows marked 是否借调 = 是)', async (t) => {
  const job = { start: '2010-08-01', end: '至今' };
  const cases: { name: string; since: string; seconded: { start: string; end: string }[]; titleText: string; months: number }[] = [
    { name: 'none', since: '2019-09-01', seconded: [], titleText: '截至2026年12月31日满7年3个月', months: 0 },
    { name: 'one year inside the tenure', since: '2019-09-01', seconded: [{ start: '2021-03-01', end: '2022-02-28' }], titleText: '截至2026年12月31日满6年3个月（已扣除借调1年）', months: 12 },
    { name: 'before certification: not taken off', since: '2019-09-01', seconded: [{ start: '2017-01-01', end: '2018-12-31' }], titleText: '截至2026年12月31日满7年3个月', months: 0 },
    { name: 'straddling the certification day: only the part after it', since: '2019-09-01', seconded: [{ start: '2019-01-01', end: '2020-03-01' }], titleText: '截至2026年12月31日满6年9个月（已扣除借调6个月）', months: 6 },
    { name: 'overlapping periods merged, not counted twice', since: '2019-09-01', seconded: [{ start: '2021-01-01', end: '2021-12-31' }, { start: '2021-07-01', end: '2022-06-30' }], titleText: '截至2026年12月31日满5年9个月（已扣除借调1年6个月）', months: 18 },
    { name: '借调 still going: up to the as-of date', since: '2019-09-01', seconded: [{ start: '2026-07-01', end: '至今' }], titleText: '截至2026年12月31日满6年9个月（已扣除借调6个月）', months: 6 },
    { name: 'less than a whole month: nothing', since: '2019-09-01', seconded: [{ start: '2022-03-01', end: '2022-03-20' }], titleText: '截至2026年12月31日满7年3个月', months: 0 },
  ];
  for (const c of cases) {
    const work = [job, ...c.seconded.map((s) => ({ ...s, seconded: '是' }))];
    const r = tenureOf({ titles: [title(c.since)], work }, 2026);
    t.equal(r.titleText, c.titleText, c.name);
    t.equal(r.seconded, c.months, `${c.name}: months`);
    t.equal(r.workText, '截至2026年12月31日满16年5个月', `${c.name}: 从事专业技术工作年限 unchanged`);
  }
  // A row marked 否 counts as usual; the eligibility check states the same figure.
  const plain = tenureOf({ titles: [title('2019-09-01')], work: [job, { start: '2021-03-01', end: '2022-02-28', seconded: '否' }] }, 2026);
  t.equal(plain.titleText, '截至2026年12月31日满7年3个月');
  const rules: EligibilityRule[] = JSON.parse(fs.readFileSync('fixtures/eligibility.json', 'utf8')).rules;
  const facts = { titles: [title('2021-09-01')], work: [job, { start: '2022-01-01', end: '2022-12-31', seconded: '是' }], educations: [{ education: '大学本科', end: '2010-07-01' }] };
  const checks = checkEligibility('senior_vice', facts, rules, 2026).checks;
  const line = checks.find((c) => c.text.includes('履职年限'))!;
  t.match(line.text, '截至2026年12月31日满4年3个月（已扣除借调1年）');
  t.equal(line.ok, false, '5 years needed: the 借调 year makes it short');
});

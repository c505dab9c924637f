import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import {
  asOf,
  checkEligibility,
  cnDate,
  currentTitle,
  educationRank,
  formatSpan,
  highestEducation,
  pickRule,
  spanOf,
  titleSpan,
  validateRules,
  wholeMonths,
  workSpan,
  type ArchiveFacts,
  type EligibilityRule,
  type EligibilityRulesFile,
  type TitleLevel,
} from '../../../src/domain/eligibility.js';

const FIXTURE = JSON.parse(fs.readFileSync(path.resolve('fixtures/eligibility.json'), 'utf8')) as EligibilityRulesFile;
const RULES = FIXTURE.rules;
const Y = 2026;
const END = '2026-12-31';

t.test('fixture: valid rules covering every level, documented', async (t) => {
  t.same(validateRules(RULES), []);
  const levels = new Set(RULES.map((r) => r.level));
  t.same([...levels].sort(), ['assistant', 'intermediate', 'junior', 'senior_full', 'senior_vice']);
  t.match(FIXTURE.source, '破格');
  t.match(FIXTURE.source, '12月31日');
  t.match(FIXTURE.source, '覆盖');
  for (const r of RULES) t.ok(r.note, `${r.level} ${r.education} has a note`);
  // The education names are those of fixtures/enums.json.
  const enums = JSON.parse(fs.readFileSync(path.resolve('fixtures/enums.json'), 'utf8')) as { education: { name: string }[] };
  const names = enums.education.map((e) => e.name);
  for (const r of RULES) t.ok(names.includes(r.education), `${r.education} in enums`);
  for (const n of names) t.not(educationRank(n), null, `${n} has a rank`);
});

t.test('validateRules reports bad rows', async (t) => {
  const bad = [
    { level: 'chief', education: '大学本科', requiredTitleLevel: null, minTitleYears: 0, minWorkYears: 0 },
    { level: 'junior', education: '幼儿园', requiredTitleLevel: 'boss', minTitleYears: -1, minWorkYears: Number.NaN },
  ] as unknown as EligibilityRule[];
  const errs = validateRules(bad);
  t.equal(errs.length, 5);
  t.match(errs[0], '第1条：申报级别“chief”无法识别');
  t.match(errs.join('\n'), '学历“幼儿园”无法识别');
});

t.test('asOf and cnDate', async (t) => {
  t.equal(asOf(2026), '2026-12-31');
  t.equal(asOf(2022), '2022-12-31');
  t.throws(() => asOf(2026.5));
  t.throws(() => asOf(0));
  t.equal(cnDate('2026-01-05'), '2026年1月5日');
  t.equal(cnDate(END), '2026年12月31日');
});

t.test('wholeMonths (from inclusive, to exclusive)', async (t) => {
  const cases: [string, string, number][] = [
    ['2010-08-01', '2011-01-01', 5],
    ['2010-08-15', '2011-01-14', 4],
    ['2010-08-15', '2011-01-15', 5],
    ['2021-01-31', '2021-02-28', 0],
    ['2021-01-31', '2021-03-01', 1], // 31 February rolls to 1 March
    ['2021-01-31', '2021-03-31', 2],
    ['2021-12-31', '2026-12-31', 60],
    ['2022-01-01', '2026-12-31', 59],
    ['2022-01-01', '2027-01-01', 60],
    ['2026-01-01', '2026-01-01', 0],
    ['2026-05-01', '2026-01-01', 0],
  ];
  for (const [a, b, n] of cases) t.equal(wholeMonths(a, b), n, `${a} → ${b}`);
});

t.test('spans and their text', async (t) => {
  t.same(spanOf(75), { years: 6, months: 3, totalMonths: 75 });
  t.same(spanOf(-3), { years: 0, months: 0, totalMonths: 0 });
  const cases: [number, string][] = [
    [75, '6年3个月'],
    [60, '5年'],
    [8, '8个月'],
    [0, '0个月'],
  ];
  for (const [n, s] of cases) t.equal(formatSpan(spanOf(n)), s);
});

t.test('workSpan', async (t) => {
  type W = { start: string; end: string };
  const cases: { name: string; work: W[]; months: number }[] = [
    { name: 'no rows', work: [], months: 0 },
    { name: 'Aug..Dec counts 5 months', work: [{ start: '2010-08-01', end: '2010-12-31' }], months: 5 },
    { name: 'single day', work: [{ start: '2010-08-01', end: '2010-08-01' }], months: 0 },
    { name: 'ongoing = 31 Dec of the year', work: [{ start: '2020-01-01', end: '至今' }], months: 84 },
    { name: 'ongoing from mid-month', work: [{ start: '2020-07-15', end: '至今' }], months: 77 }, // to 2027-01-01: 6y5m + days short of 6m
    { name: 'end after the as-of date is cut', work: [{ start: '2025-01-01', end: '2027-06-30' }], months: 24 },
    { name: 'future period ignored', work: [{ start: '2020-01-01', end: '2020-12-31' }, { start: '2027-01-01', end: '至今' }], months: 12 },
    { name: 'period starting on 31 Dec counts 0 whole months', work: [{ start: END, end: '至今' }], months: 0 },
    {
      name: 'overlapping periods merged',
      work: [
        { start: '2015-01-01', end: '2018-12-31' },
        { start: '2017-01-01', end: '2019-12-31' },
      ],
      months: 60,
    },
    {
      name: 'contained period merged',
      work: [
        { start: '2015-01-01', end: '2020-12-31' },
        { start: '2016-03-01', end: '2016-08-31' },
      ],
      months: 72,
    },
    {
      name: 'overlap with ongoing (part-time job during a full-time one)',
      work: [
        { start: '2018-07-01', end: '至今' },
        { start: '2019-01-01', end: '2021-06-30' },
        { start: '2012-07-01', end: '2018-06-30' },
      ],
      months: 174, // 2012-07-01..2026-12-31 as one block
    },
    {
      name: 'gap between jobs not counted',
      work: [
        { start: '2010-01-01', end: '2010-06-30' },
        { start: '2011-01-01', end: '2011-12-31' },
      ],
      months: 18,
    },
    {
      name: 'left-over days of separate blocks dropped',
      work: [
        { start: '2010-01-01', end: '2010-01-20' },
        { start: '2010-03-01', end: '2010-03-20' },
      ],
      months: 0,
    },
    {
      name: 'invalid rows ignored',
      work: [
        { start: '', end: '至今' },
        { start: '2010-13-01', end: '2011-01-01' },
        { start: '2012-01-01', end: 'soon' },
        { start: '2015-01-01', end: '2014-01-01' },
        { start: '2020-01-01', end: '2020-12-31' },
      ],
      months: 12,
    },
  ];
  for (const c of cases) t.equal(workSpan(c.work, END).totalMonths, c.months, c.name);
  t.same(workSpan([{ start: '2020-10-01', end: '至今' }], END), { years: 6, months: 3, totalMonths: 75 });
});

t.test('highestEducation', async (t) => {
  const cases: { edu: { education?: string | null; end?: string | null }[]; want: [string, number] | null; at?: string }[] = [
    { edu: [], want: null },
    { edu: [{ education: '' }, { education: null }], want: null },
    { edu: [{ education: '大学专科' }, { education: '大学本科' }], want: ['大学本科', 4] },
    { edu: [{ education: '硕士研究生' }, { education: '博士研究生' }, { education: '大学本科' }], want: ['博士研究生', 6] },
    { edu: [{ education: '中等专科' }], want: ['中等专科', 2] },
    { edu: [{ education: '中专' }], want: ['中专', 2] },
    { edu: [{ education: '技工学校' }, { education: '高中' }], want: ['技工学校', 2] },
    { edu: [{ education: '高中' }], want: ['高中', 1] },
    { edu: [{ education: '其他' }], want: ['其他', 1] },
    { edu: [{ education: '夜大' }], want: ['夜大', 1] },
    // Not graduated by the as-of date.
    { edu: [{ education: '大学本科', end: '2015-07-01' }, { education: '硕士研究生', end: '2027-07-01' }], want: ['大学本科', 4], at: END },
    { edu: [{ education: '大学本科', end: '2015-07-01' }, { education: '硕士研究生', end: '2027-07-01' }], want: ['硕士研究生', 5] },
  ];
  for (const c of cases) {
    const h = highestEducation(c.edu, c.at);
    t.same(h && [h.name, h.rank], c.want, JSON.stringify(c.edu));
  }
  t.ok(educationRank('博士研究生')! > educationRank('硕士研究生')!);
  t.ok(educationRank('硕士研究生')! > educationRank('大学本科')!);
  t.ok(educationRank('大学本科')! > educationRank('大学专科')!);
  t.ok(educationRank('大学专科')! > educationRank('中等专科')!);
  t.ok(educationRank('中等专科')! > educationRank('高中')!);
  t.equal(educationRank('夜大'), null);
});

t.test('currentTitle', async (t) => {
  const row = (title_name: string, title_level: string | null, certified_on: string | null, employed = '是') => ({ title_name, title_level, certified_on, employed });
  const cases: { name: string; rows: ReturnType<typeof row>[]; want: [string, string, string | null] | null }[] = [
    { name: 'none', rows: [], want: null },
    { name: 'only unemployed', rows: [row('主治医师', 'intermediate', '2020-01-01', '否')], want: null },
    { name: 'one', rows: [row('主治医师', 'intermediate', '2020-05-20')], want: ['主治医师', 'intermediate', '2020-05-20'] },
    {
      name: 'highest employed level wins over later lower',
      rows: [row('医师', 'assistant', '2015-01-01'), row('主治医师', 'intermediate', '2019-01-01'), row('药师', 'assistant', '2022-01-01')],
      want: ['主治医师', 'intermediate', '2019-01-01'],
    },
    {
      name: 'unemployed higher title ignored',
      rows: [row('主治医师', 'intermediate', '2019-01-01'), row('副主任医师', 'senior_vice', '2024-01-01', '否')],
      want: ['主治医师', 'intermediate', '2019-01-01'],
    },
    {
      name: 'tie → latest certified_on',
      rows: [row('工程师', 'intermediate', '2016-01-01'), row('经济师', 'intermediate', '2021-06-01'), row('会计师', 'intermediate', '2018-01-01')],
      want: ['经济师', 'intermediate', '2021-06-01'],
    },
    { name: 'unknown level ignored', rows: [row('某职称', null, '2020-01-01'), row('某职称2', 'chief', '2020-01-01')], want: null },
    { name: 'bad date kept as null since', rows: [row('主治医师', 'intermediate', '2020-02-30')], want: ['主治医师', 'intermediate', null] },
  ];
  for (const c of cases) {
    const cur = currentTitle(c.rows);
    t.same(cur && [cur.name, cur.level, cur.since], c.want, c.name);
  }
});

t.test('titleSpan: 满N年 after certification, as of 31 December', async (t) => {
  const cases: [string, number][] = [
    ['2021-12-31', 60], // exactly 5 years on 2026-12-31
    ['2022-01-01', 59], // one day short: 4 years 11 months
    ['2021-01-01', 71],
    ['2020-09-30', 75], // 6 years 3 months
    ['2026-12-31', 0],
    ['2027-03-01', 0], // after the as-of date
  ];
  for (const [since, months] of cases) t.equal(titleSpan({ since }, END).totalMonths, months, since);
  t.same(titleSpan(null, END), { years: 0, months: 0, totalMonths: 0 });
  t.same(titleSpan({ since: null }, END), { years: 0, months: 0, totalMonths: 0 });
});

t.test('pickRule: most favourable rule the education reaches', async (t) => {
  const rank = (n: string) => educationRank(n)!;
  const cases: [TitleLevel, string, string | null][] = [
    ['junior', '中等专科', '中等专科'],
    ['junior', '大学本科', '中等专科'],
    ['junior', '高中', null],
    ['assistant', '硕士研究生', '硕士研究生'],
    ['assistant', '博士研究生', '硕士研究生'],
    ['assistant', '大学本科', '大学本科'],
    ['assistant', '大学专科', '大学专科'],
    ['assistant', '中等专科', null],
    ['intermediate', '博士研究生', '博士研究生'],
    ['intermediate', '硕士研究生', '硕士研究生'],
    ['intermediate', '大学本科', '大学专科'],
    ['intermediate', '大学专科', '大学专科'],
    ['senior_vice', '博士研究生', '博士研究生'],
    ['senior_vice', '硕士研究生', '大学本科'],
    ['senior_vice', '大学专科', null],
    ['senior_full', '博士研究生', '大学本科'],
    ['senior_full', '大学专科', null],
  ];
  for (const [level, edu, want] of cases) t.equal(pickRule(level, rank(edu), RULES)?.education ?? null, want, `${level} ${edu}`);
  t.equal(pickRule('junior', 0, RULES), null, 'no education');

  // Ties on years: a rule needing no title beats one that does; then list order.
  const custom: EligibilityRule[] = [
    { level: 'intermediate', education: '大学本科', requiredTitleLevel: 'assistant', minTitleYears: 0, minWorkYears: 3 },
    { level: 'intermediate', education: '大学本科', requiredTitleLevel: null, minTitleYears: 0, minWorkYears: 3 },
    { level: 'intermediate', education: '大学专科', requiredTitleLevel: null, minTitleYears: 0, minWorkYears: 3 },
    { level: 'intermediate', education: '硕士研究生', requiredTitleLevel: 'assistant', minTitleYears: 0, minWorkYears: 2 },
  ];
  t.equal(pickRule('intermediate', rank('大学本科'), custom), custom[1]);
  t.equal(pickRule('intermediate', rank('硕士研究生'), custom), custom[3], 'fewer work years wins');
});

// ------------------------------------------------------------------------------------------
// checkEligibility

interface Case {
  name: string;
  level: TitleLevel;
  facts: Partial<ArchiveFacts>;
  rules?: EligibilityRule[];
  year?: number;
  ok: boolean;
  rule?: string | null; // education of the picked rule
  texts: (string | RegExp)[]; // each must appear in some check
  failed?: number; // number of failed checks
}

const facts = (f: Partial<ArchiveFacts>): ArchiveFacts => ({ work: [], titles: [], educations: [], ...f });
const bachelor = [{ education: '大学本科', end: '2012-07-01' }];
const inter = (certified_on: string, employed = '是', title_name = '主治医师') => ({ title_name, title_level: 'intermediate', certified_on, employed });

const CASES: Case[] = [
  {
    name: 'senior_vice ok: 6 years 3 months in 中级',
    level: 'senior_vice',
    facts: { educations: bachelor, titles: [inter('2020-09-30')], work: [{ start: '2012-08-01', end: '至今' }] },
    ok: true,
    rule: '大学本科',
    texts: ['现职称（中级，主治医师）履职年限：截至2026年12月31日满6年3个月，要求满5年', '学历：大学本科，符合申报副高级的学历要求'],
    failed: 0,
  },
  {
    name: 'senior_vice: certified 2021-12-31 → exactly 5 years, passes',
    level: 'senior_vice',
    facts: { educations: bachelor, titles: [inter('2021-12-31')] },
    ok: true,
    texts: ['截至2026年12月31日满5年，要求满5年'],
  },
  {
    name: 'senior_vice: certified 2022-01-01 → 4 years 11 months, fails',
    level: 'senior_vice',
    facts: { educations: bachelor, titles: [inter('2022-01-01')] },
    ok: false,
    texts: ['现职称履职年限不足：截至2026年12月31日满4年11个月，申报副高级需取得中级职称后满5年', '资格认定时间2022年1月1日'],
    failed: 1,
  },
  {
    name: 'senior_vice: 4 years 2 months',
    level: 'senior_vice',
    facts: { educations: bachelor, titles: [inter('2022-10-15')] },
    ok: false,
    texts: ['截至2026年12月31日满4年2个月', '满5年'],
  },
  {
    name: 'the same title one year later passes (year parameter)',
    level: 'senior_vice',
    year: 2027,
    facts: { educations: bachelor, titles: [inter('2022-10-15')] },
    ok: true,
    texts: ['截至2027年12月31日满5年2个月，要求满5年'],
  },
  {
    name: 'senior_vice: doctor needs only 2 years (most favourable rule)',
    level: 'senior_vice',
    facts: { educations: [{ education: '博士研究生' }, { education: '大学本科' }], titles: [inter('2024-06-30')] },
    ok: true,
    rule: '博士研究生',
    texts: ['满2年6个月，要求满2年', '按博士研究生及以上学历条件：取得中级职称后满2年'],
  },
  {
    name: 'senior_vice: missing title',
    level: 'senior_vice',
    facts: { educations: bachelor, titles: [] },
    ok: false,
    texts: ['未填写已聘任的中级职称：申报副高级需先取得中级职称（请在“现有职称情况”中填写并选择“是否聘任：是”）'],
    failed: 1,
  },
  {
    name: 'senior_vice: 中级 entered but not employed',
    level: 'senior_vice',
    facts: { educations: bachelor, titles: [inter('2015-01-01', '否')] },
    ok: false,
    texts: ['未填写已聘任的中级职称', '您填写的“主治医师”未选择聘任'],
  },
  {
    name: 'senior_vice: lower title',
    level: 'senior_vice',
    facts: { educations: bachelor, titles: [{ title_name: '医师', title_level: 'assistant', certified_on: '2015-01-01', employed: '是' }] },
    ok: false,
    texts: ['现职称（助理级，医师）低于申报副高级所需的中级职称：申报副高级需取得中级职称后满5年'],
  },
  {
    name: 'senior_vice: higher title passes',
    level: 'senior_vice',
    facts: { educations: bachelor, titles: [{ title_name: '主任医师', title_level: 'senior_full', certified_on: '2024-01-01', employed: '是' }] },
    ok: true,
    texts: ['现职称（正高级，主任医师）高于申报副高级所需的中级职称'],
  },
  {
    name: 'senior_vice: title without certification date',
    level: 'senior_vice',
    facts: { educations: bachelor, titles: [{ title_name: '主治医师', title_level: 'intermediate', certified_on: null, employed: '是' }] },
    ok: false,
    texts: ['未填写资格认定时间'],
  },
  {
    name: 'senior_vice: education too low',
    level: 'senior_vice',
    facts: { educations: [{ education: '大学专科' }], titles: [inter('2010-01-01')] },
    ok: false,
    rule: null,
    texts: ['学历不符合申报条件：申报副高级至少需要大学本科学历（您的最高学历：大学专科）'],
    failed: 1,
  },
  {
    name: 'senior_full: no education entered',
    level: 'senior_full',
    facts: {},
    ok: false,
    rule: null,
    texts: ['学历不符合申报条件：申报正高级至少需要大学本科学历（您的最高学历：未填写'],
  },
  {
    name: 'senior_full ok',
    level: 'senior_full',
    facts: { educations: bachelor, titles: [{ title_name: '副主任医师', title_level: 'senior_vice', certified_on: '2019-12-31', employed: '是' }, inter('2012-01-01')] },
    ok: true,
    texts: ['现职称（副高级，副主任医师）履职年限：截至2026年12月31日满7年，要求满5年'],
  },
  {
    name: 'intermediate: master needs 助理级满2年',
    level: 'intermediate',
    facts: { educations: [{ education: '硕士研究生' }], titles: [{ title_name: '助理工程师', title_level: 'assistant', certified_on: '2025-07-01', employed: '是' }] },
    ok: false,
    rule: '硕士研究生',
    texts: ['现职称履职年限不足：截至2026年12月31日满1年5个月，申报中级需取得助理级职称后满2年'],
  },
  {
    name: 'intermediate: doctor, no title needed',
    level: 'intermediate',
    facts: { educations: [{ education: '博士研究生' }] },
    ok: true,
    rule: '博士研究生',
    texts: ['按博士研究生及以上学历条件：无任职年限要求'],
    failed: 0,
  },
  {
    name: 'intermediate: 大专 with 助理级 4 years',
    level: 'intermediate',
    facts: { educations: [{ education: '大学专科' }], titles: [{ title_name: '助理会计师', title_level: 'assistant', certified_on: '2022-12-31', employed: '是' }] },
    ok: true,
    rule: '大学专科',
    texts: ['满4年，要求满4年'],
  },
  {
    name: 'assistant: bachelor with 8 months of work fails',
    level: 'assistant',
    facts: { educations: bachelor, work: [{ start: '2026-05-01', end: '至今' }] },
    ok: false,
    rule: '大学本科',
    texts: ['从事专业技术工作年限不足：截至2026年12月31日满8个月，申报助理级（大学本科及以上学历）需从事专业技术工作满1年'],
    failed: 1,
  },
  {
    name: 'assistant: 大专 with overlapping work = 3 years 6 months',
    level: 'assistant',
    facts: {
      educations: [{ education: '大学专科' }],
      work: [
        { start: '2023-07-01', end: '2025-06-30' },
        { start: '2024-03-01', end: '至今' },
      ],
    },
    ok: true,
    rule: '大学专科',
    texts: ['专业技术工作年限：截至2026年12月31日满3年6个月，要求满3年'],
  },
  {
    name: 'assistant: future job does not count',
    level: 'assistant',
    facts: { educations: [{ education: '大学专科' }], work: [{ start: '2024-01-01', end: '2025-12-31' }, { start: '2027-01-01', end: '至今' }] },
    ok: false,
    texts: ['满2年，申报助理级（大学专科及以上学历）需从事专业技术工作满3年'],
  },
  {
    name: 'assistant: no work entered',
    level: 'assistant',
    facts: { educations: bachelor },
    ok: false,
    texts: ['满0个月', '请在“工作经历”中填写'],
  },
  {
    name: 'assistant: master, no years',
    level: 'assistant',
    facts: { educations: [{ education: '硕士研究生' }] },
    ok: true,
    rule: '硕士研究生',
    texts: [],
    failed: 0,
  },
  {
    name: 'junior: 中专 with 1 year',
    level: 'junior',
    facts: { educations: [{ education: '中等专科' }], work: [{ start: '2025-12-01', end: '至今' }] },
    ok: true,
    texts: ['满1年1个月，要求满1年'],
  },
  {
    name: 'junior: 高中 is too low',
    level: 'junior',
    facts: { educations: [{ education: '高中' }] },
    ok: false,
    texts: ['学历不符合申报条件：申报员级至少需要中等专科学历（您的最高学历：高中）'],
  },
  {
    name: 'two failures: title and work',
    level: 'intermediate',
    rules: [{ level: 'intermediate', education: '大学本科', requiredTitleLevel: 'assistant', minTitleYears: 4, minWorkYears: 6 }],
    facts: { educations: bachelor, titles: [{ title_name: '助理工程师', title_level: 'assistant', certified_on: '2024-01-01', employed: '是' }], work: [{ start: '2022-01-01', end: '至今' }] },
    ok: false,
    texts: ['满2年11个月，申报中级需取得助理级职称后满4年', '从事专业技术工作年限不足：截至2026年12月31日满5年', '满6年'],
    failed: 2,
  },
  {
    name: 'no rules for the level',
    level: 'senior_full',
    rules: RULES.filter((r) => r.level !== 'senior_full'),
    facts: {},
    ok: true,
    rule: null,
    texts: ['本计划未设置申报正高级的学历和任职年限条件'],
  },
];

t.test('checkEligibility', async (t) => {
  for (const c of CASES) {
    const r = checkEligibility(c.level, facts(c.facts), c.rules ?? RULES, c.year ?? Y);
    const all = r.checks.map((x) => `${x.ok ? '✓' : '✗'} ${x.text}`).join('\n');
    t.equal(r.ok, c.ok, `${c.name}\n${all}`);
    t.equal(r.ok, r.checks.every((x) => x.ok), `${c.name}: ok = all checks`);
    t.equal(r.asOf, asOf(c.year ?? Y), c.name);
    if (c.rule !== undefined) t.equal(r.rule?.education ?? null, c.rule, `${c.name}: rule`);
    if (c.failed !== undefined) t.equal(r.checks.filter((x) => !x.ok).length, c.failed, `${c.name}: failed checks`);
    for (const want of c.texts) {
      t.ok(
        r.checks.some((x) => (typeof want === 'string' ? x.text.includes(want) : want.test(x.text))),
        `${c.name}: has “${String(want)}”\n${all}`,
      );
    }
  }
});

t.test('result carries the computed facts for step 2', async (t) => {
  const r = checkEligibility(
    'senior_vice',
    facts({
      educations: [{ education: '大学本科' }, { education: '硕士研究生' }],
      titles: [inter('2020-09-30')],
      work: [{ start: '2012-08-01', end: '2016-07-31' }, { start: '2016-08-01', end: '至今' }],
    }),
    RULES,
    Y,
  );
  t.same(r.education, { name: '硕士研究生', rank: 5 });
  t.same(r.current, { name: '主治医师', level: 'intermediate', since: '2020-09-30' });
  t.same(r.titleSpan, { years: 6, months: 3, totalMonths: 75 });
  t.same(r.workSpan, { years: 14, months: 5, totalMonths: 173 });
  t.equal(r.targetLevel, 'senior_vice');
  t.equal(r.rule?.minTitleYears, 5);
  const none = checkEligibility('junior', facts({}), RULES, Y);
  t.equal(none.titleSpan, null);
  t.equal(none.current, null);
});

import t from 'tap';
import { eligibilitySheet, type SheetSource } from '../../../src/print/eligibilitySheet.js';
import { blankBrief, blankReviewForm, BLANK_ROWS } from '../../../src/print/blankForms.js';
import { ruleModes } from '../../../src/domain/whoMay.js';
import type { EligibilityRule } from '../../../src/domain/eligibility.js';

const rows = (xs: Record<string, unknown>[]) => xs.map((data) => ({ data }));
const RULES: EligibilityRule[] = [{ level: 'senior_vice', education: '大学本科', requiredTitleLevel: 'intermediate', minTitleYears: 5, minWorkYears: 0 }];
const base = (o: { staff?: string; birth?: string; certified?: string; education?: string; category?: string; post_since?: string } = {}): SheetSource => ({
  cover: { title: '副主任医师', level: 'senior_vice', specialty: '心血管内科', category: o.category ?? 'normal', category_name: '正常申报', year: 2026 },
  person: { name: '张伟', gender: '男', birth: o.birth ?? '1985-06-12', unitName: '昆明市第一人民医院' },
  profile: { staff_type: o.staff ?? '事业单位在编人员', post_since: o.post_since ?? '' },
  sections: {
    titles: rows([{ title_name: '主治医师', title_level: 'intermediate', certified_on: o.certified ?? '2016-07-01', employed: '是' }]),
    work: rows([{ start: '2008-07-01', end: '至今' }]),
    educations: rows([{ education: o.education ?? '大学本科', end: '2008-06-30' }]),
  },
});
const opts = { rules: RULES, modes: ruleModes(null), refDate: '2026-06-30', planName: '2026年卫生系列高级', committee: '昆明市卫生高评委' };

t.test('资格审查表: √/× per rule of whoMay.ts and eligibility.ts, from the frozen version', async (t) => {
  // [case, source, ✗ count, a row text that must be there with its mark, note of the first ✗]
  const cases: [string, SheetSource, number, [string, '√' | '×'], string][] = [
    ['all met', base(), 0, ['履职年限', '√'], ''],
    ['too few years in the title', base({ certified: '2023-07-01' }), 1, ['现职称履职年限不足', '×'], '不符合'],
    ['education too low', base({ education: '大学专科' }), 1, ['学历不符合申报条件', '×'], '不符合'],
    ['破格: the committee decides', base({ education: '大学专科', category: 'exceptional' }), 1, ['学历不符合', '×'], '破格申报，由评委会认定'],
    ['公务员 may not declare', base({ staff: '公务员' }), 1, ['公务员（含参公管理的人员）不得参加职称评审', '×'], '不符合'],
    ['past retirement age', base({ birth: '1960-01-01' }), 1, ['已达到法定退休年龄', '×'], '不符合'],
    ['转系列 without the date', base({ category: 'transfer' }), 1, ['转系列申报请在“基本信息”中填写现岗位聘用时间', '×'], '提示，由评委会认定'], // the default mode of 转系列 only warns
    ['转系列 after a year', base({ category: 'transfer', post_since: '2024-01-01' }), 0, ['在现岗位工作已满1年', '√'], ''],
  ];
  for (const [name, src, bad, [text, mark], note] of cases) {
    const s = eligibilitySheet(src, opts);
    t.equal(s.failed, bad, `${name}: ✗ count`);
    t.equal(s.passed + s.failed, s.rows.length, name);
    const row = s.rows.find((r) => r.text.includes(text));
    t.ok(row, `${name}: a row says ${text}`);
    t.equal(row?.mark, mark, `${name}: ${mark}`);
    t.equal(s.rows.find((r) => !r.ok)?.note ?? '', note, `${name}: note`);
    t.match(s.conclusion, bad ? `${bad}项不符合` : '均符合', name);
  }
  const s = eligibilitySheet(base(), opts);
  t.equal(s.name, '张伟');
  t.equal(s.target, '副主任医师（副高级）');
  t.equal(s.asOf, '2026-12-31', 'years counted to 31 December of the declaration year');
  t.same([...new Set(s.rows.map((r) => r.group))], ['申报资格', '学历和任职年限']);
});

t.test('the retirement check needs the full birth date: from the 身份证号 when the version keeps the month', async (t) => {
  const month = { ...base(), person: { ...base().person, birth: '1960-01' } };
  t.notOk(eligibilitySheet(month, opts).rows.some((r) => r.text.includes('退休')), 'a month alone: no guess');
  t.match(eligibilitySheet(month, { ...opts, birthDate: '1960-01-15' }).rows.find((r) => r.text.includes('退休'))?.mark, '×');
  t.match(eligibilitySheet(month, { ...opts, birthDate: '1985-06-12' }).rows.find((r) => r.text.includes('退休'))?.mark, '√');
});

t.test('a who-may-declare rule the plan only warns on is marked for the committee', async (t) => {
  const warn = { ...opts, modes: ruleModes(JSON.stringify({ civil_servant: 'warn' })) };
  t.equal(eligibilitySheet(base({ staff: '公务员' }), warn).rows.find((r) => !r.ok)?.note, '提示，由评委会认定');
});

t.test('blank forms: every value empty, empty lines to fill in', async (t) => {
  const f = blankReviewForm('本人承诺');
  t.equal(f.cover.name, '');
  t.equal(String(f.cover.year), '');
  t.ok(f.tables.length > 5);
  for (const tb of f.tables) {
    t.equal(tb.rows.length, BLANK_ROWS, tb.title);
    t.ok(tb.rows.every((r) => r.length === tb.head.length && r.every((c) => c === '')), tb.title);
  }
  t.ok(f.evaluations.every((e) => !e.filled && e.agree === ''));
  const b = blankBrief();
  t.equal(b.name, '');
  t.equal(b.achievements.length, 5);
  t.ok(b.achievements.every((a) => a === ''));
});

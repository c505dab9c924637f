/**
 * Issue #16: the series sections and the rules a plan's settings put on them, as tables of cases.
 */
import t from 'tap';
import { sectionsFor, sectionByKey, SECTIONS, NO_PLAN_SETTINGS } from '../../../src/domain/sections.js';
import { validateRow, type RuleContext } from '../../../src/domain/sectionRules.js';
import { requiredSections } from '../../../src/domain/plans.js';
import {
  cnkiMissing, hoursResult, planSectionSettings, representativeError, representativeFirst, studyHoursShortfalls, theoryPassed, theoryResult,
} from '../../../src/domain/seriesRules.js';

const ctx: RuleContext = { today: '2026-06-15', dicts: { has: () => false } };
const keys = (series: string | null) => sectionsFor(series).map((s) => s.key);
const common = SECTIONS.map((s) => s.key);

t.test('sectionsFor: the common sections, then the series own, chosen by the plan series', async (t) => {
  const cases: [string | null, string[]][] = [
    ['S22', [...common, 'teacher-type', 'open-classes', 'satisfaction', 'theory-exam']],
    ['S01', [...common, 'teaching', 'student-work', 'ethics']],
    ['S05', [...common, 'study-hours']],
    ['S04', common],
    [null, common],
  ];
  for (const [series, want] of cases) t.same(keys(series), want, `series ${series}`);
});

t.test('requiredSections with a series: the plan list, then the series required ones', async (t) => {
  const cases: [string | null, string | null, string[]][] = [
    [null, 'S22', ['educations', 'study', 'work', 'summaries', 'assessments', 'teacher-type', 'satisfaction', 'theory-exam']],
    ['papers', 'S01', ['papers', 'teaching', 'ethics']],
    ['', 'S05', ['study-hours']],
    [null, 'S04', ['educations', 'study', 'work', 'summaries', 'assessments']],
    // 公开课 is in the teacher set but not required; a teacher section never for another series.
    ['open-classes,titles', 'S04', ['titles']],
  ];
  for (const [list, series, want] of cases) t.same(requiredSections({ required_sections: list }, series), want, `${list} / ${series}`);
  t.same(requiredSections({ required_sections: null }), ['educations', 'study', 'work', 'summaries', 'assessments'], 'without a series: as before');
});

t.test('教育理论考试: 合格 against the plan pass mark (60 or 70)', async (t) => {
  const cases: [unknown, number | null, string][] = [
    [70, 70, '合格'], [69.5, 70, '不合格'], [65, 60, '合格'], [65, 70, '不合格'], [59, 60, '不合格'], [100, 70, '合格'], [0, 60, '不合格'],
    [80, null, ''], ['', 70, ''], [null, 60, ''], ['abc', 60, ''],
  ];
  for (const [score, mark, want] of cases) t.equal(theoryResult(score, mark), want, `${score} / ${mark}`);
  t.equal(theoryPassed([{ score: 65 }, { score: 72 }], 70), true, 'one score reaching the mark passes');
  t.equal(theoryPassed([{ score: 65 }, { score: 69 }], 70), false);
  t.equal(theoryPassed([{ score: 65 }], 60), true);
  t.equal(theoryPassed([], null), true, 'no pass mark: nothing to pass');
  const def = sectionByKey('theory-exam')!;
  t.equal(def.printDerived!.value({ score: 65 }, { ...NO_PLAN_SETTINGS, theoryPassMark: 70 }), '不合格', 'the printed 是否合格 column');
  t.equal(def.printDerived!.value({ score: 65 }, { ...NO_PLAN_SETTINGS, theoryPassMark: 60 }), '合格');
});

t.test('考试考核学时: each year against the plan minimum', async (t) => {
  const rows = [{ year: 2025, hours: 90 }, { year: 2023, hours: 48 }, { year: 2024, hours: 72 }, { year: 2022, hours: 71 }];
  const cases: [number | null, string[]][] = [
    [72, ['2022年学时不足（71/72学时）', '2023年学时不足（48/72学时）']],
    [48, []],
    [91, ['2022年学时不足（71/91学时）', '2023年学时不足（48/91学时）', '2024年学时不足（72/91学时）', '2025年学时不足（90/91学时）']],
    [null, []],
  ];
  for (const [min, want] of cases) t.same(studyHoursShortfalls(rows, min), want, `minimum ${min}`);
  t.equal(hoursResult(72, 72), '达标');
  t.equal(hoursResult(71, 72), '未达标（要求72学时）');
  t.equal(hoursResult(10, null), '');
});

t.test('代表作: at most N per plan, shown first', async (t) => {
  const rep = { representative: '是' };
  const not = { representative: '否' };
  const cases: [Record<string, unknown>[], boolean, number | null, boolean][] = [
    [[], true, 1, true],
    [[rep], true, 1, false],
    [[rep, not], true, 2, true],
    [[rep, rep], true, 2, false],
    [[rep, rep, rep], false, 2, true], // un-marking is always allowed
    [[rep, rep, rep], true, null, true], // no 代表作 review: no limit
    [[{}, not], true, 1, true],
  ];
  for (const [others, marking, max, ok] of cases) {
    const e = representativeError(others, marking, max);
    t.equal(e === null, ok, `${others.length} others, marking ${marking}, N=${max}`);
    if (e) t.match(e, `代表作最多${max}篇`);
  }
  const rows = [{ id: 1, data: not }, { id: 2, data: rep }, { id: 3, data: {} }, { id: 4, data: rep }];
  t.same(representativeFirst(rows).map((r) => r.id), [2, 4, 1, 3], '代表作 first, each group in its order');
});

t.test('知网收录: link and screenshot when the plan requires them', async (t) => {
  const papers = [
    { data: { title: '甲', cnki_url: 'https://kns.cnki.net/a' }, slots: ['copy', 'cnki'] },
    { data: { title: '乙', cnki_url: '' }, slots: ['cnki'] },
    { data: { title: '丙', cnki_url: 'https://kns.cnki.net/c' }, slots: ['copy'] },
  ];
  t.same(cnkiMissing(papers, true), ['乙', '丙']);
  t.same(cnkiMissing(papers, false), []);
});

t.test('series fields: 学生满意度 a number without %, fixed options, plan settings', async (t) => {
  const def = sectionByKey('satisfaction')!;
  const cases: [string, string | undefined, unknown][] = [
    ['98', undefined, 98],
    ['98.5', undefined, 98.5],
    ['98%', '学生满意度不必填百分号，如 98', '98%'],
    ['９８％', '学生满意度不必填百分号，如 98', '９８％'],
    ['101', '学生满意度须在0至100之间', '101'],
    ['九十八', '学生满意度须为数字（最多一位小数），如 98', '九十八'],
    ['', '请填写学生满意度', null],
  ];
  for (const [rate, err, value] of cases) {
    const r = validateRow(def, { year: '2025', rate }, ctx);
    t.equal(r.errors.rate, err, `“${rate}”`);
    t.equal(r.values.rate, value, `“${rate}” kept`);
  }
  const open = sectionByKey('open-classes')!;
  t.equal(validateRow(open, { given_on: '2025-03-01', topic: '勾股定理', subject: '数学', level: '市（州）级', organizer: '昆明市教科院' }, ctx).errors.level, undefined);
  t.equal(validateRow(open, { given_on: '2025-03-01', topic: '勾股定理', subject: '数学', level: '宇宙级', organizer: '昆明市教科院' }, ctx).errors.level, '请选择公开课级别');
  t.same(planSectionSettings({ theory_pass_mark: 70, min_study_hours: null, max_representative: 3, cnki_required: 1 }), { theoryPassMark: 70, minStudyHours: null, maxRepresentative: 3, cnkiRequired: true });
  t.same(planSectionSettings(null), NO_PLAN_SETTINGS);
});

t.test('评审简表: 代表作 listed first', async (t) => {
  const { briefModel } = await import('../../../src/print/brief.js');
  const doc = briefModel(
    {
      cover: { title: '中小学教师 - 高级教师', level: 'senior_vice', specialty: '中学数学', year: 2026 },
      person: { name: '张伟', gender: '男', birth: '1985-06-12', unitName: '昆明市第三中学' },
      sections: { papers: [{ data: { title: '普通论文', journal: '甲刊', representative: '否' } }, { data: { title: '代表论文', journal: '乙刊', representative: '是' } }] },
    },
    { order: 1, group: '数学组', opinion: null },
  );
  t.match(doc.achievements[0], /^代表作：《代表论文》/);
  t.match(doc.achievements[1], /^论文：《普通论文》/);
});

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ALL_SECTIONS, SECTIONS, SECTION_KEYS, sectionByKey, sectionDicts, type FieldDef } from '../../../src/domain/sections.js';
import { completion, moveInOrder, reorderSubset, validateFields, validateRow, display, printedDate, ONGOING, OTHER, type DictLookup, type RuleContext } from '../../../src/domain/sectionRules.js';
import { PROFILE_FIELDS } from '../../../src/domain/profile.js';

/** A fake dictionary: dict name → allowed stored values. */
const DICTS: Record<string, string[]> = {
  grade: ['优秀', '合格', '基本合格', '不合格'],
  committees: ['昆明市卫生技术高级职称评审委员会'],
  major: ['工学 - 计算机科学与技术 - 计算机应用'],
};
const fakeDicts: DictLookup = { has: (dict, value) => (DICTS[dict] ?? []).includes(value) };
const ctx: RuleContext = { today: '2026-06-15', dicts: fakeDicts };

/** Validates one field with the given form input; returns its stored value and error. */
function one(f: FieldDef, input: Record<string, unknown>, c: RuleContext = ctx) {
  const r = validateFields([f], input, c);
  return { value: r.values[f.key], error: r.errors[f.key] };
}

interface Case {
  name: string;
  field: FieldDef;
  input: Record<string, unknown>;
  value?: string | number | null;
  error?: string;
  today?: string;
}

const text: FieldDef = { key: 'name', label: '名称', type: 'text', required: true, max: 5 };
const optText: FieldDef = { key: 'memo', label: '备注', type: 'text', max: 5 };
const area: FieldDef = { key: 'content', label: '总结内容', type: 'textarea', required: true, max: 3 };
const date: FieldDef = { key: 'on', label: '批准时间', type: 'date', required: true };
const pastDate: FieldDef = { ...date, notFuture: true };
const year5: FieldDef = { key: 'year', label: '年度', type: 'year', required: true, yearsBack: 5 };
const yearAny: FieldDef = { key: 'year', label: '年份', type: 'year' };
const rank: FieldDef = { key: 'rank', label: '本人排名', type: 'int', required: true, min: 1 };
const months: FieldDef = { key: 'months', label: '月数', type: 'int', required: true, min: 0 };
const grade: FieldDef = { key: 'grade', label: '考核等级', type: 'select', dict: 'grade', required: true };
const radio: FieldDef = { key: 'grade', label: '考核等级', type: 'radio', dict: 'grade', required: true };
const committee: FieldDef = { key: 'committee', label: '评审组织', type: 'select', dict: 'committees', allowOther: true, required: true };
const major: FieldDef = { key: 'major', label: '所学专业', type: 'tree', dict: 'major', required: true };
const optMajor: FieldDef = { key: 'major', label: '所学专业', type: 'tree', dict: 'major' };
const endOngoing: FieldDef = { key: 'end', label: '结束时间', type: 'date', required: true, allowOngoing: true, notFuture: true };

const CASES: Case[] = [
  // text: max counted in code points (a surrogate pair is one character), trimmed.
  { name: 'text ok', field: text, input: { name: ' 张伟 ' }, value: '张伟' },
  { name: 'text 5 Chinese = max', field: text, input: { name: '云南省昆明' }, value: '云南省昆明' },
  { name: 'text 5 astral chars (10 UTF-16 units) = max', field: text, input: { name: '𠮷𠮷𠮷𠮷𠮷' }, value: '𠮷𠮷𠮷𠮷𠮷' },
  { name: 'text 6 astral chars', field: text, input: { name: '𠮷𠮷𠮷𠮷𠮷𠮷' }, error: '名称不能超过5个字（当前6个字）' },
  { name: 'text 6 Chinese', field: text, input: { name: '云南省昆明市' }, error: '名称不能超过5个字（当前6个字）' },
  { name: 'text required empty', field: text, input: {}, value: null, error: '请填写名称' },
  { name: 'text required blank spaces', field: text, input: { name: '   ' }, value: null, error: '请填写名称' },
  { name: 'text optional empty', field: optText, input: { memo: '' }, value: null },
  { name: 'text repeated key: the last wins', field: text, input: { name: ['甲', '乙'] }, value: '乙' },
  { name: 'text non-string ignored', field: text, input: { name: { x: 1 } }, value: null, error: '请填写名称' },
  // textarea
  { name: 'textarea ok', field: area, input: { content: '𠮷a中' }, value: '𠮷a中' },
  { name: 'textarea over max', field: area, input: { content: '一二三四' }, error: '总结内容不能超过3个字（当前4个字）' },
  { name: 'textarea required', field: area, input: { content: '' }, error: '请填写总结内容' },
  // date
  { name: 'date ok', field: date, input: { on: '2020-09-01' }, value: '2020-09-01' },
  { name: 'date leap day 2024', field: date, input: { on: '2024-02-29' }, value: '2024-02-29' },
  { name: 'date 2019-02-29', field: date, input: { on: '2019-02-29' }, error: '请填写正确的批准时间（如 2020-09-01）' },
  { name: 'date month 13', field: date, input: { on: '2020-13-01' }, error: '请填写正确的批准时间（如 2020-09-01）' },
  { name: 'date no padding', field: date, input: { on: '2020-9-1' }, error: '请填写正确的批准时间（如 2020-09-01）' },
  { name: 'date words', field: date, input: { on: '去年' }, error: '请填写正确的批准时间（如 2020-09-01）' },
  { name: 'date required', field: date, input: {}, error: '请填写批准时间' },
  { name: 'date future without notFuture', field: date, input: { on: '2030-01-01' }, value: '2030-01-01' },
  { name: 'date future with notFuture', field: pastDate, input: { on: '2026-06-16' }, error: '批准时间不能晚于今天' },
  { name: 'date today with notFuture', field: pastDate, input: { on: '2026-06-15' }, value: '2026-06-15' },
  { name: '至今 on a date without allowOngoing', field: date, input: { on: ONGOING }, value: ONGOING },
  // year: yearsBack relative to ctx.today; stored as a number
  { name: 'year this year', field: year5, input: { year: '2026' }, value: 2026 },
  { name: 'year lowest (2026−5)', field: year5, input: { year: '2021' }, value: 2021 },
  { name: 'year too early', field: year5, input: { year: '2020' }, error: '年度不能早于2021年' },
  { name: 'year in the future', field: year5, input: { year: '2027' }, error: '年度不能晚于2026年' },
  { name: 'year bounds move with today', field: year5, input: { year: '2020' }, today: '2025-01-01', value: 2020 },
  { name: 'year 2 digits', field: year5, input: { year: '24' }, error: '请填写正确的年度（如 2025）' },
  { name: 'year as number', field: year5, input: { year: 2024 }, value: 2024 },
  { name: 'year with no yearsBack: 1900', field: yearAny, input: { year: '1900' }, value: 1900 },
  { name: 'year with no yearsBack: 1899', field: yearAny, input: { year: '1899' }, error: '年份不能早于1900年' },
  { name: 'year required', field: year5, input: {}, error: '请填写年度' },
  // int
  { name: 'int ok', field: rank, input: { rank: '3' }, value: 3 },
  { name: 'int below min', field: rank, input: { rank: '0' }, error: '本人排名须为不小于1的整数' },
  { name: 'int negative', field: rank, input: { rank: '-1' }, error: '本人排名须为不小于1的整数' },
  { name: 'int decimal', field: rank, input: { rank: '1.5' }, error: '本人排名须为不小于1的整数' },
  { name: 'int words', field: rank, input: { rank: '第一' }, error: '本人排名须为不小于1的整数' },
  { name: 'int too large', field: rank, input: { rank: '100001' }, error: '本人排名须为不小于1的整数' },
  { name: 'int min 0 accepts 0', field: months, input: { months: '0' }, value: 0 },
  // select / radio: against the dictionary
  { name: 'select ok', field: grade, input: { grade: '优秀' }, value: '优秀' },
  { name: 'select unknown', field: grade, input: { grade: '特优' }, error: '请选择考核等级' },
  { name: 'select code instead of name', field: grade, input: { grade: 'excellent' }, error: '请选择考核等级' },
  { name: 'select 其他 without allowOther', field: grade, input: { grade: OTHER, grade_other: '特优' }, error: '请选择考核等级' },
  { name: 'select required', field: grade, input: { grade: '' }, error: '请选择考核等级' },
  { name: 'radio ok', field: radio, input: { grade: '合格' }, value: '合格' },
  { name: 'radio unknown', field: radio, input: { grade: '特优' }, error: '请选择考核等级' },
  { name: 'radio required', field: radio, input: {}, error: '请选择考核等级' },
  // allowOther: '__other__' + key_other
  { name: 'allowOther: dictionary value', field: committee, input: { committee: '昆明市卫生技术高级职称评审委员会' }, value: '昆明市卫生技术高级职称评审委员会' },
  { name: 'allowOther: 其他 with text', field: committee, input: { committee: OTHER, committee_other: ' 云南省档案系列高评委 ' }, value: '云南省档案系列高评委' },
  { name: 'allowOther: 其他 with no text', field: committee, input: { committee: OTHER, committee_other: '' }, value: null, error: '请选择评审组织' },
  { name: 'allowOther: free text directly', field: committee, input: { committee: '某评审委员会' }, value: '某评审委员会' },
  { name: 'allowOther: over 200 chars', field: committee, input: { committee: OTHER, committee_other: '委'.repeat(201) }, error: '评审组织不能超过200个字' },
  // tree: any text is accepted (其他), required still applies
  { name: 'tree leaf', field: major, input: { major: '工学 - 计算机科学与技术 - 计算机应用' }, value: '工学 - 计算机科学与技术 - 计算机应用' },
  { name: 'tree 其他 text', field: major, input: { major: OTHER, major_other: '职称档案管理' }, value: '职称档案管理' },
  { name: 'tree not a leaf: still accepted', field: major, input: { major: '档案学' }, value: '档案学' },
  { name: 'tree required empty', field: major, input: { major: '' }, error: '请选择所学专业' },
  { name: 'tree required 其他 empty', field: major, input: { major: OTHER, major_other: '  ' }, value: null, error: '请选择所学专业' },
  { name: 'tree optional empty', field: optMajor, input: {}, value: null },
  // allowOngoing: key_ongoing or 至今
  { name: 'ongoing checkbox', field: endOngoing, input: { end: '', end_ongoing: '1' }, value: ONGOING },
  { name: 'ongoing checkbox wins over a date', field: endOngoing, input: { end: '2020-01-01', end_ongoing: '1' }, value: ONGOING },
  { name: 'ongoing typed 至今', field: endOngoing, input: { end: '至今' }, value: ONGOING },
  { name: 'ongoing unchecked: a date', field: endOngoing, input: { end: '2020-01-01' }, value: '2020-01-01' },
  { name: 'ongoing: neither', field: endOngoing, input: { end: '' }, error: '请填写结束时间' },
];

t.test('validateFields: one field at a time', async (t) => {
  for (const c of CASES) {
    const r = one(c.field, c.input, c.today ? { ...ctx, today: c.today } : ctx);
    if ('value' in c) t.same(r.value, c.value, `${c.name}: value`);
    t.equal(r.error, c.error, `${c.name}: ${c.error ?? 'no error'}`);
  }
});

t.test('validateFields: end vs start', async (t) => {
  const fields: FieldDef[] = [
    { key: 'start', label: '入学时间', type: 'date', required: true, notFuture: true },
    { key: 'end', label: '毕业时间', type: 'date', required: true, after: 'start', allowOngoing: true },
  ];
  const run = (input: Record<string, unknown>) => validateFields(fields, input, ctx);
  t.same(run({ start: '2019-09-01', end: '2019-09-01' }).errors, {}, 'same day is fine');
  t.same(run({ start: '2019-09-01', end: '2023-07-01' }).errors, {});
  t.same(run({ start: '2019-09-01', end: '2019-08-31' }).errors, { end: '毕业时间不能早于入学时间' });
  t.same(run({ start: '2019-09-01', end: '2018-01-01', end_ongoing: '1' }).errors, {}, '至今 (checkbox) is always after');
  t.same(run({ start: '2026-06-01', end: ONGOING }).errors, {}, '至今 (typed) is always after');
  t.same(run({ start: '2019-02-29', end: '2019-01-01' }).errors, { start: '请填写正确的入学时间（如 2020-09-01）' }, 'no cross message on top of a bad start');
  t.same(run({ start: '', end: '2019-01-01' }).errors, { start: '请填写入学时间' }, 'no cross message with a missing start');
  t.same(run({ start: '2019-09-01', end: '2019-13-01' }).errors, { end: '请填写正确的毕业时间（如 2020-09-01）' });
  // Real registry: 学习经历's end is "结束时间" after "开始时间".
  const study = sectionByKey('study')!;
  const r = validateRow(study, { school: '云南大学', major: '计算机', start: '2019-09-01', end: '2019-08-01', witness: '李娜', duty: '无' }, ctx);
  t.same(r.errors, { end: '结束时间不能早于开始时间' });
});

t.test('validateFields: values are returned even when invalid; all errors at once', async (t) => {
  const assess = sectionByKey('assessments')!;
  const r = validateRow(assess, { year: '2019', grade: '特优', leader: '' }, ctx);
  t.same(r.values, { year: '2019', grade: '特优', leader: null });
  t.same(r.errors, { year: '时间不能早于2021年', grade: '请选择考核等级', leader: '请填写部门负责人' });
  const ok = validateRow(assess, { year: '2025', grade: '优秀', leader: '李娜', extra: 'ignored' }, { ...ctx, dicts: { has: (d, v) => d === 'assessment_grade' && v === '优秀' } });
  t.same(ok, { values: { year: 2025, grade: '优秀', leader: '李娜' }, errors: {} }, 'unknown keys are dropped');
  // Required messages for the profile fields use 请选择 for choices, 请填写 otherwise.
  const empty = validateFields(PROFILE_FIELDS, {}, ctx).errors;
  for (const f of PROFILE_FIELDS.filter((x) => x.required)) {
    t.equal(empty[f.key], ['select', 'radio', 'tree'].includes(f.type) ? `请选择${f.label}` : `请填写${f.label}`, `profile ${f.key}`);
  }
});

t.test('display / printedDate', async (t) => {
  t.equal(display(null), '');
  t.equal(display(undefined), '');
  t.equal(display(0), '0');
  t.equal(display('至今'), '至今');
  const work = SECTIONS.find((s) => s.key === 'work')!.fields.find((f) => f.key === 'end')!;
  const ce = SECTIONS.find((s) => s.key === 'ce')!.fields.find((f) => f.key === 'end')!;
  const cases: [unknown, Parameters<typeof printedDate>[2], string][] = [
    [ONGOING, undefined, '至今'],
    [ONGOING, work, '至今'], // the current job (issue #19): 至今, not the printing day
    [ONGOING, SECTIONS.find((s) => s.key === 'projects')!.fields.find((f) => f.key === 'end')!, '至今'],
    [ONGOING, ce, '2026-06-15'], // seed 001 §3.12: ongoing continuing education ends today
    ['2020-01-01', work, '2020-01-01'],
    ['2020-01-01', ce, '2020-01-01'],
    [null, ce, ''],
  ];
  for (const [v, field, want] of cases) t.equal(printedDate(v, '2026-06-15', field), want, `${String(v)} → ${want}`);
});

t.test('completion', async (t) => {
  const none = completion(SECTIONS, {});
  t.equal(none.percent, 0);
  t.equal(none.items.length, 13);
  t.same(none.requiredMissing, ['学历情况', '学习经历', '工作经历', '专业技术工作总结', '年度考核情况']);

  const some = completion(SECTIONS, { educations: 1, study: 3, papers: 2, nonsense: 4 });
  t.equal(some.percent, Math.round((3 / 13) * 100), '3 of 13 sections have rows');
  t.same(some.requiredMissing, ['工作经历', '专业技术工作总结', '年度考核情况']);
  t.same(some.items.find((i) => i.key === 'study'), { key: 'study', title: '学习经历', required: true, rows: 3, complete: true });
  t.same(some.items.find((i) => i.key === 'titles'), { key: 'titles', title: '现有职称情况', required: false, rows: 0, complete: false });

  const all = completion(SECTIONS, Object.fromEntries(SECTION_KEYS.map((k) => [k, 1])));
  t.equal(all.percent, 100);
  t.same(all.requiredMissing, []);

  const zero = completion(SECTIONS, { study: 0 });
  t.equal(zero.items.find((i) => i.key === 'study')!.complete, false, '0 rows is not complete');

  // A plan may require other sections than the registry default.
  const plan = completion(SECTIONS, { study: 1 }, ['titles', 'study', 'papers']);
  t.same(plan.requiredMissing, ['现有职称情况', '撰写论文情况']);
  t.equal(plan.items.find((i) => i.key === 'educations')!.required, false, 'override replaces the defaults');
  t.same(completion(SECTIONS, {}, []).requiredMissing, [], 'empty override: nothing required');
  t.equal(completion(SECTIONS.slice(0, 3), { titles: 1 }).percent, 33, 'rounded');
});

t.test('moveInOrder', async (t) => {
  const ids = [10, 20, 30, 40];
  const cases: [number, 'up' | 'down', number[]][] = [
    [30, 'up', [10, 30, 20, 40]],
    [30, 'down', [10, 20, 40, 30]],
    [20, 'up', [20, 10, 30, 40]],
    [10, 'up', [10, 20, 30, 40]], // first stays first
    [40, 'down', [10, 20, 30, 40]], // last stays last
    [99, 'up', [10, 20, 30, 40]], // unknown: unchanged
  ];
  for (const [id, dir, want] of cases) t.same(moveInOrder(ids, id, dir), want, `${id} ${dir}`);
  t.same(ids, [10, 20, 30, 40], 'input not mutated');
  t.same(moveInOrder([], 1, 'up'), []);
  t.same(moveInOrder([5], 5, 'down'), [5]);
});

t.test('reorderSubset', async (t) => {
  const full = [1, 2, 3, 4, 5, 6];
  t.same(reorderSubset(full, [3, 1, 2]), [3, 1, 2, 4, 5, 6], 'first page dragged');
  t.same(reorderSubset(full, [6, 5, 4]), [1, 2, 3, 6, 5, 4], 'last page dragged');
  t.same(reorderSubset(full, [5, 3]), [1, 2, 5, 4, 3, 6], 'posted ids take the slots those ids held');
  t.same(reorderSubset(full, [1, 2, 3, 4, 5, 6]), full, 'unchanged');
  t.same(reorderSubset(full, []), full, 'nothing posted: unchanged');
  t.same(reorderSubset(full, [6, 5, 4, 3, 2, 1]), [6, 5, 4, 3, 2, 1], 'whole list');
  t.equal(reorderSubset(full, [1, 1, 2]), null, 'duplicates');
  t.equal(reorderSubset(full, [1, 7]), null, 'unknown id');
  t.equal(reorderSubset([], [1]), null, 'unknown id in an empty list');
  t.same(full, [1, 2, 3, 4, 5, 6], 'input not mutated');
});

t.test('registry: SECTIONS is consistent', async (t) => {
  t.same(SECTION_KEYS, 'titles educations study work summaries main-works projects ip awards books papers ce assessments'.split(' '), 'keys and order as in DESIGN.md');
  // Cross-check with DESIGN.md when the shared design document is present.
  const design = [path.resolve('DESIGN.md'), path.resolve('../shared/DESIGN.md')].find((p) => fs.existsSync(p));
  if (design) {
    const m = /with keys `([^`]+)`/.exec(fs.readFileSync(design, 'utf8'));
    if (m) t.same(SECTION_KEYS, m[1]!.trim().split(/\s+/), `keys match ${design}`);
  }
  t.equal(new Set(ALL_SECTIONS.map((s) => s.title)).size, ALL_SECTIONS.length, 'unique titles');
  t.equal(new Set(ALL_SECTIONS.map((s) => s.key)).size, ALL_SECTIONS.length, 'unique keys');
  const types = new Set(['text', 'textarea', 'date', 'year', 'int', 'number', 'select', 'radio', 'tree']);
  const series = new Set((JSON.parse(fs.readFileSync(path.resolve('fixtures/series.json'), 'utf8')).series as { code: string }[]).map((x) => x.code));
  for (const s of ALL_SECTIONS) {
    if (s.series) {
      t.ok(s.series.length > 0 && s.series.every((c) => series.has(c)), `${s.key}: series are 系列 codes`);
      t.ok(s.printAfter && SECTION_KEYS.includes(s.printAfter), `${s.key}: prints after a common table`);
    } else t.notOk(s.printAfter, `${s.key}: a common section has its fixed place`);
    if (s.sinceCurrentTitle) t.equal(s.fields.find((f) => f.key === s.sinceCurrentTitle)?.type, 'date', `${s.key}: 任现职以来 on a date`);
    const keys = s.fields.map((f) => f.key);
    t.equal(new Set(keys).size, keys.length, `${s.key}: unique field keys`);
    t.equal(new Set(s.fields.map((f) => f.label)).size, keys.length, `${s.key}: unique field labels`);
    t.ok(s.fields.length > 0 && s.columns.length > 0, `${s.key}: has fields and columns`);
    for (const f of s.fields) {
      t.ok(types.has(f.type), `${s.key}.${f.key}: known type`);
      t.match(f.key, /^[a-z][a-z_]*$/, `${s.key}.${f.key}: key is a plain identifier`);
      t.notOk(f.key.endsWith('_other') || f.key.endsWith('_ongoing') || f.key.endsWith('_q'), `${s.key}.${f.key}: no clash with the helper inputs`);
      if (f.after) {
        const other = s.fields.find((x) => x.key === f.after);
        t.ok(other, `${s.key}.${f.key}: after "${f.after}" is a field of the section`);
        t.equal(other?.type, 'date', `${s.key}.${f.key}: after a date`);
        t.equal(f.type, 'date', `${s.key}.${f.key}: only dates have after`);
      }
      if (f.type === 'select' || f.type === 'radio' || f.type === 'tree') t.ok(!!f.dict !== !!f.options?.length, `${s.key}.${f.key}: ${f.type} has a dict or its options`);
      if (f.options) t.not(f.type, 'tree', `${s.key}.${f.key}: a tree needs its dictionary`);
      if (f.type === 'tree') t.ok(f.dict === 'major' || f.dict === 'specialty', `${s.key}.${f.key}: tree dict is major or specialty`);
      if (f.type === 'text' || f.type === 'textarea') t.ok(f.max && f.max > 0, `${s.key}.${f.key}: text has a max`);
      if (f.allowOngoing) t.equal(f.type, 'date', `${s.key}.${f.key}: only dates can be 至今`);
      if (f.allowOther) t.equal(f.type, 'select', `${s.key}.${f.key}: allowOther on a select`);
      if (f.yearsBack !== undefined) t.equal(f.type, 'year', `${s.key}.${f.key}: yearsBack on a year`);
    }
    for (const c of s.columns) {
      t.ok(c.fields.length > 0, `${s.key} column ${c.label}: has fields`);
      for (const k of c.fields) t.ok(keys.includes(k), `${s.key} column ${c.label}: field ${k} exists`);
    }
    const slots = s.attachments.map((a) => a.key);
    t.equal(new Set(slots).size, slots.length, `${s.key}: unique attachment slots`);
    if (s.uniqueBy) t.ok(keys.includes(s.uniqueBy), `${s.key}: uniqueBy is a field`);
    t.same(sectionDicts(s), [...new Set(s.fields.filter((f) => f.dict).map((f) => f.dict))], `${s.key}: sectionDicts`);
    t.equal(sectionByKey(s.key), s);
  }
  t.equal(sectionByKey('nonsense'), undefined);
  t.same(SECTIONS.filter((s) => s.required).map((s) => s.key), ['educations', 'study', 'work', 'summaries', 'assessments'], 'the required sections');
  const pk = PROFILE_FIELDS.map((f) => f.key);
  t.equal(new Set(pk).size, pk.length, 'profile: unique field keys');
});

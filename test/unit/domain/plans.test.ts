import t from 'tap';
import {
  ANY_SERIES, DEFAULT_REQUIRED_SLOTS, addDays, checkPlanSeries, chinaDate, daysUntilClose, defaultRequiredSections, isDate, isDefaultSlots, isOpen, parseSlotText,
  planCategories, planLevels, planSeries, planSpecialties, requiredSections, requiredSlots, seriesValue, slotsToText, windowState,
  chinaClock, isTime, normalizeTime, provincialWindow, windowRefusal, windowText, type WindowState, type PlanWindow,
} from '../../../src/domain/plans.js';
import { SECTIONS } from '../../../src/domain/sections.js';

const plan = { opens_at: '2026-06-01', closes_at: '2026-06-30' };

t.test('isOpen: 00:00 CST of the open date through 24:00 CST of the close date', async (t) => {
  const cases: [string, boolean, string][] = [
    ['2026-05-31T15:59:59.999Z', false, 'one ms before 2026-06-01 00:00 CST'],
    ['2026-05-31T16:00:00.000Z', true, '2026-06-01 00:00 CST'],
    ['2026-06-15T02:00:00.000Z', true, 'mid window'],
    ['2026-06-30T15:59:00.000Z', true, 'close day 23:59 CST'],
    ['2026-06-30T15:59:59.999Z', true, 'close day 23:59:59.999 CST'],
    ['2026-06-30T16:00:00.000Z', false, 'the day after 00:00 CST (24:00 of the close date)'],
    ['2026-07-01T03:00:00.000Z', false, 'after close'],
  ];
  for (const [iso, open, why] of cases) t.equal(isOpen(plan, new Date(iso)), open, why);
  // A one-day window.
  const one = { opens_at: '2026-06-30', closes_at: '2026-06-30' };
  t.equal(isOpen(one, new Date('2026-06-29T16:00:00.000Z')), true);
  t.equal(isOpen(one, new Date('2026-06-30T16:00:00.000Z')), false);
  t.equal(windowState(plan, new Date('2026-05-31T15:59:59.999Z')), 'upcoming');
  t.equal(windowState(plan, new Date('2026-06-30T15:59:59.999Z')), 'open');
  t.equal(windowState(plan, new Date('2026-06-30T16:00:00.000Z')), 'closed');
});

t.test('daysUntilClose counts China calendar days', async (t) => {
  t.equal(daysUntilClose(plan, new Date('2026-06-30T15:59:59.999Z')), 0, 'close day, 23:59 CST');
  t.equal(daysUntilClose(plan, new Date('2026-06-29T16:00:00.000Z')), 0, 'close day, 00:00 CST');
  t.equal(daysUntilClose(plan, new Date('2026-06-29T15:59:59.999Z')), 1, 'day before, 23:59 CST');
  t.equal(daysUntilClose(plan, new Date('2026-06-23T02:00:00.000Z')), 7);
  t.equal(daysUntilClose(plan, new Date('2026-06-30T16:00:00.000Z')), -1, 'closed');
  t.equal(daysUntilClose({ closes_at: '2027-01-01' }, new Date('2026-12-30T16:00:00.000Z')), 1, 'across the year');
  t.equal(chinaDate(new Date('2026-06-30T16:00:00.000Z')), '2026-07-01');
  t.equal(addDays('2026-02-27', 2), '2026-03-01');
  t.equal(addDays('2028-02-28', 1), '2028-02-29');
});

t.test('isDate', async (t) => {
  for (const s of ['2026-06-30', '2028-02-29']) t.ok(isDate(s), s);
  for (const s of ['2026-02-29', '2026-13-01', '2026-6-30', '20260630', '', '2026-06-31']) t.notOk(isDate(s), s);
});

t.test('requiredSections: explicit list or the registry defaults', async (t) => {
  const defaults = SECTIONS.filter((s) => s.required).map((s) => s.key);
  t.same(requiredSections({ required_sections: null }), defaults);
  t.same(defaultRequiredSections(), defaults);
  t.same(requiredSections({ required_sections: '' }), [], 'an empty list means none required');
  t.same(requiredSections({ required_sections: 'papers, titles,unknown,titles' }), ['titles', 'papers'], 'registry order, unknown keys dropped');
});

t.test('requiredSlots: stored JSON or the seed 001 §4.3 defaults', async (t) => {
  t.same(requiredSlots({ required_slots: null }), DEFAULT_REQUIRED_SLOTS);
  t.same(DEFAULT_REQUIRED_SLOTS.map((s) => s.key), ['id_card', 'title_cert', 'edu_cert', 'labor', 'publicity', 'pledge']);
  t.same(DEFAULT_REQUIRED_SLOTS.filter((s) => !s.required).map((s) => s.key), ['title_cert'], '职称获取情况 has no * in the seed');
  t.same(requiredSlots({ required_slots: '[{"key":"s1","label":"业绩证明","required":false}]' }), [{ key: 's1', label: '业绩证明', required: false }]);
  t.same(requiredSlots({ required_slots: '[]' }), [], 'no attachments');
  t.same(requiredSlots({ required_slots: 'not json' }), DEFAULT_REQUIRED_SLOTS, 'unreadable → defaults');
  t.same(requiredSlots({ required_slots: '[{"label":"x"}]' }), DEFAULT_REQUIRED_SLOTS, 'malformed → defaults');
  // Callers may mutate what they get without touching the defaults.
  requiredSlots({ required_slots: null })[0]!.label = 'changed';
  t.equal(DEFAULT_REQUIRED_SLOTS[0]!.label, '身份证正反面');
});

t.test('categories, levels, specialties', async (t) => {
  t.same(planCategories({ categories: 'recognition,normal' }), [{ code: 'normal', name: '正常评审' }, { code: 'recognition', name: '考核认定' }]);
  t.same(planCategories({ categories: 'normal,exceptional,transfer,recognition' }).map((c) => c.name), ['正常评审', '破格', '转系列', '考核认定']);
  t.same(planCategories({ categories: '' }), []);
  t.same(planLevels({ levels: 'senior_full,senior_vice' }).map((l) => l.name), ['正高级', '副高级']);
  t.same(planSpecialties({ specialties: ' 临床医学 \n\n护理学\r\n临床医学' }), ['临床医学', '护理学']);
  t.same(planSpecialties({ specialties: null }), []);
});

t.test('slot text: round trip, stable keys, 选传, errors', async (t) => {
  const text = slotsToText(DEFAULT_REQUIRED_SLOTS);
  t.match(text, '职称证书图片和聘用证明|选传');
  const back = parseSlotText(text);
  t.equal(back.error, undefined);
  t.same(back.slots, DEFAULT_REQUIRED_SLOTS, 'the defaults parse back to themselves (keys and hints kept)');
  t.ok(isDefaultSlots(back.slots));

  const edited = parseSlotText('业绩证明材料\n身份证正反面|选传\n论文检索证明｜选传');
  t.same(edited.slots, [
    { key: 's1', label: '业绩证明材料', required: true },
    { key: 'id_card', label: '身份证正反面', required: false },
    { key: 's2', label: '论文检索证明', required: false },
  ]);
  t.notOk(isDefaultSlots(edited.slots));

  // Saved again with one slot removed and one added: kept labels keep their keys, the new
  // one gets a key never used by the plan before.
  const again = parseSlotText('论文检索证明|选传\n获奖证书', edited.slots);
  t.same(again.slots, [
    { key: 's2', label: '论文检索证明', required: false },
    { key: 's3', label: '获奖证书', required: true },
  ]);
  t.same(parseSlotText('  \n\n').slots, [], 'empty: no attachments');
  t.same(parseSlotText('业绩|必传').slots, [{ key: 's1', label: '业绩', required: true }]);

  t.match(parseSlotText('业绩|可选').error, '格式不正确');
  t.match(parseSlotText('业绩\n业绩|选传').error, '重复');
  t.match(parseSlotText('|选传').error, '不能为空');
  t.match(parseSlotText('长'.repeat(101)).error, '不能超过100个字');
  t.match(parseSlotText(Array.from({ length: 31 }, (_, i) => `附件${i}`).join('\n')).error, '最多30项');
});

t.test('planSeries / seriesValue: a plan offers its committee\'s series unless 不限 was chosen on purpose', async (t) => {
  const cases: [string, { series_code: string | null; any_series: number }, string | null, string | null, string][] = [
    ['own series', { series_code: 'S04', any_series: 0 }, 'S04', 'S04', 'S04'],
    ['series empty, flag off (old default): the committee\'s', { series_code: null, any_series: 0 }, 'S04', 'S04', 'S04'],
    ['不限 on purpose', { series_code: null, any_series: 1 }, 'S04', null, ANY_SERIES],
    ['committee without a series, nothing chosen', { series_code: null, any_series: 0 }, null, null, ''],
    ['a series beats the flag', { series_code: 'S05', any_series: 1 }, 'S04', 'S05', 'S05'],
  ];
  for (const [name, plan, committee, series, value] of cases) {
    t.equal(planSeries(plan, committee), series, `planSeries: ${name}`);
    t.equal(seriesValue(plan, committee), value, `seriesValue: ${name}`);
  }
});

t.test('checkPlanSeries: nothing chosen is an error, 不限 is explicit, only the committee\'s series', async (t) => {
  const series = [{ code: 'S01', name: '高等学校教师' }, { code: 'S04', name: '卫生技术人员' }];
  const cases: [string, string, string | null, ReturnType<typeof checkPlanSeries>][] = [
    ['the committee\'s series', 'S04', 'S04', { ok: true, series_code: 'S04', any_series: 0 }],
    ['不限', ANY_SERIES, 'S04', { ok: true, series_code: null, any_series: 1 }],
    ['nothing chosen', '', 'S04', { ok: false, error: '请选择系列；申报人可申报所有系列职称的，请选择“不限（所有系列）”' }],
    ['unknown code', 'NOPE', 'S04', { ok: false, error: '请选择系列' }],
    ['another series', 'S01', 'S04', { ok: false, error: '该评委会评审“卫生技术人员”系列职称，请选择“卫生技术人员”；确需受理所有系列的，请选择“不限（所有系列）”' }],
    ['committee without a series: any known series', 'S01', null, { ok: true, series_code: 'S01', any_series: 0 }],
    ['committee without a series: still must choose', '', null, { ok: false, error: '请选择系列；申报人可申报所有系列职称的，请选择“不限（所有系列）”' }],
  ];
  for (const [name, chosen, committee, want] of cases) t.same(checkPlanSeries(chosen, committee, series), want, name);
});

t.test('timed windows: minute-exact in China time, null times keep 00:00–24:00', async (t) => {
  // 2023年11月1日08:00至11月3日17:00 (seed 003 §1): CST = UTC+8.
  const timed = { opens_at: '2023-11-01', opens_time: '08:00', closes_at: '2023-11-03', closes_time: '17:00' };
  const cases: [PlanWindow, string, WindowState, string][] = [
    [timed, '2023-11-01T00:00:00.000Z', 'open', 'opening day 08:00 CST'],
    [timed, '2023-10-31T23:59:59.999Z', 'upcoming', 'opening day 07:59:59.999 CST'],
    [timed, '2023-11-03T08:59:59.999Z', 'open', 'closing day 16:59:59 CST'],
    [timed, '2023-11-03T09:00:00.000Z', 'open', 'closing day 17:00:00 CST'],
    [timed, '2023-11-03T09:00:59.999Z', 'open', 'closing day 17:00:59.999 CST (the closing minute counts)'],
    [timed, '2023-11-03T09:01:00.000Z', 'closed', 'closing day 17:01 CST'],
    [timed, '2023-11-02T15:30:00.000Z', 'open', 'the middle night, 23:30 CST'],
    [plan, '2026-06-30T15:59:59.999Z', 'open', 'date-only plan: 23:59:59.999 of the close date'],
    [plan, '2026-06-30T16:00:00.000Z', 'closed', 'date-only plan: 24:00'],
    [{ ...plan, opens_time: null, closes_time: null }, '2026-05-31T16:00:00.000Z', 'open', 'null times = 00:00'],
    [{ ...plan, closes_time: '24:00' }, '2026-06-30T15:59:59.999Z', 'open', "'24:00' stored literally"],
  ];
  for (const [p, iso, state, why] of cases) t.equal(windowState(p, new Date(iso)), state, why);
  t.same(chinaClock(new Date('2023-11-03T09:01:00.000Z')), { date: '2023-11-03', time: '17:01' });
});

t.test('windowText and windowRefusal name the times in the notices\' words', async (t) => {
  const timed = { opens_at: '2023-11-01', opens_time: '08:00', closes_at: '2023-11-03', closes_time: '17:00' };
  t.equal(windowText(timed), '2023年11月1日08:00至11月3日17:00');
  t.equal(windowText(plan), '2026年6月1日00:00至6月30日24:00');
  t.equal(windowText({ opens_at: '2026-12-20', closes_at: '2027-01-05' }), '2026年12月20日00:00至2027年1月5日24:00', 'the year repeats across new year');
  t.equal(windowRefusal(timed, new Date('2023-11-03T09:00:59.000Z')), null);
  t.equal(windowRefusal(timed, new Date('2023-11-03T09:01:00.000Z')), '申报通道已于2023年11月3日17:00关闭，不能提交申报');
  t.equal(windowRefusal(timed, new Date('2023-10-31T12:00:00.000Z')), '申报通道将于2023年11月1日08:00开通，尚不能提交申报');
});

t.test('normalizeTime / isTime', async (t) => {
  const cases: [string, boolean, string | null][] = [
    ['08:00', false, '08:00'], ['8:00', false, '08:00'], ['17：00', false, '17:00'], [' 23:59 ', false, '23:59'],
    ['24:00', false, null], ['24:00', true, '24:00'], ['24:01', true, null], ['25:00', true, null], ['12:60', false, null],
    ['1700', false, null], ['', true, null], ['ab:cd', false, null],
  ];
  for (const [s, midnight, want] of cases) t.equal(normalizeTime(s, midnight), want, `${JSON.stringify(s)} ${midnight}`);
  t.ok(isTime('00:00'));
  t.notOk(isTime('24:00'));
  t.ok(isTime('24:00', true));
});

t.test('provincialWindow: 收审材料 前7天开通；统一报送 前3日24:00、否则前一日24:00关闭 (seed 002)', async (t) => {
  const cases: [{ materialsFrom: string; materialsUntil?: string | null; central: boolean }, string, string, string][] = [
    [{ materialsFrom: '2026-09-10', central: true }, '2026-09-03', '2026-09-07', 'one day of receiving, 统一报送'],
    [{ materialsFrom: '2026-09-10', central: false }, '2026-09-03', '2026-09-09', 'one day of receiving, 个人报送'],
    [{ materialsFrom: '2026-09-10', materialsUntil: '2026-09-20', central: true }, '2026-09-03', '2026-09-17', 'closes from the 截止 date'],
    [{ materialsFrom: '2026-09-10', materialsUntil: '2026-09-20', central: false }, '2026-09-03', '2026-09-19', ''],
    [{ materialsFrom: '2026-03-03', materialsUntil: '', central: false }, '2026-02-24', '2026-03-02', 'across February'],
    [{ materialsFrom: '2027-01-05', central: true }, '2026-12-29', '2027-01-02', 'across the new year'],
  ];
  for (const [input, opens, closes, why] of cases) {
    t.same(provincialWindow(input), { opens_at: opens, opens_time: '00:00', closes_at: closes, closes_time: '24:00' }, why || `${opens}–${closes}`);
  }
  // The computed window is open through 24:00 of its closing day.
  const w = provincialWindow({ materialsFrom: '2026-09-10', central: true });
  t.equal(windowState(w, new Date('2026-09-07T15:59:59.000Z')), 'open');
  t.equal(windowState(w, new Date('2026-09-07T16:00:00.000Z')), 'closed');
});

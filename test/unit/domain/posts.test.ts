import t from 'tap';
import { appointedNow, checkAppointment, checkQuotas, isCurrent, postTable, vacancyDecision } from '../../../src/domain/posts.js';

const TODAY = '2026-06-01';

t.test('current appointments and the table of a unit', async (t) => {
  const cases: [string, string | null, boolean][] = [
    ['2020-01-01', null, true],
    ['2026-06-01', null, true], // starts today
    ['2026-06-02', null, false], // not yet
    ['2020-01-01', '2026-06-01', true], // ends today: still on the post
    ['2020-01-01', '2026-05-31', false],
  ];
  for (const [start, end, want] of cases) t.equal(isCurrent({ start_date: start, end_date: end }, TODAY), want, `${start}–${end}`);
  const n = appointedNow([
    { level: 'senior_vice', start_date: '2020-01-01', end_date: null },
    { level: 'senior_vice', start_date: '2021-01-01', end_date: null },
    { level: 'senior_vice', start_date: '2019-01-01', end_date: '2025-12-31' },
    { level: 'intermediate', start_date: '2027-01-01', end_date: null },
  ], TODAY);
  t.same(n, { senior_vice: 2 });
  const rows = postTable({ senior_full: 1, senior_vice: 2, intermediate: 5 }, { senior_vice: 2, intermediate: 7 });
  t.same(rows.map((r) => [r.level, r.quota, r.appointed, r.vacant, r.over]), [
    ['senior_full', 1, 0, 1, 0],
    ['senior_vice', 2, 2, 0, 0],
    ['intermediate', 5, 7, 0, 2],
    ['assistant', null, 0, 0, 0],
    ['junior', null, 0, 0, 0],
  ]);
});

t.test('岗位数: numbers, never below the people appointed now', async (t) => {
  const appointed = { senior_vice: 3 };
  const cases: [Record<string, string>, Record<string, RegExp> | null][] = [
    [{ quota_senior_vice: '3' }, null],
    [{ quota_senior_vice: '5', quota_intermediate: '0' }, null],
    [{ quota_senior_vice: '2' }, { quota_senior_vice: /不能少于现聘人数（现聘3人）/ }],
    [{ quota_senior_vice: '' }, { quota_senior_vice: /现聘3人，岗位数不能为空/ }],
    [{ quota_senior_vice: '3', quota_junior: '-1' }, { quota_junior: /整数/ }],
    [{ quota_senior_vice: '3', quota_junior: '1.5' }, { quota_junior: /整数/ }],
    [{ quota_senior_vice: '3', quota_junior: '9999999' }, { quota_junior: /整数/ }],
  ];
  for (const [input, want] of cases) {
    const r = checkQuotas(input, appointed);
    if (!want) {
      t.same(r.errors, {}, JSON.stringify(input));
      t.equal(r.quotas!.senior_vice, Number(input.quota_senior_vice));
      t.equal(r.quotas!.senior_full, null, 'empty = not set');
    } else {
      t.equal(r.quotas, null, JSON.stringify(input));
      for (const [k, re] of Object.entries(want)) t.match(r.errors[k], re, `${JSON.stringify(input)} ${k}`);
      t.equal(r.values.quota_senior_vice, input.quota_senior_vice ?? '', 'typed value kept');
    }
  }
});

t.test('核验: no vacant post at the declared level warns or blocks, as the plan says', async (t) => {
  const none = postTable({}, {});
  const full = postTable({ senior_vice: 2, intermediate: 4 }, { senior_vice: 2, intermediate: 1 });
  const cases: [string | null, typeof none, 'warn' | 'block', 'ok' | 'warn' | 'block', RegExp?][] = [
    ['intermediate', full, 'block', 'ok'],
    ['intermediate', full, 'warn', 'ok'],
    ['senior_vice', full, 'warn', 'warn', /副高级专业技术岗位已满（岗位数2，现聘2人）/],
    ['senior_vice', full, 'block', 'block', /副高级专业技术岗位已满.*不能核验通过/],
    ['senior_full', full, 'block', 'block', /未设置正高级专业技术岗位/],
    ['senior_full', none, 'warn', 'warn', /尚未完成岗位设置/],
    ['senior_full', none, 'block', 'block', /尚未完成岗位设置/],
    [null, none, 'block', 'ok'], // no level on the cover: nothing to judge
    ['unknown', full, 'block', 'ok'],
  ];
  for (const [level, posts, mode, want, re] of cases) {
    const d = vacancyDecision(level, posts, mode);
    const got = !d.ok ? 'block' : d.warning ? 'warn' : 'ok';
    t.equal(got, want, `${level} ${mode}`);
    if (re) t.match(d.ok ? d.warning : d.error, re);
  }
});

t.test('a new 聘任: dates, one post at a time, a vacant post', async (t) => {
  const posts = postTable({ senior_vice: 1, intermediate: 2 }, { senior_vice: 1 });
  const v = (o: Partial<{ level: string; start_date: string; end_date: string }>) => ({ level: 'intermediate', start_date: '2024-01-01', end_date: '', ...o });
  const cases: [ReturnType<typeof v>, { level: string } | null, Record<string, RegExp>][] = [
    [v({}), null, {}],
    [v({ level: '' }), null, { level: /请选择/ }],
    [v({ start_date: '' }), null, { start_date: /请填写聘任开始时间/ }],
    [v({ start_date: '2024/01/01' }), null, { start_date: /格式/ }],
    [v({ end_date: '2023-12-31' }), null, { end_date: /不能早于开始时间/ }],
    [v({ level: 'senior_vice' }), null, { level: /副高级岗位已满/ }],
    [v({ level: 'junior' }), null, { level: /未设置员级岗位数/ }],
    [v({}), { level: 'senior_vice' }, { person: /现聘于副高级岗位/ }],
    // A past appointment (history) needs no vacancy today.
    [v({ level: 'senior_vice', start_date: '2010-01-01', end_date: '2015-12-31' }), { level: 'senior_vice' }, {}],
  ];
  for (const [input, current, want] of cases) {
    const e = checkAppointment(input, posts, TODAY, current);
    t.same(Object.keys(e).sort(), Object.keys(want).sort(), JSON.stringify(input));
    for (const [k, re] of Object.entries(want)) t.match(e[k], re);
  }
});

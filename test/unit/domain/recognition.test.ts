import t from 'tap';
import {
  addMonths, basisOf, filingError, levelError, parseWindowMonths, proposeLevel, recKindOf, recognitionDecider, recognitionLocked, windowError, windowState,
  type EducationFacts, type RecLevel,
} from '../../../src/domain/recognition.js';
import type { RouteHrb, RouteUnit } from '../../../src/domain/route.js';

const facts = (education: string | null, o: Partial<EducationFacts> = {}): EducationFacts => ({ education, degree: null, doubleBachelor: false, postdoc: false, hiredOn: '2025-07-01', ...o });

t.test('addMonths clamps to the month end', async (t) => {
  const cases: [string, number, string][] = [
    ['2025-07-01', 12, '2026-07-01'], ['2024-02-29', 12, '2025-02-28'], ['2025-08-31', 6, '2026-02-28'], ['2025-12-15', 1, '2026-01-15'],
  ];
  for (const [d, n, want] of cases) t.equal(addMonths(d, n), want, `${d} + ${n}`);
});

t.test('education → level (002 Q12(2), Q9), counted from 认定时间', async (t) => {
  const cases: { name: string; f: EducationFacts; today: string; proposed: RecLevel | null; basis: string }[] = [
    { name: '中专, 见习 not over', f: facts('中等专科'), today: '2026-04-10', proposed: null, basis: 'secondary' },
    { name: '中专 after 1 year → 员级', f: facts('中等专科'), today: '2026-07-01', proposed: 'junior', basis: 'secondary' },
    { name: '大专 after 1 year → 员级', f: facts('大学专科'), today: '2026-10-01', proposed: 'junior', basis: 'college' },
    { name: '本科 at once → 员级', f: facts('大学本科'), today: '2025-07-01', proposed: 'junior', basis: 'bachelor' },
    { name: '本科 after 1 year → 助理级', f: facts('大学本科'), today: '2026-07-01', proposed: 'assistant', basis: 'bachelor' },
    { name: '学士 degree alone counts as 本科', f: facts('其他', { degree: '学士' }), today: '2026-07-01', proposed: 'assistant', basis: 'bachelor' },
    { name: '双学士 → 助理级 at once', f: facts('大学本科', { doubleBachelor: true }), today: '2025-07-02', proposed: 'assistant', basis: 'double_bachelor' },
    { name: '硕士 → 助理级', f: facts('硕士研究生', { degree: '硕士' }), today: '2025-07-02', proposed: 'assistant', basis: 'master' },
    { name: '博士 → 中级', f: facts('博士研究生', { degree: '博士' }), today: '2025-07-02', proposed: 'intermediate', basis: 'doctor' },
    { name: '博士后出站 → 副高', f: facts('博士研究生', { postdoc: true }), today: '2025-07-02', proposed: 'senior_vice', basis: 'postdoc' },
    { name: '高中: nothing', f: facts('高中'), today: '2030-01-01', proposed: null, basis: 'none' },
    { name: '本科 without 认定时间: 员级 only', f: facts('大学本科', { hiredOn: null }), today: '2030-01-01', proposed: 'junior', basis: 'bachelor' },
  ];
  for (const c of cases) {
    const p = proposeLevel(c.f, c.today);
    t.equal(basisOf(c.f), c.basis, `${c.name}: basis`);
    t.equal(p.proposed, c.proposed, `${c.name}: proposed`);
    t.ok(p.lines.length >= 4, `${c.name}: explained line by line`);
  }
  t.match(proposeLevel(facts('大学本科'), '2026-07-01').lines.join('\n'), /见习1年期满后可考核认定助理级职称：2026-07-01已满1年/);
});

t.test('初定 when the education gives the level at once, 认定 after the 见习 year (seed 004: 初定初级, 初定中级, 认定初级)', async (t) => {
  const cases: [string, EducationFacts, RecLevel, '初定' | '认定'][] = [
    ['本科 员级 at once', facts('大学本科'), 'junior', '初定'],
    ['本科 助理级 after 见习', facts('大学本科'), 'assistant', '认定'],
    ['中专 员级 after 见习', facts('中等专科'), 'junior', '认定'],
    ['大专 员级 after 见习', facts('大学专科'), 'junior', '认定'],
    ['硕士 助理级', facts('硕士研究生', { degree: '硕士' }), 'assistant', '初定'],
    ['双学士 助理级', facts('大学本科', { doubleBachelor: true }), 'assistant', '初定'],
    ['博士 中级', facts('博士研究生', { degree: '博士' }), 'intermediate', '初定'],
    ['博士后 副高', facts('博士研究生', { postdoc: true }), 'senior_vice', '认定'],
  ];
  for (const [name, f, level, want] of cases) t.equal(recKindOf(level, f), want, name);
});

t.test('levelError: a level the education does not support, or not yet', async (t) => {
  const cases: [string, EducationFacts, RecLevel, string, RegExp | null][] = [
    ['本科 asks 助理级 after a year', facts('大学本科'), 'assistant', '2026-07-01', null],
    ['本科 asks 助理级 too early', facts('大学本科'), 'assistant', '2026-06-30', /见习1年期满后方可认定助理级职称（2026-07-01期满）/],
    ['本科 asks 中级', facts('大学本科'), 'intermediate', '2030-01-01', /学历（学位）不支持认定中级职称：本科学历或学士学位只能认定员级、助理级职称/],
    ['大专 asks 助理级', facts('大学专科'), 'assistant', '2030-01-01', /不支持认定助理级/],
    ['高中 asks 员级', facts('高中'), 'junior', '2030-01-01', /无规定学历不能认定职称/],
    ['博士 asks 中级', facts('博士研究生'), 'intermediate', '2025-07-01', null],
  ];
  for (const [name, f, level, today, want] of cases) {
    const e = levelError(f, level, today);
    if (want) t.match(e, want, name);
    else t.equal(e, null, name);
  }
});

const unit = (o: Partial<RouteUnit> = {}): RouteUnit => ({
  id: 10, kind: 'unit', name: '昆明云岭科技有限公司', nature: '非公经济组织', public: false, unitLevel: 'county', regionCode: '530102', regionLevel: 'county', supervisor: null, ...o,
});
const hrbs: RouteHrb[] = [
  { id: 1, name: '昆明市人力资源和社会保障局', level: 'city', regionCode: '530100' },
  { id: 2, name: '五华区人力资源和社会保障局', level: 'county', regionCode: '530102' },
];
const parent = (c: string) => (c.startsWith('5301') && c !== '530100' ? '530100' : null);

t.test('who decides (002 Q12(1))', async (t) => {
  const sup = { id: 5, name: '昆明市卫生健康委员会', status: 'approved' as const };
  const cases: [string, RecLevel, RouteUnit, string | number][] = [
    ['non-public 初级 → county HRB', 'assistant', unit(), 2],
    ['county-owned 初级 → county HRB', 'junior', unit({ nature: '事业单位', public: true, unitLevel: 'county', supervisor: sup }), 2],
    ['city-owned 初级 → city department', 'assistant', unit({ nature: '事业单位', public: true, unitLevel: 'city', supervisor: sup }), 5],
    ['中级 → city HRB', 'intermediate', unit(), 1],
    ['副高 → city HRB', 'senior_vice', unit(), 1],
    ['agency 初级 → county HRB', 'junior', unit({ kind: 'agency', nature: null, unitLevel: null }), 2],
    ['missing nature', 'junior', unit({ nature: null }), '单位信息不完整'],
    ['city-owned without supervisor', 'junior', unit({ nature: '事业单位', public: true, unitLevel: 'city' }), '主管单位审核未通过'],
    ['city-owned, supervisor pending', 'junior', unit({ nature: '事业单位', public: true, unitLevel: 'city', supervisor: { ...sup, status: 'pending' } }), '主管单位审核未通过'],
    ['region only to the city', 'junior', unit({ regionCode: '530100', regionLevel: 'city' }), '查找人社局失败'],
    ['no county HRB there', 'junior', unit({ regionCode: '530103' }), '查找人社局失败'],
    ['中级 with the city region', 'intermediate', unit({ regionCode: '530100', regionLevel: 'city' }), 1],
  ];
  for (const [name, level, u, want] of cases) {
    const r = recognitionDecider(level, u, hrbs, parent);
    if (typeof want === 'number') t.same(r.ok && r.decider.orgId, want, name);
    else {
      t.equal(!r.ok && r.error, want, name);
      t.ok(!r.ok && r.detail.length > 10, `${name}: explained`);
    }
  }
});

t.test('windows: January, April, July, October by default; the next one when closed', async (t) => {
  t.same(parseWindowMonths(null), [1, 4, 7, 10]);
  t.same(parseWindowMonths('3, 9'), [3, 9]);
  t.same(parseWindowMonths('6，2、6'), [2, 6]);
  t.equal(parseWindowMonths('13'), null);
  t.equal(parseWindowMonths('一月'), null);
  const cases: [number[], string, boolean, string, string][] = [
    [[1, 4, 7, 10], '2026-04-15', true, '2026-04-01', '2026-04-30'],
    [[1, 4, 7, 10], '2026-05-01', false, '2026-07-01', '2026-07-31'],
    [[1, 4, 7, 10], '2026-11-30', false, '2027-01-01', '2027-01-31'],
    [[1, 4, 7, 10], '2026-10-31', true, '2026-10-01', '2026-10-31'],
    [[2], '2028-03-01', false, '2029-02-01', '2029-02-28'],
  ];
  for (const [m, today, open, start, end] of cases) {
    const w = windowState(m, today);
    t.same([w.open, w.start, w.end], [open, start, end], `${m} on ${today}`);
  }
  t.match(windowError(windowState([1, 4, 7, 10], '2026-05-01'), [1, 4, 7, 10], '五华区人社局'), /下一次申报时间为2026-07-01至2026-07-31/);
  t.equal(windowError(windowState([1, 4, 7, 10], '2026-04-01'), [1, 4, 7, 10], 'x'), null);
});

t.test('学信网 备案表 valid 6 months', async (t) => {
  const cases: [string | null, string, RegExp | null][] = [
    ['2026-01-15', '2026-04-15', null],
    ['2025-10-15', '2026-04-15', null],
    ['2025-10-14', '2026-04-15', /已超过6个月在线验证有效期（出具日期2025-10-14，有效期至2026-04-14）/],
    [null, '2026-04-15', /请填写/],
    ['2026-13-01', '2026-04-15', /格式不正确/],
    ['2026-04-16', '2026-04-15', /不能晚于今天/],
  ];
  for (const [d, today, want] of cases) {
    const e = filingError(d, today);
    if (want) t.match(e, want, String(d));
    else t.equal(e, null, String(d));
  }
});

t.test('who may change a recognition at which status', async (t) => {
  const cases: [string, 'applicant' | 'unit', RegExp | null][] = [
    ['draft', 'applicant', null],
    ['draft', 'unit', null],
    ['returned', 'applicant', null],
    ['returned', 'unit', null],
    ['unit', 'applicant', /材料已交单位审核，不能修改/],
    ['unit', 'unit', null],
    ['office', 'applicant', /已上报的材料不能修改/],
    ['office', 'unit', /已上报的材料不能修改/],
    ['approved', 'unit', /已上报的材料不能修改/],
    ['refused', 'applicant', /已上报的材料不能修改/],
  ];
  for (const [status, by, want] of cases) {
    const why = recognitionLocked(status, by);
    if (want) t.match(why, want, `${status} / ${by}`);
    else t.equal(why, null, `${status} / ${by}`);
  }
});

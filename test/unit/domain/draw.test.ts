import t from 'tap';
import { draw, exclusion, prng, type Expert } from '../../../src/domain/draw.js';

const ex = (id: number, unit: string, specialty: string, o: Partial<Expert> = {}): Expert => ({ id, name: `专家${id}`, unit, specialty, available: true, integrityOk: true, conflicts: [], ...o });

t.test('prng: the same seed gives the same numbers, another seed others', async (t) => {
  const a = prng('2026-评审-1');
  const b = prng('2026-评审-1');
  const c = prng('2026-评审-2');
  const xs = [a(), a(), a()];
  t.same([b(), b(), b()], xs);
  t.not(c(), xs[0]);
  for (const x of xs) t.ok(x >= 0 && x < 1);
});

t.test('exclusion: the rules, each with its reason', async (t) => {
  const g = { specialties: '内科' };
  const o = { applicantUnits: new Set(['昆明市第一人民医院']), declarations: new Set([7]) };
  const cases: [Expert, string | null][] = [
    [ex(1, '云南省人民医院', '心血管内科'), null],
    [ex(2, '云南省人民医院', '普通外科'), '专业不符'],
    [ex(3, '云南省人民医院', '内科', { available: false }), '不可参加'],
    [ex(4, '云南省人民医院', '内科', { integrityOk: false }), '有专家诚信记录'],
    [ex(5, '昆明市第一人民医院', '内科'), '回避：与申报人同单位'],
    [ex(6, '云南省人民医院', '内科', { conflicts: [7] }), '回避：本人申明回避'],
    [ex(7, '云南省人民医院', '内科', { conflicts: [8] }), null],
  ];
  for (const [e, want] of cases) t.equal(exclusion(e, g, o), want, e.name);
});

const pool: Expert[] = [
  ex(1, 'A院', '心血管内科'), ex(2, 'A院', '呼吸内科'), ex(3, 'B院', '消化内科'), ex(4, 'C院', '内科'), ex(5, 'D院', '内科'),
  ex(6, 'E院', '普通外科'), ex(7, 'F院', '骨科'), ex(8, 'G院', '外科'), ex(9, 'H院', '外科', { integrityOk: false }), ex(10, '申报单位', '外科'),
  ex(11, 'I院', '内科', { conflicts: [100] }),
];
const groups = [
  { groupId: 1, name: '内科组', specialties: '内科', count: 3 },
  { groupId: 2, name: '外科组', specialties: '外科,骨科', count: 3 },
];
const base = { pool, groups, applicantUnits: ['申报单位'], declarations: [100, 101] };

t.test('draw: numbers per group, one per unit, 回避, deterministic', async (t) => {
  for (const seed of ['s1', 's2', 's3', 'a long seed 2026-12-20 第1次']) {
    const r = draw({ ...base, seed });
    t.same(draw({ ...base, seed, pool: [...pool].reverse() }), r, `${seed}: the same draw whatever the pool order`);
    t.same(r.shortfalls, []);
    const inner = r.picks.filter((p) => p.groupId === 1).map((p) => p.expertId);
    const outer = r.picks.filter((p) => p.groupId === 2).map((p) => p.expertId);
    t.equal(inner.length, 3);
    t.equal(outer.length, 3);
    t.ok(inner.every((id) => [1, 2, 3, 4, 5].includes(id)), `${seed}: 内科 from 内科 experts (not 11: conflict)`);
    t.same(outer.sort(), [6, 7, 8], `${seed}: 外科 without the integrity record and the applicant's unit`);
    const units = r.picks.map((p) => pool.find((e) => e.id === p.expertId)!.unit);
    t.equal(new Set(units).size, units.length, `${seed}: at most one per unit`);
  }
  const seen = new Set(['s1', 's2', 's3', 's4', 's5', 's6'].map((seed) => JSON.stringify(draw({ ...base, seed }).picks)));
  t.ok(seen.size > 1, 'different seeds draw differently');
});

t.test('draw: shortfall reported; a declined expert replaced by a fresh draw', async (t) => {
  const r = draw({ ...base, seed: 'x', groups: [{ groupId: 2, name: '外科组', specialties: '外科,骨科', count: 4 }] });
  t.same(r.shortfalls, ['外科组需抽取4人，符合条件的专家仅3人']);

  const first = draw({ ...base, seed: 'meeting-9' });
  const declined = first.picks.find((p) => p.groupId === 1)!;
  const taken = first.picks.map((p) => ({ expertId: p.expertId, unit: pool.find((e) => e.id === p.expertId)!.unit, declined: p.expertId === declined.expertId }));
  const again = draw({ ...base, seed: 'meeting-9#1', groups: [{ ...groups[0]!, count: 1 }], taken });
  t.equal(again.picks.length, 1);
  const fresh = again.picks[0]!.expertId;
  t.not(fresh, declined.expertId, 'never the declined expert again');
  t.notOk(first.picks.some((p) => p.expertId === fresh), 'nor one already drawn');
  const keptUnits = taken.filter((x) => !x.declined).map((x) => x.unit);
  t.notOk(keptUnits.includes(pool.find((e) => e.id === fresh)!.unit), 'one per unit still holds');
  t.same(draw({ ...base, seed: 'meeting-9#1', groups: [{ ...groups[0]!, count: 1 }], taken }), again, 're-checkable');
});

import t from 'tap';
import {
  computeRoute,
  routeLabel,
  STAGE_LABELS,
  type RouteCommittee,
  type RouteHrb,
  type RouteResult,
  type RouteStageKind,
  type RouteUnit,
} from '../../../src/domain/route.js';

// Kunming data: 五华区 530102 and 西山区 530112 under 昆明市 530100 under 云南省 530000.
const PARENT: Record<string, string | null> = {
  '530000': null,
  '530100': '530000',
  '530102': '530100',
  '530112': '530100',
  '530181': '530100',
  '532301': '532300', // 楚雄市 → 楚雄州 (no city HRB in this list)
  '532300': '530000',
};
const parentRegion = (code: string) => PARENT[code] ?? null;

const HRBS: RouteHrb[] = [
  { id: 301, name: '五华区人力资源和社会保障局', level: 'county', regionCode: '530102' },
  { id: 302, name: '西山区人力资源和社会保障局', level: 'county', regionCode: '530112', appliesTo: 'public' },
  { id: 303, name: '西山区人力资源和社会保障局(非公)', level: 'county', regionCode: '530112', appliesTo: 'non_public' },
  { id: 304, name: '昆明市人力资源和社会保障局', level: 'city', regionCode: '530100' },
  { id: 305, name: '云南省人力资源和社会保障厅', level: 'province', regionCode: '530000' },
  { id: 306, name: '楚雄市人力资源和社会保障局', level: 'county', regionCode: '532301' },
];

const CITY_COMMITTEE: RouteCommittee = { id: 401, name: '昆明市卫生技术高级职称评审委员会', tier: 'city' };
const PROVINCE_COMMITTEE: RouteCommittee = { id: 402, name: '云南省卫生技术高级职称评审委员会', tier: 'province' };

const HOSPITAL: RouteUnit = {
  id: 101,
  kind: 'unit',
  name: '昆明市第一人民医院',
  nature: '事业单位',
  public: true,
  unitLevel: 'city',
  regionCode: '530102',
  regionLevel: 'county',
  supervisor: { id: 201, name: '昆明市卫生健康委员会', status: 'approved' },
};

const unit = (over: Partial<RouteUnit> = {}): RouteUnit => ({ ...HOSPITAL, ...over });

function stagesOf(r: RouteResult) {
  if (!r.ok) throw new Error(`expected a route, got ${r.error}: ${r.detail}`);
  return r.stages;
}

t.test('the worked examples', async (t) => {
  const r = stagesOf(computeRoute(HOSPITAL, CITY_COMMITTEE, HRBS, parentRegion));
  t.equal(routeLabel(r), '昆明市第一人民医院 → 昆明市卫生健康委员会 → 昆明市卫生技术高级职称评审委员会');
  t.same(r, [
    { kind: 'unit', orgId: 101, name: '昆明市第一人民医院', label: '单位审核' },
    { kind: 'supervisor', orgId: 201, name: '昆明市卫生健康委员会', label: '主管部门审核' },
    { kind: 'committee', orgId: 401, name: '昆明市卫生技术高级职称评审委员会', label: '评委会电子材料审核' },
  ]);

  const county = unit({ id: 102, name: '五华区人民医院', unitLevel: 'county', supervisor: { id: 202, name: '五华区卫生健康局', status: 'approved' } });
  t.equal(
    routeLabel(stagesOf(computeRoute(county, PROVINCE_COMMITTEE, HRBS, parentRegion))),
    '五华区人民医院 → 五华区卫生健康局 → 五华区人力资源和社会保障局 → 昆明市人力资源和社会保障局 → 云南省卫生技术高级职称评审委员会',
  );
  t.same(
    stagesOf(computeRoute(county, PROVINCE_COMMITTEE, HRBS, parentRegion)).map((s) => s.label),
    ['单位审核', '主管部门审核', '县(市)区人社局审核', '市人社局审核', '评委会电子材料审核'],
  );

  const company = unit({ id: 103, name: '云南云数科技有限公司', nature: '非公经济组织', public: false, unitLevel: 'county', supervisor: null });
  t.equal(
    routeLabel(stagesOf(computeRoute(company, CITY_COMMITTEE, HRBS, parentRegion))),
    '云南云数科技有限公司 → 五华区人力资源和社会保障局 → 昆明市卫生技术高级职称评审委员会',
  );
});

// Expected stage kinds, written independently of the implementation.
function expectedKinds(isPublic: boolean, level: string, tier: 'city' | 'province'): RouteStageKind[] {
  const head: RouteStageKind[] = isPublic
    ? level === 'county'
      ? ['unit', 'supervisor', 'hrb_county']
      : ['unit', 'supervisor']
    : ['unit', 'hrb_county'];
  return [...head, ...(tier === 'province' ? (['hrb_city'] as RouteStageKind[]) : []), 'committee'];
}

t.test('every unit nature × unit level × committee tier', async (t) => {
  const natures: [string, boolean | null][] = [
    ['机关', true],
    ['事业单位', true],
    ['国有企业', true],
    ['非公经济组织', false],
    ['社会团体', false],
    ['民办非企业单位', false],
    ['合作社', false],
    ['其他', false],
    ['个体工商户', null], // not in the unit_nature dictionary
  ];
  let n = 0;
  for (const [nature, isPublic] of natures) {
    for (const level of ['province', 'city', 'county']) {
      for (const committee of [CITY_COMMITTEE, PROVINCE_COMMITTEE]) {
        const r = computeRoute(unit({ nature, public: isPublic, unitLevel: level }), committee, HRBS, parentRegion);
        const name = `${nature} ${level} ${committee.tier}`;
        n++;
        if (isPublic === null) {
          t.equal(r.ok, false, name);
          if (!r.ok) {
            t.equal(r.error, '单位信息不完整', name);
            t.match(r.detail, `单位性质“${nature}”不在单位性质字典中`, name);
            t.match(r.detail, '单位管理员', name);
          }
          continue;
        }
        const stages = stagesOf(r);
        t.same(stages.map((s) => s.kind), expectedKinds(isPublic, level, committee.tier), name);
        for (const s of stages) t.equal(s.label, STAGE_LABELS[s.kind], `${name} label ${s.kind}`);
        const byKind = Object.fromEntries(stages.map((s) => [s.kind, s]));
        t.equal(byKind.unit.orgId, 101, name);
        t.equal(byKind.committee.orgId, committee.id, name);
        if (byKind.supervisor) t.equal(byKind.supervisor.orgId, 201, name);
        if (byKind.hrb_county) t.equal(byKind.hrb_county.name, '五华区人力资源和社会保障局', name);
        if (byKind.hrb_city) t.equal(byKind.hrb_city.name, '昆明市人力资源和社会保障局', name);
        t.equal(stages[stages.length - 1].kind, 'committee', name);
      }
    }
  }
  t.equal(n, 54);
});

t.test('non-public units ignore the supervisor, whatever its state', async (t) => {
  for (const status of ['approved', 'pending', 'rejected', null] as const) {
    const r = computeRoute(
      unit({ nature: '非公经济组织', public: false, unitLevel: 'city', supervisor: { id: 201, name: '昆明市卫生健康委员会', status } }),
      CITY_COMMITTEE,
      HRBS,
      parentRegion,
    );
    t.same(stagesOf(r).map((s) => s.kind), ['unit', 'hrb_county', 'committee'], String(status));
  }
});

t.test('freelancer via HR agency or association', async (t) => {
  const agency: RouteUnit = {
    id: 150,
    kind: 'agency',
    name: '五华区人才服务中心',
    nature: null,
    public: null,
    unitLevel: null,
    regionCode: '530102',
    regionLevel: 'county',
    supervisor: null,
  };
  const city = stagesOf(computeRoute(agency, CITY_COMMITTEE, HRBS, parentRegion));
  t.same(city.map((s) => s.kind), ['agency', 'hrb_county', 'committee']);
  t.equal(city[0].label, '人事代理机构（行业协会）审核');
  t.equal(routeLabel(city), '五华区人才服务中心 → 五华区人力资源和社会保障局 → 昆明市卫生技术高级职称评审委员会');
  const prov = stagesOf(computeRoute(agency, PROVINCE_COMMITTEE, HRBS, parentRegion));
  t.same(prov.map((s) => s.kind), ['agency', 'hrb_county', 'hrb_city', 'committee']);

  // An association in 西山区 goes to the bureau serving non-public staff.
  const xishan = stagesOf(computeRoute({ ...agency, name: '昆明市软件行业协会', regionCode: '530112' }, CITY_COMMITTEE, HRBS, parentRegion));
  t.equal(xishan[1].orgId, 303);

  const noRegion = computeRoute({ ...agency, regionCode: null, regionLevel: null }, CITY_COMMITTEE, HRBS, parentRegion);
  t.same(noRegion.ok ? null : [noRegion.error, /行政区域/.test(noRegion.detail), /机构管理员/.test(noRegion.detail)], ['单位信息不完整', true, true]);
  const cityRegion = computeRoute({ ...agency, regionCode: '530100', regionLevel: 'city' }, CITY_COMMITTEE, HRBS, parentRegion);
  t.equal(cityRegion.ok ? null : cityRegion.error, '查找人社局失败');
});

t.test('西山区 has two bureaus: public units and non-public units go to different ones', async (t) => {
  const pub = stagesOf(computeRoute(unit({ regionCode: '530112', unitLevel: 'county' }), CITY_COMMITTEE, HRBS, parentRegion));
  t.equal(pub.find((s) => s.kind === 'hrb_county')?.orgId, 302);
  const priv = stagesOf(computeRoute(unit({ regionCode: '530112', nature: '非公经济组织', public: false }), CITY_COMMITTEE, HRBS, parentRegion));
  t.equal(priv.find((s) => s.kind === 'hrb_county')?.orgId, 303);
  // Without appliesTo, several county bureaus of one region → the first.
  const twin: RouteHrb[] = [
    { id: 1, name: 'A', level: 'county', regionCode: '530102' },
    { id: 2, name: 'B', level: 'county', regionCode: '530102' },
  ];
  const r = stagesOf(computeRoute(unit({ nature: '合作社', public: false }), CITY_COMMITTEE, twin, parentRegion));
  t.equal(r[1].orgId, 1);
});

interface ErrorCase {
  name: string;
  unit: RouteUnit;
  committee?: RouteCommittee;
  hrbs?: RouteHrb[];
  parent?: (code: string) => string | null;
  error: string;
  detail: (string | RegExp)[];
  notDetail?: string[];
}

const ERRORS: ErrorCase[] = [
  { name: 'nature missing', unit: unit({ nature: null, public: null }), error: '单位信息不完整', detail: ['单位性质', '单位管理员', '“单位信息”'], notDetail: ['单位等级', '行政区域'] },
  { name: 'nature blank', unit: unit({ nature: '  ', public: null }), error: '单位信息不完整', detail: ['缺少：单位性质'] },
  { name: 'level missing', unit: unit({ unitLevel: null }), error: '单位信息不完整', detail: ['缺少：单位等级'], notDetail: ['单位性质', '行政区域'] },
  { name: 'level unknown', unit: unit({ unitLevel: 'town' }), error: '单位信息不完整', detail: ['单位等级“town”无法识别'] },
  { name: 'region missing', unit: unit({ regionCode: null, regionLevel: null }), error: '单位信息不完整', detail: ['缺少：行政区域'], notDetail: ['单位性质', '单位等级'] },
  {
    name: 'all three missing',
    unit: unit({ nature: null, public: null, unitLevel: null, regionCode: null, regionLevel: null }),
    error: '单位信息不完整',
    detail: ['缺少：单位性质、单位等级、行政区域', '昆明市第一人民医院', '单位管理员'],
  },
  { name: 'region at city level', unit: unit({ regionCode: '530100', regionLevel: 'city' }), error: '查找人社局失败', detail: ['行政区域没有选到区县', '市一级', '单位管理员'] },
  { name: 'region at province level', unit: unit({ regionCode: '530000', regionLevel: 'province' }), error: '查找人社局失败', detail: ['行政区域没有选到区县', '省一级'] },
  { name: 'region code unknown', unit: unit({ regionCode: '999999', regionLevel: null }), error: '查找人社局失败', detail: ['行政区域没有选到区县', '无法识别'] },
  {
    name: 'no county HRB (non-public)',
    unit: unit({ nature: '非公经济组织', public: false, regionCode: '530181' }),
    error: '查找人社局失败',
    detail: ['530181', '县(市)区人社局', '平台管理员'],
  },
  {
    name: 'no county HRB (county public)',
    unit: unit({ unitLevel: 'county', regionCode: '530181' }),
    error: '查找人社局失败',
    detail: ['530181'],
  },
  { name: 'supervisor missing', unit: unit({ supervisor: null }), error: '主管单位审核未通过', detail: ['尚未选择主管部门', '事业单位', '单位管理员'] },
  { name: 'supervisor pending', unit: unit({ supervisor: { id: 201, name: '昆明市卫生健康委员会', status: 'pending' } }), error: '主管单位审核未通过', detail: ['等待主管部门审核', '昆明市卫生健康委员会'] },
  {
    name: 'supervisor rejected',
    unit: unit({ supervisor: { id: 201, name: '昆明市卫生健康委员会', status: 'rejected' } }),
    error: '主管单位审核未通过',
    detail: ['主管部门“昆明市卫生健康委员会”审核未通过', '请单位重新选择'],
  },
  { name: 'supervisor never submitted', unit: unit({ supervisor: { id: 201, name: '昆明市卫生健康委员会', status: null } }), error: '主管单位审核未通过', detail: ['尚未提交'] },
  {
    name: 'no city HRB for a provincial committee',
    unit: unit(),
    committee: PROVINCE_COMMITTEE,
    hrbs: HRBS.filter((h) => h.level !== 'city'),
    error: '查找人社局失败',
    detail: ['市人社局', '530100', '云南省卫生技术高级职称评审委员会'],
  },
  {
    name: 'provincial committee, region whose city has no HRB (楚雄)',
    unit: unit({ nature: '非公经济组织', public: false, regionCode: '532301' }),
    committee: PROVINCE_COMMITTEE,
    error: '查找人社局失败',
    detail: ['532300'],
  },
  {
    name: 'provincial committee, no parent region',
    unit: unit({ regionCode: '530102' }),
    committee: PROVINCE_COMMITTEE,
    parent: () => null,
    error: '查找人社局失败',
    detail: ['市人社局'],
  },
];

t.test('errors', async (t) => {
  for (const c of ERRORS) {
    const r = computeRoute(c.unit, c.committee ?? CITY_COMMITTEE, c.hrbs ?? HRBS, c.parent ?? parentRegion);
    t.equal(r.ok, false, c.name);
    if (r.ok) continue;
    t.equal(r.error, c.error, c.name);
    for (const d of c.detail) t.match(r.detail, d, `${c.name}: detail has ${String(d)}`);
    for (const d of c.notDetail ?? []) t.notMatch(r.detail, d, `${c.name}: detail lacks ${d}`);
  }
});

t.test('error precedence: incomplete info before region, region before supervisor', async (t) => {
  const r1 = computeRoute(unit({ unitLevel: null, regionLevel: 'city', supervisor: null }), CITY_COMMITTEE, HRBS, parentRegion);
  t.equal(r1.ok ? null : r1.error, '单位信息不完整');
  const r2 = computeRoute(unit({ regionCode: '530100', regionLevel: 'city', supervisor: null }), CITY_COMMITTEE, HRBS, parentRegion);
  t.equal(r2.ok ? null : r2.error, '查找人社局失败');
  const r3 = computeRoute(unit({ unitLevel: 'county', regionCode: '530181', supervisor: null }), CITY_COMMITTEE, HRBS, parentRegion);
  t.equal(r3.ok ? null : r3.error, '主管单位审核未通过');
});

t.test('routeLabel', async (t) => {
  t.equal(routeLabel([]), '');
  t.equal(routeLabel([{ name: '甲' }]), '甲');
  t.equal(routeLabel([{ name: '甲' }, { name: '乙' }, { name: '丙' }]), '甲 → 乙 → 丙');
});

t.test('dispatch workers (派遣人员, seed 002 Q10, Q18): dispatch company → employer → county HRB', async (t) => {
  const agencyCo: RouteUnit = unit({ id: 110, name: '云南人力派遣服务有限公司', nature: '非公经济组织', public: false, unitLevel: 'county', supervisor: null });
  const employer = { id: 101, name: '昆明市第一人民医院' };
  const cases: { name: string; unit: RouteUnit; committee: RouteCommittee; employer: { id: number; name: string } | null | undefined; want: string[] | string }[] = [
    { name: 'non-public company, city committee', unit: agencyCo, committee: CITY_COMMITTEE, employer, want: ['unit:110:派遣单位审核', 'unit:101:用工单位审核', 'hrb_county:301', 'committee:401'] },
    { name: 'province committee adds the city HRB', unit: agencyCo, committee: PROVINCE_COMMITTEE, employer, want: ['unit:110:派遣单位审核', 'unit:101:用工单位审核', 'hrb_county:301', 'hrb_city:304', 'committee:402'] },
    // A public dispatch company still goes the non-public way: no supervisor, the non-public bureau of 西山区.
    { name: 'public company, non-public path', unit: { ...HOSPITAL, id: 111, name: '西山区人才服务中心', regionCode: '530112' }, committee: CITY_COMMITTEE, employer: { id: 120, name: '西山区人民医院' }, want: ['unit:111:派遣单位审核', 'unit:120:用工单位审核', 'hrb_county:303', 'committee:401'] },
    { name: 'no employer yet', unit: agencyCo, committee: CITY_COMMITTEE, employer: null, want: '单位信息不完整' },
    { name: 'employer = company', unit: agencyCo, committee: CITY_COMMITTEE, employer: { id: 110, name: '云南人力派遣服务有限公司' }, want: '单位信息不完整' },
    { name: 'not a dispatch worker: unchanged', unit: agencyCo, committee: CITY_COMMITTEE, employer: undefined, want: ['unit:110:单位审核', 'hrb_county:301', 'committee:401'] },
    { name: 'an agency (freelancer) ignores the employer', unit: { ...agencyCo, kind: 'agency' }, committee: CITY_COMMITTEE, employer, want: ['agency:110:人事代理机构（行业协会）审核', 'hrb_county:301', 'committee:401'] },
  ];
  for (const c of cases) {
    const r = computeRoute(c.unit, c.committee, HRBS, parentRegion, c.employer);
    if (typeof c.want === 'string') {
      t.equal(r.ok ? 'ok' : r.error, c.want, c.name);
      if (!r.ok) t.match(r.detail, '用工单位', `${c.name}: the detail names 用工单位`);
      continue;
    }
    const got = stagesOf(r).map((s) => (s.kind === 'unit' || s.kind === 'agency' ? `${s.kind}:${s.orgId}:${s.label}` : `${s.kind}:${s.orgId}`));
    t.same(got, c.want, c.name);
  }
});

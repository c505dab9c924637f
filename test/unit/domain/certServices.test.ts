import t from 'tap';
import { refuseError, reissueErrors, transferErrors, transferOffice } from '../../../src/domain/certServices.js';
import type { RouteHrb } from '../../../src/domain/route.js';

const hrbs: RouteHrb[] = [
  { id: 1, name: '昆明市人力资源和社会保障局', level: 'city', regionCode: '530100' },
  { id: 2, name: '五华区人力资源和社会保障局', level: 'county', regionCode: '530102' },
  { id: 3, name: '西山区人力资源和社会保障局', level: 'county', regionCode: '530112', appliesTo: 'public' },
  { id: 4, name: '西山区人力资源和社会保障局（非公）', level: 'county', regionCode: '530112', appliesTo: 'non_public' },
];
const unit = (o: { regionCode: string | null; regionLevel: 'county' | 'city' | 'province' | null; public?: boolean | null }) => ({ name: '昆明云岭软件有限公司', kind: 'unit' as const, public: o.public ?? null, regionCode: o.regionCode, regionLevel: o.regionLevel });

t.test('which bureau confirms a transfer (seed 002: 县区人社局 外地调入人员职称资格确认)', async (t) => {
  const cases: { name: string; u: ReturnType<typeof unit>; want: number | string }[] = [
    { name: '五华区 unit → 五华区', u: unit({ regionCode: '530102', regionLevel: 'county' }), want: 2 },
    { name: '西山区 public unit → the public bureau', u: unit({ regionCode: '530112', regionLevel: 'county', public: true }), want: 3 },
    { name: '西山区 non-public unit → the non-public bureau', u: unit({ regionCode: '530112', regionLevel: 'county', public: false }), want: 4 },
    { name: 'city-level unit → the city bureau', u: unit({ regionCode: '530100', regionLevel: 'city' }), want: 1 },
    { name: 'a county without a bureau', u: unit({ regionCode: '530199', regionLevel: 'county' }), want: '查找人社局失败' },
    { name: 'a province-level region', u: unit({ regionCode: '530000', regionLevel: 'province' }), want: '查找人社局失败' },
    { name: 'no 行政区域', u: unit({ regionCode: null, regionLevel: null }), want: '单位信息不完整' },
  ];
  for (const c of cases) {
    const r = transferOffice(c.u, hrbs);
    if (typeof c.want === 'number') t.equal(r.ok && r.office.orgId, c.want, c.name);
    else t.equal(!r.ok && r.error, c.want, c.name);
  }
});

t.test('a transfer request: every field with its message', async (t) => {
  const good = { title_name: '卫生技术人员 - 主治医师', specialty: '内科学', orig_number: 'SC2019-001', orig_issuer: '四川省人力资源和社会保障厅', orig_date: '2019-12-20' };
  const levelOf = (s: string) => (s === good.title_name ? 'intermediate' : null);
  const cases: { name: string; v: Partial<typeof good>; field?: string; msg?: string }[] = [
    { name: 'complete', v: {} },
    { name: 'no title', v: { title_name: '' }, field: 'title_name', msg: '请选择资格名称' },
    { name: 'unknown title', v: { title_name: '无此职称' }, field: 'title_name', msg: '不在职称字典中' },
    { name: 'no specialty', v: { specialty: '' }, field: 'specialty', msg: '请填写职称专业' },
    { name: 'long specialty', v: { specialty: '内'.repeat(51) }, field: 'specialty', msg: '不超过50个字' },
    { name: 'no number', v: { orig_number: '' }, field: 'orig_number', msg: '请填写原证书编号' },
    { name: 'no issuer', v: { orig_issuer: '' }, field: 'orig_issuer', msg: '请填写原发证机关' },
    { name: 'no date', v: { orig_date: '' }, field: 'orig_date', msg: '请填写取得资格时间' },
    { name: 'bad date', v: { orig_date: '2019-02-30' }, field: 'orig_date', msg: '格式不正确' },
    { name: 'future date', v: { orig_date: '2026-07-16' }, field: 'orig_date', msg: '不能晚于今天' },
  ];
  for (const c of cases) {
    const e = transferErrors({ ...good, ...c.v }, '2026-07-15', levelOf);
    if (!c.field) t.same(e, {}, c.name);
    else {
      t.same(Object.keys(e), [c.field], `${c.name}: only its field`);
      t.match(e[c.field], c.msg!, c.name);
    }
  }
});

t.test('a replacement request and a refusal reason', async (t) => {
  const choices = ['certificate:1', 'recognition:2'];
  t.same(reissueErrors({ cert: 'certificate:1', reason: '搬家遗失' }, choices), {});
  t.match(reissueErrors({ cert: '', reason: '搬家遗失' }, choices).cert, '请选择遗失的证书');
  t.match(reissueErrors({ cert: 'certificate:9', reason: '搬家遗失' }, choices).cert, '不能申请补办');
  t.match(reissueErrors({ cert: 'certificate:1', reason: '' }, choices).reason, '请填写遗失原因');
  t.match(reissueErrors({ cert: 'certificate:1', reason: '失'.repeat(201) }, choices).reason, '不超过200字');
  t.equal(refuseError('扫描件不清晰'), null);
  t.match(refuseError('  '), '请填写不予通过的理由');
  t.match(refuseError('理'.repeat(501)), '不超过500字');
});

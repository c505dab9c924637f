import t from 'tap';
import { checkOrgRow, ORG_COLUMNS, type OrgColumn, type OrgLookups } from '../../../src/domain/orgImportRow.js';
import { usccCheckChar } from '../../../src/domain/uscc.js';

const code = (seq: number) => {
  const f = `12530100MB${String(seq).padStart(7, '0')}`;
  return f + usccCheckChar(f);
};
const lk: OrgLookups = {
  nature: new Map([['institution', 'institution'], ['事业单位', 'institution']]),
  unitLevel: new Map([['city', 'city'], ['市级', 'city']]),
  region: new Map([['530102', '530102'], ['五华区', '530102']]),
};
const blank = Object.fromEntries(ORG_COLUMNS.map((c) => [c, ''])) as Record<OrgColumn, string>;
const unit = { ...blank, 类型: '用人单位', 单位名称: '昆明市第一中学', 统一社会信用代码: code(4).toLowerCase(), 单位性质: '事业单位', 单位等级: '市级', 行政区域: '五华区' };

t.test('checkOrgRow: a table of rows', async (t) => {
  const ok = checkOrgRow(unit, lk);
  t.same(ok.ok && ok.row, { kind: 'unit', name: '昆明市第一中学', uscc: code(4), nature: 'institution', unitLevel: 'city', regionCode: '530102', supervisorRef: '', address: null, phone: null, contact: null });
  const dept = checkOrgRow({ ...blank, 类型: '主管部门', 单位名称: '昆明市教育体育局', 统一社会信用代码: code(3), 行政区域: '530102' }, lk);
  t.ok(dept.ok, 'a department needs no nature or level');
  const cases: [string, Partial<Record<OrgColumn, string>>, string][] = [
    ['unknown kind', { 类型: '人社局' }, '类型“人社局”不正确'],
    ['no name', { 单位名称: '' }, '单位名称不能为空'],
    ['no code', { 统一社会信用代码: '' }, '统一社会信用代码不能为空'],
    ['bad check character', { 统一社会信用代码: code(4).slice(0, 17) + (code(4).endsWith('0') ? '1' : '0') }, '校验位'],
    ['unit without nature', { 单位性质: '' }, '单位性质不能为空'],
    ['nature not in the dictionary', { 单位性质: '外企' }, '单位性质“外企”不在字典中'],
    ['unknown region', { 行政区域: '火星' }, '行政区域“火星”不在字典中'],
    ['bad phone', { 联系电话: 'abc' }, '联系电话只能包含数字'],
    ['a department with a department', { 类型: '主管部门', 主管部门: '某局' }, '主管部门不能再填写主管部门'],
  ];
  for (const [name, change, reason] of cases) {
    const r = checkOrgRow({ ...unit, ...change }, lk);
    t.notOk(r.ok, name);
    if (!r.ok) t.match(r.reasons.join('；'), reason, name);
  }
});

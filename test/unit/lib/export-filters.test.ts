import t from 'tap';
import { parseExportFilters, exportDetail } from '../../../src/features/exchange/export.js';

// 导出申报与评审结果: the GET form's parameters (issue #17).
const cases: [string, Record<string, string>, ReturnType<typeof parseExportFilters>['filters'], Record<string, string>][] = [
  ['nothing: everything in scope', {}, { plan: undefined, unit: undefined, from: undefined, to: undefined }, {}],
  ['all of them', { plan: '3', unit: '12', from: '2026-06-01', to: '2026-06-30' }, { plan: 3, unit: 12, from: '2026-06-01', to: '2026-06-30' }, {}],
  ['spaces trimmed, one day', { from: ' 2026-06-15 ', to: '2026-06-15' }, { plan: undefined, unit: undefined, from: '2026-06-15', to: '2026-06-15' }, {}],
  ['a plan that is not a number', { plan: '3;drop' }, { plan: undefined, unit: undefined, from: undefined, to: undefined }, { plan: '评审计划无效' }],
  ['an impossible date', { from: '2026-02-30' }, { plan: undefined, unit: undefined, from: undefined, to: undefined }, { from: '开始日期格式应为 YYYY-MM-DD' }],
  ['another format', { to: '2026/06/30' }, { plan: undefined, unit: undefined, from: undefined, to: undefined }, { to: '结束日期格式应为 YYYY-MM-DD' }],
  ['reversed range', { from: '2026-07-01', to: '2026-06-01' }, { plan: undefined, unit: undefined, from: '2026-07-01', to: '2026-06-01' }, { to: '结束日期不能早于开始日期' }],
];

for (const [name, query, filters, errors] of cases) {
  t.test(name, async (t) => {
    const r = parseExportFilters(query);
    t.same(r.filters, filters);
    t.same(r.errors, errors);
  });
}

t.test('office: a number or nothing', async (t) => {
  t.equal(parseExportFilters({ office: '7' }).office, 7);
  t.equal(parseExportFilters({}).office, undefined);
  t.same(parseExportFilters({ office: 'x' }).errors, { office: '机构无效' });
});

t.test('the audit line names the format, count and filters, never a person', async (t) => {
  t.equal(exportDetail('json', '昆明市卫生健康委员会', { plan: 3, from: '2026-06-01' }, 12, false), '导出申报与评审结果（昆明市卫生健康委员会，格式JSON，12条，计划3，提交日期2026-06-01至）');
  t.match(exportDetail('xlsx', '五华区人社局', {}, 0, true), /格式XLSX，0条，含完整身份证号/);
});

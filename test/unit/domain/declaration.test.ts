import t from 'tap';
import { progressSteps, statusText, budgetText, isPrintable } from '../../../src/domain/declaration.js';

const ROUTE = ['单位审核', '主管部门审核', '评委会电子材料审核'];

t.test('progress step for every status', async (t) => {
  const cases: [Parameters<typeof progressSteps>[0], number, number][] = [
    ['draft', 0, 0],
    ['returned', 1, 0],
    ['reviewing', 0, 1],
    ['reviewing', 2, 3],
    ['approved', 2, 3],
    ['passed', 2, 4],
    ['failed', 2, 4],
    ['rejected', 1, 4],
  ];
  for (const [status, stage, at] of cases) {
    const p = progressSteps(status, stage, ROUTE);
    t.same(p.steps, ['填写申报', ...ROUTE, '评审结果']);
    t.equal(p.at, at, `${status} at stage ${stage}`);
  }
});

t.test('words, budget, print gate', async (t) => {
  t.equal(statusText('reviewing', { label: '单位审核', name: '昆明市第一人民医院' }), '单位审核中（昆明市第一人民医院）');
  t.equal(budgetText(1, 4), '您当前已经返回修改或重置流程 1 次，您还能返回修改或重置流程 3 次');
  t.equal(budgetText(5, 4), '您当前已经返回修改或重置流程 5 次，您还能返回修改或重置流程 0 次');
  t.same(['draft', 'reviewing', 'approved', 'passed', 'failed', 'rejected'].map(isPrintable), [false, false, true, true, true, false]);
});

import t from 'tap';
import { MAX_SUPPLEMENT_ITEMS, missingItems, parseSupplementItems } from '../../../src/domain/supplements.js';

t.test('parseSupplementItems: one file name per line', async (t) => {
  const cases: [string, string[] | null, string | null][] = [
    ['近五年年度考核表\n论文检索证明', ['近五年年度考核表', '论文检索证明'], null],
    ['  继续教育证明 \r\n\r\n继续教育证明\n', ['继续教育证明'], null],
    ['', null, '请填写需要补充的材料名称（每行一项）'],
    ['\n  \n', null, '请填写需要补充的材料名称（每行一项）'],
    [Array.from({ length: MAX_SUPPLEMENT_ITEMS + 1 }, (_, i) => `材料${i}`).join('\n'), null, `补充材料一次最多${MAX_SUPPLEMENT_ITEMS}项`],
    ['证'.repeat(101), null, '材料名称不能超过100个字'],
  ];
  for (const [text, labels, error] of cases) {
    const r = parseSupplementItems(text);
    if (labels) {
      t.same(r.items.map((i) => i.label), labels, JSON.stringify(text));
      t.same(r.items.map((i) => i.key), labels.map((_, i) => `i${i + 1}`));
      t.equal(r.error, undefined);
    } else t.match(r.error, error!, JSON.stringify(text).slice(0, 30));
  }
});

t.test('missingItems', async (t) => {
  const items = [{ key: 'i1', label: 'A' }, { key: 'i2', label: 'B' }];
  t.same(missingItems(items, []), items);
  t.same(missingItems(items, ['i2', 'i2']), [{ key: 'i1', label: 'A' }]);
  t.same(missingItems(items, ['i1', 'i2']), []);
});

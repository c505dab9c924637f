import t from 'tap';
import readXlsxFile from 'read-excel-file/node';
import { textCell, xlsxBuffer } from '../../../src/lib/xlsx.js';

t.test('textCell: formula-looking text gets a leading quote', async (t) => {
  const cases: [string, string][] = [
    ['=1+1', "'=1+1"],
    ['+86 13800138000', "'+86 13800138000"],
    ['-5', "'-5"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\t=1', "'\t=1"],
    ['\r=1', "'\r=1"],
    ['张伟', '张伟'],
    ['2019-09-01', '2019-09-01'],
    ['a=1', 'a=1'],
    ['', ''],
    ["'=1", "'=1"],
  ];
  for (const [v, want] of cases) t.equal(textCell(v), want, JSON.stringify(v));
});

t.test('an .xlsx cell never holds a formula; numbers stay numbers', async (t) => {
  const rows = [{ a: '=HYPERLINK("http://x","y")', b: 3 }, { a: '张伟', b: -2 }];
  const buf = await xlsxBuffer(rows, [{ header: 'A', value: (r) => r.a }, { header: 'B', value: (r) => r.b }]);
  const read = (await readXlsxFile(buf)) as unknown[][];
  t.same(read, [['A', 'B'], ['\'=HYPERLINK("http://x","y")', 3], ['张伟', -2]]);
});

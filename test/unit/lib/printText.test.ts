import t from 'tap';
import { printTextHtml } from '../../../src/lib/printText.js';

const n = (s: string) => `<span class="rf-num rf-nw">${s}</span>`;

t.test('printTextHtml: numbers in the text face and kept whole, everything escaped', async (t) => {
  const long = '1'.repeat(21);
  const cases: [unknown, string][] = [
    ['2019-09-01', n('2019-09-01')],
    ['主治医师（2019-09-01）', `主治医师（${n('2019-09-01')}）`],
    ['2002-09-01 至 2007-07-01', `${n('2002-09-01')} 至 ${n('2007-07-01')}`],
    ['1985-06', n('1985-06')],
    ['2026年6月15日', `${n('2026')}年${n('6')}月${n('15')}日`],
    ['6年3个月', `${n('6')}年${n('3')}个月`],
    ['至今', '至今'],
    ['ZS19901', `ZS${n('19901')}`],
    [long, `<span class="rf-num">${long}</span>`],
    ['<img src=x onerror=alert(1)>2019-09-01', `&lt;img src=x onerror=alert(${n('1')})&gt;${n('2019-09-01')}`],
    [`"'&`, '&quot;&#39;&amp;'],
    [`it's 39`, `it&#39;s ${n('39')}`],
    ['-5', `-${n('5')}`],
    [null, ''],
    [undefined, ''],
    [2020, n('2020')],
  ];
  for (const [input, want] of cases) t.equal(printTextHtml(input), want, String(input));
});

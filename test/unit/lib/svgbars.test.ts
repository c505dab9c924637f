import t from 'tap';
import { svgBars, escapeXml, fitLabel, textEm } from '../../../src/lib/svgbars.js';

const widths = (svg: string) => [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));

t.test('accessible: role, aria-label with the numbers, <title> first, no style attribute', async (t) => {
  const svg = svgBars([{ label: '单位审核', value: 3 }, { label: '主管部门审核', value: 1 }], { title: '按审核环节统计', unit: '人' });
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" role="img" aria-label="按审核环节统计：单位审核 3人，主管部门审核 1人"/);
  t.match(svg, /^<svg[^>]*><title>按审核环节统计<\/title>/, 'the chart title is the first child');
  t.notMatch(svg, /style=/, 'CSP: presentation attributes only');
  t.notMatch(svg, /<script/i);
  t.match(svg, '>3人</text>');
  t.match(svg, /<svg[^>]* width="560" height="\d+" viewBox="0 0 560 \d+"/);
});

t.test('labels and titles are escaped, in text and in attributes', async (t) => {
  const evil = '<script>alert("x")</script>&\'';
  const svg = svgBars([{ label: evil, value: 2 }], { title: `统计${evil}`, labelWidth: 600, width: 900 });
  t.notMatch(svg, '<script>');
  t.notMatch(svg, '"x"');
  t.match(svg, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  t.match(svg, '<title>统计&lt;script&gt;');
  // Every attribute value is a plain quoted string: the label could not break out of aria-label.
  const attrs = svg.match(/<svg [^>]*>/)![0];
  t.match(attrs, /aria-label="[^"<>]*"/);
  t.equal(escapeXml(`a<b>&"'`), 'a&lt;b&gt;&amp;&quot;&#39;');
});

t.test('zero data: no bars, a readable empty chart; all-zero values draw zero widths, never NaN', async (t) => {
  const empty = svgBars([], { title: '按单位统计' });
  t.match(empty, 'role="img"');
  t.match(empty, 'aria-label="按单位统计：暂无数据"');
  t.match(empty, '>暂无数据</text>');
  t.notMatch(empty, '<rect');
  t.notMatch(empty, 'NaN');
  const zeros = svgBars([{ label: 'A', value: 0 }, { label: 'B', value: 0 }], { title: 'z' });
  t.same(widths(zeros), [0, 0]);
  t.notMatch(zeros, /NaN|Infinity/);
  const bad = svgBars([{ label: 'A', value: Number.NaN }, { label: 'B', value: -3 }, { label: 'C', value: 4 }], { title: 'z' });
  t.notMatch(bad, /NaN|Infinity|-3/);
  t.equal(widths(bad)[0], 0);
});

t.test('bar widths are proportional to the values, the largest filling the plot', async (t) => {
  const svg = svgBars([{ label: 'A', value: 10 }, { label: 'B', value: 5 }, { label: 'C', value: 1 }, { label: 'D', value: 0 }], { title: 'p', width: 560, labelWidth: 180 });
  const [a, b, c, d] = widths(svg);
  const plot = 560 - 180 - 64 - 8;
  t.equal(a, plot, 'the max spans the plot width');
  t.equal(b, plot / 2);
  t.equal(c, Math.round((plot / 10) * 100) / 100);
  t.equal(d, 0);
  t.equal([...svg.matchAll(/<rect /g)].length, 4, 'one bar per item');
  const heights = [...svg.matchAll(/<rect [^>]*y="(\d+)"/g)].map((m) => Number(m[1]));
  t.ok(heights.every((y, i) => i === 0 || y > heights[i - 1]!), 'bars go down the chart in order');
});

t.test('long labels are shortened to fit, the full text kept in the tooltip', async (t) => {
  const long = '昆明市第一人民医院心血管内科重点实验室附属研究中心';
  const svg = svgBars([{ label: long, value: 1 }], { title: 'u', labelWidth: 120 });
  t.match(svg, `<title>${long}：1</title>`);
  const shown = /text-anchor="end"[^>]*>([^<]+)<\/text>/.exec(svg)![1]!;
  t.ok(shown.endsWith('…'));
  t.ok(textEm(shown) <= (120 - 8) / 13);
  t.equal(fitLabel('短', 5), '短');
  t.equal(textEm('ab中'), 2.2);
});

t.test('colour is a hex colour or the default', async (t) => {
  t.match(svgBars([{ label: 'a', value: 1 }], { title: 't', color: '#c00' }), 'fill="#c00"');
  const svg = svgBars([{ label: 'a', value: 1 }], { title: 't', color: 'red" onload="x' });
  t.notMatch(svg, 'onload');
  t.match(svg, 'fill="#2f6fb0"');
});

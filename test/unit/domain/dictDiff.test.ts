import t from 'tap';
import { diffDicts, parseDictSet, type DictEntry } from '../../../src/domain/dictDiff.js';

const e = (key: string, name: string, disabled = false, group: DictEntry['group'] = 'enums', dict = 'unit_nature'): DictEntry => ({ group, dict, key, name, disabled, data: {} });

t.test('diffDicts: a table of cases', async (t) => {
  const cases: [string, DictEntry[], DictEntry[], [string, string][]][] = [
    ['same', [e('a', '机关')], [e('a', '机关')], []],
    ['added', [], [e('a', '机关')], [['added', 'a']]],
    ['renamed', [e('a', '机关')], [e('a', '党政机关')], [['renamed', 'a']]],
    ['missing → disabled, never deleted', [e('a', '机关')], [], [['disabled', 'a']]],
    ['missing and already disabled: nothing', [e('a', '机关', true)], [], []],
    ['disabled in the file', [e('a', '机关')], [e('a', '机关', true)], [['disabled', 'a']]],
    ['enabled again', [e('a', '机关', true)], [e('a', '机关')], [['enabled', 'a']]],
    ['renamed and disabled', [e('a', '机关')], [e('a', '党政机关', true)], [['renamed', 'a'], ['disabled', 'a']]],
    ['same code, another dictionary', [e('a', '机关')], [e('a', '机关'), e('a', '本科', false, 'enums', 'education')], [['added', 'a']]],
    ['listed twice in the file: once', [], [e('a', '机关'), e('a', '机关2')], [['added', 'a']]],
  ];
  for (const [name, cur, inc, want] of cases) t.same(diffDicts(cur, inc).map((c) => [c.kind, c.entry.key]), want, name);
  t.equal(diffDicts([e('a', '机关')], [e('a', '党政机关')])[0]!.from, '机关');
});

t.test('parseDictSet: format, version and every entry checked', async (t) => {
  const ok = parseDictSet(JSON.stringify({ format: 'zhicheng-dicts', version: 1, series: [{ code: 'S01', name: '高校教师', sort: 1, disabled: false }], titles: [{ series_code: 'S01', level: 'senior_full', track: null, name: '教授' }], enums: { gender: [{ code: 'm', name: '男', disabled: 1 }] } }));
  t.ok(ok.ok);
  if (ok.ok) t.same(ok.entries.map((x) => [x.group, x.dict, x.key, x.disabled]), [['series', '', 'S01', false], ['titles', '', 'S01|senior_full||教授', false], ['enums', 'gender', 'm', true]]);
  const bad: [string, string, RegExp][] = [
    ['not JSON', '{', /不是有效的 JSON/],
    ['another format', JSON.stringify({ format: 'x', version: 1 }), /不是本系统导出的字典文件/],
    ['another version', JSON.stringify({ format: 'zhicheng-dicts', version: 3 }), /版本 3 不支持/],
    ['empty', JSON.stringify({ format: 'zhicheng-dicts', version: 1 }), /没有任何字典项/],
    ['no name', JSON.stringify({ format: 'zhicheng-dicts', version: 1, regions: [{ code: '530100' }] }), /缺少代码或名称（如 regions\[0\]）/],
    ['bad dictionary key', JSON.stringify({ format: 'zhicheng-dicts', version: 1, enums: { 'A-B': [] } }), /enums\.A-B/],
  ];
  for (const [name, text, re] of bad) {
    const r = parseDictSet(text);
    t.notOk(r.ok, name);
    if (!r.ok) t.match(r.error, re, name);
  }
});

import t from 'tap';
import { checkCertRow, duplicatesInFile, mapHeader, parseLevel, parseSheetDate, CERT_COLUMNS, type CertColumn, type CertRow } from '../../../src/domain/legacyCert.js';
import { idCheckChar } from '../../../src/domain/idcard.js';

const id = (seq = '123', birth = '19800307') => {
  const f = `530102${birth}${seq}`;
  return f + idCheckChar(f);
};
const TODAY = '2026-06-15';
const good: Record<CertColumn, string> = {
  身份证号: id(), 姓名: '张伟', 职称名称: '主治医师', 级别: '中级', 专业: '心血管内科', 取得时间: '2015-06-30', 证书编号: 'YN2015-0001', 发证机关: '云南省卫生系列中级评委会', 获取方式: '考试',
};

t.test('mapHeader: columns in any order, aliases, 序号 ignored; wrong columns refused', async (t) => {
  const ok = mapHeader(['序号', ...[...CERT_COLUMNS].reverse()]);
  t.ok(ok.ok);
  if (ok.ok) t.equal(ok.index['身份证号'], CERT_COLUMNS.length);
  const aliases = mapHeader(['身份证号码', '姓名', '资格名称', '级别', '专业', '取得日期', '证书号', '发证单位', '取得方式']);
  t.ok(aliases.ok, 'old systems’ names');
  const cases: [string, string[], RegExp][] = [
    ['a column missing', CERT_COLUMNS.filter((c) => c !== '证书编号'), /缺少列：证书编号/],
    ['an unknown column', [...CERT_COLUMNS, '手机号'], /无法识别的列：手机号/],
    ['a column twice', [...CERT_COLUMNS, '证书号'], /列重复：证书编号/],
    ['no header (data in the first row)', Object.values(good), /缺少列：.*无法识别的列/],
  ];
  for (const [name, header, re] of cases) {
    const r = mapHeader(header);
    t.notOk(r.ok, name);
    if (!r.ok) t.match(r.error, re, name);
  }
});

t.test('parseSheetDate and parseLevel', async (t) => {
  const dates: [string, string | null][] = [
    ['2015-06-30', '2015-06-30'], ['2015/6/3', '2015-06-03'], ['2015.06.30', '2015-06-30'], ['2015年6月30日', '2015-06-30'],
    ['20150630', '2015-06-30'], ['2015-06', '2015-06-01'], ['2015年6月', '2015-06-01'],
    ['2015-02-30', null], ['2015-13-01', null], ['30/06/2015', null], ['', null], ['去年', null],
  ];
  for (const [s, want] of dates) t.equal(parseSheetDate(s), want, s);
  const levels: [string, string | null][] = [['正高级', 'senior_full'], ['副高级', 'senior_vice'], ['中级', 'intermediate'], ['助理级', 'assistant'], ['初级', 'assistant'], ['员级', 'junior'], ['特级', null], ['', null]];
  for (const [s, want] of levels) t.equal(parseLevel(s), want, s);
});

t.test('checkCertRow: a table of rows', async (t) => {
  const ok = checkCertRow(good, TODAY);
  t.ok(ok.ok);
  if (ok.ok) t.same(ok.row, { idNumber: id(), name: '张伟', titleName: '主治医师', level: 'intermediate', specialty: '心血管内科', obtainedOn: '2015-06-30', number: 'YN2015-0001', issuer: '云南省卫生系列中级评委会', method: '考试' });
  const lower = checkCertRow({ ...good, 身份证号: ` ${id('123').toLowerCase()} ` }, TODAY);
  t.ok(lower.ok, 'spaces and case of the ID are forgiven');

  const bad: [string, Partial<Record<CertColumn, string>>, string][] = [
    ['empty ID', { 身份证号: '' }, '身份证号不能为空'],
    ['short ID', { 身份证号: '53010219800307' }, '身份证号应为18位'],
    ['wrong check digit', { 身份证号: id().slice(0, 17) + (id().endsWith('0') ? '1' : '0') }, '身份证号校验位不正确'],
    ['no name', { 姓名: '' }, '姓名不能为空'],
    ['long name', { 姓名: '张'.repeat(51) }, '姓名不能超过50个字'],
    ['unknown level', { 级别: '特级' }, '级别“特级”不正确'],
    ['bad date', { 取得时间: '2015-02-30' }, '取得时间“2015-02-30”不是有效日期'],
    ['future date', { 取得时间: '2027-01-01' }, '取得时间不能晚于今天'],
    ['ancient date', { 取得时间: '1949-09-30' }, '取得时间不能早于1950年'],
    ['no number', { 证书编号: '' }, '证书编号不能为空'],
    ['control character', { 证书编号: 'A\u0007B' }, '证书编号含有不可见字符'],
    ['no issuer', { 发证机关: '' }, '发证机关不能为空'],
    ['no method', { 获取方式: ' ' }, '获取方式不能为空'],
  ];
  for (const [name, change, reason] of bad) {
    const r = checkCertRow({ ...good, ...change }, TODAY);
    t.notOk(r.ok, name);
    if (!r.ok) t.match(r.reasons.join('；'), reason, name);
  }
  const many = checkCertRow({ ...good, 姓名: '', 级别: '' }, TODAY);
  t.same(many.ok ? [] : many.reasons, ['姓名不能为空', '级别不能为空'], 'every reason of a row');
});

t.test('duplicatesInFile: numbers, one ID under two names, the same title twice', async (t) => {
  const row = (o: Partial<CertRow>): CertRow => ({ idNumber: id(), name: '张伟', titleName: '主治医师', level: 'intermediate', specialty: '内科', obtainedOn: '2015-06-30', number: 'N1', issuer: 'X', method: '考试', ...o });
  const rows = [
    { line: 2, row: row({}) },
    { line: 3, row: row({ number: 'N1', idNumber: id('456'), name: '李娜' }) }, // number again
    { line: 4, row: row({ number: 'N2', name: '张伟伟' }) }, // same ID, another name
    { line: 5, row: row({ number: 'N3' }) }, // same ID and title
    { line: 6, row: row({ number: 'N4', titleName: '副主任医师', level: 'senior_vice' }) }, // same person, next title: fine
    { line: 7, row: row({ number: 'N5', idNumber: id('456'), name: '李娜' }) }, // fine
  ];
  const d = duplicatesInFile(rows);
  t.same([...d.entries()], [
    [1, '与第2行证书编号重复'],
    [2, '与第2行身份证号相同但姓名不同'],
    [3, '与第2行重复（同一身份证号、同一职称名称）'],
  ]);
});

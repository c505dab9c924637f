import t from 'tap';
import {
  resultPublicityTitle,
  parseRatio, passes, votesNeeded, meetingError, votesError, voteResult, patternError, formatCertNumber, docNoError,
  DEFAULT_CERT_PATTERN, EVALUATION_TABLES,
} from '../../../src/domain/evaluation.js';

t.test('parseRatio', async (t) => {
  t.same(parseRatio('2/3'), { num: 2, den: 3 });
  t.same(parseRatio(' 1 / 2 '), { num: 1, den: 2 });
  t.same(parseRatio('1'), { num: 1, den: 1 });
  for (const bad of ['', '0/3', '4/3', '2/0', 'abc', '0.66', '-1/2', null, undefined]) t.equal(parseRatio(bad as any), null, String(bad));
});

t.test('pass rule: 同意 ≥ 2/3 of present, exactly', async (t) => {
  const r = { num: 2, den: 3 };
  // [agree, present, passes]
  const cases: [number, number, boolean][] = [
    [2, 3, true], [1, 3, false], [10, 15, true], [9, 15, false], [14, 21, true], [13, 21, false],
    [7, 10, true], [6, 10, false], // 6/10 = 0.6 < 0.666…; 7/10 passes
    [0, 0, false], [1, 1, true], [0, 1, false],
    [20, 30, true], [19, 30, false], // the floating-point trap: 2/3*30 = 20
  ];
  for (const [agree, present, ok] of cases) t.equal(passes(agree, present, r), ok, `${agree}/${present}`);
  t.equal(passes(1, 2, { num: 1, den: 2 }), true, '1/2 inclusive');
  t.equal(passes(3, 4, { num: 3, den: 4 }), true);
  t.equal(passes(2, 4, { num: 3, den: 4 }), false);
  t.equal(passes(5, 5, { num: 1, den: 1 }), true);
  t.equal(passes(4, 5, { num: 1, den: 1 }), false);
});

t.test('votesNeeded agrees with passes', async (t) => {
  for (const r of [{ num: 2, den: 3 }, { num: 1, den: 2 }, { num: 3, den: 4 }, { num: 1, den: 1 }]) {
    for (let present = 1; present <= 40; present++) {
      const n = votesNeeded(present, r);
      t.ok(passes(n, present, r) && (n === 0 || !passes(n - 1, present, r)), `${r.num}/${r.den} of ${present} → ${n}`);
    }
  }
  t.equal(votesNeeded(15, { num: 2, den: 3 }), 10);
  t.equal(votesNeeded(0, { num: 2, den: 3 }), 0);
});

t.test('meeting and vote validation', async (t) => {
  t.equal(meetingError({ expected: 21, present: 17 }), null);
  t.equal(meetingError({ expected: 21, present: 21 }), null);
  t.match(meetingError({ expected: 15, present: 16 }), '实到人数不能大于应到人数');
  t.match(meetingError({ expected: 0, present: 0 }), '应到人数');
  t.match(meetingError({ expected: 5, present: 0 }), '实到人数');
  t.match(meetingError({ expected: 5.5, present: 3 }), '应到人数');
  t.match(meetingError({ expected: NaN, present: 3 }), '应到人数');
  const m = { expected: 21, present: 15 };
  t.equal(votesError({ agree: 10, disagree: 3, abstain: 2 }, m), null, 'sum = present');
  t.equal(votesError({ agree: 10, disagree: 0, abstain: 0 }, m), null, 'sum < present');
  t.match(votesError({ agree: 10, disagree: 4, abstain: 2 }, m), '不能超过实到人数（15人）');
  t.match(votesError({ agree: -1, disagree: 0, abstain: 0 }, m), '不小于0的整数');
  t.match(votesError({ agree: 1.5, disagree: 0, abstain: 0 }, m), '不小于0的整数');
  t.match(votesError({ agree: NaN, disagree: 0, abstain: 0 }, m), '不小于0的整数');
  t.equal(voteResult({ agree: 10, disagree: 3, abstain: 2 }, m, { num: 2, den: 3 }), 'passed');
  t.equal(voteResult({ agree: 9, disagree: 6, abstain: 0 }, m, { num: 2, den: 3 }), 'failed');
  // Abstentions count against: the base is the members present, not the votes cast.
  t.equal(voteResult({ agree: 8, disagree: 0, abstain: 7 }, m, { num: 2, den: 3 }), 'failed');
});

t.test('certificate patterns', async (t) => {
  t.equal(patternError('KM{YYYY}{SEQ:5}'), null);
  t.equal(patternError(DEFAULT_CERT_PATTERN), null);
  t.equal(patternError('云卫高{YY}-{SEQ}'), null);
  t.match(patternError('KM{YYYY}'), '序号');
  t.match(patternError('KM{SEQ:5}'), '年份');
  t.match(patternError('{YYYY}{SEQ}{SEQ:3}'), '只包含一个序号');
  t.match(patternError('{YYYY}{SEQ:0}'), '1至9');
  t.match(patternError('{YYYY}{FOO}{SEQ}'), '无法识别');
  t.match(patternError('{YYYY} {SEQ}'), '只能包含');
  t.match(patternError(''), '不能为空');
  const v = { year: 2026, seq: 7, org: 'C12' };
  t.equal(formatCertNumber('KM{YYYY}{SEQ:5}', v), 'KM202600007');
  t.equal(formatCertNumber('{YY}-{SEQ}', v), '26-7');
  t.equal(formatCertNumber(DEFAULT_CERT_PATTERN, v), 'ZCC12202600007');
  t.equal(formatCertNumber('KM{YYYY}{SEQ:3}', { ...v, seq: 1234 }), 'KM20261234', 'never cut');
  t.throws(() => formatCertNumber('KM{YYYY}', v), RangeError);
  t.throws(() => formatCertNumber('KM{YYYY}{SEQ}', { ...v, seq: 0 }), RangeError);
  // Distinct sequences give distinct numbers (no collisions within committee + year).
  const seen = new Set<string>();
  for (let seq = 1; seq <= 2000; seq++) seen.add(formatCertNumber('KM{YYYY}{SEQ:3}', { ...v, seq }));
  t.equal(seen.size, 2000);
});

t.test('发文字号 and tables', async (t) => {
  t.equal(docNoError('昆人社通〔2026〕88号'), null);
  t.match(docNoError('  '), '请填写');
  t.match(docNoError('x'.repeat(41)), '不超过40');
  t.match(docNoError('a\nb'), '格式不正确');
  t.same(EVALUATION_TABLES.map((x) => x.no), ['表十三', '表十四', '表十五', '表十六']);
  t.ok(EVALUATION_TABLES.find((x) => x.no === '表十五')!.levels.includes('senior_vice'));
});

t.test('resultPublicityTitle: the year and 评审 said once', async (t) => {
  const cases: [number, string, string][] = [
    [2026, '2026年度卫生技术高级职称评审', '2026年度卫生技术高级职称评审结果公示'], // the field test's 2026年度2026年度…评审评审结果公示
    [2026, '卫生技术高级职称评审', '2026年度卫生技术高级职称评审结果公示'],
    [2026, '卫生技术高级职称', '2026年度卫生技术高级职称评审结果公示'],
    [2026, '2026年卫生技术高级职称', '2026年度卫生技术高级职称评审结果公示'],
    [2026, '2026年度工程技术中级职称评审工作', '2026年度工程技术中级职称评审结果公示'],
    [2026, '2026 年度 卫生技术高级职称评审计划', '2026年度卫生技术高级职称评审结果公示'],
  ];
  for (const [year, name, want] of cases) t.equal(resultPublicityTitle(year, name), want, name);
});

import t from 'tap';
import { ageOn, checkerApplies, checkersBlock, checkStatus, validateChecker, validateSignoff, type CheckerDef, type Signoff } from '../../../src/domain/checkers.js';

t.test('ageOn and checkerApplies (学工部: under 40 only)', async (t) => {
  const cases: [string, string, number | null][] = [
    ['1986-06-15', '2026-06-14', 39],
    ['1986-06-15', '2026-06-15', 40],
    ['1986-06-15', '2026-06-16', 40],
    ['1990-03-07', '2026-06-15', 36],
    ['2000-02-29', '2026-02-28', 25],
    ['', '2026-06-15', null],
    ['1986-06', '2026-06-15', null],
  ];
  for (const [birth, on, want] of cases) t.equal(ageOn(birth, on), want, `${birth} on ${on}`);
  const applies: [string, 'all' | 'under40', string, boolean][] = [
    ['all, anyone', 'all', '1960-01-01', true],
    ['under40, 39', 'under40', '1986-06-16', true],
    ['under40, turns 40 that day', 'under40', '1986-06-15', false],
    ['under40, 50', 'under40', '1976-01-01', false],
    ['under40, birth unknown: asked anyway', 'under40', '', true],
  ];
  for (const [name, scope, birth, want] of applies) t.equal(checkerApplies(scope, birth, '2026-06-15'), want, name);
});

t.test('checkStatus: who is missing, who said 不同意, stale sign-offs', async (t) => {
  const checkers: CheckerDef[] = [
    { id: 1, name: '人事处（论文著作）', scope: 'all', userName: '周敏' },
    { id: 2, name: '学工部', scope: 'under40', userName: '吴磊' },
    { id: 3, name: '组织部（师德考核）', scope: 'all', userName: '郑洁' },
  ];
  const so = (checkerId: number, verdict: '同意' | '不同意', signedAt: string): Signoff => ({ checkerId, verdict, opinion: '意见', signedAt, signerName: 'x' });
  const young = { birthDate: '1990-03-07', submittedAt: '2026-06-10T00:00:00.000Z', onDate: '2026-06-10' };
  const old = { ...young, birthDate: '1970-01-01' };
  const cases: { name: string; signoffs: Signoff[]; who: typeof young; missing: string[]; against: string[]; block: RegExp | '' }[] = [
    { name: 'nobody signed', signoffs: [], who: young, missing: ['人事处（论文著作）（周敏）', '学工部（吴磊）', '组织部（师德考核）（郑洁）'], against: [], block: /以下职能部门尚未审核：人事处（论文著作）（周敏）、学工部（吴磊）、组织部/ },
    { name: 'over 40: 学工部 not asked', signoffs: [so(1, '同意', '2026-06-11'), so(3, '同意', '2026-06-11')], who: old, missing: [], against: [], block: '' },
    { name: 'one 不同意', signoffs: [so(1, '同意', '2026-06-11'), so(2, '不同意', '2026-06-11'), so(3, '同意', '2026-06-11')], who: young, missing: [], against: ['学工部'], block: /学工部审核意见为“不同意”/ },
    { name: 'signed before the resubmission: stale', signoffs: [so(1, '同意', '2026-06-01'), so(2, '同意', '2026-06-11'), so(3, '同意', '2026-06-11')], who: young, missing: ['人事处（论文著作）（周敏）'], against: [], block: /人事处/ },
    { name: 'no checkers: nothing to wait for', signoffs: [], who: young, missing: [], against: [], block: '' },
  ];
  for (const c of cases) {
    const st = checkStatus(c.name.startsWith('no checkers') ? [] : checkers, c.signoffs, c.who);
    t.same(st.missing, c.missing, `${c.name}: missing`);
    t.same(st.against, c.against, `${c.name}: against`);
    if (c.block === '') t.equal(checkersBlock(st), '', `${c.name}: not blocked`);
    else t.match(checkersBlock(st), c.block, `${c.name}: blocked`);
  }
});

t.test('validateSignoff and validateChecker', async (t) => {
  t.same(validateSignoff({ verdict: '同意', opinion: ' 论文真实有效 ' }), { values: { verdict: '同意', opinion: '论文真实有效' }, errors: {}, ok: true });
  const bad = validateSignoff({ verdict: '可以', opinion: '字'.repeat(501) });
  t.same(bad.errors, { verdict: '请选择审核结果（同意或不同意）', opinion: '审核意见不能超过500个字' });
  t.equal(validateSignoff({ verdict: '不同意' }).errors.opinion, '请填写审核意见');

  const ok = validateChecker({ name: '教务处（教学情况）', user_id: '12', applies_to: 'all' }, [12, 13], []);
  t.same(ok.checker, { name: '教务处（教学情况）', userId: 12, scope: 'all' });
  const errs = validateChecker({ name: '教务处', user_id: '99', applies_to: 'some' }, [12], ['教务处']).errors;
  t.same(errs, { name: '已有同名的审核部门', user_id: '请选择本单位的审核人员账号', applies_to: '请选择审核范围' });
});

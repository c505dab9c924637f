import t from 'tap';
import {
  isUnitStageKind, isVerified, minPublicityDays, sealPrints, parseOpinion, publicityOver, stepLine, unitActions, unitStep, validateOpinion,
  type UnitStageState,
} from '../../../src/domain/unitstage.js';

const SUBMITTED = '2026-06-15T02:00:00.000Z';
const base: UnitStageState = {
  hasOpinion: false, recommends: false, verifiedAt: null, submittedAt: SUBMITTED, publicityState: null, recommendationId: null, publicityRequired: true,
};
const s = (o: Partial<UnitStageState>): UnitStageState => ({ ...base, ...o });
const verified = { hasOpinion: true, recommends: true, verifiedAt: '2026-06-16T01:00:00.000Z' };

t.test('unitStep: which sub-step a declaration is at', async (t) => {
  const cases: [string, Partial<UnitStageState>, string][] = [
    ['nothing yet', {}, 'opinion'],
    ['opinion written', { hasOpinion: true, recommends: true }, 'verify'],
    ['opinion 不同意推荐 is still at verify (blocked)', { hasOpinion: true, recommends: false }, 'verify'],
    ['verified, publicity required', verified, 'publicity'],
    ['verified, in an open publicity', { ...verified, publicityState: 'open' }, 'publicizing'],
    ['publicised without objection', { ...verified, publicityState: 'no_objection' }, 'recommend'],
    ['publicised with an objection', { ...verified, publicityState: 'objection' }, 'objection'],
    ['verified, no publicity required', { ...verified, publicityRequired: false }, 'recommend'],
    ['no publicity required but objected anyway', { ...verified, publicityRequired: false, publicityState: 'objection' }, 'objection'],
    ['already recommended', { ...verified, publicityState: 'no_objection', recommendationId: 7 }, 'done'],
    ['verified before a resubmission: verify again', { ...verified, verifiedAt: '2026-06-14T00:00:00.000Z' }, 'verify'],
    ['verified in the same instant as the submission', { ...verified, verifiedAt: SUBMITTED }, 'publicity'],
    ['a resubmitted, re-verified one keeps its publicity result', { ...verified, publicityState: 'no_objection' }, 'recommend'],
    ['verification without an opinion (opinion removed) asks for the opinion', { verifiedAt: '2026-06-16T01:00:00.000Z' }, 'opinion'],
  ];
  for (const [name, o, want] of cases) t.equal(unitStep(s(o)), want, name);
});

t.test('sealPrints: the unit seal prints on 表十二 once verified, and after 推荐上报', async (t) => {
  const cases: [string, { verifiedAt: string | null; submittedAt: string | null; recommendationId: number | null }, boolean][] = [
    ['not verified', { verifiedAt: null, submittedAt: SUBMITTED, recommendationId: null }, false],
    ['verified this version', { verifiedAt: '2026-06-15T03:00:00.000Z', submittedAt: SUBMITTED, recommendationId: null }, true],
    ['verified an earlier version (returned and resubmitted at the unit)', { verifiedAt: '2026-06-15T01:00:00.000Z', submittedAt: SUBMITTED, recommendationId: null }, false],
    ['recommended, later returned by the committee and resubmitted', { verifiedAt: '2026-06-15T01:00:00.000Z', submittedAt: SUBMITTED, recommendationId: 7 }, true],
    ['reset (verification and recommendation cleared)', { verifiedAt: null, submittedAt: SUBMITTED, recommendationId: null }, false],
  ];
  for (const [name, state, want] of cases) t.equal(sealPrints(state), want, name);
});

t.test('isVerified compares with the submission of the version under review', async (t) => {
  t.notOk(isVerified({ verifiedAt: null, submittedAt: SUBMITTED }));
  t.ok(isVerified({ verifiedAt: '2026-06-15T02:00:00.001Z', submittedAt: SUBMITTED }));
  t.notOk(isVerified({ verifiedAt: '2026-06-15T01:59:59.999Z', submittedAt: SUBMITTED }));
  t.ok(isVerified({ verifiedAt: '2026-06-15T01:59:59.999Z', submittedAt: null }));
});

t.test('unitActions: what the unit may do next', async (t) => {
  let a = unitActions(s({}));
  t.same(a, { editOpinion: true, verify: false, verifyBlocked: '请先填写基层单位意见', publicize: false, completePublicity: false, recommend: false });
  a = unitActions(s({ hasOpinion: true, recommends: true }));
  t.ok(a.verify);
  t.equal(a.verifyBlocked, '');
  a = unitActions(s({ hasOpinion: true, recommends: false }));
  t.notOk(a.verify);
  t.match(a.verifyBlocked, '不同意推荐');
  a = unitActions(s(verified));
  t.same([a.verify, a.publicize, a.completePublicity, a.recommend, a.editOpinion], [false, true, false, false, true]);
  t.equal(a.verifyBlocked, '');
  a = unitActions(s({ ...verified, publicityState: 'open' }));
  t.same([a.publicize, a.completePublicity, a.recommend], [false, true, false]);
  a = unitActions(s({ ...verified, publicityState: 'objection' }));
  t.same([a.publicize, a.completePublicity, a.recommend], [false, false, false]);
  a = unitActions(s({ ...verified, publicityState: 'no_objection' }));
  t.ok(a.recommend);
  a = unitActions(s({ ...verified, publicityRequired: false }));
  t.same([a.publicize, a.recommend], [false, true]);
  a = unitActions(s({ ...verified, recommendationId: 3 }));
  t.same(a, { editOpinion: false, verify: false, verifyBlocked: '', publicize: false, completePublicity: false, recommend: false });
});

t.test('stepLine marks done / current / to do; no publicity step when not required', async (t) => {
  const line = (o: Partial<UnitStageState>) => stepLine(s(o)).map((x) => `${x.key}:${x.state}`).join(' ');
  t.equal(line({}), 'opinion:on verify:todo publicity:todo recommend:todo');
  t.equal(line({ hasOpinion: true, recommends: true }), 'opinion:done verify:on publicity:todo recommend:todo');
  t.equal(line({ ...verified, publicityState: 'open' }), 'opinion:done verify:done publicity:on recommend:todo');
  t.equal(line({ ...verified, publicityState: 'objection' }), 'opinion:done verify:done publicity:on recommend:todo');
  t.equal(line({ ...verified, publicityState: 'no_objection' }), 'opinion:done verify:done publicity:done recommend:on');
  t.equal(line({ ...verified, publicityRequired: false }), 'opinion:done verify:done recommend:on');
  t.equal(line({ ...verified, recommendationId: 1 }), 'opinion:done verify:done publicity:done recommend:done');
});

const GOOD = {
  evaluation: '该同志政治立场坚定，业务能力突出。', method: '民主推荐', scope: '院职称推荐委员会委员15人', recommendation: '同意推荐',
  formation: '经推荐委员会会议讨论，无记名投票，同意15票。', publicity: '',
};

t.test('validateOpinion: required fields, limits, choices', async (t) => {
  let v = validateOpinion(GOOD);
  t.same(v.errors, {});
  t.same(v.opinion, GOOD);

  v = validateOpinion({});
  t.same(v.errors, {
    evaluation: '请填写单位对申报人的评价意见', method: '请填写推荐方式', scope: '请填写参与推荐的人员范围及人数', recommendation: '请选择推荐意见', formation: '请填写意见形成情况',
  });
  t.equal(v.opinion, null);

  v = validateOpinion({ ...GOOD, evaluation: '  \r\n ', method: '  考核推荐  ' });
  t.equal(v.errors.evaluation, '请填写单位对申报人的评价意见', 'whitespace only is empty');
  t.equal(v.values.method, '考核推荐', 'trimmed and kept');

  // Limits count characters (code points), not bytes: 1000 Chinese characters pass, 1001 do not.
  t.same(validateOpinion({ ...GOOD, evaluation: '评'.repeat(1000) }).errors, {});
  t.equal(validateOpinion({ ...GOOD, evaluation: '评'.repeat(1001) }).errors.evaluation, '单位对申报人的评价意见不能超过1000个字');
  t.same(validateOpinion({ ...GOOD, evaluation: '𠀀'.repeat(1000) }).errors, {}, 'astral characters count once');
  t.equal(validateOpinion({ ...GOOD, method: '推'.repeat(101) }).errors.method, '推荐方式不能超过100个字');
  t.equal(validateOpinion({ ...GOOD, scope: '人'.repeat(201) }).errors.scope, '参与推荐的人员范围及人数不能超过200个字');
  t.equal(validateOpinion({ ...GOOD, formation: '意'.repeat(501) }).errors.formation, '意见形成情况不能超过500个字');
  t.equal(validateOpinion({ ...GOOD, publicity: '公'.repeat(201) }).errors.publicity, '公示情况不能超过200个字');
  t.same(validateOpinion({ ...GOOD, publicity: '已于单位公示5个工作日，无异议' }).errors, {});

  t.equal(validateOpinion({ ...GOOD, recommendation: '推荐' }).errors.recommendation, '请选择推荐意见', 'only the two choices');
  t.same(validateOpinion({ ...GOOD, recommendation: '不同意推荐' }).errors, {}, 'not recommending is a valid opinion');
  t.match(validateOpinion({ ...GOOD, recommendation: '不同意推荐' }, { verified: true }).errors.recommendation, '已核验通过');
  t.equal(validateOpinion({ ...GOOD, method: ['单位推荐', '民主推荐'] }).values.method, '民主推荐', 'a repeated field: the last value');
  t.equal(validateOpinion({ ...GOOD, method: 42 }).errors.method, '请填写推荐方式', 'non-strings are ignored');
});

t.test('parseOpinion', async (t) => {
  t.same(parseOpinion(JSON.stringify(GOOD)), GOOD);
  t.equal(parseOpinion(null), null);
  t.equal(parseOpinion('not json'), null);
  t.equal(parseOpinion('{"x":1}'), null);
});

t.test('publicity rules', async (t) => {
  t.notOk(publicityOver('2026-10-09', '2026-10-08'));
  t.notOk(publicityOver('2026-10-09', '2026-10-09'), 'the last day is still within the publicity');
  t.ok(publicityOver('2026-10-09', '2026-10-10'), 'from the day after');
  t.equal(minPublicityDays([]), 5);
  t.equal(minPublicityDays([3, 5]), 5, 'never below 5');
  t.equal(minPublicityDays([5, 7]), 7, 'the longest a plan asks for');
  t.ok(isUnitStageKind('unit'));
  t.ok(isUnitStageKind('agency'));
  t.notOk(isUnitStageKind('supervisor'));
  t.notOk(isUnitStageKind(undefined));
});

t.test('unitActions: 职能部门审核 holds 核验通过 back', async (t) => {
  const cases: { name: string; over: Partial<UnitStageState>; verify: boolean; blocked: string }[] = [
    { name: 'checkers missing', over: { hasOpinion: true, recommends: true, checkersBlock: '以下职能部门尚未审核：人事处（周敏）' }, verify: false, blocked: '以下职能部门尚未审核：人事处（周敏）' },
    { name: 'all signed', over: { hasOpinion: true, recommends: true, checkersBlock: '' }, verify: true, blocked: '' },
    { name: 'no opinion comes first', over: { hasOpinion: false, checkersBlock: 'x' }, verify: false, blocked: '请先填写基层单位意见' },
    { name: 'verified already: not shown', over: { hasOpinion: true, recommends: true, verifiedAt: '2026-06-12T00:00:00Z', submittedAt: '2026-06-10T00:00:00Z', checkersBlock: 'x' }, verify: false, blocked: '' },
  ];
  for (const c of cases) {
    const a = unitActions(s(c.over));
    t.equal(a.verify, c.verify, `${c.name}: verify`);
    t.equal(a.verifyBlocked, c.blocked, `${c.name}: reason`);
  }
});

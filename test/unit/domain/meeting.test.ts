import t from 'tap';
import { ballotRefusal, decide, groupForSpecialty, ruleOf, specialtyList, type Decision } from '../../../src/domain/meeting.js';

t.test('specialtyList', async (t) => {
  t.same(specialtyList('心血管内科，呼吸内科, 消化内科、内科'), ['心血管内科', '呼吸内科', '消化内科', '内科']);
  t.same(specialtyList(' ; ,'), []);
  t.same(specialtyList(null), []);
});

t.test('groupForSpecialty: exact first, then the field named last, else none', async (t) => {
  const groups = [
    { id: 1, specialties: '内科' },
    { id: 2, specialties: '心血管内科，呼吸内科' },
    { id: 3, specialties: '外科,骨科' },
  ];
  const cases: [string | null, number | null][] = [
    ['心血管内科', 2], ['呼吸内科', 2], ['消化内科', 1], ['内科', 1], ['骨科', 3], ['普通外科', 3], ['外科学', null], ['', null], [null, null], ['护理', null],
  ];
  for (const [s, want] of cases) t.equal(groupForSpecialty(groups, s), want, String(s));
});

t.test('decide: pass ratio, reject ratio, quorum', async (t) => {
  const twoThirds = ruleOf({ pass_ratio: '2/3' });
  const withReject = ruleOf({ pass_ratio: '2/3', reject_ratio: '1/2', min_members: 3 });
  // [agree, disagree, abstain, rule, result]
  const cases: [number, number, number, ReturnType<typeof ruleOf>, Decision][] = [
    [2, 1, 0, twoThirds, 'passed'],
    [1, 2, 0, twoThirds, 'failed'],
    [2, 0, 1, twoThirds, 'passed'], // abstentions count as present: 2/3
    [2, 1, 1, twoThirds, 'failed'], // 2/4 < 2/3
    [0, 0, 0, twoThirds, 'invalid'],
    [4, 0, 0, twoThirds, 'passed'],
    [2, 1, 0, withReject, 'passed'],
    [1, 2, 0, withReject, 'failed'], // 2/3 ≥ 1/2: rejected
    [2, 2, 0, withReject, 'failed'], // 2/4 = 1/2: rejected (≥)
    [2, 1, 1, withReject, 'undecided'], // 2/4 agree < 2/3, 1/4 disagree < 1/2
    [1, 1, 0, withReject, 'invalid'], // 2 < quorum 3
    [3, 0, 0, withReject, 'passed'],
    [3, 0, 0, ruleOf({ pass_ratio: '1', min_members: 4 }), 'invalid'],
    [4, 0, 0, ruleOf({ pass_ratio: '1', min_members: 4 }), 'passed'],
    [3, 0, 1, ruleOf({ pass_ratio: '1', min_members: 4 }), 'failed'],
  ];
  for (const [agree, disagree, abstain, rule, want] of cases) {
    const d = decide({ agree, disagree, abstain }, rule);
    t.equal(d.result, want, `${agree}/${disagree}/${abstain} → ${want}`);
    t.ok(d.reason.length > 0);
  }
  t.match(decide({ agree: 1, disagree: 1, abstain: 0 }, withReject).reason, '参加表决的评委2人，少于规定的最少3人');
});

t.test('ballotRefusal', async (t) => {
  const ok = { roundOpen: true, inRound: true, inGroup: true, alreadyVoted: false, choice: 'agree' };
  t.equal(ballotRefusal(ok), null);
  t.equal(ballotRefusal({ ...ok, roundOpen: false }), '本轮表决已结束，不能再投票');
  t.equal(ballotRefusal({ ...ok, inGroup: false }), '该申报不在您所在学科组的本轮表决范围内');
  t.equal(ballotRefusal({ ...ok, inRound: false }), '该申报不在您所在学科组的本轮表决范围内');
  t.equal(ballotRefusal({ ...ok, alreadyVoted: true }), '您已对该申报投过票，不能重复投票');
  t.equal(ballotRefusal({ ...ok, choice: 'yes' }), '请选择同意、不同意或弃权');
});

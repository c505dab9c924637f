import t from 'tap';
import {
  DEFAULT_AUTH_POLICY, describeChanges, parsePolicy, passwordExpiredDays, policyClass, readPolicyForm, twoFactorRequired, twoFactorOffered, type AuthPolicy,
} from '../../../src/domain/authPolicy.js';

const staff = (orgKind: string | null) => ({ kind: 'staff' as const, orgKind });
const applicant = { kind: 'applicant' as const, orgKind: null };
const ON: AuthPolicy = { ...DEFAULT_AUTH_POLICY, twofaHrb: true, twofaCommittee: true };

t.test('who must use 2FA', async (t) => {
  const cases: [string, { kind: 'staff' | 'applicant'; orgKind: string | null; roles?: string[] }, boolean, boolean][] = [
    // who, default policy, both switches on
    ['platform admin', staff('platform'), true, true],
    ['HRB staff', staff('hrb'), false, true],
    ['committee office staff', staff('committee'), false, true],
    ['committee member (评委)', { ...staff('committee'), roles: ['member'] }, true, true],
    ['unit staff', staff('unit'), false, false],
    ['supervisor staff', staff('supervisor'), false, false],
    ['agency staff', staff('agency'), false, false],
    ['staff without org', staff(null), false, false],
    ['applicant', applicant, false, false],
  ];
  for (const [label, who, byDefault, whenOn] of cases) {
    t.equal(twoFactorRequired(DEFAULT_AUTH_POLICY, who), byDefault, `${label}: default`);
    t.equal(twoFactorRequired(ON, who), whenOn, `${label}: switched on`);
  }
  t.equal(twoFactorRequired({ ...DEFAULT_AUTH_POLICY, twofaHrb: true }, staff('committee')), false, 'the switches are separate');
  t.equal(twoFactorOffered(staff('unit')), true);
  t.equal(twoFactorOffered(applicant), false);
});

t.test('password expiry per class', async (t) => {
  const changed = '2026-01-01T00:00:00.000Z';
  const at = (days: number) => new Date(Date.parse(changed) + days * 86_400_000 + 1);
  t.equal(policyClass(staff('platform')), 'admin');
  t.equal(policyClass(staff('hrb')), 'staff');
  t.equal(policyClass(applicant), 'applicant');
  const cases: [string, AuthPolicy, { kind: 'staff' | 'applicant'; orgKind: string | null }, string | null, Date, number | null][] = [
    ['admin at 90 days exactly', DEFAULT_AUTH_POLICY, staff('platform'), changed, new Date(Date.parse(changed) + 90 * 86_400_000), null],
    ['admin just after 90 days', DEFAULT_AUTH_POLICY, staff('platform'), changed, at(90), 90],
    ['unit staff after 91 days', DEFAULT_AUTH_POLICY, staff('unit'), changed, at(91), 90],
    ['applicant after 10 years: never by default', DEFAULT_AUTH_POLICY, applicant, changed, at(3650), null],
    ['applicant with 180 days', { ...DEFAULT_AUTH_POLICY, expiryDays: { admin: 90, staff: 90, applicant: 180 } }, applicant, changed, at(180), 180],
    ['staff switched off', { ...DEFAULT_AUTH_POLICY, expiryDays: { admin: 90, staff: 0, applicant: 0 } }, staff('hrb'), changed, at(1000), null],
    ['no date recorded', DEFAULT_AUTH_POLICY, staff('platform'), null, at(1000), null],
    ['unreadable date', DEFAULT_AUTH_POLICY, staff('platform'), 'x', at(1000), null],
  ];
  for (const [label, p, who, when, now, want] of cases) t.equal(passwordExpiredDays(p, who, when, now), want, label);
});

t.test('stored JSON: defaults for anything missing or malformed', async (t) => {
  t.same(parsePolicy(null), DEFAULT_AUTH_POLICY);
  t.same(parsePolicy('not json'), DEFAULT_AUTH_POLICY);
  t.same(parsePolicy('[1,2]'), DEFAULT_AUTH_POLICY);
  t.same(parsePolicy('{"twofaHrb":true,"expiryDays":{"admin":30,"staff":-1,"applicant":"7"}}'), { twofaHrb: true, twofaCommittee: false, expiryDays: { admin: 30, staff: 90, applicant: 0 } });
  t.same(parsePolicy(JSON.stringify(ON)), ON, 'round trip');
});

t.test('the policy form', async (t) => {
  const ok = readPolicyForm({ twofa_hrb: '1', expiry_admin: '30', expiry_staff: '0', expiry_applicant: ' 180 ' });
  t.same(ok, { policy: { twofaHrb: true, twofaCommittee: false, expiryDays: { admin: 30, staff: 0, applicant: 180 } }, errors: {} });
  const cases: [Record<string, string>, string, string][] = [
    [{ expiry_admin: '' }, 'expiry_admin', '请填写平台管理员的密码有效期'],
    [{ expiry_staff: '-5' }, 'expiry_staff', '密码有效期应为0–3650的整数天（0表示不过期）'],
    [{ expiry_staff: '3651' }, 'expiry_staff', '密码有效期应为0–3650的整数天（0表示不过期）'],
    [{ expiry_applicant: '1.5' }, 'expiry_applicant', '密码有效期应为0–3650的整数天（0表示不过期）'],
    [{ expiry_applicant: '九十' }, 'expiry_applicant', '密码有效期应为0–3650的整数天（0表示不过期）'],
  ];
  for (const [patch, field, msg] of cases) {
    const r = readPolicyForm({ expiry_admin: '90', expiry_staff: '90', expiry_applicant: '0', ...patch });
    t.equal(r.policy, null, JSON.stringify(patch));
    t.equal(r.errors[field], msg);
  }
  t.equal(readPolicyForm({ twofa_committee: 'yes', expiry_admin: '1', expiry_staff: '1', expiry_applicant: '1' }).policy!.twofaCommittee, false, 'only 1/on count as checked');
});

t.test('audit detail of a change', async (t) => {
  t.equal(describeChanges(DEFAULT_AUTH_POLICY, DEFAULT_AUTH_POLICY), '安全策略：未改变');
  t.equal(
    describeChanges(DEFAULT_AUTH_POLICY, { twofaHrb: true, twofaCommittee: false, expiryDays: { admin: 60, staff: 0, applicant: 90 } }),
    '安全策略：人社局工作人员双因素认证 关→开；平台管理员密码有效期 90天→60天；单位/主管部门/人社/评委会工作人员密码有效期 90天→不过期；申报人密码有效期 不过期→90天',
  );
});

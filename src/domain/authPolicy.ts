// Login security policy (GB/T 22239 level 3, 身份鉴别): who must use two-factor login and how
// old a password may get. Stored as JSON in settings 'auth_policy'; edited by the security admin.

export interface AuthPolicy {
  /** 2FA required for HR bureau (人社局) staff. */
  twofaHrb: boolean;
  /** 2FA required for committee office (评委会办公室) staff. */
  twofaCommittee: boolean;
  /** Password expiry per class in days; 0 = never. */
  expiryDays: Record<PolicyClass, number>;
}

export type PolicyClass = 'admin' | 'staff' | 'applicant';

export const POLICY_CLASS_LABEL: Record<PolicyClass, string> = {
  admin: '平台管理员',
  staff: '单位/主管部门/人社/评委会工作人员',
  applicant: '申报人',
};

// 2FA for HRB and committee staff is off by default: county offices switch it on once their
// staff have phones with an authenticator app (README, 双因素认证).
export const DEFAULT_AUTH_POLICY: AuthPolicy = {
  twofaHrb: false,
  twofaCommittee: false,
  expiryDays: { admin: 90, staff: 90, applicant: 0 },
};

export const EXPIRY_MAX_DAYS = 3650;

interface Who {
  kind: 'applicant' | 'staff';
  orgKind: string | null;
  roles?: readonly string[];
}

/** Platform staff (system, security and audit admins) are 平台管理员; other staff are staff. */
export function policyClass(u: Who): PolicyClass {
  if (u.kind === 'applicant') return 'applicant';
  return u.orgKind === 'platform' ? 'admin' : 'staff';
}

/** Admins and committee members (评委) always; HRB and committee office staff when the policy says so; applicants never. */
export function twoFactorRequired(p: AuthPolicy, u: Who): boolean {
  if (u.kind !== 'staff') return false;
  if (u.orgKind === 'platform') return true;
  // 评委 cast secret ballots: a stolen password alone must not vote (issue #16).
  if (u.roles?.includes('member')) return true;
  if (u.orgKind === 'hrb') return p.twofaHrb;
  if (u.orgKind === 'committee') return p.twofaCommittee;
  return false;
}

/** Whether a user may enrol at all (any staff; applicants are not offered 2FA). */
export function twoFactorOffered(u: Who): boolean {
  return u.kind === 'staff';
}

/**
 * The expiry in days when the password set at `changedAt` (ISO) is older than the policy
 * allows at `now`, else null. No date (never recorded) counts as not expired.
 */
export function passwordExpiredDays(p: AuthPolicy, u: Who, changedAt: string | null, now: Date): number | null {
  const days = p.expiryDays[policyClass(u)];
  if (!days || !changedAt) return null;
  const at = Date.parse(changedAt);
  if (Number.isNaN(at)) return null;
  return at + days * 86_400_000 < now.getTime() ? days : null;
}

const isDays = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= EXPIRY_MAX_DAYS;

/** The stored JSON, with defaults for anything missing or malformed. */
export function parsePolicy(json: string | null | undefined): AuthPolicy {
  let raw: { twofaHrb?: unknown; twofaCommittee?: unknown; expiryDays?: Partial<Record<PolicyClass, unknown>> } = {};
  try {
    const v: unknown = json ? JSON.parse(json) : {};
    if (v && typeof v === 'object') raw = v as typeof raw;
  } catch {
    raw = {};
  }
  const d = DEFAULT_AUTH_POLICY;
  const e: Partial<Record<PolicyClass, unknown>> = raw.expiryDays && typeof raw.expiryDays === 'object' ? raw.expiryDays : {};
  return {
    twofaHrb: typeof raw.twofaHrb === 'boolean' ? raw.twofaHrb : d.twofaHrb,
    twofaCommittee: typeof raw.twofaCommittee === 'boolean' ? raw.twofaCommittee : d.twofaCommittee,
    expiryDays: {
      admin: isDays(e.admin) ? e.admin : d.expiryDays.admin,
      staff: isDays(e.staff) ? e.staff : d.expiryDays.staff,
      applicant: isDays(e.applicant) ? e.applicant : d.expiryDays.applicant,
    },
  };
}

/** The policy form: checkboxes (present = on) and whole days 0–3650 per class. */
export function readPolicyForm(body: Record<string, unknown>): { policy: AuthPolicy | null; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const days = {} as Record<PolicyClass, number>;
  for (const c of ['admin', 'staff', 'applicant'] as const) {
    const name = `expiry_${c}`;
    const text = String(body[name] ?? '').trim();
    const n = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
    if (text === '') errors[name] = `请填写${POLICY_CLASS_LABEL[c]}的密码有效期`;
    else if (!isDays(n)) errors[name] = `密码有效期应为0–${EXPIRY_MAX_DAYS}的整数天（0表示不过期）`;
    else days[c] = n;
  }
  const on = (k: string) => body[k] === '1' || body[k] === 'on';
  if (Object.keys(errors).length) return { policy: null, errors };
  return { policy: { twofaHrb: on('twofa_hrb'), twofaCommittee: on('twofa_committee'), expiryDays: days }, errors };
}

/** What changed, in words, for the audit row (no personal data in a policy). */
export function describeChanges(before: AuthPolicy, after: AuthPolicy): string {
  const out: string[] = [];
  const onOff = (b: boolean) => (b ? '开' : '关');
  if (before.twofaHrb !== after.twofaHrb) out.push(`人社局工作人员双因素认证 ${onOff(before.twofaHrb)}→${onOff(after.twofaHrb)}`);
  if (before.twofaCommittee !== after.twofaCommittee) out.push(`评委会办公室工作人员双因素认证 ${onOff(before.twofaCommittee)}→${onOff(after.twofaCommittee)}`);
  const d = (n: number) => (n ? `${n}天` : '不过期');
  for (const c of ['admin', 'staff', 'applicant'] as const) {
    if (before.expiryDays[c] !== after.expiryDays[c]) out.push(`${POLICY_CLASS_LABEL[c]}密码有效期 ${d(before.expiryDays[c])}→${d(after.expiryDays[c])}`);
  }
  return out.length ? `安全策略：${out.join('；')}` : '安全策略：未改变';
}

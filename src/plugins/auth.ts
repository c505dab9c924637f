import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DB } from '../db/index.js';
import { refererPath } from './pending.js';
import { redirect } from './views.js';
import { passwordExpiredDays, twoFactorRequired } from '../domain/authPolicy.js';
import { getPolicy } from '../features/security/authPolicy.js';
import { anyDutyRefusal, dutiesOf, dutyRefusal, type Duty } from '../domain/duties.js';

export interface CurrentUser {
  id: number;
  kind: 'applicant' | 'staff';
  name: string;
  username: string | null;
  roles: string[];
  orgId: number | null;
  orgKind: string | null;
  orgName: string | null;
  unitOrgId: number | null;
  idMasked: string | null;
  phoneMasked: string | null;
  mustChangePassword: boolean;
  /** Granted permissions (users.permissions), e.g. 'reveal_pii'. */
  permissions: string[];
  /** The password is older than the policy allows (that many days): change it before anything else. */
  passwordExpiredDays: number | null;
  /** The policy requires two-factor login and it is not set up yet: enrol before anything else. */
  mustEnrol2fa: boolean;
  /** 本级人员授权: what this staff account may do in its organisation (src/domain/duties.ts). */
  duties: Duty[];
}

declare module 'fastify' {
  interface FastifyRequest {
    user: CurrentUser | null;
  }
}

/** `now` is the app's clock (config.now): password expiry is measured on it. */
export async function loadUser(db: DB, id: number, now: Date = new Date()): Promise<CurrentUser | null> {
  const row = await db
    .selectFrom('users as u')
    .leftJoin('orgs as o', 'o.id', 'u.org_id')
    .select([
      'u.id', 'u.kind', 'u.name', 'u.username', 'u.roles', 'u.org_id', 'u.unit_org_id', 'u.id_masked',
      'u.phone_masked', 'u.must_change_password', 'u.disabled', 'u.locked_at', 'o.kind as org_kind', 'o.name as org_name',
      'u.permissions', 'u.duties', 'u.totp_enabled', 'u.password_changed_at', 'u.created_at',
    ])
    .where('u.id', '=', id)
    .executeTakeFirst();
  if (!row || row.disabled) return null;
  const policy = await getPolicy(db);
  const who = { kind: row.kind, orgKind: row.org_kind ?? null, roles: row.roles ? row.roles.split(',') : [] };
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    username: row.username,
    roles: row.roles ? row.roles.split(',') : [],
    orgId: row.org_id,
    orgKind: row.org_kind ?? null,
    orgName: row.org_name ?? null,
    unitOrgId: row.unit_org_id,
    idMasked: row.id_masked,
    phoneMasked: row.phone_masked,
    mustChangePassword: !!row.must_change_password,
    permissions: row.permissions ? row.permissions.split(',') : [],
    // The policy is applied on every request, so a change (or a 2FA reset) bites at once.
    passwordExpiredDays: passwordExpiredDays(policy, who, row.password_changed_at ?? row.created_at, now),
    mustEnrol2fa: !row.totp_enabled && twoFactorRequired(policy, who),
    duties: row.kind === 'staff' ? dutiesOf(row.duties, row.org_kind, row.roles ? row.roles.split(',') : []) : [],
  };
}

/** Where a signed-in user lands. */
export function homeOf(user: CurrentUser): string {
  if (user.kind === 'applicant') return '/me';
  if (user.orgKind === 'platform' && user.roles.includes('security')) return '/admin/security/users';
  if (user.orgKind === 'platform' && user.roles.includes('audit')) return '/admin/audit';
  if (user.roles.includes('member')) return '/vote';
  return user.roles.includes('admin') ? '/admin' : '/org';
}

function toLogin(req: FastifyRequest, reply: FastifyReply) {
  // Staff pages send people to the 单位用户 tab.
  const staffArea = req.url.startsWith('/org') || req.url.startsWith('/admin');
  // A post that arrives without a session (a no-JS upload: its CSRF token is only read with the
  // body) goes back to the page it came from after the login; a file cannot be kept (say so).
  const back = req.method === 'GET' ? req.url : refererPath(req);
  const upload = req.method !== 'GET' && /^multipart\//i.test(String(req.headers['content-type'] ?? ''));
  const params = [staffArea ? 'type=staff' : '', back ? `next=${encodeURIComponent(back)}` : '', upload ? 'expired=upload' : ''].filter(Boolean).join('&');
  const next = params ? `?${params}` : '';
  if (req.headers['hx-request']) {
    // htmx would swap the login page into a fragment target: make it a full navigation.
    return reply.code(200).header('HX-Redirect', `/login${next}`).send();
  }
  return redirect(reply, `/login${next}`);
}

type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

function guard(check: (u: CurrentUser) => boolean): Guard {
  return async (req, reply) => {
    const u = req.user;
    if (!u) return toLogin(req, reply);
    // A password set by someone else must be replaced before anything else.
    if (u.mustChangePassword && !req.url.startsWith('/account/password')) {
      return redirect(reply, '/account/password');
    }
    // So must an expired one; then a required second factor is set up (GB/T 22239 身份鉴别).
    if (u.passwordExpiredDays && !req.url.startsWith('/account/password')) return redirect(reply, '/account/password');
    // (Not while the password page itself is still due: that comes first.)
    if (u.mustEnrol2fa && !u.mustChangePassword && !u.passwordExpiredDays && !req.url.startsWith('/account/2fa')) return redirect(reply, '/account/2fa');
    if (!check(u)) return reply.code(403).page('errors/error.njk', { title: '无权访问', message: '您没有访问该页面的权限。' }, 403);
  };
}

export const requireUser = guard(() => true);
export const requireApplicant = guard((u) => u.kind === 'applicant');
export const requireStaff = guard((u) => u.kind === 'staff');
/** 三权分立 (GB/T 22239): three platform roles, never two on one account. */
export const ADMIN_ROLES = ['admin', 'security', 'audit'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];
export const hasPlatformRole = (u: CurrentUser, role: AdminRole) => u.kind === 'staff' && u.orgKind === 'platform' && u.roles.includes(role);
/** 系统管理员: organisations, users, dictionaries, holidays. */
export const requireAdmin = guard((u) => hasPlatformRole(u, 'admin'));
export const requireSystemAdmin = requireAdmin;
/** 安全管理员: roles and permissions, security policies, unlocks, sessions. */
export const requireSecurityAdmin = guard((u) => hasPlatformRole(u, 'security'));
/** 审计管理员: reads the audit log, nothing else. */
export const requireAuditAdmin = guard((u) => hasPlatformRole(u, 'audit'));

/** Does this staff user hold the duty? Platform admins act as the platform, never as a reviewer. */
export const hasDuty = (u: CurrentUser | null, duty: Duty) => !!u && u.kind === 'staff' && u.duties.includes(duty);

/**
 * The one duty check of every staff action (本级人员授权): a 403 page naming the missing duty.
 * Returns true when it refused (the reply is sent), so a handler does `if (await refuseWithoutDuty(…)) return reply;`.
 */
export async function refuseWithoutDuty(req: FastifyRequest, reply: FastifyReply, duty: Duty): Promise<boolean> {
  if (hasDuty(req.user, duty)) return false;
  await reply.code(403).page('errors/error.njk', { title: '无权操作', message: dutyRefusal(duty) }, 403);
  return true;
}

/** A preHandler: a signed-in staff user holding `duty`. */
export function requireDuty(duty: Duty): Guard {
  return async (req, reply) => {
    await requireStaff(req, reply);
    if (reply.sent) return reply;
    if (await refuseWithoutDuty(req, reply, duty)) return reply;
  };
}

export default fp(async function authPlugin(app: FastifyInstance, opts: { db: DB; now?: () => Date }) {
  app.decorateRequest('user', null);
  app.addHook('preHandler', async (req) => {
    const id = req.session?.userId;
    req.user = id ? await loadUser(opts.db, id, opts.now?.()) : null;
  });
});

/** A preHandler: a signed-in staff user holding any of `duties` (pages several duties need to see). */
export function requireAnyDuty(...duties: Duty[]): Guard {
  return async (req, reply) => {
    await requireStaff(req, reply);
    if (reply.sent) return reply;
    const u = req.user;
    if (duties.some((d) => hasDuty(u, d))) return;
    await reply.code(403).page('errors/error.njk', { title: '无权操作', message: anyDutyRefusal(duties) }, 403);
    return reply;
  };
}

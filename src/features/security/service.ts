/**
 * 安全管理员 (三权分立): roles and permissions of existing accounts, unlocks, a user's sessions.
 * Every change is audited in the same transaction as the change itself.
 */
import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import {
  PERMISSIONS, PLATFORM_ROLES, browserLabel, isPlatformRole, parseList, permissionAllowed, platformRolesOf, separationError, withPlatformRole,
  type PlatformRole,
} from '../../domain/roles.js';
import { audit } from '../audit/service.js';

export const ROLE_LABEL: Record<string, string> = Object.fromEntries(PLATFORM_ROLES.map((r) => [r.code, r.name]));
export const PERMISSION_LABEL: Record<string, string> = Object.fromEntries(PERMISSIONS.map((p) => [p.code, p.name]));

export type Result = { ok: true; message: string } | { ok: false; error: string; field?: string };

async function message(t: Kysely<Database>, ctx: AppContext, userId: number, content: string) {
  await t.insertInto('messages').values({ user_id: userId, type: '系统消息', content, created_at: ctx.config.now().toISOString() }).execute();
}

/** The account a security-admin page is about (any user; a bad id is simply not found). */
export async function loadAccount(ctx: AppContext, rawId: unknown) {
  const id = Number(rawId);
  if (!Number.isSafeInteger(id) || id < 1) return undefined;
  return ctx.db
    .selectFrom('users as u')
    .leftJoin('orgs as o', 'o.id', 'u.org_id')
    .select([
      'u.id', 'u.kind', 'u.username', 'u.name', 'u.id_masked', 'u.roles', 'u.permissions', 'u.org_id', 'u.failed_logins', 'u.locked_at',
      'u.disabled', 'u.must_change_password', 'u.last_login_at', 'o.name as org_name', 'o.kind as org_kind',
    ])
    .where('u.id', '=', id)
    .executeTakeFirst();
}
export type Account = NonNullable<Awaited<ReturnType<typeof loadAccount>>>;

/** '系统管理员', '单位管理员、…' — the roles as people read them. */
export function rolesText(a: { kind: string; roles: string }): string {
  if (a.kind === 'applicant') return '申报人';
  const roles = parseList(a.roles);
  const platform = platformRolesOf(roles);
  return platform.length ? platform.map((r) => ROLE_LABEL[r]).join('、') : roles.length ? '机构用户（含机构内角色）' : '机构用户';
}

/**
 * Sets the platform role of an existing staff account (or removes it). Refused for one's own
 * account, outside the platform org, and for the last enabled holder of a platform role (the
 * platform would be left without anyone doing that job).
 */
export async function setPlatformRole(ctx: AppContext, req: FastifyRequest, a: Account, raw: string): Promise<Result> {
  const role: PlatformRole | null = raw === '' || raw === 'none' ? null : isPlatformRole(raw) ? raw : null;
  if (raw && raw !== 'none' && !role) return { ok: false, field: 'role', error: '请选择有效的角色' };
  if (a.id === req.user!.id) return { ok: false, field: 'role', error: '不能修改自己的角色，请由其他安全管理员办理' };
  if (a.kind !== 'staff') return { ok: false, field: 'role', error: '个人用户没有平台管理角色' };
  if (role && a.org_kind !== 'platform') return { ok: false, field: 'role', error: '平台管理角色只能授予平台运营机构的用户' };
  const before = parseList(a.roles);
  const next = withPlatformRole(before, role);
  const sep = separationError(next);
  if (sep) return { ok: false, field: 'role', error: sep };
  const old = platformRolesOf(before);
  if (role ? old.length === 1 && old[0] === role : old.length === 0) return { ok: true, message: '角色未变化' };
  // A security or audit admin sees no personal data: the permission goes with the new role.
  const perms = parseList(a.permissions).filter((p) => permissionAllowed(p, next));
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (t) => {
    for (const r of old) {
      if (r === role) continue;
      const others = await t
        .selectFrom('users as u')
        .innerJoin('orgs as o', 'o.id', 'u.org_id')
        .select('u.roles')
        .where('o.kind', '=', 'platform')
        .where('u.disabled', '=', 0)
        .where('u.id', '!=', a.id)
        .execute();
      if (!others.some((o) => parseList(o.roles).includes(r))) {
        return { ok: false as const, field: 'role', error: `这是唯一的${ROLE_LABEL[r]}，请先为其他账号授予该角色` };
      }
    }
    await t.updateTable('users').set({ roles: next.join(','), permissions: perms.join(','), updated_at: stamp }).where('id', '=', a.id).execute();
    const label = (rs: string[]) => platformRolesOf(rs).map((r) => ROLE_LABEL[r]).join('、') || '无';
    await message(t, ctx, a.id, `您的平台管理角色已由安全管理员调整为：${label(next)}。`);
    await audit(ctx, req, { action: 'role_change', objectType: 'user', objectId: a.id, detail: `平台角色 ${label(before)} → ${label(next)}` }, t);
    return { ok: true as const, message: role ? `已设为${ROLE_LABEL[role]}` : '已取消平台管理角色' };
  });
}

/** Grants or revokes permissions (the boxes ticked are the new set). */
export async function setPermissions(ctx: AppContext, req: FastifyRequest, a: Account, ticked: string[]): Promise<Result> {
  if (a.id === req.user!.id) return { ok: false, field: 'permissions', error: '不能修改自己的权限，请由其他安全管理员办理' };
  if (a.kind !== 'staff') return { ok: false, field: 'permissions', error: '个人用户不能授予权限' };
  const roles = parseList(a.roles);
  const known = PERMISSIONS.map((p) => p.code as string);
  const next = known.filter((p) => ticked.includes(p));
  const refused = next.find((p) => !permissionAllowed(p, roles));
  if (refused) return { ok: false, field: 'permissions', error: `安全管理员、审计管理员不能拥有“${PERMISSION_LABEL[refused]}”权限` };
  const before = parseList(a.permissions);
  const granted = next.filter((p) => !before.includes(p));
  const revoked = before.filter((p) => !next.includes(p));
  if (!granted.length && !revoked.length) return { ok: true, message: '权限未变化' };
  const stamp = ctx.config.now().toISOString();
  const names = (ps: string[]) => ps.map((p) => PERMISSION_LABEL[p] ?? p).join('、');
  await writeTx(ctx.db, async (t) => {
    // Unknown codes already stored (none today) are kept: this form only manages the known ones.
    const kept = before.filter((p) => !known.includes(p));
    await t.updateTable('users').set({ permissions: [...kept, ...next].join(','), updated_at: stamp }).where('id', '=', a.id).execute();
    const detail = [granted.length ? `授予：${names(granted)}` : '', revoked.length ? `撤销：${names(revoked)}` : ''].filter(Boolean).join('；');
    await message(t, ctx, a.id, `您的权限已由安全管理员调整（${detail}）。`);
    await audit(ctx, req, { action: 'permission_change', objectType: 'user', objectId: a.id, detail }, t);
  });
  return { ok: true, message: '权限已保存' };
}

/** 解锁: clears the lock and the failure count. */
export async function unlockAccount(ctx: AppContext, req: FastifyRequest, a: Account): Promise<Result> {
  if (!a.locked_at && !a.failed_logins) return { ok: true, message: '该账号未被锁定' };
  const stamp = ctx.config.now().toISOString();
  await writeTx(ctx.db, async (t) => {
    await t.updateTable('users').set({ failed_logins: 0, locked_at: null, updated_at: stamp }).where('id', '=', a.id).execute();
    await message(t, ctx, a.id, '您的账号已由安全管理员解锁。');
    await audit(ctx, req, { action: 'account_unlock', objectType: 'user', objectId: a.id, detail: '安全管理员解锁' }, t);
  });
  return { ok: true, message: '账号已解锁' };
}

// ---- Sessions ----

/**
 * A session is named on pages and in URLs by a digest of its id, never the id itself: the id
 * is a credential, and the security admin's page must not carry other people's.
 */
export const sessionHandle = (sid: string) => crypto.createHash('sha256').update(`zc-session:${sid}`).digest('hex').slice(0, 24);

export async function activeSessions(ctx: AppContext, userId: number, currentSid?: string) {
  const now = ctx.config.now();
  // Live = inside both the idle window (expires_at) and the absolute lifetime.
  const born = new Date(now.getTime() - ctx.config.sessionAbsoluteHours * 3_600_000).toISOString();
  const rows = await ctx.db
    .selectFrom('sessions')
    .select(['sid', 'created_at', 'last_seen_at', 'ip', 'user_agent', 'expires_at'])
    .where('user_id', '=', userId)
    .where('expires_at', '>', now.toISOString())
    .where('created_at', '>', born)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((r) => ({
    handle: sessionHandle(r.sid),
    created_at: r.created_at,
    last_seen_at: r.last_seen_at ?? r.created_at,
    ip: r.ip ?? '—',
    browser: browserLabel(r.user_agent),
    current: r.sid === currentSid,
  }));
}

/** Ends one session of the user (found by its handle). */
export async function endOneSession(ctx: AppContext, req: FastifyRequest, a: Account, handle: string): Promise<Result> {
  const rows = await ctx.db.selectFrom('sessions').select('sid').where('user_id', '=', a.id).execute();
  const hit = rows.find((r) => sessionHandle(r.sid) === handle);
  if (!hit) return { ok: false, error: '该会话已结束或不存在' };
  if (hit.sid === req.session.sessionId) return { ok: false, error: '不能在此结束当前会话，请使用“退出”' };
  await writeTx(ctx.db, async (t) => {
    await t.deleteFrom('sessions').where('sid', '=', hit.sid).where('user_id', '=', a.id).execute();
    await message(t, ctx, a.id, '您的一个登录会话已被安全管理员结束。');
    await audit(ctx, req, { action: 'session_end', objectType: 'user', objectId: a.id, detail: '结束一个会话' }, t);
  });
  return { ok: true, message: '会话已结束' };
}

/** Ends all of the user's sessions (one's own current session excepted). */
export async function endAllSessions(ctx: AppContext, req: FastifyRequest, a: Account): Promise<Result> {
  const keep = a.id === req.user!.id ? req.session.sessionId : null;
  const n = await writeTx(ctx.db, async (t) => {
    let q = t.deleteFrom('sessions').where('user_id', '=', a.id);
    if (keep) q = q.where('sid', '!=', keep);
    const r = await q.executeTakeFirst();
    const count = Number(r.numDeletedRows);
    await message(t, ctx, a.id, '您的全部登录会话已被安全管理员结束，请重新登录。');
    await audit(ctx, req, { action: 'session_end', objectType: 'user', objectId: a.id, detail: `结束全部会话（${count}个）` }, t);
    return count;
  });
  return { ok: true, message: `已结束${n}个会话` };
}

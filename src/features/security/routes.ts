import { sql } from 'kysely';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireSecurityAdmin } from '../../plugins/auth.js';
import { redirect } from '../../plugins/views.js';
import { pageParams, makePage } from '../../lib/paging.js';
import { PERMISSIONS, PLATFORM_ROLES, parseList, permissionAllowed, platformRolesOf } from '../../domain/roles.js';
import { containsPattern } from '../admin/orgs.js';
import { userStatus } from '../admin/users.js';
import * as security from './service.js';
import revealRoutes from './reveal.js';

type Body = Record<string, unknown>;

/**
 * 安全管理员 screens (/admin/security/…): roles and permissions of existing accounts, unlocks
 * and sessions. The 2FA policy page and the 2FA reset (/admin/security/policy,
 * …/totp-reset) are another feature's routes; this page links and posts to them.
 */
export default async function securityRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  await app.register(revealRoutes, { ctx });
  const opts = { preHandler: requireSecurityAdmin };
  const crumbs = (more: { label: string; href?: string }[] = []) => [{ label: '安全管理', href: '/admin/security/users' }, ...more];

  app.get('/admin/security', opts, async (_req, reply) => redirect(reply, '/admin/security/users'));

  // 用户与权限: every account, searchable; locked ones can be filtered for unlocking.
  app.get('/admin/security/users', opts, async (req, reply) => {
    const query = req.query as Record<string, string | undefined>;
    const q = (query.q ?? '').trim().slice(0, 64);
    const kind = query.kind === 'applicant' || query.kind === 'staff' ? query.kind : '';
    const status = query.status === 'locked' || query.status === 'platform' || query.status === 'reveal' ? query.status : '';
    const { page, size, offset } = pageParams(query, 20);
    let base = ctx.db.selectFrom('users as u').leftJoin('orgs as o', 'o.id', 'u.org_id').leftJoin('orgs as un', 'un.id', 'u.unit_org_id');
    if (q) base = base.where((eb) => eb.or([sql<boolean>`u.name like ${containsPattern(q)} escape '\\'`, sql<boolean>`u.username like ${containsPattern(q)} escape '\\'`]));
    if (kind) base = base.where('u.kind', '=', kind);
    if (status === 'locked') base = base.where('u.locked_at', 'is not', null);
    if (status === 'platform') base = base.where('o.kind', '=', 'platform');
    if (status === 'reveal') base = base.where(sql<boolean>`(',' || u.permissions || ',') like '%,reveal!_pii,%' escape '!'`);
    const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .select(['u.id', 'u.kind', 'u.name', 'u.username', 'u.id_masked', 'u.roles', 'u.permissions', 'u.disabled', 'u.locked_at', 'u.must_change_password', 'u.last_login_at', 'o.name as org_name', 'un.name as unit_name'])
      .orderBy('u.id', 'desc')
      .limit(size)
      .offset(offset)
      .execute();
    const list = makePage(
      rows.map((r) => ({
        ...r, status: userStatus(r), rolesText: security.rolesText(r),
        permsText: parseList(r.permissions).map((p) => security.PERMISSION_LABEL[p] ?? p).join('、'),
      })),
      Number(n), page, size,
    );
    return reply.page('security/users.njk', { list, q, kind, status, title: '用户与权限', breadcrumbs: crumbs([{ label: '用户与权限' }]) });
  });

  const detailPage = async (req: FastifyRequest, reply: FastifyReply, a: security.Account, errors: Record<string, string> = {}) => {
    const roles = parseList(a.roles);
    const platformRole = platformRolesOf(roles)[0] ?? '';
    return reply.page(
      'security/user.njk',
      {
        a: { ...a, status: userStatus(a), rolesText: security.rolesText(a), permsText: parseList(a.permissions).map((p) => security.PERMISSION_LABEL[p] ?? p).join('、') },
        self: a.id === req.user!.id,
        platformRole,
        roleOptions: PLATFORM_ROLES,
        permissions: PERMISSIONS.map((p) => ({ ...p, checked: parseList(a.permissions).includes(p.code), allowed: permissionAllowed(p.code, roles) })),
        sessions: await security.activeSessions(ctx, a.id, req.session.sessionId),
        errors,
        title: `账号安全：${a.name}`,
        breadcrumbs: crumbs([{ label: '用户与权限', href: '/admin/security/users' }, { label: a.name }]),
      },
      Object.keys(errors).length ? 422 : 200,
    );
  };

  const account = async (req: FastifyRequest) => security.loadAccount(ctx, (req.params as { id: string }).id);
  const back = (a: security.Account) => `/admin/security/users/${a.id}`;
  const done = (reply: FastifyReply, a: security.Account, r: security.Result) =>
    r.ok ? reply.flashRedirect(back(a), r.message) : reply.flashRedirect(back(a), r.error, 'error');

  app.get('/admin/security/users/:id', opts, async (req, reply) => {
    const a = await account(req);
    if (!a) return reply.callNotFound();
    return detailPage(req, reply, a);
  });

  app.post('/admin/security/users/:id/role', opts, async (req, reply) => {
    const a = await account(req);
    if (!a) return reply.callNotFound();
    const r = await security.setPlatformRole(ctx, req, a, String((req.body as Body)?.role ?? ''));
    if (!r.ok) return detailPage(req, reply, a, { [r.field ?? 'role']: r.error });
    return reply.flashRedirect(back(a), r.message);
  });

  app.post('/admin/security/users/:id/permissions', opts, async (req, reply) => {
    const a = await account(req);
    if (!a) return reply.callNotFound();
    const raw = (req.body as Body)?.permissions;
    const ticked = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
    const r = await security.setPermissions(ctx, req, a, ticked);
    if (!r.ok) return detailPage(req, reply, a, { [r.field ?? 'permissions']: r.error });
    return reply.flashRedirect(back(a), r.message);
  });

  app.post('/admin/security/users/:id/unlock', opts, async (req, reply) => {
    const a = await account(req);
    if (!a) return reply.callNotFound();
    return done(reply, a, await security.unlockAccount(ctx, req, a));
  });

  // ---- Sessions: confirm first, then end ----
  app.get('/admin/security/users/:id/sessions/:handle/end', opts, async (req, reply) => {
    const a = await account(req);
    if (!a) return reply.callNotFound();
    const { handle } = req.params as { handle: string };
    const s = (await security.activeSessions(ctx, a.id, req.session.sessionId)).find((x) => x.handle === handle);
    if (!s) return reply.flashRedirect(back(a), '该会话已结束或不存在', 'error');
    return reply.page('components/confirm.njk', {
      title: '结束会话',
      message: `确定结束“${a.name}”的这个会话吗（来源 ${s.ip}，${s.browser}）？该设备上的登录将立即失效。`,
      action: `${back(a)}/sessions/${handle}/end`, cancel: back(a), confirmLabel: '结束此会话',
    });
  });

  app.post('/admin/security/users/:id/sessions/:handle/end', opts, async (req, reply) => {
    const a = await account(req);
    if (!a) return reply.callNotFound();
    return done(reply, a, await security.endOneSession(ctx, req, a, (req.params as { handle: string }).handle));
  });

  app.get('/admin/security/users/:id/sessions/end-all', opts, async (req, reply) => {
    const a = await account(req);
    if (!a) return reply.callNotFound();
    const self = a.id === req.user!.id;
    return reply.page('components/confirm.njk', {
      title: '结束全部会话',
      message: self ? '确定结束您在其他设备上的全部会话吗？当前会话保留。' : `确定结束“${a.name}”的全部会话吗？该用户在所有设备上的登录将立即失效。`,
      action: `${back(a)}/sessions/end-all`, cancel: back(a), confirmLabel: '结束全部会话',
    });
  });

  app.post('/admin/security/users/:id/sessions/end-all', opts, async (req, reply) => {
    const a = await account(req);
    if (!a) return reply.callNotFound();
    return done(reply, a, await security.endAllSessions(ctx, req, a));
  });
}

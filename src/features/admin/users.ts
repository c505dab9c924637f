import crypto from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { compileForm, type FieldErrors } from '../../lib/forms.js';
import { pageParams, makePage } from '../../lib/paging.js';
import { hashPassword } from '../../lib/passwords.js';
import { idHmac, phoneHmac } from '../../lib/pii.js';
import { checkPassword } from '../../domain/password.js';
import { commonPasswords } from '../../lib/commonPasswords.js';
import { normalizeIdNumber } from '../../domain/idcard.js';
import { ORG_KINDS, ORG_KIND_LABEL, containsPattern } from './orgs.js';
import { audit } from '../audit/service.js';
import { PLATFORM_ROLES, parseList, platformRolesOf, separationError } from '../../domain/roles.js';

/**
 * 三权分立: the system admin gives a NEW platform account one initial role (so the security and
 * audit admins can be created); roles of existing accounts are the security admin's job.
 */
export const ROLES: { code: string; name: string }[] = [
  ...PLATFORM_ROLES.map((r) => ({ code: r.code, name: r.name })),
  // 机构管理员 (src/features/orgtree): an existing bureau's or committee's first admin, who then
  // creates its children and staff itself.
  { code: 'org_admin', name: '机构管理员（平台以外机构：管理下级机构和本级人员）' },
];
const ROLE_LABEL: Record<string, string> = Object.fromEntries(ROLES.map((r) => [r.code, r.name]));

const LOWER = 'abcdefghijkmnpqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
// No characters that HTML escapes or that are easy to misread when read out.
const SPECIAL = '#@%+=!?*-';

/**
 * A random initial password (no look-alike characters) that passes the password policy: the
 * rules, the common-password list, and not the account's own ID number or phone when given.
 */
export function generatePassword(length = 12, owner: { idNumber?: string; phone?: string } = {}): string {
  const pick = (set: string) => set[crypto.randomInt(set.length)]!;
  for (;;) {
    const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SPECIAL)];
    const all = LOWER + UPPER + DIGITS + SPECIAL;
    while (chars.length < length) chars.push(pick(all));
    for (let i = chars.length - 1; i > 0; i--) {
      const j = crypto.randomInt(i + 1);
      [chars[i], chars[j]] = [chars[j]!, chars[i]!];
    }
    const pw = chars.join('');
    if (checkPassword(pw, { ...owner, common: commonPasswords() }).length === 0) return pw;
  }
}

const oneTime = (pw: string) => `初始密码：${pw}（仅显示一次，请转告本人，首次登录须修改）`;

export function userStatus(u: { disabled: number; locked_at: string | null; must_change_password: number }): string {
  const s: string[] = [];
  if (u.disabled) s.push('已停用');
  if (u.locked_at) s.push('已锁定');
  if (u.must_change_password) s.push('需改密');
  return s.length ? s.join('、') : '正常';
}

function roleLabel(u: { kind: string; roles: string }): string {
  if (u.kind === 'applicant') return '申报人';
  const roles = u.roles ? u.roles.split(',').filter(Boolean) : [];
  return roles.length ? roles.map((r) => ROLE_LABEL[r] ?? r).join('、') : '单位用户';
}

interface StaffForm {
  username?: string;
  name?: string;
  org_id?: number;
}

const staffSchema = {
  type: 'object' as const,
  properties: {
    username: { type: 'string' as const, title: '用户名', maxLength: 32, pattern: '^[A-Za-z][A-Za-z0-9_.-]{2,31}$', errorMessage: '用户名为3–32位字母、数字或 _ . -，以字母开头' },
    name: { type: 'string' as const, title: '姓名', maxLength: 50 },
    org_id: { type: 'integer' as const, title: '所属机构', minimum: 1, errorMessage: '请选择所属机构' },
  },
};
const parseNew = compileForm<StaffForm>({ ...staffSchema, required: ['username', 'name', 'org_id'] });
const parseEdit = compileForm<StaffForm>({ type: 'object', properties: { name: staffSchema.properties.name, org_id: staffSchema.properties.org_id }, required: ['name', 'org_id'] });

/** The chosen initial role (a radio; a forged request may send several: checked below). */
function parseRoles(body: unknown): string[] {
  const raw = (body as Record<string, unknown> | undefined)?.roles;
  const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
  return ROLES.map((r) => r.code).filter((c) => list.includes(c));
}

type Db = Kysely<Database>;

async function message(db: Db, ctx: AppContext, userId: number, content: string) {
  await db.insertInto('messages').values({ user_id: userId, type: '系统消息', content, created_at: ctx.config.now().toISOString() }).execute();
}

export default async function usersRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  /** Orgs for the 所属机构 select: grouped by kind, then by name; disabled ones only if already chosen. */
  const orgGroups = async (keepId?: number) => {
    const rows = await ctx.db
      .selectFrom('orgs')
      .select(['id', 'name', 'kind', 'disabled'])
      .where((eb) => (keepId ? eb.or([eb('disabled', '=', 0), eb('id', '=', keepId)]) : eb('disabled', '=', 0)))
      .orderBy('name')
      .execute();
    return ORG_KINDS.map((k) => ({ label: k.name, orgs: rows.filter((r) => r.kind === k.code) })).filter((g) => g.orgs.length);
  };

  const loadTarget = async (req: FastifyRequest) => {
    const id = Number((req.params as { id: string }).id);
    if (!Number.isInteger(id)) return undefined;
    return ctx.db
      .selectFrom('users as u')
      .leftJoin('orgs as o', 'o.id', 'u.org_id')
      .leftJoin('orgs as un', 'un.id', 'u.unit_org_id')
      .select([
        'u.id', 'u.kind', 'u.username', 'u.name', 'u.id_masked', 'u.phone_masked', 'u.org_id', 'u.roles', 'u.unit_org_id', 'u.failed_logins',
        'u.locked_at', 'u.disabled', 'u.must_change_password', 'u.password_changed_at', 'u.last_login_at', 'u.created_at',
        'o.name as org_name', 'o.kind as org_kind', 'un.name as unit_name',
      ])
      .where('u.id', '=', id)
      .executeTakeFirst();
  };
  type Target = NonNullable<Awaited<ReturnType<typeof loadTarget>>>;

  const detailPage = async (reply: FastifyReply, u: Target, values: object, errors: FieldErrors = {}) =>
    reply.page(
      'admin/users-detail.njk',
      {
        u: { ...u, status: userStatus(u), roleLabel: roleLabel(u), orgKindLabel: ORG_KIND_LABEL[u.org_kind ?? ''] ?? '' },
        self: reply.request.user!.id === u.id,
        values, errors, roles: ROLES,
        groups: u.kind === 'staff' ? await orgGroups(u.org_id ?? undefined) : [],
      },
      Object.keys(errors).length ? 422 : 200,
    );

  const newPage = async (reply: FastifyReply, values: object, errors: FieldErrors = {}) =>
    reply.page('admin/users-new.njk', { values, errors, roles: ROLES, groups: await orgGroups() }, Object.keys(errors).length ? 422 : 200);

  /** The org must exist; platform roles only for staff of the platform org, and only one. */
  const checkOrgAndRoles = async (errors: FieldErrors, orgId: number | undefined, roles: string[], currentOrgId?: number | null) => {
    const sep = separationError(roles);
    if (sep) errors.roles = sep;
    if (orgId === undefined || errors.org_id) return;
    const org = await ctx.db.selectFrom('orgs').select(['id', 'kind', 'disabled']).where('id', '=', orgId).executeTakeFirst();
    const platform = platformRolesOf(roles)[0];
    if (!org) errors.org_id = '请选择所属机构';
    else if (org.disabled && org.id !== currentOrgId) errors.org_id = '该机构已停用，请选择其他机构';
    else if (roles.includes('org_admin') && org.kind === 'platform') errors.roles ??= '机构管理员角色授予平台以外机构的用户；平台由系统管理员管理';
    else if (platform && org.kind !== 'platform') {
      if (currentOrgId === undefined) errors.roles ??= `${ROLE_LABEL[platform]}角色只能授予平台运营机构的用户`;
      else errors.org_id = `该用户是${ROLE_LABEL[platform]}，只能属于平台运营机构；如需调整请先由安全管理员取消其角色`;
    }
  };

  // 用户管理 list.
  app.get('/admin/users', async (req, reply) => {
    const query = req.query as Record<string, string | undefined>;
    const q = (query.q ?? '').trim();
    const kind = query.kind === 'applicant' || query.kind === 'staff' ? query.kind : '';
    const status = query.status === 'locked' || query.status === 'disabled' ? query.status : '';
    const orgId = Number(query.org);
    const org = Number.isInteger(orgId) && orgId > 0 ? await ctx.db.selectFrom('orgs').select(['id', 'name']).where('id', '=', orgId).executeTakeFirst() : undefined;
    const { page, size, offset } = pageParams(query, 20);
    let base = ctx.db.selectFrom('users as u').leftJoin('orgs as o', 'o.id', 'u.org_id').leftJoin('orgs as un', 'un.id', 'u.unit_org_id');
    if (q) {
      const like = containsPattern(q);
      // A full ID number or phone finds the person through the look-up hash (never by decrypting).
      const id = normalizeIdNumber(q);
      const phone = q.replace(/[\s-]/g, '');
      base = base.where((eb) => eb.or([
        sql<boolean>`u.name like ${like} escape '\\'`,
        sql<boolean>`u.username like ${like} escape '\\'`,
        ...(/^\d{17}[\dX]$/.test(id) ? [eb('u.id_hmac', '=', idHmac(ctx.secrets, id))] : []),
        ...(/^1\d{10}$/.test(phone) ? [eb('u.phone_hmac', '=', phoneHmac(ctx.secrets, phone))] : []),
      ]));
    }
    if (kind) base = base.where('u.kind', '=', kind);
    if (status === 'locked') base = base.where('u.locked_at', 'is not', null);
    if (status === 'disabled') base = base.where('u.disabled', '=', 1);
    if (org) base = base.where((eb) => eb.or([eb('u.org_id', '=', org.id), eb('u.unit_org_id', '=', org.id)]));
    const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .select([
        'u.id', 'u.kind', 'u.name', 'u.username', 'u.id_masked', 'u.phone_masked', 'u.roles', 'u.disabled', 'u.locked_at',
        'u.must_change_password', 'u.last_login_at', 'o.name as org_name', 'un.name as unit_name',
      ])
      .orderBy('u.id', 'desc')
      .limit(size)
      .offset(offset)
      .execute();
    const list = makePage(rows.map((r) => ({ ...r, status: userStatus(r), roleLabel: roleLabel(r) })), Number(n), page, size);
    return reply.page('admin/users.njk', { list, q, kind, status, org: org ?? null });
  });

  app.get('/admin/users/new', async (req, reply) => {
    const org = Number((req.query as Record<string, string | undefined>).org);
    return newPage(reply, Number.isInteger(org) && org > 0 ? { org_id: org } : {});
  });

  app.post('/admin/users/new', async (req, reply) => {
    const { values, errors } = parseNew(req.body);
    const roles = parseRoles(req.body);
    const kept = { ...values, roles };
    await checkOrgAndRoles(errors, values.org_id, roles);
    if (!errors.username && values.username && (await ctx.db.selectFrom('users').select('id').where('username', '=', values.username).executeTakeFirst())) {
      errors.username = '该用户名已被使用';
    }
    if (Object.keys(errors).length) return newPage(reply, kept, errors);
    const password = generatePassword();
    const hash = await hashPassword(password);
    const stamp = ctx.config.now().toISOString();
    const id = await writeTx(ctx.db, async (trx) => {
      if (await trx.selectFrom('users').select('id').where('username', '=', values.username!).executeTakeFirst()) return null;
      const row = await trx
        .insertInto('users')
        .values({
          kind: 'staff', username: values.username!, name: values.name!, org_id: values.org_id!, roles: roles.join(','),
          password_hash: hash, must_change_password: 1, created_at: stamp, updated_at: stamp,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await message(trx, ctx, row.id, '您的账号已由平台管理员创建。首次登录须修改初始密码。');
      await audit(ctx, req, { action: 'user_create', objectType: 'user', objectId: row.id, detail: `用户名 ${values.username}，机构 ${values.org_id}，角色 ${roles.join(',') || '无'}` }, trx);
      return row.id;
    });
    if (id === null) return newPage(reply, kept, { username: '该用户名已被使用' });
    return reply.flashRedirect(`/admin/users/${id}`, `账号已创建，${oneTime(password)}`);
  });

  app.get('/admin/users/:id', async (req, reply) => {
    const u = await loadTarget(req);
    if (!u) return reply.callNotFound();
    return detailPage(reply, u, { name: u.name, org_id: u.org_id, roles: u.roles ? u.roles.split(',') : [] });
  });

  // Edit a staff user's name and org. Roles are not changed here (the security admin's job):
  // a forged 'roles' field is ignored, and the current roles are what the org is checked against.
  app.post('/admin/users/:id', async (req, reply) => {
    const u = await loadTarget(req);
    if (!u || u.kind !== 'staff') return reply.callNotFound();
    const { values, errors } = parseEdit(req.body);
    await checkOrgAndRoles(errors, values.org_id, parseList(u.roles), u.org_id);
    if (Object.keys(errors).length) return detailPage(reply, u, values, errors);
    const stamp = ctx.config.now().toISOString();
    await writeTx(ctx.db, async (trx) => {
      await trx.updateTable('users').set({ name: values.name!, org_id: values.org_id!, updated_at: stamp }).where('id', '=', u.id).execute();
      await message(trx, ctx, u.id, '您的账号信息（姓名或所属机构）已由系统管理员修改。');
      await audit(ctx, req, { action: 'user_update', objectType: 'user', objectId: u.id, detail: `姓名${u.name === values.name ? '未改' : '已改'}，机构 ${u.org_id}→${values.org_id}` }, trx);
    });
    return reply.flashRedirect(`/admin/users/${u.id}`, '用户信息已保存');
  });

  // ---- 重置密码: confirm, then a new one-time password; all the user's sessions end ----
  app.get('/admin/users/:id/reset-password', async (req, reply) => {
    const u = await loadTarget(req);
    if (!u) return reply.callNotFound();
    if (u.id === req.user!.id) return reply.flashRedirect(`/admin/users/${u.id}`, '不能重置自己的密码，请在“修改密码”中修改', 'error');
    return reply.page('components/confirm.njk', {
      title: '重置密码', message: `确定重置“${u.name}”的登录密码吗？将生成新的初始密码，该用户当前的登录会全部退出，下次登录须修改密码。`,
      action: `/admin/users/${u.id}/reset-password`, cancel: `/admin/users/${u.id}`, confirmLabel: '确认重置',
    });
  });

  app.post('/admin/users/:id/reset-password', async (req, reply) => {
    const u = await loadTarget(req);
    if (!u) return reply.callNotFound();
    if (u.id === req.user!.id) return reply.flashRedirect(`/admin/users/${u.id}`, '不能重置自己的密码，请在“修改密码”中修改', 'error');
    const password = generatePassword();
    const hash = await hashPassword(password);
    const stamp = ctx.config.now().toISOString();
    await writeTx(ctx.db, async (trx) => {
      await trx.updateTable('users').set({ password_hash: hash, must_change_password: 1, password_changed_at: stamp, updated_at: stamp }).where('id', '=', u.id).execute();
      await trx.deleteFrom('sessions').where('user_id', '=', u.id).execute();
      await message(trx, ctx, u.id, '您的登录密码已由平台管理员重置，请使用新的初始密码登录并立即修改。');
      await audit(ctx, req, { action: 'password_reset', objectType: 'user', objectId: u.id, detail: '平台管理员重置' }, trx);
    });
    return reply.flashRedirect(`/admin/users/${u.id}`, `密码已重置，新的${oneTime(password)}`);
  });

  // ---- 锁定 (解锁 is the security admin's: /admin/security/users/:id) ----
  app.post('/admin/users/:id/lock', async (req, reply) => {
    const u = await loadTarget(req);
    if (!u) return reply.callNotFound();
    if (u.id === req.user!.id) return reply.flashRedirect(`/admin/users/${u.id}`, '不能锁定自己的账号', 'error');
    const stamp = ctx.config.now().toISOString();
    await writeTx(ctx.db, async (trx) => {
      await trx.updateTable('users').set({ locked_at: stamp, updated_at: stamp }).where('id', '=', u.id).execute();
      // A locked account is signed out too, or the lock would only bite at the next login.
      await trx.deleteFrom('sessions').where('user_id', '=', u.id).execute();
      await message(trx, ctx, u.id, '您的账号已被平台管理员锁定。如有疑问请联系平台管理员。');
      await audit(ctx, req, { action: 'account_lock', objectType: 'user', objectId: u.id, detail: '平台管理员锁定' }, trx);
    });
    return reply.flashRedirect(`/admin/users/${u.id}`, '账号已锁定');
  });

  // ---- 停用 (confirm) / 启用 ----
  app.get('/admin/users/:id/disable', async (req, reply) => {
    const u = await loadTarget(req);
    if (!u) return reply.callNotFound();
    if (u.id === req.user!.id) return reply.flashRedirect(`/admin/users/${u.id}`, '不能停用自己的账号', 'error');
    return reply.page('components/confirm.njk', {
      title: '停用账号', message: `确定停用“${u.name}”的账号吗？停用后该用户不能登录，当前的登录会全部退出。`,
      action: `/admin/users/${u.id}/disable`, cancel: `/admin/users/${u.id}`, confirmLabel: '确认停用',
    });
  });

  app.post('/admin/users/:id/disable', async (req, reply) => {
    const u = await loadTarget(req);
    if (!u) return reply.callNotFound();
    if (u.id === req.user!.id) return reply.flashRedirect(`/admin/users/${u.id}`, '不能停用自己的账号', 'error');
    const stamp = ctx.config.now().toISOString();
    await writeTx(ctx.db, async (trx) => {
      await trx.updateTable('users').set({ disabled: 1, updated_at: stamp }).where('id', '=', u.id).execute();
      await trx.deleteFrom('sessions').where('user_id', '=', u.id).execute();
      await message(trx, ctx, u.id, '您的账号已被平台管理员停用。');
      await audit(ctx, req, { action: 'user_disable', objectType: 'user', objectId: u.id }, trx);
    });
    return reply.flashRedirect(`/admin/users/${u.id}`, '账号已停用');
  });

  app.post('/admin/users/:id/enable', async (req, reply) => {
    const u = await loadTarget(req);
    if (!u) return reply.callNotFound();
    const stamp = ctx.config.now().toISOString();
    await writeTx(ctx.db, async (trx) => {
      await trx.updateTable('users').set({ disabled: 0, updated_at: stamp }).where('id', '=', u.id).execute();
      await message(trx, ctx, u.id, '您的账号已由平台管理员启用。');
      await audit(ctx, req, { action: 'user_enable', objectType: 'user', objectId: u.id }, trx);
    });
    return reply.flashRedirect(`/admin/users/${u.id}`, '账号已启用');
  });
}

import type { AppContext } from '../context.js';
import { writeTx } from '../db/index.js';
import { hashPassword } from '../lib/passwords.js';
import { generatePassword } from '../features/admin/users.js';
import { audit, CLI_ACTOR } from '../features/audit/service.js';
import { voidSetupToken } from '../features/setup/service.js';
import { PLATFORM_ROLES, type PlatformRole } from '../domain/roles.js';

export const USERNAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{2,31}$/;

export type CreateAdminResult =
  | { ok: true; userId: number; password: string; role: PlatformRole }
  | { ok: false; field: 'username' | 'name' | 'role'; error: string };

/**
 * A platform account from the command line (`zhicheng create-admin`), e.g. the first system
 * admin on a server nobody can open a browser on, or a security / audit admin. One role per
 * account (三权分立); a random one-time password that must be changed at first login, exactly as
 * when an admin creates a user on /admin/users.
 */
export async function createAdmin(ctx: AppContext, input: { username?: string; name?: string; role?: string }): Promise<CreateAdminResult> {
  const username = (input.username ?? '').trim();
  const name = (input.name ?? '').trim();
  const role = PLATFORM_ROLES.find((r) => r.code === input.role);
  if (!USERNAME_RE.test(username)) return { ok: false, field: 'username', error: '用户名为3–32位字母、数字或 _ . -，以字母开头' };
  if (!name || [...name].length > 50) return { ok: false, field: 'name', error: '请填写姓名（不超过50字）' };
  if (!role) return { ok: false, field: 'role', error: `角色须为 ${PLATFORM_ROLES.map((r) => `${r.code}（${r.name}）`).join('、')} 之一` };
  const password = generatePassword();
  const hash = await hashPassword(password);
  const stamp = ctx.config.now().toISOString();
  const id = await writeTx(ctx.db, async (trx) => {
    if (await trx.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) return null;
    const platform = await trx.selectFrom('orgs').select('id').where('kind', '=', 'platform').orderBy('id').executeTakeFirstOrThrow();
    const row = await trx
      .insertInto('users')
      .values({ kind: 'staff', username, name, org_id: platform.id, roles: role.code, password_hash: hash, must_change_password: 1, created_at: stamp, updated_at: stamp })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.insertInto('messages').values({ user_id: row.id, type: '系统消息', content: '您的账号已由系统运维人员在服务器上创建。首次登录须修改初始密码。', created_at: stamp }).execute();
    // An admin now exists: the first-start setup link must not create another one.
    if (role.code === 'admin') await voidSetupToken(trx);
    await audit(ctx, null, { action: 'user_create', objectType: 'user', objectId: row.id, detail: `命令行创建，用户名 ${username}，角色 ${role.code}`, actor: CLI_ACTOR }, trx);
    return row.id;
  });
  if (id === null) return { ok: false, field: 'username', error: '该用户名已被使用' };
  return { ok: true, userId: id, password, role: role.code };
}

import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { makeApp, Agent, createStaff, createApplicant, login, idNumber, type TestApp } from '../helpers/app.js';
import { SEPARATION_ERROR } from '../../src/domain/roles.js';
import { Migrator, type Kysely } from 'kysely';
import { createDb } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrations } from '../../migrations/index.js';

/**
 * 三权分立 (GB/T 22239 level 3): system admin ('admin'), security admin ('security') and audit
 * admin ('audit') are separate accounts; each reaches only its own screens.
 */

/** Every route of the app as [method, url pattern], read from Fastify's own route tree. */
function routesOf(app: FastifyInstance): [string, string][] {
  const out: [string, string][] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const url = (depth ? stack[depth - 1]! : '') + m[2]!;
    stack[depth] = url;
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push([method, url]);
  }
  return out;
}

async function world(t: { teardown(fn: () => unknown): void }) {
  const app = await makeApp();
  t.teardown(() => app.close());
  const platform = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'platform').executeTakeFirstOrThrow()).id;
  const committee = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').orderBy('id').executeTakeFirstOrThrow()).id;
  const sys = await createStaff(app, { username: 'sys_li', name: '李娜', roles: 'admin' });
  const sec = await createStaff(app, { username: 'sec_wang', name: '王芳', roles: 'security' });
  const aud = await createStaff(app, { username: 'aud_zhao', name: '赵敏', roles: 'audit' });
  const agent = async (username: string) => {
    const a = new Agent(app);
    await login(a, 'staff', username);
    return a;
  };
  return { app, platform, committee, sys, sec, aud, agent };
}

const auditRows = (app: TestApp) => app.ctx.db.selectFrom('audit_log').selectAll().orderBy('id').execute();

t.test('the database refuses an account holding two platform roles (trigger), on insert and on update', async (t) => {
  const { app, platform } = await world(t);
  const db = app.ctx.db;
  const stamp = app.clock.now().toISOString();
  const row = (username: string, roles: string) => ({ kind: 'staff' as const, username, name: '张伟', org_id: platform, roles, password_hash: 'x', created_at: stamp, updated_at: stamp });
  for (const roles of ['admin,audit', 'security,admin', 'audit,unit_admin,security', 'admin,security,audit']) {
    await t.rejects(db.insertInto('users').values(row(`u${roles.length}${roles[0]}`, roles)).execute(), /三权分立/, `insert ${roles}`);
  }
  const ok = await db.insertInto('users').values(row('zhangwei', 'security')).returning('id').executeTakeFirstOrThrow();
  await t.rejects(db.updateTable('users').set({ roles: 'security,audit' }).where('id', '=', ok.id).execute(), /三权分立/, 'update to two');
  await db.updateTable('users').set({ roles: 'audit' }).where('id', '=', ok.id).execute();
  await db.updateTable('users').set({ roles: 'admin,unit_admin' }).where('id', '=', ok.id).execute();
  t.equal((await db.selectFrom('users').select('roles').where('id', '=', ok.id).executeTakeFirstOrThrow()).roles, 'admin,unit_admin', 'one platform role plus a unit role is fine');
  // Names that merely contain a role code are not roles.
  await db.insertInto('users').values(row('lina', 'unit_admin,auditor_x,admin')).execute();
});

t.test('migration 0008: an existing account with two platform roles keeps one (system > security > audit)', async (t) => {
  const { db, raw } = createDb(':memory:');
  t.teardown(async () => {
    await db.destroy();
    if (raw.open) raw.close();
  });
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  t.equal((await migrator.migrateTo('0007_audit')).error, undefined);
  const old = db as unknown as Kysely<any>;
  const cases: [string, string][] = [['admin,audit', 'admin'], ['audit,admin', 'admin'], ['security,audit,unit_admin', 'security,unit_admin'], ['admin,security,audit', 'admin'], ['audit', 'audit'], ['unit_admin', 'unit_admin'], ['', '']];
  for (const [i, [roles]] of cases.entries()) {
    await old.insertInto('users').values({ kind: 'staff', username: `u${i}`, name: '张伟', roles, password_hash: 'x', created_at: 'x', updated_at: 'x' }).execute();
  }
  await migrateToLatest(db);
  const rows = await old.selectFrom('users').select(['username', 'roles', 'permissions']).orderBy('id').execute();
  t.same(rows.map((r) => r.roles), cases.map(([, want]) => want));
  t.ok(rows.every((r) => r.permissions === ''), 'no permissions by default');
});

t.test('the system admin creates a platform account with ONE initial role (audited); two are refused; edits never change roles', async (t) => {
  const { app, platform, committee, agent } = await world(t);
  const a = await agent('sys_li');
  await a.get('/admin/users/new');
  const two = await a.post('/admin/users/new', { username: 'liuyang', name: '刘洋', org_id: String(platform), roles: ['admin', 'audit'] });
  t.equal(two.statusCode, 422);
  t.match(two.body, SEPARATION_ERROR);
  t.equal(await app.ctx.db.selectFrom('users').select('id').where('username', '=', 'liuyang').executeTakeFirst(), undefined, 'nothing created');
  const out = await a.post('/admin/users/new', { username: 'liuyang', name: '刘洋', org_id: String(committee), roles: 'audit' });
  t.equal(out.statusCode, 422);
  t.match(out.body, '审计管理员角色只能授予平台运营机构的用户');

  const ok = await a.post('/admin/users/new', { username: 'liuyang', name: '刘洋', org_id: String(platform), roles: 'audit' });
  t.equal(ok.statusCode, 303);
  const liu = await app.ctx.db.selectFrom('users').select(['id', 'roles']).where('username', '=', 'liuyang').executeTakeFirstOrThrow();
  t.equal(liu.roles, 'audit');
  const row = (await auditRows(app)).find((r) => r.action === 'user_create' && r.object_id === String(liu.id))!;
  t.ok(row, 'creation audited');
  t.equal(row.username, 'sys_li');
  t.ok(row.ip);
  t.match(row.detail, 'audit');

  // Editing name/org with a forged roles field changes no role.
  await a.get(`/admin/users/${liu.id}`);
  t.equal((await a.post(`/admin/users/${liu.id}`, { name: '刘洋洋', org_id: String(platform), roles: 'admin' })).statusCode, 303);
  t.match(await app.ctx.db.selectFrom('users').select(['name', 'roles']).where('id', '=', liu.id).executeTakeFirstOrThrow(), { name: '刘洋洋', roles: 'audit' });
  // A platform-role holder cannot be moved out of the platform org.
  const moved = await a.post(`/admin/users/${liu.id}`, { name: '刘洋洋', org_id: String(committee) });
  t.equal(moved.statusCode, 422);
  t.match(moved.body, '只能属于平台运营机构');
  const page = await a.get(`/admin/users/${liu.id}`);
  t.match(page.body, '角色与权限由安全管理员调整');
  t.notMatch(page.body, 'name="roles"', 'no role boxes on an existing account');
});

t.test('who reaches what: system admin never the audit log, audit admin only the audit log, security admin only its screens', async (t) => {
  const { app, sys, sec, aud, committee, agent } = await world(t);
  const clerk = await createStaff(app, { username: 'clerk_sun', name: '孙丽', orgId: committee, roles: '' });
  const routes = routesOf(app.app);
  const adminRoutes = routes.filter(([, u]) => u === '/admin' || u.startsWith('/admin/'));
  t.ok(adminRoutes.length > 30, `found ${adminRoutes.length} /admin routes`);
  const auditRoutes = adminRoutes.filter(([, u]) => u.startsWith('/admin/audit'));
  t.same(auditRoutes.map(([m, u]) => `${m} ${u}`).sort(), ['GET /admin/audit', 'GET /admin/audit/export.xlsx', 'POST /admin/audit/verify'], 'the audit screens: reading, export, verify');
  // No route can edit or delete an audit row: nothing but GET/POST exists, and no path names it.
  t.same(routes.filter(([m]) => !['GET', 'POST'].includes(m)), [], 'no PUT/PATCH/DELETE route anywhere');
  t.same(routes.filter(([m, u]) => m === 'POST' && /audit/.test(u)).map(([, u]) => u), ['/admin/audit/verify'], 'the only POST on the log is verify');

  const fill = (u: string) => u.replace(':id', String(clerk.userId)).replace(':handle', 'x').replace(':date', '2026-10-01').replace(':year', '2026').replace(':dict', 'major').replace(':code', 'x').replace(':slot', 'x');
  const sysA = await agent('sys_li');
  const audA = await agent('aud_zhao');
  const secA = await agent('sec_wang');
  const before = await app.ctx.db.selectFrom('users').selectAll().orderBy('id').execute();

  for (const [m, u] of auditRoutes) {
    for (const [label, a] of [['system admin', sysA], ['security admin', secA]] as const) {
      await a.get('/account/password'); // a page with a CSRF token
      const res = m === 'GET' ? await a.get(u) : await a.post(u);
      t.equal(res.statusCode, 403, `${label}: ${m} ${u} → 403`);
      t.notMatch(res.body, '<table', 'no rows shown');
    }
  }
  for (const [m, u] of adminRoutes.filter(([, x]) => !x.startsWith('/admin/audit'))) {
    await audA.get('/account/password');
    const res = m === 'GET' ? await audA.get(fill(u)) : await audA.post(fill(u), { name: '越权', role: 'admin', permissions: 'reveal_pii' });
    t.equal(res.statusCode, 403, `audit admin: ${m} ${u} → 403`);
  }
  for (const [m, u] of adminRoutes.filter(([, x]) => !x.startsWith('/admin/security'))) {
    await secA.get('/account/password');
    const res = m === 'GET' ? await secA.get(fill(u)) : await secA.post(fill(u), { name: '越权', kind: 'unit' });
    t.equal(res.statusCode, 403, `security admin: ${m} ${u} → 403`);
  }
  for (const [m, u] of adminRoutes.filter(([, x]) => x.startsWith('/admin/security'))) {
    await sysA.get('/admin');
    const res = m === 'GET' ? await sysA.get(fill(u)) : await sysA.post(fill(u), { role: 'audit' });
    t.equal(res.statusCode, 403, `system admin: ${m} ${u} → 403`);
  }
  t.same(await app.ctx.db.selectFrom('users').selectAll().orderBy('id').execute(), before, 'no account changed');

  // Beyond /admin: the audit admin's other pages are refused too; their own account pages work.
  for (const u of ['/org/reviews', '/org/plans', '/org/stats', '/org/certificates', '/org/evaluations']) t.equal((await audA.get(u)).statusCode, 403, `audit admin: ${u}`);
  t.equal((await audA.get('/admin/audit')).statusCode, 200);
  t.equal((await audA.get('/account/password')).statusCode, 200);
  t.equal((await audA.get('/org/messages')).statusCode, 200);
  t.equal((await audA.get('/org')).headers.location, '/admin/audit', 'the staff home sends them to their own');
  t.equal((await audA.get('/')).headers.location, '/admin/audit', 'audit admin lands on the audit log');
  t.equal((await secA.get('/')).headers.location, '/admin/security/users', 'security admin lands on their page');
  t.equal((await sysA.get('/')).headers.location, '/admin');

  // Menus: each role sees its own items only.
  const sysMenu = (await sysA.get('/admin')).body;
  t.match(sysMenu, 'href="/admin/users"');
  t.notMatch(sysMenu, 'href="/admin/audit"', 'no 审计日志 for the system admin');
  t.notMatch(sysMenu, 'href="/admin/security');
  const audMenu = (await audA.get('/admin/audit')).body;
  t.match(audMenu, '<a href="/admin/audit">审计日志</a>');
  t.notMatch(audMenu, 'href="/admin/users"');
  t.notMatch(audMenu, 'href="/org"');
  const secMenu = (await secA.get('/admin/security/users')).body;
  t.match(secMenu, 'href="/admin/security/users"');
  t.match(secMenu, 'href="/admin/security/policy"', 'link to the 2FA/password policy page');
  t.notMatch(secMenu, 'href="/admin/users"');
  t.notMatch(secMenu, 'href="/admin/audit"');
  void sys; void sec; void aud;
});

t.test('the security admin changes roles and permissions (audited); nobody changes their own; the last holder is kept', async (t) => {
  const { app, platform, sys, sec, agent } = await world(t);
  const zhou = await createStaff(app, { username: 'zhoumin', name: '周敏', orgId: platform, roles: '' });
  const s = await agent('sec_wang');
  const page = await s.get(`/admin/security/users/${zhou.userId}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, 'name="role" value="audit"');
  t.match(page.body, `action="/admin/security/users/${zhou.userId}/totp-reset"`, 'the 2FA reset form');
  t.match(page.body, '重置双因素认证');
  t.match(page.body, 'name="confirm" value="1" required', 'confirmed before it posts');

  t.equal((await s.post(`/admin/security/users/${zhou.userId}/role`, { role: 'admin' })).statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('users').select('roles').where('id', '=', zhou.userId).executeTakeFirstOrThrow()).roles, 'admin');
  await s.get(`/admin/security/users/${zhou.userId}`);
  t.equal((await s.post(`/admin/security/users/${zhou.userId}/role`, { role: 'audit' })).statusCode, 303, 'switching replaces, never adds');
  t.equal((await app.ctx.db.selectFrom('users').select('roles').where('id', '=', zhou.userId).executeTakeFirstOrThrow()).roles, 'audit');
  const changes = (await auditRows(app)).filter((r) => r.action === 'role_change');
  t.equal(changes.length, 2);
  t.match(changes[1], { user_id: sec.userId, object_type: 'user', object_id: String(zhou.userId), result: 'ok', detail: '平台角色 系统管理员 → 审计管理员' });
  t.ok(changes[1]!.ip);

  // Own account: refused, nothing changes.
  const own = await s.get(`/admin/security/users/${sec.userId}`);
  t.match(own.body, '角色和权限须由其他安全管理员调整');
  t.notMatch(own.body, `/admin/security/users/${sec.userId}/role"`);
  const self = await s.post(`/admin/security/users/${sec.userId}/role`, { role: 'none' });
  t.equal(self.statusCode, 422);
  t.match(self.body, '不能修改自己的角色');
  const selfPerm = await s.post(`/admin/security/users/${sec.userId}/permissions`, { permissions: 'reveal_pii' });
  t.equal(selfPerm.statusCode, 422);
  t.match(selfPerm.body, '不能修改自己的权限');
  t.match(await app.ctx.db.selectFrom('users').select(['roles', 'permissions']).where('id', '=', sec.userId).executeTakeFirstOrThrow(), { roles: 'security', permissions: '' });

  // The only system admin keeps the role; outside the platform org no platform role at all.
  await s.get(`/admin/security/users/${sys.userId}`);
  const last = await s.post(`/admin/security/users/${sys.userId}/role`, { role: 'none' });
  t.equal(last.statusCode, 422);
  t.match(last.body, '这是唯一的系统管理员');
  const committee = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').orderBy('id').executeTakeFirstOrThrow()).id;
  const sun = await createStaff(app, { username: 'sunli', name: '孙丽', orgId: committee, roles: '' });
  const outside = await s.post(`/admin/security/users/${sun.userId}/role`, { role: 'security' });
  t.equal(outside.statusCode, 422);
  t.match(outside.body, '平台管理角色只能授予平台运营机构的用户');
  // An applicant has no platform role.
  const zhang = await createApplicant(app, { id: idNumber('19850612', '231') });
  t.equal((await s.post(`/admin/security/users/${zhang.userId}/role`, { role: 'admin' })).statusCode, 422);
  t.equal((await s.get('/admin/security/users/99999')).statusCode, 404);
  t.equal((await s.get('/admin/security/users/x')).statusCode, 404);
});

t.test("every read of the audit log by the audit admin is itself in the log (list, filter, export, verify)", async (t) => {
  const { app, aud, agent } = await world(t);
  const a = await agent('aud_zhao');
  const n0 = (await auditRows(app)).length;
  t.equal((await a.get('/admin/audit')).statusCode, 200);
  t.equal((await a.get(`/admin/audit?action=login&user=${idNumber('19850612', '231')}`)).statusCode, 200);
  t.equal((await a.get('/admin/audit/export.xlsx?result=ok')).statusCode, 200);
  t.equal((await a.post('/admin/audit/verify')).statusCode, 200);
  const rows = (await auditRows(app)).slice(n0);
  t.same(rows.map((r) => r.action), ['audit_read', 'audit_read', 'audit_export', 'audit_verify']);
  for (const r of rows) {
    t.equal(r.user_id, aud.userId);
    t.equal(r.role, 'audit');
    t.equal(r.object_type, 'audit_log');
    t.ok(r.ip, 'source IP');
  }
  t.match(rows[1]!.detail, '操作login');
  t.notMatch(rows[1]!.detail, idNumber('19850612', '231'), 'a full ID number typed into the filter is masked');
  t.match(rows[2]!.detail, '结果ok');
  // The list shows the reads too (newest first): the audit admin sees they are watched.
  t.match((await a.get('/admin/audit?action=audit_read')).body, '查阅审计日志');
});

t.test('unlock moved to the security admin (audited); the system admin has no unlock', async (t) => {
  const { app, committee, sec, agent } = await world(t);
  const sun = await createStaff(app, { username: 'sunli', name: '孙丽', orgId: committee, roles: '' });
  await app.ctx.db.updateTable('users').set({ failed_logins: 3, locked_at: app.clock.now().toISOString() }).where('id', '=', sun.userId).execute();
  const sys = await agent('sys_li');
  const detail = await sys.get(`/admin/users/${sun.userId}`);
  t.match(detail.body, '由安全管理员解锁');
  t.notMatch(detail.body, '/unlock"');
  t.equal((await sys.post(`/admin/users/${sun.userId}/unlock`)).statusCode, 404, 'no such route any more');
  const s = await agent('sec_wang');
  const locked = await s.get('/admin/security/users?status=locked');
  t.match(locked.body, '孙丽');
  await s.get(`/admin/security/users/${sun.userId}`);
  t.equal((await s.post(`/admin/security/users/${sun.userId}/unlock`)).statusCode, 303);
  t.match((await s.get(`/admin/security/users/${sun.userId}`)).body, '账号已解锁');
  t.match(await app.ctx.db.selectFrom('users').select(['locked_at', 'failed_logins']).where('id', '=', sun.userId).executeTakeFirstOrThrow(), { locked_at: null, failed_logins: 0 });
  const row = (await auditRows(app)).find((r) => r.action === 'account_unlock')!;
  t.match(row, { user_id: sec.userId, object_id: String(sun.userId), detail: '安全管理员解锁' });
  t.equal((await login(new Agent(app), 'staff', 'sunli')).statusCode, 303, 'can log in again');
});

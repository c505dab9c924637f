import t from 'tap';
import { makeApp, Agent, login, createStaff, PASSWORD } from '../helpers/app.js';
import { kunming, submittedDeclaration } from '../helpers/world.js';

const NEW_PASSWORD = 'Chen#2026county';

/** The one-time initial password from the flash after a create. */
const initialPassword = (html: string) => /初始密码：([^（\s<]+)/.exec(html)?.[1] ?? '';

/** First login with an initial password, then the forced change. */
async function firstLogin(agent: Agent, username: string, initial: string) {
  await login(agent, 'staff', username, initial);
  await agent.get('/account/password');
  const r = await agent.post('/account/password', { old: initial, password: NEW_PASSWORD, password2: NEW_PASSWORD });
  if (r.statusCode !== 303) throw new Error(`password change failed: ${r.statusCode}`);
}

t.test('a city HR bureau runs its subtree: children one level down, renames, moves, removal, scope', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  await createStaff(app, { username: 'city_admin', name: '刘洋', orgId: w.cityHrb, roles: 'org_admin' });
  const city = new Agent(app);
  t.equal((await login(city, 'staff', 'city_admin')).statusCode, 303);

  // Not an admin: the plain clerk of the bureau has no tree.
  const clerk = new Agent(app);
  await login(clerk, 'staff', w.staff.city);
  t.equal((await clerk.get('/org/tree')).statusCode, 403);

  const form = await city.get('/org/tree/new');
  t.equal(form.statusCode, 200);
  t.match(form.body, '县区人社局');
  t.notMatch(form.body, 'value="hrb:city"', 'a city bureau cannot create another city bureau');
  // Level-down only, checked on the server too.
  const same = await city.post('/org/tree/new', { kind: 'hrb:city', name: '另一个市人社局', username: 'x_admin', admin_name: '王强' });
  t.equal(same.statusCode, 422);
  t.match(same.body, '请选择机构类型');
  t.match(same.body, '另一个市人社局', 'typed values kept');

  const made = await city.post('/org/tree/new', { kind: 'hrb:county', name: '呈贡区人社局', region_code: '530114', username: 'cg_admin', admin_name: '陈静', phone: '13900139000' });
  t.equal(made.statusCode, 303);
  const countyId = Number(/\/org\/tree\/(\d+)/.exec(String(made.headers.location))![1]);
  const page = await city.get(String(made.headers.location));
  const initial = initialPassword(page.body);
  t.ok(initial, 'initial password shown once');
  t.notMatch((await city.get(String(made.headers.location))).body, initial, 'and only once');
  const county = await app.ctx.db.selectFrom('orgs').selectAll().where('id', '=', countyId).executeTakeFirstOrThrow();
  t.equal(county.parent_org_id, w.cityHrb);
  t.equal(county.hrb_level, 'county');

  // The county's admin logs in, and creates a supervisory department under the county.
  const cg = new Agent(app);
  await firstLogin(cg, 'cg_admin', initial);
  t.equal((await cg.get('/org/tree')).statusCode, 200);
  await cg.get('/org/tree/new');
  const sup = await cg.post('/org/tree/new', { kind: 'supervisor', name: '呈贡区教育体育局', username: 'cg_edu', admin_name: '赵敏' });
  t.equal(sup.statusCode, 303);
  const supId = Number(/\/org\/tree\/(\d+)/.exec(String(sup.headers.location))![1]);

  // Scope: the county sees its subtree only; the city sees both levels.
  t.equal((await cg.get(`/org/tree/${w.cityHrb}`)).statusCode, 404, 'its parent is not in its subtree');
  t.equal((await cg.get(`/org/tree/${w.countyHrb}`)).statusCode, 404, 'another branch');
  t.equal((await cg.get(`/org/tree/${countyId}`)).statusCode, 404, 'its own org is not edited here');
  const list = await city.get('/org/tree');
  t.match(list.body, '呈贡区人社局');
  t.match(list.body, '呈贡区教育体育局');

  // A cycle: the county cannot be moved under its own child.
  await city.get(`/org/tree/${countyId}`);
  const cyc = await city.post(`/org/tree/${countyId}`, { name: '呈贡区人社局', parent_org_id: String(supId), region_code: '530114' });
  t.equal(cyc.statusCode, 422);
  t.match(cyc.body, '不能形成循环');

  // Rename: kept in the 更名记录 with the old name, date and who.
  await city.get(`/org/tree/${countyId}`);
  t.equal((await city.post(`/org/tree/${countyId}`, { name: '呈贡区人力资源和社会保障局', parent_org_id: String(w.cityHrb), region_code: '530114' })).statusCode, 303);
  const renamed = await city.get(`/org/tree/${countyId}`);
  t.match(renamed.body, '更名记录');
  t.match(renamed.body, /<td>呈贡区人社局<\/td><td>呈贡区人力资源和社会保障局<\/td><td>[^<]+<\/td><td>刘洋<\/td>/);
  const renames = await app.ctx.db.selectFrom('org_renames').selectAll().where('org_id', '=', countyId).execute();
  t.equal(renames.length, 1);

  // Removal: refused while it has people or children, with the reason; allowed once empty.
  const refused = await city.get(`/org/tree/${countyId}/remove`);
  t.match(refused.body, '该机构不能注销');
  t.match(refused.body, '1 个下级机构');
  const supPage = await cg.get(`/org/tree/${supId}/remove`);
  t.match(supPage.body, '1 个在用的工作人员账号');
  await cg.get(`/org/tree/${supId}`);
  const admins = await app.ctx.db.selectFrom('users').select('id').where('org_id', '=', supId).execute();
  t.equal((await cg.post(`/org/tree/${supId}/staff/${admins[0]!.id}/disable`)).statusCode, 303);
  const confirm = await cg.get(`/org/tree/${supId}/remove`);
  t.match(confirm.body, '确定注销');
  t.equal((await cg.post(`/org/tree/${supId}/remove`)).statusCode, 303);
  t.ok((await app.ctx.db.selectFrom('orgs').select('removed_at').where('id', '=', supId).executeTakeFirstOrThrow()).removed_at);
  t.equal((await cg.get(`/org/tree/${supId}`)).statusCode, 404, 'gone from the tree');
  // A direct post to remove a non-empty org is refused too (not just hidden on the page).
  await city.get('/org/tree');
  const busy = await city.post(`/org/tree/${countyId}/remove`);
  t.equal(busy.statusCode, 409);
  t.match(busy.body, '在用的工作人员账号');

  const acts = (await app.ctx.db.selectFrom('audit_log').select('action').execute()).map((r) => r.action);
  for (const a of ['org_create', 'org_update', 'org_remove', 'user_disable']) t.ok(acts.includes(a), `audited: ${a}`);
});

t.test('本级人员授权: a clerk with 资格审查经办 only approves, and is refused 退回 and 统计 with the reason', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app, { unitLevel: 'county' });
  await createStaff(app, { username: 'wh_admin', name: '陈静', orgId: w.countyHrb, roles: 'org_admin' });
  const admin = new Agent(app);
  await login(admin, 'staff', 'wh_admin');
  const page = await admin.get('/org/staff');
  t.match(page.body, '资格审查经办');
  t.notMatch(page.body, '证书管理', 'only the duties of an HR bureau are offered');
  const none = await admin.post('/org/staff', { username: 'wh_li', name: '李娜' });
  t.equal(none.statusCode, 422);
  t.match(none.body, '请至少勾选一项权限');
  const added = await admin.post('/org/staff', { username: 'wh_li', name: '李娜', duties: ['review', 'certificate'] });
  t.equal(added.statusCode, 303);
  const perms = await admin.get(String(added.headers.location));
  const initial = initialPassword(perms.body);
  t.match(perms.body, /id="duties">资格审查经办</, 'a duty foreign to the kind is dropped');
  const li = await app.ctx.db.selectFrom('users').select(['id', 'duties']).where('username', '=', 'wh_li').executeTakeFirstOrThrow();
  t.equal(li.duties, 'review');

  const { id } = await submittedDeclaration(app, w);
  const route = JSON.parse((await app.ctx.db.selectFrom('declarations').select('route').where('id', '=', id).executeTakeFirstOrThrow()).route!);
  const stage = route.findIndex((s: { orgId: number }) => s.orgId === w.countyHrb);
  t.ok(stage > 0, 'the county bureau is on the route');
  await app.ctx.db.updateTable('declarations').set({ stage }).where('id', '=', id).execute();

  const clerk = new Agent(app);
  await firstLogin(clerk, 'wh_li', initial);
  t.match((await clerk.get(`/org/staff/${li.id}`)).body, '资格审查经办', 'the clerk sees their own permissions');
  t.equal((await clerk.get('/org/staff')).statusCode, 403, 'but not the staff list');
  await clerk.get(`/org/reviews/${id}`);
  const ret = await clerk.post(`/org/reviews/${id}/act`, { action: 'return', opinion: '请补充' });
  t.equal(ret.statusCode, 403);
  t.match(ret.body, '您没有“退回审查”权限');
  t.equal((await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status, 'reviewing', 'nothing changed');
  const stats = await clerk.get('/org/stats');
  t.equal(stats.statusCode, 403);
  t.match(stats.body, '统计查询');
  await clerk.get(`/org/reviews/${id}`);
  t.equal((await clerk.post(`/org/reviews/${id}/act`, { action: 'approve', opinion: '同意' })).statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('declarations').select('stage').where('id', '=', id).executeTakeFirstOrThrow()).stage, stage + 1, 'approved within the role');

  // The admin widens the duties: at once effective.
  await admin.get(`/org/staff/${li.id}`);
  t.equal((await admin.post(`/org/staff/${li.id}/duties`, { duties: ['review', 'stats'] })).statusCode, 303);
  t.equal((await clerk.get('/org/stats')).statusCode, 200);
  t.ok((await app.ctx.db.selectFrom('audit_log').select('action').where('action', '=', 'user_duties').executeTakeFirst()), 'audited');

  // Accounts made before 本级人员授权 (duties null) keep every duty of their org.
  const old = new Agent(app);
  await login(old, 'staff', w.staff.county);
  t.equal((await old.get('/org/stats')).statusCode, 200);
  void PASSWORD;
});

t.test('the platform admin makes an existing bureau’s 机构管理员, never on the platform itself', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  await createStaff(app, { username: 'ops1', name: '运维一', roles: 'admin' });
  const a = new Agent(app);
  await login(a, 'staff', 'ops1');
  const platform = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'platform').executeTakeFirstOrThrow()).id;
  await a.get('/admin/users/new');
  const bad = await a.post('/admin/users/new', { username: 'px_admin', name: '王强', org_id: String(platform), roles: 'org_admin' });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '机构管理员角色授予平台以外机构的用户');
  const ok = await a.post('/admin/users/new', { username: 'km_admin', name: '刘洋', org_id: String(w.cityHrb), roles: 'org_admin' });
  t.equal(ok.statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('users').select('roles').where('username', '=', 'km_admin').executeTakeFirstOrThrow()).roles, 'org_admin');
  // The platform admin's own tree: its children are the provincial bureaus and committees.
  const form = await a.get('/org/tree/new');
  t.equal(form.statusCode, 200);
  t.match(form.body, 'value="hrb:province"');
  t.notMatch(form.body, 'value="unit"');
});

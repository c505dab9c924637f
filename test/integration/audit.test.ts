import t from 'tap';
import { makeApp, Agent, login, createApplicant, createStaff, idNumber, lastSmsCode, PASSWORD, type TestApp } from '../helpers/app.js';
import { kunming, submittedDeclaration } from '../helpers/world.js';
import { audit, purgeAudit, verifyChain } from '../../src/features/audit/service.js';

const rows = (app: TestApp) => app.ctx.db.selectFrom('audit_log').selectAll().orderBy('id').execute();
const verify = (app: TestApp) => verifyChain(app.ctx.db, app.ctx.secrets.auditKey);

t.test('a login writes rows without the password or the full phone; failures and the lock too', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const zhang = await createApplicant(app, { phone: '13912345678' });
  const a = new Agent(app);
  t.equal((await login(a, 'applicant', zhang.phone)).statusCode, 303);
  for (let i = 0; i < 3; i++) await login(new Agent(app), 'applicant', zhang.phone, 'Wrong#pass1');
  await a.get('/me');
  const all = await rows(app);
  const dump = JSON.stringify(all);
  t.notMatch(dump, zhang.password, 'no password');
  t.notMatch(dump, 'Wrong#pass1', 'no wrong password either');
  t.notMatch(dump, '13912345678', 'no full phone');
  t.notMatch(dump, zhang.id, 'no full ID number');
  const ok = all.find((r) => r.action === 'login' && r.result === 'ok')!;
  t.ok(ok);
  t.equal(ok.user_id, zhang.userId);
  t.equal(ok.username, '139****5678');
  t.equal(ok.role, 'applicant');
  t.ok(ok.ip, 'source IP recorded');
  t.equal(all.filter((r) => r.action === 'login' && r.result === 'fail').length, 3);
  t.equal(all.filter((r) => r.action === 'account_lock').length, 1, 'the 3rd failure locks, once');
  t.same(await verify(app), { ok: true, rows: all.length });
});

t.test('a workflow action writes a row in the same transaction; logout too', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id } = await submittedDeclaration(app, w);
  await app.ctx.db.updateTable('declarations').set({ stage: 1 }).where('id', '=', id).execute();
  const sup = new Agent(app);
  await login(sup, 'staff', w.staff.supervisor);
  await sup.get(`/org/reviews/${id}`);
  t.equal((await sup.post(`/org/reviews/${id}/act`, { action: 'return', opinion: '论文情况请补充刊号' })).statusCode, 303);
  const row = (await rows(app)).find((r) => r.action === 'workflow')!;
  t.ok(row, 'workflow row');
  t.equal(row.object_type, 'declaration');
  t.equal(row.object_id, String(id));
  t.ok(row.ip);
  t.notMatch(row.detail ?? '', '刊号', 'the opinion text is not copied');
  await sup.get('/org');
  await sup.post('/logout');
  t.ok((await rows(app)).some((r) => r.action === 'logout'));
  t.equal((await verify(app)).ok, true);
});

async function seeded(t: { teardown(fn: () => unknown): void }, n = 6) {
  const app = await makeApp();
  t.teardown(() => app.close());
  for (let i = 1; i <= n; i++) await audit(app.ctx, null, { action: 'config_change', objectType: 'test', objectId: i, detail: `第${i}条` });
  return app;
}

t.test('tampering: an edited row, a deleted middle row, a deleted last row', async (t) => {
  let app = await seeded(t);
  t.same(await verify(app), { ok: true, rows: 6 });
  await app.ctx.db.updateTable('audit_log').set({ detail: '改过了' }).where('id', '=', 3).execute();
  t.same((await verify(app)).firstBad, { id: 3, reason: '内容被修改' });

  app = await seeded(t);
  await app.ctx.db.deleteFrom('audit_log').where('id', '=', 4).execute();
  const r = await verify(app);
  t.equal(r.ok, false);
  t.same(r.firstBad, { id: 5, reason: '记录被删除' }, 'the row after the gap');

  app = await seeded(t);
  await app.ctx.db.deleteFrom('audit_log').where('id', '=', 6).execute();
  t.same((await verify(app)).firstBad, { id: 6, reason: '记录被删除' }, 'found through the stored head');
  // Appending after the deletion does not hide it.
  await audit(app.ctx, null, { action: 'config_change' });
  t.equal((await verify(app)).ok, false);

  app = await seeded(t);
  await app.ctx.db.deleteFrom('audit_log').where('id', '<=', 2).execute();
  t.same((await verify(app)).firstBad, { id: 3, reason: '记录被删除' }, 'deleting the oldest rows without a purge checkpoint');
});

t.test('the purge keeps 184 days, writes a checkpoint and verification stays ok', async (t) => {
  const app = await seeded(t, 3);
  app.clock.advance(100 * 86_400_000);
  await audit(app.ctx, null, { action: 'config_change', detail: 'later' });
  t.equal(await purgeAudit(app.ctx), 0, 'nothing older than 184 days yet');
  app.clock.advance(90 * 86_400_000);
  t.equal(await purgeAudit(app.ctx), 3, 'the three old rows go');
  const left = await rows(app);
  t.same(left.map((r) => r.action), ['config_change', 'audit_purge']);
  t.same(await verify(app), { ok: true, rows: 2 });
  await audit(app.ctx, null, { action: 'config_change' });
  t.equal((await verify(app)).ok, true);
  // A second purge, later: still verifiable.
  app.clock.advance(200 * 86_400_000);
  await audit(app.ctx, null, { action: 'config_change' });
  t.ok((await purgeAudit(app.ctx)) > 0);
  t.equal((await verify(app)).ok, true);
  // Forging: deleting the first survivor is still found.
  const first = (await rows(app))[0]!;
  await app.ctx.db.deleteFrom('audit_log').where('id', '=', first.id).execute();
  t.equal((await verify(app)).ok, false);
});

t.test('audit screen: filters, export, verify for the audit admin; everyone else (the system admin too) gets 403', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  await createStaff(app, { username: 'admin1' });
  await createStaff(app, { username: 'auditor1', name: '赵敏', roles: 'audit' });
  const admin = new Agent(app);
  await login(admin, 'staff', 'auditor1');
  await login(new Agent(app), 'staff', 'admin1', 'Wrong#pass1');

  const all = await admin.get('/admin/audit');
  t.equal(all.statusCode, 200);
  t.match(all.body, '审计日志');
  t.match(all.body, '登录');
  const fails = await admin.get('/admin/audit?action=login&result=fail');
  t.match(fails.body, '失败');
  t.notMatch(fails.body, '<td>成功</td>');
  const none = await admin.get('/admin/audit?from=2030-01-01');
  t.match(none.body, '没有符合条件的记录');
  t.match((await admin.get('/admin/audit?user=admin1&object=user')).body, 'admin1');

  const x = await admin.get('/admin/audit/export.xlsx?action=login');
  t.equal(x.statusCode, 200);
  t.match(String(x.headers['content-type']), 'spreadsheetml');
  t.equal(x.rawPayload.subarray(0, 2).toString(), 'PK');

  await admin.get('/admin/audit');
  const v = await admin.post('/admin/audit/verify');
  t.equal(v.statusCode, 200);
  t.match(v.body, '校验通过');
  await app.ctx.db.updateTable('audit_log').set({ ip: '10.0.0.1' }).where('id', '=', 1).execute();
  await admin.get('/admin/audit');
  t.match((await admin.post('/admin/audit/verify')).body, '第 1 条记录内容被修改');

  // 三权分立: the system admin, whose acts are in the log, cannot read it.
  const sys = new Agent(app);
  await login(sys, 'staff', 'admin1');
  await sys.get('/admin');
  t.equal((await sys.get('/admin/audit')).statusCode, 403);
  t.equal((await sys.get('/admin/audit/export.xlsx')).statusCode, 403);
  t.equal((await sys.post('/admin/audit/verify')).statusCode, 403);

  const unitOrg = await app.ctx.db.insertInto('orgs').values({ kind: 'unit', name: '某单位', created_at: app.clock.now().toISOString(), updated_at: app.clock.now().toISOString() } as any).returning('id').executeTakeFirstOrThrow();
  await createStaff(app, { username: 'clerk', orgId: unitOrg.id, roles: '' });
  const clerk = new Agent(app);
  await login(clerk, 'staff', 'clerk');
  t.equal((await clerk.get('/admin/audit')).statusCode, 403);
  t.equal((await clerk.get('/admin/audit/export.xlsx')).statusCode, 403);
  const zhang = await createApplicant(app);
  const ap = new Agent(app);
  await login(ap, 'applicant', zhang.phone);
  t.equal((await ap.get('/admin/audit')).statusCode, 403);
  t.equal((await new Agent(app).get('/admin/audit')).statusCode, 303, 'anonymous: to login');
});

t.test('registration and organisation create/edit write rows with the source IP', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = new Agent(app);
  const who = { name: '李娜', idNumber: idNumber('19900307', '123'), phone: '13912345678' };
  await a.get('/register');
  await a.post('/register/sms', who);
  const code = await lastSmsCode(app, '139****5678');
  t.equal((await a.post('/register', { ...who, smsCode: code, password: PASSWORD, password2: PASSWORD, agree: '1' })).statusCode, 303);
  const li = await app.ctx.db.selectFrom('users').select('id').where('name', '=', '李娜').executeTakeFirstOrThrow();
  const reg = (await rows(app)).find((r) => r.action === 'register')!;
  t.match(reg, { user_id: li.id, object_id: String(li.id), role: 'applicant', name: '李娜', result: 'ok' });
  t.ok(reg.ip);

  await createStaff(app, { username: 'admin1' });
  const sys = new Agent(app);
  await login(sys, 'staff', 'admin1');
  await sys.get('/admin/orgs/new');
  t.equal((await sys.post('/admin/orgs/new', { kind: 'hrb', name: '测试县人社局', hrb_level: 'county', region_code: '530102', phone: '13800001111' })).statusCode, 303);
  const org = await app.ctx.db.selectFrom('orgs').select('id').where('name', '=', '测试县人社局').executeTakeFirstOrThrow();
  await sys.get(`/admin/orgs/${org.id}`);
  t.equal((await sys.post(`/admin/orgs/${org.id}`, { kind: 'hrb', name: '测试县人力资源和社会保障局', hrb_level: 'county', region_code: '530102', phone: '13800002222' })).statusCode, 303);
  const all = await rows(app);
  const created = all.find((r) => r.action === 'org_create')!;
  t.match(created, { username: 'admin1', object_type: 'org', object_id: String(org.id), detail: '人社局：测试县人社局' });
  t.ok(created.ip);
  const edited = all.find((r) => r.action === 'org_update')!;
  t.match(edited, { username: 'admin1', object_id: String(org.id) });
  t.match(edited.detail, 'name');
  t.match(edited.detail, 'phone');
  t.ok(edited.ip);
  const dump = JSON.stringify(all);
  for (const v of [who.idNumber, who.phone, code, '13800001111', '13800002222']) t.notMatch(dump, v, 'no personal data or codes');
  t.equal((await verify(app)).ok, true);
});

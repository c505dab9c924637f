import t from 'tap';
import { makeApp, Agent, createStaff, createApplicant, login, idNumber, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi, org, uscc } from '../helpers/world.js';

/**
 * Staff see 身份证号 / 手机号 masked; with the 'reveal_pii' permission (granted by the security
 * admin) a 显示完整 button reveals one value of a person they may see anyway — audited, never
 * with the value in the log.
 */
const revealRows = (app: TestApp) => app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'pii_reveal').orderBy('id').execute();

async function world(t: { teardown(fn: () => unknown): void }) {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await readyApplicant(app, w.unit);
  const other = await org(app, { kind: 'unit', name: '昆明市第六中学', uscc: uscc(66) });
  const zhao = await createApplicant(app, { name: '赵六', id: idNumber('19900101', '661'), phone: '13700137000', unitOrgId: other });
  await createStaff(app, { username: 'sec_wang', name: '王芳', roles: 'security' });
  const sec = new Agent(app);
  await login(sec, 'staff', 'sec_wang');
  const userId = async (username: string) => (await app.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id;
  const grant = async (username: string, on = true) => {
    const id = await userId(username);
    await sec.get(`/admin/security/users/${id}`);
    return sec.post(`/admin/security/users/${id}/permissions`, on ? { permissions: 'reveal_pii' } : {});
  };
  return { app, w, zhang, zhao, sec, grant, userId };
}

t.test('a unit clerk: no permission → no button and 403; granted → the value (no-JS page and htmx fragment), audited without it', async (t) => {
  const { app, zhang, zhao, grant, userId } = await world(t);
  const lina = new Agent(app);
  await login(lina, 'staff', 'unit_lina');
  let people = await lina.get('/org/people');
  t.equal(people.statusCode, 200);
  t.match(people.body, '<span class="pii">5301**********');
  t.notMatch(people.body, '显示完整', 'no button without the permission');
  let res = await lina.post(`/reveal/${zhang.userId}/id`, { back: '/org/people' });
  t.equal(res.statusCode, 403);
  t.notMatch(res.body, zhang.id, 'nothing revealed');
  t.match((await revealRows(app))[0], { result: 'fail', user_id: await userId('unit_lina'), object_id: String(zhang.userId), detail: '身份证号：无查看权限' });

  const g = await grant('unit_lina');
  t.equal(g.statusCode, 303);
  const change = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'permission_change').executeTakeFirstOrThrow();
  t.match(change, { role: 'security', object_id: String(await userId('unit_lina')), detail: '授予：查看完整身份证号、手机号' });
  t.ok(change.ip);

  people = await lina.get('/org/people');
  t.match(people.body, `action="/reveal/${zhang.userId}/id"`);
  t.match(people.body, `hx-post="/reveal/${zhang.userId}/phone"`);
  t.match(people.body, 'hx-target="closest .pii"');
  t.notMatch(people.body, zhang.id, 'still masked until asked');

  // Without JS: a small no-store page with the value and a way back.
  res = await lina.post(`/reveal/${zhang.userId}/id`, { back: '/org/people' });
  t.equal(res.statusCode, 200);
  t.match(res.body, zhang.id);
  t.equal(res.headers['cache-control'], 'no-store');
  t.match(res.body, 'href="/org/people"');
  t.match(res.body, '本次查看已记入审计日志');
  // With htmx: only the value, swapped into the masked span.
  await lina.get('/org/people');
  res = await lina.post(`/reveal/${zhang.userId}/phone`, { back: '/org/people' }, { headers: { 'hx-request': 'true' } });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['cache-control'], 'no-store');
  t.match(res.body, `<span class="pii full"`);
  t.match(res.body, `>${zhang.phone}</span>`);
  t.notMatch(res.body, '<html', 'a fragment, not a page');
  // An off-site "back" is not followed.
  await lina.get('/org/people');
  t.notMatch((await lina.post(`/reveal/${zhang.userId}/id`, { back: '//evil.example/x' })).body, 'evil.example');

  // Another unit's person: not in scope → 404, nothing revealed.
  await lina.get('/org/people');
  res = await lina.post(`/reveal/${zhao.userId}/id`, { back: '/org/people' });
  t.equal(res.statusCode, 404);
  t.notMatch(res.body, zhao.id);
  res = await lina.post(`/reveal/${zhao.userId}/phone`, {}, { headers: { 'hx-request': 'true' } });
  t.equal(res.statusCode, 404);
  t.notMatch(res.body, '13700137000');
  t.equal(res.body, '<span class="pii bad">该人员不存在，或不在您的查看范围内。</span>', 'htmx gets a fragment for the span, not a page');
  // Bad field or id; no CSRF token.
  await lina.get('/org/people');
  t.equal((await lina.post(`/reveal/${zhang.userId}/name`)).statusCode, 404);
  t.equal((await lina.post('/reveal/x/id')).statusCode, 404);
  const noCsrf = await lina.post(`/reveal/${zhang.userId}/id`, {}, { csrf: null });
  t.equal(noCsrf.statusCode, 403);
  t.notMatch(noCsrf.body, zhang.id);

  const rows = await revealRows(app);
  const ok = rows.filter((r) => r.result === 'ok');
  t.same(ok.map((r) => [r.object_type, r.object_id, r.detail]), [
    ['user', String(zhang.userId), '查看完整身份证号'],
    ['user', String(zhang.userId), '查看完整手机号'],
    ['user', String(zhang.userId), '查看完整身份证号'],
  ]);
  for (const r of ok) {
    t.equal(r.username, 'unit_lina');
    t.ok(r.ip, 'source IP');
  }
  t.same(rows.filter((r) => r.result === 'fail').map((r) => r.detail), ['身份证号：无查看权限', '身份证号：不在查看范围内', '手机号：不在查看范围内']);
  const dump = JSON.stringify(await app.ctx.db.selectFrom('audit_log').selectAll().execute());
  for (const v of [zhang.id, zhang.phone, zhao.id, '13700137000']) t.notMatch(dump, v, 'never the value in the audit log');

  // Revoked: refused again at once.
  await grant('unit_lina', false);
  await lina.get('/org/people');
  t.equal((await lina.post(`/reveal/${zhang.userId}/id`)).statusCode, 403);
  t.notMatch((await lina.get('/org/people')).body, '显示完整');
});

t.test('a reviewer sees a person only once the declaration reached their organisation; the system admin anyone', async (t) => {
  const { app, w, zhang, zhao, grant } = await world(t);
  await grant(w.staff.supervisor);
  const sup = new Agent(app);
  await login(sup, 'staff', w.staff.supervisor);
  await sup.get('/org/reviews');
  t.equal((await sup.post(`/reveal/${zhang.userId}/id`)).statusCode, 404, 'not declared yet: not in scope');

  const applicant = new Agent(app);
  await login(applicant, 'applicant', zhang.phone);
  const id = await declareThroughUi(app, applicant, w, zhang.userId);
  await submitThroughUi(applicant, id);
  await sup.get('/org/reviews');
  t.equal((await sup.post(`/reveal/${zhang.userId}/id`)).statusCode, 404, 'still at the unit stage');
  await app.ctx.db.updateTable('declarations').set({ stage: 1 }).where('id', '=', id).execute();

  const list = await sup.get('/org/reviews');
  t.match(list.body, `action="/reveal/${zhang.userId}/id"`, 'button in the review queue');
  const detail = await sup.get(`/org/reviews/${id}`);
  t.match(detail.body, `action="/reveal/${zhang.userId}/phone"`, 'and on the review screen');
  const res = await sup.post(`/reveal/${zhang.userId}/id`, { back: `/org/reviews/${id}` });
  t.equal(res.statusCode, 200);
  t.match(res.body, zhang.id);
  t.match(res.body, `href="/org/reviews/${id}"`);

  // The system admin (with the permission) on 用户管理: anyone.
  await createStaff(app, { username: 'sys_li', name: '李娜', roles: 'admin' });
  await grant('sys_li');
  const sys = new Agent(app);
  await login(sys, 'staff', 'sys_li');
  const page = await sys.get(`/admin/users/${zhao.userId}`);
  t.match(page.body, `action="/reveal/${zhao.userId}/phone"`);
  const r = await sys.post(`/reveal/${zhao.userId}/phone`, { back: `/admin/users/${zhao.userId}` });
  t.equal(r.statusCode, 200);
  t.match(r.body, '13700137000');
});

t.test('never for the security or audit admin, nor applicants', async (t) => {
  const { app, zhang, sec, userId } = await world(t);
  await createStaff(app, { username: 'aud_zhao', name: '赵敏', roles: 'audit' });
  const audId = await userId('aud_zhao');
  await sec.get(`/admin/security/users/${audId}`);
  const refused = await sec.post(`/admin/security/users/${audId}/permissions`, { permissions: 'reveal_pii' });
  t.equal(refused.statusCode, 422);
  t.match(refused.body, '安全管理员、审计管理员不能拥有“查看完整身份证号、手机号”权限');
  t.equal((await app.ctx.db.selectFrom('users').select('permissions').where('id', '=', audId).executeTakeFirstOrThrow()).permissions, '');

  // Even with the flag written straight into the database, both are refused.
  await app.ctx.db.updateTable('users').set({ permissions: 'reveal_pii' }).where('username', 'in', ['aud_zhao', 'sec_wang']).execute();
  await sec.get('/admin/security/users');
  t.equal((await sec.post(`/reveal/${zhang.userId}/id`)).statusCode, 403);
  const aud = new Agent(app);
  await login(aud, 'staff', 'aud_zhao');
  await aud.get('/admin/audit');
  const r = await aud.post(`/reveal/${zhang.userId}/id`);
  t.equal(r.statusCode, 403);
  t.notMatch(r.body, zhang.id);

  const ap = new Agent(app);
  await login(ap, 'applicant', zhang.phone);
  await ap.get('/me');
  t.equal((await ap.post(`/reveal/${zhang.userId}/id`)).statusCode, 403);
  t.equal((await new Agent(app).post(`/reveal/${zhang.userId}/id`, {}, { csrf: null })).statusCode, 403, 'anonymous: refused (CSRF first)');
});

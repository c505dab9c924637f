import t from 'tap';
import writeXlsxFile from 'write-excel-file/node';
import { makeApp, Agent, createApplicant, createStaff, login, idNumber, PASSWORD, type TestApp } from '../helpers/app.js';
import { org, uscc } from '../helpers/world.js';
import { IN_FLIGHT_MESSAGE } from '../../src/features/units/people.js';
import { verifyChain } from '../../src/features/audit/service.js';
import { checkPassword } from '../../src/domain/password.js';
import { commonPasswords } from '../../src/lib/commonPasswords.js';
import { accountSms } from '../../src/features/units/batchAccounts.js';
import type { SmsSender } from '../../src/features/sms/sender.js';

const auditRows = (app: TestApp, action: string) => app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

/** 3 wrong passwords from one source: locked from that IP only (what a unit may unlock). */
async function lockFromASource(app: TestApp, userId: number, source = '10.1.2.3') {
  const stamp = app.clock.now().toISOString();
  await app.ctx.db.insertInto('login_failures').values({ user_id: userId, source, failures: 3, locked_at: stamp, updated_at: stamp }).execute();
  await app.ctx.db.updateTable('users').set({ failed_logins: 3 }).where('id', '=', userId).execute();
}

async function setup(buildOpts: Parameters<typeof makeApp>[1] = {}) {
  const app = await makeApp({}, buildOpts);
  const unit = await org(app, { kind: 'unit', name: '昆明市第五中学', uscc: uscc(55), nature: 'non_public', unit_level: 'city', region_code: '530102' });
  const other = await org(app, { kind: 'unit', name: '昆明市第六中学', uscc: uscc(66) });
  await createStaff(app, { username: 'wz', name: '周敏', orgId: unit, roles: '' });
  const a = new Agent(app);
  await login(a, 'staff', 'wz');
  return { app, unit, other, a };
}

async function postMultipart(app: TestApp, agent: Agent, url: string, fields: Record<string, string>, files: Record<string, { name: string; bytes: Buffer }> = {}) {
  const fd = new FormData();
  fd.append('_csrf', agent.csrf()); // the form's first field, as the page renders it
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const [k, f] of Object.entries(files)) fd.append(k, new Blob([new Uint8Array(f.bytes)]), f.name);
  const r = new Response(fd);
  const res = await app.app.inject({
    method: 'POST', url, payload: Buffer.from(await r.arrayBuffer()),
    headers: { 'content-type': r.headers.get('content-type')!, cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  if (String(res.headers['content-type'] ?? '').startsWith('text/html')) agent.lastHtml = res.body;
  return res;
}

const flashOf = async (a: Agent, url = '/org/people') => /<p class="flash[^"]*"[^>]*>([^<]+)<\/p>/.exec((await a.get(url)).body)?.[1] ?? '';

t.test('专业技术人员: masked list, search, paging; unlock, reset, message, remove; other units → 404', async (t) => {
  const { app, unit, other, a } = await setup();
  t.teardown(() => app.close());
  const zhang = await createApplicant(app, { name: '张伟', id: idNumber('19850612', '231'), phone: '13800138000', unitOrgId: unit });
  const wang = await createApplicant(app, { name: '王芳', id: idNumber('19880101', '442'), phone: '13900139000', unitOrgId: unit });
  const stranger = await createApplicant(app, { name: '赵六', id: idNumber('19900101', '661'), phone: '13700137000', unitOrgId: other });
  await lockFromASource(app, wang.userId);

  let page = await a.get('/org/people');
  t.equal(page.statusCode, 200);
  t.match(page.body, '>专业技术人员管理</a>', 'menu entry');
  t.match(page.body, '张伟');
  t.match(page.body, '王芳');
  t.notMatch(page.body, '赵六', "another unit's people are not listed");
  t.match(page.body, '5301**********');
  t.match(page.body, '138****8000');
  t.notMatch(page.body, zhang.id, 'never the full ID number');
  t.notMatch(page.body, zhang.phone, 'never the full phone');
  t.notMatch(page.body, wang.id);
  t.match(page.body, '已锁定');
  t.match(page.body, '共 2 条');

  t.notMatch((await a.get('/org/people?q=王')).body, '张伟', 'search by name');
  page = await a.get(`/org/people?q=${zhang.id}`);
  t.match(page.body, '张伟', 'search by full ID number');
  t.notMatch(page.body, '王芳');
  t.match((await a.get(`/org/people?q=${wang.phone}`)).body, '王芳', 'search by full phone');
  page = await a.get('/org/people?status=locked');
  t.match(page.body, '王芳');
  t.notMatch(page.body, '张伟');
  t.match((await a.get('/org/people?page=2')).body, '第 2 / 1 页');

  // 解锁.
  page = await a.get('/org/people');
  let res = await a.post(`/org/people/${wang.userId}/unlock`);
  t.equal(res.statusCode, 303);
  let w = await app.ctx.db.selectFrom('users').selectAll().where('id', '=', wang.userId).executeTakeFirstOrThrow();
  t.equal(w.locked_at, null);
  t.equal(w.failed_logins, 0);
  t.same(await app.ctx.db.selectFrom('login_failures').select('source').where('user_id', '=', wang.userId).execute(), [], 'every source cleared (trigger)');
  t.match(await flashOf(a), '已解锁');
  const unlocked = await auditRows(app, 'account_unlock');
  t.equal(unlocked.length, 1);
  t.match(unlocked[0], { username: 'wz', org_id: unit, object_type: 'user', object_id: String(wang.userId), result: 'ok', detail: '单位解锁（清除密码错误锁定）' });
  t.ok(unlocked[0]!.ip, 'source IP');
  const wa = new Agent(app);
  t.equal((await login(wa, 'applicant', wang.phone)).headers.location, '/me', 'can log in again');

  // 重置密码: shown once, must change, sessions end, a message.
  page = await a.get(`/org/people/${wang.userId}/reset-password`);
  t.match(page.body, '确定重置');
  res = await a.post(`/org/people/${wang.userId}/reset-password`);
  t.equal(res.statusCode, 303);
  const flash = await flashOf(a);
  const pw = /初始密码：([^（]+)（/.exec(flash)![1]!;
  t.notMatch((await a.get('/org/people')).body, pw, 'shown once');
  w = await app.ctx.db.selectFrom('users').selectAll().where('id', '=', wang.userId).executeTakeFirstOrThrow();
  t.equal(w.must_change_password, 1);
  t.equal((await app.ctx.db.selectFrom('sessions').select('sid').where('user_id', '=', wang.userId).execute()).length, 0, 'sessions ended');
  t.equal((await wa.get('/me')).statusCode, 303, 'the old session is gone');
  t.equal((await login(new Agent(app), 'applicant', wang.phone, pw)).headers.location, '/account/password');
  t.match((await app.ctx.db.selectFrom('messages').select('content').where('user_id', '=', wang.userId).orderBy('id', 'desc').executeTakeFirstOrThrow()).content, '重置');
  const reset = await auditRows(app, 'password_reset');
  t.equal(reset.length, 1);
  t.match(reset[0], { username: 'wz', object_id: String(wang.userId), result: 'ok', detail: '单位重置专业技术人员密码，清除密码错误锁定' });
  t.ok(reset[0]!.ip);

  // 发送信息.
  page = await a.get(`/org/people/${zhang.userId}/message`);
  t.equal(page.statusCode, 200);
  res = await a.post(`/org/people/${zhang.userId}/message`, { content: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请填写信息内容');
  res = await a.post(`/org/people/${zhang.userId}/message`, { content: '字'.repeat(501) });
  t.equal(res.statusCode, 422);
  t.match(res.body, '信息内容不能超过500个字');
  res = await a.post(`/org/people/${zhang.userId}/message`, { content: '请于本周五前完善申报材料。' });
  t.equal(res.statusCode, 303);
  const m = await app.ctx.db.selectFrom('messages').selectAll().where('user_id', '=', zhang.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  t.equal(m.type, '单位消息');
  t.match(m.content, '请于本周五前完善申报材料。');
  const za = new Agent(app);
  await login(za, 'applicant', zhang.phone);
  t.match((await za.get('/me/messages')).body, '请于本周五前完善申报材料');

  // Someone else's person: not found, for every action.
  t.equal((await a.get(`/org/people/${stranger.userId}/message`)).statusCode, 404);
  await a.get('/org/people');
  for (const act of ['message', 'unlock', 'reset-password', 'remove']) {
    t.equal((await a.post(`/org/people/${stranger.userId}/${act}`, { content: 'x' })).statusCode, 404, `POST ${act}`);
  }
  t.equal((await a.get(`/org/people/${stranger.userId}/remove`)).statusCode, 404);
  t.equal((await a.get('/org/people/abc/remove')).statusCode, 404);

  // 移除: refused while a declaration is in review through this unit.
  const plan = (await app.ctx.db.selectFrom('plans').select('id').executeTakeFirst())?.id ?? (await app.ctx.db.insertInto('plans').values({
    committee_org_id: (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').executeTakeFirstOrThrow()).id,
    year: 2026, name: '测试计划', opens_at: '2026-01-01', closes_at: '2026-12-31', created_at: app.clock.now().toISOString(),
  } as any).returning('id').executeTakeFirstOrThrow()).id;
  const decl = await app.ctx.db.insertInto('declarations').values({
    user_id: zhang.userId, plan_id: plan, year: 2026, status: 'reviewing', cover: '{}', route: '[]', submitted_at: app.clock.now().toISOString(),
    created_at: app.clock.now().toISOString(), updated_at: app.clock.now().toISOString(),
  }).returning('id').executeTakeFirstOrThrow();
  await app.ctx.db.insertInto('declaration_stages').values({ declaration_id: decl.id, idx: 0, org_id: unit, kind: 'unit' }).execute();
  page = await a.get(`/org/people/${zhang.userId}/remove`);
  t.match(page.body, '确定将“张伟');
  res = await a.post(`/org/people/${zhang.userId}/remove`);
  t.equal(res.statusCode, 303);
  t.equal(await flashOf(a), IN_FLIGHT_MESSAGE);
  let removed = await auditRows(app, 'unit_person_remove');
  t.match(removed, [{ object_id: String(zhang.userId), result: 'fail', detail: `${IN_FLIGHT_MESSAGE}（申报 ${decl.id}）` }], 'a refused removal is audited too');
  t.equal((await app.ctx.db.selectFrom('users').select('unit_org_id').where('id', '=', zhang.userId).executeTakeFirstOrThrow()).unit_org_id, unit, 'still in the unit');
  await app.ctx.db.updateTable('declarations').set({ status: 'passed' }).where('id', '=', decl.id).execute();
  await a.get('/org/people');
  res = await a.post(`/org/people/${zhang.userId}/remove`);
  t.match(await flashOf(a), '已移出本单位');
  t.equal((await app.ctx.db.selectFrom('users').select('unit_org_id').where('id', '=', zhang.userId).executeTakeFirstOrThrow()).unit_org_id, null);
  t.notMatch((await a.get('/org/people')).body, '张伟');
  t.equal((await a.get(`/org/people/${zhang.userId}/message`)).statusCode, 404, 'no longer ours');
  removed = await auditRows(app, 'unit_person_remove');
  t.equal(removed.length, 2);
  t.match(removed[1], { username: 'wz', org_id: unit, object_id: String(zhang.userId), result: 'ok' });
  t.ok(removed[1]!.ip);

  // Nothing personal in any row; the chain verifies.
  const dump = JSON.stringify(await app.ctx.db.selectFrom('audit_log').selectAll().execute());
  for (const v of [zhang.id, zhang.phone, wang.id, wang.phone, stranger.id, pw]) t.notMatch(dump, v, 'no ID number, phone or password');
  t.equal((await verifyChain(app.ctx.db, app.ctx.secrets.auditKey)).ok, true);
});

t.test("an administrator's lock: the unit sees it, offers no unlock, and neither its unlock nor its reset lifts it", async (t) => {
  const { app, unit, a } = await setup();
  t.teardown(() => app.close());
  const li = await createApplicant(app, { name: '李雷', id: idNumber('19870303', '551'), phone: '13500135000', unitOrgId: unit });
  const han = await createApplicant(app, { name: '韩梅', id: idNumber('19890404', '562'), phone: '13600136000', unitOrgId: unit });
  const lockedAt = app.clock.now().toISOString();
  // 李雷: locked by an administrator, and from a source as well. 韩梅: from a source only.
  await app.ctx.db.updateTable('users').set({ locked_at: lockedAt }).where('id', '=', li.userId).execute();
  await lockFromASource(app, li.userId);
  await lockFromASource(app, han.userId);

  const page = await a.get('/org/people');
  const rowOf = (name: string) => /<tr>[\s\S]*?<\/tr>/g.exec(page.body.slice(page.body.indexOf(`<td>${name}</td>`) - 10))?.[0] ?? '';
  t.match(rowOf('李雷'), '已被管理员锁定，请联系平台');
  t.notMatch(rowOf('李雷'), `/org/people/${li.userId}/unlock`, 'no unlock for an administrator\'s lock');
  t.match(rowOf('韩梅'), `action="/org/people/${han.userId}/unlock"`, 'a lock from one source: the unit unlocks it');
  t.notMatch(rowOf('韩梅'), '已被管理员锁定');

  // A forged unlock post is refused and changes nothing (the failures stay too).
  let res = await a.post(`/org/people/${li.userId}/unlock`);
  t.equal(res.statusCode, 303);
  t.match(await flashOf(a), '“李雷”的账号已被管理员锁定，请联系平台');
  let row = await app.ctx.db.selectFrom('users').select(['locked_at', 'failed_logins']).where('id', '=', li.userId).executeTakeFirstOrThrow();
  t.same(row, { locked_at: lockedAt, failed_logins: 3 });
  t.equal((await app.ctx.db.selectFrom('login_failures').select('source').where('user_id', '=', li.userId).execute()).length, 1);
  t.match(await auditRows(app, 'account_unlock'), [{ object_id: String(li.userId), result: 'fail', detail: '单位解锁被拒绝：账号已被平台管理员锁定' }]);

  // The unit's password reset: a new password, the wrong-password counters go, the lock stays.
  await a.get(`/org/people/${li.userId}/reset-password`);
  t.match(a.lastHtml, '该账号已被平台管理员锁定，重置后仍须平台解锁');
  res = await a.post(`/org/people/${li.userId}/reset-password`);
  t.equal(res.statusCode, 303);
  const flash = await flashOf(a);
  t.match(flash, '已被管理员锁定，请联系平台解锁后方可登录');
  const pw = /初始密码：([^（]+)（/.exec(flash)![1]!;
  row = await app.ctx.db.selectFrom('users').select(['locked_at', 'failed_logins']).where('id', '=', li.userId).executeTakeFirstOrThrow();
  t.same(row, { locked_at: lockedAt, failed_logins: 0 }, "the administrator's lock stays");
  t.equal((await app.ctx.db.selectFrom('login_failures').select('source').where('user_id', '=', li.userId).execute()).length, 0, 'the per-source rows are cleared');
  const login1 = await login(new Agent(app), 'applicant', li.phone, pw);
  t.equal(login1.statusCode, 422, 'still refused');
  t.match(login1.body, '账号已被平台管理员锁定');
  const reset = await auditRows(app, 'password_reset');
  t.match(reset, [{ object_id: String(li.userId), result: 'ok', detail: '单位重置专业技术人员密码，清除密码错误锁定；平台管理员的锁定未解除' }]);

  // 韩梅's source lock: the unit's unlock clears it.
  await a.get('/org/people');
  t.equal((await a.post(`/org/people/${han.userId}/unlock`)).statusCode, 303);
  t.match(await flashOf(a), '“韩梅”的账号已解锁');
  t.equal((await login(new Agent(app), 'applicant', han.phone)).headers.location, '/me');
  const dump = JSON.stringify(await app.ctx.db.selectFrom('audit_log').selectAll().execute());
  for (const v of [li.id, li.phone, han.id, han.phone, pw]) t.notMatch(dump, v);
});

const ID = (birth: string, seq: string) => idNumber(birth, seq);

/** The created accounts' rows on the import result page: line, name, masked ID, masked phone, password (or its SMS state). */
const accountRows = (html: string) =>
  [...html.matchAll(/<tr><td>(\d+)<\/td><td>([^<]+)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td>\s*<td>([\s\S]*?)<\/td><\/tr>/g)].map((m) => {
    const password = /<code class="pw">([^<]+)<\/code>/.exec(m[5]!)?.[1] ?? null;
    return { line: Number(m[1]), name: m[2]!, id: m[3]!, phone: m[4]!, password, note: m[5]!.replace(/<code[^>]*>[^<]*<\/code>/, '').replace(/<[^>]+>/g, '').trim() };
  });

t.test('批量新增账号 (paste): mixed rows, exact counts and row messages, a password of its own per account, shown once', async (t) => {
  const { app, unit, a } = await setup();
  t.teardown(() => app.close());
  const existing = await createApplicant(app, { name: '老用户', id: ID('19700101', '001'), phone: '13600000000' });
  const good1 = ID('19900101', '101');
  const good2 = ID('19910202', '102');
  const good3 = ID('19920303', '103');
  const badCheck = good1.slice(0, 17) + (good1.endsWith('0') ? '1' : '0');
  const text = [
    '姓名,身份证号,手机号', // 1: header, skipped
    `张三,${good1},13800000001`, // 2: ok
    `李四\t${badCheck}\t13800000002`, // 3: checksum
    `王五，${good2}，13800000003`, // 4: ok (Chinese commas)
    '', // 5: blank, skipped
    `赵六,${good1},13800000004`, // 6: duplicate ID of line 2
    `孙七,${existing.id},13800000005`, // 7: ID already registered
    `周八,${good3},1380000`, // 8: phone
    `吴九,${ID('19930404', '104')},13800000001`, // 9: phone duplicate of line 2
    `郑十,${ID('19940505', '105')}`, // 10: two columns
    `,${ID('19950606', '106')},13800000010`, // 11: no name
    `冯十一,${ID('19960707', '107')},13800000011`, // 12: ok
  ].join('\n');
  let page = await a.get('/org/people/import');
  t.equal(page.statusCode, 200);
  t.match(page.body, '姓名, 身份证号, 手机号');
  const res = await a.post('/org/people/import', { text });
  t.equal(res.statusCode, 200);
  t.match(res.body, '成功 <strong class="ok">3</strong> 条，失败 <strong class="bad">7</strong> 条');
  for (const msg of [
    '第3行：身份证号校验位不正确',
    '第6行：身份证号与第2行重复',
    '第7行：该身份证号已注册账号',
    '第8行：手机号应为11位数字',
    '第9行：手机号与第2行重复',
    '第10行：应为“姓名,身份证号,手机号”三列',
    '第11行：请填写姓名',
  ]) t.match(res.body, msg);
  t.notMatch(res.body, '第1行');
  t.notMatch(res.body, '第2行：');
  const rows = accountRows(res.body);
  t.same(rows.map((r) => [r.line, r.name, r.id, r.phone]), [
    [2, '张三', `${good1.slice(0, 4)}**********${good1.slice(14)}`, '138****0001'],
    [4, '王五', `${good2.slice(0, 4)}**********${good2.slice(14)}`, '138****0003'],
    [12, '冯十一', `${ID('19960707', '107').slice(0, 4)}**********${ID('19960707', '107').slice(14)}`, '138****0011'],
  ], 'the list to print: who, masked');
  const pws = rows.map((r) => r.password!);
  t.equal(new Set(pws).size, 3, 'three different passwords');
  const common = commonPasswords();
  for (const [i, pw] of pws.entries()) {
    const owner = [[good1, '13800000001'], [good2, '13800000003'], [ID('19960707', '107'), '13800000011']][i]!;
    t.same(checkPassword(pw, { idNumber: owner[0], phone: owner[1], common }), [], 'each passes the password policy');
    t.ok(pw.length >= 12);
  }
  t.match(res.body, '每个账号的初始密码各不相同，仅在本页显示一次');
  t.match(res.body, '<button type="button" data-print hidden>打印初始密码单</button>');
  t.match(res.headers['cache-control'], 'no-store', 'not kept by the browser');
  const created = await app.ctx.db.selectFrom('users').selectAll().where('unit_org_id', '=', unit).orderBy('id').execute();
  t.same(created.map((u) => u.name), ['张三', '王五', '冯十一']);
  // One audit row for the import, on the unit: counts only.
  const imported = await auditRows(app, 'unit_import');
  t.equal(imported.length, 1, 'one row per import');
  t.match(imported[0], { username: 'wz', org_id: unit, object_type: 'org', object_id: String(unit), result: 'ok', detail: '共10行：成功3条，失败7条' });
  t.ok(imported[0]!.ip, 'source IP');
  t.ok(created.every((u) => u.must_change_password === 1 && u.kind === 'applicant'));
  t.equal(new Set(created.map((u) => u.password_hash)).size, 3, 'one hash per account');
  t.notOk(JSON.stringify(created).includes(pws[0]!), 'no password stored in clear');
  t.equal(created[0]!.id_masked, `${good1.slice(0, 4)}**********${good1.slice(14)}`);
  t.equal(created[1]!.phone_masked, '138****0003');
  // Each password logs in its own account only (by ID or phone), straight to 修改密码.
  t.equal((await login(new Agent(app), 'applicant', good2, pws[1])).headers.location, '/account/password');
  t.equal((await login(new Agent(app), 'applicant', '13800000011', pws[2])).headers.location, '/account/password');
  t.not((await login(new Agent(app), 'applicant', good1, pws[1])).headers.location, '/account/password', "王五's password does not open 张三's account");
  t.equal((await login(new Agent(app), 'applicant', good1, pws[0])).headers.location, '/account/password');
  page = await a.get('/org/people');
  t.match(page.body, '共 3 条');
  page = await a.get('/org/people/import');
  for (const pw of pws) t.notMatch(page.body, pw, 'a later visit shows no password');
  t.same(accountRows(page.body), []);

  // Nothing to import / too many rows.
  await a.get('/org/people/import');
  let r = await a.post('/org/people/import', { text: '姓名,身份证号,手机号\n' });
  t.equal(r.statusCode, 422);
  t.match(r.body, '没有可导入的数据');
  const many = Array.from({ length: 501 }, (_, i) => `人${i},${ID('19800101', String(i).padStart(3, '0'))},139${String(i).padStart(8, '0')}`).join('\n');
  r = await a.post('/org/people/import', { text: many });
  t.equal(r.statusCode, 422);
  t.match(r.body, '每次最多导入500行（本次501行）');
  t.equal((await app.ctx.db.selectFrom('users').select('id').where('unit_org_id', '=', unit).execute()).length, 3, 'nothing created');
  const all = await auditRows(app, 'unit_import');
  t.same(all.map((r) => r.result), ['ok', 'fail', 'fail'], 'refused imports are audited too');
  t.match(all[2]!.detail, '每次最多导入500行（本次501行）');
  const dump = JSON.stringify(all);
  t.match(all[0]!.detail, '每个账号单独的初始密码，打印初始密码单交本人');
  for (const v of [good1, good2, good3, badCheck, existing.id, '13800000001', '13800000003', ...pws, '张三', '王五']) t.notMatch(dump, v, 'no names, ID numbers, phones or passwords');
});

t.test('批量新增账号 (.xlsx and .csv uploads)', async (t) => {
  const { app, unit, a } = await setup();
  t.teardown(() => app.close());
  const ok1 = ID('19900101', '201');
  const ok2 = ID('19910101', '202');
  const bad = ok1.slice(0, 17) + (ok1.endsWith('0') ? '1' : '0');
  const xlsx = await writeXlsxFile([
    [{ value: '姓名' }, { value: '身份证号' }, { value: '手机号' }],
    [{ value: '陈一' }, { value: ok1 }, { value: 13800000021 }],
    [{ value: '陈二' }, { value: bad }, { value: '13800000022' }],
    [{ value: '陈三' }, { value: 530102199001012000 }, { value: '13800000023' }],
    [{ value: '陈四' }, { value: ok2 }, { value: '13800000024' }],
  ] as any).toBuffer();
  await a.get('/org/people/import');
  let res = await postMultipart(app, a, '/org/people/import', { text: '' }, { file: { name: '名单.xlsx', bytes: xlsx } });
  t.equal(res.statusCode, 200, res.body.slice(0, 200));
  t.match(res.body, '成功 <strong class="ok">2</strong> 条，失败 <strong class="bad">2</strong> 条');
  t.match(res.body, '第3行：身份证号校验位不正确');
  t.match(res.body, '第4行：身份证号请以文本格式填写');
  const names = (await app.ctx.db.selectFrom('users').select('name').where('unit_org_id', '=', unit).orderBy('id').execute()).map((u) => u.name);
  t.same(names, ['陈一', '陈四']);

  // A CSV (UTF-8 with BOM, quotes, CRLF); no header row.
  const csv = Buffer.from(new TextEncoder().encode(`\ufeff"周一",${ID('19920101', '203')},13800000031\r\n周二,${ID('19920101', '204')},13800000032\r\n`));
  await a.get('/org/people/import');
  res = await postMultipart(app, a, '/org/people/import', { text: '' }, { file: { name: '名单.csv', bytes: csv } });
  t.match(res.body, '成功 <strong class="ok">2</strong> 条，失败 <strong class="">0</strong> 条');

  // .xls and random bytes are refused with a clear message.
  await a.get('/org/people/import');
  res = await postMultipart(app, a, '/org/people/import', { text: '' }, { file: { name: 'old.xls', bytes: Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 1, 2, 3]) } });
  t.equal(res.statusCode, 422);
  t.match(res.body, '不支持 .xls 格式');
  // Without a file the pasted text of the same multipart form is used.
  await a.get('/org/people/import');
  res = await postMultipart(app, a, '/org/people/import', { text: `钱五,${ID('19930101', '205')},13800000041` });
  t.match(res.body, '成功 <strong class="ok">1</strong> 条');
  t.equal((await app.ctx.db.selectFrom('users').select('id').where('unit_org_id', '=', unit).execute()).length, 5);
  void PASSWORD;
});

t.test('批量新增账号: an import file over 2MB gets a message, not an error page', async (t) => {
  const { app, a } = await setup();
  t.teardown(() => app.close());
  await a.get('/org/people/import');
  const big = Buffer.alloc(2 * 1024 * 1024 + 10, 0x41);
  const res = await postMultipart(app, a, '/org/people/import', { text: '' }, { file: { name: 'big.csv', bytes: big } });
  t.equal(res.statusCode, 422);
  t.match(res.body, '导入文件不能超过2MB');
});

t.test('批量新增账号 by SMS: each person gets their own password on their phone; the page shows none (but a failed send\'s)', async (t) => {
  // The local transport, except that one phone's message fails (a gateway error).
  const sent: { phone: string; body: string; purpose: string }[] = [];
  const sms: SmsSender = {
    async send(phone, body, purpose) {
      if (phone === '13800000053') throw new Error('gateway timeout');
      sent.push({ phone, body, purpose });
    },
  };
  const { app, unit, a } = await setup({ sms });
  t.teardown(() => app.close());
  await a.get('/org/people/import');
  t.match(a.lastHtml, '<input type="radio" name="delivery" value="sms"> 短信发送到本人手机');
  const text = [`钱一,${ID('19900101', '151')},13800000051`, `钱二,${ID('19900101', '152')},13800000052`, `钱三,${ID('19900101', '153')},13800000053`].join('\n');
  const res = await a.post('/org/people/import', { text, delivery: 'sms' });
  t.equal(res.statusCode, 200);
  t.match(res.body, '初始密码已通过短信单独发送到本人手机；<strong>1 条短信未能发送</strong>');
  const rows = accountRows(res.body);
  t.same(rows.map((r) => [r.name, r.password === null, r.note]), [['钱一', true, '已短信发送'], ['钱二', true, '已短信发送'], ['钱三', false, '短信未发送']]);
  t.same(sent.map((m) => [m.phone, m.purpose]), [['13800000051', 'unit_account'], ['13800000052', 'unit_account']], 'one SMS per account, to its own phone');
  const pw = (body: string) => /初始密码：([^，]+)，/.exec(body)![1]!;
  t.not(pw(sent[0]!.body), pw(sent[1]!.body), 'different passwords');
  t.equal(sent[0]!.body, accountSms('昆明市第五中学', pw(sent[0]!.body)));
  for (const m of sent) t.notMatch(res.body, pw(m.body), 'a sent password is not on the page');
  t.equal((await login(new Agent(app), 'applicant', '13800000051', pw(sent[0]!.body))).headers.location, '/account/password');
  t.equal((await login(new Agent(app), 'applicant', '13800000053', rows[2]!.password!)).headers.location, '/account/password', 'the shown one works');
  const u = await app.ctx.db.selectFrom('users').select(['must_change_password']).where('unit_org_id', '=', unit).execute();
  t.same(u.map((x) => x.must_change_password), [1, 1, 1]);
  const msg = await app.ctx.db.selectFrom('messages as m').innerJoin('users as u', 'u.id', 'm.user_id').select('m.content').where('u.name', '=', '钱一').executeTakeFirstOrThrow();
  t.match(msg.content, '初始密码已通过短信发送到您的手机');
  const imported = await auditRows(app, 'unit_import');
  t.match(imported[0]!.detail, '每个账号单独的初始密码，短信发送到本人手机');
});

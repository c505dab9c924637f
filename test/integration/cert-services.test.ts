import t from 'tap';
import { makeApp, Agent, login, createApplicant, idNumber, type TestApp } from '../helpers/app.js';
import { approveByCommittee, kunming, makePng, submittedDeclaration, type World } from '../helpers/world.js';
import { newVerifyCode } from '../../src/features/results/service.js';
import { multipart } from '../helpers/files.js';

/**
 * 证书服务 (issue #13, seed 002 §四) through the pages, on SQLite and (ZC_TEST_PG) PostgreSQL:
 * 外地调入人员职称资格确认 (apply with the scan → the county bureau of the unit confirms →
 * 现有职称 and /verify-cert marked 外地调入确认; a fake file, another office's 404, a double
 * confirm, a refusal with its reason), then 遗失补办 of that certificate (→ a new number in the
 * office's sequence; the old code answers 已补办 with it).
 */

async function staff(app: TestApp, username: string) {
  const a = new Agent(app);
  if ((await login(a, 'staff', username)).statusCode !== 303) throw new Error(`login ${username}`);
  return a;
}

async function titleOf(app: TestApp, level: string): Promise<string> {
  const r = await app.ctx.db.selectFrom('titles as t').innerJoin('series as s', 's.code', 't.series_code').select(['t.name', 's.name as series']).where('t.level', '=', level).orderBy('s.sort').orderBy('t.sort').executeTakeFirstOrThrow();
  return `${r.series} - ${r.name}`;
}

/** The multipart form of the page last seen: CSRF first, the fields, then `file` (if any). */
async function send(agent: Agent, url: string, fields: Record<string, string>, file?: { name: string; bytes: Buffer; type: string }) {
  const fd = new FormData();
  fd.append('_csrf', agent.csrf());
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  if (file) fd.append('file', new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name);
  const r = new Response(fd);
  const payload = Buffer.from(await r.arrayBuffer());
  const res = await agent.t.app.inject({ method: 'POST', url, payload, headers: { 'content-type': r.headers.get('content-type')!, cookie: agent.cookieHeader() } });
  if (String(res.headers['content-type'] ?? '').startsWith('text/html')) agent.lastHtml = res.body;
  return res;
}

t.test('外地调入确认 and 遗失补办 through the pages', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  app.clock.t = Date.parse('2026-07-15T02:00:00Z');
  const w: World = await kunming(app, { nature: 'non_public', unitLevel: 'county' });
  const person = await createApplicant(app, { name: '王芳', id: idNumber('19880315', '128'), phone: '13900139001', unitOrgId: w.unit });
  const title = await titleOf(app, 'intermediate');
  const me = new Agent(app);
  t.equal((await login(me, 'applicant', person.id)).statusCode, 303);

  let page = await me.get('/me/cert-services');
  t.equal(page.statusCode, 200);
  t.match(page.body, '外地调入人员职称资格确认');
  t.match(page.body, '您没有可以申请补办的证书');
  const good = { title_name: title, specialty: '内科学', orig_number: 'SC2019-00123', orig_issuer: '四川省人力资源和社会保障厅', orig_date: '2019-12-20' };
  const scan = { name: 'cert.png', bytes: makePng(300, 200, 3), type: 'image/png' };

  // A fake file (text named .png): refused by its content, typed values kept; nothing saved.
  let res = await send(me, '/me/cert-services/transfer', good, { name: 'cert.png', bytes: Buffer.from('MZ not an image at all'), type: 'image/png' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '只能上传 jpg、png 或 pdf 文件');
  t.match(res.body, 'value="SC2019-00123"');
  // Missing fields and a future date, each next to its field.
  res = await send(me, '/me/cert-services/transfer', { ...good, orig_number: '', orig_date: '2027-01-01' }, scan);
  t.equal(res.statusCode, 422);
  t.match(res.body, '请填写原证书编号');
  t.match(res.body, '取得资格时间不能晚于今天');
  t.match(res.body, 'value="四川省人力资源和社会保障厅"');
  // No scan.
  res = await send(me, '/me/cert-services/transfer', good);
  t.equal(res.statusCode, 422);
  t.match(res.body, '请上传原职称证书扫描件');
  t.equal((await app.ctx.db.selectFrom('cert_services').select('id').execute()).length, 0, 'nothing saved by a refusal');
  // Without the CSRF token: 403.
  const bare = new FormData();
  bare.append('title_name', title);
  const br = new Response(bare);
  res = await app.app.inject({ method: 'POST', url: '/me/cert-services/transfer', payload: Buffer.from(await br.arrayBuffer()), headers: { 'content-type': br.headers.get('content-type')!, cookie: me.cookieHeader() } });
  t.equal(res.statusCode, 403);

  res = await send(me, '/me/cert-services/transfer', good, scan);
  t.equal(res.statusCode, 303);
  const id = Number(/\/me\/cert-services\/(\d+)/.exec(String(res.headers.location))![1]);
  const row = await app.ctx.db.selectFrom('cert_services').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  t.equal(row.office_org_id, w.countyHrb, 'to the county bureau of the unit (五华区)');
  t.equal(row.status, 'office');
  // The scan cannot be removed through 附件管理 once handed in.
  const scanAtt = await app.ctx.db.selectFrom('attachments').select('id').where('owner_type', '=', 'cert_service').where('owner_id', '=', id).executeTakeFirstOrThrow();
  await me.get('/me/cert-services');
  t.equal((await me.post(`/me/attachments/${scanAtt.id}/delete`)).statusCode, 404, 'scan kept');
  page = await me.get(`/me/cert-services/${id}`);
  t.match(page.body, '待审核');
  t.match(page.body, '五华区');
  // The same certificate twice.
  await me.get('/me/cert-services');
  res = await send(me, '/me/cert-services/transfer', good, scan);
  t.equal(res.statusCode, 422);
  t.match(res.body, '该证书已申请过确认');

  // Not the office's request: 404 everywhere (the city bureau, the committee), no change.
  for (const u of [w.staff.city, w.staff.committee]) {
    const other = await staff(app, u);
    t.equal((await other.get(`/org/cert-services/${id}`)).statusCode, 404, `${u}: detail 404`);
    t.equal((await other.get(`/org/cert-services/${id}/confirm`)).statusCode, 404);
    await other.get('/org/cert-services');
    t.equal((await other.post(`/org/cert-services/${id}/confirm`)).statusCode, 404, `${u}: confirm 404`);
    t.notMatch((await other.get('/org/cert-services')).body, '王芳');
  }
  // Another applicant: 404.
  const other = await createApplicant(app, { name: '李娜', id: idNumber('19900101', '234'), phone: '13900139002', unitOrgId: w.unit });
  const li = new Agent(app);
  await login(li, 'applicant', other.id);
  t.equal((await li.get(`/me/cert-services/${id}`)).statusCode, 404);

  // The county bureau: queue, scan, confirmation page, confirm.
  const hrb = await staff(app, w.staff.county);
  page = await hrb.get('/org/cert-services');
  t.match(page.body, '待审核：<span id="cs-todo">1</span>');
  t.match(page.body, '王芳');
  page = await hrb.get(`/org/cert-services/${id}`);
  t.match(page.body, 'SC2019-00123');
  const fileId = Number(/\/org\/cert-services\/\d+\/files\/(\d+)/.exec(page.body)![1]);
  res = await hrb.get(`/org/cert-services/${id}/files/${fileId}?download=1`);
  t.equal(res.statusCode, 200);
  t.match(String(res.headers['content-disposition']), /^attachment/);
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  page = await hrb.get(`/org/cert-services/${id}/confirm`);
  t.match(page.body, '确定确认王芳的外地职称证书');
  res = await hrb.post(`/org/cert-services/${id}/confirm`);
  t.equal(res.statusCode, 303);
  const done = await app.ctx.db.selectFrom('cert_services').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  t.equal(done.status, 'confirmed');
  t.match(done.cert_number, /202600001$/, 'the office sequence');
  // A double confirm: refused, nothing changes.
  await hrb.get(`/org/cert-services/${id}`);
  res = await hrb.post(`/org/cert-services/${id}/confirm`);
  t.equal(res.statusCode, 303);
  t.match((await hrb.get(`/org/cert-services/${id}`)).body, '不能重复处理');
  t.equal((await app.ctx.db.selectFrom('cert_services').select('cert_number').where('id', '=', id).executeTakeFirstOrThrow()).cert_number, done.cert_number);
  t.ok(await app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'cert_service_confirm').executeTakeFirst(), 'audited');

  // 现有职称 and the applicant's page.
  const titles = await app.ctx.db.selectFrom('section_rows').select('data').where('user_id', '=', person.userId).where('section', '=', 'titles').execute();
  t.equal(titles.length, 1);
  t.match(JSON.parse(titles[0]!.data), { cert_no: done.cert_number, orig_cert_no: 'SC2019-00123', committee: '四川省人力资源和社会保障厅', certified_on: '2019-12-20' });
  page = await me.get(`/me/cert-services/${id}`);
  t.match(page.body, '已确认');
  t.match(page.body, done.cert_number!);
  page = await me.get('/me/certificates');
  t.match(page.body, '证书服务办理的证书');
  t.match(page.body, done.cert_number!);
  t.match(page.body, '外地调入确认');
  // /verify-cert: 外地调入确认 with the original's data.
  page = await new Agent(app).get(`/verify-cert/${done.verify_code}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, '外地调入确认');
  t.match(page.body, 'SC2019-00123');
  t.match(page.body, '四川省人力资源和社会保障厅');
  t.match(page.body, '有效');

  // A refusal: the reason is required, confirmed on its own page, shown to the applicant.
  await me.get('/me/cert-services');
  res = await send(me, '/me/cert-services/transfer', { ...good, orig_number: 'SC2021-00456' }, scan);
  t.equal(res.statusCode, 303);
  const id2 = Number(/\/me\/cert-services\/(\d+)/.exec(String(res.headers.location))![1]);
  await hrb.get(`/org/cert-services/${id2}`);
  res = await hrb.post(`/org/cert-services/${id2}/refuse`, { reason: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请填写不予通过的理由');
  res = await hrb.post(`/org/cert-services/${id2}/refuse`, { reason: '证书扫描件不清晰，无法核实' });
  t.equal(res.statusCode, 200);
  t.match(res.body, '确定对王芳的申请作出“不予确认”吗');
  t.equal((await app.ctx.db.selectFrom('cert_services').select('status').where('id', '=', id2).executeTakeFirstOrThrow()).status, 'office', 'not before the confirmation');
  res = await hrb.post(`/org/cert-services/${id2}/refuse`, { reason: '证书扫描件不清晰，无法核实', confirmed: '1' });
  t.equal(res.statusCode, 303);
  page = await me.get(`/me/cert-services/${id2}`);
  t.match(page.body, '不予确认');
  t.match(page.body, '证书扫描件不清晰，无法核实');

  // 遗失补办 of the confirmed certificate: to the office that issued it.
  page = await me.get('/me/cert-services');
  t.match(page.body, `value="cert_service:${id}"`);
  res = await send(me, '/me/cert-services/reissue', { cert: `cert_service:${id}`, reason: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请填写遗失原因');
  res = await send(me, '/me/cert-services/reissue', { cert: 'certificate:999', reason: '搬家遗失' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '该证书不能申请补办');
  res = await send(me, '/me/cert-services/reissue', { cert: `cert_service:${id}`, reason: '搬家时遗失' }, { name: '声明.png', bytes: makePng(240, 320, 5), type: 'image/png' });
  t.equal(res.statusCode, 303);
  const rid = Number(/\/me\/cert-services\/(\d+)/.exec(String(res.headers.location))![1]);
  t.notMatch((await me.get('/me/cert-services')).body, `value="cert_service:${id}"`, 'not offered twice');
  page = await hrb.get(`/org/cert-services/${rid}`);
  t.match(page.body, '登报遗失声明');
  t.match(page.body, '搬家时遗失');
  await hrb.get(`/org/cert-services/${rid}/confirm`);
  res = await hrb.post(`/org/cert-services/${rid}/confirm`);
  t.equal(res.statusCode, 303);
  const re = await app.ctx.db.selectFrom('cert_services').selectAll().where('id', '=', rid).executeTakeFirstOrThrow();
  t.equal(re.status, 'confirmed');
  t.match(re.cert_number, /202600002$/, 'the next number of the office');
  // The old code: 已补办 with the new number; the new one verifies normally.
  page = await new Agent(app).get(`/verify-cert/${done.verify_code}`);
  t.match(page.body, '该证书已补办');
  t.match(page.body, re.cert_number!);
  page = await new Agent(app).get(`/verify-cert/${re.verify_code}`);
  t.notMatch(page.body, '该证书已补办');
  t.match(page.body, '有效');
  t.match(page.body, `遗失补办（原证书编号 ${done.cert_number}`);
  // 现有职称 carries the new number.
  const after = await app.ctx.db.selectFrom('section_rows').select('data').where('user_id', '=', person.userId).where('section', '=', 'titles').execute();
  t.match(JSON.parse(after[0]!.data), { cert_no: re.cert_number, replaces_cert_no: done.cert_number });
});

t.test('遗失补办 of a committee certificate: to the committee office, numbered after its certificates', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id: declId, agent: me } = await submittedDeclaration(app, w);
  await approveByCommittee(app, declId);
  const year = Number(new Date(app.clock.now()).toISOString().slice(0, 4));
  const cert = await app.ctx.db.insertInto('certificates').values({
    declaration_id: declId, committee_org_id: w.committee, year, seq: 7, number: `WS${year}00007`, doc_no: '昆职改〔2026〕1号', verify_code: newVerifyCode(), issued_by: null, issued_at: app.clock.now().toISOString(),
  }).returning(['id', 'verify_code']).executeTakeFirstOrThrow();

  let page = await me.get('/me/cert-services');
  t.match(page.body, `value="certificate:${cert.id}"`);
  t.match(page.body, `WS${year}00007`);
  const res = await send(me, '/me/cert-services/reissue', { cert: `certificate:${cert.id}`, reason: '单位搬迁时遗失' });
  t.equal(res.statusCode, 303);
  const rid = Number(/\/me\/cert-services\/(\d+)/.exec(String(res.headers.location))![1]);
  const row = await app.ctx.db.selectFrom('cert_services').selectAll().where('id', '=', rid).executeTakeFirstOrThrow();
  t.equal(row.office_org_id, w.committee, 'to the committee that issued it');
  t.equal(row.orig_number, `WS${year}00007`);

  // The county bureau does not see it; the committee office does.
  t.equal((await (await staff(app, w.staff.county)).get(`/org/cert-services/${rid}`)).statusCode, 404);
  const com = await staff(app, w.staff.committee);
  page = await com.get('/org/cert-services');
  t.match(page.body, `WS${year}00007`);
  await com.get(`/org/cert-services/${rid}/confirm`);
  t.equal((await com.post(`/org/cert-services/${rid}/confirm`)).statusCode, 303);
  const done = await app.ctx.db.selectFrom('cert_services').selectAll().where('id', '=', rid).executeTakeFirstOrThrow();
  t.equal(done.cert_seq, 8, 'after the committee\'s own certificates (one sequence)');
  page = await new Agent(app).get(`/verify-cert/${cert.verify_code}`);
  t.match(page.body, '该证书已补办');
  t.match(page.body, done.cert_number!);
  t.notMatch((await me.get('/me/cert-services')).body, `value="certificate:${cert.id}"`, 'replaced: not offered again');
});

import t, { type Test } from 'tap';
import readXlsxFile from 'read-excel-file/node';
import { makeApp, Agent, login, createApplicant, createStaff, idNumber, type TestApp } from '../helpers/app.js';
import { kunming, makePng, org, uscc, type World } from '../helpers/world.js';
import { multipart } from '../helpers/files.js';
import { REC_SLOTS } from '../../src/domain/recognition.js';

/**
 * 初定/认定 (issue #14) through the pages: the applicant starts, uploads, sends to the unit; the
 * unit 上报s with its operator; the county HR bureau returns, then approves (certificate through
 * certNumberer, 现有职称 filled, /verify-cert); a unit fills in for its person and the office
 * refuses. Every refusal keeps what was typed. Runs on SQLite and (ZC_TEST_PG) PostgreSQL.
 */

const JULY = Date.parse('2026-07-15T02:00:00Z');

async function staff(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username}`);
  return a;
}

/** A graduate of the unit: a 学历 row and the current job (认定时间 default). */
async function graduate(app: TestApp, unitId: number, o: { name: string; seq: string; phone: string; education: string; degree: string; hired: string }) {
  const a = await createApplicant(app, { name: o.name, id: idNumber('20000315', o.seq), phone: o.phone, unitOrgId: unitId });
  const stamp = app.clock.now().toISOString();
  const rows = [
    { section: 'educations', data: { education: o.education, degree: o.degree, school: '云南大学', major: '工学 - 计算机类 - 软件工程', start: '2021-09-01', end: '2025-06-30', study_form: '全日制' } },
    { section: 'work', data: { unit_name: '昆明云岭软件有限公司', specialty: '软件开发', start: o.hired, end: '至今', witness: '李娜', duty: '工程师' } },
  ];
  for (const r of rows) await app.ctx.db.insertInto('section_rows').values({ user_id: a.userId, section: r.section, position: 1, data: JSON.stringify(r.data), created_at: stamp, updated_at: stamp }).execute();
  return a;
}

async function titleOf(app: TestApp, level: string): Promise<string> {
  const r = await app.ctx.db.selectFrom('titles as t').innerJoin('series as s', 's.code', 't.series_code').select(['t.name', 's.name as series']).where('t.level', '=', level).orderBy('s.sort').orderBy('t.sort').executeTakeFirstOrThrow();
  return `${r.series} - ${r.name}`;
}

async function upload(agent: Agent, recId: number, slot: string, n: number) {
  const page = await agent.get(`/me/recognition/${recId}`);
  const m = multipart(`${slot}.png`, makePng(200, 140, n), 'image/png', 'file', { csrf: agent.csrf() });
  const { payload, contentType } = await m;
  const res = await agent.t.app.inject({ method: 'POST', url: `/me/attachments?owner=recognition&id=${recId}&slot=${slot}&back=${encodeURIComponent(`/me/recognition/${recId}`)}`, payload, headers: { 'content-type': contentType, cookie: agent.cookieHeader() } });
  if (res.statusCode !== 303 || !page) throw new Error(`upload ${slot}: ${res.statusCode} ${res.body.slice(0, 300)}`);
}

async function expectRefusedUpload(t: Test, agent: Agent, recId: number, slot: string) {
  await agent.get(`/me/recognition/${recId}`);
  const { payload, contentType } = await multipart(`${slot}.png`, makePng(200, 140, 9), 'image/png', 'file', { csrf: agent.csrf() });
  const res = await agent.t.app.inject({ method: 'POST', url: `/me/attachments?owner=recognition&id=${recId}&slot=${slot}&back=${encodeURIComponent(`/me/recognition/${recId}`)}`, payload, headers: { 'content-type': contentType, cookie: agent.cookieHeader() } });
  t.equal(res.statusCode, 303, 'refused back to the page');
  t.match((await agent.get(String(res.headers.location))).body, '材料已交单位审核，不能修改');
}

t.test('recognition through a county HR bureau: refusals, return, approval, certificate', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  app.clock.t = JULY;
  const w: World = await kunming(app, { nature: 'non_public', unitLevel: 'county' });
  const grad = await graduate(app, w.unit, { name: '王芳', seq: '128', phone: '13900139001', education: '大学本科', degree: '学士', hired: '2025-07-01' });
  const assistant = await titleOf(app, 'assistant');
  const intermediate = await titleOf(app, 'intermediate');

  const me = new Agent(app);
  t.equal((await login(me, 'applicant', grad.id)).statusCode, 303);
  let page = await me.get('/me/recognition');
  t.equal(page.statusCode, 200);
  t.match(page.body, '认定依据：本科学历或学士学位');
  t.match(page.body, '见习1年期满后可考核认定助理级职称：2026-07-01已满1年');
  t.match(page.body, '建议认定级别：助理级');
  t.match(page.body, '五华区');
  t.match(page.body, '当前在申报时间内');

  const good = { level: 'assistant', title_name: assistant, specialty: '软件工程', hired_on: '2025-07-01', filing_date: '2026-06-20' };

  // A level the education does not support: refused, typed values kept.
  let res = await me.post('/me/recognition', { ...good, level: 'intermediate', title_name: intermediate, specialty: '嵌入式系统' });
  t.equal(res.statusCode, 422);
  t.match(res.body, /<select id="f-level" name="level"[\s\S]*?<\/select>\s*(<small class="hint">[^<]*<\/small>\s*)?<small class="err">学历（学位）不支持认定中级职称：本科学历或学士学位只能认定员级、助理级职称/, 'next to 认定级别');
  t.match(res.body, 'value="嵌入式系统"');
  // Not yet a year: 助理级 refused with the date it becomes possible.
  res = await me.post('/me/recognition', { ...good, hired_on: '2025-09-01' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '见习1年期满后方可认定助理级职称（2026-09-01期满）');
  // An expired 学信网 备案表.
  res = await me.post('/me/recognition', { ...good, filing_date: '2025-12-01' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '<small class="err" id="e-filing_date">《教育部学历证书电子注册备案表》已超过6个月在线验证有效期（出具日期2025-12-01，有效期至2026-06-01）', 'next to the 出具日期');
  t.match(res.body, 'value="2025-12-01"');
  // The bureau's own calendar, set on its page: a bad entry comes back next to the field as typed;
  // then July is closed for 五华区, September next.
  const hrb = await staff(app, w.staff.county);
  await hrb.get('/org/recognitions');
  res = await hrb.post('/org/recognitions/windows', { months: '3,13' });
  t.equal(res.statusCode, 422);
  t.match(res.body, /id="f-months"[^>]*value="3,13"/);
  t.match(res.body, /<small class="err" id="e-months">受理月份填写不正确/);
  t.equal((await app.ctx.db.selectFrom('orgs').select('recognition_months').where('id', '=', w.countyHrb).executeTakeFirstOrThrow()).recognition_months, null, 'nothing saved');
  res = await hrb.post('/org/recognitions/windows', { months: '9，3' });
  t.equal(res.statusCode, 303);
  t.match((await hrb.get('/org/recognitions')).body, /id="f-months"[^>]*value="3,9"/);
  // A unit and the committee have no calendar to set.
  const unitStaff = await staff(app, w.staff.unit);
  await unitStaff.get('/org/recognitions');
  t.equal((await unitStaff.post('/org/recognitions/windows', { months: '5' })).statusCode, 404);
  const committee = await staff(app, w.staff.committee);
  await committee.get('/org');
  t.equal((await committee.post('/org/recognitions/windows', { months: '5' })).statusCode, 404);
  t.match((await me.get('/me/recognition')).body, '下一次申报时间为 <b>2026-09-01 至 2026-09-30</b>');
  res = await me.post('/me/recognition', good);
  t.equal(res.statusCode, 422);
  t.match(res.body, '每年3、9月受理');
  t.match(res.body, '下一次申报时间为2026-09-01至2026-09-30');
  t.match(res.body, 'value="软件工程"');
  await hrb.get('/org/recognitions');
  t.equal((await hrb.post('/org/recognitions/windows', { months: '' })).statusCode, 303, 'blank: back to the default months');
  t.equal(await app.ctx.db.selectFrom('recognitions').select('id').executeTakeFirst(), undefined, 'nothing saved by a refusal');

  await me.get('/me/recognition');
  res = await me.post('/me/recognition', good);
  t.equal(res.statusCode, 303);
  const recId = Number(/\/me\/recognition\/(\d+)/.exec(String(res.headers.location))![1]);
  // A duplicate for the same level.
  await me.get('/me/recognition');
  res = await me.post('/me/recognition', good);
  t.equal(res.statusCode, 422);
  t.match(res.body, '已有一份助理级职称认定（填写中），同一级别不能重复申报');
  t.match(res.body, 'value="软件工程"');
  t.match(res.body, 'value="2026-06-20"');

  // Sending without the files of Q14.
  await me.get(`/me/recognition/${recId}`);
  res = await me.post(`/me/recognition/${recId}/send`);
  t.equal(res.statusCode, 422);
  t.match(res.body, '请上传：申报人身份证复印件');
  for (const [i, s] of REC_SLOTS.entries()) await upload(me, recId, s.key, i + 1);
  await me.get(`/me/recognition/${recId}`);
  res = await me.post(`/me/recognition/${recId}/send`);
  t.equal(res.statusCode, 303);
  // With the unit, the files are the unit's to change: the applicant's upload and delete are
  // refused with the reason, and the files stay as they were.
  const filesBefore = await app.ctx.db.selectFrom('attachments').select(['id', 'file_id']).where('owner_type', '=', 'recognition').where('owner_id', '=', recId).orderBy('id').execute();
  await expectRefusedUpload(t, me, recId, REC_SLOTS[0]!.key);
  await me.get(`/me/recognition/${recId}`);
  res = await me.post(`/me/attachments/${filesBefore[0]!.id}/delete?back=${encodeURIComponent(`/me/recognition/${recId}`)}`);
  t.equal(res.statusCode, 303);
  t.match((await me.get(String(res.headers.location))).body, '材料已交单位审核，不能修改');
  t.same(await app.ctx.db.selectFrom('attachments').select(['id', 'file_id']).where('owner_type', '=', 'recognition').where('owner_id', '=', recId).orderBy('id').execute(), filesBefore, 'files unchanged');
  // Before approval the 认定表 (助理级 after the 见习 year: 考核认定) is a preview: watermarked
  // 预览, with its verification code.
  const code = (await app.ctx.db.selectFrom('recognitions').select('verify_code').where('id', '=', recId).executeTakeFirstOrThrow()).verify_code;
  t.match((await me.get(`/me/recognition/${recId}`)).body, '打印认定表（预览）');
  page = await me.get(`/me/recognition/${recId}/print`);
  t.match(page.body, '<h1 class="rec-title">专业技术资格认定表</h1>');
  t.match(page.body, '<div class="rec-watermark" aria-hidden="true">预览</div>');
  t.match(page.body, code.match(/.{4}/g)!.join('-'));
  t.match(page.body, `/verify-cert/${code}`);

  // Another unit's staff and the committee see nothing.
  const other = await org(app, { kind: 'unit', name: '昆明滇池物流有限公司', uscc: uscc(7), nature: 'non_public', unit_level: 'county', region_code: '530102' });
  await createStaff(app, { username: 'other_unit', name: '周敏', orgId: other, roles: '' });
  t.equal((await (await staff(app, 'other_unit')).get(`/org/recognitions/${recId}`)).statusCode, 404);
  t.equal((await (await staff(app, w.staff.committee)).get(`/org/recognitions/${recId}`)).statusCode, 404);
  // The office does not see it before 上报.
  t.equal((await hrb.get(`/org/recognitions/${recId}`)).statusCode, 404);

  // The unit: 待上报 1; 上报 needs the operator.
  const unit = unitStaff;
  page = await unit.get('/org/recognitions');
  t.match(page.body, '待上报：<span id="rec-todo">1</span>');
  await unit.get(`/org/recognitions/${recId}`);
  res = await unit.post(`/org/recognitions/${recId}/submit`, { operator_name: '李娜', operator_phone: '12' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '联系电话格式不正确');
  t.match(res.body, 'value="李娜"');
  res = await unit.post(`/org/recognitions/${recId}/submit`, { operator_name: '李娜', operator_phone: '0871-63638888' });
  t.equal(res.statusCode, 303);

  // The county HR bureau: its queue counts it, apart from reviews.
  page = await hrb.get('/org/recognitions');
  t.match(page.body, '待审核：<span id="rec-todo">1</span>');
  t.match(page.body, '王芳');
  t.match((await hrb.get('/org')).body, '职称认定（待办 1）');
  await hrb.get(`/org/recognitions/${recId}`);
  res = await hrb.post(`/org/recognitions/${recId}/decide`, { action: 'return', reason: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请填写退回理由');
  res = await hrb.post(`/org/recognitions/${recId}/decide`, { action: 'return', reason: '招工录用登记表不清晰，请重新上传' });
  t.equal(res.statusCode, 303);
  // 退回部门/时间/理由 for the applicant and the unit.
  for (const [agent, url] of [[me, `/me/recognition/${recId}`], [unit, `/org/recognitions/${recId}`]] as const) {
    page = await agent.get(url);
    t.match(page.body, '<dt>退回部门</dt><dd>五华区人力资源和社会保障局</dd><dt>退回时间</dt><dd>2026-07-15');
    t.match(page.body, '招工录用登记表不清晰，请重新上传');
    t.match(page.body, '五华区');
  }
  // The unit re-uploads and 上报s again.
  res = await unit.post(`/org/recognitions/${recId}/submit`, { operator_name: '李娜', operator_phone: '13700137000' });
  t.equal(res.statusCode, 303);
  await hrb.get(`/org/recognitions/${recId}`);
  res = await hrb.post(`/org/recognitions/${recId}/decide`, { action: 'approve', reason: '' });
  t.equal(res.statusCode, 303);
  const rec = await app.ctx.db.selectFrom('recognitions').selectAll().where('id', '=', recId).executeTakeFirstOrThrow();
  t.equal(rec.status, 'approved');
  t.match(rec.cert_number, /^ZC.*202600001$/, 'the office sequence starts at 1');
  // 现有职称 filled.
  const titles = await app.ctx.db.selectFrom('section_rows').select('data').where('user_id', '=', grad.userId).where('section', '=', 'titles').execute();
  t.equal(titles.length, 1);
  t.match(JSON.parse(titles[0]!.data), { cert_no: rec.cert_number, title_name: assistant, acquisition: '考核定职', title_level: 'assistant', approval_doc: `认定表 ${rec.cert_number}` });
  // The certificate verifies.
  page = await new Agent(app).get(`/verify-cert/${rec.verify_code}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, rec.cert_number!);
  t.match(page.body, '认定部门');
  t.match(page.body, '（助理级，认定）');
  t.match(page.body, '王*');
  // The printed form: 预览 gone once approved; the preview page before had it.
  page = await me.get(`/me/recognition/${recId}/print`);
  t.match(page.body, '专业技术资格认定表');
  t.notMatch(page.body, 'rec-watermark');
  t.notMatch(page.body, '>预览<');
  t.match(page.body, rec.verify_code.match(/.{4}/g)!.join('-'));
  // Export and statistics.
  res = await hrb.get('/org/recognitions/export.xlsx');
  t.equal(res.statusCode, 200);
  t.match(String(res.headers['content-type']), 'spreadsheetml');
  t.equal(res.rawPayload.subarray(0, 2).toString(), 'PK');
  const sheet = (await readXlsxFile(res.rawPayload)) as unknown[][];
  t.same(sheet[0]!.slice(0, 5), ['姓名', '身份证号', '工作单位', '类别', '认定级别']);
  t.equal(sheet.length, 2, 'one recognition in the office list');
  t.match(sheet[1], ['王芳', /\*/, /./, '认定', '助理级', assistant, '软件工程', '大学本科', '学士', '2025-07-01', '五华区人力资源和社会保障局', '已认定', rec.cert_number, '李娜', '13700137000']);
  page = await hrb.get('/org/stats');
  t.match(page.body, '职称认定总数</dt><dd id="rec-total">1 人');
});

t.test('the unit fills in for its person; the office refuses; a second certificate continues the sequence', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  app.clock.t = Date.parse('2026-10-09T02:00:00Z');
  const w = await kunming(app, { nature: 'non_public', unitLevel: 'county' });
  const a = await graduate(app, w.unit, { name: '赵磊', seq: '219', phone: '13900139002', education: '硕士研究生', degree: '硕士', hired: '2026-09-01' });
  const b = await graduate(app, w.unit, { name: '钱敏', seq: '237', phone: '13900139003', education: '大学本科', degree: '学士', hired: '2026-09-01' });
  const assistant = await titleOf(app, 'assistant');
  const junior = await titleOf(app, 'junior');
  const unit = await staff(app, w.staff.unit);
  const hrb = await staff(app, w.staff.county);

  async function fillAndSubmit(userId: number, level: string, title: string) {
    await unit.get(`/org/recognitions/new?user=${userId}`);
    const res = await unit.post(`/org/recognitions/new?user=${userId}`, { level, title_name: title, specialty: '软件工程', hired_on: '2026-09-01', filing_date: '2026-09-20' });
    t.equal(res.statusCode, 303, `created for ${userId}`);
    const id = Number(/\/org\/recognitions\/(\d+)/.exec(String(res.headers.location))![1]);
    for (const [i, s] of REC_SLOTS.entries()) {
      await unit.get(`/org/recognitions/${id}`);
      const { payload, contentType } = await multipart(`${s.key}.png`, makePng(180, 120, i + 3), 'image/png', 'file', { csrf: unit.csrf() });
      const up = await app.app.inject({ method: 'POST', url: `/org/recognitions/${id}/files?slot=${s.key}`, payload, headers: { 'content-type': contentType, cookie: unit.cookieHeader() } });
      t.equal(up.statusCode, 303, `uploaded ${s.key}`);
    }
    await unit.get(`/org/recognitions/${id}`);
    t.equal((await unit.post(`/org/recognitions/${id}/submit`, { operator_name: '李娜', operator_phone: '13700137000' })).statusCode, 303);
    return id;
  }

  // 本科 at once reaches 员级 only; the unit's form says why for 助理级.
  await unit.get(`/org/recognitions/new?user=${b.userId}`);
  const bad = await unit.post(`/org/recognitions/new?user=${b.userId}`, { level: 'assistant', title_name: assistant, specialty: '软件工程', hired_on: '2026-09-01', filing_date: '2026-09-20' });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '见习1年期满后方可认定助理级职称（2027-09-01期满）');
  t.match(bad.body, 'value="2026-09-20"', 'what the unit typed is kept');
  t.match(bad.body, 'value="软件工程"');

  const first = await fillAndSubmit(a.userId, 'assistant', assistant);
  const second = await fillAndSubmit(b.userId, 'junior', junior);
  const r1 = await app.ctx.db.selectFrom('recognitions').selectAll().where('id', '=', first).executeTakeFirstOrThrow();
  t.equal(r1.by_unit, 1);
  t.equal(r1.operator_name, '李娜');
  t.equal(r1.operator_phone, '13700137000');

  await hrb.get(`/org/recognitions/${first}`);
  let res = await hrb.post(`/org/recognitions/${first}/decide`, { action: 'refuse', reason: '所学专业与认定专业不符' });
  t.equal(res.statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('recognitions').select('status').where('id', '=', first).executeTakeFirstOrThrow()).status, 'refused');
  const msg = await app.ctx.db.selectFrom('messages').select('content').where('user_id', '=', a.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  t.match(msg.content, '（不予认定），理由：所学专业与认定专业不符');
  // A refused decision is final: the office cannot decide it again.
  res = await hrb.post(`/org/recognitions/${first}/decide`, { action: 'approve', reason: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '该材料当前不在认定部门审核中');
  t.equal((await app.ctx.db.selectFrom('recognitions').select('status').where('id', '=', first).executeTakeFirstOrThrow()).status, 'refused');

  await hrb.get(`/org/recognitions/${second}`);
  t.equal((await hrb.post(`/org/recognitions/${second}/decide`, { action: 'approve', reason: '' })).statusCode, 303);
  const r2 = await app.ctx.db.selectFrom('recognitions').selectAll().where('id', '=', second).executeTakeFirstOrThrow();
  t.match(r2.cert_number, /00001$/);
  const titles = await app.ctx.db.selectFrom('section_rows').select('data').where('user_id', '=', b.userId).where('section', '=', 'titles').executeTakeFirstOrThrow();
  t.match(JSON.parse(titles.data), { acquisition: '直接认定', title_level: 'junior', approval_doc: `初定表 ${r2.cert_number}` });
  // 本科 员级 at once is 初定: its own form and its column in the office's list.
  t.match((await hrb.get(`/org/recognitions/${second}/print`)).body, '<h1 class="rec-title">专业技术资格初定表</h1>');
  t.match((await hrb.get('/org/recognitions')).body, /<td>钱敏<\/td><td>[^<]*<\/td><td>初定<\/td><td>员级<\/td>/);
  t.match((await hrb.get('/org/recognitions')).body, /<td>赵磊<\/td><td>[^<]*<\/td><td>初定<\/td><td>助理级<\/td>/);

  // The materials zip holds the form (or nothing without a browser) and the four files.
  res = await hrb.get(`/org/recognitions/${second}/materials.zip`);
  t.equal(res.statusCode, 200);
  t.match(String(res.headers['content-disposition']), encodeURIComponent('职称认定材料-钱敏'), 'named apart from a review\'s materials');
  const names = res.rawPayload.toString('latin1');
  t.match(Buffer.from(names, 'latin1').toString('utf8'), '附件/申报人身份证复印件.png');
});

t.test('who decides: a city-owned unit goes to its department; missing pieces are explained', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  app.clock.t = JULY;
  const w = await kunming(app); // 昆明市第一人民医院: city-level institution under 昆明市卫生健康委员会
  const g = await graduate(app, w.unit, { name: '孙悦', seq: '315', phone: '13900139004', education: '大学本科', degree: '学士', hired: '2025-06-01' });
  const me = new Agent(app);
  await login(me, 'applicant', g.id);
  t.match((await me.get('/me/recognition')).body, '认定部门：<b>昆明市卫生健康委员会</b>');
  await app.ctx.db.updateTable('orgs').set({ nature: null }).where('id', '=', w.unit).execute();
  const page = await me.get('/me/recognition');
  t.match(page.body, '单位信息不完整');
  const res = await me.post('/me/recognition', { level: 'junior', title_name: await titleOf(app, 'junior'), specialty: '护理', hired_on: '2025-06-01', filing_date: '2026-07-01' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '单位信息缺少：单位性质');
});

t.test('outside the default window: refused with the next window, typed values kept', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  app.clock.t = Date.parse('2026-08-10T02:00:00Z');
  const w = await kunming(app, { nature: 'non_public', unitLevel: 'county' });
  const grad = await graduate(app, w.unit, { name: '王芳', seq: '128', phone: '13900139001', education: '大学本科', degree: '学士', hired: '2025-07-01' });
  const august = new Agent(app);
  await login(august, 'applicant', grad.id);
  t.match((await august.get('/me/recognition')).body, '下一次申报时间为 <b>2026-10-01 至 2026-10-31</b>');
  const res = await august.post('/me/recognition', { level: 'assistant', title_name: await titleOf(app, 'assistant'), specialty: '软件工程', hired_on: '2025-07-01', filing_date: '2026-06-20' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '下一次申报时间为2026-10-01至2026-10-31');
  t.match(res.body, 'value="软件工程"');
  t.equal(await app.ctx.db.selectFrom('recognitions').select('id').executeTakeFirst(), undefined);
});

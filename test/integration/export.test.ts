import t from 'tap';
import readXlsxFile from 'read-excel-file/node';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, org, uscc, declareThroughUi, submitThroughUi as submitDeclaration, type World } from '../helpers/world.js';

const HEADER = ['姓名', '性别', '出生年月', '身份证号', '单位', '学历', '现职称及取得时间', '申报职称', '专业', '参评类别', '任职年限', '状态'];
const ALL = [...HEADER, '提交时间'];
const col = (h: string) => ALL.indexOf(h);
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** An applicant fills the cover, the slots, and submits with the pledge, all through the UI. */
async function submitThroughUi(app: TestApp, w: World, who: { userId: number; phone: string }, specialty: string) {
  const a = new Agent(app);
  await login(a, 'applicant', who.phone);
  const declId = await declareThroughUi(app, a, w, who.userId, specialty);
  await submitDeclaration(a, declId);
  const dicts = await app.ctx.dicts.ready();
  return { declId, title: dicts.options('titles').find((o) => o.name.includes('副主任医师'))!.name, agent: a };
}

async function setup() {
  const app = await makeApp();
  const w = await kunming(app);
  const zhang = await readyApplicant(app, w.unit, { name: '张伟', seq: '231', phone: '13800138000' });
  const wang = await readyApplicant(app, w.unit, { name: '王芳', seq: '142', phone: '13900139000' });
  const z = await submitThroughUi(app, w, zhang, '心血管内科');
  // Submitted a little later: the export lists in submission order.
  app.clock.advance(5 * 60_000);
  const f = await submitThroughUi(app, w, wang, '呼吸内科');
  return { app, w, zhang, wang, z, f };
}

async function staffAgent(app: TestApp, username: string) {
  const a = new Agent(app);
  const res = await login(a, 'staff', username);
  if (res.statusCode !== 303) throw new Error(`login ${username}: ${res.statusCode}`);
  return a;
}

async function download(a: Agent, url: string) {
  const res = await a.t.app.inject({ method: 'GET', url, headers: { cookie: [...a.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  return { res, rows: res.statusCode === 200 ? ((await readXlsxFile(res.rawPayload)) as unknown[][]) : [] };
}

t.test('the unit staff exports its two submitted declarations with a committee sheet\'s columns, masked', async (t) => {
  const { app, w, zhang, wang, z } = await setup();
  t.teardown(() => app.close());
  const unit = await staffAgent(app, w.staff.unit);
  const { res, rows } = await download(unit, '/org/reviews/export.xlsx');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], XLSX);
  t.equal(res.headers['cache-control'], 'no-store');
  const disposition = String(res.headers['content-disposition']);
  t.match(disposition, /^attachment; /);
  t.match(disposition, `filename*=UTF-8''${encodeURIComponent('申报汇总表-20260615.xlsx')}`, 'the China date of the test clock');
  t.match(disposition, 'filename="summary-20260615.xlsx"', 'an ASCII fallback for old browsers');
  t.equal(res.rawPayload.subarray(0, 2).toString('latin1'), 'PK', 'a zip (xlsx) file');

  t.same(rows[0], HEADER, 'the 12 columns of a committee sheet (issue #19)');
  const data = rows.slice(1);
  t.equal(data.length, 2, 'exactly the two declarations');
  const c = (h: string) => data.map((r) => r[HEADER.indexOf(h)]);
  t.same(c('姓名'), ['张伟', '王芳']);
  t.same(c('性别'), ['男', '女']);
  t.same(c('出生年月'), ['1985-06', '1985-06']);
  const users = await app.ctx.db.selectFrom('users').select(['id', 'id_masked']).where('id', 'in', [zhang.userId, wang.userId]).orderBy('id').execute();
  t.same(c('身份证号'), users.map((u) => u.id_masked), 'the masked ID numbers');
  t.same(c('身份证号'), [zhang.id, wang.id].map((id) => `${id.slice(0, 4)}**********${id.slice(14)}`), 'masked: 4 + 10 stars + 4');
  const cells = rows.flat().map(String);
  for (const full of [zhang.id, wang.id]) t.notOk(cells.some((x) => x.includes(full)), 'no full ID number anywhere');
  t.same(c('单位'), ['昆明市第一人民医院', '昆明市第一人民医院']);
  t.same(c('学历'), ['硕士研究生', '大学本科'], 'the highest education declared');
  t.match(String(c('现职称及取得时间')[0]), /^主治.*医师（2019-09-01）$/, 'the current title and when it was obtained');
  t.equal(c('现职称及取得时间')[1], '无');
  t.same(c('申报职称'), [z.title, z.title]);
  t.same(c('专业'), ['心血管内科', '呼吸内科']);
  t.same(c('参评类别'), ['正常评审', '正常评审']);
  // The figure of the form and the eligibility check (src/domain/tenure.ts), not the profile's.
  t.same(c('任职年限'), ['截至2026年12月31日满7年3个月', '无（未填写已聘任的职称）']);
  t.same(c('状态'), ['单位审核中（昆明市第一人民医院）', '单位审核中（昆明市第一人民医院）']);
  const audit = await app.ctx.db.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'export').orderBy('id', 'desc').executeTakeFirstOrThrow();
  t.equal(audit.detail, '申报汇总表-20260615.xlsx（2人，12列）');
});

t.test('定制导出: the chosen columns in the sheet\'s order, without JS (a GET form on the list)', async (t) => {
  const { app, w } = await setup();
  t.teardown(() => app.close());
  const unit = await staffAgent(app, w.staff.unit);
  const list = await unit.get('/org/reviews?q=%E5%BC%A0');
  t.match(list.body, '<form method="get" action="/org/reviews/export.xlsx" hx-boost="false">');
  t.match(list.body, '<input type="hidden" name="q" value="张">', 'the filters ride along');
  for (const h of HEADER) t.match(list.body, new RegExp(`name="cols" value="[a-zA-Z]+" checked> ${h.replace(/[()]/g, '\\$&')}</label>`), `${h} offered, checked`);
  t.match(list.body, 'name="cols" value="submittedAt"> 提交时间</label>', '提交时间 offered, not checked');
  t.match(list.body, '身份证号隐藏中间10位');

  // As the form submits it: hidden filters, custom=1, the ticked boxes (in any order).
  let { rows } = await download(unit, '/org/reviews/export.xlsx?year=&plan=&status=&q=&custom=1&cols=submittedAt&cols=name&cols=bogus&cols=status');
  t.same(rows[0], ['姓名', '状态', '提交时间'], 'only those, in the sheet\'s order; unknown keys ignored');
  t.same(rows.slice(1).map((r) => r[2]), ['2026-06-15 10:00', '2026-06-15 10:05'], '提交时间 in China time');
  ({ rows } = await download(unit, `/org/reviews/export.xlsx?q=${encodeURIComponent('王芳')}&custom=1&cols=name&cols=gender`));
  t.same(rows, [['姓名', '性别'], ['王芳', '女']], 'with the filters');

  // Nothing ticked: back to the list with the reason, nothing exported.
  const before = await app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'export').execute();
  const none = await unit.get(`/org/reviews/export.xlsx?year=2026&plan=&status=todo&q=&custom=1`);
  t.equal(none.statusCode, 303);
  t.equal(none.headers.location, '/org/reviews?year=2026&status=todo#export');
  t.match((await unit.get('/org/reviews?year=2026&status=todo')).body, '请至少选择一列导出');
  t.equal((await app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'export').execute()).length, before.length);
});

t.test('the full 身份证号 only for staff holding the reveal permission; formula-looking text as text', async (t) => {
  const { app, w, zhang, wang } = await setup();
  t.teardown(() => app.close());
  const unit = await staffAgent(app, w.staff.unit);
  await app.ctx.db.updateTable('users').set({ permissions: 'reveal_pii' }).where('username', '=', w.staff.unit).execute();
  t.match((await unit.get('/org/reviews')).body, '身份证号为完整号码，导出将记入审计日志');
  let { rows } = await download(unit, '/org/reviews/export.xlsx?custom=1&cols=name&cols=idNumber');
  t.same(rows.slice(1), [['张伟', zhang.id], ['王芳', wang.id]], 'full numbers');
  const audit = await app.ctx.db.selectFrom('audit_log').select(['detail']).where('action', '=', 'export').orderBy('id', 'desc').executeTakeFirstOrThrow();
  t.equal(audit.detail, '申报汇总表-20260615.xlsx（2人，2列，含完整身份证号）', 'the audit row says so (never the numbers)');
  ({ rows } = await download(unit, '/org/reviews/export.xlsx?custom=1&cols=name'));
  t.equal((await app.ctx.db.selectFrom('audit_log').select(['detail']).where('action', '=', 'export').orderBy('id', 'desc').executeTakeFirstOrThrow()).detail, '申报汇总表-20260615.xlsx（2人，1列）');

  // Without the permission (taken back), masked again.
  await app.ctx.db.updateTable('users').set({ permissions: '' }).where('username', '=', w.staff.unit).execute();
  ({ rows } = await download(unit, '/org/reviews/export.xlsx?custom=1&cols=idNumber'));
  t.same(rows.slice(1).map((r) => r[0]), [zhang.id, wang.id].map((id) => `${id.slice(0, 4)}**********${id.slice(14)}`));

  // Text that a spreadsheet would take for a formula leaves with a leading quote.
  const covers = await app.ctx.db.selectFrom('declarations').select(['id', 'cover']).orderBy('id').execute();
  const evil = ['=1+1', '@SUM(A1)'];
  for (const [i, d] of covers.entries()) {
    await app.ctx.db.updateTable('declarations').set({ cover: JSON.stringify({ ...JSON.parse(d.cover), specialty: evil[i] }) }).where('id', '=', d.id).execute();
  }
  await app.ctx.db.updateTable('users').set({ name: '+张伟' }).where('id', '=', zhang.userId).execute();
  await app.ctx.db.updateTable('users').set({ name: '-王芳' }).where('id', '=', wang.userId).execute();
  ({ rows } = await download(unit, '/org/reviews/export.xlsx?custom=1&cols=name&cols=specialty'));
  t.same(rows.slice(1), [["'+张伟", "'=1+1"], ["'-王芳", "'@SUM(A1)"]]);
});

t.test('the list filters apply: q, status, year, plan', async (t) => {
  const { app, w, f } = await setup();
  t.teardown(() => app.close());
  const unit = await staffAgent(app, w.staff.unit);
  let { rows } = await download(unit, `/org/reviews/export.xlsx?q=${encodeURIComponent('张伟')}`);
  t.same(rows.slice(1).map((r) => r[0]), ['张伟'], 'q=张伟 narrows to one');
  ({ rows } = await download(unit, `/org/reviews/export.xlsx?q=${encodeURIComponent('%')}`));
  t.equal(rows.length, 1, 'a % in q is a literal, not a wildcard: header only');
  ({ rows } = await download(unit, '/org/reviews/export.xlsx?status=todo'));
  t.equal(rows.length - 1, 2, 'both wait for the unit');
  ({ rows } = await download(unit, '/org/reviews/export.xlsx?status=returned'));
  t.equal(rows.length - 1, 0);
  ({ rows } = await download(unit, '/org/reviews/export.xlsx?year=2025'));
  t.equal(rows.length - 1, 0);
  ({ rows } = await download(unit, `/org/reviews/export.xlsx?year=2026&plan=${w.plan}`));
  t.equal(rows.length - 1, 2);
  ({ rows } = await download(unit, `/org/reviews/export.xlsx?plan=${w.plan + 1000}`));
  t.equal(rows.length - 1, 0);

  // Returned by the unit: the status column says so (no stage detail), the todo filter drops it.
  await app.ctx.db.updateTable('declarations').set({ status: 'returned' }).where('id', '=', f.declId).execute();
  ({ rows } = await download(unit, '/org/reviews/export.xlsx?status=returned'));
  t.same(rows.slice(1).map((r) => [r[0], r[col('状态')]]), [['王芳', '已返回修改：请根据审核意见修改后重新提交']]);
  ({ rows } = await download(unit, '/org/reviews/export.xlsx?status=todo'));
  t.same(rows.slice(1).map((r) => r[0]), ['张伟']);
});

t.test('scope: another unit gets an empty sheet; the committee only once the declarations reach it', async (t) => {
  const { app, w } = await setup();
  t.teardown(() => app.close());
  const other = await org(app, { kind: 'unit', name: '昆明市第二人民医院', uscc: uscc(2), nature: 'institution', unit_level: 'city', region_code: '530102', supervisor_org_id: w.supervisor, supervisor_status: 'approved' });
  await createStaff(app, { username: 'unit2_wu', name: '吴敏', orgId: other, roles: '' });
  const stranger = await staffAgent(app, 'unit2_wu');
  let { res, rows } = await download(stranger, '/org/reviews/export.xlsx');
  t.equal(res.statusCode, 200);
  t.same(rows, [HEADER], 'header only: nothing leaked');
  ({ rows } = await download(stranger, `/org/reviews/export.xlsx?q=${encodeURIComponent('张伟')}&plan=${w.plan}`));
  t.same(rows, [HEADER]);

  const committee = await staffAgent(app, w.staff.committee);
  ({ rows } = await download(committee, '/org/reviews/export.xlsx'));
  t.same(rows, [HEADER], 'the committee sees nothing while they wait at the unit');
  const supervisor = await staffAgent(app, w.staff.supervisor);
  ({ rows } = await download(supervisor, '/org/reviews/export.xlsx'));
  t.same(rows, [HEADER], 'nor does the supervisor');

  // The committee is the last stage of unit → supervisor → committee.
  const d = await app.ctx.db.selectFrom('declarations').select(['route']).executeTakeFirstOrThrow();
  const idx = (JSON.parse(d.route!) as { kind: string }[]).findIndex((s) => s.kind === 'committee');
  t.equal(idx, 2);
  await app.ctx.db.updateTable('declarations').set({ stage: idx }).execute();
  ({ rows } = await download(committee, '/org/reviews/export.xlsx'));
  t.same(rows.slice(1).map((r) => r[0]), ['张伟', '王芳'], 'both appear at the committee stage');
  t.ok(rows.slice(1).every((r) => String(r[col('状态')]).startsWith('评委会电子材料审核中（')), 'status with the committee stage');
  ({ rows } = await download(stranger, '/org/reviews/export.xlsx'));
  t.same(rows, [HEADER], 'the other unit still sees nothing');
});

t.test('applicants get 403, anonymous users the login page', async (t) => {
  const { app, z } = await setup();
  t.teardown(() => app.close());
  const res = await z.agent.get('/org/reviews/export.xlsx');
  t.equal(res.statusCode, 403);
  t.notMatch(String(res.headers['content-type']), 'spreadsheet');
  const anon = await app.app.inject({ method: 'GET', url: '/org/reviews/export.xlsx' });
  t.equal(anon.statusCode, 303);
  t.match(String(anon.headers.location), /^\/login\?type=staff&next=/);
});

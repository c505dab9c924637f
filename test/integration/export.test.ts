import t from 'tap';
import readXlsxFile from 'read-excel-file/node';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, org, uscc, declareThroughUi, submitThroughUi as submitDeclaration, type World } from '../helpers/world.js';

const HEADER = ['姓名', '身份证号', '单位', '申报职称', '申报专业', '参评类别', '状态', '提交时间'];
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

t.test('the unit staff exports its two submitted declarations, masked, with status and China time', async (t) => {
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

  t.same(rows[0], HEADER);
  const data = rows.slice(1);
  t.equal(data.length, 2, 'exactly the two declarations');
  t.same(data.map((r) => r[0]), ['张伟', '王芳']);
  const users = await app.ctx.db.selectFrom('users').select(['id', 'id_masked']).where('id', 'in', [zhang.userId, wang.userId]).orderBy('id').execute();
  t.same(data.map((r) => r[1]), users.map((u) => u.id_masked), 'the masked ID numbers');
  t.same(data.map((r) => r[1]), [zhang.id, wang.id].map((id) => `${id.slice(0, 4)}**********${id.slice(14)}`), 'masked: 4 + 10 stars + 4');
  const cells = rows.flat().map(String);
  for (const full of [zhang.id, wang.id]) t.notOk(cells.some((c) => c.includes(full)), 'no full ID number anywhere');
  t.same(data.map((r) => r[2]), ['昆明市第一人民医院', '昆明市第一人民医院']);
  t.same(data.map((r) => r[3]), [z.title, z.title]);
  t.same(data.map((r) => r[4]), ['心血管内科', '呼吸内科']);
  t.same(data.map((r) => r[5]), ['正常评审', '正常评审']);
  t.same(data.map((r) => r[6]), ['单位审核中（昆明市第一人民医院）', '单位审核中（昆明市第一人民医院）']);
  // The test clock starts at 2026-06-15T02:00Z = 10:00 in China; the second came 5 minutes later.
  t.same(data.map((r) => r[7]), ['2026-06-15 10:00', '2026-06-15 10:05']);
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
  t.same(rows.slice(1).map((r) => [r[0], r[6]]), [['王芳', '已返回修改：请根据审核意见修改后重新提交']]);
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
  t.ok(rows.slice(1).every((r) => String(r[6]).startsWith('评委会电子材料审核中（')), 'status with the committee stage');
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

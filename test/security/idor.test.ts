import t from 'tap';
import readXlsxFile from 'read-excel-file/node';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi, org, uscc } from '../helpers/world.js';
import { OPINION } from '../helpers/unitstage.js';
import { SECTIONS } from '../../src/domain/sections.js';

async function staffAgent(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username} failed`);
  return a;
}

async function applicantAgent(app: TestApp, phone: string) {
  const a = new Agent(app);
  const r = await login(a, 'applicant', phone);
  if (r.statusCode !== 303) throw new Error(`login ${phone} failed`);
  return a;
}

/** The text of a page, or of every cell of a spreadsheet. */
async function textOf(res: { statusCode: number; headers: Record<string, unknown>; body: string; rawPayload: Buffer }) {
  if (res.statusCode === 200 && String(res.headers['content-type']).includes('spreadsheet')) {
    return ((await readXlsxFile(res.rawPayload)) as unknown[][]).map((r) => r.join('\t')).join('\n');
  }
  return res.body;
}

t.test('nobody reaches another party\'s records by id', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const db = app.ctx.db;
  // A second unit under the same supervisor, with its own administrator; a second supervisor;
  // a second committee.
  const unit2 = await org(app, {
    kind: 'unit', name: '昆明市第二人民医院', uscc: uscc(2), nature: 'institution', unit_level: 'city', region_code: '530102',
    supervisor_org_id: w.supervisor, supervisor_status: 'approved',
  });
  await createStaff(app, { username: 'unit2_wu', name: '吴刚', orgId: unit2, roles: 'unit_admin' });
  await db.updateTable('users').set({ roles: 'unit_admin' }).where('username', '=', w.staff.unit).execute();
  const sup2 = await org(app, { kind: 'supervisor', name: '昆明市教育体育局', region_code: '530100' });
  await createStaff(app, { username: 'sup2_he', name: '何平', orgId: sup2, roles: '' });
  const com2 = (await db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('id', '<>', w.committee).executeTakeFirstOrThrow()).id;
  await createStaff(app, { username: 'com2_zhou', name: '周敏', orgId: com2, roles: '' });

  // 张伟 of unit 1 (will be at the supervisor's stage), 王芳 of unit 2 (at her unit's stage, in publicity).
  const zhang = await readyApplicant(app, w.unit, { name: '张伟', seq: '231', phone: '13800138000' });
  const wang = await readyApplicant(app, unit2, { name: '王芳', seq: '242', phone: '13800138001' });
  const za = await applicantAgent(app, zhang.phone);
  const wa = await applicantAgent(app, wang.phone);
  const zDecl = await declareThroughUi(app, za, w, zhang.userId);
  await submitThroughUi(za, zDecl);
  const wDecl = await declareThroughUi(app, wa, w, wang.userId);
  await submitThroughUi(wa, wDecl);

  const unit1 = await staffAgent(app, w.staff.unit);
  const unit2a = await staffAgent(app, 'unit2_wu');
  const sup = await staffAgent(app, w.staff.supervisor);
  const sup2a = await staffAgent(app, 'sup2_he');
  const county = await staffAgent(app, w.staff.county);
  const com = await staffAgent(app, w.staff.committee);
  const com2a = await staffAgent(app, 'com2_zhou');

  // Unit 2: 基层单位意见, 核验, 申报公示 for 王芳.
  await unit2a.get(`/org/unit-stage/${wDecl}/opinion`);
  t.equal((await unit2a.post(`/org/unit-stage/${wDecl}/opinion`, OPINION)).statusCode, 303, 'opinion');
  await unit2a.get(`/org/unit-stage/${wDecl}`);
  t.equal((await unit2a.post(`/org/unit-stage/${wDecl}/verify`, {})).statusCode, 303, 'verified');
  await unit2a.get('/org/publicity/new');
  const pubRes = await unit2a.post('/org/publicity', { title: '王芳申报公示', start_date: '2026-06-16', days: '5', contact_phone: '0871-63638888', ids: [String(wDecl)] });
  t.equal(pubRes.statusCode, 303, 'publicity created');
  const pub = await db.selectFrom('publicities' as any).select('id' as any).orderBy('id' as any, 'desc').executeTakeFirstOrThrow() as { id: number };
  // 张伟 past his unit: at the supervisor.
  await db.updateTable('declarations').set({ stage: 1 }).where('id', '=', zDecl).execute();
  // A message from his unit; a notice of the committee.
  await unit1.get(`/org/people/${zhang.userId}/message`);
  t.equal((await unit1.post(`/org/people/${zhang.userId}/message`, { content: '请于本周内补交论文原件' })).statusCode, 303);
  await com.get('/org/notices/new');
  t.equal((await com.post('/org/notices/new', { title: '卫生技术评委会通知', body: '内容', plan_id: '' })).statusCode, 303);

  const zRow = await db.selectFrom('section_rows').select(['id', 'section']).where('user_id', '=', zhang.userId).orderBy('id').executeTakeFirstOrThrow();
  const zFile = await db.selectFrom('files').select('id').where('user_id', '=', zhang.userId).orderBy('id').executeTakeFirstOrThrow();
  const zAtt = await db.selectFrom('attachments').select('id').where('user_id', '=', zhang.userId).orderBy('id').executeTakeFirstOrThrow();
  const zMsg = await db.selectFrom('messages').select('id').where('user_id', '=', zhang.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  const notice = await db.selectFrom('notices').select('id').where('org_id', '=', w.committee).orderBy('id', 'desc').executeTakeFirstOrThrow();
  const lina = await db.selectFrom('users').select('id').where('username', '=', w.staff.unit).executeTakeFirstOrThrow();
  const linaMsg = await db.insertInto('messages')
    .values({ user_id: lina.id, type: 'system', content: '钱亮的账号已锁定，请核实', read_at: null, created_at: app.clock.now().toISOString() })
    .returning('id').executeTakeFirstOrThrow();
  const snap = JSON.parse((await db.selectFrom('declaration_versions').select('snapshot').where('declaration_id', '=', zDecl).executeTakeFirstOrThrow()).snapshot);
  const zSnapFile = snap.attachments[0].files[0].fileId as number;

  // Another staff member of unit 1 (administrators cannot disable themselves), and a unit asking
  // the supervisor to be its 主管部门.
  const qian = await createStaff(app, { username: 'unit_qian', name: '钱亮', orgId: w.unit, roles: '' });
  const unit3 = await org(app, { kind: 'unit', name: '昆明市第三人民医院', uscc: uscc(3), nature: 'institution', unit_level: 'city', region_code: '530102' });
  const unit3Staff = await createStaff(app, { username: 'unit3_feng', name: '冯雪', orgId: unit3, roles: 'unit_admin' });
  const request = await db.insertInto('supervisor_requests')
    .values({ unit_org_id: unit3, supervisor_org_id: w.supervisor, status: 'pending', requested_by: unit3Staff.userId, created_at: app.clock.now().toISOString() })
    .returning('id').executeTakeFirstOrThrow();

  type Case = { url: string; owner: Agent | null; victim: string; attackers: [string, Agent, number, boolean?][] };
  const asApplicant = (url: string): Case => ({
    url, owner: za, victim: '张伟',
    attackers: [['other applicant', wa, 404], ['own unit staff', unit1, 403, false], ['other unit staff', unit2a, 403], ['committee', com, 403]],
  });
  const cases: Case[] = [
    asApplicant(`/me/sections/${zRow.section}/${zRow.id}/edit`),
    asApplicant(`/me/sections/${zRow.section}/${zRow.id}/delete`),
    asApplicant(`/me/files/${zFile.id}`),
    asApplicant(`/me/attachments/${zAtt.id}/delete`),
    asApplicant(`/me/messages/${zMsg.id}`),
    asApplicant(`/me/messages/${zMsg.id}/delete`),
    asApplicant(`/me/records/${zDecl}/form`),
    asApplicant(`/me/declaration/done?id=${zDecl}`),
  ];
  const reviewAttackers: [string, Agent, number][] = [
    ['other applicant', wa, 403], ['other unit staff', unit2a, 404], ['other supervisor', sup2a, 404],
    ['county HRB not on the route', county, 404], ['committee before its stage', com, 404], ['other committee', com2a, 404],
  ];
  for (const url of [`/org/reviews/${zDecl}`, `/org/reviews/${zDecl}/track`, `/org/reviews/${zDecl}/files/${zSnapFile}`, `/org/reviews/${zDecl}/pdf`, `/org/reviews/${zDecl}/eligibility`, `/org/reviews/${zDecl}/eligibility.pdf`]) {
    // The PDFs need Chromium: only the refusals are checked here.
    cases.push({ url, owner: /[/.]pdf$/.test(url) ? null : sup, victim: '张伟', attackers: reviewAttackers });
  }
  const unitStageAttackers: [string, Agent, number][] = [['other applicant', za, 403], ['other unit staff', unit1, 404], ['supervisor', sup, 404], ['committee', com, 404]];
  for (const url of [`/org/unit-stage/${wDecl}`, `/org/unit-stage/${wDecl}/opinion`]) {
    cases.push({ url, owner: unit2a, victim: '王芳', attackers: unitStageAttackers });
  }
  for (const url of [`/org/publicity/${pub.id}`, `/org/publicity/${pub.id}/print`]) {
    cases.push({ url, owner: unit2a, victim: '王芳', attackers: [['other applicant', za, 403], ['other unit staff', unit1, 404], ['supervisor', sup, 403], ['committee', com, 403]] });
  }
  for (const url of [`/org/people/${zhang.userId}/message`, `/org/people/${zhang.userId}/reset-password`, `/org/people/${zhang.userId}/remove`]) {
    cases.push({ url, owner: unit1, victim: '张伟', attackers: [['other applicant', wa, 403], ['other unit staff', unit2a, 404], ['supervisor', sup, 403]] });
  }
  for (const url of [`/org/unit/staff/${qian.userId}/disable`, `/org/unit/staff/${qian.userId}/reset-password`]) {
    cases.push({ url, owner: unit1, victim: '钱亮', attackers: [['other unit admin', unit2a, 404], ['applicant', za, 403]] });
  }
  for (const url of [`/org/unit-reviews/${request.id}`]) {
    cases.push({ url, owner: sup, victim: '昆明市第三人民医院', attackers: [['other supervisor', sup2a, 404], ['unit staff', unit2a, 403], ['applicant', za, 403]] });
  }
  for (const url of [`/org/plans/${w.plan}`]) {
    cases.push({ url, owner: com, victim: '卫生技术高级职称评审', attackers: [['other committee', com2a, 404], ['unit staff', unit1, 403], ['applicant', za, 403]] });
  }
  for (const url of [`/org/notices/${notice.id}`, `/org/notices/${notice.id}/delete`]) {
    cases.push({ url, owner: com, victim: '卫生技术评委会通知', attackers: [['other committee', com2a, 404], ['unit staff', unit1, 403], ['applicant', za, 403]] });
  }
  for (const url of [`/org/messages/${linaMsg.id}`, `/org/messages/${linaMsg.id}/delete`]) {
    cases.push({ url, owner: unit1, victim: '钱亮的账号', attackers: [['other unit staff', unit2a, 404], ['supervisor', sup, 404], ['applicant', za, 403]] });
  }
  // 推荐上报 files: only the unit's own recommendation uploads, never any stored file by id.
  for (const [who, agent] of [['unit 1', unit1], ['unit 2', unit2a]] as const) {
    for (const f of await db.selectFrom('files').select('id').where('user_id', 'in', [zhang.userId, wang.userId]).execute()) {
      const r = await agent.get(`/org/recommend/files/${f.id}`);
      t.equal(r.statusCode, 404, `${who}: /org/recommend/files/${f.id} (an applicant's file) → 404`);
    }
  }

  const observed: string[] = [];
  for (const c of cases) {
    if (c.owner) t.equal((await c.owner.get(c.url)).statusCode, 200, `owner: GET ${c.url}`);
    for (const [who, agent, status, checkName = true] of c.attackers) {
      const r = await agent.get(c.url);
      observed.push(`${r.statusCode} ${who} GET ${c.url}`);
      t.equal(r.statusCode, status, `${who}: GET ${c.url} → ${status}`);
      if (c.victim && checkName) t.notOk(r.body.includes(c.victim), `${who}: GET ${c.url} shows nothing of ${c.victim}`);
    }
  }
  t.comment(`replayed:\n${observed.join('\n')}`);

  // Writes with another applicant's ids: 404 and nothing changes.
  const before = JSON.stringify(await db.selectFrom('section_rows').selectAll().where('user_id', '=', zhang.userId).execute());
  const attBefore = await db.selectFrom('attachments').select('id').where('user_id', '=', zhang.userId).execute();
  await wa.get('/me/sections');
  t.equal((await wa.post(`/me/sections/${zRow.section}/${zRow.id}`, { title: 'x' })).statusCode, 404, 'edit another\'s row');
  t.equal((await wa.post(`/me/sections/${zRow.section}/${zRow.id}/delete`, {})).statusCode, 404, 'delete another\'s row');
  t.equal((await wa.post(`/me/attachments/${zAtt.id}/delete`, {})).statusCode, 404, 'delete another\'s attachment');
  t.equal((await wa.post(`/me/messages/${zMsg.id}/delete`, {})).statusCode, 404, 'delete another\'s message');
  // A row of his own with an attachment slot: picking her file into it is refused, his own file is accepted.
  const withSlots = SECTIONS.filter((d) => d.attachments.length).map((d) => d.key);
  const wRow = await db.selectFrom('section_rows').select(['id', 'section']).where('user_id', '=', wang.userId).where('section', 'in', withSlots).orderBy('id').executeTakeFirstOrThrow();
  const slot = SECTIONS.find((d) => d.key === wRow.section)!.attachments[0]!.key;
  await wa.get('/me/sections');
  const pick = await wa.post('/me/attachments/pick', { owner: 'row', id: String(wRow.id), slot, file_id: String(zFile.id), back: '/me' });
  t.equal(pick.statusCode, 404, 'attach another\'s file to one\'s own row');
  const wFile = await db.selectFrom('files').select('id').where('user_id', '=', wang.userId).orderBy('id').executeTakeFirstOrThrow();
  await wa.get('/me/sections');
  t.equal((await wa.post('/me/attachments/pick', { owner: 'row', id: String(wRow.id), slot, file_id: String(wFile.id), back: '/me' })).statusCode, 303, 'one\'s own file: accepted');
  // And her row with his own file.
  await wa.get('/me/sections');
  const zSame = await db.selectFrom('section_rows').select('id').where('user_id', '=', zhang.userId).where('section', '=', wRow.section).orderBy('id').executeTakeFirstOrThrow();
  t.equal((await wa.post('/me/attachments/pick', { owner: 'row', id: String(zSame.id), slot, file_id: String(wFile.id), back: '/me' })).statusCode, 404, 'attach to another\'s row');
  t.equal(JSON.stringify(await db.selectFrom('section_rows').selectAll().where('user_id', '=', zhang.userId).execute()), before, 'rows untouched');
  t.same(await db.selectFrom('attachments').select('id').where('user_id', '=', zhang.userId).execute(), attBefore, 'attachments untouched');
  t.equal((await db.selectFrom('attachments').select('id').where('file_id', '=', zFile.id).where('user_id', '=', wang.userId).execute()).length, 0, 'no attachment of his file');

  // Lists and exports never show the other party.
  const lists = ['/org/reviews', '/org/reviews?status=todo', '/org/reviews?status=done', '/org/people', '/org/stats', '/org/reviews/export.xlsx', '/org/stats/export.xlsx', '/org/unit-stage', '/org/publicity', '/org/recommend', '/org'];
  const check = async (who: string, agent: Agent, hidden: string[], pages = lists) => {
    for (const url of pages) {
      const r = await agent.get(url);
      const text = await textOf(r);
      for (const name of hidden) t.notOk(text.includes(name), `${who}: ${url} (${r.statusCode}) has no ${name}`);
    }
  };
  await check('unit 1', unit1, ['王芳']);
  await check('unit 2', unit2a, ['张伟']);
  await check('other supervisor', sup2a, ['张伟', '王芳']);
  await check('county HRB', county, ['张伟', '王芳']);
  await check('committee before its stage', com, ['张伟', '王芳']);
  await check('other committee', com2a, ['张伟', '王芳']);
  // …while the rightful viewers do see them (the lists are not simply empty).
  t.ok((await unit1.get('/org/people')).body.includes('张伟'), 'unit 1 lists 张伟');
  t.ok((await unit2a.get('/org/people')).body.includes('王芳'), 'unit 2 lists 王芳');
  t.ok((await sup.get('/org/reviews?status=todo')).body.includes('张伟'), 'supervisor lists 张伟');
  t.ok((await textOf(await sup.get('/org/reviews/export.xlsx'))).includes('张伟'), 'supervisor export has 张伟');
});

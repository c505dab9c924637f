import t from 'tap';
import { unzip } from '../helpers/files.js';
import { unspan } from '../helpers/print.js';
import { makeApp, Agent, login, createApplicant, createStaff, idNumber, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi, type World } from '../helpers/world.js';
import { addWorkingDays } from '../../src/domain/workdays.js';
import { loadCalendar } from '../../src/features/holidays/service.js';
import { reviewFormModel } from '../../src/print/reviewForm.js';
import { issueCertificates } from '../../src/features/results/service.js';
import { loadUser } from '../../src/plugins/auth.js';
import { printerFor } from '../../src/print/printer.js';
import { execFileSync as execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/** pdftotext of a PDF (poppler-utils; CI installs it). */
function pdfText(app: TestApp, pdf: Buffer): string {
  const file = `${app.dir}/t-${Date.now()}.pdf`;
  writeFileSync(file, pdf);
  return execSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

/**
 * 评后管理 end to end: 评审会议 → votes → 结果确认 → 评审结果公示 (working days) → 发证 (numbers
 * without gaps or duplicates under concurrent issuing) → e-certificate, public check, and
 * 一键下载材料 (the zip parsed back here).
 */

async function staff(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username}`);
  return a;
}

const ids = (n: number, from = 400) => Array.from({ length: n }, (_, i) => String(from + i));

/** An approved declaration: the real one's version, cover and route, for another applicant. */
async function cloneApproved(app: TestApp, fromId: number, name: string, seq: string, status: 'approved' | 'passed' = 'approved', planId?: number) {
  const src = await app.ctx.db.selectFrom('declarations').selectAll().where('id', '=', fromId).executeTakeFirstOrThrow();
  const a = await createApplicant(app, { name, id: idNumber('19800101', seq), phone: `139${seq.padStart(8, '0')}` });
  const { id: _id, ...rest } = src;
  const row = await app.ctx.db.insertInto('declarations').values({ ...rest, user_id: a.userId, status, plan_id: planId ?? src.plan_id }).returning('id').executeTakeFirstOrThrow();
  const stages = await app.ctx.db.selectFrom('declaration_stages').selectAll().where('declaration_id', '=', fromId).execute();
  await app.ctx.db.insertInto('declaration_stages').values(stages.map((s) => ({ ...s, declaration_id: row.id }))).execute();
  return { id: row.id, userId: a.userId };
}

const mine0 = <T extends { declaration_id: number }>(certs: T[], declId: number) => certs.find((c) => c.declaration_id === declId)!;

t.test('评审会议 → 结果确认 → 结果公示 → 发证 → 电子证书, 材料下载', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w: World = await kunming(app);
  await app.ctx.db.updateTable('plans').set({ publicity_required: 0 }).where('id', '=', w.plan).execute();
  const person = await readyApplicant(app, w.unit);
  const applicant = new Agent(app);
  await login(applicant, 'applicant', person.phone);
  const mainId = await declareThroughUi(app, applicant, w, person.userId);
  await submitThroughUi(applicant, mainId);
  // The committee's e-review approval (the chain itself is chains.test.ts).
  const route = JSON.parse((await app.ctx.db.selectFrom('declarations').select('route').where('id', '=', mainId).executeTakeFirstOrThrow()).route!);
  await app.ctx.db.updateTable('declarations').set({ status: 'approved', stage: route.length - 1 }).where('id', '=', mainId).execute();
  const others = [];
  for (const [i, seq] of ids(4).entries()) others.push(await cloneApproved(app, mainId, `申报人${i + 1}`, seq));

  const com = await staff(app, w.staff.committee);
  t.match((await com.get('/org')).body, '评审会议', 'menu entry');

  // ---- the meeting ----
  t.equal((await com.get('/org/evaluations')).statusCode, 200);
  let r = await com.post('/org/evaluations', { plan_id: String(w.plan), meeting_date: '2026-06-20', members_expected: '15', members_present: '16' });
  t.equal(r.statusCode, 422);
  t.match(r.body, '实到人数不能大于应到人数');
  r = await com.post('/org/evaluations', { plan_id: String(w.plan), meeting_date: '2026-06-20', members_expected: '21', members_present: '15' });
  t.equal(r.statusCode, 303);
  const evalId = Number(/\/org\/evaluations\/(\d+)/.exec(r.headers.location as string)![1]);
  const page = await com.get(`/org/evaluations/${evalId}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, '同意 ≥ <b>10</b> 票', '2/3 of 15 present');
  t.match(page.body, '张伟');
  t.match(page.body, '未收', 'paper column shown, not required');

  // Another committee cannot see the meeting.
  const otherCommittee = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('id', '!=', w.committee).executeTakeFirstOrThrow()).id;
  await createStaff(app, { username: 'com_other', name: '王芳', orgId: otherCommittee, roles: '' });
  const stranger = await staff(app, 'com_other');
  t.equal((await stranger.get(`/org/evaluations/${evalId}`)).statusCode, 404);
  t.equal((await stranger.post('/org/evaluations', { plan_id: String(w.plan), meeting_date: '2026-06-20', members_expected: '5', members_present: '5' })).statusCode, 422);
  // Unit staff are not committee offices.
  const unitStaff = await staff(app, w.staff.unit);
  t.equal((await unitStaff.get('/org/evaluations')).statusCode, 403);

  // One wrong row: nothing saved.
  await com.get(`/org/evaluations/${evalId}`);
  const [o1, o2, o3, o4] = others as [typeof others[0], typeof others[0], typeof others[0], typeof others[0]];
  r = await com.post(`/org/evaluations/${evalId}/votes`, { [`agree_${mainId}`]: '10', [`disagree_${mainId}`]: '3', [`abstain_${mainId}`]: '2', [`agree_${o1.id}`]: '10', [`disagree_${o1.id}`]: '4', [`abstain_${o1.id}`]: '2' });
  t.equal(r.statusCode, 422);
  t.match(r.body, '不能超过实到人数（15人）');
  t.equal((await app.ctx.db.selectFrom('evaluation_votes').selectAll().execute()).length, 0, 'nothing saved');

  const votes: Record<string, string> = {};
  const put = (id: number, a: number, d: number, b: number) => Object.assign(votes, { [`agree_${id}`]: String(a), [`disagree_${id}`]: String(d), [`abstain_${id}`]: String(b) });
  put(mainId, 10, 3, 2); // exactly 2/3 → 通过
  put(o1.id, 9, 6, 0); // 9 < 10 → 未通过
  put(o2.id, 8, 0, 7); // abstentions count against → 未通过
  put(o3.id, 15, 0, 0);
  put(o4.id, 12, 2, 1);
  r = await com.post(`/org/evaluations/${evalId}/votes`, votes);
  t.equal(r.statusCode, 303);
  const saved = await app.ctx.db.selectFrom('evaluation_votes').select(['declaration_id', 'result']).orderBy('declaration_id').execute();
  t.same(Object.fromEntries(saved.map((s) => [s.declaration_id, s.result])), { [mainId]: 'passed', [o1.id]: 'failed', [o2.id]: 'failed', [o3.id]: 'passed', [o4.id]: 'passed' });

  // Issuing before results are confirmed is refused.
  t.match((await issueCertificates(app.ctx, (await loadUser(app.ctx.db, (await app.ctx.db.selectFrom('users').select('id').where('username', '=', 'com_sun').executeTakeFirstOrThrow()).id))!, w.plan, '昆人社通〔2026〕88号')), { ok: false, error: '该计划尚未确认评审结果' });

  await com.get(`/org/evaluations/${evalId}`);
  r = await com.post(`/org/evaluations/${evalId}/confirm`, {});
  t.equal(r.statusCode, 303);
  const statuses = await app.ctx.db.selectFrom('declarations').select(['id', 'status']).where('plan_id', '=', w.plan).orderBy('id').execute();
  t.same(Object.fromEntries(statuses.map((s) => [s.id, s.status])), { [mainId]: 'passed', [o1.id]: 'failed', [o2.id]: 'failed', [o3.id]: 'passed', [o4.id]: 'passed' });
  const msgs = await app.ctx.db.selectFrom('messages').select(['user_id', 'content']).where('type', '=', '评审结果').execute();
  t.ok(msgs.some((m) => m.user_id === person.userId && m.content.startsWith('您的职称评审结果：通过')));
  t.ok(msgs.some((m) => m.user_id === o1.userId && m.content.startsWith('您的职称评审结果：未通过')));
  const ev = await app.ctx.db.selectFrom('workflow_events').selectAll().where('declaration_id', '=', mainId).where('action', '=', 'evaluate').executeTakeFirstOrThrow();
  t.same([ev.from_status, ev.to_status], ['approved', 'passed']);
  // One audit row per declaration, with the committee clerk and the source IP.
  const confirmed = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'evaluation_confirm').orderBy('id').execute();
  t.same(confirmed.map((a) => a.object_id).sort(), [mainId, o1.id, o2.id, o3.id, o4.id].map(String).sort());
  t.ok(confirmed.every((a) => a.ip === '127.0.0.1' && a.username === w.staff.committee && a.object_type === 'declaration' && a.result === 'ok'));
  t.equal(confirmed.find((a) => a.object_id === String(mainId))!.detail, `评审会议 ${evalId}：approved→passed（同意10、不同意3、弃权2）`);
  t.match(confirmed.find((a) => a.object_id === String(o1.id))!.detail, 'approved→failed');
  await com.get(`/org/evaluations/${evalId}`);
  r = await com.post(`/org/evaluations/${evalId}/votes`, votes);
  t.equal(r.headers.location, `/org/evaluations/${evalId}`, 'votes locked after confirmation');
  t.match((await applicant.get('/me/records')).body, '评审通过');

  // ---- 评审结果公示 ----
  await com.get('/org/result-publicity');
  r = await com.post('/org/result-publicity', { plan_id: String(w.plan), start_date: '2026-06-15', days: '4' });
  t.equal(r.statusCode, 422);
  t.match(r.body, '不少于5个工作日');
  r = await com.post('/org/result-publicity', { plan_id: String(w.plan), start_date: '2026-06-15', days: '5' });
  t.equal(r.statusCode, 303);
  const pub = await app.ctx.db.selectFrom('result_publicities').selectAll().executeTakeFirstOrThrow();
  const expected = addWorkingDays('2026-06-15', 5, await loadCalendar(app.ctx.db)).end;
  t.equal(pub.end_date, expected, 'end date from the holiday calendar');
  t.equal(pub.end_date, '2026-06-22', '端午 2026-06-19 is skipped');
  const pubPage = await com.get(r.headers.location as string);
  const worldPlan = await app.ctx.db.selectFrom('plans').select(['name', 'year']).where('id', '=', w.plan).executeTakeFirstOrThrow();
  t.match(worldPlan.name, /^2026年度.*评审$/, 'the world plan is named like the field test\'s');
  t.match(pubPage.body, '<h1>2026年度卫生技术高级职称评审结果公示</h1>', 'the year and 评审 said once (issue #19)');
  t.notMatch(pubPage.body, '2026年度2026年度');
  t.match(pubPage.body, '<td class="nowrap">张伟</td>', 'names never wrap');
  t.match(pubPage.body, '张伟');
  t.notMatch(pubPage.body, '申报人1', 'failed ones are not publicised');

  // ---- 发证: refused while the publicity runs ----
  await com.get('/org/certificates');
  r = await com.post('/org/certificates/issue', { plan_id: String(w.plan), doc_no: '昆人社通〔2026〕88号' });
  t.equal(r.statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('certificates').selectAll().execute()).length, 0, 'not before the publicity ends');
  t.match((await com.get('/org/certificates')).body, '公示期满后方可发证');
  app.clock.advance(8 * 86_400_000); // 2026-06-23: the publicity has ended
  const com2 = await staff(app, w.staff.committee); // the idle session has expired meanwhile
  await login(applicant, 'applicant', person.phone);
  const unitStaff2 = await staff(app, w.staff.unit);
  const stranger2 = await staff(app, 'com_other');

  // A second plan of the same committee, with passed declarations ready to issue.
  const plan2 = (await app.ctx.db.insertInto('plans').values({ committee_org_id: w.committee, year: 2026, name: '2026年度卫生技术中级职称评审', levels: 'intermediate', opens_at: '2026-01-01', closes_at: '2026-03-01', created_at: app.clock.now().toISOString() } as any).returning('id').executeTakeFirstOrThrow()).id;
  const stamp = app.clock.now().toISOString();
  for (const seq of ids(6, 500)) await cloneApproved(app, mainId, `中级${seq}`, seq, 'passed', plan2);
  await app.ctx.db.insertInto('evaluations').values({ plan_id: plan2, meeting_date: '2026-06-01', members_expected: 9, members_present: 9, confirmed_at: '2026-06-01T02:00:00.000Z', created_at: '2026-06-01T02:00:00.000Z' }).execute();
  await app.ctx.db.insertInto('result_publicities').values({ plan_id: plan2, start_date: '2026-06-02', days: 5, end_date: '2026-06-08', status: 'open', created_at: '2026-06-02T02:00:00.000Z' }).execute();
  await app.ctx.db.updateTable('orgs').set({ cert_pattern: 'KM{YYYY}{SEQ:5}' }).where('id', '=', w.committee).execute();

  // Doc number required.
  await com2.get('/org/certificates');
  r = await com2.post('/org/certificates/issue', { plan_id: String(w.plan), doc_no: ' ' });
  t.equal(r.statusCode, 422);
  t.match(r.body, '请填写发文字号');

  // Concurrent issuing: several parallel requests for both plans.
  await com2.get('/org/certificates');
  const token = com2.csrf();
  const results = await Promise.all([
    ...[1, 2, 3].map(() => com2.post('/org/certificates/issue', { plan_id: String(w.plan), doc_no: '昆人社通〔2026〕88号' }, { csrf: token })),
    ...[1, 2, 3].map(() => com2.post('/org/certificates/issue', { plan_id: String(plan2), doc_no: '昆人社通〔2026〕89号' }, { csrf: token })),
    ...[1, 2].map(() => issueCertificates(app.ctx, { id: 1, orgId: w.committee, orgKind: 'committee', roles: [], name: '孙丽' }, plan2, '昆人社通〔2026〕89号')),
  ]);
  for (const x of results.slice(0, 6)) t.equal((x as { statusCode: number }).statusCode, 303);
  const certs = await app.ctx.db.selectFrom('certificates').selectAll().orderBy('seq').execute();
  t.equal(certs.length, 3 + 6, 'every passed declaration has one certificate');
  t.same(certs.map((c) => c.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'no gaps');
  t.equal(new Set(certs.map((c) => c.number)).size, 9, 'no duplicate numbers');
  t.equal(new Set(certs.map((c) => c.declaration_id)).size, 9);
  t.equal(new Set(certs.map((c) => c.verify_code)).size, 9);
  t.same(certs.map((c) => c.number), certs.map((c) => `KM2026${String(c.seq).padStart(5, '0')}`));
  const docNos = new Map<number, Set<string>>();
  for (const c of certs) {
    const plan = (await app.ctx.db.selectFrom('declarations').select('plan_id').where('id', '=', c.declaration_id).executeTakeFirstOrThrow()).plan_id;
    docNos.set(plan, (docNos.get(plan) ?? new Set()).add(c.doc_no));
  }
  t.same([...docNos.get(w.plan)!], ['昆人社通〔2026〕88号'], 'one 发文字号 per batch');
  t.same([...docNos.get(plan2)!], ['昆人社通〔2026〕89号']);
  t.notOk(certs.some((c) => [o1.id, o2.id].includes(c.declaration_id)), 'failed ones get none');
  // A later batch continues the sequence.
  t.match(await issueCertificates(app.ctx, { id: 1, orgId: w.committee, orgKind: 'committee', roles: [], name: '孙丽' }, plan2, 'x'), { ok: false, error: '没有待发证的评审通过人员' });
  t.match((await com2.get('/org/certificates')).body, 'KM202600009');
  // One audit row per certificate; those issued through the page carry the clerk and the IP.
  const issued = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'certificate_issue').execute();
  t.same(issued.map((a) => Number(a.object_id)).sort((a, b) => a - b), certs.map((c) => c.id).sort((a, b) => a - b), 'every certificate, once');
  t.ok(issued.every((a) => a.object_type === 'certificate' && a.result === 'ok'));
  const viaPage = certs.filter((c) => c.doc_no === '昆人社通〔2026〕88号').map((c) => String(c.id));
  t.equal(viaPage.length, 3);
  for (const a of issued.filter((x) => viaPage.includes(x.object_id!))) t.match(a, { ip: '127.0.0.1', username: w.staff.committee });
  const m = issued.find((a) => a.object_id === String(mine0(certs, mainId).id))!;
  t.equal(m.detail, `申报 ${mainId}，证书编号 ${mine0(certs, mainId).number}，发文字号 昆人社通〔2026〕88号`);
  t.notMatch(JSON.stringify(issued), person.phone, 'no personal data');

  // ---- the applicant's side ----
  const mine = certs.find((c) => c.declaration_id === mainId)!;
  const records = (await applicant.get('/me/records')).body;
  t.match(records, '评审通过');
  t.match(records, mine.number, 'certificate number in the timeline');
  t.match((await applicant.get('/me/messages')).body, mine.number);
  const list = await applicant.get('/me/certificates');
  t.match(list.body, `/me/certificates/${mine.id}`);
  const cert = await applicant.get(`/me/certificates/${mine.id}`);
  t.equal(cert.statusCode, 200);
  for (const s of ['张伟', mine.number, '昆人社通〔2026〕88号', '心血管内科', '副主任医师', mine.verify_code.slice(0, 4)]) t.match(cert.body, s);
  const someoneElse = new Agent(app);
  await login(someoneElse, 'applicant', `139${'400'.padStart(8, '0')}`);
  t.equal((await someoneElse.get(`/me/certificates/${mine.id}`)).statusCode, 404, 'only the holder');
  const pub1 = await new Agent(app).get(`/verify-cert/${mine.verify_code.toLowerCase()}`);
  t.equal(pub1.statusCode, 200);
  t.match(pub1.body, '张*');
  t.notMatch(pub1.body, '张伟');
  t.match(pub1.body, mine.number);
  t.equal((await new Agent(app).get('/verify-cert/AAAAAAAAAAAA')).statusCode, 404);

  // ---- 电子证书 PDF ----
  const printer = printerFor(app.ctx);
  const browser = printer.executablePath;
  if (browser) {
    const pdf = await applicant.get(`/me/certificates/${mine.id}/pdf`);
    t.equal(pdf.statusCode, 200);
    t.equal(pdf.headers['content-type'], 'application/pdf');
    t.equal(pdf.headers['cache-control'], 'no-store');
    t.same([...pdf.rawPayload.subarray(0, 4)], [...Buffer.from('%PDF')]);
    if (process.env.PRINT_TEST_KEEP) writeFileSync(`${process.env.PRINT_TEST_KEEP}/certificate.pdf`, pdf.rawPayload);
    const txt = pdfText(app, pdf.rawPayload).replace(/\s+/g, '');
    for (const s of ['专业技术资格证书', '张伟', mine.number, '昆人社通〔2026〕88号', mine.verify_code.slice(0, 4)]) t.match(txt, s, `certificate PDF shows ${s}`);
    t.equal((await com2.get(`/org/certificates/${mine.id}/pdf`)).statusCode, 200, 'the committee office prints it too');
  } else if (process.env.E2E_REQUIRED === '1') t.fail('Chromium is required for the certificate PDF');
  t.equal((await someoneElse.get(`/me/certificates/${mine.id}/pdf`)).statusCode, 404, 'only the holder');
  t.equal((await stranger2.get(`/org/certificates/${mine.id}/pdf`)).statusCode, 404, 'another committee office');
  t.equal((await unitStaff2.get(`/org/certificates/${mine.id}/pdf`)).statusCode, 403);
  (printer as { executablePath: string | null }).executablePath = null;
  const noBrowser = await applicant.get(`/me/certificates/${mine.id}/pdf`);
  t.equal(noBrowser.statusCode, 503);
  t.match(noBrowser.body, '打印证书需要在服务器上安装 Chromium/Chrome/Edge');

  // ---- 一键下载材料 ----
  // Without a browser on the server the form goes in as HTML (checked here); with one, as the PDF (below).
  const zipRes = await com2.get(`/org/reviews/${mainId}/materials.zip`);
  t.equal(zipRes.statusCode, 200);
  t.match(zipRes.headers['content-type'], 'application/zip');
  t.match(zipRes.headers['content-disposition'], /filename\*=UTF-8''/);
  const entries = unzip(zipRes.rawPayload);
  const names = entries.map((e) => e.name);
  t.ok(names.includes('申报表.html'));
  t.ok(names.includes('审核记录.csv'));
  t.ok(entries.every((e) => e.flags & 0x0800), 'UTF-8 name flag');
  const plan = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', w.plan).executeTakeFirstOrThrow();
  const slotFiles = names.filter((n) => n.startsWith('附件/'));
  t.ok(slotFiles.length >= 1, 'attachments');
  t.ok(slotFiles.every((n) => /^附件\/[^/]+-\d+\.(png|jpg|pdf)$/.test(n)), 'named by slot');
  t.ok(plan);
  const png = entries.find((e) => e.name.endsWith('.png'))!;
  t.same([...png.data.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'files intact');
  const csv = entries.find((e) => e.name === '审核记录.csv')!.data;
  t.same([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'BOM');
  const csvText = csv.subarray(3).toString('utf8');
  t.match(csvText, /^时间,环节,办理单位,操作,意见\r\n/);
  t.match(csvText, '提交申报');
  t.match(csvText, '评审结果确认');
  t.match(csvText, `证书编号：${mine.number}`);
  const html = entries.find((e) => e.name === '申报表.html')!.data.toString('utf8');
  t.match(html, '专业技术职称申报评审表');
  const t15 = unspan(html.slice(html.indexOf('<h2>表十五'), html.indexOf('<h2>表十六')));
  t.match(t15, '<th>评审时间</th><td>2026-06-20</td>');
  t.match(t15, '<th>应到人数</th><td>21</td><th>实到人数</th><td>15</td>');
  t.match(t15, '<th>同意</th><td>10</td><th>不同意</th><td>3</td><th>弃权</th><td>2</td>');
  t.match(t15, '通过');
  const t14 = html.slice(html.indexOf('<h2>表十四'), html.indexOf('<h2>表十五'));
  t.match(t14, '<th>评审时间</th><td></td>', 'other levels stay blank');
  (printer as { executablePath: string | null }).executablePath = browser;
  if (browser) {
    const withPdf = unzip((await com2.get(`/org/reviews/${mainId}/materials.zip`)).rawPayload);
    t.notOk(withPdf.some((e) => e.name.endsWith('.html')), 'no HTML form when the PDF can be printed');
    const formPdf = withPdf.find((e) => e.name === '申报评审表.pdf');
    t.ok(formPdf, 'the printed review form');
    const txt = pdfText(app, formPdf!.data).replace(/\s+/g, '');
    t.match(txt, '表十五');
    t.match(txt, '2026-06-20');
    const rec = await app.ctx.db.selectFrom('print_records').select('code').where('declaration_id', '=', mainId).orderBy('printed_at', 'desc').executeTakeFirstOrThrow();
    t.match(txt, rec.code.slice(0, 4), 'carries its verification code');
  }
  // Scope: the unit sees the declaration but is not the committee office; strangers see nothing.
  t.equal((await unitStaff2.get(`/org/reviews/${mainId}/materials.zip`)).statusCode, 403);
  t.equal((await stranger2.get(`/org/reviews/${mainId}/materials.zip`)).statusCode, 404);
  t.equal((await applicant.get(`/org/reviews/${mainId}/materials.zip`)).statusCode, 403);

  const meetingAudit = (await app.ctx.db.selectFrom('audit_log').select(['action', 'ip', 'object_id']).execute()).map((r) => r.action);
  for (const a of ['evaluation_create', 'evaluation_votes', 'evaluation_confirm', 'result_publicity', 'certificate_issue']) t.ok(meetingAudit.includes(a), `${a} is audited`);

  // unzip(1) reads it too, when present.
  const { execFileSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const file = `${app.dir}/m.zip`;
  fs.writeFileSync(file, zipRes.rawPayload);
  try {
    const out = execFileSync('unzip', ['-t', file], { encoding: 'utf8' });
    t.match(out, 'No errors detected');
  } catch (err: any) {
    if (err.code !== 'ENOENT') throw err;
  }
});

t.test('表十三–十六 stay blank without an evaluation', async (t) => {
  const snapshot: any = {
    cover: { level: 'senior_vice', title: '卫生技术 - 副主任医师', specialty: 'x', committee: 'c', year: 2026 },
    person: { name: '张伟' }, profile: {}, photoFileId: null, sections: {}, attachments: [], route: [], takenAt: '2026-06-15T00:00:00Z',
  };
  const blank = reviewFormModel(snapshot, { today: '2026-06-15', preview: false, pledge: '' });
  t.ok(blank.evaluations.every((e) => !e.filled && e.agree === '' && e.result === ''));
  const filled = reviewFormModel(snapshot, { today: '2026-06-15', preview: false, pledge: '', evaluation: { date: '2026-06-20', expected: 21, present: 15, agree: 9, disagree: 6, abstain: 0, result: 'failed' } });
  t.same(filled.evaluations.map((e) => e.filled), [false, false, true, false]);
  t.match(filled.evaluations[2], { no: '表十五', agree: '9', disagree: '6', abstain: '0', result: '未通过' });
});

import t from 'tap';
import { unzip } from '../helpers/files.js';
import { makeApp, Agent, login } from '../helpers/app.js';
import { kunming, readyApplicant, submittedDeclaration, declareThroughUi } from '../helpers/world.js';

// 申报记录 → 下载申报材料 (issue #13; seed 002 五(二)3(6)): the applicant's own dossier.


t.test('the applicant downloads their own dossier: form preview, attachments, timeline', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, agent: zhang, user } = await submittedDeclaration(app, w);

  const records = await zhang.get('/me/records');
  t.match(records.body, `href="/me/records/${id}/dossier.zip"`, 'linked from 申报记录');
  const res = await zhang.get(`/me/records/${id}/dossier.zip`);
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], 'application/zip');
  t.match(res.headers['content-disposition'], /filename\*=UTF-8''/);
  const entries = unzip(res.rawPayload);
  const names = entries.map((e) => e.name);
  t.ok(names.includes('申报表-预览.html'), 'not yet printable: the HTML preview');
  t.notOk(names.some((n) => n.endsWith('.pdf') && n.startsWith('申报')), 'no PDF before e-review');
  const html = entries.find((e) => e.name === '申报表-预览.html')!.data.toString('utf8');
  t.match(html, '张伟');
  const slots = names.filter((n) => n.startsWith('附件/'));
  t.ok(slots.length >= 5, `the attachments (${slots.length})`);
  const png = entries.find((e) => e.name.startsWith('附件/') && e.name.endsWith('.png'))!;
  t.same([...png.data.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'files intact');
  const csv = entries.find((e) => e.name === '审核记录.csv')!.data.subarray(3).toString('utf8');
  t.match(csv, '提交申报', 'the timeline');
  t.ok(await app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'file_download').where('object_type', '=', 'declaration').where('object_id', '=', String(id)).where('user_id', '=', user.userId).executeTakeFirst(), 'audited');

  // Another applicant's id → 404; staff cannot use the applicant's URL; a draft has no dossier.
  const wang = await readyApplicant(app, w.unit, { name: '王芳', seq: '342', phone: '13900139000' });
  const other = new Agent(app);
  await login(other, 'applicant', wang.phone);
  t.equal((await other.get(`/me/records/${id}/dossier.zip`)).statusCode, 404, "another applicant's dossier");
  const staff = new Agent(app);
  await login(staff, 'staff', w.staff.unit);
  t.not((await staff.get(`/me/records/${id}/dossier.zip`)).statusCode, 200, 'staff: not through /me');
  const draft = await declareThroughUi(app, other, w, wang.userId);
  const none = await other.get(`/me/records/${draft}/dossier.zip`);
  t.equal(none.statusCode, 404);
  t.match(none.body, '该申报尚未提交，没有可下载的申报材料');
});

import t from 'tap';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, submittedDeclaration, approveByCommittee } from '../helpers/world.js';

/** 资格审查表 (per declaration, scoped) and 打印空白表格 (issue #16), printed and read back with pdftotext. */

function pdfText(app: TestApp, name: string, body: Buffer): { text: string; pages: number } {
  const file = `${app.dir}/${name}`;
  writeFileSync(file, body);
  return {
    text: execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }),
    pages: Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))![1]),
  };
}

t.test('资格审查表 and blank forms', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const d = await submittedDeclaration(app, w);
  await approveByCommittee(app, d.id);

  const office = new Agent(app);
  t.equal((await login(office, 'staff', w.staff.committee)).statusCode, 303);
  const detail = await office.get(`/org/reviews/${d.id}`);
  t.match(detail.body, `/org/reviews/${d.id}/eligibility`, 'the review page links the sheet');

  const preview = await office.get(`/org/reviews/${d.id}/eligibility`);
  t.equal(preview.statusCode, 200);
  t.match(preview.body, '资格审查表');
  t.match(preview.body, '张伟');
  t.match(preview.body, /class="check (ok|bad)"/);
  t.match(preview.body, '人员身份');
  t.match(preview.body, '学历');
  t.match(preview.body, '未达到法定退休年龄', 'the birth date from the 身份证号 (the version keeps the month)');
  t.match(preview.body, '审查人（签字）');

  const pdf = await office.get(`/org/reviews/${d.id}/eligibility.pdf`);
  t.equal(pdf.statusCode, 200);
  t.equal(pdf.headers['content-type'], 'application/pdf');
  const sheet = pdfText(app, 'eligibility.pdf', pdf.rawPayload);
  t.match(sheet.text, '资格审查表');
  t.match(sheet.text, '张伟');
  t.match(sheet.text, /[√×]/, 'the marks print (GBK, in the packaged font)');
  t.match(sheet.text, '系统审查结论');
  const audited = await app.ctx.db.selectFrom('audit_log').select('detail').where('object_type', '=', 'declaration').where('object_id', '=', String(d.id)).where('action', '=', 'export').execute();
  t.ok(audited.some((a) => a.detail === '资格审查表 PDF'), 'the print is audited');

  // Scope: another committee's staff, an applicant and an unknown id get nothing.
  const other = await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('id', '!=', w.committee).executeTakeFirst();
  if (other) {
    await createStaff(app, { username: 'other_com', name: '周敏', orgId: other.id, roles: '' });
    const o = new Agent(app);
    await login(o, 'staff', 'other_com');
    t.equal((await o.get(`/org/reviews/${d.id}/eligibility`)).statusCode, 404, "another committee's declaration is not found");
    t.equal((await o.get(`/org/reviews/${d.id}/eligibility.pdf`)).statusCode, 404);
  }
  t.equal((await office.get('/org/reviews/999999/eligibility.pdf')).statusCode, 404);
  t.equal((await office.get('/org/reviews/abc/eligibility')).statusCode, 404);

  // 打印空白表格.
  const page = await office.get('/forms/blank');
  t.equal(page.statusCode, 200);
  t.match(page.body, '/forms/blank/review-form.pdf');
  t.match(page.body, '/forms/blank/brief.pdf');
  const form = await office.get('/forms/blank/review-form.pdf');
  t.equal(form.statusCode, 200);
  t.equal(form.headers['content-type'], 'application/pdf');
  const f = pdfText(app, 'blank-form.pdf', form.rawPayload);
  t.match(f.text, '专业技术职称申报评审表');
  t.match(f.text, '基本情况');
  t.notMatch(f.text, '张伟', 'nobody’s data');
  t.notMatch(f.text, '验证码', 'no verification code on a blank form');
  t.ok(f.pages >= 5, `a whole form (${f.pages} pages)`);
  const brief = await office.get('/forms/blank/brief.pdf');
  t.equal(brief.statusCode, 200);
  const b = pdfText(app, 'blank-brief.pdf', brief.rawPayload);
  t.match(b.text, '评审简表');
  t.match(b.text, '代表作及主要业绩');
  t.match(b.text, '学科组');
  t.equal(b.pages, 1);
  t.equal((await new Agent(app).get('/forms/blank/brief.pdf')).statusCode, 303, 'signed-in users only');
});

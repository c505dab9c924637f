/**
 * Issue #16 in the real PDF: a 中小学教师 declares to a teacher plan, fills the teachers' sections
 * through the pages (公开课 with its file), submits; once the committee's e-review approves, the
 * printed review form (Chromium, read back with pdftotext) carries the 公开课 rows in their own
 * table after 表四, then 学生满意度, and 教育理论考试成绩 with 是否合格 after 表九.
 */
import t from 'tap';
import { makeApp, Agent, login } from '../helpers/app.js';
import { kunming, readyApplicant, makePng, teacherPlan, TEACHER_COVER, fillDeclarationSlots, submitThroughUi, approveByCommittee } from '../helpers/world.js';
import { multipart } from '../helpers/files.js';
import { needsPrinter, printerConfig, keepPdf, pdftotext, ws } from '../helpers/print.js';

t.test('a teacher’s 公开课 rows print in their own table in the PDF', { timeout: 240_000 }, async (t) => {
  if (!needsPrinter(t)) return;
  const app = await makeApp(printerConfig());
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { plan } = await teacherPlan(app, { theory_pass_mark: 70 });
  const user = await readyApplicant(app, w.unit, { name: '王芳', seq: '418', phone: '13700137418' });
  const agent = new Agent(app);
  await login(agent, 'applicant', user.phone);
  await agent.get('/me/declaration');
  const cover = await agent.post('/me/declaration/cover', { plan_id: String(plan), ...TEACHER_COVER });
  t.equal(cover.statusCode, 303, 'cover saved');
  const d = await app.ctx.db.selectFrom('declarations').selectAll().where('user_id', '=', user.userId).executeTakeFirstOrThrow();

  const post = async (key: string, form: Record<string, string>) => {
    const r = await agent.post(`/me/sections/${key}`, form);
    if (r.statusCode !== 303) throw new Error(`${key}: ${r.statusCode} ${[...r.body.matchAll(/class="err" id="e-([^"]+)">([^<]*)/g)].map((m) => m[1] + ' ' + m[2]).join('; ')}`);
    return Number(/\/(\d+)\/edit/.exec(String(r.headers.location))?.[1] ?? 0);
  };
  const classes = [
    { given_on: '2023-11-02', topic: '一元二次方程的解法', subject: '数学', level: '校级', organizer: '昆明市第三中学', audience: '初三（1）班' },
    { given_on: '2024-04-18', topic: '勾股定理的证明', subject: '数学', level: '市（州）级', organizer: '昆明市教育科学研究院', audience: '初二（3）班' },
  ];
  for (const [i, c] of classes.entries()) {
    const rowId = await post('open-classes', c);
    const { payload, contentType } = await multipart(`公开课${i + 1}.png`, makePng(300, 200, 30 + i), 'image/png', 'file', { csrf: agent.csrf() });
    const up = await app.app.inject({ method: 'POST', url: `/me/attachments?owner=row&id=${rowId}&slot=proof&back=${encodeURIComponent('/me/sections/open-classes')}`, payload, headers: { 'content-type': contentType, cookie: agent.cookieHeader() } });
    t.equal(up.statusCode, 303, `公开课 ${i + 1}: proof uploaded`);
  }
  await post('teacher-type', { type: '正常晋级', note: '' });
  await post('satisfaction', { year: '2025', rate: '97.5' });
  await post('theory-exam', { year: '2012', score: '78' });
  const plans = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', plan).executeTakeFirstOrThrow();
  await fillDeclarationSlots(app, user.userId, d.id, plans);
  const step2 = (await agent.get('/me/declaration?step=2')).body;
  t.notMatch(step2, /公开课：|教育理论考试成绩：|学时不足/, 'nothing of the series missing in step 2');
  try {
    await submitThroughUi(agent, d.id);
  } catch (e) {
    t.fail(`${(e as Error).message}: ${[...step2.matchAll(/<tr><td>([^<]*)<\/td><td><a/g)].map((m) => m[1]!.replace(/<[^>]+>/g, '').trim()).join(' | ')}`);
    return;
  }
  await approveByCommittee(app, d.id);

  const res = await agent.get(`/me/records/${d.id}/pdf`);
  t.equal(res.statusCode, 200, 'the PDF');
  t.equal(res.headers['content-type'], 'application/pdf');
  const text = ws(pdftotext(keepPdf(t, 'teacher-form.pdf', res.rawPayload)));
  // Headings by their last occurrence: the contents page names the common tables first.
  const at = (s: string) => text.lastIndexOf(ws(s));
  t.ok(at('表四完成主要专业技术工作情况') >= 0, '表四 printed');
  const table = at('表四公开课情况（任现职以来）');
  t.ok(table > at('表四完成主要专业技术工作情况'), '公开课: its own table after 表四');
  t.ok(at('表四学生满意度') > table && at('表四学生满意度') < at('表五承担课题（项目）情况'), '学生满意度 next, before 表五');
  t.ok(table < at('一元二次方程的解法') && at('一元二次方程的解法') < at('勾股定理的证明') && at('勾股定理的证明') < at('表四学生满意度'), 'both 公开课 rows, in the applicant’s order, inside the table');
  for (const cell of ['授课时间', '课题', '公开课级别', '昆明市教育科学研究院', '市（州）级', '初二（3）班']) t.ok(text.indexOf(ws(cell), table) > table, `${cell} in the 公开课 table`);
  t.ok(at('表九教育理论考试成绩') > at('表九参加继续教育和国际学术活动情况'), '教育理论考试成绩 after 表九');
  t.ok(text.indexOf('合格', at('表九教育理论考试成绩')) > 0, '78 ≥ 70: 合格');
  t.ok(at('表二拟评审类型') > 0 && at('正常晋级') > at('表二拟评审类型'), '拟评审类型 printed');
  t.equal(at('教学情况'), -1, 'no 高校 table');
});

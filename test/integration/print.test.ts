/**
 * 打印申报表 (PDF) and /verify. The PDF tests need an installed Chromium (as the e2e tests:
 * skipped locally without one, failed with E2E_REQUIRED=1) and poppler-utils (pdftotext,
 * pdffonts): test/helpers/print.ts. PRINT_TEST_KEEP=<dir> keeps the PDFs for looking at them.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { makeApp, Agent, login, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi, approveByCommittee, type World } from '../helpers/world.js';
import { needsPrinter, printerConfig, tool, pdftotext, ws } from '../helpers/print.js';
import { SECTIONS } from '../../src/domain/sections.js';
import { newCode } from '../../src/print/routes.js';

async function staffAgent(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username} failed`);
  return a;
}


function text(n: number, seed: string): string {
  const base = `${seed}坚持以病人为中心，规范诊疗流程，开展新技术新项目，指导下级医师，参与科室质量管理与教学查房，完成临床、教学和科研任务。`;
  let s = '';
  while ([...s].length < n) s += base;
  return [...s].slice(0, n).join('');
}

/** One row of each section with plausible values; `mark` goes into a printed text field. */
function rowOf(key: string, i: number, mark: string): Record<string, string> {
  const y = 1990 + i;
  const d = (m: number) => `${y}-${String(m).padStart(2, '0')}-01`;
  switch (key) {
    case 'titles': return { cert_no: `ZS${y}${i}`, specialty: '临床医学', title_name: '卫生技术 - 医师', acquisition: '申报评审', committee: '昆明市卫生技术高级职称评审委员会', certified_on: d(9), approval_doc: `昆人社〔${y}〕${i}号`, employed: '否' };
    case 'educations': return { education: '大学本科', degree: '学士', school: `${mark}医学院`, major: '临床医学', start: d(9), end: d(7), study_form: '全日制', cert_no: `1067${y}${i}` };
    case 'study': return { school: `${mark}昆明医科大学第${i}学院`, major: '临床医学', start: d(3), end: d(7), witness: '王建国', duty: '无' };
    case 'work': return { unit_name: `${mark}昆明市第一人民医院心血管内科第${i}病区`, specialty: '临床医学', start: d(1), end: d(12), witness: '李娜', duty: '主治医师' };
    case 'summaries': return { year: String(y), content: text(2000 - [...mark].length, `${y}年度：`) + mark };
    case 'main-works': return { start: d(1), end: d(12), duty: '负责人', content: mark + text(500 - [...mark].length, '主要工作：'), effect: text(200, '成效：') };
    case 'projects': return { start: d(1), end: d(12), name: `${mark}急性胸痛规范化诊疗体系研究第${i}期`, source: '省部级', role: '主持', status: '已结题' };
    case 'ip': return { name: `${mark}一种便携式心电监测装置${i}`, number: `ZL${y}1000${i}`, category: '实用新型专利', approved_on: d(6), rank: '1' };
    case 'awards': return { name: `${mark}云南省卫生科技成果奖${i}`, type: '科技奖励', grade: '二等奖', level: '省级', approved_on: d(11), authority: '云南省卫生健康委员会', rank: '2', task: text(200, '承担任务：') };
    case 'books': return { title: `${mark}心血管介入治疗学第${i}卷`, published_on: d(5), type: '专著', level: '国家级', part: '第二章', publisher: '人民卫生出版社' };
    case 'papers': return { title: `${mark}急性心肌梗死患者介入治疗后的康复管理研究之${i}`, journal: '中国实用医刊', published_on: d(5), issn: `ISSN 1674-47${String(i).padStart(2, '0')}`, type: '期刊论文', level: '核心期刊', part: '第一作者' };
    case 'ce': return { start: d(3), end: d(4), name: `${mark}心血管介入培训班${i}`, organizer: '中华医学会', place: '北京', content: text(200, '学习内容：'), hours: '40' };
    case 'assessments': return { year: String(y), grade: '合格', leader: `${mark}李娜` };
    default: throw new Error(key);
  }
}

/** Sections whose every row prints (titles/educations print one line of 表一 only). */
const PRINTED = ['study', 'work', 'summaries', 'main-works', 'projects', 'ip', 'awards', 'books', 'papers', 'ce', 'assessments'];
const markOf = (key: string) => `末行${SECTIONS.findIndex((s) => s.key === key) + 1}号`;

async function addRows(app: TestApp, userId: number, rows: (key: string, i: number) => Record<string, string> | null) {
  const stamp = app.clock.now().toISOString();
  for (const s of SECTIONS) {
    for (let i = 1; i <= 30; i++) {
      const data = rows(s.key, i);
      if (!data) continue;
      await app.ctx.db.insertInto('section_rows').values({ user_id: userId, section: s.key, position: 1000 + i, data: JSON.stringify(data), created_at: stamp, updated_at: stamp }).execute();
    }
  }
}

/** Declared, submitted and approved by the committee (status/stage set directly). */
async function approvedDeclaration(app: TestApp, w: World, o: { name?: string; seq?: string; phone?: string; before?: (userId: number) => Promise<void>; approve?: boolean } = {}) {
  const a = await readyApplicant(app, w.unit, o);
  await o.before?.(a.userId);
  const agent = new Agent(app);
  await login(agent, 'applicant', a.phone);
  const id = await declareThroughUi(app, agent, w, a.userId);
  await submitThroughUi(agent, id);
  if (o.approve !== false) await approve(app, id);
  return { id, agent, user: a };
}

const approve = approveByCommittee;

let tmp: string | null = null;
/** Writes a PDF to PRINT_TEST_KEEP (kept) or to a temp dir removed when the file's tests end. */
function keep(name: string, pdf: Buffer): string {
  let dir = process.env.PRINT_TEST_KEEP;
  if (!dir) {
    if (!tmp) {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-print-test-'));
      const d = tmp;
      t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
    }
    dir = tmp;
  }
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, pdf);
  return file;
}

const pdffonts = (file: string) => execFileSync('pdffonts', [file]).toString('utf8');

t.test('print gate, scope and /verify (no browser needed)', async (t) => {
  const app = await makeApp(printerConfig());
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, agent } = await approvedDeclaration(app, w, { approve: false });

  // Under review: no PDF, the preview is offered.
  let r = await agent.get(`/me/records/${id}/pdf`);
  t.equal(r.statusCode, 409);
  t.match(r.body, '当前状态不能打印申报表');
  t.match(r.body, `href="/me/records/${id}/form"`, 'links to the preview');
  t.notMatch((await agent.get(`/me/records/${id}/form`)).body, '打印申报表</', 'no print link before approval');
  t.match((await agent.get(`/me/records/${id}/form`)).body, '预览', 'the preview is marked 预览');
  const sup = await staffAgent(app, w.staff.supervisor);
  await app.ctx.db.updateTable('declarations').set({ stage: 1 }).where('id', '=', id).execute();
  r = await sup.get(`/org/reviews/${id}/pdf`);
  t.equal(r.statusCode, 409, 'staff too');
  t.match(r.body, '当前状态不能打印申报表');
  t.match(r.body, `href="/org/reviews/${id}"`);

  // Someone else's declaration: not found, whatever its state.
  await approve(app, id);
  const other = await readyApplicant(app, w.unit, { name: '王芳', seq: '342', phone: '13800138001' });
  const wang = new Agent(app);
  await login(wang, 'applicant', other.phone);
  t.equal((await wang.get(`/me/records/${id}/pdf`)).statusCode, 404, 'another applicant: 404');
  const county = await staffAgent(app, w.staff.county);
  t.equal((await county.get(`/org/reviews/${id}/pdf`)).statusCode, 404, 'staff out of scope: 404');
  t.equal((await agent.get('/me/records/abc/pdf')).statusCode, 404);
  t.match((await agent.get(`/me/records/${id}/form`)).body, `href="/me/records/${id}/pdf"`, 'print link once approved');

  // /verify: public, masked name, unknown code → 404.
  const v = await app.ctx.db.selectFrom('declarations as d').innerJoin('declaration_versions as v', 'v.id', 'd.version_id').select(['v.id', 'v.sha256']).where('d.id', '=', id).executeTakeFirstOrThrow();
  const code = newCode();
  await app.ctx.db.insertInto('print_records').values({ code, declaration_id: id, version_id: v.id, sha256: v.sha256, printed_by: null, printed_at: app.clock.now().toISOString() }).execute();
  const anon = new Agent(app);
  r = await anon.get(`/verify/${code.toLowerCase().replace(/(.{4})(?!$)/g, '$1-')}`);
  t.equal(r.statusCode, 200, 'lower case with dashes is accepted');
  t.match(r.body, '张*');
  t.notMatch(r.body, '张伟', 'never the full name');
  t.match(r.body, '昆明市第一人民医院');
  t.match(r.body, '副主任医师');
  t.match(r.body, '第 1 版');
  t.match(r.body, `${v.sha256.slice(0, 16)}…`);
  t.match(r.body, '2026-06-15 10:00', 'print time in China time');
  t.match((await anon.get('/verify')).body, 'name="code"', 'a form to type the code');
  r = await anon.get(`/verify?code=${encodeURIComponent(` ${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8).toLowerCase()} `)}`);
  t.equal(r.headers.location, `/verify/${code}`, 'the typed code is normalised');
  for (const bad of ['ZZZZZZZZZZZZ', 'nonsense', '0'.repeat(60)]) {
    r = await anon.get(`/verify/${bad}`);
    t.equal(r.statusCode, 404, `unknown code ${bad.slice(0, 12)}`);
    t.match(r.body, '未找到该验证码对应的申报表');
  }
});

t.test('no browser installed: 503, the rest works', async (t) => {
  const app = await makeApp({ chromiumPath: '/nonexistent/chromium' });
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, agent } = await approvedDeclaration(app, w);
  const r = await agent.get(`/me/records/${id}/pdf`);
  t.equal(r.statusCode, 503);
  t.match(r.body, '打印申报表需要在服务器上安装 Chromium/Chrome/Edge');
  t.equal((await agent.get(`/me/records/${id}/form`)).statusCode, 200);
});

t.test('heavy declaration: every table, every last row, embedded CJK font, page numbers, verification', async (t) => {
  if (!needsPrinter(t)) return;
  const app = await makeApp(printerConfig());
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, agent } = await approvedDeclaration(app, w, {
    before: (uid) => addRows(app, uid, (key, i) => rowOf(key, i, i === 30 ? markOf(key) : '')),
  });
  const started = Date.now();
  const res = await agent.get(`/me/records/${id}/pdf`);
  t.equal(res.statusCode, 200, res.statusCode === 200 ? 'PDF' : res.body.slice(0, 400));
  t.equal(res.headers['content-type'], 'application/pdf');
  t.equal(res.headers['cache-control'], 'no-store');
  t.match(String(res.headers['content-disposition']), `filename*=UTF-8''${encodeURIComponent('申报评审表-张伟.pdf')}`);
  const pdf = res.rawPayload;
  t.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  const file = keep('heavy.pdf', pdf);
  t.comment(`heavy PDF: ${(pdf.length / 1024).toFixed(0)} KB in ${Date.now() - started} ms → ${file}`);

  const raw = pdftotext(file);
  const pages = raw.split('\f').filter((p) => p.trim());
  const flat = ws(raw);
  t.ok(pages.length > 20, `${pages.length} pages`);
  const toc = pages.findIndex((p) => ws(p).includes('目录'));
  const headings = [
    '表一基本情况', '表二主要学习经历', '表二主要工作经历', '表三专业技术工作总结', '表四完成主要专业技术工作情况', '表五承担课题（项目）情况',
    '表六获得专利（知识产权）情况', '表七获得表彰奖励情况', '表八撰写著作情况', '表八撰写论文情况', '表九参加继续教育和国际学术活动情况', '表十个人承诺书',
    '表十一年度考核情况（近五年）', '表十二基层单位意见', '表十三初级职称评审委员会评审记录', '表十四中级职称评审委员会评审记录',
    '表十五副高级职称评审委员会评审记录', '表十六正高级职称评审委员会评审记录', '表十七审核推荐意见和评审结果确认意见',
  ];
  for (const h of headings) t.ok(pages.some((p, i) => i !== toc && ws(p).includes(h)), `heading ${h} printed (outside the table of contents)`);
  for (const key of PRINTED) t.ok(flat.includes(markOf(key)), `last row of ${key} printed (${markOf(key)})`);
  // The 2000-character summary flows over pages whole: its last sentence and the marker after it.
  const summary = rowOf('summaries', 30, markOf('summaries')).content!;
  t.ok(flat.includes(ws(summary.slice(-60))), 'the end of the last 2000-character summary');
  t.ok(flat.includes(ws(summary.slice(0, 40))), 'the start of it');
  // Table headers repeat on every page a table continues on.
  const headerPages = pages.filter((p) => ws(p).includes('序号')).length;
  t.ok(headerPages > 13, `column headers on ${headerPages} pages (more than the 10 row tables: repeated)`);
  // 第 N 页 共 M 页 and the verification code on every page.
  const rec = await app.ctx.db.selectFrom('print_records').selectAll().where('declaration_id', '=', id).executeTakeFirstOrThrow();
  const shown = rec.code.match(/.{4}/g)!.join('-');
  pages.forEach((p, i) => {
    if (!ws(p).includes(`第${i + 1}页共${pages.length}页`) || !p.includes(shown)) t.fail(`page ${i + 1}: no page number or code`);
  });
  t.pass('every page: 第 N 页 共 M 页 and the code');
  t.notMatch(flat, '预览·非正式申报表', 'not marked as a preview');

  const fonts = pdffonts(file);
  t.comment(fonts);
  const lines = fonts.split('\n').slice(2).filter(Boolean);
  const cjk = lines.filter((l) => /NotoSerifSC/.test(l));
  t.ok(cjk.length >= 1, 'the packaged Noto Serif SC is in the PDF');
  for (const l of cjk) {
    t.match(l, /CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/, `embedded as a subset CID TrueType font: ${l.split(/\s+/)[0]}`);
  }
  t.notOk(lines.some((l) => /Type 3/.test(l)), 'no Type 3 fonts');

  // The record: the version printed, its hash; /verify shows it.
  const v = await app.ctx.db.selectFrom('declaration_versions').select(['id', 'sha256']).where('declaration_id', '=', id).executeTakeFirstOrThrow();
  t.equal(rec.version_id, v.id);
  t.equal(rec.sha256, v.sha256);
  t.match(rec.code, /^[0-9A-HJKMNP-TV-Z]{12}$/);
  const verify = await new Agent(app).get(`/verify/${rec.code}`);
  t.equal(verify.statusCode, 200);
  t.match(verify.body, '张*');

  // Staff in scope print the same form: rendered once and kept (issue #18), the same PDF and code.
  const com = await staffAgent(app, w.staff.committee);
  const r2 = await com.get(`/org/reviews/${id}/pdf`);
  t.equal(r2.statusCode, 200);
  t.ok(r2.rawPayload.equals(pdf), 'the stored PDF, byte for byte');
  t.equal((await app.ctx.db.selectFrom('print_records').select('code').where('declaration_id', '=', id).execute()).length, 1, 'one code');
  t.equal((await app.ctx.db.selectFrom('pdf_cache').select('code').where('declaration_id', '=', id).execute()).length, 1, 'one cached form');
  t.match((await com.get(`/org/reviews/${id}`)).body, `href="/org/reviews/${id}/pdf"`);

  // The QR code opens /verify/<code> (checked when zbarimg is installed: apt-get install zbar-tools).
  if (tool('zbarimg', '--version')) {
    execFileSync('pdftoppm', ['-png', '-r', '200', '-f', '1', '-l', '1', '-singlefile', file, file.replace(/\.pdf$/, '-qr')]);
    const qr = execFileSync('zbarimg', ['-q', '--raw', file.replace(/\.pdf$/, '-qr.png')], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    t.equal(qr, `${app.ctx.config.publicUrl}/verify/${rec.code}`, 'QR code → /verify/<code>');
  }

  // Look at it: page 1 and 2 as PNG (kept with PRINT_TEST_KEEP).
  if (process.env.PRINT_TEST_KEEP) {
    execFileSync('pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '2', file, path.join(process.env.PRINT_TEST_KEEP, 'heavy')]);
    execFileSync('pdftoppm', ['-png', '-r', '50', '-f', '4', '-l', '12', file, path.join(process.env.PRINT_TEST_KEEP, 'heavy')]);
  }
});

t.test('user text cannot make the printer fetch anything; it prints as text', async (t) => {
  if (!needsPrinter(t)) return;
  const hits: string[] = [];
  const listener = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end('x');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => listener.close(() => resolve())));
  const port = (listener.address() as AddressInfo).port;
  const img = `<img src="http://127.0.0.1:${port}/x">`;
  const link = '<link rel=stylesheet href=file:///etc/passwd>';
  const css = `<style>@import url(http://127.0.0.1:${port}/css);</style>`;

  // One printer slot and no queue: a second PDF at the same time is refused (below).
  const app = await makeApp({ ...printerConfig(), pdfConcurrency: 1, pdfQueueMax: 0 });
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { id, agent } = await approvedDeclaration(app, w, {
    before: (uid) => addRows(app, uid, (key, i): Record<string, string> | null => (key === 'papers' && i === 1 ? { ...rowOf('papers', 1, ''), title: img, journal: link } : key === 'summaries' && i === 1 ? { year: '2020', content: `${css}\n${img}` } : null)),
  });
  const res = await agent.get(`/me/records/${id}/pdf`);
  t.equal(res.statusCode, 200);
  const file = keep('injection.pdf', res.rawPayload);
  t.same(hits, [], 'no request reached the local listener');
  const flat = ws(pdftotext(file));
  t.ok(flat.includes(ws(img)), 'the <img> prints literally');
  t.ok(flat.includes(ws(link)), 'the <link> prints literally');
  t.ok(flat.includes(ws(css)), 'the <style> prints literally');

  // Printed again: the kept PDF (same code), not a new render.
  const code1 = (await app.ctx.db.selectFrom('print_records').select('code').where('declaration_id', '=', id).executeTakeFirstOrThrow()).code;
  const again = await agent.get(`/me/records/${id}/pdf`);
  t.ok(again.rawPayload.equals(res.rawPayload), 'the same bytes');
  t.equal((await app.ctx.db.selectFrom('print_records').select('code').where('declaration_id', '=', id).execute()).length, 1, 'no new code');
  const cached = await app.ctx.db.selectFrom('pdf_cache').selectAll().where('declaration_id', '=', id).execute();
  t.equal(cached.length, 1);
  t.equal(cached[0]!.code, code1);
  t.ok(await app.ctx.blobs.has(cached[0]!.sha256), 'its bytes are in the blob store');

  // What prints changes (here the 身份证号 on 表一): a new render with a new code; the old one is dropped.
  const owner = await app.ctx.db.selectFrom('declarations').select('user_id').where('id', '=', id).executeTakeFirstOrThrow();
  await app.ctx.db.updateTable('users').set({ id_enc: app.ctx.secrets.encrypt('530102199001011239') }).where('id', '=', owner.user_id).execute();
  const changed = await agent.get(`/me/records/${id}/pdf`);
  t.equal(changed.statusCode, 200);
  t.notOk(changed.rawPayload.equals(res.rawPayload), 'a new PDF');
  t.match(ws(pdftotext(keep('injection-2.pdf', changed.rawPayload))), '530102199001011239', 'with what changed');
  const now = await app.ctx.db.selectFrom('pdf_cache').selectAll().where('declaration_id', '=', id).execute();
  t.equal(now.length, 1, 'one cached form per declaration');
  t.not(now[0]!.code, code1, 'under a new code');
  t.notOk(await app.ctx.blobs.has(cached[0]!.sha256), 'the superseded bytes are removed');
  t.equal((await new Agent(app).get(`/verify/${code1}`)).statusCode, 200, 'the old paper still verifies');

  // Busy: the queue is full → 503 with Retry-After, no print record (nothing kept to serve).
  await app.ctx.db.deleteFrom('pdf_cache').execute();
  const before = (await app.ctx.db.selectFrom('print_records').select('code').execute()).length;
  const both = await Promise.all([agent.get(`/me/records/${id}/pdf`), agent.get(`/me/records/${id}/pdf`)]);
  t.same(both.map((r) => r.statusCode).sort(), [200, 503], 'one printed, one refused');
  const busy = both.find((r) => r.statusCode === 503)!;
  t.equal(busy.headers['retry-after'], '5');
  t.match(busy.body, '请稍后再试');
  t.equal((await app.ctx.db.selectFrom('print_records').select('code').execute()).length, before + 1);
});

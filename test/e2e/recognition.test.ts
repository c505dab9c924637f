/**
 * 初定 in real Chromium (issue #14): a 本科 graduate of a non-public 五华区 company, hired a year
 * ago, opens 职称认定 in July (an open window), sees 助理级 proposed and explained, saves, uploads
 * the four files of Q14 and sends it to the unit; the unit 上报s and the 五华区 HR bureau approves
 * in its own browser; the applicant prints the 认定表 (助理级 after the 见习 year is 考核认定): before
 * approval a PDF watermarked 预览, after it (read back with pdftotext) no 预览, the certificate
 * number and verification code; the certificate verifies at /verify-cert.
 * Pages are used with JavaScript off: every form works without it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { PASSWORD, TestClock, createApplicant, idNumber, type TestApp } from '../helpers/app.js';
import { kunming, makePng } from '../helpers/world.js';
import { POPPLER, pdftotext, ws } from '../helpers/print.js';
import { REC_SLOTS } from '../../src/domain/recognition.js';
import { bodyText, browserOrSkip, fill, plainClick, startServer } from './helpers.js';

const browser = await browserOrSkip(t);

if (browser) {
  const clock = new TestClock(Date.parse('2026-07-15T02:00:00Z'));
  const server = await startServer({ now: clock.now });
  t.teardown(() => server.close());
  const app: TestApp = { ...server.built, clock, dir: server.dir, close: () => server.close() };
  const w = await kunming(app, { nature: 'non_public', unitLevel: 'county' });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-e2e-rec-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

  t.test('a 本科 graduate recognised at 助理级 by the county HR bureau; 认定表 PDF; /verify-cert', { timeout: 180_000 }, async (t) => {
    const grad = await createApplicant(app, { name: '王芳', id: idNumber('20000315', '128'), phone: '13900139001', unitOrgId: w.unit });
    const stamp = clock.now().toISOString();
    for (const [section, data] of [
      ['educations', { education: '大学本科', degree: '学士', school: '云南大学', major: '工学 - 计算机类 - 软件工程', start: '2021-09-01', end: '2025-06-30', study_form: '全日制' }],
      ['work', { unit_name: '昆明云岭软件有限公司', specialty: '软件开发', start: '2025-07-01', end: '至今', witness: '李娜', duty: '工程师' }],
    ] as const) {
      await app.ctx.db.insertInto('section_rows').values({ user_id: grad.userId, section, position: 1, data: JSON.stringify(data), created_at: stamp, updated_at: stamp }).execute();
    }
    const title = await app.ctx.db.selectFrom('titles as t').innerJoin('series as s', 's.code', 't.series_code').select(['t.name', 's.name as series']).where('t.level', '=', 'assistant').orderBy('s.sort').orderBy('t.sort').executeTakeFirstOrThrow();
    const titleLabel = `${title.series} - ${title.name}`;

    async function session(account: string, type: 'applicant' | 'staff') {
      const context = await browser!.createBrowserContext();
      t.teardown(() => context.close());
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await page.setJavaScriptEnabled(false);
      await page.goto(`${server.url}/login${type === 'staff' ? '?type=staff' : ''}`, { waitUntil: 'load' });
      await fill(page, '#f-account', account);
      await fill(page, '#f-password', PASSWORD);
      await plainClick(page, 'form[action="/login"] button[type="submit"]');
      return page;
    }

    // The applicant: proposal, form, files, 提交单位.
    const me = await session(grad.phone, 'applicant');
    await me.goto(`${server.url}/me/recognition`, { waitUntil: 'load' });
    let text = await bodyText(me);
    t.match(text, '建议认定级别：助理级');
    t.match(text, '五华区人力资源和社会保障局');
    t.match(text, '当前在申报时间内');
    t.equal(await me.$eval('#f-level', (el) => (el as HTMLSelectElement).value), 'assistant', '助理级 preselected');
    t.equal(await me.$eval('#f-hired_on', (el) => (el as HTMLInputElement).value), '2025-07-01', '认定时间 from the current job');
    await me.select('#f-title_name', titleLabel);
    await fill(me, '#f-specialty', '软件工程');
    await me.$eval('#f-filing_date', (el) => { (el as HTMLInputElement).value = '2026-06-20'; });
    const invalid = await me.$$eval('form[action="/me/recognition"] :invalid', (els) => els.map((e) => (e as HTMLInputElement).name + '=' + (e as HTMLInputElement).value));
    t.same(invalid, [], 'the form is valid in the browser');
    await plainClick(me, 'form[action="/me/recognition"] button[type="submit"]', /^\/me\/recognition\/\d+$/);
    const recId = Number(new URL(me.url()).pathname.split('/').pop());
    for (const [i, s] of REC_SLOTS.entries()) {
      const file = path.join(tmp, `${s.key}.png`);
      fs.writeFileSync(file, makePng(240, 160, i + 10));
      const input = await me.$(`#att-recognition-${recId}-${s.key} input[type=file]`);
      await (input as any).uploadFile(file);
      await plainClick(me, `#att-recognition-${recId}-${s.key} button[type="submit"]`);
      t.match(await bodyText(me), '上传成功', `uploaded ${s.label}`);
    }
    await plainClick(me, `form[action="/me/recognition/${recId}/send"] button[type="submit"]`);
    t.match(await bodyText(me), '待单位审核上报');

    // Before approval the 认定表 prints as a preview.
    const pdfOf = async (name: string) => {
      const cookies = (await me.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      const res = await fetch(`${server.url}/me/recognition/${recId}/pdf`, { headers: { cookie: cookies } });
      t.equal(res.status, 200, `${name}: 200`);
      t.equal(res.headers.get('content-type'), 'application/pdf');
      const pdf = Buffer.from(await res.arrayBuffer());
      t.equal(pdf.subarray(0, 5).toString(), '%PDF-');
      const file = path.join(tmp, `${name}.pdf`);
      fs.writeFileSync(file, pdf);
      return file;
    };
    const preview = await pdfOf('preview');
    if (POPPLER) {
      const pt = ws(pdftotext(preview));
      t.match(pt, '专业技术资格认定表');
      t.match(pt, '预览', 'before approval: watermarked 预览');
    }

    // The unit 上报s with its operator.
    const unit = await session(w.staff.unit, 'staff');
    await unit.goto(`${server.url}/org/recognitions/${recId}`, { waitUntil: 'load' });
    await fill(unit, '#f-operator_name', '李娜');
    await fill(unit, '#f-operator_phone', '0871-63638888');
    await plainClick(unit, `form[action="/org/recognitions/${recId}/submit"] button[type="submit"]`);
    t.match(await bodyText(unit), '已上报至五华区人力资源和社会保障局');

    // The county HR bureau: queue with its count, then 认定通过.
    const hrb = await session(w.staff.county, 'staff');
    await hrb.goto(`${server.url}/org/recognitions`, { waitUntil: 'load' });
    text = await bodyText(hrb);
    t.match(text, '待审核：1 人');
    t.match(text, '王芳');
    await plainClick(hrb, `a[href="/org/recognitions/${recId}"]`);
    await hrb.click('input[name="action"][value="approve"]');
    await plainClick(hrb, `form[action="/org/recognitions/${recId}/decide"] button[type="submit"]`);
    text = await bodyText(hrb);
    t.match(text, '认定通过，证书编号：');
    const rec = await app.ctx.db.selectFrom('recognitions').selectAll().where('id', '=', recId).executeTakeFirstOrThrow();
    t.equal(rec.status, 'approved');
    t.equal(rec.decider_org_id, w.countyHrb);

    // The applicant prints the 认定表: the PDF through the app's printer.
    await me.goto(`${server.url}/me/recognition/${recId}`, { waitUntil: 'load' });
    await plainClick(me, `a[href="/me/recognition/${recId}/print"]`);
    t.match(await bodyText(me), '专业技术资格认定表');
    const file = await pdfOf('approved');
    if (POPPLER) {
      const pt = ws(pdftotext(file));
      t.match(pt, '专业技术资格认定表');
      t.match(pt, '王芳');
      t.match(pt, '助理级');
      t.match(pt, rec.cert_number!);
      t.match(pt, rec.verify_code.match(/.{4}/g)!.join('-'));
      t.notMatch(pt, '预览', 'approved: no 预览 watermark');
    } else t.comment('pdftotext not installed: PDF text not checked');

    // The certificate verifies in a browser without signing in.
    const anon = await (await browser!.createBrowserContext()).newPage();
    await anon.setJavaScriptEnabled(false);
    await anon.goto(`${server.url}/verify-cert/${rec.verify_code}`, { waitUntil: 'load' });
    text = await bodyText(anon);
    t.match(text, '证书核验');
    t.match(text, rec.cert_number!);
    t.match(text, '五华区人力资源和社会保障局');
    t.match(text, '王*');
    await anon.browserContext().close();
  });
}

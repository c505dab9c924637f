/**
 * A dispatch worker's declaration (派遣人员, seed 002 Q10, Q18) in real Chromium: the applicant
 * (profile with 用工单位, the 派遣协议 uploaded) submits through the pages; then the dispatch
 * company and the employer each write their 表十二, verify, publicise, complete the publicity
 * after the server clock has moved past it and recommend; the county HRB sees both 表十二 on the
 * form. Kept lean: the unit-stage screens themselves are covered by chain.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { ElementHandle, Page } from 'puppeteer-core';
import { Agent, createStaff, login as injectLogin, PASSWORD, TestClock, type TestApp } from '../helpers/app.js';
import { declareThroughUi, kunming, makePng, org, readyApplicant, submitThroughUi, uscc } from '../helpers/world.js';
import { storeFile, attach } from '../../src/features/files/service.js';
import { bodyText, boosted, browserOrSkip, fill, screenshot, startServer, watchPage } from './helpers.js';

class LiveClock extends TestClock {
  private readonly began = Date.now();
  override now = () => new Date(this.t + (Date.now() - this.began));
  setNow(ms: number) {
    this.t = ms - (Date.now() - this.began);
  }
}

const browser = await browserOrSkip(t);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-e2e-dispatch-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const pledge = path.join(tmp, '诚信承诺书.png');
const report = path.join(tmp, '公示情况说明.png');
fs.writeFileSync(pledge, makePng(120, 160, 3));
fs.writeFileSync(report, makePng(120, 160, 4));

async function upload(page: Page, selector: string, file: string) {
  const input = (await page.$(selector)) as ElementHandle<HTMLInputElement> | null;
  if (!input) throw new Error(`no file input ${selector}`);
  await input.uploadFile(file);
}

if (browser) {
  t.test('a dispatch worker\'s declaration passes the dispatch company, then the employer', { timeout: 240_000 }, async (t) => {
    const clock = new LiveClock(Date.parse('2026-06-15T02:00:00Z'));
    const server = await startServer({ now: clock.now });
    t.teardown(() => server.close());
    const app: TestApp = { ...server.built, clock, dir: server.dir, close: () => server.close() };
    const db = server.built.ctx.db;
    const w = await kunming(app);
    const company = await org(app, {
      kind: 'unit', name: '云南人力派遣服务有限公司', uscc: uscc(7), phone: '0871-65550000', address: '昆明市五华区人民中路1号', nature: 'non_public', unit_level: 'county', region_code: '530102',
    });
    await createStaff(app, { username: 'pq_zhengjie', name: '郑洁', orgId: company, roles: '' });

    // 王芳 works at the hospital through the dispatch company; she declares through the pages (inject).
    const wang = await readyApplicant(app, company, { name: '王芳', seq: '522', phone: '13800138522' });
    const row = await db.selectFrom('profiles').select('data').where('user_id', '=', wang.userId).executeTakeFirstOrThrow();
    await db.updateTable('profiles').set({ data: JSON.stringify({ ...JSON.parse(row.data), dispatched: '是', employer_org_id: String(w.unit) }) }).where('user_id', '=', wang.userId).execute();
    const agent = new Agent(app);
    await injectLogin(agent, 'applicant', wang.phone);
    const id = await declareThroughUi(app, agent, w, wang.userId);
    const f = await storeFile(app.ctx, wang.userId, { filename: '派遣协议.png', buffer: makePng(100, 140, 77) }, 'doc');
    if (!f.ok) throw new Error(f.error);
    await attach(app.ctx, wang.userId, 'declaration', id, 'dispatch_agreement', f.fileId);
    await submitThroughUi(agent, id);
    const stage = async () => (await db.selectFrom('declarations').select('stage').where('id', '=', id).executeTakeFirstOrThrow()).stage;

    const ctx = await browser.createBrowserContext();
    t.teardown(() => ctx.close());
    const page = await ctx.newPage();
    page.setDefaultTimeout(8_000);
    const problems = watchPage(page, server.url);
    let step = 'start';

    const logIn = async (account: string) => {
      await page.goto(`${server.url}/login?type=staff`, { waitUntil: 'load' });
      await fill(page, '#f-account', account);
      await fill(page, '#f-password', PASSWORD);
      await boosted(page, 'form[action="/login"] button[type="submit"]', '/org');
    };

    /** One unit's stage in the browser: 表十二, 核验通过, 公示 (clock moved past it), 完成公示, 推荐上报. */
    const unitStage = async (account: string, evaluation: string) => {
      step = `${account}: 基层单位意见`;
      await logIn(account);
      await page.goto(`${server.url}/org/unit-stage/${id}`, { waitUntil: 'load' });
      await boosted(page, `#unit-stage a[href^="/org/unit-stage/${id}/opinion"]`, `/org/unit-stage/${id}/opinion`);
      await fill(page, '#f-evaluation', evaluation);
      await fill(page, '#f-method', '单位推荐');
      await fill(page, '#f-scope', '单位推荐小组5人');
      const agree = await page.$$eval('#f-recommendation input[type="radio"]', (els) => els.find((e) => e.parentElement?.textContent?.trim() === '同意推荐')?.id ?? '');
      await page.click(`#${agree}`);
      await fill(page, '#f-formation', '经推荐小组讨论，同意5票。');
      await boosted(page, `form[action="/org/unit-stage/${id}/opinion"] .actions button[type="submit"]`, `/org/unit-stage/${id}`);
      step = `${account}: 核验通过`;
      await boosted(page, `form[action="/org/unit-stage/${id}/verify"] button[type="submit"]`, `/org/unit-stage/${id}`);
      t.match(await bodyText(page), /已于 .* 核验通过/, `${account}: verified`);
      step = `${account}: 申报公示`;
      await page.goto(`${server.url}/org/publicity/new`, { waitUntil: 'load' });
      await fill(page, '#f-title', `${account}职称申报公示`);
      await page.click(`#f-ids-${id}`);
      await boosted(page, 'form[action="/org/publicity"] > .actions button[type="submit"]', /^\/org\/publicity\/\d+$/);
      const pubUrl = new URL(page.url()).pathname;
      const end = /公示期\d{4}-\d\d-\d\d至(\d{4}-\d\d-\d\d)/.exec(await bodyText(page))?.[1];
      if (!end) throw new Error('no publicity end date');
      step = `${account}: 完成公示`;
      clock.setNow(Date.parse(`${end}T01:00:00Z`) + 86_400_000);
      await logIn(account);
      await page.goto(`${server.url}${pubUrl}`, { waitUntil: 'load' });
      await page.click(`input[name="result_${id}"][value="none"]`);
      await boosted(page, `form[action="${pubUrl}/complete"] button[type="submit"]`, pubUrl);
      t.match(await bodyText(page), '公示已完成，均无异议', `${account}: publicity completed`);
      step = `${account}: 推荐上报`;
      await page.goto(`${server.url}/org/recommend`, { waitUntil: 'load' });
      await page.click(`#f-ids-${id}`);
      await upload(page, '#f-pledge', pledge);
      await upload(page, '#f-report', report);
      await boosted(page, 'form[action^="/org/recommend"] > .actions button[type="submit"]', '/org/recommend');
      t.match(await bodyText(page), '已推荐上报1人', `${account}: recommended`);
    };

    try {
      await unitStage('pq_zhengjie', '该同志派驻期间遵守劳动纪律，派遣单位同意推荐。');
      t.equal(await stage(), 1, 'on to the employer (用工单位)');
      await page.deleteCookie(...(await page.cookies()));
      await unitStage(w.staff.unit, '该同志在我院心内科工作，业务能力突出，用工单位同意推荐。');
      t.equal(await stage(), 2, 'on to the county HRB');

      step = 'county HRB: the form';
      await page.deleteCookie(...(await page.cookies()));
      await logIn(w.staff.county);
      await page.goto(`${server.url}/org/reviews/${id}`, { waitUntil: 'load' });
      const text = await bodyText(page);
      const a = text.indexOf('基层单位意见（派遣单位）');
      const b = text.indexOf('基层单位意见（用工单位）');
      t.ok(a >= 0 && b > a, 'two 表十二, the dispatch company first');
      t.match(text.slice(a, b), '派遣单位同意推荐');
      t.match(text.slice(b), '用工单位同意推荐');
      t.same(problems.list, [], 'no JS errors, CSP violations or failed requests');
    } catch (err) {
      const shot = await screenshot(page, `dispatch-${step}`);
      t.fail(`failed at step "${step}": ${err instanceof Error ? err.message : String(err)}`, { url: page.url(), screenshot: shot, text: (await bodyText(page).catch(() => '')).slice(0, 1500) });
    }
  });
}

/**
 * 岗位设置与聘任 in real Chromium, JavaScript off (issue #15, seed 002 Q7(1)): the unit sets its
 * 副高级 posts to 1 and appoints 王芳 to it; at the 核验 of 张伟's 副高级 declaration the default
 * plan warns (no vacant post) and lets it through; a plan that blocks refuses the 核验.
 */
import t from 'tap';
import type { Page } from 'puppeteer-core';
import { PASSWORD, TestClock, createApplicant, idNumber, type TestApp } from '../helpers/app.js';
import { kunming, submittedDeclaration } from '../helpers/world.js';
import { OPINION } from '../helpers/unitstage.js';
import { bodyText, browserOrSkip, fill, plainClick, screenshot, startServer, watchPage } from './helpers.js';

const browser = await browserOrSkip(t);

if (browser) {
  t.test('no vacant post: warned by one plan, blocked by another', { timeout: 180_000 }, async (t) => {
    const clock = new TestClock(Date.parse('2026-06-15T02:00:00Z'));
    const server = await startServer({ now: clock.now });
    t.teardown(() => server.close());
    const app: TestApp = { ...server.built, clock, dir: server.dir, close: () => server.close() };
    const db = server.built.ctx.db;
    const w = await kunming(app);
    const { id } = await submittedDeclaration(app, w); // 张伟, 副高级
    await db.updateTable('declarations').set({ unit_opinion: JSON.stringify(OPINION) }).where('id', '=', id).execute();
    const wang = await createApplicant(app, { name: '王芳', id: idNumber('19800101', '412'), phone: '13900139001', unitOrgId: w.unit });

    const ctx = await browser.createBrowserContext();
    t.teardown(() => ctx.close());
    const page: Page = await ctx.newPage();
    page.setDefaultTimeout(8_000);
    await page.setJavaScriptEnabled(false);
    const problems = watchPage(page, server.url);
    let step = 'log in';
    try {
      await page.goto(`${server.url}/login?type=staff`, { waitUntil: 'load' });
      await fill(page, '#f-account', w.staff.unit);
      await fill(page, '#f-password', PASSWORD);
      await plainClick(page, 'form[action="/login"] button[type="submit"]', '/org');

      step = 'quota';
      await plainClick(page, 'nav.side a[href="/org/posts"]', '/org/posts');
      await fill(page, '#f-quota_senior_vice', '1');
      await plainClick(page, 'form[action="/org/posts/quotas"] button[type="submit"]', '/org/posts');
      t.match(await bodyText(page), '岗位数已保存');

      step = 'appointment';
      await plainClick(page, 'a[href="/org/posts/appointments/new"]', '/org/posts/appointments/new');
      await page.select('#f-user_id', String(wang.userId));
      await page.select('#f-level', 'senior_vice');
      await fill(page, '#f-start_date', '2020-03-01');
      await plainClick(page, 'form[action="/org/posts/appointments"] button[type="submit"]', '/org/posts');
      t.match(await bodyText(page), '已聘任“王芳”');
      t.match(await page.$eval('#post-senior_vice', (e) => (e as HTMLElement).innerText), '0（无空岗）');

      step = '核验, warn plan';
      await page.goto(`${server.url}/org/unit-stage/${id}`, { waitUntil: 'load' });
      t.match(await page.$eval('#vacancy', (e) => (e as HTMLElement).innerText), '本单位副高级专业技术岗位已满（岗位数1，现聘1人），无空余岗位，请核实');
      await plainClick(page, `form[action="/org/unit-stage/${id}/verify"] button[type="submit"]`, `/org/unit-stage/${id}`);
      t.match(await bodyText(page), '核验通过。提示：本单位副高级专业技术岗位已满');

      step = '核验, block plan';
      await db.updateTable('declarations').set({ unit_verified_at: null }).where('id', '=', id).execute();
      await db.updateTable('plans').set({ declare_rules: JSON.stringify({ post_vacancy: 'block' }) }).where('id', '=', w.plan).execute();
      await page.goto(`${server.url}/org/unit-stage/${id}`, { waitUntil: 'load' });
      t.match(await page.$eval('#vacancy', (e) => (e as HTMLElement).innerText), '按本评审计划的规定不能核验通过');
      t.equal(await page.$(`form[action="/org/unit-stage/${id}/verify"]`), null, 'no 核验通过 button');
      t.same(problems.list, [], 'no JS errors, CSP violations or failed requests');
    } catch (err) {
      const shot = await screenshot(page, 'quota');
      t.fail(`${step}: ${(err as Error).message}${shot ? ` (screenshot ${shot})` : ''}`);
    }
  });
}

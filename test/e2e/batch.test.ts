/**
 * 批量通过 in real Chromium (issue #19): the supervisor, JavaScript on, ticks 全选本页 (the rows
 * follow), unticks one row (全选本页 follows), types one opinion, confirms on the confirmation
 * page — all through htmx swaps; then the committee, JavaScript off, uses the plain 全选本页
 * checkbox the server expands to the page's rows. Any JS error, CSP violation or failed asset
 * request fails the run.
 */
import t from 'tap';
import type { Page } from 'puppeteer-core';
import { PASSWORD, TestClock, type TestApp } from '../helpers/app.js';
import { kunming, likeDeclaration, submittedDeclaration } from '../helpers/world.js';
import { bodyText, boosted, browserOrSkip, fill, plainClick, screenshot, startServer, watchPage } from './helpers.js';

const browser = await browserOrSkip(t);

if (browser) {
  t.test('批量通过: JavaScript on at the supervisor, off at the committee', { timeout: 150_000 }, async (t) => {
    const clock = new TestClock(Date.parse('2026-06-15T02:00:00Z'));
    const server = await startServer({ now: clock.now });
    t.teardown(() => server.close());
    const app: TestApp = { ...server.built, clock, dir: server.dir, close: () => server.close() };
    const db = server.built.ctx.db;
    const w = await kunming(app);
    const zhang = await submittedDeclaration(app, w, { name: '张伟', seq: '231', phone: '13800138000' });
    const wang = await likeDeclaration(app, zhang.id, '王芳', '242');
    const zhao = await likeDeclaration(app, zhang.id, '赵敏', '262');
    const ids = [zhang.id, wang.id, zhao.id];
    await db.updateTable('declarations').set({ stage: 1 }).where('id', 'in', ids).execute();
    const state = async (id: number) => db.selectFrom('declarations').select(['status', 'stage']).where('id', '=', id).executeTakeFirstOrThrow();

    const open = async (js: boolean) => {
      const ctx = await browser.createBrowserContext();
      t.teardown(() => ctx.close());
      const page = await ctx.newPage();
      page.setDefaultTimeout(8_000);
      await page.setJavaScriptEnabled(js);
      return { page, problems: watchPage(page, server.url) };
    };
    const logIn = async (page: Page, username: string, js: boolean) => {
      await page.goto(`${server.url}/login?type=staff`, { waitUntil: 'load' });
      await fill(page, '#f-account', username);
      await fill(page, '#f-password', PASSWORD);
      await (js ? boosted : plainClick)(page, 'form[action="/login"] button[type="submit"]', '/org');
    };
    const rowBox = (id: number) => `input[name="ids"][value="${id}"][form="batch"]`;
    const checked = (page: Page, sel: string) => page.$eval(sel, (e) => (e as HTMLInputElement).checked);

    let page: Page | null = null;
    let step = 'supervisor: log in';
    try {
      // ---------------------------------------------------------------- supervisor, JS on
      const sup = await open(true);
      page = sup.page;
      await logIn(page, w.staff.supervisor, true);
      await boosted(page, 'nav.side a[href="/org/reviews"]', '/org/reviews');
      step = 'supervisor: 全选本页';
      for (const id of ids) t.notOk(await checked(page, rowBox(id)), `row ${id} not ticked yet`);
      await page.click('input[data-check-all]');
      for (const id of ids) t.ok(await checked(page, rowBox(id)), `全选本页 ticks row ${id}`);
      await page.click(rowBox(wang.id));
      t.notOk(await checked(page, 'input[data-check-all]'), 'unticking a row unticks 全选本页');
      await fill(page, '#f-batch-opinion', '材料齐全，同意上报');

      step = 'supervisor: confirmation page';
      // The address bar keeps the list's URL (HX-Push-Url: false): a reload shows the list.
      await boosted(page, 'button[name="op"][value="approve"]', '/org/reviews');
      let text = await bodyText(page);
      t.match(text, '批量通过：请确认');
      t.match(text, '将通过以下 2 份申报');
      t.notMatch(text, '王芳', 'the unticked row is not in the batch');
      t.equal(await page.$eval('#f-opinion', (e) => (e as HTMLTextAreaElement).value), '材料齐全，同意上报', 'the opinion came along');
      t.same(await state(zhang.id), { status: 'reviewing', stage: 1 }, 'nothing done before confirming');

      step = 'supervisor: confirm';
      await boosted(page, 'form[action="/org/reviews/batch/confirm"] button[type="submit"]', '/org/reviews');
      text = await bodyText(page);
      t.match(text, '批量通过：已通过 2 份。');
      for (const id of [zhang.id, zhao.id]) t.same(await state(id), { status: 'reviewing', stage: 2 }, `${id} on to the committee`);
      t.same(await state(wang.id), { status: 'reviewing', stage: 1 }, '王芳 still waits');
      const events = await db.selectFrom('workflow_events').select(['declaration_id', 'opinion']).where('action', '=', 'approve').where('org_id', '=', w.supervisor).orderBy('declaration_id').execute();
      t.same(events, [{ declaration_id: zhang.id, opinion: '材料齐全，同意上报' }, { declaration_id: zhao.id, opinion: '材料齐全，同意上报' }], 'one event each');
      t.same(sup.problems.list, [], 'no page problems (supervisor)');

      // ---------------------------------------------------------------- committee, JS off
      step = 'committee: log in (no JS)';
      const com = await open(false);
      page = com.page;
      await logIn(page, w.staff.committee, false);
      await plainClick(page, 'nav.side a[href="/org/reviews"]', '/org/reviews');
      step = 'committee: 全选本页 without JS';
      await page.click('input[data-check-all]');
      for (const id of [zhang.id, zhao.id]) t.notOk(await checked(page, rowBox(id)), 'without JS the rows stay as they are');
      await plainClick(page, 'button[name="op"][value="approve"]', '/org/reviews/batch');
      text = await bodyText(page);
      t.match(text, '将通过以下 2 份申报', 'the server took every row of the page');
      await plainClick(page, 'form[action="/org/reviews/batch/confirm"] button[type="submit"]', '/org/reviews');
      t.match(await bodyText(page), '批量通过：已通过 2 份。');
      for (const id of [zhang.id, zhao.id]) t.equal((await state(id)).status, 'approved', `${id}: 电子材料审核通过`);
      t.same(com.problems.list, [], 'no page problems (committee)');
    } catch (err) {
      const shot = page ? await screenshot(page, `batch-${step}`) : null;
      t.fail(`failed at step "${step}": ${err instanceof Error ? err.message : String(err)}`, { screenshot: shot, text: page ? (await bodyText(page).catch(() => '')).slice(0, 1500) : '' });
    }
  });
}

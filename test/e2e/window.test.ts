/**
 * Issue #13 in real Chromium: a plan that closes at 17:00 (China time). 王芳 presses 申报 at
 * 17:00:30 and sees "申报流程开始!"; 张伟 has step 4 open, the server clock passes 17:01, he
 * presses 申报 and is told the channel closed at 17:00 — his declaration stays a draft. Any JS
 * error, CSP violation or failed asset request fails the run.
 */
import t from 'tap';
import type { Page } from 'puppeteer-core';
import { Agent, login as injectLogin, PASSWORD, TestClock, type TestApp } from '../helpers/app.js';
import { declareThroughUi, kunming, readyApplicant } from '../helpers/world.js';
import { bodyText, boosted, browserOrSkip, fill, screenshot, startServer, watchPage } from './helpers.js';

/** The server's clock: starts at a fixed instant and runs; `setNow` jumps. */
class LiveClock extends TestClock {
  private readonly began = Date.now();
  override now = () => new Date(this.t + (Date.now() - this.began));
  setNow(ms: number) {
    this.t = ms - (Date.now() - this.began);
  }
}

const browser = await browserOrSkip(t);

if (browser) {
  t.test('17:00:30 is in time, 17:01 is refused naming 17:00', { timeout: 150_000 }, async (t) => {
    const clock = new LiveClock(Date.parse('2026-06-15T08:55:00Z')); // 16:55 in China
    const server = await startServer({ now: clock.now });
    t.teardown(() => server.close());
    const app: TestApp = { ...server.built, clock, dir: server.dir, close: () => server.close() };
    const db = server.built.ctx.db;
    const w = await kunming(app);
    await db.updateTable('plans').set({ opens_time: '08:00', closes_at: '2026-06-15', closes_time: '17:00' }).where('id', '=', w.plan).execute();
    const people = [
      { name: '王芳', seq: '342', phone: '13900139000' },
      { name: '张伟', seq: '231', phone: '13800138000' },
    ];
    const decl: number[] = [];
    for (const p of people) {
      const u = await readyApplicant(app, w.unit, p);
      const agent = new Agent(app);
      await injectLogin(agent, 'applicant', u.phone);
      decl.push(await declareThroughUi(app, agent, w, u.userId));
    }

    const pages: Page[] = [];
    for (const p of people) {
      const ctx = await browser.createBrowserContext();
      t.teardown(() => ctx.close());
      const page = await ctx.newPage();
      page.setDefaultTimeout(8_000);
      pages.push(page);
    }
    let step = 'log in';
    let current: Page = pages[0]!;
    const problems = pages.map((p) => watchPage(p, server.url));
    try {
      for (const [i, page] of pages.entries()) {
        current = page;
        await page.goto(`${server.url}/login`, { waitUntil: 'load' });
        await fill(page, '#f-account', people[i]!.phone);
        await fill(page, '#f-password', PASSWORD);
        await boosted(page, 'form[action="/login"] button[type="submit"]', '/me');
        await page.goto(`${server.url}/me/declaration?step=4`, { waitUntil: 'load' });
        t.match(await bodyText(page), '提交申报', `${people[i]!.name}: step 4`);
        await page.click('input[name="pledge"]');
      }

      step = '王芳 at 17:00:30';
      current = pages[0]!;
      await current.bringToFront();
      clock.setNow(Date.parse('2026-06-15T09:00:30Z'));
      await boosted(current, 'form[action="/me/declaration/submit"] button[type="submit"]', /^\/me\/declaration\/done$/);
      t.match(await bodyText(current), '申报流程开始!', 'in time: the flash of seed 001 §5.1');
      t.equal((await db.selectFrom('declarations').select('status').where('id', '=', decl[0]!).executeTakeFirstOrThrow()).status, 'reviewing');

      step = '张伟 at 17:01';
      current = pages[1]!;
      await current.bringToFront();
      clock.setNow(Date.parse('2026-06-15T09:01:00Z'));
      await boosted(current, 'form[action="/me/declaration/submit"] button[type="submit"]', '/me/declaration?step=4');
      const text = await bodyText(current);
      t.match(text, '申报通道已于2026年6月15日17:00关闭，不能提交申报', 'late: the refusal names the closing time');
      t.notMatch(text, '申报流程开始!');
      t.equal((await db.selectFrom('declarations').select('status').where('id', '=', decl[1]!).executeTakeFirstOrThrow()).status, 'draft', 'still a draft');
      t.same(problems.flatMap((p) => p.list), [], 'no JS errors, CSP violations or failed requests');
    } catch (err) {
      const shot = await screenshot(current, `window-${step}`);
      t.fail(`failed at step "${step}": ${err instanceof Error ? err.message : String(err)}`, {
        url: current.url(), screenshot: shot, text: (await bodyText(current).catch(() => '')).slice(0, 1500),
      });
    }
  });
}

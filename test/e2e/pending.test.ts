/**
 * Issue #19 in real Chromium, with JavaScript on and off: type a 专业技术工作总结 row, lose the
 * session (its cookie deleted), press 保存 — the login page says the text is kept; log in — the
 * form is back with the text; save it. Any JS error, CSP violation or failed asset request fails.
 */
import t, { type Test } from 'tap';
import type { BrowserContext, Page } from 'puppeteer-core';
import { hashPassword } from '../../src/lib/passwords.js';
import { idColumns, phoneColumns } from '../../src/lib/pii.js';
import { idNumber, PASSWORD } from '../helpers/app.js';
import { SESSION_COOKIE } from '../../src/plugins/session.js';
import { RESTORED_TEXT, SAVED_NOTICE } from '../../src/plugins/pending.js';
import { bodyText, boosted, browserOrSkip, fill, plainClick, screenshot, startServer, valueOf, watchPage, type PageProblems } from './helpers.js';

const browser = await browserOrSkip(t);

if (browser) {
  const server = await startServer();
  t.teardown(() => server.close());
  const db = server.built.ctx.db;
  const stamp = new Date().toISOString();
  const PHONE = '13700137002';
  await db.insertInto('users').values({
    kind: 'applicant', name: '张伟', ...idColumns(server.built.ctx.secrets, idNumber('19880512', '358')), ...phoneColumns(server.built.ctx.secrets, PHONE),
    password_hash: await hashPassword(PASSWORD), unit_org_id: null, created_at: stamp, updated_at: stamp,
  }).execute();
  const year = String(Number(new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 4)) - 1);
  const rows = () => db.selectFrom('section_rows').select('data').where('section', '=', 'summaries').orderBy('id').execute();

  const need = (passed: boolean, what: string) => {
    if (!passed) throw new Error(`stopped after a failed check: ${what}`);
  };

  async function journey(t: Test, js: boolean, text: string) {
    const context: BrowserContext = await browser!.createBrowserContext();
    t.teardown(() => context.close());
    const page: Page = await context.newPage();
    page.setDefaultTimeout(8_000);
    await page.setJavaScriptEnabled(js);
    const problems: PageProblems = watchPage(page, server.url);
    const click = js ? boosted : plainClick;
    let step = 'log in';
    try {
      await page.goto(`${server.url}/login`, { waitUntil: 'load' });
      await fill(page, '#f-account', PHONE);
      await fill(page, '#f-password', PASSWORD);
      await click(page, 'form[action="/login"] button[type="submit"]', '/me');

      step = 'type a row';
      if (js) {
        // The list, then '+ 新增' loads the form inline (htmx).
        await boosted(page, 'nav.side a[href="/me/sections/summaries"]', '/me/sections/summaries');
        await page.click('main a.btn[href="/me/sections/summaries/new"]');
        await page.waitForSelector('#row-form form[action="/me/sections/summaries"]');
      } else {
        await page.goto(`${server.url}/me/sections/summaries/new`, { waitUntil: 'load' });
      }
      await fill(page, '#f-year', year);
      await fill(page, '#f-content', text);

      step = 'lose the session, press 保存';
      await context.deleteMatchingCookies({ name: SESSION_COOKIE, url: server.url });
      // htmx answers the POST with HX-Redirect: a full navigation to the login page (no swap).
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#row-form .actions button[type="submit"]')]);
      const at = new URL(page.url());
      need(t.equal(at.pathname, '/login', 'on the login page'), 'login page');
      t.equal(at.searchParams.get('next'), '/me/sections/summaries/new');
      need(t.match(await bodyText(page), SAVED_NOTICE, 'it says the text is kept'), 'notice');
      const stored = async () => (await rows()).map((r) => JSON.parse(r.data).content as string);
      t.notOk((await stored()).includes(text), 'nothing saved yet');

      step = 'log in again';
      await fill(page, '#f-account', PHONE);
      await fill(page, '#f-password', PASSWORD);
      await click(page, 'form[action="/login"] button[type="submit"]', '/me/sections/summaries/new');
      need(t.match(await bodyText(page), RESTORED_TEXT, 'restored notice'), 'restored');
      need(t.equal(await valueOf(page, '#f-content'), text, 'the typed text is back'), 'text back');
      t.equal(await valueOf(page, '#f-year'), year);

      step = 'save it';
      await click(page, '#row-form .actions button[type="submit"]', '/me/sections/summaries');
      t.match(await bodyText(page), '已保存');
      t.ok((await stored()).includes(text), 'stored');
      await page.reload({ waitUntil: 'load' });
      t.notMatch(await bodyText(page), RESTORED_TEXT);
      t.same(problems.list, [], 'no JS errors, CSP violations or failed requests');
    } catch (err) {
      const shot = await screenshot(page, `pending-${js ? 'js' : 'nojs'}-${step}`);
      t.fail(`failed at step "${step}": ${err instanceof Error ? err.message : String(err)}`, {
        url: page.url(), screenshot: shot, problems: problems.list, console: problems.console, text: (await bodyText(page).catch(() => '')).slice(0, 1500),
      });
    }
  }

  t.test('JavaScript on: htmx form, session gone, 保存 → login → the text is back', { timeout: 150_000 }, async (t) => {
    await journey(t, true, '本年度完成医院信息系统升级改造，主持𠮷祥数据平台建设，发表论文两篇（张伟，JS）。');
  });
  t.test('JavaScript off: plain form, session gone, 保存 → login → the text is back', { timeout: 150_000 }, async (t) => {
    await journey(t, false, '本年度负责电子病历系统的运行维护，培训新进人员十二名（张伟，无JS）。');
  });
}

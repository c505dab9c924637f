/**
 * 组织机构管理 + 本级人员授权 in real Chromium, JavaScript off (issue #15): the city HR bureau's
 * admin creates a county bureau with its admin; that admin adds a clerk with 资格审查经办 only;
 * the clerk approves a declaration at the county stage (the only action offered) and is refused
 * 统计查询 with the reason. Any JS error, CSP violation or failed asset request fails the run.
 */
import t from 'tap';
import type { Page } from 'puppeteer-core';
import { PASSWORD, TestClock, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, submittedDeclaration } from '../helpers/world.js';
import { bodyText, browserOrSkip, fill, plainClick, screenshot, startServer, watchPage } from './helpers.js';

const browser = await browserOrSkip(t);
const NEW_PASSWORD = 'Wuhua#2026county';

if (browser) {
  t.test('a city bureau creates a county bureau and its clerk with a limited role', { timeout: 240_000 }, async (t) => {
    const clock = new TestClock(Date.parse('2026-06-15T02:00:00Z'));
    const server = await startServer({ now: clock.now });
    t.teardown(() => server.close());
    const app: TestApp = { ...server.built, clock, dir: server.dir, close: () => server.close() };
    const db = server.built.ctx.db;
    // A county-level unit in 五华区: its route passes the 五华区 bureau. The imported bureau is
    // replaced by the one the city creates below (the route picks the enabled one).
    const w = await kunming(app, { unitLevel: 'county' });
    await db.updateTable('orgs').set({ disabled: 1 }).where('id', '=', w.countyHrb).execute();
    await createStaff(app, { username: 'km_admin', name: '刘洋', orgId: w.cityHrb, roles: 'org_admin' });

    const problems: ReturnType<typeof watchPage>[] = [];
    const open = async () => {
      const ctx = await browser.createBrowserContext();
      t.teardown(() => ctx.close());
      const page = await ctx.newPage();
      page.setDefaultTimeout(8_000);
      await page.setJavaScriptEnabled(false);
      problems.push(watchPage(page, server.url));
      return page;
    };
    const logIn = async (page: Page, username: string, password: string, landing: string) => {
      await page.goto(`${server.url}/login?type=staff`, { waitUntil: 'load' });
      await fill(page, '#f-account', username);
      await fill(page, '#f-password', password);
      await plainClick(page, 'form[action="/login"] button[type="submit"]', landing);
    };
    const changePassword = async (page: Page, initial: string) => {
      await fill(page, '#f-old', initial);
      await fill(page, '#f-password', NEW_PASSWORD);
      await fill(page, '#f-password2', NEW_PASSWORD);
      await plainClick(page, 'form[action="/account/password"] button[type="submit"]');
    };
    const initialOf = (text: string) => /初始密码：(\S+?)（仅显示一次/.exec(text)?.[1] ?? '';

    let page: Page | null = null;
    let step = 'city: log in';
    try {
      // ---------------------------------------------------------------- the city bureau's admin
      page = await open();
      await logIn(page, 'km_admin', PASSWORD, '/org');
      await plainClick(page, 'nav.side a[href="/org/tree"]', '/org/tree');
      step = 'city: create the county bureau';
      await plainClick(page, 'a[href="/org/tree/new"]', '/org/tree/new');
      await page.select('#f-kind', 'hrb:county');
      await fill(page, '#f-name', '五华区人力资源和社会保障局');
      await page.select('#f-region_code', '530102');
      await fill(page, '#f-username', 'wh_admin');
      await fill(page, '#f-admin_name', '陈静');
      await plainClick(page, 'form[action="/org/tree/new"] button[type="submit"]', /^\/org\/tree\/\d+$/);
      let text = await bodyText(page);
      t.match(text, '下级机构“五华区人力资源和社会保障局”已创建');
      const adminInitial = initialOf(text);
      t.ok(adminInitial, 'the admin’s initial password is shown once');
      const county = await db.selectFrom('orgs').select(['id', 'parent_org_id', 'hrb_level']).where('name', '=', '五华区人力资源和社会保障局').where('disabled', '=', 0).executeTakeFirstOrThrow();
      t.same({ parent: county.parent_org_id, level: county.hrb_level }, { parent: w.cityHrb, level: 'county' });

      // ---------------------------------------------------------------- the county bureau's admin
      step = 'county admin: first login';
      page = await open();
      await logIn(page, 'wh_admin', adminInitial, '/account/password');
      await changePassword(page, adminInitial);
      step = 'county admin: add the clerk';
      await page.goto(`${server.url}/org/staff`, { waitUntil: 'load' });
      await fill(page, '#f-username', 'wh_li');
      await fill(page, '#f-name', '李娜');
      await page.click('input[name="duties"][value="review"]');
      await plainClick(page, 'form[action="/org/staff"] button[type="submit"]', /^\/org\/staff\/\d+$/);
      text = await bodyText(page);
      t.match(text, '权限\n资格审查经办', 'the clerk’s permissions on one page');
      const clerkInitial = initialOf(text);
      t.ok(clerkInitial);

      // ---------------------------------------------------------------- a declaration reaches the county
      step = 'declaration';
      const { id } = await submittedDeclaration(app, w);
      const route = JSON.parse((await db.selectFrom('declarations').select('route').where('id', '=', id).executeTakeFirstOrThrow()).route!) as { orgId: number }[];
      const stage = route.findIndex((s) => s.orgId === county.id);
      t.ok(stage > 0, 'the new county bureau is on the route');
      await db.updateTable('declarations').set({ stage }).where('id', '=', id).execute();

      // ---------------------------------------------------------------- the clerk
      step = 'clerk: first login';
      page = await open();
      await logIn(page, 'wh_li', clerkInitial, '/account/password');
      await changePassword(page, clerkInitial);
      step = 'clerk: review within the role';
      await page.goto(`${server.url}/org/reviews/${id}`, { waitUntil: 'load' });
      const offered = await page.$$eval('input[name="action"]', (els) => els.map((e) => (e as HTMLInputElement).value));
      t.same(offered, ['approve'], 'only 审核通过 is offered');
      await fill(page, '#f-opinion', '材料齐全，同意上报');
      await plainClick(page, `form[action="/org/reviews/${id}/act"] button[type="submit"]`);
      t.match(await bodyText(page), '已办理');
      t.equal((await db.selectFrom('declarations').select('stage').where('id', '=', id).executeTakeFirstOrThrow()).stage, stage + 1, 'passed on');

      step = 'clerk: refused outside the role';
      problems[problems.length - 1]!.expected = [/status of 403/];
      const res = await page.goto(`${server.url}/org/stats`, { waitUntil: 'load' });
      t.equal(res?.status(), 403);
      t.match(await bodyText(page), '您没有“统计查询”权限');
      for (const p of problems) t.same(p.list, [], 'no JS errors, CSP violations or failed requests');
    } catch (err) {
      const shot = page ? await screenshot(page, 'orgtree') : null;
      t.fail(`${step}: ${(err as Error).message}${shot ? ` (screenshot ${shot})` : ''}`);
    }
  });
}

/**
 * The applicant's archive in real Chromium with JavaScript on: log in, fill 基本信息 (selects,
 * the 所学专业 type-ahead, the 工作单位 搜索 button), add rows to three sections through the
 * inline htmx form, drag a row of 学习经历 with real mouse events (Sortable → htmx POST of the
 * order form), use 上移 — then 上移 once more in a page with JavaScript off (plain form).
 * Any JS error, CSP violation or failed asset request fails the run.
 */
import t from 'tap';
import type { Page } from 'puppeteer-core';
import { hashPassword } from '../../src/lib/passwords.js';
import { idColumns, phoneColumns } from '../../src/lib/pii.js';
import { idNumber, PASSWORD } from '../helpers/app.js';
import { bodyText, boosted, browserOrSkip, fill, screenshot, startServer, valueOf, watchPage, type PageProblems } from './helpers.js';

const browser = await browserOrSkip(t);

if (browser) {
  const server = await startServer();
  t.teardown(() => server.close());
  const db = server.built.ctx.db;
  const stamp = new Date().toISOString();

  const ID = idNumber('19880512', '357');
  const PHONE = '13700137001';
  await db
    .insertInto('users')
    .values({
      kind: 'applicant', name: '张伟', ...idColumns(server.built.ctx.secrets, ID), ...phoneColumns(server.built.ctx.secrets, PHONE),
      password_hash: await hashPassword(PASSWORD), unit_org_id: null, created_at: stamp, updated_at: stamp,
    })
    .execute();
  const unitId = (await db.insertInto('orgs').values({ kind: 'unit', name: '昆明市第一人民医院', created_at: stamp, updated_at: stamp }).returning('id').executeTakeFirstOrThrow()).id;

  const MAJOR = '工学 - 计算机科学与技术 - 计算机应用';
  // Years within 年度考核's last five years, whatever today is.
  const thisYear = Number(new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 4));

  /** Stops the journey at the first failed assertion (so the screenshot shows that state). */
  const need = (passed: boolean, what: string) => {
    if (!passed) throw new Error(`stopped after a failed check: ${what}`);
  };

  /** Sets a date input (its text entry is locale-dependent) and fires the events a user would. */
  async function setDate(page: Page, selector: string, value: string) {
    await page.$eval(
      selector,
      (el, v) => {
        const input = el as HTMLInputElement;
        input.value = v;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
      },
      value,
    );
  }

  /** Types into a tree field's search box and waits for the htmx type-ahead to fill its select. */
  async function typeAhead(page: Page, key: string, q: string, want: string) {
    await fill(page, `input[name="${key}_q"]`, q);
    await page.waitForSelector(`#f-${key} option[value="${want}"]`, { timeout: 5_000 });
    await page.select(`#f-${key}`, want);
  }

  /** The text of column `col` (1-based, 1 = the drag cell) of each row of the list. */
  const column = (page: Page, col: number) =>
    page.$$eval('#section-list tbody tr', (trs, c) => trs.map((tr) => tr.children[c - 1]?.textContent?.trim() ?? ''), col);
  const rowIds = (page: Page) => page.$$eval('#section-list input[name="order"]', (els) => els.map((e) => (e as HTMLInputElement).value));

  /** '+ 新增' loads the form inline (htmx, no navigation); `fillRow` fills it; 保存 posts it (boosted). */
  async function addRow(page: Page, key: string, fillRow: () => Promise<void>, landsOn: string | RegExp) {
    const before = page.url();
    await page.click(`main a.btn[href="/me/sections/${key}/new"]`);
    await page.waitForSelector(`#row-form form[action="/me/sections/${key}"]`);
    if (page.url() !== before) throw new Error(`+ 新增 changed the URL to ${page.url()} (the form should load inline)`);
    await fillRow();
    await boosted(page, '#row-form .actions button[type="submit"]', landsOn);
  }

  t.test('archive: profile, rows in three sections, drag and 上移 order (JS), 上移 without JS', { timeout: 150_000 }, async (t) => {
    const started = Date.now();
    const context = await browser.createBrowserContext();
    t.teardown(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(8_000);
    const problems = watchPage(page, server.url);
    let current: { page: Page; problems: PageProblems } = { page, problems };
    let step = 'log in';
    const lap = (name: string) => t.comment(`${name}: ${Date.now() - started} ms`);
    try {
      await page.goto(`${server.url}/login`, { waitUntil: 'load' });
      need(t.equal(await page.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx), 'object', 'htmx is running'), 'htmx');
      await fill(page, '#f-account', PHONE);
      await fill(page, '#f-password', PASSWORD);
      await boosted(page, 'form[action="/login"] button[type="submit"]', '/me');

      // ---------------------------------------------------------------- 基本信息
      step = 'open 基本信息';
      await boosted(page, 'nav.side a[href="/me/profile"]', '/me/profile');
      let text = await bodyText(page);
      need(t.match(text, '5301**********' + ID.slice(-4), 'masked ID shown'), 'masked ID');
      t.notMatch(text, ID, 'full ID never shown');
      t.match(text, '1988-05', 'birth month from the ID');

      step = 'fill the profile';
      await fill(page, '#f-native_place', '云南昆明');
      await page.select('#f-ethnic', '彝族');
      await page.select('#f-political', '中共党员');
      await typeAhead(page, 'major', '计算机', MAJOR);
      const majorOptions = await page.$$eval('#f-major option', (os) => os.length);
      t.ok(majorOptions > 3, `the type-ahead offered ${majorOptions} options`);
      await fill(page, '#f-academic_roles', '无');
      // 履职年限 and 工作年限 are not typed: computed from 现有职称情况 and 工作经历.
      t.match(text, '现职称(同级)履职年限', 'the computed tenure is shown');
      await fill(page, '#f-email', 'zw1988@hospital.cn');
      await fill(page, '#f-address', '昆明市五华区人民中路1号');
      await fill(page, '#f-postcode', '650000');
      await fill(page, '#f-department', '信息科');
      await fill(page, '#f-position', '无');
      await fill(page, 'input[name="specialty_q"]', '工程');
      await page.waitForFunction(() => document.querySelectorAll('#f-specialty option').length > 2);
      const specialty = await page.$eval('#f-specialty option:nth-child(2)', (o) => (o as HTMLOptionElement).value);
      await page.select('#f-specialty', specialty);

      step = '工作单位 搜索';
      await fill(page, 'input[name="unit_q"]', '人民医院');
      await boosted(page, 'button[name="_search"][value="unit"]', '/me/profile');
      need(t.ok(await page.$(`#f-unit_org_id option[value="${unitId}"]`), 'the unit found by 搜索 is offered'), 'unit offered');
      t.equal(await valueOf(page, '#f-native_place'), '云南昆明', 'typed values kept across the search');
      t.equal(await valueOf(page, '#f-ethnic'), '彝族');
      t.equal(await valueOf(page, '#f-major'), MAJOR, 'the type-ahead choice kept');
      t.equal(await valueOf(page, '#f-specialty'), specialty);
      t.equal(await valueOf(page, '#f-postcode'), '650000');
      await page.select('#f-unit_org_id', String(unitId));

      step = 'save the profile';
      await boosted(page, 'form[action="/me/profile"] > .actions button[type="submit"]', '/me/profile');
      text = await bodyText(page);
      need(t.match(text, '基本信息已保存', 'saved (flash)'), 'profile saved');
      t.equal(await valueOf(page, '#f-major'), MAJOR, '所学专业 shown');
      t.equal(await valueOf(page, '#f-unit_org_id'), String(unitId), '工作单位 shown');
      t.equal(await valueOf(page, '#f-email'), 'zw1988@hospital.cn');
      lap('profile saved');

      // ---------------------------------------------------------------- rows
      step = '学习经历 rows';
      await boosted(page, 'nav.side a[href="/me/sections/study"]', '/me/sections/study');
      const schools = ['云南大学', '昆明理工大学', '云南师范大学'];
      for (const [i, school] of schools.entries()) {
        await addRow(page, 'study', async () => {
          await fill(page, '#f-school', school);
          if (i === 0) await typeAhead(page, 'major', '计算机 应用', MAJOR);
          else {
            await page.select('#f-major', '__other__');
            await fill(page, 'input[name="major_other"]', `专业${i + 1}`);
          }
          await setDate(page, '#f-start', `${2004 + i * 4}-09-01`);
          await setDate(page, '#f-end', `${2008 + i * 4}-07-01`);
          await fill(page, '#f-witness', '李娜');
          await fill(page, '#f-duty', i === 0 ? '班长' : '无');
        }, '/me/sections/study');
        need(t.match(await bodyText(page), `共 ${i + 1} 条`, `学习经历: ${i + 1} rows`), `study row ${i + 1}`);
      }
      need(t.same(await column(page, 3), schools, 'rows in the order added'), 'study rows');
      t.match(await bodyText(page), '已保存');

      step = '年度考核情况 rows';
      await boosted(page, 'nav.side a[href="/me/sections/assessments"]', '/me/sections/assessments');
      const grades = ['优秀', '合格', '优秀'];
      for (const [i, grade] of grades.entries()) {
        await addRow(page, 'assessments', async () => {
          await fill(page, '#f-year', String(thisYear - 1 - i));
          await page.select('#f-grade', grade);
          await fill(page, '#f-leader', '王芳');
        }, '/me/sections/assessments');
      }
      need(t.same(await column(page, 3), [1, 2, 3].map((n) => String(thisYear - n)), '年度考核: three years'), 'assessment rows');

      step = '撰写论文情况 rows';
      await boosted(page, 'nav.side a[href="/me/sections/papers"]', '/me/sections/papers');
      const papers = ['基于知识图谱的医院信息系统设计', '医疗数据安全的若干问题', '𠮷祥：电子病历检索方法研究'];
      for (const [i, title] of papers.entries()) {
        // A section with attachment slots continues on the row's edit page (upload there).
        await addRow(page, 'papers', async () => {
          await fill(page, '#f-title', title);
          await fill(page, '#f-journal', i === 2 ? '未发表/暂无' : '中国数字医学');
          await setDate(page, '#f-published_on', `${2020 + i}-03-15`);
          await fill(page, '#f-issn', 'ISSN 1673-7571');
          await page.select('#f-type', i === 2 ? '未发表' : '期刊论文');
          await fill(page, '#f-part', '第一作者');
        }, /^\/me\/sections\/papers\/\d+\/edit$/);
        need(t.match(await bodyText(page), '已保存，请上传附件', `paper ${i + 1}: on to the attachments`), `paper ${i + 1}`);
        await boosted(page, '#row-form .actions a[href="/me/sections/papers"]', '/me/sections/papers');
      }
      need(t.same(await column(page, 3), papers, '撰写论文: three rows'), 'paper rows');
      lap('9 rows added');

      // ---------------------------------------------------------------- drag
      step = 'drag 学习经历';
      await boosted(page, 'nav.side a[href="/me/sections/study"]', '/me/sections/study');
      const ids = await rowIds(page);
      need(t.equal(ids.length, 3), 'three ids');
      // Sortable must be running on the list we got to by htmx navigation (no full page load).
      await page.waitForFunction(() => typeof (window as unknown as { Sortable?: unknown }).Sortable === 'function' && !!document.querySelector('[data-sortable-on]'), { timeout: 3_000 }).catch(() => {
        throw new Error('Sortable is not active on the list reached through hx-boost navigation (drag cannot work)');
      });
      const handles = await page.$$('#section-list tbody tr .drag');
      const from = (await handles[2]!.boundingBox())!;
      const rows = await Promise.all((await page.$$('#section-list tbody tr')).map(async (r) => (await r.boundingBox())!));
      const firstRow = rows[0]!;
      const secondRow = rows[1]!;
      const orderPosted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/me/sections/study/order', { timeout: 5_000 });
      const listSwapped = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/me/sections/study', { timeout: 5_000 });
      // At a human pace: Sortable ignores dragover on a row while it is still animating (150 ms),
      // so a pointer that overtakes the animation can drop one place short.
      const x = from.x + from.width / 2;
      const y = from.y + from.height / 2;
      const pause = () => new Promise((r) => setTimeout(r, 200));
      await page.mouse.move(x, y);
      await page.mouse.down();
      await page.mouse.move(x, y - 8, { steps: 4 });
      for (const ty of [secondRow.y + secondRow.height / 2, firstRow.y + firstRow.height / 2, firstRow.y + 3]) {
        await page.mouse.move(x, ty, { steps: 8 });
        await pause();
      }
      await page.mouse.up();
      const posted = await orderPosted.catch(() => null);
      need(t.ok(posted, 'the drop posted the order form (POST /me/sections/study/order)'), 'drag posted');
      t.equal(posted!.status(), 303, 'order saved (303 to the list)');
      await listSwapped;
      await page.waitForFunction(() => !document.querySelector('.htmx-request'));
      const dragged = [schools[2], schools[0], schools[1]];
      need(t.same(await column(page, 3), dragged, 'third row dragged above the first (swapped list)'), 'drag order');
      t.same(await rowIds(page), [ids[2], ids[0], ids[1]], 'ids in the new order');
      await page.reload({ waitUntil: 'load' });
      need(t.same(await column(page, 3), dragged, 'the dragged order is kept after a reload'), 'drag saved');
      t.same(await column(page, 2), ['1', '2', '3'], 'numbered again');
      lap('dragged');

      step = '上移 with JavaScript';
      // 昆明理工大学 (now last) one place up.
      const upPosted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/me/sections/study/order');
      const marker = await page.evaluate(() => {
        (window as unknown as { __e2eSameDocument: boolean }).__e2eSameDocument = true;
        document.querySelector('#section-list')?.setAttribute('data-e2e-old', '');
      });
      void marker;
      await page.click(`button[name="move"][value="${ids[1]}:up"]`);
      t.equal((await upPosted).status(), 303, '上移 posted by htmx');
      await page.waitForFunction(() => !!document.querySelector('#section-list') && !document.querySelector('#section-list[data-e2e-old]') && !document.querySelector('.htmx-request'));
      t.ok(await page.evaluate(() => (window as unknown as { __e2eSameDocument?: boolean }).__e2eSameDocument === true), 'the list was swapped in place');
      const moved = [schools[2], schools[1], schools[0]];
      need(t.same(await column(page, 3), moved, '上移 moved the last row up'), 'up with JS');
      await page.reload({ waitUntil: 'load' });
      need(t.same(await column(page, 3), moved, '上移 order kept after a reload'), 'up saved');
      t.ok(await page.$eval(`button[name="move"][value="${ids[2]}:up"]`, (b) => (b as HTMLButtonElement).disabled), 'the first row cannot move up');
      t.ok(await page.$eval(`button[name="move"][value="${ids[0]}:down"]`, (b) => (b as HTMLButtonElement).disabled), 'the last row cannot move down');
      t.same(problems.list, [], 'no JS errors, CSP violations or failed requests (JS page)');
      lap('上移 with JS');

      // ---------------------------------------------------------------- no JS
      step = '上移 without JavaScript';
      const plain = await context.newPage();
      plain.setDefaultTimeout(8_000);
      await plain.setJavaScriptEnabled(false);
      const plainProblems = watchPage(plain, server.url);
      current = { page: plain, problems: plainProblems };
      await plain.goto(`${server.url}/me/sections/study`, { waitUntil: 'load' });
      need(t.equal(await plain.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx), 'undefined', 'htmx does not run'), 'no JS');
      need(t.same(await column(plain, 3), moved, 'same order in the plain page'), 'plain order');
      // 云南大学 (last) one place up: a plain form post, 303, a real navigation.
      const [nav] = await Promise.all([plain.waitForNavigation({ waitUntil: 'load' }), plain.click(`button[name="move"][value="${ids[0]}:up"]`)]);
      t.equal(nav?.status(), 200, 'landed on the list after the redirect');
      t.equal(new URL(plain.url()).pathname, '/me/sections/study');
      const plainMoved = [schools[2], schools[0], schools[1]];
      need(t.same(await column(plain, 3), plainMoved, '上移 without JS moved the row up'), 'up without JS');
      await plain.reload({ waitUntil: 'load' });
      t.same(await column(plain, 3), plainMoved, 'kept after a reload');
      await page.reload({ waitUntil: 'load' });
      t.same(await column(page, 3), plainMoved, 'and the JS page sees it too');
      t.same(plainProblems.list, [], 'no CSP violations or failed requests (no-JS page)');
      t.same(problems.list, [], 'no JS errors, CSP violations or failed requests (JS page, end)');

      // The database agrees.
      const stored = await db.selectFrom('section_rows').select(['data']).where('section', '=', 'study').orderBy('position').execute();
      t.same(stored.map((r) => JSON.parse(r.data).school), plainMoved, 'stored positions');
      lap('上移 without JS');
    } catch (err) {
      const shot = await screenshot(current.page, `archive-${step}`);
      if (shot) console.error(`# e2e screenshot (${step}): ${shot}`);
      t.fail(`failed at step "${step}": ${err instanceof Error ? err.message : String(err)}`, {
        url: current.page.url(),
        screenshot: shot,
        problems: current.problems.list,
        console: current.problems.console,
        text: (await bodyText(current.page).catch(() => '')).slice(0, 2000),
      });
    }
    t.comment(`archive journey: ${Date.now() - started} ms`);
  });
}

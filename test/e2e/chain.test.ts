/**
 * The declaration and its review chain in real Chromium, on a county-level public unit (route:
 * 单位 → 主管部门 → 县（区）人社局 → 评委会):
 *  1. an applicant declares through the four steps (the committee select loads the levels by
 *     htmx, one attachment uploaded on step 3) and sees the record;
 *  2. the unit fills 基层单位意见, verifies, publicises for 5 working days, completes the
 *     publicity after the server clock has moved past its end, recommends with the two files —
 *     the same once more with JavaScript off for a second applicant — then the supervisor
 *     approves, the county HRB returns with 撰写论文情况 ticked, the applicant fixes a 刊号 and
 *     resubmits, the HRB sees the diff and approves, the committee approves the e-materials.
 * Each role works in its own browser context. Any JS error, CSP violation or failed asset
 * request fails the run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';
import { Agent, login as injectLogin, PASSWORD, TestClock, type TestApp } from '../helpers/app.js';
import { declareThroughUi, fillDeclarationSlots, kunming, makePng, readyApplicant, submitThroughUi, type World } from '../helpers/world.js';
import { requiredSlots } from '../../src/domain/plans.js';
import { bodyText, boosted, browserOrSkip, fill, plainClick, screenshot, startServer, valueOf, watchPage, type PageProblems, type Server } from './helpers.js';

/** The server's clock: starts on a fixed Monday (10:00 in China) and runs; `setNow` jumps. */
class LiveClock extends TestClock {
  private readonly began = Date.now();
  override now = () => new Date(this.t + (Date.now() - this.began));
  setNow(ms: number) {
    this.t = ms - (Date.now() - this.began);
  }
}
const START = Date.parse('2026-06-15T02:00:00Z');

const browser = await browserOrSkip(t);

/** Stops the journey at the first failed assertion (so the screenshot shows that state). */
const need = (passed: boolean, what: string) => {
  if (!passed) throw new Error(`stopped after a failed check: ${what}`);
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-e2e-chain-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
const files = {
  idCard: path.join(tmp, '身份证正反面.png'),
  pledge: path.join(tmp, '诚信承诺书.png'),
  report: path.join(tmp, '公示情况说明.pdf'),
};
fs.writeFileSync(files.idCard, makePng(200, 120, 7));
fs.writeFileSync(files.pledge, makePng(120, 160, 3));
fs.writeFileSync(files.report, PDF);

/** A server on the live clock, and the TestApp-like object the world helpers take. */
async function serverWithClock() {
  const clock = new LiveClock(START);
  const server = await startServer({ now: clock.now });
  const app: TestApp = { ...server.built, clock, dir: server.dir, close: () => server.close() };
  return { server, clock, app };
}

/** Chooses a file for a file input, like a user in the file dialog. */
async function upload(page: Page, selector: string, file: string) {
  const input = (await page.$(selector)) as ElementHandle<HTMLInputElement> | null;
  if (!input) throw new Error(`no file input ${selector}`);
  await input.uploadFile(file);
}

interface Role {
  page: Page;
  problems: PageProblems;
  js: boolean;
}

type Tap = { teardown(fn: () => unknown): void };

/** One journey's pages: every role in its own context; the last one used is `current`. */
function journeyPages(b: Browser, server: Server, t: Tap) {
  const state = { current: null as Role | null };
  return {
    state,
    async open(js = true, context?: Awaited<ReturnType<Browser['createBrowserContext']>>): Promise<Role> {
      const ctx = context ?? (await b.createBrowserContext());
      if (!context) t.teardown(() => ctx.close());
      const page = await ctx.newPage();
      page.setDefaultTimeout(8_000);
      await page.setJavaScriptEnabled(js);
      const role = { page, problems: watchPage(page, server.url), js };
      state.current = role;
      return role;
    },
    /** Switches to a role's page: in front, as a user would (background tabs are throttled). */
    async use(role: Role) {
      state.current = role;
      await role.page.bringToFront();
      return role;
    },
  };
}
/** Clicks and waits for the next page: an htmx swap with JavaScript, a navigation without. */
const go = (r: Role, selector: string, path?: string | RegExp) => (r.js ? boosted(r.page, selector, path) : plainClick(r.page, selector, path));

/** Logs in from the login page (tab 个人用户 or 单位用户) and lands on the home page. */
async function logIn(r: Role, server: Server, kind: 'applicant' | 'staff', account: string, home: string) {
  await r.page.goto(`${server.url}/login`, { waitUntil: 'load' });
  if (kind === 'staff') {
    await go(r, 'nav.tabs a[href="/login?type=staff"]', '/login');
    if ((await r.page.$eval('input[name="type"]', (e) => (e as HTMLInputElement).value)) !== 'staff') throw new Error('the 单位用户 tab did not switch the form');
  }
  await fill(r.page, '#f-account', account);
  await fill(r.page, '#f-password', PASSWORD);
  await go(r, 'form[action="/login"] button[type="submit"]', home);
}

async function failWith(t: { fail: (...args: any[]) => unknown }, label: string, step: string, r: Role | null, err: unknown) {
  const shot = r ? await screenshot(r.page, `chain-${label}-${step}`) : null;
  if (shot) console.error(`# e2e screenshot (${step}): ${shot}`);
  t.fail(`${label}: failed at step "${step}": ${err instanceof Error ? err.message : String(err)}`, {
    url: r?.page.url(),
    screenshot: shot,
    problems: r?.problems.list,
    console: r?.problems.console,
    text: r ? (await bodyText(r.page).catch(() => '')).slice(0, 2000) : '',
  });
}

if (browser) {
  // ------------------------------------------------------------------------------------------
  t.test('an applicant declares end to end and sees the record (JavaScript on)', { timeout: 120_000 }, async (t) => {
    const started = Date.now();
    const { server, app } = await serverWithClock();
    t.teardown(() => server.close());
    const db = server.built.ctx.db;
    const w = await kunming(app, { unitLevel: 'county' });
    const zhang = await readyApplicant(app, w.unit);
    const pages = journeyPages(browser, server, t);
    let step = 'log in';
    const lap = (name: string) => t.comment(`${name}: ${Date.now() - started} ms`);
    try {
      const r = await pages.open(true);
      const page = r.page;
      await logIn(r, server, 'applicant', zhang.phone, '/me');
      need(t.equal(await page.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx), 'object', 'htmx is running'), 'htmx');

      step = '封面';
      await boosted(page, 'nav.side a[href="/me/declaration"]', '/me/declaration');
      let text = await bodyText(page);
      need(t.match(text, '封面填写', 'step 1: the cover'), 'cover page');
      t.equal(await page.$$eval('#f-level option', (os) => os.length), 1, 'no levels before a committee is chosen');
      // Choosing the committee posts the form back through htmx; the levels arrive.
      await page.select('#f-plan_id', String(w.plan));
      await page.waitForSelector('#f-level option[value="senior_vice"]', { timeout: 8_000 });
      await page.waitForFunction(() => !document.querySelector('.htmx-request'));
      need(t.equal(await valueOf(page, '#f-plan_id'), String(w.plan), 'the committee stays chosen'), 'plan kept');
      t.ok(await page.$('header.top'), 'the page header is still there after the htmx refresh');
      t.ok(await page.$('nav.side'), 'the side menu is still there after the htmx refresh');
      t.equal(new URL(page.url()).pathname, '/me/declaration', 'the URL did not change');
      t.same(await page.$$eval('#f-level option', (os) => os.map((o) => o.textContent?.trim())), ['请选择', '副高级', '正高级'], 'the plan\'s levels');
      await page.select('#f-level', 'senior_vice');
      const titleOption = await page.waitForFunction(
        () => [...document.querySelectorAll<HTMLOptionElement>('#f-title option')].find((o) => o.textContent?.includes('副主任医师'))?.value ?? null,
        { timeout: 8_000 },
      );
      const title = (await titleOption.jsonValue()) as string;
      need(t.match(title, '副主任医师', `a 副主任医师 title is offered (${title})`), 'title offered');
      t.equal(await valueOf(page, '#f-level'), 'senior_vice', 'the level stays chosen');
      await page.select('#f-title', title);
      await fill(page, '#f-specialty', '心血管内科');
      const normal = await page.$$eval('input[name="category"]', (els) => els.map((e) => [(e as HTMLInputElement).value, e.parentElement?.textContent?.trim()]));
      need(t.ok(normal.some(([v, l]) => v === 'normal' && l === '正常评审'), '参评类别 正常评审 offered'), 'category');
      await page.click('input[name="category"][value="normal"]');
      await boosted(page, 'form[action="/me/declaration/cover"] .actions button[type="submit"]', '/me/declaration?step=2');
      text = await bodyText(page);
      need(t.match(text, '封面已保存', 'cover saved (flash)'), 'cover saved');
      t.match(text, '昆明市第一人民医院 → 昆明市卫生健康委员会 → ', 'the route starts at the unit and the supervisor');
      const d = await db.selectFrom('declarations').selectAll().where('user_id', '=', zhang.userId).executeTakeFirstOrThrow();
      t.same(JSON.parse(d.route!).map((x: { kind: string }) => x.kind), ['unit', 'supervisor', 'hrb_county', 'committee'], 'county public unit: unit → supervisor → county HRB → committee');
      lap('cover saved');

      step = 'attachments';
      // Every slot but 身份证正反面 by service; that one is uploaded through step 3.
      const plan = await db.selectFrom('plans').selectAll().where('id', '=', w.plan).executeTakeFirstOrThrow();
      const others = requiredSlots(plan).filter((s) => s.key !== 'id_card');
      await fillDeclarationSlots(app, zhang.userId, d.id, { required_slots: JSON.stringify(others) });
      await page.reload({ waitUntil: 'load' });
      text = await bodyText(page);
      need(t.match(text, '附件：身份证正反面', 'step 2: the ID card scan is missing'), 'missing id card');
      t.notMatch(text, '附件：毕业证书', 'the service-filled slots count');
      t.ok(await page.$('main .actions button[disabled]'), '下一步 is disabled');
      await boosted(page, 'main a[href="/me/declaration?step=3#slots"]', '/me/declaration');
      const slot = `#att-declaration-${d.id}-id_card`;
      await page.waitForSelector(`${slot} input[type="file"]`);
      await upload(page, `${slot} input[type="file"]`, files.idCard);
      await boosted(page, `${slot} form.att-upload button[type="submit"]`, '/me/declaration');
      need(t.match(await page.$eval(slot, (e) => e.textContent ?? ''), '身份证正反面.png', 'the uploaded file is listed in its slot'), 'uploaded');
      const stored = await db.selectFrom('attachments').select(['slot']).where('owner_type', '=', 'declaration').where('owner_id', '=', d.id).execute();
      t.ok(stored.some((a) => a.slot === 'id_card'), 'stored in the id_card slot');

      step = '基本信息';
      await boosted(page, 'ol.steps a[href="/me/declaration?step=2"]', '/me/declaration?step=2');
      text = await bodyText(page);
      need(t.match(text, '必填项已全部完成', 'step 2: everything required is done'), 'ready');
      t.match(text, '申报条件参考');
      await boosted(page, 'main .actions a.btn[href="/me/declaration?step=3"]', '/me/declaration?step=3');

      step = '申报信息';
      text = await bodyText(page);
      need(t.match(text, '专业技术职称申报评审表', 'step 3: the review form'), 'preview');
      t.match(text, '预览', 'marked 预览');
      t.match(text, '张伟');
      await boosted(page, 'main > .actions a.btn[href="/me/declaration?step=4"]', '/me/declaration?step=4');

      step = '提交申报';
      text = await bodyText(page);
      need(t.match(text, '同意条款', 'step 4: the agreement (同意条款)'), 'pledge');
      t.match(text, '您还能返回修改或重置流程 4 次');
      await page.click('input[name="pledge"]');
      await boosted(page, 'form[action="/me/declaration/submit"] button[type="submit"]', '/me/declaration/done');
      text = await bodyText(page);
      need(t.match(text, '申报成功', 'the success page'), 'done');
      const kv = await page.$$eval('dl.kv dt', (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent?.trim(), dt.nextElementSibling?.textContent?.trim()])));
      t.equal(kv['申报职称'], title, '申报职称');
      t.match(kv['申报时间'], /^2026-06-15 10:\d\d/, '申报时间 (China time on the server clock)');
      t.equal(kv['申报专业'], '心血管内科', '申报专业');
      t.equal(kv['参评类别'], '正常评审', '参评类别');
      t.match(kv['当前进度'], '单位审核中');
      lap('submitted');

      step = '查看进度';
      await boosted(page, 'main .actions a[href="/me/records"]', '/me/records');
      text = await bodyText(page);
      need(t.match(text, '单位审核中', '/me/records: 单位审核中'), 'records');
      const events = await page.$$eval('main table tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent?.trim() ?? '')));
      t.same(events.map((e) => e[3]), ['保存封面', '提交申报'], 'the timeline: cover saved, submitted');
      t.ok(events.every((e) => e[2] === '张伟'), 'done by the applicant');
      t.ok(await page.$(`main a[href="/me/records/${d.id}/form"]`), '查看申报表 link');
      const after = await db.selectFrom('declarations').select(['status', 'stage']).where('id', '=', d.id).executeTakeFirstOrThrow();
      t.same(after, { status: 'reviewing', stage: 0 }, 'reviewing at the unit');

      t.same(r.problems.list, [], 'no JS errors, CSP violations or failed requests');
      const shot = await screenshot(page, 'chain-declare-end');
      t.comment(`screenshot: ${shot}`);
    } catch (err) {
      await failWith(t, 'declare', step, pages.state.current, err);
    }
    t.comment(`declaration journey: ${Date.now() - started} ms`);
  });

  // ------------------------------------------------------------------------------------------
  t.test('review chain: unit verifies, publicises, recommends; HRB returns; applicant resubmits; diff; committee approves', { timeout: 240_000 }, async (t) => {
    const started = Date.now();
    const { server, clock, app } = await serverWithClock();
    t.teardown(() => server.close());
    const db = server.built.ctx.db;
    const w: World = await kunming(app, { unitLevel: 'county' });
    // Two applicants submit through the pages (app.inject); 王芳 goes through the unit with JS off.
    const declare = async (o: { name?: string; seq?: string; phone?: string }) => {
      const p = await readyApplicant(app, w.unit, o);
      const agent = new Agent(app);
      await injectLogin(agent, 'applicant', p.phone);
      const id = await declareThroughUi(app, agent, w, p.userId);
      await submitThroughUi(agent, id);
      return { ...p, declId: id };
    };
    const zhang = await declare({});
    const wang = await declare({ name: '王芳', seq: '232', phone: '13800138001' });
    const state = (id: number) => db.selectFrom('declarations').select(['status', 'stage', 'returns_count', 'publicity_state']).where('id', '=', id).executeTakeFirstOrThrow();
    const pages = journeyPages(browser, server, t);
    let step = 'unit: log in';
    const lap = (name: string) => t.comment(`${name}: ${Date.now() - started} ms`);
    const ID = zhang.declId;
    try {
      // ---------------------------------------------------------------- unit (JS)
      const unit = await pages.open(true);
      const up = unit.page;
      await logIn(unit, server, 'staff', w.staff.unit, '/org');
      await up.goto(`${server.url}/org/reviews`, { waitUntil: 'load' });
      need(t.match(await bodyText(up), '待本单位审核', 'the unit\'s queue'), 'queue');
      await boosted(up, `main a[href="/org/reviews/${ID}"]`, `/org/reviews/${ID}`);
      need(t.match(await bodyText(up), '尚未填写基层单位意见', 'the unit panel'), 'panel');
      t.notOk(await up.$('input[name="action"][value="approve"]'), 'no 通过 at the unit stage (推荐上报 moves it on)');

      step = 'unit: 基层单位意见';
      await boosted(up, `#unit-stage a[href^="/org/unit-stage/${ID}/opinion"]`, `/org/unit-stage/${ID}/opinion`);
      const opinion = async (p: Page) => {
        await fill(p, '#f-evaluation', '该同志政治立场坚定，医德高尚，业务能力突出，任现职以来主持胸痛中心建设，成效显著。');
        await fill(p, '#f-method', '民主推荐');
        await fill(p, '#f-scope', '院职称推荐委员会委员15人');
        const agree = await p.$$eval('#f-recommendation input[type="radio"]', (els) => els.find((e) => e.parentElement?.textContent?.trim() === '同意推荐')?.id ?? '');
        if (!agree) throw new Error('no 同意推荐 radio');
        await p.click(`#${agree}`);
        await fill(p, '#f-formation', '经院职称推荐委员会会议讨论，无记名投票，同意15票。');
      };
      await opinion(up);
      await boosted(up, `form[action="/org/unit-stage/${ID}/opinion"] .actions button[type="submit"]`, `/org/reviews/${ID}`);
      let text = await bodyText(up);
      need(t.match(text, '基层单位意见已保存', 'opinion saved, back on the declaration'), 'opinion saved');
      t.match(text, '院职称推荐委员会委员15人');

      step = 'unit: 核验通过';
      await boosted(up, `form[action="/org/unit-stage/${ID}/verify"] button[type="submit"]`, `/org/reviews/${ID}`);
      text = await bodyText(up);
      need(t.match(text, '核验通过', 'verified (flash)'), 'verified');
      t.match(text, /已于 .* 核验通过/);

      step = 'unit: 新增公示';
      await boosted(up, 'nav.side a[href="/org/publicity"]', '/org/publicity');
      await boosted(up, 'main a.btn[href="/org/publicity/new"]', '/org/publicity/new');
      need(t.equal(await valueOf(up, '#f-start_date'), '2026-06-15', 'starts today by default'), 'start today');
      t.notOk(await up.$(`#f-ids-${wang.declId}`), '王芳 is not verified yet');
      const PUB_TITLE = '关于2026年度卫生技术高级职称申报人员的公示';
      await fill(up, '#f-title', PUB_TITLE);
      await fill(up, '#f-days', '5');
      await up.click(`#f-ids-${ID}`);
      await boosted(up, 'button[name="_preview"]', '/org/publicity');
      const end = (await up.$eval('#end-date', (e) => e.textContent?.trim() ?? '')) as string;
      need(t.match(end, /^2026-06-\d\d$/, `计算结束日期: ${end}`), 'end date');
      t.ok(await up.$eval(`#f-ids-${ID}`, (e) => (e as HTMLInputElement).checked), 'the selection kept across 计算结束日期');
      t.equal(await valueOf(up, '#f-title'), PUB_TITLE);
      await boosted(up, 'form[action="/org/publicity"] > .actions button[type="submit"]', /^\/org\/publicity\/\d+$/);
      text = await bodyText(up);
      need(t.match(text, `公示已保存，公示期2026-06-15至${end}`, 'publicity saved'), 'publicity saved');
      t.match(text, '公示期满后');
      const pubA = Number(new URL(up.url()).pathname.split('/').pop());
      t.equal((await state(ID)).publicity_state, 'open');
      lap('unit (JS): publicity open');

      // ---------------------------------------------------------------- unit (no JS), 王芳
      step = 'unit without JS: 基层单位意见';
      const unitContext = up.browserContext();
      const plain = await pages.open(false, unitContext);
      const pp = plain.page;
      const W = wang.declId;
      await pp.goto(`${server.url}/org/unit-stage`, { waitUntil: 'load' });
      need(t.equal(await pp.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx), 'undefined', 'htmx does not run'), 'no JS');
      need(t.match(await bodyText(pp), '王芳'), 'listed');
      await plainClick(pp, `main a[href="/org/unit-stage/${W}"]`, `/org/unit-stage/${W}`);
      await plainClick(pp, `#unit-stage a[href^="/org/unit-stage/${W}/opinion"]`, `/org/unit-stage/${W}/opinion`);
      await opinion(pp);
      await plainClick(pp, `form[action="/org/unit-stage/${W}/opinion"] .actions button[type="submit"]`, `/org/unit-stage/${W}`);
      need(t.match(await bodyText(pp), '基层单位意见已保存'), 'opinion saved (no JS)');
      step = 'unit without JS: 核验通过';
      await plainClick(pp, `form[action="/org/unit-stage/${W}/verify"] button[type="submit"]`, `/org/unit-stage/${W}`);
      need(t.match(await bodyText(pp), /已于 .* 核验通过/, 'verified (no JS)'), 'verified (no JS)');
      step = 'unit without JS: 新增公示';
      await plainClick(pp, '#unit-stage a[href="/org/publicity/new"]', '/org/publicity/new');
      await fill(pp, '#f-title', '王芳职称申报公示');
      await pp.click(`#f-ids-${W}`);
      await plainClick(pp, 'form[action="/org/publicity"] > .actions button[type="submit"]', /^\/org\/publicity\/\d+$/);
      need(t.match(await bodyText(pp), `公示期2026-06-15至${end}`, 'publicity saved (no JS), same end'), 'publicity (no JS)');
      const pubB = Number(new URL(pp.url()).pathname.split('/').pop());
      lap('unit (no JS): publicity open');

      // ---------------------------------------------------------------- after the publicity
      step = 'move the clock past the publicity';
      clock.setNow(Date.parse(`${end}T01:00:00Z`) + 86_400_000); // 09:00 the day after, China time
      await pages.use(unit);
      await up.goto(`${server.url}/org/publicity/${pubA}`, { waitUntil: 'load' });
      need(t.equal(new URL(up.url()).pathname, '/login', 'the session timed out'), 'timed out');
      await logIn(unit, server, 'staff', w.staff.unit, '/org');
      await up.goto(`${server.url}/org/publicity/${pubA}`, { waitUntil: 'load' });

      step = 'unit: 完成公示';
      need(t.match(await bodyText(up), '公示期满，待完成公示'), 'over');
      await up.click(`input[name="result_${ID}"][value="none"]`);
      await boosted(up, `form[action="/org/publicity/${pubA}/complete"] button[type="submit"]`, `/org/publicity/${pubA}`);
      need(t.match(await bodyText(up), '公示已完成，均无异议'), 'completed');
      t.equal((await state(ID)).publicity_state, 'no_objection');

      step = 'unit without JS: 完成公示';
      await pages.use(plain);
      await pp.goto(`${server.url}/org/publicity/${pubB}`, { waitUntil: 'load' });
      await pp.click(`input[name="result_${W}"][value="none"]`);
      await plainClick(pp, `form[action="/org/publicity/${pubB}/complete"] button[type="submit"]`, `/org/publicity/${pubB}`);
      need(t.match(await bodyText(pp), '公示已完成，均无异议', 'completed (no JS)'), 'completed (no JS)');

      step = 'unit: 推荐上报';
      await pages.use(unit);
      await boosted(up, 'nav.side a[href="/org/recommend"]', '/org/recommend');
      await up.click(`#f-ids-${ID}`);
      await upload(up, '#f-pledge', files.pledge);
      await upload(up, '#f-report', files.report);
      await boosted(up, 'form[action^="/org/recommend"] > .actions button[type="submit"]', '/org/recommend');
      text = await bodyText(up);
      need(t.match(text, '已推荐上报1人，已进入下一审核环节', 'recommended'), 'recommended');
      t.match(text, '诚信承诺书.png');
      t.match(text, '公示情况说明.pdf');
      need(t.same(await state(ID), { status: 'reviewing', stage: 1, returns_count: 0, publicity_state: 'no_objection' }, 'stage 2 of 4: at the supervisor'), 'at the supervisor');

      step = 'unit without JS: 推荐上报';
      await pages.use(plain);
      await pp.goto(`${server.url}/org/recommend`, { waitUntil: 'load' });
      await pp.click(`#f-ids-${W}`);
      await upload(pp, '#f-pledge', files.pledge);
      await upload(pp, '#f-report', files.report);
      await plainClick(pp, 'form[action^="/org/recommend"] > .actions button[type="submit"]', '/org/recommend');
      need(t.match(await bodyText(pp), '已推荐上报1人', 'recommended (no JS)'), 'recommended (no JS)');
      t.same((await state(W)).stage, 1, '王芳 at the supervisor too');
      t.same(plain.problems.list, [], 'no CSP violations or failed requests (unit, no JS)');
      t.same(unit.problems.list, [], 'no JS errors, CSP violations or failed requests (unit)');
      lap('unit done');

      // ---------------------------------------------------------------- supervisor
      step = 'supervisor: 通过';
      const sup = await pages.open(true);
      await logIn(sup, server, 'staff', w.staff.supervisor, '/org');
      await sup.page.goto(`${server.url}/org/reviews/${ID}`, { waitUntil: 'load' });
      need(t.ok(await sup.page.$eval('input[name="action"][value="approve"]', (e) => (e as HTMLInputElement).checked), '通过 is preselected'), 'approve');
      t.equal(await sup.page.$eval('input[name="action"][value="approve"]', (e) => e.parentElement?.textContent?.trim()), '通过');
      await boosted(sup.page, `form[action="/org/reviews/${ID}/act"] button[type="submit"]`, '/org/reviews');
      need(t.match(await bodyText(sup.page), '已办理：通过'), 'approved');
      need(t.same((await state(ID)).stage, 2, 'at the county HRB'), 'county');
      t.same(sup.problems.list, [], 'no problems (supervisor)');

      // ---------------------------------------------------------------- county HRB returns
      step = 'county HRB: 返回修改';
      const county = await pages.open(true);
      const cp = county.page;
      await logIn(county, server, 'staff', w.staff.county, '/org');
      await cp.goto(`${server.url}/org/reviews?status=todo`, { waitUntil: 'load' });
      await boosted(cp, `main a[href="/org/reviews/${ID}"]`, `/org/reviews/${ID}`);
      await cp.click('input[name="action"][value="return"]');
      await cp.click('input[name="sections"][value="papers"]');
      const OPINION = '撰写论文情况：请补充论文的刊号（CN号）';
      await fill(cp, '#f-opinion', OPINION);
      await boosted(cp, `form[action="/org/reviews/${ID}/act"] button[type="submit"]`, '/org/reviews');
      need(t.match(await bodyText(cp), '已办理：返回修改'), 'returned');
      need(t.same(await state(ID), { status: 'returned', stage: 2, returns_count: 1, publicity_state: 'no_objection' }), 'returned state');
      lap('returned');

      // ---------------------------------------------------------------- applicant fixes
      step = 'applicant: sees the opinion';
      const me = await pages.open(true);
      const ap = me.page;
      await logIn(me, server, 'applicant', zhang.phone, '/me');
      await boosted(ap, 'nav.side a[href="/me/records"]', '/me/records');
      text = await bodyText(ap);
      need(t.match(text, '已返回修改：请根据审核意见修改后重新提交', 'status: returned'), 'returned text');
      need(t.match(text, OPINION, 'the opinion is shown'), 'opinion shown');

      step = 'applicant: edits a paper';
      await boosted(ap, 'nav.side a[href="/me/sections/papers"]', '/me/sections/papers');
      t.match(await bodyText(ap), '需修改', 'the ticked section says 需修改');
      await boosted(ap, 'main a[href$="/edit"][href^="/me/sections/papers/"]', /^\/me\/sections\/papers\/\d+\/edit$/);
      await ap.waitForSelector('#f-issn');
      const NEW_ISSN = 'CN 11-5547/R';
      await fill(ap, '#f-issn', NEW_ISSN);
      await boosted(ap, '#row-form .actions button[type="submit"]');
      need(t.match(await bodyText(ap), '已保存'), 'paper saved');
      const paper = await db.selectFrom('section_rows').select('data').where('user_id', '=', zhang.userId).where('section', '=', 'papers').executeTakeFirstOrThrow();
      t.equal(JSON.parse(paper.data).issn, NEW_ISSN, 'stored');

      step = 'applicant: resubmits';
      await boosted(ap, 'nav.side a[href="/me/declaration"]', '/me/declaration');
      await boosted(ap, 'ol.steps a[href="/me/declaration?step=4"]', '/me/declaration?step=4');
      text = await bodyText(ap);
      t.match(text, '您当前已经返回修改或重置流程 1 次，您还能返回修改或重置流程 3 次');
      await ap.click('input[name="pledge"]');
      await boosted(ap, 'form[action="/me/declaration/submit"] button[type="submit"]', '/me/declaration/done');
      need(t.match(await bodyText(ap), '申报成功'), 'resubmitted');
      need(t.same(await state(ID), { status: 'reviewing', stage: 2, returns_count: 1, publicity_state: 'no_objection' }, 'back at the county HRB'), 'back at county');
      lap('resubmitted');

      // ---------------------------------------------------------------- county HRB: diff, approve
      step = 'county HRB: the diff';
      await pages.use(county);
      await cp.goto(`${server.url}/org/reviews/${ID}`, { waitUntil: 'load' });
      text = await bodyText(cp);
      need(t.match(text, '与第 1 版相比的修改', 'the diff against version 1'), 'diff');
      t.match(text, '上次返回修改时要求修改：撰写论文情况');
      const ins = await cp.$$eval('#changes ins', (els) => els.map((e) => ({ text: e.textContent?.trim(), color: getComputedStyle(e).color, weight: getComputedStyle(e).fontWeight })));
      const hit = ins.find((i) => i.text === NEW_ISSN);
      need(t.ok(hit, `the new 刊号 is marked as inserted (${JSON.stringify(ins)})`), 'ins');
      t.equal(hit!.color, 'rgb(30, 126, 52)', 'highlighted in green');
      t.ok(Number(hit!.weight) >= 700, 'and bold');
      t.match(await cp.$eval('#changes', (e) => e.textContent ?? ''), 'ISSN 1674-4756', 'the old 刊号 shown as deleted');
      const diffShot = await screenshot(cp, 'chain-review-diff');
      t.comment(`screenshot: ${diffShot}`);
      await cp.click('input[name="action"][value="approve"]');
      await boosted(cp, `form[action="/org/reviews/${ID}/act"] button[type="submit"]`, '/org/reviews');
      need(t.same((await state(ID)).stage, 3, 'at the committee'), 'committee');
      t.same(county.problems.list, [], 'no problems (county HRB)');

      // ---------------------------------------------------------------- committee
      step = 'committee: 电子材料审核通过';
      const com = await pages.open(true);
      await logIn(com, server, 'staff', w.staff.committee, '/org');
      await com.page.goto(`${server.url}/org/reviews/${ID}`, { waitUntil: 'load' });
      need(t.equal(await com.page.$eval('input[name="action"][value="approve"]', (e) => e.parentElement?.textContent?.trim()), '电子材料审核通过'), 'e-review label');
      await com.page.click('input[name="action"][value="approve"]');
      await boosted(com.page, `form[action="/org/reviews/${ID}/act"] button[type="submit"]`, '/org/reviews');
      need(t.equal((await state(ID)).status, 'approved', 'approved'), 'approved');
      t.same(com.problems.list, [], 'no problems (committee)');

      step = 'applicant: printable';
      await pages.use(me);
      await boosted(ap, 'nav.side a[href="/me/records"]', '/me/records');
      need(t.match(await bodyText(ap), '评委会电子材料审核通过，可打印申报表', 'the applicant sees the approval'), 'printable');
      const actions = await ap.$$eval('main table tbody tr', (trs) => trs.map((tr) => tr.children[3]?.textContent?.trim()));
      t.same(actions, ['保存封面', '提交申报', '单位核验', '公示', '公示', '推荐上报', '审核通过', '审核通过', '返回修改', '重新提交', '审核通过', '审核通过'], 'the whole timeline');
      t.same(me.problems.list, [], 'no problems (applicant)');
      const shot = await screenshot(ap, 'chain-review-end');
      t.comment(`screenshot: ${shot}`);
    } catch (err) {
      await failWith(t, 'review', step, pages.state.current, err);
    }
    t.comment(`review chain journey: ${Date.now() - started} ms`);
  });
}

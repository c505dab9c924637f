/**
 * The refusals an applicant meets (issue #13), in real Chromium: a person recorded as 失信, a
 * retired person and an applicant of a sanctioned unit each open 基本信息确认 (step 2) and 提交申报
 * (step 4) and read why they cannot declare, in the seeds' words; the 申报 button is disabled.
 */
import t from 'tap';
import { Agent, PASSWORD, TestClock, idNumber, type TestApp } from '../helpers/app.js';
import { declareThroughUi, kunming, readyApplicant } from '../helpers/world.js';
import { login } from '../helpers/app.js';
import { idHmac } from '../../src/lib/pii.js';
import { bodyText, boosted, browserOrSkip, fill, screenshot, startServer, watchPage } from './helpers.js';

const browser = await browserOrSkip(t);

if (browser) {
  const clock = new TestClock(Date.parse('2026-06-15T02:00:00Z'));
  const server = await startServer({ now: clock.now });
  t.teardown(() => server.close());
  const app: TestApp = { ...server.built, clock, dir: server.dir, close: () => server.close() };
  const w = await kunming(app);
  const stamp = clock.now().toISOString();
  const staffId = (await app.ctx.db.selectFrom('users').select('id').where('username', '=', w.staff.county).executeTakeFirstOrThrow()).id;

  async function drafted(o: { name: string; seq: string; phone: string; birth?: string; unit?: number }) {
    const u = await readyApplicant(app, o.unit ?? w.unit, o);
    const a = new Agent(app);
    await login(a, 'applicant', u.phone);
    await declareThroughUi(app, a, w, u.userId);
    return u;
  }

  // 张伟: recorded as 失信 today by the county HR bureau.
  const zhang = await drafted({ name: '张伟', seq: '401', phone: '13912340401' });
  await app.ctx.db.insertInto('integrity_records').values({
    id_hmac: idHmac(app.ctx.secrets, idNumber('19850612', '401')), id_masked: '5301**********401X', name: '张伟', recorded_on: '2026-06-15', reason: '提供虚假论文材料',
    evidence_file_id: null, org_id: w.countyHrb, created_by: staffId, created_at: stamp,
  }).execute();
  // 王芳: born 1964-01-01, past the statutory retirement age (women: 55, so 2019-01-01).
  const wang = await drafted({ name: '王芳', seq: '402', phone: '13912340402', birth: '19640101' });
  // 张伟 of another unit whose 2026 推荐 is suspended.
  const other = (await app.ctx.db.insertInto('orgs').values({ ...(await app.ctx.db.selectFrom('orgs').selectAll().where('id', '=', w.unit).executeTakeFirstOrThrow()), id: undefined, name: '昆明市第二人民医院', uscc: null } as any).returning('id').executeTakeFirstOrThrow()).id;
  const li = await drafted({ name: '张伟', seq: '403', phone: '13912340403', unit: other });
  await app.ctx.db.insertInto('unit_sanctions').values({ unit_org_id: other, year: 2026, reason: '审核把关不严', org_id: w.supervisor, created_by: staffId, created_at: stamp }).execute();

  const cases = [
    { who: '失信', phone: zhang.phone, text: '记录期内不得参加职称申报评审（至2029-06-15）' },
    { who: 'retired', phone: wang.phone, text: '已达到法定退休年龄（2019-01-01），离退休人员不得参加职称评审' },
    { who: 'sanctioned unit', phone: li.phone, text: '昆明市第二人民医院已被暂停2026年度职称申报推荐工作（原因：审核把关不严）' },
  ];
  for (const c of cases) {
    t.test(`${c.who}: the refusal on 基本信息确认 and 提交申报`, { timeout: 150_000 }, async (t) => {
      const context = await browser.createBrowserContext();
      t.teardown(() => context.close());
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const problems = watchPage(page, server.url);
      try {
        await page.goto(`${server.url}/login`, { waitUntil: 'load' });
        await fill(page, '#f-account', c.phone);
        await fill(page, '#f-password', PASSWORD);
        await boosted(page, 'form[action="/login"] button[type="submit"]', '/me');
        await page.goto(`${server.url}/me/declaration?step=2`, { waitUntil: 'load' });
        const step2 = await bodyText(page);
        t.match(step2, `✗ ${c.text}`);
        t.match(step2, '不符合申报资格，不能提交申报');
        await page.goto(`${server.url}/me/declaration?step=4`, { waitUntil: 'load' });
        t.match(await bodyText(page), `不能提交申报：${c.text}`);
        t.ok(await page.$eval('form[action="/me/declaration/submit"] button[type="submit"]', (b) => (b as HTMLButtonElement).disabled), '申报 is disabled');
        t.same(problems.list, [], 'no JS errors, CSP violations or failed assets');
      } catch (err) {
        t.comment(`screenshot: ${await screenshot(page, `refusals-${c.who}`)}`);
        throw err;
      }
    });
  }
}

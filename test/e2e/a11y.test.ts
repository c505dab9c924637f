/**
 * Accessibility (GB/T 37668-2019, WCAG 2.1 AA: government sites must meet it): axe-core runs in
 * real Chromium over the main pages of every role — anonymous (login, registration with the
 * image code, forgot, unlock), applicant, unit, supervisor, county HRB, committee and platform
 * admin — and must find no violation of the WCAG 2.0/2.1 A and AA rules. Each role signs in
 * through the app (app.inject, 2FA included) and its session cookie is handed to the browser.
 * axe's source is evaluated through the DevTools protocol, which the page's CSP does not govern.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import t from 'tap';
import type { Page } from 'puppeteer-core';
import { Agent, createStaff, login, TestClock, type TestApp } from '../helpers/app.js';
import { declareThroughUi, kunming, readyApplicant, submittedDeclaration } from '../helpers/world.js';
import { browserOrSkip, screenshot, startServer, watchPage } from './helpers.js';

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** The members of a tap test used here. */
type T = Pick<typeof t, 'teardown' | 'equal' | 'fail' | 'pass' | 'same'>;
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string; html: string }[];
}

/** axe's WCAG A/AA violations on the page as loaded now. */
async function axe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async (tags: string[]) => {
    const w = window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: AxeViolation[] }> } };
    const r = await w.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary, html: n.html.slice(0, 200) })) }));
  }, TAGS);
}

const browser = await browserOrSkip(t);

if (browser) {
  // The server's clock runs in real time from now; advance() (2FA codes of a new step) moves it on.
  const clock = new (class extends TestClock {
    private readonly began = Date.now();
    override now = () => new Date(this.t + (Date.now() - this.began));
  })(Date.now());
  const server = await startServer({ now: clock.now });
  t.teardown(() => server.close());
  const app: TestApp = { ...server.built, clock, dir: server.dir, close: () => server.close() };
  const w = await kunming(app, { unitLevel: 'county' });
  const { id: declId, user } = await submittedDeclaration(app, w);
  await createStaff(app, { username: 'admin1', name: '王芳' });
  const db = server.built.ctx.db;
  const route = JSON.parse((await db.selectFrom('declarations').select('route').where('id', '=', declId).executeTakeFirstOrThrow()).route!) as unknown[];

  /** Runs axe over `paths` in a fresh browser context holding `agent`'s session (none: anonymous). */
  async function check(t: T, who: string, agent: Agent | null, paths: string[], before?: (path: string) => Promise<void>) {
    const context = await browser!.createBrowserContext();
    t.teardown(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems = watchPage(page, server.url);
    if (agent) {
      const sid = agent.cookies.get('zc_sid');
      if (!sid) throw new Error(`${who}: not signed in`);
      await page.setCookie({ name: 'zc_sid', value: sid, url: server.url });
    }
    for (const path of paths) {
      await before?.(path);
      const res = await page.goto(server.url + path, { waitUntil: 'load' });
      t.equal(res?.status(), 200, `${who} ${path}: 200`);
      t.equal(new URL(page.url()).pathname, path.split('?')[0], `${who} ${path}: not redirected`);
      const violations = await axe(page);
      if (violations.length) {
        const shot = await screenshot(page, `a11y-${who}-${path}`);
        t.fail(`${who} ${path}: ${violations.length} axe violation(s)`, { violations, screenshot: shot });
      } else t.pass(`${who} ${path}: no WCAG 2.1 A/AA violation`);
    }
    t.same(problems.list, [], `${who}: no JS error, CSP violation or failed request`);
  }

  const signedIn = async (kind: 'applicant' | 'staff', account: string) => {
    const a = new Agent(app);
    await login(a, kind, account);
    return a;
  };

  t.test('anonymous: login, registration (with the image code), forgot, unlock', { timeout: 120_000 }, async (t) => {
    await check(t, 'anonymous', null, ['/login', '/login?type=staff', '/register', '/forgot', '/unlock', '/help']);
    // A code was sent from this IP: the forms now show the image code.
    const a = new Agent(app);
    await a.get('/register');
    await a.post('/register/sms', { name: '李娜', idNumber: '530102199003071422', phone: '13900139001' });
    await check(t, 'anonymous-with-image-code', null, ['/register', '/forgot']);
  });

  t.test('applicant with a draft: the 4 declaration steps', { timeout: 120_000 }, async (t) => {
    const wang = await readyApplicant(app, w.unit, { name: '王芳', seq: '142', phone: '13900139000' });
    const a = await signedIn('applicant', wang.phone);
    await declareThroughUi(app, a, w, wang.userId);
    await check(t, 'applicant-draft', a, ['/me/declaration?step=1', '/me/declaration?step=2', '/me/declaration?step=3', '/me/declaration?step=4']);
  });

  t.test('applicant', { timeout: 180_000 }, async (t) => {
    const a = await signedIn('applicant', user.phone);
    const row = await db.selectFrom('section_rows').select('id').where('user_id', '=', user.userId).where('section', '=', 'titles').orderBy('id').executeTakeFirstOrThrow();
    await check(t, 'applicant', a, [
      '/me', '/me/profile', '/me/sections/titles', '/me/sections/titles/new', `/me/sections/titles/${row.id}/edit`, '/me/sections/papers',
      '/me/declaration', '/me/records', '/me/attachments', '/me/history', '/me/messages', '/me/certificates', '/notices', '/account/password', '/account/phone',
    ]);
  });

  const staffPages = async (t: T, who: string, account: string, stage: number, extra: string[]) => {
    const a = await signedIn('staff', account);
    // The declaration waits at this role's stage of the route, so its detail page is theirs.
    await db.updateTable('declarations').set({ stage, status: 'reviewing' }).where('id', '=', declId).execute();
    await check(t, who, a, ['/org', '/org/reviews', `/org/reviews/${declId}`, ...extra]);
  };

  t.test('unit', { timeout: 180_000 }, async (t) => {
    await staffPages(t, 'unit', w.staff.unit, 0, ['/org/unit', '/org/unit/staff', '/org/people', '/org/publicity', '/org/recommend', '/org/stats', '/account/password']);
  });
  t.test('supervisor', { timeout: 120_000 }, async (t) => {
    await staffPages(t, 'supervisor', w.staff.supervisor, 1, ['/org/unit-reviews']);
  });
  t.test('county HRB', { timeout: 120_000 }, async (t) => {
    await staffPages(t, 'county', w.staff.county, 2, ['/org/stats', '/org/exports']);
  });
  t.test('committee', { timeout: 180_000 }, async (t) => {
    await staffPages(t, 'committee', w.staff.committee, route.length - 1, ['/org/plans', '/org/notices', '/org/evaluations', '/org/result-publicity', '/org/certificates']);
  });
  t.test('platform admin', { timeout: 180_000 }, async (t) => {
    const a = await signedIn('staff', 'admin1');
    await check(t, 'admin', a, ['/admin', '/admin/users', '/admin/orgs', '/admin/dicts', '/admin/holidays', '/admin/sms', '/admin/api-tokens', '/account/2fa']);
  });
}

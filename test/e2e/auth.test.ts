/**
 * A new applicant's first visit, in real Chromium: register with an SMS code, land on /me,
 * log out, a wrong password, log in again (by ID number, and by phone). Run twice: with
 * JavaScript (htmx boosts every form) and without (plain forms, POST-redirect-GET).
 * Any JS error, CSP violation or failed asset request fails the run.
 */
import t from 'tap';
import type { Page } from 'puppeteer-core';
import { idNumber, PASSWORD } from '../helpers/app.js';
import { bodyText, boosted, browserOrSkip, fill, imageCodeOf, latestSmsCode, plainClick, screenshot, startServer, valueOf, watchPage } from './helpers.js';

const browser = await browserOrSkip(t);

if (browser) {
  const server = await startServer();
  t.teardown(() => server.close());

  interface Journey {
    js: boolean;
    name: string;
    id: string;
    phone: string;
    /** Also log in with the phone number. */
    byPhone: boolean;
  }

  const journeys: Journey[] = [
    { js: true, name: '张伟', id: idNumber('19900307', '123'), phone: '13800138001', byPhone: false },
    { js: false, name: '李娜', id: idNumber('19851120', '456'), phone: '13900139002', byPhone: true },
  ];

  /** Stops the journey at the first failed assertion (so the screenshot shows that state). */
  const need = (passed: boolean, what: string) => {
    if (!passed) throw new Error(`stopped after a failed check: ${what}`);
  };

  /** Clicks a submit button and waits for the next page: an htmx swap with JS, a navigation without. */
  const submit = (page: Page, js: boolean, selector: string, path?: string) =>
    js ? boosted(page, selector, path) : plainClick(page, selector, path);

  async function login(page: Page, js: boolean, account: string, password: string, expectPath: string) {
    await fill(page, '#f-account', account);
    await fill(page, '#f-password', password);
    await submit(page, js, 'form[action="/login"] button[type="submit"]', expectPath);
  }

  async function logout(page: Page, js: boolean) {
    await submit(page, js, 'header form[action="/logout"] button', '/login');
  }

  for (const j of journeys) {
    const label = j.js ? 'with JavaScript (htmx-boosted forms)' : 'without JavaScript (plain HTML forms)';
    t.test(`register, log out, log in — ${label}`, { timeout: 90_000 }, async (t) => {
      const started = Date.now();
      const context = await browser.createBrowserContext();
      t.teardown(() => context.close());
      const page = await context.newPage();
      page.setDefaultTimeout(8_000);
      await page.setJavaScriptEnabled(j.js);
      const problems = watchPage(page, server.url);
      let step = 'open /register';
      try {
        await page.goto(`${server.url}/register`, { waitUntil: 'load' });
        need(t.match(await page.title(), /^个人注册/, 'register page title'), 'register page');
        const htmxType = await page.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx);
        if (j.js) {
          need(t.equal(htmxType, 'object', 'htmx is loaded and running'), 'htmx loaded');
          need(t.equal(await page.$eval('body', (b) => b.getAttribute('hx-boost')), 'true', 'body is boosted'), 'hx-boost');
        } else {
          need(t.equal(htmxType, 'undefined', 'htmx script is not executed with JavaScript off'), 'htmx not run');
        }

        step = '获取验证码';
        await fill(page, '#f-name', j.name);
        await fill(page, '#f-idNumber', j.id);
        await fill(page, '#f-phone', j.phone);
        const smsButton = 'button[formaction="/register/sms"]:not([name])';
        need(t.equal((await page.$eval(smsButton, (b) => b.textContent))?.trim(), '获取验证码', 'SMS button label'), 'SMS button');
        // A code already went out from this IP (the journey before): the image code is asked for.
        if (await page.$('#f-captcha')) {
          step = '图片验证码';
          need(t.ok(await page.$eval('img[data-captcha]', (i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth === 120), 'the image code is shown'), 'image code shown');
          // 换一张 (no JS: it posts the form): a new image, nothing typed lost, nothing sent.
          problems.expected = [/Failed to load resource: the server responded with a status of 422/];
          await submit(page, j.js, 'button[name="captchaRefresh"]');
          problems.expected = [];
          need(t.match(await bodyText(page), '已更换图片，请输入新图片中的数字', '换一张 gives a new image'), 'refreshed');
          t.equal(await valueOf(page, '#f-phone'), j.phone, 'phone kept after 换一张');
          await fill(page, '#f-captcha', await imageCodeOf(server, page));
        }
        await submit(page, j.js, smsButton);
        let text = await bodyText(page);
        need(t.match(text, '验证码已发送', 'the page says the code was sent'), 'code sent');
        need(t.notMatch(text, '请修改以下问题', 'no error summary'), 'no errors after SMS');
        t.equal(await valueOf(page, '#f-name'), j.name, 'name kept');
        t.equal(await valueOf(page, '#f-idNumber'), j.id, 'ID number kept');
        need(t.equal(await valueOf(page, '#f-phone'), j.phone, 'phone kept'), 'values kept');

        step = '立即注册';
        const code = await latestSmsCode(server, j.phone);
        t.match(code, /^\d{6}$/, 'a 6-digit code is in the outbox');
        await fill(page, '#f-smsCode', code);
        await fill(page, '#f-password', PASSWORD);
        await fill(page, '#f-password2', PASSWORD);
        await page.click('#f-agree');
        need(t.ok(await page.$eval('#f-agree', (c) => (c as HTMLInputElement).checked), 'agreement ticked'), 'agree');
        const registerButton = 'form[action="/register"] .actions button[type="submit"]';
        need(t.equal((await page.$eval(registerButton, (b) => b.textContent))?.trim(), '立即注册', 'register button label'), 'register button');
        await submit(page, j.js, registerButton, '/me');
        text = await bodyText(page);
        t.match(text, j.name, 'the name is shown on /me');
        need(t.match(text, '注册成功', 'registration flash'), 'registered');

        step = '退出';
        await logout(page, j.js);
        need(t.match(await page.title(), /^登录/, 'the login page (title updated)'), 'logged out');
        need(t.notMatch(await bodyText(page), j.name, 'the name is gone after logout'), 'logged out');

        step = 'wrong password';
        // The refusal is a 422 page; Chromium logs any 4xx response on the console.
        problems.expected = [/Failed to load resource: the server responded with a status of 422/];
        await login(page, j.js, j.id, 'Wrong#2026pass', '/login');
        problems.expected = [];
        text = await bodyText(page);
        need(t.match(text, '账号或密码错误', 'a wrong password is refused with a message'), 'wrong password message');
        t.equal(await valueOf(page, '#f-account'), j.id, 'the account stays filled in');
        t.equal(await valueOf(page, '#f-password'), '', 'the password is not echoed back');

        step = 'log in by ID number';
        await login(page, j.js, j.id, PASSWORD, '/me');
        need(t.match(await bodyText(page), j.name, 'logged in by ID number: name on /me'), 'login by ID');

        if (j.byPhone) {
          step = 'log in by phone';
          await logout(page, j.js);
          await login(page, j.js, j.phone, PASSWORD, '/me');
          need(t.match(await bodyText(page), j.name, 'logged in by phone: name on /me'), 'login by phone');
        }

        step = 'page health';
        t.same(problems.list, [], 'no JS errors, CSP violations or failed requests');
      } catch (err) {
        const shot = await screenshot(page, `auth-${j.js ? 'js' : 'nojs'}-${step}`);
        if (shot) console.error(`# e2e screenshot (${step}): ${shot}`);
        t.fail(`${label}: failed at step "${step}": ${err instanceof Error ? err.message : String(err)}`, {
          url: page.url(),
          screenshot: shot,
          problems: problems.list,
          console: problems.console,
          text: (await bodyText(page).catch(() => '')).slice(0, 2000),
        });
      }
      t.comment(`${label}: ${Date.now() - started} ms`);
    });
  }

  t.test('图片验证码 with JavaScript: 换一张 reloads only the image; the digits of the new image send the code', { timeout: 90_000 }, async (t) => {
    const context = await browser.createBrowserContext();
    t.teardown(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(8_000);
    const problems = watchPage(page, server.url);
    await page.goto(`${server.url}/register`, { waitUntil: 'load' });
    await fill(page, '#f-phone', '13700137003');
    const before = await page.$eval('img[data-captcha]', (i) => (i as HTMLImageElement).src);
    let posts = 0;
    page.on('request', (r) => { if (r.method() === 'POST') posts++; });
    await page.click('button[name="captchaRefresh"]');
    await page.waitForFunction((old: string) => {
      const img = document.querySelector('img[data-captcha]') as HTMLImageElement;
      return img.src !== old && img.complete && img.naturalWidth === 120;
    }, {}, before);
    t.equal(posts, 0, 'no form was posted');
    t.equal(await valueOf(page, '#f-phone'), '13700137003', 'the page stayed, values kept');
    t.equal(await page.evaluate(() => document.activeElement?.id), 'f-captcha', 'focus on the answer');
    await fill(page, '#f-name', '王芳');
    await fill(page, '#f-idNumber', idNumber('19920304', '789'));
    await fill(page, '#f-captcha', await imageCodeOf(server, page));
    await boosted(page, 'button[formaction="/register/sms"]:not([name])');
    t.match(await bodyText(page), '验证码已发送', 'the digits of the new image were accepted');
    t.match(await latestSmsCode(server, '13700137003'), /^\d{6}$/);
    t.same(problems.list, [], 'no JS errors, CSP violations or failed requests');
  });
}

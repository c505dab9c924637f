/**
 * Upload errors in real Chromium (issue #19): a wrong or oversized file is reported next to its
 * slot on the same page — without JavaScript (plain form post, 303 back to the page) and with it
 * (htmx-boosted post; an oversized file is refused before it is sent) — and no CSRF token ever
 * shows in the address bar. No JS error, CSP violation or failed asset request is allowed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { ElementHandle, HTTPRequest, Page } from 'puppeteer-core';
import { hashPassword } from '../../src/lib/passwords.js';
import { idColumns, phoneColumns } from '../../src/lib/pii.js';
import { TYPE_MESSAGE } from '../../src/features/files/service.js';
import { idNumber, PASSWORD } from '../helpers/app.js';
import { makePng } from '../helpers/world.js';
import { bodyText, boosted, browserOrSkip, fill, plainClick, screenshot, startServer, watchPage } from './helpers.js';

const browser = await browserOrSkip(t);

if (browser) {
  const server = await startServer();
  t.teardown(() => server.close());
  const db = server.built.ctx.db;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-e2e-up-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const file = (name: string, bytes: Buffer) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, bytes);
    return p;
  };
  const NOT_IMAGE = file('扫描件.png', Buffer.from('这不是图片，只是一段文字\n'));
  // A real PNG, padded past the 500KB photo limit (the server would read it to its end).
  const BIG_PHOTO = file('照片.png', Buffer.concat([makePng(390, 567), Buffer.alloc(600 * 1024, 0x20)]));
  const PHOTO = file('证件照.png', makePng(390, 567));

  async function applicant(seq: string, phone: string) {
    const stamp = new Date().toISOString();
    const row = await db
      .insertInto('users')
      .values({
        kind: 'applicant', name: '张伟', ...idColumns(server.built.ctx.secrets, idNumber('19880512', seq)), ...phoneColumns(server.built.ctx.secrets, phone),
        password_hash: await hashPassword(PASSWORD), created_at: stamp, updated_at: stamp,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** The message next to a slot of /me/profile ('' when there is none or it is hidden). */
  const slotError = (page: Page, uid: number, slot: string) =>
    page.$eval(`#att-profile-${uid}-${slot}-err`, (el) => ((el as HTMLElement).hidden ? '' : el.textContent?.trim() ?? '')).catch(() => '');

  const noToken = (page: Page) => !/_csrf/i.test(page.url());

  t.test('without JS: a wrong file and an oversized photo are reported next to their slots', { timeout: 150_000 }, async (t) => {
    const uid = await applicant('401', '13700137401');
    const context = await browser.createBrowserContext();
    t.teardown(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.setJavaScriptEnabled(false);
    const problems = watchPage(page, server.url);
    try {
      await page.goto(`${server.url}/login`, { waitUntil: 'load' });
      await fill(page, '#f-account', '13700137401');
      await fill(page, '#f-password', PASSWORD);
      await plainClick(page, 'form[action="/login"] button[type="submit"]', '/me');
      await page.goto(`${server.url}/me/profile`, { waitUntil: 'load' });

      // A text file named .png into 身份证人像面.
      let input = (await page.$(`#att-profile-${uid}-id_front-file`)) as ElementHandle<HTMLInputElement>;
      await input.uploadFile(NOT_IMAGE);
      await plainClick(page, `#att-profile-${uid}-id_front button[type="submit"]`, '/me/profile');
      t.equal(new URL(page.url()).hash, `#att-profile-${uid}-id_front`, 'back on the same page, at the slot');
      t.ok(noToken(page), `no token in the address bar (${page.url()})`);
      t.equal(await slotError(page, uid, 'id_front'), TYPE_MESSAGE, 'the message next to 身份证人像面');
      t.equal(await slotError(page, uid, 'avatar'), '', 'not next to another slot');
      const text = await bodyText(page);
      t.notMatch(text, '上传失败', 'not a separate error page');
      t.notMatch(text, '返回上一页');
      t.match(text, '基本信息', 'the profile page itself');

      // A photo over 500KB.
      input = (await page.$(`#att-profile-${uid}-avatar-file`)) as ElementHandle<HTMLInputElement>;
      await input.uploadFile(BIG_PHOTO);
      await plainClick(page, `#att-profile-${uid}-avatar button[type="submit"]`, '/me/profile');
      t.ok(noToken(page), 'no token in the address bar');
      t.equal(await slotError(page, uid, 'avatar'), '照片不能超过500KB', 'the size message next to 头像');
      t.equal(await slotError(page, uid, 'id_front'), '', 'the earlier message is gone');

      // The right photo: stored, the message gone.
      input = (await page.$(`#att-profile-${uid}-avatar-file`)) as ElementHandle<HTMLInputElement>;
      await input.uploadFile(PHOTO);
      await plainClick(page, `#att-profile-${uid}-avatar button[type="submit"]`, '/me/profile');
      t.match(await bodyText(page), '上传成功');
      t.equal(await slotError(page, uid, 'avatar'), '');
      const stored = await db.selectFrom('attachments').select('slot').where('owner_type', '=', 'profile').where('owner_id', '=', uid).execute();
      t.same(stored.map((s) => s.slot), ['avatar'], 'only the good photo was stored');
      t.same(problems.list, [], 'no CSP violations or failed requests');
    } catch (err) {
      t.comment(`screenshot: ${await screenshot(page, 'uploads-nojs')}`);
      throw err;
    }
  });

  t.test('with JS: the same messages in place (htmx), an oversized photo refused before it is sent', { timeout: 150_000 }, async (t) => {
    const uid = await applicant('402', '13700137402');
    const context = await browser.createBrowserContext();
    t.teardown(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems = watchPage(page, server.url);
    const uploads: string[] = [];
    page.on('request', (r: HTTPRequest) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/me/attachments') uploads.push(r.url());
    });
    try {
      await page.goto(`${server.url}/login`, { waitUntil: 'load' });
      await fill(page, '#f-account', '13700137402');
      await fill(page, '#f-password', PASSWORD);
      await boosted(page, 'form[action="/login"] button[type="submit"]', '/me');
      await boosted(page, 'nav.side a[href="/me/profile"]', '/me/profile');

      // A wrong file: posted by htmx, the page swapped in with the message at the slot.
      const input = (await page.$(`#att-profile-${uid}-id_back-file`)) as ElementHandle<HTMLInputElement>;
      await input.uploadFile(NOT_IMAGE);
      await boosted(page, `#att-profile-${uid}-id_back button[type="submit"]`, '/me/profile');
      t.equal(uploads.length, 1, 'one upload request');
      t.notMatch(uploads[0]!, '_csrf', 'the token is not in the request URL');
      t.ok(noToken(page), `no token in the address bar (${page.url()})`);
      t.equal(await slotError(page, uid, 'id_back'), TYPE_MESSAGE, 'the message next to 身份证国徽面');
      t.notMatch(await bodyText(page), '上传失败');

      // An oversized photo: the page says so at once, nothing is sent.
      const avatar = (await page.$(`#att-profile-${uid}-avatar-file`)) as ElementHandle<HTMLInputElement>;
      await avatar.uploadFile(BIG_PHOTO);
      await page.waitForFunction((id: string) => (document.getElementById(id)?.textContent ?? '') !== '', {}, `att-profile-${uid}-avatar-err`);
      t.equal(await slotError(page, uid, 'avatar'), '照片不能超过500KB', 'said on choosing the file');
      await page.click(`#att-profile-${uid}-avatar button[type="submit"]`);
      await new Promise((r) => setTimeout(r, 500));
      t.equal(uploads.length, 1, 'the oversized photo was not uploaded');
      t.equal(new URL(page.url()).pathname, '/me/profile');
      t.equal(await slotError(page, uid, 'avatar'), '照片不能超过500KB', 'still said next to 头像');

      // Choosing the right photo clears the message; the upload goes through.
      await avatar.uploadFile(PHOTO);
      t.equal(await slotError(page, uid, 'avatar'), '', 'cleared on choosing a good file');
      await boosted(page, `#att-profile-${uid}-avatar button[type="submit"]`, '/me/profile');
      t.equal(uploads.length, 2);
      t.match(await bodyText(page), '上传成功');
      t.ok(noToken(page));
      t.same(problems.list, [], 'no JS errors, CSP violations or failed assets');
    } catch (err) {
      t.comment(`screenshot: ${await screenshot(page, 'uploads-js')}`);
      throw err;
    }
  });
}

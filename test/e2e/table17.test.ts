/**
 * 【表十七】上传 in real Chromium (seed 001 §4.3.1): with JavaScript, 附件管理 reached through a
 * boosted link loads Cropper on demand, choosing an image opens the crop step (image + preview),
 * 向右旋转 turns it, and 上传 sends the cropped JPEG through the same form (→ 已提交, stored as
 * a JPEG whose sides are swapped by the rotation). Without JavaScript the same form uploads the
 * file as chosen. No JS error, CSP violation or failed asset request is allowed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { ElementHandle } from 'puppeteer-core';
import { PASSWORD, TestClock, type TestApp } from '../helpers/app.js';
import { approveByCommittee, kunming, makePng, submittedDeclaration } from '../helpers/world.js';
import { sniff } from '../../src/domain/images.js';
import { bodyText, boosted, browserOrSkip, fill, plainClick, screenshot, startServer, watchPage } from './helpers.js';

const browser = await browserOrSkip(t);

if (browser) {
  const clock = new TestClock(Date.parse('2026-06-15T02:00:00Z'));
  const server = await startServer({ now: clock.now });
  t.teardown(() => server.close());
  const app: TestApp = { ...server.built, clock, dir: server.dir, close: () => server.close() };
  const w = await kunming(app);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-e2e-t17-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  // Landscape on purpose: a quarter turn in the crop step makes it portrait.
  const scan = path.join(tmp, '表十七扫描.png');
  fs.writeFileSync(scan, makePng(900, 600, 20));

  /** An applicant whose declaration the committee's e-review has approved. */
  async function approvedApplicant(seq: string, phone: string, name: string) {
    const { id, user } = await submittedDeclaration(app, w, { name, seq, phone });
    await approveByCommittee(app, id);
    return { ...user, declarationId: id };
  }

  async function storedScan(declarationId: number) {
    const row = await app.ctx.db
      .selectFrom('attachments as a')
      .innerJoin('files as f', 'f.id', 'a.file_id')
      .select(['f.sha256', 'f.mime', 'f.original_name'])
      .where('a.owner_type', '=', 'declaration')
      .where('a.owner_id', '=', declarationId)
      .where('a.slot', '=', 'table17')
      .executeTakeFirst();
    if (!row) return null;
    return { ...row, type: sniff(await app.ctx.blobs.read(row.sha256)) };
  }

  t.test('with JS: crop step, rotate, upload the cropped JPEG → 已提交', { timeout: 180_000 }, async (t) => {
    const a = await approvedApplicant('317', '13912340317', '张伟');
    const context = await browser.createBrowserContext();
    t.teardown(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems = watchPage(page, server.url);
    try {
      await page.goto(`${server.url}/login`, { waitUntil: 'load' });
      await fill(page, '#f-account', a.phone);
      await fill(page, '#f-password', PASSWORD);
      await boosted(page, 'form[action="/login"] button[type="submit"]', '/me');
      await boosted(page, 'nav.side a[href="/me/attachments"]', '/me/attachments');
      t.match(await bodyText(page), '状态：待提交');
      // Cropper is fetched on demand (the page came in through hx-boost, so no <head> script ran).
      await page.waitForFunction(() => typeof (window as unknown as { Cropper?: unknown }).Cropper === 'function');
      t.ok(await page.$eval('.crop-stage', (el) => (el as HTMLElement).hidden), 'no crop step before a file is chosen');

      const input = (await page.$('form[data-crop] input[type=file]')) as ElementHandle<HTMLInputElement>;
      await input.uploadFile(scan);
      await page.waitForSelector('.crop-stage:not([hidden]) .cropper-container', { visible: true });
      await page.waitForSelector('.crop-preview img', { visible: true });
      t.pass('the crop box and the preview are shown');
      await page.click('.crop-stage [data-rotate="90"]');

      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form[data-crop] button[type="submit"]')]);
      t.equal(new URL(page.url()).pathname, '/me/attachments');
      const text = await bodyText(page);
      t.match(text, '上传成功');
      t.match(text, '状态：已提交');
      const stored = await storedScan(a.declarationId);
      t.ok(stored, 'a scan is stored');
      t.equal(stored!.mime, 'image/jpeg', 'the cropped canvas went up as JPEG');
      t.equal(stored!.original_name, 'table17.jpg');
      t.ok(stored!.type && stored!.type.height! > stored!.type.width!, `rotated to portrait (${stored!.type?.width}×${stored!.type?.height})`);
      t.same(problems.list, [], 'no JS errors, CSP violations or failed assets');
    } catch (err) {
      t.comment(`screenshot: ${await screenshot(page, 'table17-js')}`);
      throw err;
    }
  });

  t.test('without JS: the same form uploads the file as chosen', { timeout: 150_000 }, async (t) => {
    const a = await approvedApplicant('318', '13912340318', '王芳');
    const context = await browser.createBrowserContext();
    t.teardown(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.setJavaScriptEnabled(false);
    const problems = watchPage(page, server.url);
    try {
      await page.goto(`${server.url}/login`, { waitUntil: 'load' });
      await fill(page, '#f-account', a.phone);
      await fill(page, '#f-password', PASSWORD);
      await plainClick(page, 'form[action="/login"] button[type="submit"]', '/me');
      await page.goto(`${server.url}/me/attachments`, { waitUntil: 'load' });
      t.ok(await page.$eval('.crop-stage', (el) => (el as HTMLElement).hidden), 'the crop step stays hidden');
      const input = (await page.$('form[data-crop] input[type=file]')) as ElementHandle<HTMLInputElement>;
      await input.uploadFile(scan);
      await plainClick(page, 'form[data-crop] button[type="submit"]', '/me/attachments');
      t.match(await bodyText(page), '状态：已提交');
      const stored = await storedScan(a.declarationId);
      t.equal(stored?.mime, 'image/png', 'uploaded as chosen');
      t.equal(stored?.type?.width, 900);
      t.same(problems.list, []);
    } catch (err) {
      t.comment(`screenshot: ${await screenshot(page, 'table17-nojs')}`);
      throw err;
    }
  });
}

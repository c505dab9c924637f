/**
 * 评审会议 online in real Chromium (issue #16): the setup (four approved declarations in two
 * 学科组, the vote rule, the meeting, seven 评委 with 2FA) goes through the office's routes
 * in-process; the browser does the rest. The office (JavaScript on) opens round 1; the seven
 * members (JavaScript off) sign in with password and a TOTP code and vote; the office ends the
 * round through its confirmation page, opens a 复议 for 王芳, the 内科组 votes again and the
 * result changes; the 评审简表 batch is printed (one PDF, queue order, read with pdftotext).
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { Page } from 'puppeteer-core';
import { hashPassword } from '../../src/lib/passwords.js';
import { Agent, login, PASSWORD, TestClock, totpCode, type TestApp } from '../helpers/app.js';
import { approveByCommittee, kunming, likeDeclaration, submittedDeclaration } from '../helpers/world.js';
import { bodyText, boosted, browserOrSkip, fill, plainClick, screenshot, startServer, watchPage } from './helpers.js';

const browser = await browserOrSkip(t);

if (browser) {
  t.test('online meeting: 7 members in two groups vote, a 复议 changes a result, the 简表 batch prints', { timeout: 240_000 }, async (t) => {
    const clock = new TestClock(Date.parse('2026-12-20T01:00:00Z'));
    const server = await startServer({ now: clock.now });
    t.teardown(() => server.close());
    const app: TestApp = { ...server.built, clock, dir: server.dir, close: () => server.close() };
    const db = server.built.ctx.db;

    // ---- setup, in-process ----
    const w = await kunming(app);
    const zhang = await submittedDeclaration(app, w, { name: '张伟', seq: '231', phone: '13800138000' });
    await approveByCommittee(app, zhang.id);
    const d1 = zhang.id;
    const d2 = (await likeDeclaration(app, d1, '王芳', '242')).id;
    const d3 = (await likeDeclaration(app, d1, '刘强', '253')).id;
    const d4 = (await likeDeclaration(app, d1, '陈明', '264')).id;
    // Each copy gets its own frozen version under its own name (the 简表 prints the version).
    for (const [id, name] of [[d2, '王芳'], [d3, '刘强'], [d4, '陈明']] as const) {
      const { id: _v, declaration_id: _d, ...v } = await db.selectFrom('declaration_versions').selectAll().where('declaration_id', '=', d1).executeTakeFirstOrThrow();
      const snap = JSON.parse(v.snapshot);
      const row = await db.insertInto('declaration_versions').values({ ...v, declaration_id: id, snapshot: JSON.stringify({ ...snap, person: { ...snap.person, name } }) }).returning('id').executeTakeFirstOrThrow();
      await db.updateTable('declarations').set({ version_id: row.id }).where('id', '=', id).execute();
    }
    for (const [id, specialty] of [[d3, '普通外科'], [d4, '骨科']] as const) {
      const d = await db.selectFrom('declarations').select('cover').where('id', '=', id).executeTakeFirstOrThrow();
      await db.updateTable('declarations').set({ cover: JSON.stringify({ ...JSON.parse(d.cover), specialty }) }).where('id', '=', id).execute();
    }
    const office = new Agent(app);
    await login(office, 'staff', w.staff.committee);
    const post = async (page: string, url: string, body: Record<string, string>) => {
      await office.get(page);
      const r = await office.post(url, body);
      if (r.statusCode >= 400) throw new Error(`${url}: ${r.statusCode}`);
      return r;
    };
    const groupsPage = `/org/plans/${w.plan}/groups`;
    await post(groupsPage, groupsPage, { name: '内科组', specialties: '内科' });
    await post(groupsPage, groupsPage, { name: '外科组', specialties: '外科，骨科' });
    await post(groupsPage, `${groupsPage}/assign`, {});
    await post(groupsPage, `/org/plans/${w.plan}/vote-rule`, { pass_ratio: '2/3', reject_ratio: '', min_members: '3' });
    const [inner, outer] = (await db.selectFrom('eval_groups').select('id').where('plan_id', '=', w.plan).orderBy('id').execute()).map((g) => g.id);
    t.equal((await db.selectFrom('eval_group_decls').select('declaration_id').where('group_id', '=', outer!).execute()).length, 2, '外科组: 刘强 and 陈明');
    await post('/org/evaluations', '/org/evaluations/online', { plan_id: String(w.plan), meeting_date: '2026-12-20' });
    const meeting = (await db.selectFrom('evaluations').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
    const base = `/org/evaluations/${meeting}`;
    const members = [['m_zhao', '赵敏', inner], ['m_qian', '钱进', inner], ['m_sun', '孙悦', inner], ['m_li', '李静', inner], ['m_zhou', '周航', outer], ['m_wu', '吴迪', outer], ['m_zheng', '郑凯', outer]] as const;
    for (const [username, name, group] of members) await post(base, `${base}/members`, { username, name, group_id: String(group) });
    // The initial passwords were shown once to the office; here they are replaced, and each member enrols in 2FA.
    await db.updateTable('users').set({ password_hash: await hashPassword(PASSWORD), must_change_password: 0 }).where('username', 'like', 'm_%').execute();
    for (const [username] of members) {
      const r = await login(new Agent(app), 'staff', username);
      if (r.headers.location !== '/vote') throw new Error(`${username} did not land on /vote`);
    }
    const userId = async (username: string) => (await db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id;

    // ---- the browser ----
    const open = async (js: boolean) => {
      const ctx = await browser.createBrowserContext();
      t.teardown(() => ctx.close());
      const page = await ctx.newPage();
      page.setDefaultTimeout(10_000);
      await page.setJavaScriptEnabled(js);
      return { ctx, page, problems: watchPage(page, server.url) };
    };
    const rowText = (page: Page, round: number, id: number) => page.$eval(`#round-${round} tr.tally[data-decl="${id}"]`, (e) => (e as HTMLElement).innerText.replace(/\s+/g, ' '));

    let page: Page | null = null;
    let step = 'office: log in';
    try {
      const off = await open(true);
      page = off.page;
      await page.goto(`${server.url}/login?type=staff`, { waitUntil: 'load' });
      await fill(page, '#f-account', w.staff.committee);
      await fill(page, '#f-password', PASSWORD);
      await boosted(page, 'form[action="/login"] button[type="submit"]', '/org');
      await page.goto(`${server.url}${base}`, { waitUntil: 'load' });
      step = 'office: 开始第1轮表决';
      await boosted(page, `form[action="${base}/rounds"] button[type="submit"]`, base);
      t.match(await bodyText(page), '第1轮表决已开始（4份申报）');

      // Each member: password, then the code of their authenticator app; votes without JavaScript.
      const memberPages = new Map<string, Page>();
      const vote = async (username: string, choices: Record<number, string>, expect: string) => {
        step = `${username}: vote`;
        let p = memberPages.get(username);
        if (!p) {
          const m = await open(false);
          p = m.page;
          page = p;
          await p.goto(`${server.url}/login?type=staff`, { waitUntil: 'load' });
          await fill(p, '#f-account', username);
          await fill(p, '#f-password', PASSWORD);
          await plainClick(p, 'form[action="/login"] button[type="submit"]', '/login/2fa');
          await fill(p, '#f-code', await totpCode(app, await userId(username)));
          await plainClick(p, 'form[action="/login/2fa"] button[type="submit"]', '/vote');
          memberPages.set(username, p);
          await plainClick(p, `a[href="/vote/${meeting}"]`, `/vote/${meeting}`);
        } else {
          page = p;
          await p.goto(`${server.url}/vote/${meeting}`, { waitUntil: 'load' });
        }
        for (const [id, choice] of Object.entries(choices)) await p.click(`input[name="choice_${id}"][value="${choice}"]`);
        await plainClick(p, `form[action="/vote/${meeting}"] button[type="submit"]`, `/vote/${meeting}`);
        const text = await bodyText(p);
        t.match(text, expect, `${username} voted`);
        for (const id of Object.keys(choices)) t.equal(await p.$(`input[name="choice_${id}"]`), null, `${username}: no second vote offered on ${id}`);
      };
      // 内科组: 张伟 3 of 4 (passes 2/3), 王芳 2 of 4 (fails); 外科组: 刘强 3 of 3, 陈明 2 of 3.
      await vote('m_zhao', { [d1]: 'agree', [d2]: 'agree' }, '已投票2份');
      await vote('m_qian', { [d1]: 'agree', [d2]: 'agree' }, '已投票2份');
      await vote('m_sun', { [d1]: 'agree', [d2]: 'disagree' }, '已投票2份');
      await vote('m_li', { [d1]: 'disagree', [d2]: 'disagree' }, '已投票2份');
      await vote('m_zhou', { [d3]: 'agree', [d4]: 'agree' }, '已投票2份');
      await vote('m_wu', { [d3]: 'agree', [d4]: 'agree' }, '已投票2份');
      await vote('m_zheng', { [d3]: 'agree', [d4]: 'disagree' }, '已投票2份');
      const zhouPage = memberPages.get('m_zhou')!;
      t.notMatch(await bodyText(zhouPage), '张伟', 'a member sees only their group');

      step = 'office: 结束本轮 (confirm)';
      page = off.page;
      await page.goto(`${server.url}${base}`, { waitUntil: 'load' });
      t.match(await bodyText(page), '表决结束前不显示票数');
      await boosted(page, `a[href="${base}/rounds/close"]`, `${base}/rounds/close`);
      t.match(await bodyText(page), '确定结束第1轮表决吗');
      await boosted(page, `form[action="${base}/rounds/close"] button[type="submit"]`, base);
      t.match(await bodyText(page), '第1轮表决已结束，结果已计算');
      t.match(await rowText(page, 1, d1), /张伟.* 3 1 0 通过/);
      t.match(await rowText(page, 1, d2), /王芳.* 2 2 0 未通过/);
      t.match(await rowText(page, 1, d3), /刘强.* 3 0 0 通过/);
      t.match(await rowText(page, 1, d4), /陈明.* 2 1 0 通过/);
      t.notMatch(await bodyText(page), /赵敏[^，]*同意/, 'who voted how is nowhere');

      step = 'office: 复议 王芳';
      await page.click(`#round-1 input[name="decl"][value="${d2}"]`);
      await boosted(page, `#round-1 form[action="${base}/rounds"] button[type="submit"]`, base);
      t.match(await bodyText(page), '第2轮复议已开始（1份申报）');
      await vote('m_zhao', { [d2]: 'agree' }, '已投票1份');
      await vote('m_qian', { [d2]: 'agree' }, '已投票1份');
      await vote('m_sun', { [d2]: 'agree' }, '已投票1份');
      await vote('m_li', { [d2]: 'disagree' }, '已投票1份');
      step = 'office: 结束复议';
      page = off.page;
      await page.goto(`${server.url}${base}`, { waitUntil: 'load' });
      await boosted(page, `a[href="${base}/rounds/close"]`, `${base}/rounds/close`);
      t.match(await bodyText(page), '确定结束第2轮复议吗');
      await boosted(page, `form[action="${base}/rounds/close"] button[type="submit"]`, base);
      t.match(await rowText(page, 2, d2), /王芳.* 3 1 0 通过/, '复议 changed 王芳 to 通过');
      const votes = await db.selectFrom('evaluation_votes').select(['declaration_id', 'result']).where('evaluation_id', '=', meeting).orderBy('declaration_id').execute();
      t.same(votes.map((v) => v.result), ['passed', 'passed', 'passed', 'passed'], 'the meeting’s results, 王芳 from the 复议');
      const audits = await db.selectFrom('audit_log').select('user_id').where('action', '=', 'meeting_vote').where('result', '=', 'ok').execute();
      t.equal(audits.length, 7 + 4, 'the audit shows each member voted once per round');

      step = 'office: 评审简表 batch';
      const b64 = await page.evaluate(async (url) => {
        const r = await fetch(url);
        if (!r.ok) return `HTTP ${r.status}`;
        const bytes = new Uint8Array(await r.arrayBuffer());
        let s = '';
        for (const b of bytes) s += String.fromCharCode(b);
        return btoa(s);
      }, `${base}/briefs.pdf`);
      t.notMatch(b64, /^HTTP /, b64.slice(0, 20));
      const file = `${server.dir}/briefs.pdf`;
      writeFileSync(file, Buffer.from(b64, 'base64'));
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      const order = ['张伟', '王芳', '刘强', '陈明'].map((n) => text.indexOf(n));
      t.ok(order.every((i) => i >= 0), 'every declaration of the meeting');
      t.same([...order].sort((a, b) => a - b), order, 'in queue order: 内科组 then 外科组');
      t.equal(Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))![1]), 4, 'one page each');
      t.same(off.problems.list, [], 'no page problems (office)');
    } catch (err) {
      const shot = page ? await screenshot(page, `meeting-${step}`) : null;
      t.fail(`failed at step "${step}": ${err instanceof Error ? err.message : String(err)}`, { screenshot: shot, text: page ? (await bodyText(page).catch(() => '')).slice(0, 1500) : '' });
    }
  });
}

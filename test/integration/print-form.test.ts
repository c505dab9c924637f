/**
 * The review form's field-test defects (issue #19): 表十二 基层单位意见 with the unit's name,
 * date and electronic seal; the full 身份证号 on the printed form only; dates never broken;
 * 至今 for the current job; empty tables not a page each. The preview checks need no browser;
 * the PDF checks need Chromium and poppler-utils (test/helpers/print.ts).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, submittedDeclaration, approveByCommittee, makePng, org, uscc, type World } from '../helpers/world.js';
import { OPINION } from '../helpers/unitstage.js';
import { multipart } from '../helpers/files.js';
import { needsPrinter, printerConfig, keepPdf, pdftotext, pdfImages, ws } from '../helpers/print.js';

const OPINION_FULL = { ...OPINION, publicity: '已于2026-06-08至2026-06-12在本院公示栏公示5个工作日，无异议。' };
const SEAL_SIZE = 300;

async function staffAgent(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username} failed`);
  return a;
}

/** The unit's 单位签章 through 单位信息 (the no-JS upload form). */
async function uploadSeal(app: TestApp, unit: Agent) {
  await unit.get('/org/unit');
  const { payload, contentType } = await multipart('公章.png', makePng(SEAL_SIZE, SEAL_SIZE, 5), 'image/png', 'file', { csrf: unit.csrf() });
  const res = await app.app.inject({
    method: 'POST', url: '/org/unit/files/seal', payload,
    headers: { 'content-type': contentType, cookie: unit.cookieHeader() },
  });
  if (res.statusCode !== 303) throw new Error(`seal upload: ${res.statusCode}`);
}

/** 张伟 submitted; the unit has a seal; optionally its opinion saved and verified, all through the pages. */
async function setup(o: { printer?: boolean } = {}) {
  const app = await makeApp(o.printer ? printerConfig() : {});
  const w = await kunming(app);
  const { id, agent, user } = await submittedDeclaration(app, w);
  const unit = await staffAgent(app, w.staff.unit);
  await uploadSeal(app, unit);
  return { app, w, id, agent, user, unit };
}

async function saveOpinion(unit: Agent, id: number) {
  await unit.get(`/org/unit-stage/${id}/opinion`);
  const r = await unit.post(`/org/unit-stage/${id}/opinion`, OPINION_FULL);
  if (r.statusCode !== 303) throw new Error(`opinion: ${r.statusCode}`);
}

async function verify(unit: Agent, id: number) {
  await unit.get(`/org/unit-stage/${id}`);
  const r = await unit.post(`/org/unit-stage/${id}/verify`, {});
  if (r.statusCode !== 303) throw new Error(`verify: ${r.statusCode}`);
}

/** The 表十二 section of a page's form. */
const table12 = (html: string) => /<h2>表十二　基层单位意见<\/h2>([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';

t.test('preview: 表十二 shows every saved field, the unit and, once verified, the seal; the ID stays masked', async (t) => {
  const { app, w, id, agent, user, unit } = await setup();
  t.teardown(() => app.close());
  const masked = `${user.id.slice(0, 4)}**********${user.id.slice(14)}`;

  // Nothing saved yet: the labelled blank form, no seal.
  let box = table12((await agent.get(`/me/records/${id}/form`)).body);
  for (const label of ['单位对申报人的评价意见', '推荐方式', '参与推荐的人员范围及人数', '推荐意见', '意见形成情况', '公示情况']) t.match(box, label, `label ${label}`);
  t.notMatch(box, OPINION.evaluation);
  t.notMatch(box, 'rf-seal');
  t.match(box, '（单位盖章）　<span class="rf-date">　　年　　月　　日</span>');

  // Saved, not yet verified: every field prints, with the unit's name; no seal, no date.
  await saveOpinion(unit, id);
  const page = (await agent.get(`/me/records/${id}/form`)).body;
  box = table12(page);
  for (const [k, v] of Object.entries(OPINION_FULL)) {
    const cell = new RegExp(`<tr class="rf-op-${k}"><th class="rf-label">[^<]+</th><td class="pre">([\\s\\S]*?)</td></tr>`).exec(box)?.[1] ?? '';
    t.equal(cell.replace(/<[^>]+>/g, ''), v, `${k} printed in its row`);
  }
  t.match(box, '单位名称：<span class="rf-name">昆明市第一人民医院</span>');
  t.notMatch(box, 'rf-seal', 'no seal before 核验');
  t.equal((await agent.get(`/me/records/${id}/seal`)).statusCode, 404, 'nor its URL');
  t.equal(/<td colspan="3" class="rf-id">(.*?)<\/td>/.exec(page)?.[1]?.replace(/<[^>]+>/g, ''), masked, 'the preview shows the masked ID');
  t.notMatch(page, user.id, 'never the full ID on screen');

  // Verified: the seal prints over 单位盖章 with the date of 核验 (the test clock: 2026-06-15 China).
  await verify(unit, id);
  box = table12((await agent.get(`/me/records/${id}/form`)).body);
  t.match(box, `<img class="rf-seal" src="/me/records/${id}/seal" alt="昆明市第一人民医院电子签章">`);
  t.match(box.replace(/<[^>]+>/g, ''), '（单位盖章）　2026年6月15日');
  const img = await agent.get(`/me/records/${id}/seal`);
  t.equal(img.statusCode, 200);
  t.equal(img.headers['content-type'], 'image/png');
  t.match(img.headers['cache-control'], 'no-store');

  // 表十七 stays blank for the offline signatures and stamps (seed 001 §4.3).
  const t17 = /<h2>表十七　审核推荐意见和评审结果确认意见<\/h2>([\s\S]*?)<\/section>/.exec((await agent.get(`/me/records/${id}/form`)).body)?.[1] ?? '';
  t.match(t17, '（盖章）　　　年　　月　　日');
  t.notMatch(t17, /rf-seal|同意推荐|2026年6月15日/, '表十七 blank');

  // Staff in scope see the same, through their own scoped URL; others get 404.
  const staffBox = table12((await unit.get(`/org/reviews/${id}`)).body);
  t.match(staffBox, `src="/org/reviews/${id}/seal"`);
  t.equal((await unit.get(`/org/reviews/${id}/seal`)).statusCode, 200);
  const other = await org(app, { kind: 'unit', name: '昆明市第二人民医院', uscc: uscc(2), nature: 'institution', unit_level: 'city', region_code: '530102', supervisor_org_id: w.supervisor, supervisor_status: 'approved' });
  await createStaff(app, { username: 'unit2_wu', name: '吴敏', orgId: other, roles: '' });
  const stranger = await staffAgent(app, 'unit2_wu');
  t.equal((await stranger.get(`/org/reviews/${id}/seal`)).statusCode, 404, 'another unit: 404');
  const committee = await staffAgent(app, w.staff.committee);
  t.equal((await committee.get(`/org/reviews/${id}/seal`)).statusCode, 404, 'the committee before it reaches them: 404');
});

t.test('preview: dates are kept whole, numbers in the text face, 至今 for the current job', async (t) => {
  const { app, id, agent } = await setup();
  t.teardown(() => app.close());
  const page = (await agent.get(`/me/records/${id}/form`)).body;
  t.match(page, '（<span class="rf-num rf-nw">2019-09-01</span>）', '现有职称 date in one nowrap span');
  t.match(page, '<td><span class="rf-num rf-nw">2010-08-01</span></td><td>至今</td>', '工作经历: 2010-08-01 至今, not the printing day');
});

t.test('PDF: 表十二 with the opinion, date and seal image; the full ID on 表一; layout defects gone', async (t) => {
  if (!needsPrinter(t)) return;
  const { app, id, agent, user, unit } = await setup({ printer: true });
  t.teardown(() => app.close());
  await saveOpinion(unit, id);
  await verify(unit, id);
  await approveByCommittee(app, id);

  const res = await agent.get(`/me/records/${id}/pdf`);
  t.equal(res.statusCode, 200, res.statusCode === 200 ? 'PDF' : res.body.slice(0, 300));
  const file = keepPdf(t, 'form-table12.pdf', res.rawPayload);
  const raw = pdftotext(file);
  const pages = raw.split('\f');
  const flat = ws(raw);

  // 表一: the full number on the printed form (the preview stays masked, above).
  t.ok(flat.includes(`身份证号${user.id}`), 'full 身份证号 on 表一');
  t.notOk(flat.includes('**********'), 'no masked number anywhere');

  // 表十二: every field, the unit, the date; the seal is drawn (the 300×300 image beside the photo).
  const p12 = pages.findIndex((p) => ws(p).includes('表十二基层单位意见') && !ws(p).includes('表十三初级职称评审委员会评审记录表十四'));
  t.ok(p12 >= 0, '表十二 printed');
  const box = ws(pages.slice(p12).join(''));
  for (const v of Object.values(OPINION_FULL)) t.ok(box.includes(ws(v)), `prints ${v.slice(0, 12)}…`);
  t.ok(box.includes('单位名称：昆明市第一人民医院'));
  t.ok(box.includes('（单位盖章）2026年6月15日'), 'the date of 核验');
  const images = pdfImages(file);
  t.ok(images.some((i) => i.width === SEAL_SIZE && i.height === SEAL_SIZE), `the seal image is in the PDF (${JSON.stringify(images)})`);

  // A date never breaks inside a number; the current job ends 至今.
  t.ok(raw.includes('（2019-09-01）'), '现有职称 date on one line');
  t.ok(flat.includes('2010-08-01至今'), '工作经历 prints 至今');
  // 张伟 has no projects, patents, awards, books or continuing education: those five empty
  // tables share a page instead of taking one each.
  const pageOf = (h: string) => pages.findIndex((p, i) => i > 1 && ws(p).includes(h));
  const empties = ['表五承担课题', '表六获得专利', '表七获得表彰奖励情况', '表八撰写著作情况'].map(pageOf);
  t.ok(empties.every((p) => p > 0 && p === empties[0]), `empty tables on one page (${empties.join(',')})`);

  if (process.env.PRINT_TEST_KEEP) {
    execFileSync('pdftoppm', ['-png', '-r', '60', file, path.join(process.env.PRINT_TEST_KEEP, 'form-table12')]);
  }
});

import t from 'tap';
import readXlsxFile from 'read-excel-file/node';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, org, uscc, declareThroughUi, submitThroughUi as submitDeclaration, type World } from '../helpers/world.js';
import { menuFor } from '../../src/lib/menu.js';

/** An applicant fills the cover, the slots, and submits with the pledge, all through the UI. */
async function submitThroughUi(app: TestApp, w: World, who: { userId: number; phone: string }) {
  const a = new Agent(app);
  await login(a, 'applicant', who.phone);
  const declId = await declareThroughUi(app, a, w, who.userId);
  await submitDeclaration(a, declId);
  return { declId, agent: a };
}

async function setup() {
  const app = await makeApp();
  const w = await kunming(app);
  const zhang = await readyApplicant(app, w.unit, { name: '张伟', seq: '231', phone: '13800138000' });
  const wang = await readyApplicant(app, w.unit, { name: '王芳', seq: '142', phone: '13900139000' });
  const z = await submitThroughUi(app, w, zhang);
  const f = await submitThroughUi(app, w, wang);
  const planName = (await app.ctx.db.selectFrom('plans').select('name').where('id', '=', w.plan).executeTakeFirstOrThrow()).name;
  return { app, w, z, f, planName };
}

async function staffAgent(app: TestApp, username: string) {
  const a = new Agent(app);
  const res = await login(a, 'staff', username);
  if (res.statusCode !== 303) throw new Error(`login ${username}: ${res.statusCode}`);
  return a;
}

const total = (html: string, label: string) => Number(new RegExp(`<dt>${label}</dt><dd>(\\d+) `).exec(html)?.[1]);
/** The numbers table of one group: [label, count] rows. */
function table(html: string, groupTitle: string): [string, number][] {
  const section = new RegExp(`<h2 id="h-\\w+">${groupTitle}</h2>([\\s\\S]*?)</section>`).exec(html)?.[1] ?? '';
  return [...section.matchAll(/<tr><td>([^<]*)<\/td><td>(\d+)<\/td><\/tr>/g)].map((m) => [m[1]!, Number(m[2])]);
}
const svgs = (html: string) => html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];

async function xlsxRows(a: Agent, url: string) {
  const res = await a.t.app.inject({ method: 'GET', url, headers: { cookie: [...a.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  return { res, rows: res.statusCode === 200 ? ((await readXlsxFile(res.rawPayload)) as unknown[][]) : [] };
}

t.test('the unit sees its two declarations counted, each group a chart beside its table', async (t) => {
  const { app, w, planName } = await setup();
  t.teardown(() => app.close());
  const unit = await staffAgent(app, w.staff.unit);
  const home = await unit.get('/org');
  t.match(home.body, '<a href="/org/stats">统计</a>', 'menu entry for org staff');
  const res = await unit.get('/org/stats');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['cache-control'], 'no-store');
  const html = res.body;
  t.equal(total(html, '申报总数'), 2);
  t.equal(total(html, '返回修改和重置流程'), 0);
  t.equal(total(html, '审核通过'), 0);
  t.same(table(html, '按评审计划'), [[planName, 2]]);
  t.same(table(html, '按审核环节'), [['单位审核', 2]]);
  t.same(table(html, '按申报状态'), [['审核中', 2]]);
  t.same(table(html, '按申报级别'), [['副高级', 2]]);
  t.same(table(html, '按单位'), [['昆明市第一人民医院', 2]]);
  const charts = svgs(html);
  t.equal(charts.length, 5, 'one chart per group');
  for (const s of charts) {
    t.match(s, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" role="img" aria-label="[^"]+"/);
    t.match(s, /<title>按[^<]+统计<\/title>/);
    t.notMatch(s, 'style=', 'no inline styles (CSP)');
  }
  t.match(charts[1]!, 'aria-label="按审核环节统计：单位审核 2人"');
  t.notMatch(html, /<script(?![^>]*src=)/, 'no inline script on the page');
  t.match(html, 'href="/org/stats/export.xlsx" hx-boost="false"');

  // Filters: another year has nothing; the plan filter keeps both; the export link keeps them.
  const other = await unit.get('/org/stats?year=2025');
  t.equal(total(other.body, '申报总数'), 0);
  t.same(table(other.body, '按审核环节'), []);
  t.match(other.body, '暂无数据');
  const byPlan = await unit.get(`/org/stats?year=2026&plan=${w.plan}`);
  t.equal(total(byPlan.body, '申报总数'), 2);
  t.match(byPlan.body, `href="/org/stats/export.xlsx?year=2026&amp;plan=${w.plan}"`);
  t.match(byPlan.body, `<option value="${w.plan}" selected>`);
});

t.test('stages, statuses, returns and passes follow the declarations', async (t) => {
  const { app, w, z, f } = await setup();
  t.teardown(() => app.close());
  // 张伟 approved by the committee after one return; 王芳 at the supervisor after two.
  await app.ctx.db.updateTable('declarations').set({ status: 'approved', stage: 2, returns_count: 1 }).where('id', '=', z.declId).execute();
  await app.ctx.db.updateTable('declarations').set({ stage: 1, returns_count: 2 }).where('id', '=', f.declId).execute();
  const unit = await staffAgent(app, w.staff.unit);
  const html = (await unit.get('/org/stats')).body;
  t.equal(total(html, '申报总数'), 2);
  t.equal(total(html, '返回修改和重置流程'), 3, 'sum of returns_count');
  t.equal(total(html, '审核通过'), 1);
  t.same(table(html, '按审核环节'), [['主管部门审核', 1], ['评委会审核通过', 1]], 'in route order');
  t.same(table(html, '按申报状态'), [['审核中', 1], ['评委会电子材料审核通过，可打印申报表', 1]]);

  const sup = await staffAgent(app, w.staff.supervisor);
  t.equal(total((await sup.get('/org/stats')).body, '申报总数'), 2, 'the supervisor: both have reached or passed it');

  const { res, rows } = await xlsxRows(unit, '/org/stats/export.xlsx');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  t.equal(res.headers['cache-control'], 'no-store');
  t.match(String(res.headers['content-disposition']), `attachment; filename="statistics-20260615.xlsx"; filename*=UTF-8''${encodeURIComponent('申报统计-20260615.xlsx')}`);
  t.same(rows[0], ['分类', '项目', '数量']);
  t.same(rows.slice(1, 4), [['合计', '申报总数', 2], ['合计', '返回修改和重置流程次数', 3], ['合计', '审核通过', 1]]);
  const find = (g: string, l: string) => rows.find((r) => r[0] === g && r[1] === l)?.[2];
  t.equal(find('按审核环节', '评委会审核通过'), 1);
  t.equal(find('按审核环节', '主管部门审核'), 1);
  t.equal(find('按申报级别', '副高级'), 2);
  t.equal(find('按单位', '昆明市第一人民医院'), 2);
  t.equal(rows.length, 1 + 3 + 1 + 2 + 2 + 1 + 1, 'header, totals, then every group row');
});

t.test('scope: another unit sees zero totals and no names; the committee only from its stage', async (t) => {
  const { app, w, planName } = await setup();
  t.teardown(() => app.close());
  const other = await org(app, { kind: 'unit', name: '昆明市第二人民医院', uscc: uscc(2), nature: 'institution', unit_level: 'city', region_code: '530102', supervisor_org_id: w.supervisor, supervisor_status: 'approved' });
  await createStaff(app, { username: 'unit2_wu', name: '吴敏', orgId: other, roles: '' });
  const stranger = await staffAgent(app, 'unit2_wu');
  for (const url of ['/org/stats', `/org/stats?plan=${w.plan}`, '/org/stats?year=2026']) {
    const html = (await stranger.get(url)).body;
    t.equal(total(html, '申报总数'), 0, url);
    t.equal(total(html, '返回修改和重置流程'), 0);
    t.equal(total(html, '审核通过'), 0);
    t.notMatch(html, '昆明市第一人民医院', 'no unit names of others');
    t.notMatch(html, planName, 'no plan of others, not even in the filter');
    t.notMatch(html, /<rect /, 'no bars');
  }
  const { rows } = await xlsxRows(stranger, `/org/stats/export.xlsx?plan=${w.plan}`);
  t.same(rows, [['分类', '项目', '数量'], ['合计', '申报总数', 0], ['合计', '返回修改和重置流程次数', 0], ['合计', '审核通过', 0]]);

  const committee = await staffAgent(app, w.staff.committee);
  t.equal(total((await committee.get('/org/stats')).body, '申报总数'), 0, 'nothing before the committee stage');
  await app.ctx.db.updateTable('declarations').set({ stage: 2 }).execute();
  const html = (await committee.get('/org/stats')).body;
  t.equal(total(html, '申报总数'), 2);
  t.same(table(html, '按审核环节'), [['评委会电子材料审核', 2]]);
  t.equal(total((await stranger.get('/org/stats')).body, '申报总数'), 0, 'still nothing for the other unit');
});

t.test('labels are escaped in tables and charts', async (t) => {
  const { app, w } = await setup();
  t.teardown(() => app.close());
  await app.ctx.db.updateTable('plans').set({ name: '<script>alert(1)</script>计划' }).where('id', '=', w.plan).execute();
  const unit = await staffAgent(app, w.staff.unit);
  const html = (await unit.get('/org/stats')).body;
  t.notMatch(html, '<script>alert(1)');
  t.match(html, '&lt;script&gt;alert(1)&lt;/script&gt;计划');
  t.match(svgs(html)[0]!, 'aria-label="按评审计划统计：&lt;script&gt;alert(1)&lt;/script&gt;计划 2人"');
});

t.test('staff only: applicants 403; the menu has 统计 for org staff, not for platform admins', async (t) => {
  const { app, z } = await setup();
  t.teardown(() => app.close());
  t.equal((await z.agent.get('/org/stats')).statusCode, 403);
  t.equal((await z.agent.get('/org/stats/export.xlsx')).statusCode, 403);
  t.equal((await app.app.inject({ method: 'GET', url: '/org/stats' })).statusCode, 303);
  const has = (u: Parameters<typeof menuFor>[0]) => menuFor(u).some((i) => i.href === '/org/stats');
  t.notOk(has({ kind: 'staff', roles: ['admin'], orgKind: 'platform' }));
  for (const orgKind of ['unit', 'supervisor', 'hrb', 'committee', 'agency']) t.ok(has({ kind: 'staff', roles: [], orgKind }), orgKind);
  t.notOk(has({ kind: 'applicant', roles: [], orgKind: null }));
});

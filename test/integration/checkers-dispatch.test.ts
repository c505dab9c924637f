import t from 'tap';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi, likeDeclaration, makePng, org, uscc, type World } from '../helpers/world.js';
import { OPINION, PLEDGE, REPORT, postRecommend } from '../helpers/unitstage.js';
import { storeFile, attach } from '../../src/features/files/service.js';
import { unspan } from '../helpers/print.js';

// Issue #15: 职能部门审核 inside one unit (seed 004 客户端) and dispatch workers' two unit
// stages (seed 002 Q10, Q18 双公示、双审核、双盖章). One app for the file.

const decl = (app: TestApp, id: number) => app.ctx.db.selectFrom('declarations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const text = (html: string) => unspan(html).replace(/<[^>]+>/g, '');

/** Moves the clock and signs the agent in again (sessions expire; password expiry is tested elsewhere). */
async function at(app: TestApp, iso: string, agent: Agent, username: string) {
  app.clock.t = Date.parse(iso);
  await app.ctx.db.updateTable('users').set({ password_changed_at: iso }).execute();
  agent.cookies.clear();
  await login(agent, 'staff', username);
}

/** A unit's whole stage for one declaration: opinion, 核验, publicity (start, let it run, complete), 推荐上报. */
async function unitStage(app: TestApp, s: Agent, username: string, id: number, opinion: typeof OPINION, days: { start: string; over: string }) {
  await s.get(`/org/unit-stage/${id}/opinion`);
  let res = await s.post(`/org/unit-stage/${id}/opinion`, opinion);
  if (res.statusCode !== 303) throw new Error(`opinion ${res.statusCode}`);
  await s.get(`/org/unit-stage/${id}`);
  res = await s.post(`/org/unit-stage/${id}/verify`, {});
  if (res.statusCode !== 303) throw new Error(`verify ${res.statusCode}: ${text(res.body).slice(0, 300)}`);
  await s.get('/org/publicity/new');
  res = await s.post('/org/publicity', { title: `关于${username}单位职称申报人员的公示`, start_date: days.start, days: '5', contact_phone: '0871-63638888', contact_address: '人事科', ids: [String(id)] });
  if (res.statusCode !== 303) throw new Error(`publicity ${res.statusCode}: ${text(res.body).slice(0, 300)}`);
  const pubId = Number(/\/org\/publicity\/(\d+)/.exec(String(res.headers.location))![1]);
  await at(app, days.over, s, username);
  await s.get(`/org/publicity/${pubId}`);
  res = await s.post(`/org/publicity/${pubId}/complete`, { [`result_${id}`]: 'none' });
  if (res.statusCode !== 303) throw new Error(`complete ${res.statusCode}: ${text(res.body).slice(0, 300)}`);
  res = await postRecommend(app, s, [id], [PLEDGE, REPORT]);
  if (res.statusCode !== 303) throw new Error(`recommend ${res.statusCode}: ${text(res.body).slice(0, 300)}`);
  return pubId;
}

async function sealOf(app: TestApp, orgId: number, uploader: number, shade: number) {
  const f = await storeFile(app.ctx, uploader, { filename: '公章.png', buffer: makePng(120, 120, shade) }, 'doc');
  if (!f.ok) throw new Error(f.error);
  await app.ctx.db.updateTable('orgs').set({ seal_file_id: f.fileId }).where('id', '=', orgId).execute();
}

t.test('checkers and dispatch workers', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w: World = await kunming(app);

  // ---------------------------------------------------------------------------------
  // 职能部门审核

  await createStaff(app, { username: 'unit_wanggang', name: '王刚', orgId: w.unit, roles: 'unit_admin' });
  const zhou = await createStaff(app, { username: 'hr_zhoumin', name: '周敏', orgId: w.unit, roles: '' });
  const wu = await createStaff(app, { username: 'xg_wulei', name: '吴磊', orgId: w.unit, roles: '' });

  // 张伟, born 1990 (under 40): both checkers apply; 李强 (born 1986, 40 in 2026): only 人事处.
  const zhangUser = await readyApplicant(app, w.unit, { birth: '19900307', seq: '415' });
  const za = new Agent(app);
  await login(za, 'applicant', zhangUser.phone);
  const zhangId = await declareThroughUi(app, za, w, zhangUser.userId);
  await submitThroughUi(za, zhangId);
  const li = await likeDeclaration(app, zhangId, '李强', '301');

  const admin = new Agent(app);
  await login(admin, 'staff', 'unit_wanggang');
  let page = await admin.get('/org/checkers');
  t.equal(page.statusCode, 200);
  t.match(page.body, '尚未设置职能部门审核');
  let res = await admin.post('/org/checkers', { name: '', user_id: '999999', applies_to: 'all' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请填写审核部门');
  t.match(res.body, '请选择本单位的审核人员账号');
  t.equal((await admin.post('/org/checkers', { name: '人事处（论文著作）', user_id: String(zhou.userId), applies_to: 'all' })).statusCode, 303);
  t.equal((await admin.post('/org/checkers', { name: '学工部（学生思想政治工作）', user_id: String(wu.userId), applies_to: 'under40' })).statusCode, 303);
  const checkers = await app.ctx.db.selectFrom('unit_checkers').selectAll().orderBy('id').execute();
  t.same(checkers.map((c) => [c.name, c.applies_to]), [['人事处（论文著作）', 'all'], ['学工部（学生思想政治工作）', 'under40']]);
  const lina = new Agent(app);
  await login(lina, 'staff', w.staff.unit);
  t.equal((await lina.get('/org/checkers')).statusCode, 403, 'only the unit admin defines checkers');

  // The clerk's opinion, then 核验通过: refused while checkers are missing, with their names.
  await lina.get(`/org/unit-stage/${zhangId}/opinion`);
  t.equal((await lina.post(`/org/unit-stage/${zhangId}/opinion`, OPINION)).statusCode, 303);
  page = await lina.get(`/org/unit-stage/${zhangId}`);
  t.notMatch(page.body, '>核验通过</button>', 'not offered');
  t.match(page.body, '以下职能部门尚未审核：人事处（论文著作）（周敏，hr_zhoumin）、学工部（学生思想政治工作）（吴磊，xg_wulei）');
  res = await lina.post(`/org/unit-stage/${zhangId}/verify`, {});
  t.equal(res.statusCode, 409);
  t.match(res.body, '人事处（论文著作）（周敏');
  t.match(res.body, '学工部（学生思想政治工作）（吴磊');
  t.equal((await decl(app, zhangId)).unit_verified_at, null);

  // The checkers' queues: 吴磊 (under 40 only) sees 张伟, not 李强.
  const zm = new Agent(app);
  await login(zm, 'staff', 'hr_zhoumin');
  page = await zm.get('/org/checks');
  t.match(page.body, '张伟');
  t.match(page.body, '李强');
  const wl = new Agent(app);
  await login(wl, 'staff', 'xg_wulei');
  page = await wl.get('/org/checks');
  t.match(page.body, '张伟');
  t.notMatch(page.body, '李强', 'over 40: not for 学工部');

  const [hr, xg] = checkers as [typeof checkers[0], typeof checkers[0]];
  await zm.get(`/org/checks/${zhangId}`);
  res = await zm.post(`/org/checks/${zhangId}/${hr.id}`, { verdict: '', opinion: '' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请选择审核结果（同意或不同意）');
  t.match(res.body, '请填写审核意见');
  res = await zm.post(`/org/checks/${zhangId}/${xg.id}`, { verdict: '同意', opinion: '代签' });
  t.equal(res.statusCode, 404, 'another person\'s checker');
  res = await zm.post(`/org/checks/${zhangId}/${hr.id}`, { verdict: '同意', opinion: '论文著作真实有效，符合申报条件。' });
  t.equal(res.statusCode, 303);

  // A checker of another unit acting on this unit's declaration: 404.
  const other = await org(app, { kind: 'unit', name: '昆明市延安医院', uscc: uscc(9), nature: 'institution', unit_level: 'city', region_code: '530102' });
  const qian = await createStaff(app, { username: 'yanan_qian', name: '钱进', orgId: other, roles: '' });
  const otherChecker = await app.ctx.db.insertInto('unit_checkers').values({ org_id: other, name: '人事处', user_id: qian.userId, applies_to: 'all', created_at: app.clock.now().toISOString(), removed_at: null }).returning('id').executeTakeFirstOrThrow();
  const qa = new Agent(app);
  await login(qa, 'staff', 'yanan_qian');
  t.equal((await qa.get(`/org/checks/${zhangId}`)).statusCode, 404);
  await qa.get('/org/checks');
  t.equal((await qa.post(`/org/checks/${zhangId}/${otherChecker.id}`, { verdict: '同意', opinion: '同意' })).statusCode, 404);
  t.equal(await app.ctx.db.selectFrom('checker_signoffs').select('id').where('org_id', '=', other).execute().then((r) => r.length), 0);

  // Still missing 学工部; then 不同意 blocks; 同意 lets 核验通过 through.
  res = await lina.post(`/org/unit-stage/${zhangId}/verify`, {});
  t.equal(res.statusCode, 409);
  t.match(res.body, '学工部（学生思想政治工作）（吴磊');
  t.notMatch(res.body, '人事处（论文著作）（周敏');
  await wl.get(`/org/checks/${zhangId}`);
  t.equal((await wl.post(`/org/checks/${zhangId}/${xg.id}`, { verdict: '不同意', opinion: '学生工作考核材料不全。' })).statusCode, 303);
  res = await lina.post(`/org/unit-stage/${zhangId}/verify`, {});
  t.equal(res.statusCode, 409);
  t.match(res.body, '审核意见为“不同意”');
  t.equal((await wl.post(`/org/checks/${zhangId}/${xg.id}`, { verdict: '同意', opinion: '学生思想政治工作考核合格。' })).statusCode, 303);
  page = await lina.get(`/org/unit-stage/${zhangId}`);
  t.match(page.body, '>核验通过</button>', 'offered once all signed');
  t.equal((await lina.post(`/org/unit-stage/${zhangId}/verify`, {})).statusCode, 303);
  t.ok((await decl(app, zhangId)).unit_verified_at);
  t.equal((await wl.post(`/org/checks/${zhangId}/${xg.id}`, { verdict: '不同意', opinion: '改主意' })).statusCode, 409, 'locked after 核验');

  // 李强: only 人事处 applies.
  await lina.get(`/org/unit-stage/${li.id}/opinion`);
  await lina.post(`/org/unit-stage/${li.id}/opinion`, OPINION);
  res = await lina.post(`/org/unit-stage/${li.id}/verify`, {});
  t.equal(res.statusCode, 409);
  t.notMatch(res.body, '学工部');
  await zm.post(`/org/checks/${li.id}/${hr.id}`, { verdict: '同意', opinion: '材料齐全。' });
  t.equal((await lina.post(`/org/unit-stage/${li.id}/verify`, {})).statusCode, 303);

  // The opinions print in 表十二 of the form (the staff's preview).
  page = await lina.get(`/org/reviews/${zhangId}`);
  const form = text(page.body);
  t.match(form, '人事处（论文著作）同意。论文著作真实有效，符合申报条件。（周敏，');
  t.match(form, '学工部（学生思想政治工作）同意。学生思想政治工作考核合格。（吴磊，');
  const audits = await app.ctx.db.selectFrom('audit_log').select('action').where('action', 'in', ['unit_checker_add', 'unit_check']).execute();
  t.equal(audits.filter((a) => a.action === 'unit_checker_add').length, 2);
  t.ok(audits.filter((a) => a.action === 'unit_check').length >= 4, 'every sign-off audited');

  // ---------------------------------------------------------------------------------
  // 派遣人员: dispatch company → employer → county HRB, two publicities, two 表十二

  // The hospital's checkers would hold its stage: this part is about the two units.
  await app.ctx.db.updateTable('unit_checkers').set({ removed_at: app.clock.now().toISOString() }).where('org_id', '=', w.unit).execute();
  const company = await org(app, {
    kind: 'unit', name: '云南人力派遣服务有限公司', uscc: uscc(7), phone: '0871-65550000', address: '昆明市五华区人民中路1号', nature: 'non_public', unit_level: 'county', region_code: '530102',
  });
  await createStaff(app, { username: 'pq_zhengjie', name: '郑洁', orgId: company, roles: '' });
  const zhao = await readyApplicant(app, company, { name: '王芳', seq: '522', phone: '13800138522', birth: '19880808' });
  const profileRow = await app.ctx.db.selectFrom('profiles').select('data').where('user_id', '=', zhao.userId).executeTakeFirstOrThrow();
  const za2 = new Agent(app);
  await login(za2, 'applicant', zhao.phone);

  // The profile form: 是否劳务派遣人员 = 是 needs a 用工单位 other than the 工作单位.
  await za2.get('/me/profile');
  const profile = Object.fromEntries(Object.entries(JSON.parse(profileRow.data) as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  const base = { ...profile, name: '王芳', unit_org_id: String(company), dispatched: '是' };
  res = await za2.post('/me/profile', base);
  t.equal(res.statusCode, 422);
  t.match(res.body, '劳务派遣人员请选择用工单位');
  res = await za2.post('/me/profile', { ...base, employer_org_id: String(company) });
  t.match(res.body, '用工单位不能与工作单位（派遣单位）相同');
  res = await za2.post('/me/profile', { ...base, _search: 'employer', employer_q: '第一人民' });
  t.match(res.body, `<option value="${w.unit}">昆明市第一人民医院</option>`, 'the search finds the employer');
  res = await za2.post('/me/profile', { ...base, employer_org_id: String(w.unit) });
  t.equal(res.statusCode, 303, [...res.body.matchAll(/class="err"[^>]*>([^<]*)/g)].map((m) => m[1]).join(' '));
  t.equal(JSON.parse((await app.ctx.db.selectFrom('profiles').select('data').where('user_id', '=', zhao.userId).executeTakeFirstOrThrow()).data).employer_org_id, String(w.unit));

  // Step 3: the 派遣协议 slot, required, with the reason.
  const zhaoId = await declareThroughUi(app, za2, w, zhao.userId);
  page = await za2.get('/me/declaration?step=3');
  t.match(page.body, '劳务派遣协议（首尾页）');
  t.match(page.body, '可只提供派遣工作性质的内容及协议首尾页');
  page = await za2.get('/me/declaration?step=4');
  t.match(text(page.body), '还有必填项未完成', 'no submit without the agreement');
  const agreement = await storeFile(app.ctx, zhao.userId, { filename: '派遣协议.png', buffer: makePng(100, 140, 77) }, 'doc');
  if (!agreement.ok) throw new Error(agreement.error);
  await attach(app.ctx, zhao.userId, 'declaration', zhaoId, 'dispatch_agreement', agreement.fileId);
  await submitThroughUi(za2, zhaoId);
  let d = await decl(app, zhaoId);
  t.same(JSON.parse(d.route!).map((s: { kind: string; orgId: number; label: string }) => [s.kind, s.orgId, s.label]), [
    ['unit', company, '派遣单位审核'], ['unit', w.unit, '用工单位审核'], ['hrb_county', w.countyHrb, '县(市)区人社局审核'], ['committee', w.committee, '评委会电子材料审核'],
  ]);

  // The employer does not see it before the dispatch company has recommended it.
  t.equal((await lina.get(`/org/unit-stage/${zhaoId}`)).statusCode, 404);

  await sealOf(app, company, zhao.userId, 5);
  await sealOf(app, w.unit, zhao.userId, 9);
  const zj = new Agent(app);
  await at(app, '2026-06-15T02:00:00Z', zj, 'pq_zhengjie');
  const companyOpinion = { ...OPINION, evaluation: '该同志派驻期间遵守劳动纪律，派遣单位同意推荐。', scope: '公司推荐小组5人' };
  const pub1 = await unitStage(app, zj, 'pq_zhengjie', zhaoId, companyOpinion, { start: '2026-06-15', over: '2026-06-25T02:00:00Z' });
  d = await decl(app, zhaoId);
  t.equal(d.stage, 1, 'on to the employer');
  t.equal(d.status, 'reviewing');
  t.equal(d.unit_opinion, null, 'the employer writes its own opinion');
  t.equal(d.publicity_state, null, 'and runs its own publicity');
  const rec1 = await app.ctx.db.selectFrom('unit_stage_records').selectAll().where('declaration_id', '=', zhaoId).execute();
  t.same(rec1.map((r) => [r.stage, r.org_id, r.publicity_state, !!r.unit_verified_at, !!r.recommendation_id]), [[0, company, 'no_objection', true, true]]);

  await at(app, '2026-06-25T03:00:00Z', lina, w.staff.unit);
  page = await lina.get('/org/unit-stage');
  t.match(page.body, '王芳');
  t.match(page.body, '待填写基层单位意见');
  const hospitalOpinion = { ...OPINION, evaluation: '该同志在我院心内科工作，业务能力突出，用工单位同意推荐。' };
  const pub2 = await unitStage(app, lina, w.staff.unit, zhaoId, hospitalOpinion, { start: '2026-06-25', over: '2026-07-06T02:00:00Z' });
  d = await decl(app, zhaoId);
  t.equal(d.stage, 2, 'on to the county HRB');
  const pubs = await app.ctx.db.selectFrom('publicities as p').innerJoin('publicity_items as i', 'i.publicity_id', 'p.id').select(['p.id', 'p.org_id', 'p.status']).where('i.declaration_id', '=', zhaoId).orderBy('p.id').execute();
  t.same(pubs.map((p) => [p.id, p.org_id, p.status]), [[pub1, company, 'completed'], [pub2, w.unit, 'completed']], 'two publicities, one per unit');

  // The county HRB's preview of the form: both 表十二, in order, each with its opinion and seal.
  const county = new Agent(app);
  await at(app, '2026-07-06T03:00:00Z', county, w.staff.county);
  page = await county.get(`/org/reviews/${zhaoId}`);
  t.equal(page.statusCode, 200);
  const printed = text(page.body);
  const first = printed.indexOf('表十二　基层单位意见（派遣单位）');
  const second = printed.indexOf('表十二　基层单位意见（用工单位）');
  t.ok(first >= 0 && second > first, 'two 表十二, the dispatch company first');
  const p1 = printed.slice(first, second);
  const p2 = printed.slice(second);
  t.match(p1, companyOpinion.evaluation);
  t.match(p1, '单位名称：云南人力派遣服务有限公司');
  t.match(p2, hospitalOpinion.evaluation);
  t.match(p2, '单位名称：昆明市第一人民医院');
  t.match(page.body, `src="/org/reviews/${zhaoId}/seal"`);
  t.match(page.body, `src="/org/reviews/${zhaoId}/seal?n=1"`);
  const s1 = await county.get(`/org/reviews/${zhaoId}/seal`);
  const s2 = await county.get(`/org/reviews/${zhaoId}/seal?n=1`);
  t.equal(s1.statusCode, 200);
  t.equal(s2.statusCode, 200);
  t.not(s1.rawPayload.toString('base64'), s2.rawPayload.toString('base64'), 'each unit its own seal');

  // 重置流程 by the county HRB: back to the dispatch company, whose opinion comes back (editable);
  // the employer's stage starts over after it.
  await county.get(`/org/reviews/${zhaoId}`);
  res = await county.post(`/org/reviews/${zhaoId}/act`, { action: 'reset', opinion: '申报专业填写有误，请重新申报' });
  t.equal(res.statusCode, 303);
  d = await decl(app, zhaoId);
  t.equal(d.status, 'draft');
  t.same(JSON.parse(d.unit_opinion!).evaluation, companyOpinion.evaluation, 'the dispatch company\'s opinion is back');
  t.equal(d.unit_verified_at, null);
  t.equal(await app.ctx.db.selectFrom('unit_stage_records').select('stage').where('declaration_id', '=', zhaoId).execute().then((r) => r.length), 0);
});

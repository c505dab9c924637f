import t from 'tap';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { makeApp, Agent, login, type TestApp } from '../helpers/app.js';
import { kunming, submittedDeclaration, approveByCommittee, likeDeclaration } from '../helpers/world.js';

/**
 * 学科组 and the online meeting (issue #16): groups by 评审专业 (automatic, moved by hand, 初审),
 * members registered with 2FA, secret ballots in numbered rounds, refusals (other group, twice,
 * after close), quorum → invalid, a 复议 round changing a result, then 结果确认.
 */

async function setSpecialty(app: TestApp, id: number, specialty: string) {
  const d = await app.ctx.db.selectFrom('declarations').select('cover').where('id', '=', id).executeTakeFirstOrThrow();
  await app.ctx.db.updateTable('declarations').set({ cover: JSON.stringify({ ...JSON.parse(d.cover), specialty }) }).where('id', '=', id).execute();
}

const flash = (res: { body: string }) => /class="flash [^"]*"[^>]*>([^<]*)/.exec(res.body)?.[1] ?? '';

t.test('学科组 → online meeting → rounds, 复议, secrecy, quorum → 结果确认', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const first = await submittedDeclaration(app, w);
  await approveByCommittee(app, first.id);
  const d1 = first.id; // 张伟 心血管内科
  const d2 = (await likeDeclaration(app, d1, '王芳', '302')).id; // 心血管内科
  const d3 = (await likeDeclaration(app, d1, '刘强', '303')).id;
  const d4 = (await likeDeclaration(app, d1, '陈明', '304')).id;
  await setSpecialty(app, d3, '普通外科');
  await setSpecialty(app, d4, '口腔颌面外科学'); // matches no group: placed by hand

  const office = new Agent(app);
  t.equal((await login(office, 'staff', w.staff.committee)).statusCode, 303);

  // ---- 学科组 ----
  t.equal((await office.get(`/org/plans/${w.plan}/groups`)).statusCode, 200);
  const bad = await office.post(`/org/plans/${w.plan}/groups`, { name: '', specialties: '' });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '请填写学科组名称');
  t.match(bad.body, '请填写该学科组评审的专业');
  t.equal((await office.post(`/org/plans/${w.plan}/groups`, { name: '内科组', specialties: '内科' })).statusCode, 303);
  await office.get(`/org/plans/${w.plan}/groups`);
  t.equal((await office.post(`/org/plans/${w.plan}/groups`, { name: '外科组', specialties: '外科，骨科' })).statusCode, 303);
  await office.get(`/org/plans/${w.plan}/groups`);
  const dup = await office.post(`/org/plans/${w.plan}/groups`, { name: '内科组', specialties: '儿科' });
  t.match(dup.body, '该计划已有同名学科组', 'the typed values come back with the error');
  t.match(dup.body, 'value="儿科"');
  const groups = await app.ctx.db.selectFrom('eval_groups').select(['id', 'name']).where('plan_id', '=', w.plan).orderBy('id').execute();
  const [inner, outer] = [groups[0]!.id, groups[1]!.id];

  await office.get(`/org/plans/${w.plan}/groups`);
  await office.post(`/org/plans/${w.plan}/groups/assign`);
  t.match(flash(await office.get(`/org/plans/${w.plan}/groups`)), '1份未能匹配学科组');
  const groupOf = async (id: number) => (await app.ctx.db.selectFrom('eval_group_decls').select('group_id').where('declaration_id', '=', id).executeTakeFirst())?.group_id;
  t.equal(await groupOf(d1), inner);
  t.equal(await groupOf(d2), inner);
  t.equal(await groupOf(d3), outer);
  t.equal(await groupOf(d4), undefined, 'no group for 口腔颌面外科学');
  await office.post(`/org/plans/${w.plan}/groups/move`, { declaration_id: String(d4), group_id: String(outer) });
  t.equal(await groupOf(d4), outer, 'moved by hand');
  await office.get(`/org/plans/${w.plan}/groups`);
  await office.post(`/org/plans/${w.plan}/groups/assign`);
  t.equal(await groupOf(d4), outer, 'a re-run of the automatic assignment leaves a moved declaration alone');
  await office.get(`/org/plans/${w.plan}/groups`);
  await office.post(`/org/plans/${w.plan}/groups/recommend`, { declaration_id: String(d1), recommendation: 'agree', note: '业绩突出' });
  t.equal((await app.ctx.db.selectFrom('eval_group_decls').select('recommendation').where('declaration_id', '=', d1).executeTakeFirstOrThrow()).recommendation, 'agree');
  await office.get(`/org/plans/${w.plan}/groups`);
  const badRule = await office.post(`/org/plans/${w.plan}/vote-rule`, { pass_ratio: '5/3', reject_ratio: '', min_members: '3' });
  t.equal(badRule.statusCode, 422);
  t.match(badRule.body, '通过比例格式不正确');
  await office.post(`/org/plans/${w.plan}/vote-rule`, { pass_ratio: '2/3', reject_ratio: '', min_members: '3' });
  t.equal((await app.ctx.db.selectFrom('plans').select('min_members').where('id', '=', w.plan).executeTakeFirstOrThrow()).min_members, 3);

  // Another committee's office: the plan is not theirs.
  const other = await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('id', '!=', w.committee).executeTakeFirst();
  if (other) {
    const { createStaff } = await import('../helpers/app.js');
    await createStaff(app, { username: 'other_com', name: '周敏', orgId: other.id, roles: '' });
    const o = new Agent(app);
    await login(o, 'staff', 'other_com');
    t.equal((await o.get(`/org/plans/${w.plan}/groups`)).statusCode, 404, "another committee's plan is not found");
  }

  // ---- the meeting and its members ----
  await office.get('/org/evaluations');
  await office.post('/org/evaluations/online', { plan_id: String(w.plan), meeting_date: '2026-12-20' });
  const meeting = (await app.ctx.db.selectFrom('evaluations').select(['id', 'mode']).orderBy('id', 'desc').executeTakeFirstOrThrow());
  t.equal(meeting.mode, 'online');
  const names = [['m_zhao', '赵敏', inner], ['m_qian', '钱进', inner], ['m_sun', '孙悦', inner], ['m_li', '李静', inner], ['m_zhou', '周航', outer], ['m_wu', '吴迪', outer], ['m_zheng', '郑凯', outer]] as const;
  const passwords: Record<string, string> = {};
  for (const [username, name, group] of names) {
    await office.get(`/org/evaluations/${meeting.id}`);
    const r = await office.post(`/org/evaluations/${meeting.id}/members`, { username, name, group_id: String(group) });
    t.equal(r.statusCode, 200, `registered ${name}`);
    passwords[username] = /class="initial-password">([^<]+)</.exec(r.body)![1]!;
  }
  await office.get(`/org/evaluations/${meeting.id}`);
  const again = await office.post(`/org/evaluations/${meeting.id}/members`, { username: 'm_zhao', name: '', group_id: String(inner) });
  t.equal(again.statusCode, 422);
  t.match(again.body, '该评委已登记参加本次会议');
  t.equal((await app.ctx.db.selectFrom('evaluations').select('members_expected').where('id', '=', meeting.id).executeTakeFirstOrThrow()).members_expected, 7);

  // A member signs in: the initial password must be changed, then 2FA is required.
  const m0 = new Agent(app);
  await m0.get('/login?type=staff');
  const first0 = await m0.post('/login', { type: 'staff', account: 'm_zhao', password: passwords.m_zhao! });
  t.equal(first0.headers.location, '/account/password', 'initial password changed first');
  await app.ctx.db.updateTable('users').set({ must_change_password: 0 }).where('username', 'like', 'm_%').execute();
  const members: Record<string, Agent> = {};
  for (const [username] of names) {
    const a = new Agent(app);
    const r = await login(a, 'staff', username, passwords[username]);
    t.equal(r.headers.location, '/vote', `${username} lands on 评审表决`);
    members[username] = a;
  }
  t.equal((await app.ctx.db.selectFrom('users').select('totp_enabled').where('username', '=', 'm_zhao').executeTakeFirstOrThrow()).totp_enabled, 1, '2FA was required and enrolled');
  t.equal((await members.m_zhao!.get('/org/reviews')).statusCode, 403, 'a member sees no office pages');

  // ---- round 1 ----
  await office.get(`/org/evaluations/${meeting.id}`);
  await office.post(`/org/evaluations/${meeting.id}/rounds`);
  const vote = async (u: string, choices: Record<number, string>) => {
    const a = members[u]!;
    await a.get(`/vote/${meeting.id}`);
    return a.post(`/vote/${meeting.id}`, Object.fromEntries(Object.entries(choices).map(([k, v]) => [`choice_${k}`, v])));
  };
  const ballotPage = await members.m_zhao!.get(`/vote/${meeting.id}`);
  t.match(ballotPage.body, '张伟');
  t.notMatch(ballotPage.body, '刘强', "only the member's group");
  t.match(ballotPage.body, `/vote/${meeting.id}/d/${d1}`);
  t.equal((await members.m_zhao!.get(`/vote/${meeting.id}/d/${d1}`)).statusCode, 200, 'the full form of a declaration in the group');
  t.equal((await members.m_zhao!.get(`/vote/${meeting.id}/d/${d3}`)).statusCode, 404, 'not one of another group');

  const outside = await vote('m_zhao', { [d1]: 'agree', [d3]: 'agree' });
  t.equal(outside.statusCode, 422);
  t.match(outside.body, '该申报不在您所在学科组的本轮表决范围内');
  t.equal((await app.ctx.db.selectFrom('round_voted').selectAll().execute()).length, 0, 'nothing saved when one ballot is refused');
  t.equal((await vote('m_zhao', { [d1]: 'agree', [d2]: 'disagree' })).statusCode, 303);
  const twice = await vote('m_zhao', { [d1]: 'disagree' });
  t.equal(twice.statusCode, 422);
  t.match(twice.body, '您已对该申报投过票，不能重复投票');
  t.equal((await vote('m_qian', { [d1]: 'agree', [d2]: 'agree' })).statusCode, 303);
  t.equal((await vote('m_sun', { [d1]: 'agree', [d2]: 'agree' })).statusCode, 303);
  t.equal((await vote('m_li', { [d1]: 'disagree', [d2]: 'abstain' })).statusCode, 303);
  t.equal((await vote('m_zhou', { [d3]: 'agree', [d4]: 'agree' })).statusCode, 303);
  t.equal((await vote('m_wu', { [d3]: 'agree' })).statusCode, 303);
  t.equal((await vote('m_zheng', { [d3]: 'disagree' })).statusCode, 303);

  // While the round is open the office sees who has voted how many, not the counts.
  const openPage = await office.get(`/org/evaluations/${meeting.id}`);
  t.notMatch(openPage.body, 'class="tally"');
  t.match(openPage.body, '表决结束前不显示票数');
  // Secrecy in storage: no table joins a member to a choice.
  const votedCols = Object.keys((await app.ctx.db.selectFrom('round_voted').selectAll().executeTakeFirstOrThrow()));
  t.same(votedCols.sort(), ['declaration_id', 'member_id', 'round_id']);
  const tallyCols = Object.keys((await app.ctx.db.selectFrom('round_tallies').selectAll().executeTakeFirstOrThrow()));
  t.notOk(tallyCols.some((c) => /member|user/.test(c)));

  // 结束本轮 asks first (a no-JS confirm page that posts back), and nothing closes on the GET.
  t.match(openPage.body, `href="/org/evaluations/${meeting.id}/rounds/close"`);
  const ask = await office.get(`/org/evaluations/${meeting.id}/rounds/close`);
  t.equal(ask.statusCode, 200);
  t.match(ask.body, '确定结束第1轮表决吗');
  t.match(ask.body, `action="/org/evaluations/${meeting.id}/rounds/close"`);
  t.equal((await app.ctx.db.selectFrom('evaluation_rounds').select('closed_at').where('evaluation_id', '=', meeting.id).executeTakeFirstOrThrow()).closed_at, null, 'the confirm page closes nothing');
  await office.post(`/org/evaluations/${meeting.id}/rounds/close`);
  const noAsk = await office.get(`/org/evaluations/${meeting.id}/rounds/close`);
  t.equal(noAsk.statusCode, 303, 'no confirm page without an open round');
  t.match(flash(await office.get(`/org/evaluations/${meeting.id}`)), '当前没有进行中的表决');
  const late = await vote('m_li', { [d1]: 'agree' });
  t.equal(late.statusCode, 422);
  t.match(late.body, '本轮表决已结束，不能再投票');

  const page1 = await office.get(`/org/evaluations/${meeting.id}`);
  const rowOf = (html: string, round: number, id: number) => {
    const section = html.split(`id="round-${round}"`)[1]!.split('</section>')[0]!;
    return section.split(`data-decl="${id}"`)[1]!.split('</tr>')[0]!;
  };
  t.match(rowOf(page1.body, 1, d1), /<td>3<\/td><td>1<\/td><td>0<\/td>[^]*通过/);
  t.match(rowOf(page1.body, 1, d2), /<td>2<\/td><td>1<\/td><td>1<\/td>[^]*未通过/);
  t.match(rowOf(page1.body, 1, d3), /通过/);
  t.match(rowOf(page1.body, 1, d4), /表决无效[^]*参加表决的评委1人，少于规定的最少3人/);
  // The office page never puts a member next to a choice: no member name in a tally row.
  for (const [, name] of names) for (const id of [d1, d2, d3, d4]) t.notMatch(rowOf(page1.body, 1, id), name);

  // A paper entry is refused on an online meeting.
  const paper = await office.post(`/org/evaluations/${meeting.id}/votes`, { [`agree_${d2}`]: '4', [`disagree_${d2}`]: '0', [`abstain_${d2}`]: '0' });
  t.equal(paper.statusCode, 303, paper.body.slice(0, 300));
  t.match(flash(await office.get(`/org/evaluations/${meeting.id}`)), '在线表决的会议由评委投票计算结果，不能录入票数');

  // ---- round 2: 复议 of 王芳 and 陈明 ----
  const wrong = await office.post(`/org/evaluations/${meeting.id}/rounds`, { reconsider: '1', decl: [String(d2), '999999'] });
  t.equal(wrong.statusCode, 303);
  t.match(flash(await office.get(`/org/evaluations/${meeting.id}`)), '只能对本次会议已表决、尚未确认结果的申报进行复议');
  await office.post(`/org/evaluations/${meeting.id}/rounds`, { reconsider: '1', decl: [String(d2), String(d4)] });
  const page2 = await members.m_zhao!.get(`/vote/${meeting.id}`);
  t.match(page2.body, '第2轮复议');
  t.match(page2.body, '王芳');
  t.notMatch(page2.body, `name="choice_${d1}"`, 'only the named declarations');
  for (const u of ['m_zhao', 'm_qian', 'm_sun']) t.equal((await vote(u, { [d2]: 'agree' })).statusCode, 303);
  t.equal((await vote('m_li', { [d2]: 'disagree' })).statusCode, 303);
  for (const u of ['m_zhou', 'm_wu', 'm_zheng']) t.equal((await vote(u, { [d4]: 'agree' })).statusCode, 303);
  await office.get(`/org/evaluations/${meeting.id}`);
  await office.post(`/org/evaluations/${meeting.id}/rounds/close`);
  const page3 = await office.get(`/org/evaluations/${meeting.id}`);
  t.match(rowOf(page3.body, 2, d2), /<td>3<\/td><td>1<\/td><td>0<\/td>[^]*通过/, '复议 changed 王芳 to passed');
  t.match(rowOf(page3.body, 2, d4), /通过/);

  await office.post(`/org/evaluations/${meeting.id}/confirm`);
  const status = async (id: number) => (await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
  t.same([await status(d1), await status(d2), await status(d3), await status(d4)], ['passed', 'passed', 'passed', 'passed']);
  const e = await app.ctx.db.selectFrom('evaluations').selectAll().where('id', '=', meeting.id).executeTakeFirstOrThrow();
  t.equal(e.members_present, 7);

  // The audit proves each member voted (once per declaration and round), never how.
  const audits = await app.ctx.db.selectFrom('audit_log').select(['user_id', 'detail', 'result']).where('action', '=', 'meeting_vote').where('result', '=', 'ok').execute();
  t.equal(audits.length, 7 + 7, 'one row per member per round they voted in');
  for (const a of audits) t.notMatch(a.detail ?? '', /同意|弃权|agree|abstain/);
  t.equal((await app.ctx.db.selectFrom('round_voted').selectAll().execute()).length, 4 * 2 + 2 + 1 + 1 + 4 + 3, 'round 1: 内科 4×2, 外科 2+1+1; round 2: 4 + 3');
});

t.test('评委专家库 and 评委抽取: rules, recorded seed, re-check, a declined expert replaced', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const first = await submittedDeclaration(app, w);
  await approveByCommittee(app, first.id);
  await likeDeclaration(app, first.id, '王芳', '302'); // same unit and specialty: a second 简表 page
  const briefCount = 2;
  const office = new Agent(app);
  await login(office, 'staff', w.staff.committee);
  await office.get(`/org/plans/${w.plan}/groups`);
  await office.post(`/org/plans/${w.plan}/groups`, { name: '内科组', specialties: '内科' });
  await office.get(`/org/plans/${w.plan}/groups`);
  await office.post(`/org/plans/${w.plan}/groups/assign`);

  await office.get('/org/experts');
  const bad = await office.post('/org/experts', { name: '', specialty: '内科', unit: '', conflicts: '' });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '请填写专家姓名');
  t.match(bad.body, '请填写工作单位');
  t.match(bad.body, 'value="内科"', 'typed values kept');
  const pool: Record<string, string>[] = [
    { name: '杨帆', specialty: '心血管内科', unit: '云南省第一人民医院' },
    { name: '朱琳', specialty: '呼吸内科', unit: '云南省第一人民医院' },
    { name: '许可', specialty: '消化内科', unit: '昆明医科大学第一附属医院' },
    { name: '何平', specialty: '内科', unit: '昆明市第二人民医院' },
    { name: '高洁', specialty: '内科', unit: '昆明市第一人民医院' }, // the applicant's unit: 回避
    { name: '罗成', specialty: '内科', unit: '昆明市第三人民医院', integrity_note: '2025年评审中泄露评审信息' },
    { name: '梁爽', specialty: '内科', unit: '昆明市延安医院', conflicts: String(first.id) }, // declared a conflict
    { name: '宋涛', specialty: '内科', unit: '昆明市儿童医院', available: '0' },
    { name: '唐宁', specialty: '内科', unit: '昆明市中医医院' },
  ];
  for (const e of pool) {
    await office.get('/org/experts');
    t.equal((await office.post('/org/experts', e)).statusCode, 303, e.name!);
  }
  t.match((await office.get('/org/experts')).body, '共 9 条');

  await office.get('/org/evaluations');
  await office.post('/org/evaluations/online', { plan_id: String(w.plan), meeting_date: '2026-12-20' });
  const meeting = (await app.ctx.db.selectFrom('evaluations').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
  const group = (await app.ctx.db.selectFrom('eval_groups').select('id').executeTakeFirstOrThrow()).id;
  await office.get(`/org/evaluations/${meeting}`);
  await office.post(`/org/evaluations/${meeting}/draw`, { [`count_${group}`]: '3', seed: '昆明2026-第1次' });
  const drawn = async () =>
    app.ctx.db.selectFrom('drawn_experts as x').innerJoin('experts as e', 'e.id', 'x.expert_id').select(['e.name', 'e.unit', 'x.declined', 'x.expert_id']).orderBy('x.draw_id').orderBy('x.expert_id').execute();
  const picked = await drawn();
  t.equal(picked.length, 3);
  const allowed = ['杨帆', '朱琳', '许可', '何平', '唐宁'];
  for (const p of picked) t.ok(allowed.includes(p.name), `${p.name} may be drawn`);
  t.equal(new Set(picked.map((p) => p.unit)).size, 3, 'at most one per unit');
  const rec = await app.ctx.db.selectFrom('expert_draws').selectAll().executeTakeFirstOrThrow();
  t.equal(rec.seed, '昆明2026-第1次', 'the seed is recorded');
  const page = await office.get(`/org/evaluations/${meeting}`);
  t.match(page.body, '昆明2026-第1次');

  // A second draw is refused; a declined expert is replaced by a fresh one.
  await office.post(`/org/evaluations/${meeting}/draw`, { [`count_${group}`]: '3' });
  t.match(flash(await office.get(`/org/evaluations/${meeting}`)), '本次会议已抽取评委');
  const out = picked[0]!;
  const askDecline = await office.get(`/org/evaluations/${meeting}/draw/${out.expert_id}/decline`);
  t.equal(askDecline.statusCode, 200);
  t.match(askDecline.body, `确定将“${out.name}”`);
  t.equal((await drawn()).find((x) => x.expert_id === out.expert_id)!.declined, 0, 'the confirm page declines nobody');
  await office.post(`/org/evaluations/${meeting}/draw/${out.expert_id}/decline`);
  t.equal((await office.get(`/org/evaluations/${meeting}/draw/${out.expert_id}/decline`)).statusCode, 404, 'no confirm page for one already declined');
  const after = await drawn();
  t.equal(after.length, 4);
  t.equal(after.find((x) => x.expert_id === out.expert_id)!.declined, 1);
  const fresh = after[3]!;
  t.notOk(picked.some((p) => p.expert_id === fresh.expert_id), 'a new expert');
  t.ok(allowed.includes(fresh.name));
  const kept = after.filter((x) => !x.declined);
  t.equal(new Set(kept.map((p) => p.unit)).size, kept.length, 'still one per unit');

  await office.get(`/org/evaluations/${meeting}`);
  await office.post(`/org/evaluations/${meeting}/draw/check`);
  t.match(flash(await office.get(`/org/evaluations/${meeting}`)), '复核一致');
  // Tampering with a recorded result is found by the re-check.
  await app.ctx.db.updateTable('expert_draws').set({ result: JSON.stringify({ picks: [], shortfalls: [] }) }).where('id', '=', rec.id).execute();
  await office.post(`/org/evaluations/${meeting}/draw/check`);
  t.match(flash(await office.get(`/org/evaluations/${meeting}`)), '复核不一致');

  // 评审简表: the preview and the PDF of the batch (pdftotext).
  const preview = await office.get(`/org/evaluations/${meeting}/briefs`);
  t.equal(preview.statusCode, 200);
  t.match(preview.body, '评审简表');
  t.match(preview.body, '张伟');
  t.match(preview.body, '心血管内科');
  t.match(preview.body, '内科组');
  const pdf = await office.get(`/org/evaluations/${meeting}/briefs.pdf`);
  t.equal(pdf.statusCode, 200);
  t.equal(pdf.headers['content-type'], 'application/pdf');
  const file = `${app.dir}/briefs.pdf`;
  writeFileSync(file, pdf.rawPayload);
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  t.match(text, '评审简表');
  t.match(text, '张伟');
  t.match(text, '代表作及主要业绩');
  const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))![1]);
  t.equal(pages, briefCount, 'one page per declaration of the meeting');
});

import t from 'tap';
import { makeApp, Agent, login, type TestApp } from '../helpers/app.js';
import { kunming, likeDeclaration, submittedDeclaration, type World } from '../helpers/world.js';
import { NOT_IN_SCOPE } from '../../src/features/review/batch.js';
import { PAPER_NOT_ALLOWED, STAGE_CHANGED_MESSAGE, UNIT_APPROVE_MESSAGE } from '../../src/features/review/service.js';

async function staffAgent(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username} failed`);
  return a;
}

const HTMX = { 'hx-request': 'true', 'hx-boosted': 'true' };
const items = (html: string) => [...html.matchAll(/name="items" value="(\d+:\d+)"/g)].map((m) => m[1]!);
const shown = (html: string) => [...html.matchAll(/name="shown" value="(\d+)"/g)].map((m) => m[1]!);
const checkboxes = (html: string) => [...html.matchAll(/name="ids" value="(\d+)" form="batch"/g)].map((m) => Number(m[1]));
const flash = (html: string) => /<p class="flash (\w+)" role="status">([^<]*)<\/p>/.exec(html)?.slice(1) ?? [];

/** Applicants of the unit who submitted: 张伟 through the pages, 王芳 and 赵敏 like him. */
async function three(app: TestApp, w: World) {
  const zhang = await submittedDeclaration(app, w, { name: '张伟', seq: '231', phone: '13800138000' });
  const wang = await likeDeclaration(app, zhang.id, '王芳', '242');
  const zhao = await likeDeclaration(app, zhang.id, '赵敏', '262');
  return { zhang, wang, zhao };
}

const state = (app: TestApp, id: number) => app.ctx.db.selectFrom('declarations').select(['status', 'stage', 'paper_received_at']).where('id', '=', id).executeTakeFirstOrThrow();

/** Per declaration: its workflow events, the applicant's messages and the audit rows. */
async function trail(app: TestApp, id: number, userId: number) {
  const events = await app.ctx.db.selectFrom('workflow_events').selectAll().where('declaration_id', '=', id).orderBy('id').execute();
  const messages = await app.ctx.db.selectFrom('messages').selectAll().where('user_id', '=', userId).orderBy('id').execute();
  const audits = await app.ctx.db.selectFrom('audit_log').selectAll().where('object_type', '=', 'declaration').where('object_id', '=', String(id)).orderBy('id').execute();
  return { events, messages, audits };
}

t.test('批量通过 at the supervisor: out-of-scope and wrong-state ones are reported, the others pass once each (no JS)', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { zhang, wang, zhao } = await three(app, w);
  // 张伟 and 王芳 wait for the supervisor; 赵敏 is still at the unit (the supervisor cannot see
  // it); a fourth, returned by the supervisor, is in a state 通过 does not apply to.
  const li = await likeDeclaration(app, zhang.id, '李强', '271');
  for (const id of [zhang.id, wang.id, li.id]) await app.ctx.db.updateTable('declarations').set({ stage: 1 }).where('id', '=', id).execute();
  await app.ctx.db.updateTable('declarations').set({ status: 'returned' }).where('id', '=', li.id).execute();
  const sup = await staffAgent(app, w.staff.supervisor);

  const list = await sup.get('/org/reviews');
  t.equal(list.statusCode, 200);
  t.same(checkboxes(list.body).sort(), [zhang.id, wang.id].sort(), 'a checkbox on the rows the single 通过 would accept');
  t.match(list.body, '<form id="batch" method="post" action="/org/reviews/batch"');
  t.match(list.body, '全选本页');
  t.match(list.body, '<button type="submit" name="op" value="approve">批量通过</button>');
  t.notMatch(list.body, 'value="paper"', 'no 纸质材料已收 outside the committee');

  // Tick all four (the out-of-scope id as a crafted post would): the confirmation page first.
  const before = await Promise.all([zhang, wang, li].map((x) => trail(app, x.id, x.user.userId)));
  let res = await sup.post('/org/reviews/batch', { op: 'approve', ids: [String(zhang.id), String(zhao.id), String(wang.id), String(li.id)], opinion: '材料齐全，同意上报', status: '', page: '1' });
  t.equal(res.statusCode, 200);
  const confirm = res.body;
  t.match(confirm, '批量通过：请确认');
  t.match(confirm, '将通过以下 <b>2</b> 份申报');
  t.match(confirm, '不能办理的申报（2 份，不会处理）');
  t.match(confirm, `<li>申报${zhao.id}：${NOT_IN_SCOPE}</li>`, 'out of scope: no name shown');
  t.notMatch(confirm, '赵敏');
  t.match(confirm, /<li>李强：该申报当前不在本单位审核环节（已返回修改[^）]*），不能办理<\/li>/);
  t.match(confirm, '>材料齐全，同意上报</textarea>', 'the opinion typed on the list is kept');
  t.match(confirm, '确认通过（2 份）');
  t.same(items(confirm), [`${zhang.id}:1`, `${zhao.id}:0`, `${wang.id}:1`, `${li.id}:1`]);
  t.same(await state(app, zhang.id), { status: 'reviewing', stage: 1, paper_received_at: null }, 'nothing done before the confirmation');

  // Confirm: each one through the single action.
  res = await sup.post('/org/reviews/batch/confirm', { op: 'approve', items: items(confirm), opinion: '材料齐全，同意上报' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/org/reviews');
  const [kind, text] = flash((await sup.get(res.headers.location!)).body);
  t.equal(kind, 'error', 'refusals make it an error notice');
  t.equal(text, `批量通过：已通过 2 份；未办理 2 份：申报${zhao.id}：${NOT_IN_SCOPE}；李强：该申报当前不在本单位审核环节（已返回修改：请根据审核意见修改后重新提交），不能办理。`);
  for (const [x, b] of [[zhang, before[0]!], [wang, before[1]!]] as const) {
    t.same(await state(app, x.id), { status: 'reviewing', stage: 2, paper_received_at: null }, `${x.user.userId}: on to the committee`);
    const a = await trail(app, x.id, x.user.userId);
    const events = a.events.slice(b.events.length);
    t.equal(events.length, 1, 'one workflow event');
    t.match(events[0], { action: 'approve', stage: 1, org_id: w.supervisor, opinion: '材料齐全，同意上报', from_status: 'reviewing', to_status: 'reviewing' });
    const messages = a.messages.slice(b.messages.length);
    t.equal(messages.length, 1, 'one message to the applicant');
    t.match(messages[0]!.content, '您的申报已通过主管部门审核，进入下一审核环节。');
    const audits = a.audits.slice(b.audits.length);
    t.equal(audits.length, 1, 'one audit row');
    t.match(audits[0], { action: 'workflow', username: w.staff.supervisor, org_id: w.supervisor, result: 'ok', detail: 'approve：reviewing→reviewing（环节1）' });
    t.ok(audits[0]!.ip, 'source IP');
  }
  t.same(await state(app, zhao.id), { status: 'reviewing', stage: 0, paper_received_at: null }, 'out of scope: untouched');
  t.same(await state(app, li.id), { status: 'returned', stage: 1, paper_received_at: null }, 'wrong state: untouched');
  const liTrail = await trail(app, li.id, li.user.userId);
  t.equal(liTrail.events.length, before[2]!.events.length, 'no event for the refused one');

  // A double submit (back button, second click) approves nothing twice.
  const counts = async () => (await Promise.all([zhang, wang].map((x) => trail(app, x.id, x.user.userId)))).map((x) => [x.events.length, x.messages.length, x.audits.length]);
  const once = await counts();
  await sup.get('/org/reviews');
  res = await sup.post('/org/reviews/batch/confirm', { op: 'approve', items: items(confirm), opinion: '材料齐全，同意上报' });
  t.equal(res.statusCode, 303);
  t.match(flash((await sup.get(res.headers.location!)).body)[1], `批量通过：已通过 0 份；未办理 4 份：张伟：${STAGE_CHANGED_MESSAGE}`);
  t.same(await counts(), once, 'no second event, message or audit row');
  t.same((await state(app, zhang.id)).stage, 2, 'still one stage on');

  // Nothing ticked; an opinion too long keeps the text next to the field.
  await sup.get('/org/reviews');
  res = await sup.post('/org/reviews/batch', { op: 'approve', status: 'todo' });
  t.equal(res.headers.location, '/org/reviews?status=todo');
  t.equal(flash((await sup.get('/org/reviews?status=todo')).body)[1], '请勾选要办理的申报，或勾选“全选本页”');
});

t.test('at the committee: 全选本页 without JS, the htmx path, then 纸质材料已收 in a batch; other stages cannot', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const { zhang, wang, zhao } = await three(app, w);
  for (const id of [zhang.id, wang.id]) await app.ctx.db.updateTable('declarations').set({ stage: 2 }).where('id', '=', id).execute();
  const com = await staffAgent(app, w.staff.committee);

  // 全选本页 (the checkbox, no row ticked) through htmx: the page's selectable rows.
  let list = await com.get('/org/reviews?status=todo');
  t.same(shown(list.body).map(Number).sort(), [zhang.id, wang.id].sort());
  let res = await com.post('/org/reviews/batch', { op: 'approve', all: '1', shown: shown(list.body), status: 'todo', page: '1' }, { headers: HTMX });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['hx-push-url'], 'false', 'the address bar keeps the list (a reload shows it)');
  t.match(res.body, '将通过以下 <b>2</b> 份申报');
  t.notMatch(res.body, '不能办理的申报');
  t.equal((await com.get('/org/reviews/batch')).headers.location, '/org/reviews', 'a typed address goes to the list');
  // An opinion over 1000 characters: 422, the message next to the field, nothing typed lost.
  const long = '意'.repeat(1001);
  res = await com.post('/org/reviews/batch/confirm', { op: 'approve', items: items(res.body), opinion: long, status: 'todo' }, { headers: HTMX });
  t.equal(res.statusCode, 422);
  t.match(res.body, '<small class="err" id="e-opinion">审核意见不能超过1000个字</small>');
  t.match(res.body, `>${long}</textarea>`);
  t.equal((await state(app, zhang.id)).status, 'reviewing', 'nothing done');
  res = await com.post('/org/reviews/batch/confirm', { op: 'approve', items: items(res.body), opinion: '', status: 'todo' }, { headers: HTMX });
  t.equal(res.statusCode, 303, 'htmx follows the 303');
  t.equal(res.headers.location, '/org/reviews?status=todo');
  t.same(flash((await com.get(res.headers.location!)).body), ['ok', '批量通过：已通过 2 份。']);
  for (const x of [zhang, wang]) {
    t.equal((await state(app, x.id)).status, 'approved');
    const m = await app.ctx.db.selectFrom('messages').select('content').where('user_id', '=', x.user.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    t.equal(m.content, '您的申报已通过评委会电子材料审核，可以打印申报表。');
  }

  // 纸质材料已收 for both, in one batch (no JS): one event, audit row and message each.
  list = await com.get('/org/reviews?status=approved');
  t.same(checkboxes(list.body).sort(), [zhang.id, wang.id].sort());
  t.match(list.body, '<button type="submit" name="op" value="paper">纸质材料已收</button>');
  t.notMatch(list.body, 'value="approve">批量通过', 'nothing left to approve on this page');
  res = await com.post('/org/reviews/batch', { op: 'paper', ids: [String(zhang.id), String(wang.id)], status: 'approved' });
  t.match(res.body, '纸质材料已收：请确认');
  t.match(res.body, '将登记以下 <b>2</b> 份申报的纸质材料已收');
  t.notMatch(res.body, 'name="opinion"', 'no opinion for a paper receipt');
  const paperConfirm = res.body;
  res = await com.post('/org/reviews/batch/confirm', { op: 'paper', items: items(paperConfirm), status: 'approved' });
  t.same(flash((await com.get(res.headers.location!)).body), ['ok', '纸质材料已收：已登记纸质材料 2 份。']);
  for (const x of [zhang, wang]) {
    t.ok((await state(app, x.id)).paper_received_at, 'recorded');
    const a = await trail(app, x.id, x.user.userId);
    t.equal(a.events.filter((e) => e.action === 'paper').length, 1, 'one paper event');
    t.equal(a.audits.filter((e) => e.action === 'paper_received').length, 1, 'one audit row');
    t.equal(a.messages.filter((m) => m.content === '评委会办公室已收到您的纸质申报材料。').length, 1, 'one message');
  }
  // Submitted twice: recorded once, the second reported.
  await com.get('/org/reviews?status=approved');
  res = await com.post('/org/reviews/batch/confirm', { op: 'paper', items: items(paperConfirm), status: 'approved' });
  t.match(flash((await com.get(res.headers.location!)).body)[1], '纸质材料已收：已登记纸质材料 0 份；未办理 2 份：张伟：纸质材料已登记，未重复登记');
  t.equal((await app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'paper_received').execute()).length, 2, 'still two audit rows');
  t.notMatch((await com.get('/org/reviews?status=approved')).body, 'form id="batch"', 'nothing left to tick');

  // The supervisor cannot record paper copies, nor the unit approve its stage in a batch.
  const sup = await staffAgent(app, w.staff.supervisor);
  await sup.get('/org/reviews');
  res = await sup.post('/org/reviews/batch', { op: 'paper', ids: [String(zhang.id)] });
  t.match(res.body, `<li>张伟：${PAPER_NOT_ALLOWED}</li>`);
  t.notMatch(res.body, '确认登记纸质材料', 'no confirm button when nothing can be done');
  const unit = await staffAgent(app, w.staff.unit);
  list = await unit.get('/org/reviews?status=todo');
  t.match(list.body, '赵敏');
  t.same(checkboxes(list.body), [], 'the unit passes declarations on through 推荐上报');
  t.match(list.body, '请在<a href="/org/recommend">推荐上报</a>中办理');
  res = await unit.post('/org/reviews/batch', { op: 'approve', ids: [String(zhao.id)] });
  t.match(res.body, `<li>赵敏：${UNIT_APPROVE_MESSAGE}</li>`);
  res = await unit.post('/org/reviews/batch/confirm', { op: 'approve', items: [`${zhao.id}:0`] });
  t.match(flash((await unit.get(res.headers.location!)).body)[1], `已通过 0 份；未办理 1 份：赵敏：${UNIT_APPROVE_MESSAGE}`);
  t.same(await state(app, zhao.id), { status: 'reviewing', stage: 0, paper_received_at: null });
});

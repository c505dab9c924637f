import t from 'tap';
import { makeApp, createApplicant, idNumber, type TestApp } from '../helpers/app.js';
import { runReminders, startReminderScheduler, reminderText } from '../../src/features/reminders/service.js';
import type { DeclarationStatus } from '../../src/db/schema.js';

const DAY = 86_400_000;
// Close date 2026-06-30; "10:00 China time, n days before close" = 02:00Z of that day.
const CLOSE = '2026-06-30';
const at = (daysBefore: number, time = '02:00:00.000') => Date.parse(`${CLOSE}T${time}Z`) - daysBefore * DAY;

async function committee(app: TestApp) {
  return (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').orderBy('id').executeTakeFirstOrThrow()).id;
}

async function plan(app: TestApp, o: { name: string; opens_at: string; closes_at: string }) {
  const stamp = app.clock.now().toISOString();
  return (await app.ctx.db.insertInto('plans').values({ committee_org_id: await committee(app), year: 2026, levels: 'senior_vice', created_at: stamp, ...o }).returning('id').executeTakeFirstOrThrow()).id;
}

async function declaration(app: TestApp, userId: number, planId: number, status: DeclarationStatus = 'draft') {
  const stamp = app.clock.now().toISOString();
  return (await app.ctx.db.insertInto('declarations').values({ user_id: userId, plan_id: planId, year: 2026, status, cover: '{}', created_at: stamp, updated_at: stamp }).returning('id').executeTakeFirstOrThrow()).id;
}

const messages = (app: TestApp, userId: number) => app.ctx.db.selectFrom('messages').selectAll().where('user_id', '=', userId).orderBy('id').execute();

t.test('a draft gets one 7-day and one 1-day reminder, however often the job runs', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  app.clock.t = at(10);
  const p = await plan(app, { name: '2026年度卫生技术高级职称评审', opens_at: '2026-06-01', closes_at: CLOSE });
  const drafter = await createApplicant(app, { name: '张伟' });
  const submitter = await createApplicant(app, { name: '王芳', id: idNumber('19900307', '142'), phone: '13900139000' });
  const draftId = await declaration(app, drafter.userId, p);
  await declaration(app, submitter.userId, p, 'reviewing');

  const expected = reminderText('2026年度卫生技术高级职称评审', CLOSE);
  t.equal(expected, '您申报的“2026年度卫生技术高级职称评审”将于2026-06-30 24:00截止，您的申报尚未提交，请尽快完成并提交。');

  const steps: [string, number, number][] = [
    // [label, clock, messages so far]
    ['8 days before close', at(8), 0],
    ['7 days before close', at(7), 1],
    ['2 days before close', at(2), 1],
    ['1 day before close', at(1), 2],
    ['close day, 10:00', at(0), 2],
    ['close day, 23:59:59 China time', Date.parse(`${CLOSE}T15:59:59.000Z`), 2],
    ['after close', Date.parse(`${CLOSE}T16:00:00.000Z`), 2],
    ['a day after close', at(-1), 2],
  ];
  for (const [label, clock, count] of steps) {
    app.clock.t = clock;
    await runReminders(app.ctx, app.clock.now());
    // The second run is what a restart (or an overlapping hour) would do.
    t.equal(await runReminders(app.ctx, app.clock.now()), 0, `${label}: second run sends nothing`);
    t.equal((await messages(app, drafter.userId)).length, count, `${label}: ${count} reminder(s) in total`);
  }
  const sent = await messages(app, drafter.userId);
  t.same(sent.map((m) => [m.type, m.content]), [['系统消息', expected], ['系统消息', expected]]);
  t.equal(sent[0]!.created_at, new Date(at(7)).toISOString(), '7-day reminder when 7 days were left');
  t.equal(sent[1]!.created_at, new Date(at(1)).toISOString(), '1-day reminder on the day before close');
  const rows = await app.ctx.db.selectFrom('reminders_sent').selectAll().where('declaration_id', '=', draftId).orderBy('kind').execute();
  t.same(rows.map((r) => r.kind), ['1d', '7d']);
  t.same(await messages(app, submitter.userId), [], 'a submitted declaration gets none');
});

t.test('edge cases: late drafts, closing today, closed and future plans, the scheduler', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  app.clock.t = at(1);
  const open = await plan(app, { name: '明日截止计划', opens_at: '2026-06-01', closes_at: CLOSE });
  const closesToday = await plan(app, { name: '今日截止计划', opens_at: '2026-06-01', closes_at: '2026-06-29' });
  const closed = await plan(app, { name: '已截止计划', opens_at: '2026-06-01', closes_at: '2026-06-28' });
  const future = await plan(app, { name: '未开始计划', opens_at: '2026-06-30', closes_at: '2026-07-02' });
  const far = await plan(app, { name: '远期计划', opens_at: '2026-06-01', closes_at: '2026-07-07' });
  const users = [];
  for (let i = 0; i < 5; i++) users.push(await createApplicant(app, { id: idNumber('19900307', `10${i}`), phone: `1390013900${i}` }));
  const late = await declaration(app, users[0]!.userId, open);
  await declaration(app, users[1]!.userId, closesToday);
  await declaration(app, users[2]!.userId, closed);
  await declaration(app, users[3]!.userId, future);
  await declaration(app, users[4]!.userId, far);

  t.equal(await runReminders(app.ctx, app.clock.now()), 2, 'the late draft and the one closing today');
  t.equal(await runReminders(app.ctx, app.clock.now()), 0);
  const m0 = await messages(app, users[0]!.userId);
  t.equal(m0.length, 1, 'a draft started with 1 day left gets one reminder, not two at once');
  t.match(m0[0]!.content, '“明日截止计划”将于2026-06-30 24:00截止');
  t.same((await app.ctx.db.selectFrom('reminders_sent').select('kind').where('declaration_id', '=', late).orderBy('kind').execute()).map((r) => r.kind), ['1d', '7d']);
  t.match((await messages(app, users[1]!.userId))[0]!.content, '“今日截止计划”将于2026-06-29');
  t.same(await messages(app, users[2]!.userId), [], 'a closed plan sends nothing');
  t.same(await messages(app, users[3]!.userId), [], 'a plan not yet open sends nothing');
  t.same(await messages(app, users[4]!.userId), [], 'more than 7 days left: nothing yet');

  // The job also runs from the scheduler: at start, then hourly; stop waits for a run.
  app.clock.t = Date.parse('2026-06-29T16:00:00.000Z'); // 2026-06-30 00:00 CST: 远期计划 closes in 7 days
  const stop = startReminderScheduler(app.ctx);
  await stop();
  t.equal((await messages(app, users[4]!.userId)).length, 1, 'the scheduler ran at start');
  t.equal((await messages(app, users[1]!.userId)).length, 1, 'its plan closed at 24:00: nothing more');
});

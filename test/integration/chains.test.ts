import t from 'tap';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi, org, uscc, type World } from '../helpers/world.js';
import { OPINION, PLEDGE, REPORT, postRecommend } from '../helpers/unitstage.js';

/**
 * Full chains through app.inject for each route type (DESIGN.md §3), from submission to the
 * committee's e-review approval, through the real unit stage (表十二 → 核验 → 推荐上报; these
 * plans need no publicity — the publicity itself is tested in unitstage.test.ts). At each
 * stage the waiting organisation has it in 待审核 and the next one cannot see it yet.
 */
async function staff(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username}`);
  return a;
}

const state = (app: TestApp, id: number) => app.ctx.db.selectFrom('declarations').select(['status', 'stage', 'route']).where('id', '=', id).executeTakeFirstOrThrow();

/** The assertions a chain uses (a subtest has them all). */
type Asserts = Pick<typeof t, 'teardown' | 'same' | 'match' | 'equal' | 'notMatch'>;

async function chain(t: Asserts, o: { world?: Parameters<typeof kunming>[1]; agency?: boolean; kinds: string[]; staffOrder: (keyof World['staff'] | 'agency')[] }) {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app, o.world ?? {});
  await app.ctx.db.updateTable('plans').set({ publicity_required: 0 }).where('id', '=', w.plan).execute();
  let unitId = w.unit;
  const usernames: Record<string, string> = { ...w.staff };
  if (o.agency) {
    unitId = await org(app, { kind: 'agency', name: '昆明市人才服务中心', uscc: uscc(9), region_code: '530102' });
    await createStaff(app, { username: 'agency_wu', name: '吴敏', orgId: unitId, roles: '' });
    usernames.agency = 'agency_wu';
  }
  const person = await readyApplicant(app, unitId);
  const applicant = new Agent(app);
  await login(applicant, 'applicant', person.phone);
  const id = await declareThroughUi(app, applicant, w, person.userId);
  await submitThroughUi(applicant, id);
  const route = JSON.parse((await state(app, id)).route!);
  t.same(route.map((r: { kind: string }) => r.kind), o.kinds, 'route');

  // The first stage: the unit (or agency) works through its sub-steps.
  const first = await staff(app, usernames[o.staffOrder[0]!]!);
  t.match((await first.get('/org/reviews?status=todo')).body, '张伟');
  for (const later of o.staffOrder.slice(1)) {
    const other = await staff(app, usernames[later]!);
    t.equal((await other.get(`/org/reviews/${id}`)).statusCode, 404, `${later} cannot see it before its stage`);
  }
  await first.get(`/org/unit-stage/${id}/opinion`);
  t.equal((await first.post(`/org/unit-stage/${id}/opinion`, OPINION)).statusCode, 303);
  await first.get(`/org/unit-stage/${id}`);
  t.equal((await first.post(`/org/unit-stage/${id}/verify`, {})).statusCode, 303);
  const rec = await postRecommend(app, first, [id], [PLEDGE, REPORT]);
  t.equal(rec.statusCode, 303, '推荐上报');
  t.same((await state(app, id)).stage, 1);

  // Every later stage approves in turn.
  for (let k = 1; k < o.staffOrder.length; k++) {
    const who = await staff(app, usernames[o.staffOrder[k]!]!);
    const todo = await who.get('/org/reviews?status=todo');
    t.match(todo.body, '张伟', `${o.staffOrder[k]} has it waiting`);
    for (const later of o.staffOrder.slice(k + 1)) {
      const other = await staff(app, usernames[later]!);
      t.notMatch((await other.get('/org/reviews')).body, '张伟', `${later} does not list it yet`);
    }
    await who.get(`/org/reviews/${id}`);
    const r = await who.post(`/org/reviews/${id}/act`, { action: 'approve' });
    t.equal(r.statusCode, 303);
    const s = await state(app, id);
    if (k < o.staffOrder.length - 1) t.same([s.status, s.stage], ['reviewing', k + 1], `after ${o.staffOrder[k]}`);
    else t.equal(s.status, 'approved', 'committee e-review approved');
  }
  t.match((await applicant.get('/me/records')).body, '评委会电子材料审核通过，可打印申报表');
  // Everyone on the route still sees it; the applicant's timeline has every step.
  for (const u of o.staffOrder) t.equal((await (await staff(app, usernames[u]!)).get(`/org/reviews/${id}`)).statusCode, 200, `${u} sees the result`);
  const events = await app.ctx.db.selectFrom('workflow_events').select('action').where('declaration_id', '=', id).orderBy('id').execute();
  t.same(events.map((e) => e.action).filter((a) => a !== 'save_cover'), ['submit', 'verify', 'recommend', 'approve', ...o.staffOrder.slice(1).map(() => 'approve')]);
}

t.test('city state-owned unit: unit → supervisor → committee', (t) =>
  chain(t, { kinds: ['unit', 'supervisor', 'committee'], staffOrder: ['unit', 'supervisor', 'committee'] }));

t.test('county state-owned unit: unit → supervisor → county HRB → committee', (t) =>
  chain(t, { world: { unitLevel: 'county' }, kinds: ['unit', 'supervisor', 'hrb_county', 'committee'], staffOrder: ['unit', 'supervisor', 'county', 'committee'] }));

t.test('non-public unit: unit → county HRB → committee', (t) =>
  chain(t, { world: { nature: 'non_public', supervisorStatus: null }, kinds: ['unit', 'hrb_county', 'committee'], staffOrder: ['unit', 'county', 'committee'] }));

t.test('freelancer via an HR agency: agency → county HRB → committee', (t) =>
  chain(t, { agency: true, kinds: ['agency', 'hrb_county', 'committee'], staffOrder: ['agency', 'county', 'committee'] }));

t.test('provincial committee: unit → supervisor → city HRB → committee', (t) =>
  chain(t, { world: { tier: 'province' }, kinds: ['unit', 'supervisor', 'hrb_city', 'committee'], staffOrder: ['unit', 'supervisor', 'city', 'committee'] }));

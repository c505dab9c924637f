import t from 'tap';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming } from '../helpers/world.js';
import { DUTY_NAME, pageDuties, type Duty } from '../../src/domain/duties.js';

/** (method, path) pairs of the app's route table (as test/security/csrf.test.ts reads it). */
function routeTable(app: TestApp): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of app.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│]*)[├└]── (.*?) \(([A-Z, ]+)\)\s*$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = path;
    for (const method of m[3]!.split(',').map((s) => s.trim())) out.push({ method, url: path });
  }
  return out;
}
const concrete = (url: string) => url.replace(/:(\w+)/g, (_, p: string) => (p === 'slot' ? 'license' : '1'));

/**
 * 本级人员授权 everywhere: an account holding one duty is refused (403, the Chinese reason naming
 * the duty) on every staff route of the other duties, GET and POST alike, and its menu shows only
 * what it may open.
 */
t.test('an account with one duty is refused on every route of the other duties', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const accounts: { username: string; orgId: number; duty: Duty; own: string[]; hidden: string[] }[] = [
    { username: 'unit_wangf', orgId: w.unit, duty: 'people', own: ['/org/people', '/org/posts'], hidden: ['/org/reviews', '/org/publicity', '/org/recommend', '/org/stats', '/org/posts/stats', '/org/recognitions'] },
    { username: 'com_zhoum', orgId: w.committee, duty: 'plans', own: ['/org/plans', '/org/notices'], hidden: ['/org/reviews', '/org/evaluations', '/org/certificates', '/org/result-publicity', '/org/stats', '/org/integrity'] },
  ];
  const routes = routeTable(app).filter((r) => (r.method === 'GET' || r.method === 'POST') && r.url.startsWith('/org/'));
  t.ok(routes.length > 60, `${routes.length} staff routes`);

  for (const acc of accounts) {
    await createStaff(app, { username: acc.username, name: acc.duty === 'people' ? '王芳' : '周敏', orgId: acc.orgId, roles: '' });
    await app.ctx.db.updateTable('users').set({ duties: acc.duty }).where('username', '=', acc.username).execute();
    const a = new Agent(app);
    t.equal((await login(a, 'staff', acc.username)).statusCode, 303);
    const home = await a.get('/org');
    t.equal(home.statusCode, 200);
    for (const href of acc.own) {
      t.match(home.body, `href="${href}"`, `${acc.duty}: menu shows ${href}`);
      t.equal((await a.get(href)).statusCode, 200, `${acc.duty}: ${href} opens`);
    }
    for (const href of acc.hidden) t.notMatch(home.body, `href="${href}"`, `${acc.duty}: menu hides ${href}`);

    let refused = 0;
    for (const { method, url } of routes) {
      const need = pageDuties(url);
      if (!need || need.includes(acc.duty)) continue;
      // POSTs carry the session's CSRF token (from the last page): the refusal is the duty's.
      const res = method === 'GET' ? await a.get(concrete(url)) : await a.post(concrete(url), { ids: '1', action: 'approve', opinion: '同意' });
      t.equal(res.statusCode, 403, `${acc.duty}: ${method} ${url} → 403`);
      const named = need.map((d) => `“${DUTY_NAME[d]}”`).join('或');
      t.match(res.body, `您没有${named}权限，不能进行此操作`, `${acc.duty}: ${method} ${url} names ${named}`);
      refused++;
    }
    t.ok(refused > 40, `${acc.duty}: ${refused} routes of other duties refused`);
  }
  // Nothing was done on the way.
  t.equal((await app.ctx.db.selectFrom('plans').select('id').execute()).length, 1, 'no plan created');
});

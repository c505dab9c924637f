import t from 'tap';
import { makeApp, Agent, createStaff, createApplicant, login, idNumber } from '../helpers/app.js';

/**
 * Every admin screen is for platform admins only: applicants, ordinary staff and even an
 * "admin" role outside the platform org get 403 on every GET and POST, and nothing changes.
 */
t.test('admin routes: 403 for non-admins, redirect to login for guests, CSRF required', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const db = app.ctx.db;
  const committee = await db.selectFrom('orgs').select('id').where('kind', '=', 'committee').orderBy('id').executeTakeFirstOrThrow();
  const admin = await createStaff(app);
  const clerk = await createStaff(app, { username: 'clerk1', name: '王芳', orgId: committee.id, roles: '' });
  const fake = await createStaff(app, { username: 'fakeadmin', name: '赵强', orgId: committee.id, roles: 'admin' });
  const applicant = await createApplicant(app, { id: idNumber('19880808', '456'), phone: '13900001111' });
  const uid = clerk.userId;

  const gets = [
    '/admin', '/admin/sms',
    '/admin/orgs', '/admin/orgs?q=昆明&kind=committee', '/admin/orgs/new', `/admin/orgs/${committee.id}`,
    '/admin/users', '/admin/users?kind=staff&status=locked', '/admin/users/new', `/admin/users/${uid}`, `/admin/users/${uid}/reset-password`, `/admin/users/${uid}/disable`,
    '/admin/holidays', '/admin/holidays?year=2026&start=2026-09-28&days=5', '/admin/holidays/days/2026-10-01/delete', '/admin/holidays/years/2026/import',
    '/admin/dicts', '/admin/dicts/series', '/admin/dicts/regions', '/admin/dicts/committees', '/admin/dicts/major', '/admin/dicts/major?q=计算机', '/admin/dicts/unit_nature',
  ];
  const posts: [string, Record<string, string>][] = [
    ['/admin/orgs/new', { kind: 'unit', name: '越权单位' }],
    [`/admin/orgs/${committee.id}`, { kind: 'committee', name: '越权改名' }],
    ['/admin/users/new', { username: 'hacker', name: '越权', org_id: String(committee.id) }],
    [`/admin/users/${uid}`, { name: '越权改名', org_id: String(committee.id) }],
    [`/admin/users/${uid}/reset-password`, {}],
    [`/admin/users/${uid}/lock`, {}],
    [`/admin/users/${uid}/disable`, {}],
    [`/admin/users/${uid}/enable`, {}],
    ['/admin/holidays', { date: '2026-12-31', kind: 'holiday', name: '越权' }],
    ['/admin/holidays/days/2026-10-01/delete', {}],
    ['/admin/holidays/years/2026/complete', { complete: '0' }],
    ['/admin/holidays/years/2026/import', {}],
  ];

  const snapshot = async () => ({
    orgs: await db.selectFrom('orgs').selectAll().orderBy('id').execute(),
    users: await db.selectFrom('users').select(['id', 'name', 'username', 'password_hash', 'locked_at', 'disabled', 'roles', 'org_id', 'must_change_password']).orderBy('id').execute(),
    holidays: await db.selectFrom('holidays').selectAll().orderBy('date').execute(),
    years: await db.selectFrom('holiday_years').selectAll().orderBy('year').execute(),
    messages: await db.selectFrom('messages').selectAll().execute(),
  });
  const before = await snapshot();

  const who: [string, Agent][] = [];
  const ap = new Agent(app);
  t.equal((await login(ap, 'applicant', applicant.id)).statusCode, 303);
  who.push(['applicant', ap]);
  const st = new Agent(app);
  t.equal((await login(st, 'staff', 'clerk1')).headers.location, '/org');
  who.push(['staff', st]);
  const fk = new Agent(app);
  t.equal((await login(fk, 'staff', 'fakeadmin')).headers.location, '/admin', 'admin role outside the platform org');
  who.push(['admin role, committee org', fk]);

  for (const [label, agent] of who) {
    await agent.get(label === 'applicant' ? '/me' : '/org'); // a page with a valid CSRF token
    for (const url of gets) {
      const res = await agent.get(url);
      t.equal(res.statusCode, 403, `${label}: GET ${url} → 403`);
      t.match(res.body, '无权访问');
    }
    for (const [url, form] of posts) {
      const res = await agent.post(url, form);
      t.equal(res.statusCode, 403, `${label}: POST ${url} → 403`);
      t.match(res.body, '无权访问', `${label}: POST ${url} refused by the admin guard, not CSRF`);
    }
  }

  // Guests are sent to the login page.
  const guest = new Agent(app);
  for (const url of gets) {
    const res = await guest.get(url);
    t.equal(res.statusCode, 303, `guest: GET ${url}`);
    t.match(String(res.headers.location), /^\/login\?type=staff&next=/);
  }

  // The admin without a CSRF token: refused on every POST.
  const ad = new Agent(app);
  await login(ad, 'staff', 'admin1');
  for (const url of gets) {
    const res = await ad.get(url);
    t.equal(res.statusCode, 200, `admin: GET ${url} → 200`);
  }
  for (const [url, form] of posts) {
    const res = await ad.post(url, form, { csrf: null });
    t.equal(res.statusCode, 403, `admin without CSRF: POST ${url} → 403`);
    t.match(res.body, '请求已失效');
    const wrong = await ad.post(url, form, { csrf: 'not-a-token' });
    t.equal(wrong.statusCode, 403, `admin with a forged CSRF token: POST ${url} → 403`);
  }

  t.same(await snapshot(), before, 'nothing changed');
  void admin; void fake;
});

import t from 'tap';
import { makeApp, Agent, createStaff, login } from '../helpers/app.js';
import { onPostgres } from '../helpers/pg.js';

t.test('health, login page and admin login', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const h = await app.app.inject('/health');
  t.same(h.json(), { status: 'ok', db: 'ok', database: onPostgres ? 'postgres' : 'sqlite' });
  const a = new Agent(app);
  const page = await a.get('/login');
  t.equal(page.statusCode, 200);
  t.match(page.body, '身份证号或手机号');
  await createStaff(app);
  const res = await login(a, 'staff', 'admin1');
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/admin');
  const admin = await a.get('/admin');
  t.equal(admin.statusCode, 200);
  t.match(admin.body, '平台管理');
});

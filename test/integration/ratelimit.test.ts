import t from 'tap';
import { makeApp, Agent, createApplicant, login } from '../helpers/app.js';

t.test('the 11th login attempt on one account within 15 minutes gets 429; another account does not', async (t) => {
  const app = await makeApp({ rateLimit: true });
  t.teardown(() => app.close());
  const a = await createApplicant(app, { phone: '13800138000' });
  const b = await createApplicant(app, { phone: '13900139000', id: '53010219850612002X' });
  const agent = new Agent(app);
  await agent.get('/login');
  // Different source IPs: the per-account limit, not the per-IP one, is what bites.
  const post = (account: string, ip: string, password = 'Wrong#pass1') =>
    app.app.inject({
      method: 'POST', url: '/login', remoteAddress: ip,
      payload: new URLSearchParams({ _csrf: agent.csrf(), type: 'applicant', account, password }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
  for (let i = 1; i <= 10; i++) t.not((await post(a.phone, `10.0.0.${i}`)).statusCode, 429, `attempt ${i} allowed`);
  const r = await post(a.phone, '10.0.0.99');
  t.equal(r.statusCode, 429);
  t.ok(Number(r.headers['retry-after']) > 0, 'Retry-After');
  t.match(r.body, /操作过于频繁，请\d+秒后再试/);
  // The same account typed differently (spaces) is the same account.
  t.equal((await post('138 0013 8000', '10.0.0.98')).statusCode, 429);
  // (Last: a successful login regenerates the session this helper's CSRF token belongs to.)
  t.equal((await post(b.phone, '10.0.0.99', b.password)).statusCode, 303, 'another account is unaffected');
});

t.test('per IP: 20 logins a minute; registration SMS 10 a minute', async (t) => {
  const app = await makeApp({ rateLimit: true });
  t.teardown(() => app.close());
  const agent = new Agent(app);
  for (let i = 1; i <= 20; i++) {
    await agent.get('/login');
    t.not((await agent.post('/login', { type: 'staff', account: `nobody${i}`, password: 'x' })).statusCode, 429);
  }
  await agent.get('/login');
  const r = await agent.post('/login', { type: 'staff', account: 'nobody99', password: 'x' });
  t.equal(r.statusCode, 429);
  t.ok(r.headers['retry-after']);
  for (let i = 1; i <= 10; i++) {
    await agent.get('/register');
    t.not((await agent.post('/register/sms', { phone: 'x' })).statusCode, 429);
  }
  await agent.get('/register');
  t.equal((await agent.post('/register/sms', { phone: 'x' })).statusCode, 429);
  await agent.get('/forgot');
  t.not((await agent.post('/forgot/sms', { phone: 'x' })).statusCode, 429, 'its own allowance');
});

t.test('changing the password (the old one is checked) is limited too: 10 a minute', async (t) => {
  const app = await makeApp({ rateLimit: true });
  t.teardown(() => app.close());
  const a = await createApplicant(app, { phone: '13800138000' });
  const agent = new Agent(app);
  await login(agent, 'applicant', a.phone);
  const guess = () => agent.post('/account/password', { old: 'Guess#12345x', password: 'Li#Na2026new', password2: 'Li#Na2026new' });
  for (let i = 1; i <= 10; i++) {
    await agent.get('/account/password');
    t.not((await guess()).statusCode, 429, `guess ${i} answered`);
  }
  await agent.get('/account/password');
  const r = await guess();
  t.equal(r.statusCode, 429);
  t.match(r.body, /操作过于频繁/);
});

t.test('RATE_LIMIT=off disables the limits', async (t) => {
  const app = await makeApp({ rateLimit: false });
  t.teardown(() => app.close());
  const agent = new Agent(app);
  for (let i = 1; i <= 25; i++) {
    await agent.get('/login');
    t.not((await agent.post('/login', { type: 'staff', account: 'nobody', password: 'x' })).statusCode, 429);
  }
});

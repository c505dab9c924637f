// Logs: one JSON line per event with the request id; no ID number, phone, password, SMS code or
// session id in any line while a person registers and logs in; X-Request-Id honoured and echoed.
import t from 'tap';
import { Writable } from 'node:stream';
import { Agent, makeApp, idNumber, lastSmsCode, PASSWORD } from '../helpers/app.js';

/** An app whose pino output goes to `lines` (every level). */
async function loggedApp(t: { teardown(fn: () => unknown): void }) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const app = await makeApp({ logLevel: 'trace' }, { logStream: stream });
  t.teardown(() => app.close());
  return { app, lines };
}

t.test('register and log in: no personal data, password, code or session id in the logs', async (t) => {
  const { app, lines } = await loggedApp(t);
  const who = { name: '张伟', idNumber: idNumber('19900307', '123'), phone: '13800138000' };
  const a = new Agent(app);
  await a.get('/register');
  await a.post('/register/sms', who);
  const code = await lastSmsCode(app, '138****8000');
  const reg = await a.post('/register', { ...who, smsCode: code, password: PASSWORD, password2: PASSWORD, agree: '1' });
  t.equal(reg.statusCode, 303, 'registered');
  await a.post('/logout', {});
  await a.get('/login');
  const wrong = await a.post('/login', { type: 'applicant', account: who.phone, password: 'Wrong#2026pass' });
  t.equal(wrong.statusCode, 422, 'a failed attempt');
  const ok = await a.post('/login', { type: 'applicant', account: who.idNumber, password: PASSWORD });
  t.equal(ok.statusCode, 303, 'logged in');
  // Query strings never reach the log either.
  await a.get(`/me?account=${who.phone}&id=${who.idNumber}`);
  const sessionCookie = a.cookies.get('zc_sid')!;
  t.ok(sessionCookie, 'has a session');
  const sessionId = decodeURIComponent(sessionCookie).split('.')[0]!;

  const text = lines.join('\n');
  t.ok(lines.length >= 16, `${lines.length} log lines captured`);
  for (const [what, secret] of [
    ['ID number', who.idNumber],
    ['ID number digits', who.idNumber.slice(6, 14) + who.idNumber.slice(14)],
    ['phone', who.phone],
    ['password', PASSWORD],
    ['wrong password', 'Wrong#2026pass'],
    ['SMS code', `验证码：${code}`],
    ['session cookie', sessionCookie],
    ['session id', sessionId],
  ] as const) {
    t.notOk(text.includes(secret), `no ${what} in the logs`);
  }
  t.notMatch(text, /"cookie"|"authorization"|"body"/i, 'no headers or bodies');
  const parsed = lines.map((l) => JSON.parse(l) as { reqId?: string; msg?: string; req?: { url: string } });
  const requestLines = parsed.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed');
  t.ok(requestLines.length >= 16 && requestLines.every((l) => typeof l.reqId === 'string' && l.reqId.length > 0), 'every request line carries a reqId');
  t.ok(parsed.some((l) => l.req?.url === '/me'), 'the path is logged, the query is not');
});

t.test('X-Request-Id: a sane incoming id is kept and echoed, anything else replaced', async (t) => {
  const { app, lines } = await loggedApp(t);
  const given = await app.app.inject({ method: 'GET', url: '/login', headers: { 'x-request-id': 'nginx-7f3a.42:1' } });
  t.equal(given.headers['x-request-id'], 'nginx-7f3a.42:1');
  const mine = lines.map((l) => JSON.parse(l)).filter((l) => l.reqId === 'nginx-7f3a.42:1');
  t.ok(mine.some((l) => l.msg === 'incoming request') && mine.some((l) => l.msg === 'request completed'), 'in every line of that request');

  for (const bad of ['has space', 'x'.repeat(65), '<script>', '-leading-dash', 'a/b', '%E5%BC%A0']) {
    const res = await app.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': bad } });
    const id = String(res.headers['x-request-id']);
    t.not(id, bad);
    t.match(id, /^[0-9a-f-]{36}$/, `"${bad.slice(0, 12)}" replaced by a generated id`);
  }
  const a = await app.app.inject('/health');
  const b = await app.app.inject('/health');
  t.match(a.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'generated when none is sent');
  t.not(a.headers['x-request-id'], b.headers['x-request-id'], 'unique per request');
});

// Field test #19, SMS abuse: one IP could have 10 codes a minute sent to new numbers. Now: an
// image code after the first send from an IP (no JS needed), per-IP hourly/daily caps, a
// platform-wide daily cap that alerts the admins; all counters are rows.
import t from 'tap';
import { PNG } from 'pngjs';
import { makeApp, Agent, idNumber, createStaff, login, type TestApp } from '../helpers/app.js';
import { solveSmsChallenge } from '../helpers/sms.js';
import { issueCode, PLATFORM_CAP_MESSAGE } from '../../src/features/sms/codes.js';
import { CHALLENGE_MESSAGES, drawChallenge, purgeChallenges } from '../../src/features/sms/challenge.js';

const outboxCount = async (app: TestApp) => (await app.ctx.db.selectFrom('sms_outbox').select('id').execute()).length;

/** An agent on /register from `ip`, posting 获取验证码 for `phone` (from that IP). */
function registrant(app: TestApp, ip: string) {
  const agent = new Agent(app);
  const form = (phone: string, extra: Record<string, string> = {}) => ({ name: '张伟', idNumber: idNumber('19900307', phone.slice(-3)), phone, ...extra });
  return {
    agent,
    open: async () => {
      const r = await app.app.inject({ method: 'GET', url: '/register', remoteAddress: ip, headers: { cookie: agent.cookieHeader() } });
      for (const c of r.cookies as { name: string; value: string }[]) agent.cookies.set(c.name, c.value);
      agent.lastHtml = r.body;
      return r;
    },
    send: async (phone: string, extra: Record<string, string> = {}) => {
      const r = await app.app.inject({
        method: 'POST', url: '/register/sms', remoteAddress: ip,
        payload: new URLSearchParams({ _csrf: agent.csrf(), ...form(phone, extra) }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: agent.cookieHeader() },
      });
      for (const c of r.cookies as { name: string; value: string }[]) agent.cookies.set(c.name, c.value);
      agent.lastHtml = r.body;
      return r;
    },
  };
}

t.test('after the first code from an IP, 获取验证码 needs the image code (single use, bound to the session)', async (t) => {
  const app = await makeApp({ rateLimit: true });
  t.teardown(() => app.close());
  const u = registrant(app, '203.0.113.7');
  let page = await u.open();
  t.notMatch(page.body, 'name="captcha"', 'first visit from this IP: no image code');
  let r = await u.send('13800138001');
  t.equal(r.statusCode, 200);
  t.match(r.body, '验证码已发送');
  t.equal(await outboxCount(app), 1);
  // The page that comes back already asks for the image code (for the next send).
  t.match(r.body, /<img src="\/sms\/captcha\.png\?v=[0-9a-f]+" width="120" height="44" alt="图片验证码/);
  t.match(r.body, /<input id="f-captcha" name="captcha"/);
  t.match(r.body, /<button type="submit" class="link" name="captchaRefresh" value="1" formaction="\/register\/sms" formnovalidate/);

  // Without the image code: refused, next to its field, typed values kept, nothing sent.
  r = await u.send('13800138002');
  t.equal(r.statusCode, 422);
  t.match(r.body, `<small class="err" id="e-captcha">${CHALLENGE_MESSAGES.missing}</small>`);
  t.match(r.body, 'value="13800138002"', 'the phone typed is kept');
  t.equal(await outboxCount(app), 1);

  // The image is a PNG drawn on the server; its answer is stored only as a keyed hash.
  const { answer, image } = await solveSmsChallenge(u.agent, '203.0.113.7');
  t.equal(image.headers['content-type'], 'image/png');
  t.equal(image.headers['cache-control'], 'no-store');
  const png = PNG.sync.read(image.rawPayload);
  t.same([png.width, png.height], [120, 44]);
  const row = await app.ctx.db.selectFrom('sms_challenges').selectAll().executeTakeFirstOrThrow();
  t.notMatch(JSON.stringify(row), answer, 'the answer is not stored in clear');

  // A wrong answer consumes the image: even the right answer afterwards is refused.
  r = await u.send('13800138002', { captcha: answer === '0000' ? '1111' : '0000' });
  t.equal(r.statusCode, 422);
  t.match(r.body, CHALLENGE_MESSAGES.wrong);
  r = await u.send('13800138002', { captcha: answer });
  t.match(r.body, CHALLENGE_MESSAGES.expired, 'one answer per image');
  t.equal(await outboxCount(app), 1);

  // The right answer of a fresh image: sent. Used again: refused.
  const fresh = await solveSmsChallenge(u.agent, '203.0.113.7');
  r = await u.send('13800138002', { captcha: fresh.answer });
  t.equal(r.statusCode, 200);
  t.match(r.body, '验证码已发送');
  t.equal(await outboxCount(app), 2);
  r = await u.send('13800138003', { captcha: fresh.answer });
  t.equal(r.statusCode, 422, 'single use');
  t.equal(await outboxCount(app), 2);

  // Another browser cannot use this session's image (the answer is bound to the session).
  const other = registrant(app, '203.0.113.7');
  await other.open();
  const mine = await solveSmsChallenge(u.agent, '203.0.113.7');
  r = await other.send('13800138004', { captcha: mine.answer });
  t.equal(r.statusCode, 422);
  t.match(r.body, CHALLENGE_MESSAGES.expired);

  // 换一张 without JS: the same form, nothing sent, a new image, values kept.
  r = await u.send('13800138005', { captchaRefresh: '1' });
  t.equal(r.statusCode, 422);
  t.match(r.body, CHALLENGE_MESSAGES.refreshed);
  t.match(r.body, 'value="13800138005"');
  t.equal(await outboxCount(app), 2);
  // Enter in a field "presses" 换一张 (the first submit button): with digits typed it is a send.
  const typed = await solveSmsChallenge(u.agent, '203.0.113.7');
  r = await u.send('13800138005', { captchaRefresh: '1', captcha: typed.answer });
  t.match(r.body, '验证码已发送');
  t.equal(await outboxCount(app), 3);

  // Another IP starts without an image code; after 24 h this one does too.
  const elsewhere = registrant(app, '198.51.100.9');
  page = await elsewhere.open();
  t.notMatch(page.body, 'name="captcha"');
  app.clock.advance(24 * 3_600_000 + 1000);
  page = await u.open();
  t.notMatch(page.body, 'name="captcha"', '24 h after its first code the IP starts afresh');

  // Expired challenges are purged.
  await solveSmsChallenge(u.agent, '203.0.113.7');
  app.clock.advance(5 * 60_000);
  t.equal(await purgeChallenges(app.ctx), 1);
});

t.test('per-IP caps: SMS_IP_HOURLY per hour, SMS_IP_DAILY per 24 h; other IPs unaffected', async (t) => {
  const app = await makeApp({ rateLimit: true, smsIpHourly: 2, smsIpDaily: 3 });
  t.teardown(() => app.close());
  const u = registrant(app, '203.0.113.7');
  await u.open();
  const sendSolved = async (phone: string) => u.send(phone, { captcha: (await solveSmsChallenge(u.agent, '203.0.113.7')).answer });
  t.equal((await u.send('13800138001')).statusCode, 200);
  t.equal((await sendSolved('13800138002')).statusCode, 200);
  let r = await sendSolved('13800138003');
  t.equal(r.statusCode, 422, 'the 3rd code within the hour');
  t.match(r.body, /<small class="err" id="e-smsCode">当前网络获取验证码次数过多，请\d+分钟后再试<\/small>/);
  t.equal(await outboxCount(app), 2);
  app.clock.advance(3_600_000);
  t.equal((await sendSolved('13800138003')).statusCode, 200, 'next hour');
  r = await sendSolved('13800138004');
  t.match(r.body, '当前网络今日获取验证码次数已达上限，请明天再试', 'the daily cap');
  t.equal(await outboxCount(app), 3);
  const other = registrant(app, '198.51.100.9');
  await other.open();
  t.equal((await other.send('13800138004')).statusCode, 200, 'another IP');
  t.equal(await outboxCount(app), 4);
  // The counters are rows (shared by every process).
  const keys = (await app.ctx.db.selectFrom('rate_counters').select('key').orderBy('key').execute()).map((k) => k.key);
  t.ok(keys.includes('sms:ip:h:203.0.113.7') && keys.includes('sms:ip:d:203.0.113.7'));
});

t.test('platform daily cap: no more codes, the admins are alerted (message, /admin, /admin/sms); next China day sends again', async (t) => {
  const app = await makeApp({ smsDailyMax: 2 });
  t.teardown(() => app.close());
  const admin = await createStaff(app, { username: 'admin1' });
  await createStaff(app, { username: 'audit1', roles: 'audit' });
  t.equal((await issueCode(app.ctx, '13800138001', 'register')).ok, true);
  t.equal((await issueCode(app.ctx, '13800138002', 'register')).ok, true);
  t.same(await issueCode(app.ctx, '13800138003', 'register'), { ok: false, error: PLATFORM_CAP_MESSAGE });
  t.same(await issueCode(app.ctx, '13800138004', 'forgot'), { ok: false, error: PLATFORM_CAP_MESSAGE });
  t.equal(await outboxCount(app), 2, 'nothing sent past the cap');
  const msgs = await app.ctx.db.selectFrom('messages').select(['user_id', 'content']).execute();
  t.equal(msgs.length, 1, 'one alert, to the system admin only, once');
  t.equal(msgs[0]!.user_id, admin.userId);
  t.match(msgs[0]!.content, '今日短信发送量已达平台上限');

  const a = new Agent(app);
  await login(a, 'staff', 'admin1');
  for (const url of ['/admin', '/admin/sms']) {
    const page = await a.get(url);
    t.match(page.body, /<p class="notice error" role="alert">今日短信发送量已达平台上限（2 条）/, `${url} shows the alert`);
  }
  // The registration page says so next to the code field.
  const u = new Agent(app);
  await u.get('/register');
  const r = await u.post('/register/sms', { name: '王芳', idNumber: idNumber('19851120', '456'), phone: '13900139000' });
  t.match(r.body, PLATFORM_CAP_MESSAGE);

  // Midnight in China (16:00 UTC): a new day, a new allowance; the alert is gone.
  const now = app.clock.now();
  app.clock.t = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 16, 0, 0);
  t.equal((await issueCode(app.ctx, '13800138003', 'register')).ok, true);
  await login(a, 'staff', 'admin1');
  t.notMatch((await a.get('/admin')).body, '今日短信发送量已达平台上限');
});

t.test('the image is digits drawn with noise (a PNG of 120×44)', async (t) => {
  const png = PNG.sync.read(drawChallenge('0123'));
  t.same([png.width, png.height], [120, 44]);
  const dark = [...Array(png.width * png.height).keys()].filter((i) => png.data[i * 4]! < 100 && png.data[i * 4 + 1]! < 100).length;
  t.ok(dark > 200, 'the digits are drawn');
  t.not(drawChallenge('0123').equals(drawChallenge('0123')), true, 'random noise: never the same picture twice');
});

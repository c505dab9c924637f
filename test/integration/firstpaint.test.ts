import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { makeApp, Agent, createApplicant, login } from '../helpers/app.js';
import { ROOT } from '../../src/app.js';

// Issue #18: on a slow link nothing painted until the external stylesheet arrived. A browser that
// has not been sent this app.css gets it inside the page and prefetches the file for later pages.
const APP_CSS = fs.readFileSync(path.join(ROOT, 'public/css/app.css'), 'utf8');
const styleTag = /<style nonce="([^"]+)">([\s\S]*?)<\/style>/;
const linkTag = /<link rel="stylesheet" href="\/public\/css\/app\.[0-9a-f]{10}\.css">/;

t.test('first visit: app.css inline with the nonce, prefetched, cookie set; later pages link it', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const agent = new Agent(app);

  const first = await agent.get('/login');
  t.equal(first.statusCode, 200);
  const m = styleTag.exec(first.body);
  t.ok(m, 'a <style> tag');
  t.equal(m?.[2], APP_CSS, 'holding app.css as served');
  t.match(String(first.headers['content-security-policy']), `'nonce-${m?.[1]}'`, 'its nonce is in the CSP');
  t.notMatch(first.body, linkTag, 'no render-blocking stylesheet link');
  const prefetch = /<link rel="prefetch" href="(\/public\/css\/app\.([0-9a-f]{10})\.css)" as="style">/.exec(first.body);
  t.ok(prefetch, 'the file is prefetched for later pages');
  const cookie = (first.cookies as { name: string; value: string; httpOnly?: boolean; maxAge?: number }[]).find((c) => c.name === 'zc_css');
  t.equal(cookie?.value, prefetch?.[2], 'the cookie names the version sent');
  t.ok(cookie?.httpOnly, 'HttpOnly');
  t.ok((cookie?.maxAge ?? 0) >= 86400 * 365, 'kept a year');
  const css = await agent.get(prefetch![1]!);
  t.equal(css.statusCode, 200, 'the prefetched file is served');
  t.equal(css.body, APP_CSS);

  // Budget (DESIGN §6 / issue #18): the first HTML stays ≤ 14 KB compressed with the CSS in it.
  const br = zlib.brotliCompressSync(Buffer.from(first.body)).length;
  const gz = zlib.gzipSync(Buffer.from(first.body)).length;
  t.ok(gz <= 14 * 1024, `login page ${gz} B gzip (${br} B brotli) ≤ 14 KB`);

  const again = await agent.get('/login');
  t.notMatch(again.body, styleTag, 'second page: no inline CSS');
  t.match(again.body, linkTag, 'second page: the cached stylesheet');

  // Signed in, the same: the cookie carries over.
  const a = await createApplicant(app);
  await login(agent, 'applicant', a.phone);
  const me = await agent.get('/me');
  t.notMatch(me.body, styleTag);
  t.match(me.body, linkTag);

  // A browser holding an older app.css gets the new one inline once.
  agent.cookies.set('zc_css', '0000000000');
  t.match((await agent.get('/me')).body, styleTag, 'a stale version: inline again');
  t.match((await agent.get('/me')).body, linkTag, 'then linked');

  // htmx fragments never carry it.
  const fresh = new Agent(app);
  const frag = await fresh.get('/login', { 'hx-request': 'true' });
  t.notMatch(frag.body, styleTag, 'an htmx request: no inline CSS');
});

t.test('INLINE_CSS=0 keeps the plain stylesheet link', async (t) => {
  const app = await makeApp({ inlineCss: false });
  t.teardown(() => app.close());
  const res = await new Agent(app).get('/login');
  t.notMatch(res.body, styleTag);
  t.match(res.body, linkTag);
  t.notOk((res.cookies as { name: string }[]).some((c) => c.name === 'zc_css'), 'no cookie');
});

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../src/app.js';
import { makeApp, Agent, createApplicant, login } from '../helpers/app.js';
import { kunming, makePng } from '../helpers/world.js';
import { storeFile } from '../../src/features/files/service.js';
import { loadConfig } from '../../src/config.js';

/** The CSP header as a map of directive → sources. */
function csp(header: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const d of String(header ?? '').split(';')) {
    const [name, ...values] = d.trim().split(/\s+/);
    if (name) out.set(name, values);
  }
  return out;
}

const nonceOf = (header: unknown) => /'nonce-([^']+)'/.exec(String(header))?.[1];

/** Every <script …> start tag of a page. */
const APP_CSS = fs.readFileSync(path.join(ROOT, 'public/css/app.css'), 'utf8');
const scriptTags = (html: string) => [...html.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0]);

t.test('CSP: a fresh nonce per response on every script tag; no unsafe-*, strict directives', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = await createApplicant(app);
  const agent = new Agent(app);

  const seen = new Set<string>();
  const check = (res: { headers: Record<string, unknown>; body: string }, where: string) => {
    const header = res.headers['content-security-policy'];
    const d = csp(header);
    const nonce = nonceOf(header);
    t.ok(nonce, `${where}: a nonce`);
    t.match(nonce, /^[A-Za-z0-9+/]{22}==$/, `${where}: 16 random bytes, base64`);
    t.notOk(seen.has(nonce!), `${where}: not reused`);
    seen.add(nonce!);
    t.same(d.get('script-src'), ["'self'", `'nonce-${nonce}'`], `${where}: script-src 'self' + nonce only`);
    // A first visit carries app.css in a <style> tag with this response's nonce (first paint).
    t.same(d.get('style-src'), ["'self'", `'nonce-${nonce}'`], `${where}: style-src 'self' + nonce only`);
    t.same(d.get('object-src'), ["'none'"]);
    t.same(d.get('base-uri'), ["'none'"]);
    t.same(d.get('frame-ancestors'), ["'none'"]);
    t.same(d.get('form-action'), ["'self'"]);
    t.same(d.get('default-src'), ["'self'"]);
    t.notMatch(String(header), /unsafe-inline|unsafe-eval|unsafe-hashes|\*/, `${where}: nothing unsafe, no wildcard`);
    const tags = scriptTags(res.body);
    for (const tag of tags) {
      t.match(tag, `nonce="${nonce}"`, `${where}: ${tag} carries this response's nonce`);
      t.match(tag, / src="\/public\//, `${where}: and loads our own file (no inline script)`);
    }
    t.notMatch(res.body, /<script\b(?![^>]*\bsrc=)[^>]*>/i, `${where}: no inline <script> body`);
    t.notMatch(res.body, /\sstyle="/i, `${where}: no style attribute`);
    for (const m of res.body.matchAll(/<style\b([^>]*)>([\s\S]*?)<\/style>/gi)) {
      t.equal(m[1], ` nonce="${nonce}"`, `${where}: a <style> only with this response's nonce`);
      t.equal(m[2], APP_CSS, `${where}: and only app.css as it is served`);
    }
    return tags.length;
  };

  const first = await agent.get('/login');
  t.ok(check(first, '/login') >= 2, 'the login page has its scripts');
  const again = await agent.get('/login');
  check(again, '/login again');
  t.not(nonceOf(first.headers['content-security-policy']), nonceOf(again.headers['content-security-policy']), 'differs per request');

  await login(agent, 'applicant', a.phone);
  for (const url of ['/me', '/me/profile', '/me/sections/titles', '/nope-404']) check(await agent.get(url), url);
  // The section list also loads Sortable: three tags, one nonce.
  t.equal(scriptTags((await agent.get('/me/sections/titles')).body).length, 3);
  // Error pages too.
  const notFound = await agent.get('/me/files/999999');
  t.equal(notFound.statusCode, 404);
  check(notFound, '404');
});

t.test('HSTS only over HTTPS; X-Forwarded-Proto counts only from a trusted proxy (TRUST_PROXY)', async (t) => {
  const plain = await makeApp();
  t.teardown(() => plain.close());
  const get = (app: typeof plain, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') => app.app.inject({ method: 'GET', url: '/login', headers, remoteAddress });
  t.notOk((await get(plain)).headers['strict-transport-security'], 'plain HTTP: none');
  t.notOk((await get(plain, { 'x-forwarded-proto': 'https' })).headers['strict-transport-security'], 'TRUST_PROXY off: a forwarded https is not believed');

  const anyProxy = await makeApp({ trustProxy: true });
  t.teardown(() => anyProxy.close());
  t.equal((await get(anyProxy, { 'x-forwarded-proto': 'https' })).headers['strict-transport-security'], 'max-age=31536000', 'trusted proxy says https: sent');
  t.notOk((await get(anyProxy, { 'x-forwarded-proto': 'http' })).headers['strict-transport-security'], 'trusted proxy says http: none');
  t.notOk((await get(anyProxy)).headers['strict-transport-security']);

  const listed = await makeApp({ trustProxy: loadConfig({ NODE_ENV: 'test', TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' }).trustProxy });
  t.teardown(() => listed.close());
  t.equal((await get(listed, { 'x-forwarded-proto': 'https' }, '10.1.2.3')).headers['strict-transport-security'], 'max-age=31536000', 'from the listed proxy');
  t.notOk((await get(listed, { 'x-forwarded-proto': 'https' }, '203.0.113.9')).headers['strict-transport-security'], 'from anyone else: ignored');
  // TRUST_PROXY parsing.
  const tp = (v: string) => loadConfig({ NODE_ENV: 'test', TRUST_PROXY: v }).trustProxy;
  t.same([tp(''), tp('false'), tp('0'), tp('off'), tp('true'), tp('1'), tp('2'), tp('127.0.0.1'), tp('::1,10.0.0.0/8')],
    [false, false, false, false, true, 1, 2, '127.0.0.1', '::1,10.0.0.0/8']);
  for (const bad of ['yes please', 'proxy.example.com', '10.0.0.0/8;rm']) t.throws(() => tp(bad), /^TRUST_PROXY must be/, `TRUST_PROXY=${bad} refused`);
});

t.test('Referrer-Policy, nosniff and framing on every kind of response', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const agent = new Agent(app);
  const page = await agent.get('/login');
  const asset = /<script src="([^"]+)"/.exec(page.body)![1]!;
  for (const [what, res] of [
    ['page', page],
    ['asset', await agent.get(asset)],
    ['404', await agent.get('/nope')],
    ['redirect', await agent.get('/me')],
    ['health', await agent.get('/health')],
  ] as const) {
    t.equal(res.headers['referrer-policy'], 'same-origin', `${what}: Referrer-Policy`);
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
    t.match(String(res.headers['content-security-policy']), "frame-ancestors 'none'", `${what}: not framable`);
  }
});

t.test('Cache-Control: no-store on pages, fragments, redirects and files; hashed assets cached', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  await kunming(app);
  const a = await createApplicant(app);
  const applicant = new Agent(app);
  const staff = new Agent(app);

  // Anonymous: the login page holds a CSRF token, so it is not cached either.
  const loginPage = await applicant.get('/login');
  t.match(loginPage.body, 'name="_csrf"');
  t.equal(loginPage.headers['cache-control'], 'no-store', 'login page');
  const asset = /<link rel="(?:stylesheet|prefetch)" href="([^"]+)"/.exec(loginPage.body)![1]!;
  t.equal((await applicant.get(asset)).headers['cache-control'], 'public, max-age=31536000, immutable', 'hashed asset');
  t.equal((await applicant.get('/me')).headers['cache-control'], 'no-store', 'redirect to login');

  await login(applicant, 'applicant', a.phone);
  for (const url of ['/me', '/me/profile', '/me/sections/titles', '/me/declaration', '/me/messages', '/notices', '/me/attachments']) {
    const res = await applicant.get(url);
    t.equal(res.headers['cache-control'], 'no-store', `${url} (${res.statusCode})`);
  }
  const fragment = await applicant.get('/me', { 'hx-request': 'true' });
  t.equal(fragment.headers['cache-control'], 'no-store', 'htmx fragment');
  const posted = await applicant.post('/me/profile', {});
  t.equal(posted.headers['cache-control'], 'no-store', `POST answer (${posted.statusCode})`);

  const stored = await storeFile(app.ctx, a.userId, { filename: '证书.png', buffer: makePng(40, 30) }, 'doc');
  if (!stored.ok) throw new Error(stored.error);
  const file = await applicant.get(`/me/files/${stored.fileId}?download=1`);
  t.equal(file.statusCode, 200);
  t.match(file.headers['cache-control'], /no-store/, 'file download');
  t.match(file.headers['content-disposition'], /^attachment;/);
  t.equal(file.headers['content-security-policy'], 'sandbox');

  await login(staff, 'staff', 'unit_lina');
  for (const url of ['/org', '/org/unit', '/org/people', '/org/unit-stage', '/org/recommend']) {
    const res = await staff.get(url);
    t.equal(res.headers['cache-control'], 'no-store', `staff ${url} (${res.statusCode})`);
  }
});

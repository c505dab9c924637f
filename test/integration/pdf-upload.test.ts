// Field test #19: JavaScript inside an uploaded PDF ran when a reviewer opened it. Now the
// stored copy has its scripts and automatic actions neutralised, and every PDF is served as a
// download (never in the browser's viewer on this site).
import t from 'tap';
import fs from 'node:fs';
import { makeApp, Agent, createApplicant, login, type TestApp } from '../helpers/app.js';
import { multipart } from '../helpers/files.js';
import { helloPdf, objStmPdf, OPEN_ACTION_JS } from '../helpers/pdf.js';
import { findDangerousNames } from '../../src/lib/pdfsafe.js';
import { PDF_ENCRYPTED_MESSAGE } from '../../src/features/files/service.js';

/** Uploads to the applicant's 身份证人像面 slot (a document slot) the way the form does. */
async function upload(app: TestApp, agent: Agent, filename: string, bytes: Buffer) {
  await agent.get('/me/profile');
  const q = new URLSearchParams({ owner: 'profile', slot: 'id_front', back: '/me/profile' });
  const { payload, contentType } = await multipart(filename, bytes, 'application/pdf', 'file', { csrf: agent.csrf() });
  return app.app.inject({ method: 'POST', url: `/me/attachments?${q}`, payload, headers: { 'content-type': contentType, cookie: agent.cookieHeader() } });
}

async function flashAfter(agent: Agent, location: unknown): Promise<string> {
  const page = await agent.get(String(location));
  // A refusal sits next to its slot; a success is the page's flash.
  return /<p class="flash (?:ok|error)"[^>]*>([^<]*)<\/p>/.exec(page.body)?.[1] ?? /<small class="err" id="att-[^"]+-err" role="alert">([^<]+)<\/small>/.exec(page.body)?.[1] ?? '';
}

t.test('a PDF with /OpenAction /S /JavaScript: stored without active JavaScript, downloaded as an attachment', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = await createApplicant(app);
  const agent = new Agent(app);
  await login(agent, 'applicant', a.phone);

  for (const [name, pdf] of [['plain.pdf', helloPdf(OPEN_ACTION_JS)], ['objstm.pdf', objStmPdf(OPEN_ACTION_JS)]] as const) {
    const res = await upload(app, agent, name, pdf);
    t.equal(res.statusCode, 303);
    t.equal(await flashAfter(agent, res.headers.location), '上传成功', `${name}: accepted`);
    const f = await app.ctx.db.selectFrom('files').selectAll().where('original_name', '=', name).executeTakeFirstOrThrow();
    const stored = await app.ctx.blobs.read(f.sha256);
    t.not(stored.equals(pdf), true, `${name}: the stored copy is not the one sent`);
    t.same(findDangerousNames(stored), [], `${name}: no /JavaScript, /JS or /OpenAction left in the stored bytes`);
    t.notMatch(stored.toString('latin1'), /\/S\s*\/JavaScript/);
    t.equal(f.size, stored.length);

    for (const url of [`/me/files/${f.id}`, `/me/files/${f.id}?download=1`]) {
      const dl = await agent.get(url);
      t.equal(dl.statusCode, 200);
      t.equal(dl.headers['content-type'], 'application/pdf');
      t.equal(dl.headers['content-disposition'], `attachment; filename="${name}"; filename*=UTF-8''${name}`, `${url}: a download, never the inline viewer`);
      t.equal(dl.headers['x-content-type-options'], 'nosniff');
      t.equal(dl.headers['content-security-policy'], 'sandbox');
      t.same(dl.rawPayload, stored);
    }
  }
  // The attachment list offers 下载 (no 查看) for PDFs.
  const page = await agent.get('/me/profile');
  t.notMatch(page.body, /href="\/me\/files\/\d+" target="_blank" rel="noopener" hx-boost="false">查看/);
});

t.test('an encrypted PDF with object streams cannot be checked: refused with a clear message', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = await createApplicant(app);
  const agent = new Agent(app);
  await login(agent, 'applicant', a.phone);
  const enc = Buffer.from(objStmPdf('').toString('latin1').replace('/Type /XRef', '/Type /XRef /Encrypt << /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>'), 'latin1');
  const res = await upload(app, agent, 'locked.pdf', enc);
  t.equal(await flashAfter(agent, res.headers.location), PDF_ENCRYPTED_MESSAGE);
  t.equal((await app.ctx.db.selectFrom('files').select('id').execute()).length, 0, 'nothing stored');
});

import t from 'tap';
import { makeApp } from '../helpers/app.js';
import { kunming, submittedDeclaration, approveByCommittee, likeDeclaration } from '../helpers/world.js';
import { needsPrinter, printerConfig } from '../helpers/print.js';
import { prerenderPrintable } from '../../src/features/declaration/prerender.js';
import { loadConfig } from '../../src/config.js';

// Issue #18: printable forms are rendered in the background and kept, so the first person to
// print one is served the kept PDF as well.
t.test('printable forms are rendered once in the background; a print then serves the kept PDF', async (t) => {
  if (!needsPrinter(t)) return;
  const app = await makeApp(printerConfig());
  t.teardown(() => app.close());
  const renderer = { viewAsync: (page: string, data: Record<string, unknown>) => app.app.view(page, data) };
  const w = await kunming(app);
  const zhang = await submittedDeclaration(app, w, { name: '张伟' });
  const li = await likeDeclaration(app, zhang.id, '李娜', '452');
  t.equal(await prerenderPrintable(app.ctx, renderer), 0, 'nothing printable yet: nothing rendered');

  await approveByCommittee(app, zhang.id);
  t.equal(await prerenderPrintable(app.ctx, renderer), 1, 'the approved form is rendered');
  const kept = await app.ctx.db.selectFrom('pdf_cache').selectAll().execute();
  t.same(kept.map((k) => k.declaration_id), [zhang.id], 'and kept; 李娜 (still in review) is not');
  t.ok(await app.ctx.blobs.has(kept[0]!.sha256), 'its bytes are in the blob store');
  const rec = await app.ctx.db.selectFrom('print_records').selectAll().where('code', '=', kept[0]!.code).executeTakeFirstOrThrow();
  t.equal(rec.declaration_id, zhang.id, 'its code is recorded (it verifies)');
  t.equal(rec.printed_by, null, 'printed by nobody: the background job');
  t.equal(await prerenderPrintable(app.ctx, renderer), 0, 'a second run has nothing to do');

  const res = await zhang.agent.get(`/me/records/${zhang.id}/pdf`);
  t.equal(res.statusCode, 200);
  t.ok(res.rawPayload.equals(await app.ctx.blobs.read(kept[0]!.sha256)), 'the applicant gets the kept PDF');
  t.equal((await app.ctx.db.selectFrom('print_records').select('code').where('declaration_id', '=', zhang.id).execute()).length, 1, 'no second render');
  void li;
});

t.test('without a browser the job renders nothing and fails nothing', async (t) => {
  const app = await makeApp({ chromiumPath: '/nonexistent/chromium' });
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await submittedDeclaration(app, w, { name: '张伟' });
  await approveByCommittee(app, zhang.id);
  const renderer = { viewAsync: (page: string, data: Record<string, unknown>) => app.app.view(page, data) };
  t.equal(await prerenderPrintable(app.ctx, renderer), 0);
  t.equal((await app.ctx.db.selectFrom('pdf_cache').selectAll().execute()).length, 0);
});

t.test('PDF_PRERENDER: on by default, off under NODE_ENV=test unless asked', async (t) => {
  t.equal(loadConfig({ NODE_ENV: 'production', DATA_DIR: '/tmp/x' }).pdfPrerender, true);
  t.equal(loadConfig({ NODE_ENV: 'test', DATA_DIR: '/tmp/x' }).pdfPrerender, false);
  t.equal(loadConfig({ NODE_ENV: 'production', DATA_DIR: '/tmp/x', PDF_PRERENDER: 'off' }).pdfPrerender, false);
});

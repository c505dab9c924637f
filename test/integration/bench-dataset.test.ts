import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { sectionByKey } from '../../src/domain/sections.js';
import { validateRow } from '../../src/domain/sectionRules.js';
import { sniff } from '../../src/domain/images.js';
import { chinaToday } from '../../src/features/plans/repository.js';
import { Agent, login, type TestApp } from '../helpers/app.js';

/**
 * bench/gen.ts makes a small dataset that the app itself accepts: the bench password logs people
 * in (ID numbers and phones encrypted with the data dir's key), every archive row passes the
 * registry's rules, every file row has its blob, a generated draft can be submitted through the
 * pages, and a reviewer's queue lists declarations they can approve.
 */
t.test('bench/gen: a tiny dataset the app accepts end to end', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-bench-gen-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  execFileSync(process.execPath, ['--import', 'tsx', 'bench/gen.ts', dir, '--force', '--applicants', '40', '--declarations', '16', '--blobs', '9'], { stdio: 'pipe' });
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'bench-accounts.json'), 'utf8'));

  const { app, ctx } = await buildApp(loadConfig({ DATA_DIR: dir, NODE_ENV: 'test' }));
  await app.ready();
  t.teardown(() => app.close());
  const db = ctx.db;
  const count = async (table: 'users' | 'declarations' | 'section_rows' | 'declaration_versions') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  t.equal(Number((await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', 'applicant').executeTakeFirstOrThrow()).n), 40, '40 applicants');
  t.equal(await count('declarations'), 16, '16 declarations');
  const rows = await db.selectFrom('section_rows').select(['section', 'data']).execute();
  t.ok(rows.length >= 300 && rows.length <= 550, `about 10 rows per applicant (${rows.length})`);
  const dicts = await ctx.dicts.ready();
  const today = chinaToday(new Date());
  const invalid = rows.filter((r) => Object.keys(validateRow(sectionByKey(r.section)!, JSON.parse(r.data), { today, dicts }).errors).length);
  t.same(invalid, [], 'every generated row passes the registry rules');

  // Submitted declarations: a version, and one stage row per stop of the route.
  const submitted = await db.selectFrom('declarations').select(['id', 'route', 'version_id']).where('status', '!=', 'draft').execute();
  t.ok(submitted.length > 0, 'some declarations are submitted');
  for (const d of submitted) {
    const stages = await db.selectFrom('declaration_stages').select('idx').where('declaration_id', '=', d.id).execute();
    t.equal(stages.length, JSON.parse(d.route!).length, `declaration ${d.id}: a stage row per route stop`);
    t.ok(d.version_id, `declaration ${d.id} has a version`);
  }
  t.ok((await count('declaration_versions')) >= submitted.length, 'versions written');

  const files = await db.selectFrom('files').select(['sha256', 'mime']).execute();
  t.ok(files.length > 0, 'file rows');
  const wrong = [];
  for (const f of files) if (sniff(await ctx.blobs.read(f.sha256))?.mime !== f.mime) wrong.push(f);
  t.same(wrong, [], 'every file row has its blob on disk, of the recorded type');

  // A draft holder logs in with the shared password and submits through the pages.
  const shell = { app } as unknown as TestApp;
  t.ok(manifest.applicants.draft.length > 0, 'the manifest lists draft holders');
  const applicant = new Agent(shell);
  const res = await login(applicant, 'applicant', manifest.applicants.draft[0], manifest.password);
  t.equal(res.headers.location, '/me', 'applicant logged in by phone');
  const step4 = await applicant.get('/me/declaration?step=4');
  const token = /name="token" value="([^"]+)"/.exec(step4.body)?.[1];
  const declId = /name="declaration_id" value="(\d+)"/.exec(step4.body)?.[1];
  t.ok(token && declId, 'the draft is ready: step 4 offers the submit form');
  const sub = await applicant.post('/me/declaration/submit', { declaration_id: declId!, token: token!, pledge: '1' });
  t.equal(sub.headers.location, `/me/declaration/done?id=${declId}`, 'submitted');

  // A reviewer beyond the unit stage sees a queue and approves from it.
  t.ok(manifest.reviewers.length > 0, 'the manifest lists reviewers with a queue');
  const reviewer = new Agent(shell);
  const r = await login(reviewer, 'staff', manifest.reviewers[0].username, manifest.password);
  t.equal(r.statusCode, 303, 'reviewer logged in');
  const queue = await reviewer.get('/org/reviews?status=todo');
  const id = /href="\/org\/reviews\/(\d+)"/.exec(queue.body)?.[1];
  t.ok(id, 'the todo queue lists a declaration');
  t.equal((await reviewer.get(`/org/reviews/${id}`)).statusCode, 200, 'its detail opens');
  const act = await reviewer.post(`/org/reviews/${id}/act`, { action: 'approve', opinion: '' });
  t.equal(act.headers.location, '/org/reviews?status=todo', 'approved');
});

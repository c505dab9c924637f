/**
 * For scripts/test-binary.mjs: fills a data folder with an approved declaration (the shared test
 * world: a Kunming unit, its plan, 张伟 with a complete archive), so the binary can be asked for
 * the review-form PDF. Run from source (tsx, the machine's Node); prints the ids as JSON.
 *
 *   node --import tsx scripts/test-binary-seed.ts <data-dir>
 */
import fs from 'node:fs';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { Agent, TestClock, login, type TestApp } from '../test/helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi } from '../test/helpers/world.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: test-binary-seed.ts <data-dir>');
fs.mkdirSync(dir, { recursive: true });
const clock = new TestClock(Date.now());
const built = await buildApp(loadConfig({ NODE_ENV: 'test', DATA_DIR: dir }, { now: clock.now, rateLimit: false }));
await built.app.ready();
const t: TestApp = { ...built, clock, dir, close: () => built.app.close() };
try {
  const w = await kunming(t);
  const a = await readyApplicant(t, w.unit);
  const agent = new Agent(t);
  await login(agent, 'applicant', a.phone);
  const id = await declareThroughUi(t, agent, w, a.userId);
  await submitThroughUi(agent, id);
  // Approved at the last stage (what the committee's decision leads to): the PDF is printable.
  const d = await t.ctx.db.selectFrom('declarations').select('route').where('id', '=', id).executeTakeFirstOrThrow();
  await t.ctx.db.updateTable('declarations').set({ status: 'approved', stage: JSON.parse(d.route!).length - 1 }).where('id', '=', id).execute();
  console.log(JSON.stringify({ declarationId: id, phone: a.phone, password: a.password }));
} finally {
  await t.close();
}

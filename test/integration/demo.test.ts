import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { Agent, login, type TestApp } from '../helpers/app.js';

/**
 * npm run demo: the plan it opens is the health committee's, for the 卫生技术 series, so the demo
 * applicants can only declare 卫生技术 titles (the field test ended with a 副教授 certificate
 * from the health committee).
 */
t.test('demo: the health committee plan offers only 卫生技术 titles', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-demo-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { stdio: 'pipe', env: { ...process.env, DATA_DIR: dir, NODE_ENV: 'test' } });

  const { app, ctx } = await buildApp(loadConfig({ DATA_DIR: dir, NODE_ENV: 'test' }));
  await app.ready();
  t.teardown(() => app.close());
  const plan = await ctx.db
    .selectFrom('plans as p')
    .innerJoin('orgs as c', 'c.id', 'p.committee_org_id')
    .select(['p.id', 'p.series_code', 'p.any_series', 'c.name as committee'])
    .executeTakeFirstOrThrow();
  t.match(plan.committee, '卫生技术');
  t.equal(plan.series_code, 'S04', 'the plan names the 卫生技术 series');
  t.equal(plan.any_series, 0, 'not 不限');

  const zhang = new Agent({ app } as unknown as TestApp);
  t.equal((await login(zhang, 'applicant', '13800138000', 'Demo#2026pass')).headers.location, '/me', '张伟 logs in');
  await zhang.get('/me/declaration');
  for (const level of ['senior_vice', 'senior_full']) {
    const page = await zhang.post('/me/declaration/cover', { plan_id: String(plan.id), level, _refresh: '1' });
    const titles = [...page.body.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]!).filter((v) => v.includes(' - '));
    t.ok(titles.length >= 4, `${level}: titles offered (${titles.join('、')})`);
    t.same(titles.filter((v) => !v.startsWith('卫生技术人员 - ')), [], `${level}: 卫生技术 titles only`);
    t.notMatch(page.body, '副教授');
    t.notMatch(page.body, '律师');
  }
  // Declaring a title of another series is refused.
  const res = await zhang.post('/me/declaration/cover', { plan_id: String(plan.id), level: 'senior_vice', title: '高等学校教师 - 副教授', specialty: '心血管内科', category: 'normal' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '请选择申报职称');
});

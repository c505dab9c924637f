import t from 'tap';
import { makeApp, Agent, login, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi, fillDeclarationSlots } from '../helpers/world.js';

async function setProfile(app: TestApp, userId: number, extra: Record<string, string>) {
  const row = await app.ctx.db.selectFrom('profiles').select('data').where('user_id', '=', userId).executeTakeFirstOrThrow();
  await app.ctx.db.updateTable('profiles').set({ data: JSON.stringify({ ...JSON.parse(row.data), ...extra }) }).where('user_id', '=', userId).execute();
}

async function trySubmit(a: Agent, declId: number) {
  const page = await a.get('/me/declaration?step=4');
  const token = /name="token" value="([^"]+)"/.exec(page.body)![1]!;
  const res = await a.post('/me/declaration/submit', { declaration_id: String(declId), token, pledge: '1' });
  return { res, after: await a.get(String(res.headers.location)) };
}

const status = async (app: TestApp, id: number) => (await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

t.test('a retired applicant and a civil servant are refused in step 2 and at submit; a plan may only warn', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);

  // 张伟, born 1965-03-10: statutory age 60 years 1 month → retired on 2025-04-10, before the plan closes.
  const li = await readyApplicant(app, w.unit, { seq: '311', phone: '13800138011', birth: '19650310' });
  await setProfile(app, li.userId, { staff_type: '事业单位在编人员' });
  const a = new Agent(app);
  await login(a, 'applicant', li.phone);
  const liDecl = await declareThroughUi(app, a, w, li.userId);
  const step2 = await a.get('/me/declaration?step=2');
  t.match(step2.body, '✗ 已达到法定退休年龄（2025-04-10），离退休人员不得参加职称评审');
  t.match(step2.body, '（不能提交申报）');
  t.match(step2.body, '✓ 人员身份：事业单位在编人员');
  const r1 = await trySubmit(a, liDecl);
  t.equal(r1.res.headers.location, '/me/declaration?step=4');
  t.match(r1.after.body, '已达到法定退休年龄（2025-04-10）');
  t.equal(await status(app, liDecl), 'draft');

  // 王芳, 公务员.
  const wang = await readyApplicant(app, w.unit, { name: '王芳', seq: '232', phone: '13800138001' });
  await setProfile(app, wang.userId, { staff_type: '公务员' });
  const b = new Agent(app);
  await login(b, 'applicant', wang.phone);
  const wangDecl = await declareThroughUi(app, b, w, wang.userId);
  t.match((await b.get('/me/declaration?step=2')).body, '✗ 人员身份为公务员：公务员（含参公管理的人员）不得参加职称评审');
  const r2 = await trySubmit(b, wangDecl);
  t.match(r2.after.body, '公务员（含参公管理的人员）不得参加职称评审');
  t.equal(await status(app, wangDecl), 'draft');

  // The plan chooses: 已达到法定退休年龄 → 提醒 only. The check still shows, the submit goes through.
  await app.ctx.db.updateTable('plans').set({ declare_rules: JSON.stringify({ retired: 'warn' }) }).where('id', '=', w.plan).execute();
  t.match((await a.get('/me/declaration?step=2')).body, '（提示，由审核部门认定）');
  await submitThroughUi(a, liDecl);
  t.equal(await status(app, liDecl), 'reviewing');
});

t.test('转系列 asks for the 转岗证明 slot with its reason and one year in the new post', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await readyApplicant(app, w.unit);
  await setProfile(app, zhang.userId, { staff_type: '事业单位在编人员', post_since: '2026-03-01', post_origin: '管理岗位' });
  await app.ctx.db.updateTable('plans').set({ declare_rules: JSON.stringify({ transfer: 'block' }) }).where('id', '=', w.plan).execute();
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  const declId = await declareThroughUi(app, a, w, zhang.userId);
  await app.ctx.db.updateTable('declarations').set({ cover: JSON.stringify({ ...JSON.parse((await app.ctx.db.selectFrom('declarations').select('cover').where('id', '=', declId).executeTakeFirstOrThrow()).cover), category: 'transfer', category_name: '转系列' }) }).where('id', '=', declId).execute();
  const step3 = await a.get('/me/declaration?step=3');
  t.match(step3.body, '转岗证明');
  t.match(step3.body, '转岗的相关证明可以是聘书、合同、单位证明等形式');
  t.match(step3.body, '事业单位工作人员岗位(职务)变动工资审批表');
  const step2 = await a.get('/me/declaration?step=2');
  t.match(step2.body, '附件：转岗证明');
  t.match(step2.body, '✗ 转系列须转换岗位后在现岗位工作满1年以上');
  // Uploading into the category's slot is accepted (the slot belongs to this declaration).
  const plan = await app.ctx.db.selectFrom('plans').selectAll().where('id', '=', w.plan).executeTakeFirstOrThrow();
  await fillDeclarationSlots(app, zhang.userId, declId, { required_slots: JSON.stringify([{ key: 'transfer_proof', label: '转岗证明' }, { key: 'post_change_pay', label: '岗位变动工资审批表' }]) });
  void plan;
  await setProfile(app, zhang.userId, { post_since: '2025-01-01' });
  const ok = await a.get('/me/declaration?step=2');
  t.notMatch(ok.body, '附件：转岗证明');
  t.match(ok.body, '✓ 转系列：现岗位聘用时间2025-01-01，在现岗位工作已满1年');
  await submitThroughUi(a, declId);
  t.equal(await status(app, declId), 'reviewing');
});

import t from 'tap';
import { makeApp, Agent, login, createStaff, createApplicant, idNumber, lastSmsCode } from '../helpers/app.js';
import { kunming, uscc } from '../helpers/world.js';
import { phoneColumns } from '../../src/lib/pii.js';

const NEW = 'Lina#2026unit';

t.test('工作人员找回密码: by SMS to their own phone, the unit admin by the unit phone, or by unit + USCC + 身份证号', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  // The unit's 联系电话 is a mobile here, so it can recover the unit admin.
  await app.ctx.db.updateTable('orgs').set({ phone: '139-0013-9001' }).where('id', '=', w.unit).execute();
  const admin = await createStaff(app, { username: 'unit_admin1', name: '王芳', orgId: w.unit, roles: 'unit_admin' });
  const clerk = await createStaff(app, { username: 'unit_clerk', name: '李娜', orgId: w.unit, roles: '' });
  await app.ctx.db.updateTable('users').set(phoneColumns(app.ctx.secrets, '13900139002')).where('id', '=', clerk.userId).execute();
  // 赵敏's staff account is linked to her personal account (身份证号).
  const person = await createApplicant(app, { name: '赵敏', id: idNumber('19880101', '552'), phone: '13900139003', unitOrgId: w.unit });
  const linked = await createStaff(app, { username: 'unit_zhao', name: '赵敏', orgId: w.unit, roles: '' });
  await app.ctx.db.updateTable('users').set({ person_user_id: person.userId }).where('id', '=', linked.userId).execute();

  const anon = new Agent(app);
  t.match((await anon.get('/login?type=staff')).body, 'href="/forgot/staff"');
  t.equal((await anon.get('/forgot/staff')).statusCode, 200);

  // A phone that is not the account's: nothing sent, one message.
  const wrong = await anon.post('/forgot/staff/sms', { username: 'unit_clerk', phone: '13900139001' });
  t.equal(wrong.statusCode, 422);
  t.match(wrong.body, '用户名与手机号不匹配');
  t.equal((await app.ctx.db.selectFrom('sms_outbox').select('id').execute()).length, 0, 'no code spent');

  // The clerk, by their own phone.
  t.equal((await anon.post('/forgot/staff/sms', { username: 'unit_clerk', phone: '13900139002' })).statusCode, 200);
  const code = await lastSmsCode(app, '139****9002');
  const bad = await anon.post('/forgot/staff', { username: 'unit_clerk', phone: '13900139002', smsCode: code, password: NEW, password2: 'nope' });
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '两次输入的密码不一致');
  t.match(bad.body, 'value="unit_clerk"', 'typed values kept');
  t.equal((await anon.post('/forgot/staff', { username: 'unit_clerk', phone: '13900139002', smsCode: code, password: NEW, password2: NEW })).statusCode, 303);
  t.equal((await login(new Agent(app), 'staff', 'unit_clerk', NEW)).statusCode, 303, 'the new password works');

  // The unit admin, by the unit's contact phone; a plain clerk cannot use that phone.
  const a2 = new Agent(app);
  await a2.get('/forgot/staff');
  t.equal((await a2.post('/forgot/staff/sms', { username: 'unit_zhao', phone: '13900139001' })).statusCode, 422, 'the unit phone is for its admin only');
  t.equal((await a2.post('/forgot/staff/sms', { username: 'unit_admin1', phone: '13900139001' })).statusCode, 200);
  const code2 = await lastSmsCode(app, '139****9001');
  t.equal((await a2.post('/forgot/staff', { username: 'unit_admin1', phone: '13900139001', smsCode: code2, password: NEW, password2: NEW })).statusCode, 303);
  t.equal((await login(new Agent(app), 'staff', 'unit_admin1', NEW)).statusCode, 303);
  void admin;

  // By the unit's name + USCC + the staff member's 身份证号 (seed: 单位帐户密码丢失).
  const a3 = new Agent(app);
  await a3.get('/forgot/staff');
  const mism = await a3.post('/forgot/staff/unit', { unitName: '昆明市第一人民医院', uscc: uscc(1), idNumber: idNumber('19900307', '123'), upassword: NEW, upassword2: NEW });
  t.equal(mism.statusCode, 422);
  t.match(mism.body, '单位名称、统一社会信用代码与工作人员身份证号不匹配');
  t.match(mism.body, 'value="昆明市第一人民医院"');
  const wrongUnit = await a3.post('/forgot/staff/unit', { unitName: '昆明市第二人民医院', uscc: uscc(1), idNumber: idNumber('19880101', '552'), upassword: NEW, upassword2: NEW });
  t.equal(wrongUnit.statusCode, 422);
  t.equal((await a3.post('/forgot/staff/unit', { unitName: '昆明市第一人民医院', uscc: uscc(1), idNumber: idNumber('19880101', '552'), upassword: NEW, upassword2: NEW })).statusCode, 303);
  t.equal((await login(new Agent(app), 'staff', 'unit_zhao', NEW)).statusCode, 303);

  const resets = await app.ctx.db.selectFrom('audit_log').select(['action', 'object_id']).where('action', '=', 'password_reset').execute();
  t.equal(resets.length, 3, 'each reset audited');
});

import t from 'tap';
import { makeApp, Agent, createStaff, login, type TestApp } from '../helpers/app.js';
import { multipart } from '../helpers/files.js';
import { encodeGbk } from '../helpers/gbk.js';
import { org, uscc } from '../helpers/world.js';

const HEADER = '类型,单位名称,统一社会信用代码,单位性质,单位等级,行政区域,主管部门,地址,联系电话,联系人';

async function upload(a: Agent, bytes: Buffer) {
  await a.get('/admin/exchange/orgs');
  const m = await multipart('orgs.csv', bytes, 'text/csv', 'file', { csrf: a.csrf() });
  return a.t.app.inject({ method: 'POST', url: '/admin/exchange/orgs', payload: m.payload, headers: { 'content-type': m.contentType, cookie: a.cookieHeader() } });
}
const orgCount = async (app: TestApp) => Number((await app.ctx.db.selectFrom('orgs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

t.test('units and supervisors: dry run classes (USCC checked), confirm in one transaction, bindings approved', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  await createStaff(app);
  const a = new Agent(app);
  await login(a, 'staff', 'admin1');
  const health = await org(app, { kind: 'supervisor', name: '昆明市卫生健康委员会', uscc: uscc(1), region_code: '530100' });
  await org(app, { kind: 'unit', name: '昆明市第一人民医院', uscc: uscc(2), region_code: '530102', nature: 'institution', unit_level: 'city' });
  const bad = uscc(9).slice(0, 17) + (uscc(9).endsWith('0') ? '1' : '0');
  const rows = [
    `主管部门,昆明市教育体育局,${uscc(3)},,,530100,,,0871-1234567,王芳`, // new department
    `用人单位,昆明市第一中学,${uscc(4)},事业单位,市级,530102,昆明市教育体育局,,,`, // new, its department from this file
    `用人单位,昆明市第二人民医院,${uscc(5)},institution,city,五华区,${uscc(1)},,,`, // new, department in the system (by code)
    `用人单位,昆明市第一人民医院,${uscc(2)},事业单位,市级,530102,,,,`, // exists: duplicate
    `用人单位,昆明某医院,${uscc(1)},事业单位,市级,530102,,,,`, // the department's code: conflict
    `用人单位,错码单位,${bad},事业单位,市级,530102,,,,`, // wrong check character
    `用人单位,重复单位,${uscc(4)},事业单位,市级,530102,,,,`, // code repeated in the file
    `用人单位,无主管单位,${uscc(6)},事业单位,市级,530102,昆明市不存在局,,,`, // unknown department
    `用人单位,缺性质单位,${uscc(7)},,特级,530102,,,,`, // two reasons
  ];
  const res = await upload(a, encodeGbk([HEADER, ...rows].join('\r\n')));
  t.equal(res.statusCode, 303);
  const page = await a.get(res.headers.location as string);
  t.match(page.body, 'CSV，GBK 编码');
  t.match(page.body, /<dt>新增<\/dt><dd class="cls-new">3<\/dd>/);
  t.match(page.body, /<dt>重复（已导入）<\/dt><dd class="cls-duplicate">1<\/dd>/);
  t.match(page.body, /<dt>冲突<\/dt><dd class="cls-conflict">1<\/dd>/);
  t.match(page.body, /<dt>无效<\/dt><dd class="cls-invalid">4<\/dd>/);
  t.match(page.body, '统一社会信用代码已被“昆明市卫生健康委员会”使用');
  t.match(page.body, '统一社会信用代码校验位不正确');
  t.match(page.body, '与第3行统一社会信用代码重复');
  t.match(page.body, '主管部门“昆明市不存在局”不存在');
  t.match(page.body, '单位性质不能为空；单位等级“特级”不在字典中');
  const before = await orgCount(app);

  t.equal((await a.post(`${res.headers.location}/confirm`)).statusCode, 303);
  t.match((await a.get(res.headers.location as string)).body, '已导入 3 条');
  t.equal(await orgCount(app), before + 3);
  const edu = await app.ctx.db.selectFrom('orgs').selectAll().where('uscc', '=', uscc(3)).executeTakeFirstOrThrow();
  t.match(edu, { kind: 'supervisor', name: '昆明市教育体育局', phone: '0871-1234567', contact: '王芳' });
  const school = await app.ctx.db.selectFrom('orgs').selectAll().where('uscc', '=', uscc(4)).executeTakeFirstOrThrow();
  t.match(school, { kind: 'unit', nature: 'institution', unit_level: 'city', region_code: '530102', supervisor_org_id: edu.id, supervisor_status: 'approved' });
  const second = await app.ctx.db.selectFrom('orgs').selectAll().where('uscc', '=', uscc(5)).executeTakeFirstOrThrow();
  t.match(second, { supervisor_org_id: health, region_code: '530102' });

  // Wrong columns: refused whole, nothing kept.
  const wrong = await upload(a, Buffer.from('单位名称,代码\r\n某单位,123\r\n'));
  t.equal(wrong.statusCode, 422);
  t.match(wrong.body, '缺少列：类型、统一社会信用代码');
  t.equal(await orgCount(app), before + 3);
});

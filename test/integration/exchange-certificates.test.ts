import t from 'tap';
import { makeApp, Agent, createStaff, createApplicant, login, idNumber, lastSmsCode, PASSWORD, type TestApp } from '../helpers/app.js';
import { multipart } from '../helpers/files.js';
import { encodeGbk } from '../helpers/gbk.js';
import { xlsxBuffer } from '../../src/lib/xlsx.js';
import { EXCHANGE_MAX_BYTES } from '../../src/features/exchange/table.js';

const HEADER = '身份证号,姓名,职称名称,级别,专业,取得时间,证书编号,发证机关,获取方式';
const ZHANG = idNumber('19800307', '123');
const LI = idNumber('19850412', '224');
const WANG = idNumber('19790101', '335');
const ZHAO = idNumber('19881111', '446');
const line = (id: string, name: string, no: string, title = '主治医师', level = '中级', date = '2015-06-30') => `${id},${name},${title},${level},心血管内科,${date},${no},云南省卫生系列中级评委会,考试`;
const csv = (...rows: string[]) => Buffer.from([HEADER, ...rows].join('\r\n') + '\r\n', 'utf8');

async function admin(app: TestApp) {
  await createStaff(app);
  const a = new Agent(app);
  await login(a, 'staff', 'admin1');
  return a;
}

async function upload(a: Agent, bytes: Buffer, filename = 'certs.csv') {
  await a.get('/admin/exchange/certificates');
  const m = await multipart(filename, bytes, 'text/csv', 'file', { csrf: a.csrf() });
  return a.t.app.inject({ method: 'POST', url: '/admin/exchange/certificates', payload: m.payload, headers: { 'content-type': m.contentType, cookie: a.cookieHeader() } });
}

const count = async (app: TestApp, table: 'legacy_certificates' | 'import_batches') =>
  Number((await app.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

t.test('dry run classes, confirm in one go, 现有职称 filled, /verify-cert marks it imported', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = await admin(app);
  // 李娜 has an account already; 赵敏's ID is registered under another name.
  const li = await createApplicant(app, { name: '李娜', id: LI, phone: '13900000001' });
  await createApplicant(app, { name: '赵敏', id: ZHAO, phone: '13900000002' });

  // A first batch: one certificate of 王芳, imported.
  const first = await upload(a, csv(line(WANG, '王芳', 'YN-0009'), line(idNumber('19660101', '779'), '陈刚', 'YN-0010')));
  t.equal(first.statusCode, 303);
  await a.get(first.headers.location as string);
  t.equal((await a.post(`${first.headers.location}/confirm`)).statusCode, 303);

  const res = await upload(a, csv(
    line(ZHANG, '张伟', 'YN-0001'), // new
    line(LI, '李娜', 'YN-0002', '副主任医师', '副高级'), // new, holder registered
    line('53010219800307', '孙丽', 'YN-0003'), // invalid ID
    line(ZHANG, '张伟', 'YN-0001', '副主任医师', '副高级'), // number repeated in the file
    line(ZHANG, '张伟伟', 'YN-0004', '主任医师', '正高级'), // one ID, another name
    line(WANG, '王芳', 'YN-0009'), // already imported
    line(idNumber('19700101', '557'), '周杰', 'YN-0010', '主管护师'), // 陈刚's number, another person
    line(ZHAO, '赵敏敏', 'YN-0005'), // registered under another name
    line(idNumber('19900101', '668'), '吴昊', 'YN-0006', '主治医师', '特级', '2030-01-01'), // two reasons
  ));
  t.equal(res.statusCode, 303);
  const report = await a.get(res.headers.location as string);
  t.equal(report.statusCode, 200);
  const body = report.body;
  t.match(body, /<dt>新增<\/dt><dd class="cls-new">2<\/dd>/);
  t.match(body, /<dt>重复（已导入）<\/dt><dd class="cls-duplicate">1<\/dd>/);
  t.match(body, /<dt>冲突<\/dt><dd class="cls-conflict">2<\/dd>/);
  t.match(body, /<dt>无效<\/dt><dd class="cls-invalid">4<\/dd>/);
  t.match(body, '身份证号应为18位');
  t.match(body, '与第2行证书编号重复');
  t.match(body, '与第2行身份证号相同但姓名不同');
  t.match(body, '该证书已导入，将跳过');
  t.match(body, '证书编号已存在（已导入的其他证书）');
  t.match(body, '该身份证号已注册，注册姓名与文件中的姓名“赵敏敏”不一致');
  t.match(body, /级别“特级”不正确.*；取得时间不能晚于今天/);
  t.notMatch(body, ZHANG, 'ID numbers masked in the report');
  t.match(body, '确认后导入全部 <strong>2</strong> 条新增记录');
  t.equal(await count(app, 'legacy_certificates'), 2, 'the dry run imports nothing');
  const only = await a.get(`${res.headers.location}?cls=conflict`);
  t.match(only.body, '共 2 条');
  t.notMatch(only.body, '身份证号应为18位');

  const ok = await a.post(`${res.headers.location}/confirm`);
  t.equal(ok.statusCode, 303);
  const after = await a.get(ok.headers.location as string);
  t.match(after.body, '已导入 2 条，其中 1 条已填入已注册人员的现有职称');
  t.match(after.body, '已导入 2 条');
  t.equal(await count(app, 'legacy_certificates'), 4);
  // Confirming again imports nothing more.
  await a.post(`${res.headers.location}/confirm`);
  t.match((await a.get(res.headers.location as string)).body, '该批次已导入，不能重复导入');
  t.equal(await count(app, 'legacy_certificates'), 4);

  // 李娜's 现有职称 now holds it.
  const rows = await app.ctx.db.selectFrom('section_rows').select('data').where('user_id', '=', li.userId).where('section', '=', 'titles').execute();
  t.equal(rows.length, 1);
  t.match(JSON.parse(rows[0]!.data), { cert_no: 'YN-0002', title_name: '卫生技术人员 - 副主任医师', title_level: 'senior_vice', certified_on: '2015-06-30', committee: '云南省卫生系列中级评委会', imported: true });
  const liAgent = new Agent(app);
  await login(liAgent, 'applicant', LI);
  const mine = await liAgent.get('/me/certificates');
  t.match(mine.body, '历史导入证书');
  t.match(mine.body, 'YN-0002');

  // The public check says where it came from.
  const cert = await app.ctx.db.selectFrom('legacy_certificates').selectAll().where('number', '=', 'YN-0001').executeTakeFirstOrThrow();
  t.equal(cert.user_id, null, '张伟 has no account yet');
  const v = await new Agent(app).get(`/verify-cert/${cert.verify_code.toLowerCase()}`);
  t.equal(v.statusCode, 200);
  t.match(v.body, '历史导入证书');
  t.match(v.body, 'YN-0001');
  t.match(v.body, '张*');
  t.notMatch(v.body, '张伟');

  // 张伟 registers: his certificate fills 现有职称 at once.
  const z = new Agent(app);
  const who = { name: '张伟', idNumber: ZHANG, phone: '13800138000' };
  await z.get('/register');
  await z.post('/register/sms', who);
  const code = await lastSmsCode(app, '138****8000');
  t.equal((await z.post('/register', { ...who, smsCode: code, password: PASSWORD, password2: PASSWORD, agree: '1' })).statusCode, 303);
  const zhang = await app.ctx.db.selectFrom('users').select('id').where('name', '=', '张伟').executeTakeFirstOrThrow();
  const zt = await app.ctx.db.selectFrom('section_rows').select('data').where('user_id', '=', zhang.id).where('section', '=', 'titles').execute();
  t.equal(zt.length, 1);
  // Not a name of the dictionary (it says 主治(主管)医师): kept as imported, for the applicant to pick.
  t.match(JSON.parse(zt[0]!.data), { cert_no: 'YN-0001', title_name: '主治医师', title_level: 'intermediate' });
  t.equal((await app.ctx.db.selectFrom('legacy_certificates').select('user_id').where('number', '=', 'YN-0001').executeTakeFirstOrThrow()).user_id, zhang.id);

  const audits = await app.ctx.db.selectFrom('audit_log').select(['action', 'detail']).where('action', 'in', ['exchange_check', 'exchange_import']).execute();
  t.equal(audits.length, 4, 'two dry runs, two imports');
});

t.test('GBK csv and xlsx read the same; the report pages', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = await admin(app);
  const gbk = encodeGbk([HEADER, line(ZHANG, '张伟', 'GB-0001'), line(LI, '李娜', 'GB-0002')].join('\r\n'));
  const res = await upload(a, gbk);
  t.equal(res.statusCode, 303);
  const page = await a.get(res.headers.location as string);
  t.match(page.body, 'CSV，GBK 编码');
  t.match(page.body, '<td>张伟</td>');
  t.match(page.body, '<td>李娜</td>');
  t.match(page.body, /<dt>新增<\/dt><dd class="cls-new">2<\/dd>/);

  const cols = ['身份证号', '姓名', '职称名称', '级别', '专业', '取得时间', '证书编号', '发证机关', '获取方式'];
  const people = Array.from({ length: 60 }, (_, i) => ({ id: idNumber('19800101', String(100 + i)), name: `测试${i}`, no: `XL-${1000 + i}` }));
  const xlsx = await xlsxBuffer(people, cols.map((header, i) => ({ header, value: (p: (typeof people)[number]) => [p.id, p.name, '工程师', '中级', '机械工程', '2018-12-01', p.no, '昆明市工程系列中级评委会', '评审'][i] })));
  const x = await upload(a, xlsx, 'certs.xlsx');
  t.equal(x.statusCode, 303);
  const p1 = await a.get(x.headers.location as string);
  t.match(p1.body, /<dt>新增<\/dt><dd class="cls-new">60<\/dd>/);
  t.match(p1.body, '第 1 / 2 页');
  t.match(p1.body, 'XL-1049');
  t.notMatch(p1.body, 'XL-1050');
  const p2 = await a.get(`${x.headers.location}?page=2`);
  t.match(p2.body, 'XL-1059');
  t.notMatch(p2.body, 'XL-1000<');
});

t.test('bad files: wrong columns, empty, too large; nothing kept or imported', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = await admin(app);
  const wrong = await upload(a, Buffer.from(`身份证号,姓名,手机号\r\n${ZHANG},张伟,13800138000\r\n`));
  t.equal(wrong.statusCode, 422);
  t.match(wrong.body, '文件的列不正确（缺少列：职称名称、级别、专业、取得时间、证书编号、发证机关、获取方式；无法识别的列：手机号）');
  const headerOnly = await upload(a, Buffer.from(HEADER));
  t.match(headerOnly.body, '文件中只有标题行，没有数据');
  const xls = await upload(a, Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0]), Buffer.alloc(100)]), 'old.xls');
  t.match(xls.body, '不支持 .xls 格式');

  // Just over the limit: read to its end, refused next to the field.
  const big = Buffer.alloc(EXCHANGE_MAX_BYTES + 1, 0x41);
  const over = await upload(a, big);
  t.equal(over.statusCode, 413);
  t.match(over.body, '导入文件不能超过20MB');
  // A 200 MB body: refused from its Content-Length, before anything is read or parsed.
  await a.get('/admin/exchange/certificates');
  const m = await multipart('huge.csv', Buffer.from('x'), 'text/csv', 'file', { csrf: a.csrf() });
  const huge = await app.app.inject({ method: 'POST', url: '/admin/exchange/certificates', payload: m.payload, headers: { 'content-type': m.contentType, 'content-length': String(200 * 1024 * 1024), cookie: a.cookieHeader() } });
  t.equal(huge.statusCode, 413);
  t.match(huge.body, '导入文件不能超过20MB');
  t.equal(await count(app, 'import_batches'), 0);
  t.equal(await count(app, 'legacy_certificates'), 0);

  // Not the system admin: no access.
  await createStaff(app, { username: 'sec1', roles: 'security' });
  const sec = new Agent(app);
  await login(sec, 'staff', 'sec1');
  t.equal((await sec.get('/admin/exchange/certificates')).statusCode, 403);
});

t.test('a failure during the confirmation leaves nothing half-imported', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const a = await admin(app);
  const rows = Array.from({ length: 450 }, (_, i) => line(idNumber('19800101', String(i).padStart(3, '0')), `人员${i}`, `HF-${i}`));
  const res = await upload(a, csv(...rows));
  t.equal(res.statusCode, 303);
  await a.get(res.headers.location as string);
  // The 300th encryption fails: two chunks of 200 rows would be written by then without a transaction.
  const real = app.ctx.secrets.encrypt;
  let n = 0;
  app.ctx.secrets.encrypt = (s: string) => {
    if (++n === 300) throw new Error('disk full');
    return real(s);
  };
  const fail = await a.post(`${res.headers.location}/confirm`);
  t.equal(fail.statusCode, 500);
  app.ctx.secrets.encrypt = real;
  t.equal(await count(app, 'legacy_certificates'), 0, 'nothing of the batch');
  const batch = await app.ctx.db.selectFrom('import_batches').select('status').executeTakeFirstOrThrow();
  t.equal(batch.status, 'checked', 'still to confirm');
  // The same batch confirms once the fault is gone (the file was kept in the blob store).
  await a.get(res.headers.location as string);
  t.equal((await a.post(`${res.headers.location}/confirm`)).statusCode, 303);
  t.equal(await count(app, 'legacy_certificates'), 450);
});

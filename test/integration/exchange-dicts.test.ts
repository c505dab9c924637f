import t from 'tap';
import { makeApp, Agent, createStaff, login } from '../helpers/app.js';
import { multipart } from '../helpers/files.js';

async function upload(a: Agent, bytes: Buffer) {
  await a.get('/admin/exchange/dicts');
  const m = await multipart('dicts.json', bytes, 'application/json', 'file', { csrf: a.csrf() });
  return a.t.app.inject({ method: 'POST', url: '/admin/exchange/dicts', payload: m.payload, headers: { 'content-type': m.contentType, cookie: a.cookieHeader() } });
}

t.test('dictionaries: export → edit → import with a preview of added, renamed, disabled; nothing deleted', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  await createStaff(app);
  const a = new Agent(app);
  await login(a, 'staff', 'admin1');

  const out = await a.get('/admin/exchange/dicts.json');
  t.equal(out.statusCode, 200);
  t.match(out.headers['content-disposition'], /attachment; filename="dicts-2026-06-15\.json"/);
  const set = JSON.parse(out.body);
  t.match(set, { format: 'zhicheng-dicts', version: 1 });
  t.equal(set.series.length, 26);
  t.equal(set.titles.length, 231);
  t.equal(set.regions.length, 37);
  t.ok(set.committees.length > 0);
  t.equal(set.enums.unit_nature.length, 8);
  t.equal(set.enums.specialty.length, 687, 'the trees too');

  // Next year's file: one renamed, one gone, one new, one new region, a series renamed.
  const nature = set.enums.unit_nature as { code: string; name: string }[];
  nature.find((n) => n.code === 'cooperative')!.name = '农民专业合作社';
  set.enums.unit_nature = nature.filter((n) => n.code !== 'other');
  set.enums.unit_nature.push({ code: 'foreign', name: '外资企业', parent_code: null, sort: 99, extra: null, disabled: false });
  set.regions.push({ code: '530199', name: '昆明新区', parent_code: '530100', level: 'county', zone: true, disabled: false });
  set.series[0].name = `${set.series[0].name}（新）`;
  const res = await upload(a, Buffer.from(JSON.stringify(set)));
  t.equal(res.statusCode, 303);
  const preview = await a.get(res.headers.location as string);
  t.match(preview.body, /<dt>新增<\/dt><dd class="chg-added">2<\/dd>/);
  t.match(preview.body, /<dt>改名<\/dt><dd class="chg-renamed">2<\/dd>/);
  t.match(preview.body, /<dt>停用<\/dt><dd class="chg-disabled">1<\/dd>/);
  t.match(preview.body, '合作社 → 农民专业合作社');
  t.match(preview.body, '外资企业');
  t.match(preview.body, '新文件中没有此项，停用（不删除');
  t.equal((await app.ctx.db.selectFrom('dict_items').select('name').where('code', '=', 'cooperative').executeTakeFirstOrThrow()).name, '合作社', 'the preview changes nothing');

  t.equal((await a.post(`${res.headers.location}/confirm`)).statusCode, 303);
  t.match((await a.get(res.headers.location as string)).body, '已更新 5 项字典');
  const items = await app.ctx.db.selectFrom('dict_items').select(['code', 'name', 'disabled']).where('dict', '=', 'unit_nature').execute();
  t.equal(items.length, 9, 'nothing deleted');
  t.match(items.find((i) => i.code === 'other'), { disabled: 1 });
  t.match(items.find((i) => i.code === 'cooperative'), { name: '农民专业合作社' });
  t.match(items.find((i) => i.code === 'foreign'), { name: '外资企业', disabled: 0 });
  t.match(await app.ctx.db.selectFrom('regions').selectAll().where('code', '=', '530199').executeTakeFirstOrThrow(), { name: '昆明新区', zone: 1 });
  // The forms' options follow at once (ctx.dicts.changed()).
  await app.ctx.dicts.ready();
  const opts = app.ctx.dicts.options('unit_nature').map((o) => o.name);
  t.ok(opts.includes('外资企业'));
  t.notOk(opts.includes('其他'), 'a disabled item is no longer offered');

  // The same file again: nothing to do. Exported again and imported: nothing either.
  const again = await upload(a, Buffer.from(JSON.stringify(set)));
  const p2 = await a.get(again.headers.location as string);
  t.match(p2.body, '字典文件与当前字典一致，无需更新');
  const round = await upload(a, Buffer.from((await a.get('/admin/exchange/dicts.json')).body));
  t.match((await a.get(round.headers.location as string)).body, '字典文件与当前字典一致，无需更新');

  // Bad files: nothing kept.
  const before = Number((await app.ctx.db.selectFrom('import_batches').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const notJson = await upload(a, Buffer.from('身份证号,姓名'));
  t.equal(notJson.statusCode, 422);
  t.match(notJson.body, '字典文件不是有效的 JSON 文件');
  const other = await upload(a, Buffer.from(JSON.stringify({ ...set, version: 2 })));
  t.match(other.body, '字典文件版本 2 不支持');
  const broken = await upload(a, Buffer.from(JSON.stringify({ ...set, series: [{ code: 'S99' }] })));
  t.match(broken.body, '字典文件有1项缺少代码或名称（如 series[0]），未导入任何内容');
  t.equal(Number((await app.ctx.db.selectFrom('import_batches').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n), before);
});

t.test('职称系列 and 行政区域 are editable: rename, disable (no longer offered), enable', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  await createStaff(app);
  const a = new Agent(app);
  await login(a, 'staff', 'admin1');
  const page = await a.get('/admin/dicts');
  t.notMatch(page.body, '只读浏览');
  await a.get('/admin/dicts/series');
  t.equal((await a.post('/admin/dicts/series/S04', { name: '卫生系列' })).statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('series').select('name').where('code', '=', 'S04').executeTakeFirstOrThrow()).name, '卫生系列');
  await app.ctx.dicts.ready();
  t.ok(app.ctx.dicts.options('titles').some((o) => o.name === '卫生系列 - 副主任医师'), 'titles follow the new series name');
  await a.get('/admin/dicts/series');
  await a.post('/admin/dicts/series/S04', { toggle: '1' });
  await app.ctx.dicts.ready();
  t.notOk(app.ctx.dicts.options('titles').some((o) => o.name.startsWith('卫生系列')), 'a disabled series offers no titles');
  t.match((await a.get('/admin/dicts/series')).body, '已停用');
  await a.post('/admin/dicts/series/S04', { toggle: '1' });
  t.equal((await app.ctx.db.selectFrom('series').select('disabled').where('code', '=', 'S04').executeTakeFirstOrThrow()).disabled, 0);
  await a.get('/admin/dicts/regions');
  t.equal((await a.post('/admin/dicts/regions/530102', { name: '五华' })).statusCode, 303);
  t.equal((await app.ctx.db.selectFrom('regions').select('name').where('code', '=', '530102').executeTakeFirstOrThrow()).name, '五华');
  t.equal((await a.post('/admin/dicts/regions/999999', { name: 'x' })).statusCode, 404);
  const audits = await app.ctx.db.selectFrom('audit_log').select('object_type').where('action', '=', 'config_change').execute();
  t.equal(audits.length, 4);
});

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeApp, Agent, createStaff, login } from '../helpers/app.js';
import { ROOT } from '../../src/app.js';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const app = await makeApp();
  t.teardown(() => app.close());
  await createStaff(app);
  const a = new Agent(app);
  await login(a, 'staff', 'admin1');
  return { app, a, db: app.ctx.db };
}

const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, 'fixtures', 'holidays.json'), 'utf8')) as { days: { date: string; kind: string; name: string }[] };
const fixture2026 = fixture.days.filter((d) => d.date.startsWith('2026-'));

t.test('year page: tabs, the days with weekday and kind, completeness', async (t) => {
  const { a } = await setup(t);
  const res = await a.get('/admin/holidays');
  t.equal(res.statusCode, 200);
  // The test clock is 2026-06-15: this year is the default; 2025 (data) and 2027 (next year) have tabs.
  for (const y of [2025, 2026, 2027]) t.match(res.body, `href="/admin/holidays?year=${y}"`);
  t.match(res.body, '<a href="/admin/holidays?year=2026" class="on" aria-current="page">2026年</a>');
  t.match(res.body, /<td>2026-10-01<\/td><td>星期四<\/td>\s*<td>放假<\/td>\s*<td>国庆节<\/td>/);
  t.match(res.body, /<td>2026-10-10<\/td><td>星期六<\/td>\s*<td><b>调休上班<\/b><\/td>\s*<td>国庆节<\/td>/);
  t.match(res.body, `该年数据已完整（共 ${fixture2026.length} 天`);
  t.match(res.body, '从 chinese-days 导入');
  const y2027 = await a.get('/admin/holidays?year=2027');
  t.match(y2027.body, '2027年节假日数据未标记为完整');
  t.match(y2027.body, '2027年暂无节假日数据');
  t.match(y2027.body, 'chinese-days 中没有2027年的数据');
});

t.test('add, replace and delete a day; validation keeps the typed values', async (t) => {
  const { a, db } = await setup(t);
  await a.get('/admin/holidays?year=2026');
  const add = await a.post('/admin/holidays', { date: '2026-12-31', kind: 'holiday', name: '测试假日' });
  t.equal(add.statusCode, 303);
  t.equal(add.headers.location, '/admin/holidays?year=2026');
  const page = await a.get('/admin/holidays?year=2026');
  t.match(page.body, '已添加：2026-12-31 测试假日（放假）');
  t.match(page.body, /<td>2026-12-31<\/td><td>星期四<\/td>\s*<td>放假<\/td>\s*<td>测试假日<\/td>/);

  const replace = await a.post('/admin/holidays', { date: '2026-12-31', kind: 'holiday', name: '跨年' });
  t.equal(replace.statusCode, 303);
  t.match((await a.get('/admin/holidays?year=2026')).body, '已替换：2026-12-31 跨年（放假）');
  t.same(await db.selectFrom('holidays').selectAll().where('date', '=', '2026-12-31').execute(), [{ date: '2026-12-31', kind: 'holiday', name: '跨年' }]);

  const cases: [Record<string, string>, string, string][] = [
    [{ date: '2026-02-30' }, '日期格式应为YYYY-MM-DD', 'value="2026-02-30"'],
    [{ date: '2026/10/01' }, '日期格式应为YYYY-MM-DD', 'value="2026/10/01"'],
    [{ date: '' }, '请填写日期', 'value="测试"'],
    [{ kind: 'workday', date: '2026-12-30' }, '调休上班日应为周六或周日', 'value="2026-12-30"'],
    [{ kind: '' }, '请填写类型', 'value="2026-12-29"'],
    [{ name: '' }, '请填写名称', 'value="2026-12-29"'],
    [{ date: '1999-01-01' }, '日期年份应在2000–2100年之间', 'value="1999-01-01"'],
  ];
  for (const [patch, msg, kept] of cases) {
    const res = await a.post('/admin/holidays', { date: '2026-12-29', kind: 'holiday', name: '测试', ...patch });
    t.equal(res.statusCode, 422, msg);
    t.match(res.body, msg);
    t.match(res.body, kept, `${msg}: value kept`);
  }
  t.equal(await db.selectFrom('holidays').select('date').where('date', '=', '2026-12-29').executeTakeFirst(), undefined);

  // Delete: a confirmation page, then the POST.
  const confirm = await a.get('/admin/holidays/days/2026-12-31/delete');
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, '确定删除 2026-12-31（星期四）跨年（放假）吗？');
  t.match(confirm.body, 'action="/admin/holidays/days/2026-12-31/delete"');
  t.match(confirm.body, '确认删除');
  const del = await a.post('/admin/holidays/days/2026-12-31/delete');
  t.equal(del.statusCode, 303);
  t.equal(del.headers.location, '/admin/holidays?year=2026');
  const after = await a.get('/admin/holidays?year=2026');
  t.match(after.body, '已删除：2026-12-31 跨年');
  t.notMatch(after.body, '<td>2026-12-31</td>');
  t.equal(await db.selectFrom('holidays').select('date').where('date', '=', '2026-12-31').executeTakeFirst(), undefined);
  t.equal((await a.get('/admin/holidays/days/2026-12-31/delete')).statusCode, 404);
  t.equal((await a.post('/admin/holidays/days/2026-12-31/delete')).statusCode, 404);
  t.equal((await a.get('/admin/holidays/days/not-a-date/delete')).statusCode, 404);
});

t.test('import 2026 from chinese-days replaces the year and marks it complete', async (t) => {
  const { a, db } = await setup(t);
  // Spoil the year first: one day gone, one made-up day, completeness removed.
  await db.deleteFrom('holidays').where('date', '=', '2026-10-01').execute();
  await db.insertInto('holidays').values({ date: '2026-12-31', kind: 'holiday', name: '假的' }).execute();
  await db.deleteFrom('holiday_years').where('year', '=', 2026).execute();
  const before = await a.get('/admin/holidays?year=2026');
  t.match(before.body, '2026年节假日数据未标记为完整');
  const confirm = await a.get('/admin/holidays/years/2026/import');
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, '2026年的数据（放假 33 天、调休上班 6 天）替换该年现有的 39 条记录');
  t.match(confirm.body, '确认导入');
  const res = await a.post('/admin/holidays/years/2026/import');
  t.equal(res.statusCode, 303);
  const page = await a.get(res.headers.location as string);
  t.match(page.body, '已从 chinese-days 导入2026年节假日：放假 33 天，调休上班 6 天');
  t.match(page.body, '该年数据已完整');
  const rows = await db.selectFrom('holidays').selectAll().where('date', '>=', '2026-01-01').where('date', '<=', '2026-12-31').orderBy('date').execute();
  t.equal(rows.length, fixture2026.length, 'as many days as fixtures/holidays.json has for 2026');
  t.same(rows, [...fixture2026].sort((x, y) => x.date.localeCompare(y.date)), 'the same days, kinds and names');
  const year = await db.selectFrom('holiday_years').selectAll().where('year', '=', 2026).executeTakeFirstOrThrow();
  t.match(year.source, /^npm chinese-days@\d+\.\d+\.\d+$/);
  t.equal((await db.selectFrom('holidays').select('date').where('date', '<', '2026-01-01').execute()).length, fixture.days.length - fixture2026.length, '2025 untouched');

  // A year the package does not have.
  const none = await a.get('/admin/holidays/years/2099/import');
  t.equal(none.statusCode, 303);
  t.match((await a.get(none.headers.location as string)).body, 'chinese-days 中没有2099年的数据，请按国务院办公厅通知手工录入');
  await a.get('/admin/holidays?year=2099');
  t.equal((await a.post('/admin/holidays/years/2099/import')).statusCode, 303);
  t.match((await a.get('/admin/holidays?year=2099')).body, 'chinese-days 中没有2099年的数据，请按国务院办公厅通知手工录入');
  t.equal(await db.selectFrom('holiday_years').select('year').where('year', '=', 2099).executeTakeFirst(), undefined);
  t.equal((await a.get('/admin/holidays/years/1800/import')).statusCode, 404);
});

t.test('mark a year complete / not complete', async (t) => {
  const { a, db } = await setup(t);
  await a.get('/admin/holidays?year=2027');
  const empty = await a.post('/admin/holidays/years/2027/complete', { complete: '1' });
  t.equal(empty.statusCode, 303);
  t.match((await a.get('/admin/holidays?year=2027')).body, '2027年尚无节假日数据，不能标记为完整');
  t.equal(await db.selectFrom('holiday_years').select('year').where('year', '=', 2027).executeTakeFirst(), undefined);
  await a.post('/admin/holidays', { date: '2027-01-01', kind: 'holiday', name: '元旦' });
  await a.get('/admin/holidays?year=2027');
  t.equal((await a.post('/admin/holidays/years/2027/complete', { complete: '1' })).statusCode, 303);
  const on = await a.get('/admin/holidays?year=2027');
  t.match(on.body, '已标记2027年节假日数据完整');
  t.match(on.body, '取消完整标记');
  t.ok(await db.selectFrom('holiday_years').select('year').where('year', '=', 2027).executeTakeFirst());
  const admin = await a.get('/admin');
  t.notMatch(admin.body, '缺少 2027 年节假日数据', 'the dashboard warning is gone');
  await a.post('/admin/holidays/years/2027/complete', { complete: '0' });
  t.match((await a.get('/admin/holidays?year=2027')).body, '已取消2027年的完整标记');
  t.equal(await db.selectFrom('holiday_years').select('year').where('year', '=', 2027).executeTakeFirst(), undefined);
});

t.test('working-day calculator', async (t) => {
  const { a, db } = await setup(t);
  const res = await a.get('/admin/holidays?year=2026&start=2026-09-28&days=5');
  t.equal(res.statusCode, 200);
  t.match(res.body, '自 2026-09-28 起 5 个工作日，截止日期为 <b>2026-10-09</b>（星期五）');
  t.match(res.body, 'value="2026-09-28"', 'the inputs keep their values');
  t.notMatch(res.body, '结果可能不准确');
  // Across the Spring Festival: 2026-02-13 (Fri) is day 1, 2026-02-14 (Sat) is a 调休 workday.
  const spring = await a.get('/admin/holidays?start=2026-02-13&days=3');
  t.match(spring.body, '截止日期为 <b>2026-02-24</b>（星期二）');
  // Reads the table: without the National Day days it is a plain week.
  await db.deleteFrom('holidays').where('date', '>=', '2026-10-01').where('date', '<=', '2026-10-07').execute();
  t.match((await a.get('/admin/holidays?start=2026-09-28&days=5')).body, '截止日期为 <b>2026-10-02</b>');
  // A year without data: the result comes with a warning.
  const y2027 = await a.get('/admin/holidays?start=2027-12-27&days=5');
  t.match(y2027.body, '截止日期为 <b>2027-12-31</b>');
  t.match(y2027.body, '2027年节假日数据未标记为完整，该年按普通工作日计算，结果可能不准确。');
  const bad = await a.get('/admin/holidays?start=2026-13-01&days=0');
  t.equal(bad.statusCode, 422);
  t.match(bad.body, '请输入正确的开始日期，格式为YYYY-MM-DD');
  t.match(bad.body, '工作日数应为1–365之间的整数');
  t.match(bad.body, 'value="2026-13-01"');
});

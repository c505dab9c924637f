import t from 'tap';
import { makeApp, Agent, login, createApplicant, idNumber, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi } from '../helpers/world.js';

/**
 * Issue #18: the review queue pages by keyset (上一页/下一页 carry the row they continue from),
 * a typed page number still works, and both show the same rows; the statistics (grouped in SQL)
 * count the same declarations.
 */

/** The real declaration's cover, route and stages for another applicant, touched at `updatedAt`. */
async function clone(app: TestApp, fromId: number, seq: string, name: string, updatedAt: string) {
  const src = await app.ctx.db.selectFrom('declarations').selectAll().where('id', '=', fromId).executeTakeFirstOrThrow();
  const a = await createApplicant(app, { name, id: idNumber('19800101', seq), phone: `139${seq.padStart(8, '0')}` });
  const { id: _id, ...rest } = src;
  const row = await app.ctx.db.insertInto('declarations').values({ ...rest, user_id: a.userId, updated_at: updatedAt }).returning('id').executeTakeFirstOrThrow();
  const stages = await app.ctx.db.selectFrom('declaration_stages').selectAll().where('declaration_id', '=', fromId).execute();
  await app.ctx.db.insertInto('declaration_stages').values(stages.map((s) => ({ ...s, declaration_id: row.id }))).execute();
  return row.id;
}

const names = (html: string) => [...html.matchAll(/<tr>(?:<td>[^<]*<input[^>]*><\/td>)?<td>(\d+)<\/td><td>([^<]+)<\/td>/g)].map((m) => `${m[1]} ${m[2]}`);
const link = (html: string, label: string) => new RegExp(`<a href="([^"]+)">${label}</a>`).exec(html)?.[1]?.replace(/&amp;/g, '&');

t.test('the review queue: 下一页 by keyset, a typed page number, and the statistics agree', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await readyApplicant(app, w.unit, { name: '张伟', seq: '231', phone: '13800138000' });
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  const first = await declareThroughUi(app, a, w, zhang.userId);
  await submitThroughUi(a, first);
  // 24 more at the unit, every one touched a minute apart; two share a time (ties go by id).
  for (let i = 0; i < 24; i++) {
    const minute = String(i === 13 ? 12 : i).padStart(2, '0');
    await clone(app, first, String(300 + i), `李${'一二三四五六七八九十'[i % 10]}${i}`, `2026-06-10T08:${minute}:00.000Z`);
  }

  const unit = new Agent(app);
  await login(unit, 'staff', w.staff.unit);
  const p1 = await unit.get('/org/reviews');
  t.equal(p1.statusCode, 200);
  t.match(p1.body, /共 25 条/);
  t.match(p1.body, /第 1 \/ 2 页/);
  const rows1 = names(p1.body);
  t.equal(rows1.length, 20);
  t.equal(rows1[0], '1 张伟', 'newest first');
  t.equal(rows1[1], '2 李四23');

  const next = link(p1.body, '下一页');
  t.match(next, /^\/org\/reviews\?page=2&after=\d+_2026-06-10T08%3A05%3A00\.000Z$/, 'the link names the last row shown');
  const p2 = await unit.get(next!);
  t.match(p2.body, /第 2 \/ 2 页/);
  const rows2 = names(p2.body);
  t.same(rows2, ['21 李五4', '22 李四3', '23 李三2', '24 李二1', '25 李一0'], 'the five oldest, numbered on');

  // A typed page number (前往, no cursor) shows the same rows.
  const typed = await unit.get('/org/reviews?page=2');
  t.same(names(typed.body), rows2);
  // Every declaration once over the two pages.
  t.equal(new Set([...rows1, ...rows2].map((r) => r.split(' ')[1])).size, 25);

  // 上一页 from page 2 goes back to exactly page 1.
  const prev = link(p2.body, '上一页');
  t.match(prev, /^\/org\/reviews\?page=1&before=\d+_/);
  t.same(names((await unit.get(prev!)).body), rows1);

  // Filters ride along, and a cursor that does not parse falls back to the page number.
  const todo = await unit.get('/org/reviews?status=todo');
  t.match(link(todo.body, '下一页'), /^\/org\/reviews\?status=todo&page=2&after=/);
  t.same(names((await unit.get('/org/reviews?page=2&after=garbage')).body), rows2);

  // The statistics count the same 25, grouped in SQL.
  const stats = await unit.get('/org/stats');
  t.match(stats.body, /<dt>申报总数<\/dt><dd>25 人<\/dd>/);
});

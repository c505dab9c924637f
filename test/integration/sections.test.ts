import t from 'tap';
import { makeApp, Agent, createApplicant, login, type TestApp } from '../helpers/app.js';
import { SECTIONS } from '../../src/domain/sections.js';
import { validForm } from '../helpers/sections.js';



async function setup() {
  const app = await makeApp();
  const zhang = await createApplicant(app);
  const a = new Agent(app);
  await login(a, 'applicant', zhang.phone);
  return { app, a, zhang };
}

t.test('every section: create (plain and htmx), list, edit, validation keeps values, delete with confirmation', async (t) => {
  const { app, a } = await setup();
  t.teardown(() => app.close());
  for (const def of SECTIONS) {
    const base = `/me/sections/${def.key}`;
    const list = await a.get(base);
    t.equal(list.statusCode, 200, `${def.key}: list`);
    t.match(list.body, def.title);
    t.match(list.body, '暂无数据');

    // Plain path: full form page.
    const form = await a.get(`${base}/new`);
    t.equal(form.statusCode, 200);
    for (const f of def.fields) t.match(form.body, f.label, `${def.key}: label ${f.label}`);
    const values = await validForm(app, def, 0);
    let res = await a.post(base, values);
    t.equal(res.statusCode, 303, `${def.key}: created`);
    const rows = await app.ctx.db.selectFrom('section_rows').selectAll().where('section', '=', def.key).execute();
    t.equal(rows.length, 1);
    const stored = JSON.parse(rows[0]!.data);
    for (const f of def.fields) {
      t.equal(String(stored[f.key]), values[f.key], `${def.key}.${f.key} stored`);
    }

    // htmx path: the new-row form comes as a fragment; a boosted submit saves the same way.
    const frag = await a.get(`${base}/new`, { 'hx-request': 'true' });
    t.equal(frag.statusCode, 200);
    t.notMatch(frag.body, '<html', `${def.key}: fragment, not a page`);
    t.match(frag.body, 'id="row-form"');
    const values2 = def.uniqueBy ? { ...(await validForm(app, def, 1)) } : await validForm(app, def, 1);
    res = await a.post(base, values2, { headers: { 'hx-request': 'true', 'hx-boosted': 'true' } });
    t.equal(res.statusCode, 303, `${def.key}: created through htmx`);

    const shown = await a.get(base);
    t.match(shown.body, '共 2 条');

    // Validation: every required field blank → its message, other typed values kept, nothing saved.
    for (const f of def.fields.filter((x) => x.required)) {
      const bad = { ...values, [f.key]: '' };
      res = await a.post(base, bad);
      t.equal(res.statusCode, 422, `${def.key}.${f.key} required`);
      t.match(res.body, f.type === 'select' || f.type === 'radio' || f.type === 'tree' ? `请选择${f.label}` : `请填写${f.label}`);
      const other = def.fields.find((x) => x.key !== f.key && (x.type === 'text' || x.type === 'textarea'));
      if (other) t.match(res.body, values[other.key]!, `${def.key}: typed ${other.key} kept`);
    }
    t.equal((await app.ctx.db.selectFrom('section_rows').select('id').where('section', '=', def.key).execute()).length, 2, `${def.key}: invalid posts saved nothing`);

    // Edit.
    const id = rows[0]!.id;
    t.equal((await a.get(`${base}/${id}/edit`)).statusCode, 200);
    const text = def.fields.find((x) => x.type === 'text' || x.type === 'textarea');
    if (text) {
      res = await a.post(`${base}/${id}`, { ...values, [text.key]: '李娜修改后的内容' });
      t.equal(res.statusCode, 303, `${def.key}: updated`);
      const after = await app.ctx.db.selectFrom('section_rows').select('data').where('id', '=', id).executeTakeFirstOrThrow();
      t.equal(JSON.parse(after.data)[text.key], '李娜修改后的内容');
    }

    // Delete: confirmation page first, then POST.
    const confirm = await a.get(`${base}/${id}/delete`);
    t.match(confirm.body, '确认删除');
    res = await a.post(`${base}/${id}/delete`, {});
    t.equal(res.statusCode, 303);
    t.equal((await app.ctx.db.selectFrom('section_rows').select('id').where('section', '=', def.key).execute()).length, 1, `${def.key}: deleted`);
  }
});

t.test('field rules: limits in characters, dates, ongoing, 其他, unique year', async (t) => {
  const { app, a } = await setup();
  t.teardown(() => app.close());
  const summaries = SECTIONS.find((s) => s.key === 'summaries')!;
  await a.get('/me/sections/summaries/new');
  // 2000 Chinese characters are 6000 bytes: allowed. 2001 are not.
  let res = await a.post('/me/sections/summaries', { year: '2024', content: '中'.repeat(2000) });
  t.equal(res.statusCode, 303, '2000 characters accepted');
  res = await a.post('/me/sections/summaries', { year: '2023', content: '中'.repeat(2001) });
  t.equal(res.statusCode, 422);
  t.match(res.body, '总结内容不能超过2000个字（当前2001个字）');
  // A surrogate pair counts as one character.
  res = await a.post('/me/sections/summaries', { year: '2023', content: '𠮷'.repeat(2000) });
  t.equal(res.statusCode, 303, '2000 astral characters accepted');
  void summaries;

  const study = SECTIONS.find((s) => s.key === 'study')!;
  const v = await validForm(app, study);
  await a.get('/me/sections/study/new');
  res = await a.post('/me/sections/study', { ...v, start: '2019-09-01', end: '2019-08-31' });
  t.match(res.body, '结束时间不能早于开始时间');
  res = await a.post('/me/sections/study', { ...v, start: '2019-02-30' });
  t.match(res.body, '请填写正确的开始时间');
  res = await a.post('/me/sections/study', { ...v, start: '2030-01-01', end: '2030-02-01' });
  t.match(res.body, '开始时间不能晚于今天');

  // 至今 and free-text 其他 for a tree field.
  const work = SECTIONS.find((s) => s.key === 'work')!;
  const w = await validForm(app, work);
  await a.get('/me/sections/work/new');
  res = await a.post('/me/sections/work', { ...w, end: '', end_ongoing: '1', specialty: '__other__', specialty_other: '职称档案管理' });
  t.equal(res.statusCode, 303);
  const row = await app.ctx.db.selectFrom('section_rows').select('data').where('section', '=', 'work').executeTakeFirstOrThrow();
  t.same(JSON.parse(row.data).end, '至今');
  t.same(JSON.parse(row.data).specialty, '职称档案管理');

  // Select values must come from the dictionary (unless 其他 is allowed).
  const assess = SECTIONS.find((s) => s.key === 'assessments')!;
  const av = await validForm(app, assess);
  // Seed 001 §3.13: the field is 时间 (请选择年份), not 年度.
  const assessForm = await a.get('/me/sections/assessments/new');
  t.match(assessForm.body, /<label for="f-year"><span class="req">\*<\/span>时间<\/label>/);
  t.match(assessForm.body, 'placeholder="请选择年份"');
  res = await a.post('/me/sections/assessments', { ...av, grade: '特优' });
  t.match(res.body, '请选择考核等级');
  res = await a.post('/me/sections/assessments', { ...av, year: '2019' });
  t.match(res.body, '时间不能早于2021年', 'the last 5 years only');
  res = await a.post('/me/sections/assessments', av);
  t.equal(res.statusCode, 303);
  res = await a.post('/me/sections/assessments', av);
  t.match(res.body, `${av.year}年已填写过，每年只能填写一条`);
  const assessList = await a.get('/me/sections/assessments');
  t.match(assessList.body, '<th>时间</th>', 'the list column is 时间');

  // Seed 001 §3.12: 继续教育 counts 天数 (a whole number of days).
  const ce = SECTIONS.find((s) => s.key === 'ce')!;
  const cv = await validForm(app, ce);
  const ceForm = await a.get('/me/sections/ce/new');
  t.match(ceForm.body, /<label for="f-hours"><span class="req">\*<\/span>天数<\/label>/);
  t.notMatch(ceForm.body, '学时/天数');
  res = await a.post('/me/sections/ce', { ...cv, hours: '24学时' });
  t.equal(res.statusCode, 422);
  t.match(res.body, '天数须为不小于1的整数');
  t.match(res.body, 'value="24学时"', 'typed value kept');
  res = await a.post('/me/sections/ce', { ...cv, hours: '3' });
  t.equal(res.statusCode, 303);
  t.match((await a.get('/me/sections/ce')).body, '<th>天数</th>');

  // The titles section records the level of the chosen 资格名称.
  const titles = SECTIONS.find((s) => s.key === 'titles')!;
  const tv = await validForm(app, titles);
  await a.get('/me/sections/titles/new');
  res = await a.post('/me/sections/titles', { ...tv, committee: '__other__', committee_other: '云南省档案系列高级职称评审委员会' });
  t.equal(res.statusCode, 303);
  const trow = await app.ctx.db.selectFrom('section_rows').select('data').where('section', '=', 'titles').executeTakeFirstOrThrow();
  t.ok(JSON.parse(trow.data).title_level, 'title level derived');
  t.equal(JSON.parse(trow.data).committee, '云南省档案系列高级职称评审委员会');
});

t.test('order: up/down buttons and drag order post the same form; order kept', async (t) => {
  const { app, a } = await setup();
  t.teardown(() => app.close());
  const def = SECTIONS.find((s) => s.key === 'study')!;
  const names = ['云南大学', '昆明理工大学', '云南师范大学'];
  await a.get('/me/sections/study/new');
  for (const [i, school] of names.entries()) {
    const v = await validForm(app, def, i);
    await a.post('/me/sections/study', { ...v, school });
  }
  const ids = (await app.ctx.db.selectFrom('section_rows').select('id').where('section', '=', 'study').orderBy('position').execute()).map((r) => r.id);
  const order = async () =>
    (await app.ctx.db.selectFrom('section_rows').select('data').where('section', '=', 'study').orderBy('position').execute()).map((r) => JSON.parse(r.data).school);

  await a.get('/me/sections/study');
  // No JS: 上移 on the third row.
  let res = await a.post('/me/sections/study/order', { order: ids.map(String), move: `${ids[2]}:up`, page: '1' });
  t.equal(res.statusCode, 303);
  t.same(await order(), ['云南大学', '云南师范大学', '昆明理工大学']);
  // Drag (htmx): the rows' hidden inputs in their new order.
  await a.get('/me/sections/study');
  res = await a.post('/me/sections/study/order', { order: [ids[1], ids[2], ids[0]].map(String), page: '1' }, { headers: { 'hx-request': 'true' } });
  t.equal(res.statusCode, 303);
  t.same(await order(), ['昆明理工大学', '云南师范大学', '云南大学']);
  const page = await a.get('/me/sections/study');
  t.ok(page.body.indexOf('昆明理工大学') < page.body.indexOf('云南大学'), 'list shows the saved order');
  // Someone else's id in the order → refused, nothing changed.
  res = await a.post('/me/sections/study/order', { order: [String(ids[0]), '999999'], page: '1' });
  t.equal(res.statusCode, 409);
  t.same(await order(), ['昆明理工大学', '云南师范大学', '云南大学']);
});

t.test('another applicant cannot see, edit, delete or reorder my rows (404)', async (t) => {
  const { app, a } = await setup();
  t.teardown(() => app.close());
  const def = SECTIONS.find((s) => s.key === 'papers')!;
  await a.get('/me/sections/papers/new');
  await a.post('/me/sections/papers', await validForm(app, def));
  const id = (await app.ctx.db.selectFrom('section_rows').select('id').executeTakeFirstOrThrow()).id;

  const li = await createApplicant(app, { name: '李娜', id: '11010519491231002X', phone: '13900001111' });
  const b = new Agent(app);
  await login(b, 'applicant', li.phone);
  await b.get('/me/sections/papers');
  t.equal((await b.get(`/me/sections/papers/${id}/edit`)).statusCode, 404);
  t.equal((await b.get(`/me/sections/papers/${id}/delete`)).statusCode, 404);
  t.equal((await b.post(`/me/sections/papers/${id}`, await validForm(app, def, 2))).statusCode, 404);
  t.equal((await b.post(`/me/sections/papers/${id}/delete`, {})).statusCode, 404);
  t.equal((await b.post('/me/sections/papers/order', { order: [String(id)], page: '1' })).statusCode, 409);
  t.notMatch((await b.get('/me/sections/papers')).body, '论文名称1', 'not listed');
  t.equal((await a.get(`/me/sections/papers/${id}/edit`)).statusCode, 200, 'owner still can');
  t.equal((await a.get('/me/sections/nonsense')).statusCode, 404);
});

t.test('home shows an honest completion state', async (t) => {
  const { app, a } = await setup();
  t.teardown(() => app.close());
  let home = await a.get('/me');
  t.match(home.body, '您的申报信息填写完成情况');
  t.match(home.body, '不是必须填写到100%，但要确保必填项完成');
  t.match(home.body, '<b>0%</b>');
  t.match(home.body, '尚未完成的必填项：学历情况、学习经历、工作经历、专业技术工作总结、年度考核情况');
  for (const key of ['educations', 'study', 'work', 'summaries', 'assessments']) {
    const def = SECTIONS.find((s) => s.key === key)!;
    await a.get(`/me/sections/${key}/new`);
    const r = await a.post(`/me/sections/${key}`, await validForm(app, def));
    t.equal(r.statusCode, 303, `${key} saved`);
  }
  home = await a.get('/me');
  t.match(home.body, `<b>${Math.round((5 / 13) * 100)}%</b>`);
  t.match(home.body, '必填项已全部完成');
});

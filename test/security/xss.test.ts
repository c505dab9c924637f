import { sample } from '../helpers/sections.js';
import t, { type Test } from 'tap';
import { makeApp, Agent, login, type TestApp } from '../helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi } from '../helpers/world.js';
import { SECTIONS, type FieldDef } from '../../src/domain/sections.js';
import { PROFILE_FIELDS } from '../../src/domain/profile.js';

type Form = Record<string, string | string[]>;

/** What a person could type, and the marker of its escaped form that must show up instead. */
const PAYLOADS = [
  { raw: '{{7*7}}', escaped: '{{7*7}}' },
  { raw: '<div hx-get="/logout" hx-trigger="load">x</div>', escaped: '&lt;div hx-get=&quot;/logout&quot;' },
  { raw: '"><img src=x onerror=alert(1)>', escaped: '&quot;&gt;&lt;img src=x onerror' },
  { raw: '<script>alert(1)</script>', escaped: '&lt;script&gt;alert(1)' },
];

/** Never in any page, whatever was typed. */
function assertClean(t: Test, body: string, where: string) {
  t.notOk(body.includes('<script>alert(1)'), `${where}: no live <script>`);
  t.notOk(body.includes('<img src=x onerror'), `${where}: no live <img onerror>`);
  t.notOk(/<div hx-get="\/logout"/.test(body), `${where}: no live hx-get element`);
  t.notOk(/hx-get="\/logout"/.test(body), `${where}: no hx-get="/logout" attribute`);
}

/** The page is clean and shows what was typed, escaped; `{{7*7}}` stays literal (never 49). */
function assertShown(t: Test, body: string, p: (typeof PAYLOADS)[number], where: string) {
  assertClean(t, body, where);
  // The printed form sets numbers in <span class="rf-num …"> (src/lib/printText.ts): read past them.
  const text = body.replace(/<span class="rf-num[^"]*">(\d[^<]*)<\/span>/g, '$1');
  t.ok(text.includes(p.escaped), `${where}: shows ${p.escaped}`);
}

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attrs = (s: string) => Object.fromEntries([...s.matchAll(/([\w-]+)(?:="([^"]*)")?/g)].map((m) => [m[1]!, m[2] === undefined ? '' : unescape(m[2])]));

/** The fields of the post form with this action: values as the browser would send them, and which are free text. */
function parseForm(html: string, action: string): { values: Form; text: Map<string, number> } {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].filter((m) => attrs(m[1]!).action === action && /post/i.test(attrs(m[1]!).method ?? ''));
  if (!forms.length) throw new Error(`no form for ${action}`);
  const inner = forms[0]![2]!;
  const values: Form = {};
  const text = new Map<string, number>();
  const add = (k: string, v: string) => {
    const cur = values[k];
    values[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  };
  for (const m of inner.matchAll(/<input\b([^>]*)>/g)) {
    const a = attrs(m[1]!);
    const type = (a.type ?? 'text').toLowerCase();
    if (!a.name || a.name === '_csrf' || ['file', 'submit', 'button'].includes(type)) continue;
    if ((type === 'checkbox' || type === 'radio') && !('checked' in a)) continue;
    add(a.name, a.value ?? (type === 'checkbox' ? 'on' : ''));
    if (type === 'text') text.set(a.name, Number(a.maxlength ?? 10_000));
  }
  for (const m of inner.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/g)) {
    const a = attrs(m[1]!);
    if (!a.name) continue;
    add(a.name, unescape(m[2]!.replace(/^\n/, '')));
    text.set(a.name, Number(a.maxlength ?? 10_000));
  }
  for (const m of inner.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
    const a = attrs(m[1]!);
    if (!a.name) continue;
    const sel = [...m[2]!.matchAll(/<option\b([^>]*)>/g)].map((o) => attrs(o[1]!)).find((o) => 'selected' in o);
    add(a.name, sel?.value ?? '');
  }
  return { values, text };
}

/**
 * Types the payload into every free-text field of the form (cut to its maxlength), posts it,
 * and puts back the base value of any field the server refuses, until it saves. Each refused
 * attempt re-renders the form with what was typed: that echo is checked too.
 */
async function typeInto(t: Test, agent: Agent, page: string, action: string, p: (typeof PAYLOADS)[number], base: Form = {}, only?: Set<string>) {
  const got = await agent.get(page);
  t.equal(got.statusCode, 200, `GET ${page}`);
  const { values, text } = parseForm(got.body, action);
  const start: Form = { ...values, ...base };
  const form: Form = { ...start };
  const typed: string[] = [];
  for (const [k, max] of text) {
    if (only && !only.has(k)) continue;
    form[k] = p.raw.slice(0, max);
    typed.push(k);
  }
  t.ok(typed.length > 0, `${action}: text fields ${typed.join(',')}`);
  let lastErrs = '';
  for (let i = 0; i < 5; i++) {
    const res = await agent.post(action, form);
    if (res.statusCode === 303) return { res, typed: typed.filter((k) => form[k] !== start[k]) };
    assertClean(t, res.body, `${action} (refused echo)`);
    const errs = [...res.body.matchAll(/href="#f-([\w-]+)"/g)].map((m) => m[1]!);
    if (!errs.length) throw new Error(`${action}: ${res.statusCode} without field errors`);
    lastErrs = [...res.body.matchAll(/href="#f-[\w-]+">([^<]*)</g)].map((m) => m[1]!).join('; ');
    for (const k of errs) form[k] = start[k] ?? '';
  }
  throw new Error(`${action}: never saved (${lastErrs})`);
}


async function staffAgent(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username} failed`);
  return a;
}

t.test('typed markup is stored as text and shown escaped everywhere', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const zhang = await readyApplicant(app, w.unit);
  const me = new Agent(app);
  await login(me, 'applicant', zhang.phone);
  const unit = await staffAgent(app, w.staff.unit);
  const sup = await staffAgent(app, w.staff.supervisor);
  const com = await staffAgent(app, w.staff.committee);
  const declId = await declareThroughUi(app, me, w, zhang.userId);

  // Sections with a year allow one row a year: make room for one row per payload.
  const yearly = SECTIONS.filter((d) => d.fields.some((f) => f.type === 'year')).map((d) => d.key);
  await app.ctx.db.deleteFrom('section_rows').where('user_id', '=', zhang.userId).where('section', 'in', yearly).execute();

  const profileText = new Set(PROFILE_FIELDS.filter((f) => f.type === 'text' || f.type === 'textarea').map((f) => f.key));
  profileText.add('name');

  for (const [pi, p] of PAYLOADS.entries()) {
    t.comment(`payload ${p.raw}`);
    // 基本信息
    const prof = await typeInto(t, me, '/me/profile', '/me/profile', p, {}, profileText);
    t.ok(prof.typed.length >= 5, `profile: saved in ${prof.typed.join(',')}`);
    assertShown(t, (await me.get('/me/profile')).body, p, '/me/profile');

    // A row of every section.
    for (const def of SECTIONS) {
      const base: Form = {};
      for (const f of def.fields) base[f.key] = await sample(app, f, pi);
      const textKeys = new Set(def.fields.filter((f) => f.type === 'text' || f.type === 'textarea').map((f) => f.key));
      if (!textKeys.size) continue;
      const r = await typeInto(t, me, `/me/sections/${def.key}/new`, `/me/sections/${def.key}`, p, base, textKeys);
      t.ok(r.typed.length > 0, `${def.key}: saved with ${r.typed.join(',')}`);
      const row = await app.ctx.db.selectFrom('section_rows').select(['id', 'data']).where('user_id', '=', zhang.userId).where('section', '=', def.key).orderBy('id', 'desc').executeTakeFirstOrThrow();
      t.ok(row.data.includes(JSON.stringify(p.raw.slice(0, 10)).slice(1, -1)), `${def.key}: stored as typed`);
      assertShown(t, (await me.get(`/me/sections/${def.key}`)).body, p, `/me/sections/${def.key}`);
      assertShown(t, (await me.get(`/me/sections/${def.key}/${row.id}/edit`)).body, p, `/me/sections/${def.key}/${row.id}/edit`);
      assertClean(t, (await me.get(`/me/sections/${def.key}/${row.id}/delete`)).body, `${def.key} delete confirmation`);
    }
    assertShown(t, (await me.get('/me/declaration?step=3')).body, p, '/me/declaration?step=3');
    assertClean(t, (await me.get('/me')).body, '/me');

    // 单位信息
    const u = await typeInto(t, unit, '/org/unit', '/org/unit', p, { region_code: '530102', phone: '13912345678' });
    t.ok(u.typed.includes('name'), `unit: saved with ${u.typed.join(',')}`);
    assertShown(t, (await unit.get('/org/unit')).body, p, '/org/unit');
    for (const page of ['/org', '/org/people', '/org/unit-stage', '/org/reviews']) assertClean(t, (await unit.get(page)).body, `unit ${page}`);
    assertClean(t, (await me.get('/me/profile')).body, '/me/profile (unit name)');
    assertClean(t, (await sup.get('/org/unit-reviews')).body, 'supervisor /org/unit-reviews');

    // A message from the unit to the person.
    const msg = await typeInto(t, unit, `/org/people/${zhang.userId}/message`, `/org/people/${zhang.userId}/message`, p);
    t.same(msg.typed, ['content']);
    const m = await app.ctx.db.selectFrom('messages').select('id').where('user_id', '=', zhang.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    assertShown(t, (await me.get('/me/messages')).body, p, '/me/messages');
    assertShown(t, (await me.get(`/me/messages/${m.id}`)).body, p, `/me/messages/${m.id}`);

    // 通知公告 by the committee.
    const n = await typeInto(t, com, '/org/notices/new', '/org/notices/new', p);
    t.same(n.typed.sort(), ['body', 'title']);
    const notice = await app.ctx.db.selectFrom('notices').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow();
    for (const page of ['/notices', `/notices/${notice.id}`]) assertShown(t, (await me.get(page)).body, p, `applicant ${page}`);
    for (const page of ['/org/notices', `/org/notices/${notice.id}`]) assertShown(t, (await com.get(page)).body, p, `committee ${page}`);
    assertClean(t, (await me.get('/me')).body, '/me (notices)');

    // 评审计划 name (and its other text).
    const pl = await typeInto(t, com, '/org/plans/new', '/org/plans/new', p, { levels: ['senior_vice'], opens_at: '2026-06-01', closes_at: '2026-06-30', pass_ratio: '2/3' });
    t.ok(pl.typed.includes('name'), `plan: saved with ${pl.typed.join(',')}`);
    const plan = await app.ctx.db.selectFrom('plans').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assertShown(t, (await com.get('/org/plans')).body, p, '/org/plans');
    assertShown(t, (await com.get(`/org/plans/${plan.id}`)).body, p, `/org/plans/${plan.id}`);
    assertClean(t, (await me.get('/me/declaration')).body, '/me/declaration (plan names)');
    assertClean(t, (await me.get(`/notices/plan/${plan.id}`)).body, `/notices/plan/${plan.id}`);
  }

  // Submit: the snapshot carries rows with every payload to the reviewers.
  await submitThroughUi(me, declId);
  assertClean(t, (await me.get(`/me/declaration/done?id=${declId}`)).body, 'declaration done');
  await app.ctx.db.updateTable('declarations').set({ stage: 1 }).where('id', '=', declId).execute();
  const detail = await sup.get(`/org/reviews/${declId}`);
  t.equal(detail.statusCode, 200);
  for (const p of PAYLOADS) assertShown(t, detail.body, p, `/org/reviews/${declId}`);
  assertClean(t, (await sup.get('/org/reviews?status=todo')).body, '/org/reviews');

  // A return with every payload in the opinion: timeline, track, records, the message.
  const opinion = PAYLOADS.map((p) => p.raw).join(' ');
  await sup.get(`/org/reviews/${declId}`);
  const r = await sup.post(`/org/reviews/${declId}/act`, { action: 'return', opinion, sections: ['papers'] });
  t.equal(r.statusCode, 303, 'returned');
  const dec = await app.ctx.db.selectFrom('declarations').select('status').where('id', '=', declId).executeTakeFirstOrThrow();
  t.equal(dec.status, 'returned');
  const pages: [Agent, string][] = [
    [sup, `/org/reviews/${declId}`], [sup, `/org/reviews/${declId}/track`], [unit, `/org/reviews/${declId}`],
    [me, '/me/records'], [me, `/me/records/${declId}/form`], [me, '/me/messages'], [me, '/me/declaration?step=4'],
  ];
  const last = await app.ctx.db.selectFrom('messages').select('id').where('user_id', '=', zhang.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  pages.push([me, `/me/messages/${last.id}`]);
  for (const [agent, page] of pages) {
    const res = await agent.get(page);
    t.equal(res.statusCode, 200, `GET ${page}`);
    assertClean(t, res.body, page);
  }
  for (const [agent, page] of [[sup, `/org/reviews/${declId}/track`], [me, '/me/records'], [me, `/me/messages/${last.id}`]] as const) {
    const body = (await agent.get(page)).body;
    for (const p of PAYLOADS) assertShown(t, body, p, `${page} (opinion)`);
  }
});

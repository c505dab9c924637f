import t from 'tap';
import readXlsxFile from 'read-excel-file/node';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { kunming, org, submittedDeclaration, approveByCommittee, likeDeclaration } from '../helpers/world.js';
import { EXPORT_COLUMNS, exportPage } from '../../src/features/exchange/export.js';
import { idColumns } from '../../src/lib/pii.js';
import { maskIdNumber } from '../../src/domain/mask.js';

/**
 * Issue #17: 导出申报与评审结果 (scope, JSON schema, xlsx) and the read-only API /api/v1
 * (tokens shown once and stored hashed, revocation, scope, pagination, audit, rate limit).
 * One app for the whole file.
 */

const cookie = (a: Agent) => [...a.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
async function staff(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username}: ${r.statusCode}`);
  return a;
}
const raw = (app: TestApp, a: Agent | null, url: string, headers: Record<string, string> = {}) =>
  app.app.inject({ method: 'GET', url, headers: { ...(a ? { cookie: cookie(a) } : {}), ...headers } });

t.test('exports and API', async (t) => {
  const app = await makeApp();
  t.teardown(() => app.close());
  const w = await kunming(app);
  const stamp = app.clock.now().toISOString();

  // 张伟 passed with a certificate, 王芳 failed, 刘强 passed (no certificate yet), 陈静 still under review.
  const zhang = await submittedDeclaration(app, w, { name: '张伟', seq: '231', phone: '13800138000' });
  await approveByCommittee(app, zhang.id);
  const wang = await likeDeclaration(app, zhang.id, '王芳', '142');
  const liu = await likeDeclaration(app, zhang.id, '刘强', '155');
  const chen = await likeDeclaration(app, zhang.id, '陈静', '166');
  // …waiting at the supervisor's stage (the committee does not see it yet).
  const supStage = (await app.ctx.db.selectFrom('declaration_stages').select('idx').where('declaration_id', '=', chen.id).where('org_id', '=', w.supervisor).executeTakeFirstOrThrow()).idx;
  await app.ctx.db.updateTable('declarations').set({ status: 'reviewing', stage: supStage }).where('id', '=', chen.id).execute();
  const ev = await app.ctx.db.insertInto('evaluations').values({ plan_id: w.plan, meeting_date: '2026-06-10', members_expected: 9, members_present: 8, confirmed_at: stamp, created_by: null, created_at: stamp }).returning('id').executeTakeFirstOrThrow();
  for (const [d, result, agree] of [[zhang.id, 'passed', 7], [wang.id, 'failed', 3], [liu.id, 'passed', 6]] as const) {
    await app.ctx.db.insertInto('evaluation_votes').values({ evaluation_id: ev.id, declaration_id: d, agree, disagree: 8 - agree, abstain: 0, result }).execute();
    await app.ctx.db.updateTable('declarations').set({ status: result }).where('id', '=', d).execute();
  }
  await app.ctx.db.insertInto('certificates').values({ declaration_id: zhang.id, committee_org_id: w.committee, year: 2026, seq: 1, number: 'WJ2026-0001', doc_no: '云职改〔2026〕1号', verify_code: 'ABCDEFGHJKLM', issued_by: null, issued_at: stamp }).execute();
  // A certificate of the old system for 张伟's ID (导入历史证书).
  const batch = await app.ctx.db.insertInto('import_batches').values({ kind: 'certificates', sha256: 'x', size: 1, filename: 'a.csv', status: 'imported', summary: '{}', report: '[]', created_by: null, created_at: stamp }).returning('id').executeTakeFirstOrThrow();
  await app.ctx.db.insertInto('legacy_certificates').values({
    batch_id: batch.id, ...idColumns(app.ctx.secrets, zhang.user.id), name: '张伟', title_name: '主治医师', level: 'intermediate', specialty: '心血管内科', obtained_on: '2015-06-30',
    number: 'YN2015-0009', issuer: '云南省卫生系列中级评委会', method: '申报评审', verify_code: 'LEGACY000001', user_id: zhang.user.userId, created_at: stamp,
  }).execute();

  // Another supervisor's clerk: none of these declarations passes through it.
  const otherSup = await org(app, { kind: 'supervisor', name: '昆明市教育体育局', region_code: '530100' });
  await createStaff(app, { username: 'sup_other', name: '周敏', orgId: otherSup, roles: '' });
  await createStaff(app, { username: 'sup_nostats', name: '吴磊', orgId: w.supervisor, roles: '' });
  await app.ctx.db.updateTable('users').set({ duties: 'review' }).where('username', '=', 'sup_nostats').execute();
  await createStaff(app, { username: 'sys_li', name: '李娜', roles: 'admin' });

  await t.test('export: scope, JSON schema, xlsx, audit', async (t) => {
    const sup = await staff(app, w.staff.supervisor);
    t.equal((await sup.get('/org/exports')).statusCode, 200);
    const json = await raw(app, sup, '/org/exports/declarations.json');
    t.equal(json.statusCode, 200);
    t.match(json.headers['content-type'], /application\/json/);
    t.match(String(json.headers['content-disposition']), /^attachment; filename="declarations-20260615\.json"/);
    const doc = JSON.parse(json.body);
    t.match(doc, { format: 'zhicheng-declarations', version: 1, office: { id: w.supervisor, name: '昆明市卫生健康委员会' }, filters: { plan: null, unit: null, from: null, to: null }, id_number_full: false, total: 4 });
    t.same(doc.rows.map((r: { name: string }) => r.name).sort(), ['刘强', '张伟', '王芳', '陈静'].sort());
    const z = doc.rows.find((r: { name: string }) => r.name === '张伟');
    t.same(Object.keys(z).sort(), ['declaration_id', 'plan_id', 'plan_name', 'year', 'committee', 'name', 'id_number', 'unit', 'title', 'level', 'level_name', 'specialty', 'category', 'status', 'status_text', 'submitted_at', 'result', 'meeting_date', 'votes', 'certificate_number', 'certificate_issued_at'].sort(), 'the documented fields');
    t.match(z, { declaration_id: zhang.id, plan_id: w.plan, unit: '昆明市第一人民医院', level: 'senior_vice', level_name: '副高级', specialty: '心血管内科', status: 'passed', result: 'passed', meeting_date: '2026-06-10', votes: { agree: 7, disagree: 1, abstain: 0 }, certificate_number: 'WJ2026-0001' });
    t.equal(z.id_number, maskIdNumber(zhang.user.id), 'masked without the reveal permission');
    t.notMatch(json.body, zhang.user.id, 'no full ID number anywhere');
    t.match(doc.rows.find((r: { name: string }) => r.name === '陈静'), { result: null, votes: null, certificate_number: null, status: 'reviewing' });

    // Filters: plan, unit, date range (China dates, both ends included).
    const f = async (qs: string) => JSON.parse((await raw(app, sup, `/org/exports/declarations.json?${qs}`)).body).total;
    t.equal(await f(`plan=${w.plan}`), 4);
    t.equal(await f('plan=999999'), 0);
    t.equal(await f(`unit=${w.unit}&from=2026-06-15&to=2026-06-15`), 4);
    t.equal(await f('from=2026-06-16'), 0);
    t.equal(await f('to=2026-06-14'), 0);
    const bad = await raw(app, sup, '/org/exports/declarations.json?from=2026-13-01&to=x');
    t.equal(bad.statusCode, 422);
    t.match(bad.body, '开始日期格式应为 YYYY-MM-DD');
    t.match(bad.body, 'value="x"', 'the typed value is kept');

    // xlsx: the same rows, readable, with the Chinese headers.
    const x = await raw(app, sup, `/org/exports/declarations.xlsx?plan=${w.plan}`);
    t.equal(x.statusCode, 200);
    t.equal(x.rawPayload.subarray(0, 2).toString('latin1'), 'PK');
    const rows = (await readXlsxFile(x.rawPayload)) as unknown[][];
    t.same(rows[0], EXPORT_COLUMNS.map((c) => c.header));
    t.equal(rows.length, 5);
    const zr = rows.find((r) => r[4] === '张伟')!;
    t.equal(zr[13], '通过');
    t.equal(zr[18], 'WJ2026-0001');

    // Another office sees nothing of them; a clerk without 统计查询 gets 403.
    const other = await staff(app, 'sup_other');
    const o = JSON.parse((await raw(app, other, '/org/exports/declarations.json')).body);
    t.equal(o.total, 0);
    t.same(o.rows, []);
    const ox = (await readXlsxFile((await raw(app, other, '/org/exports/declarations.xlsx')).rawPayload)) as unknown[][];
    t.equal(ox.length, 1, 'only the header');
    const nos = await staff(app, 'sup_nostats');
    const refused = await raw(app, nos, '/org/exports/declarations.json');
    t.equal(refused.statusCode, 403);
    t.match(refused.body, '统计查询');
    t.equal((await raw(app, null, '/org/exports/declarations.json')).statusCode, 303, 'anonymous: to the login page');

    // The platform admin exports as the office chosen, and must choose one.
    const sys = await staff(app, 'sys_li');
    const none = await raw(app, sys, '/org/exports/declarations.json');
    t.equal(none.statusCode, 422);
    t.match(none.body, '请选择导出哪个机构的数据');
    t.equal(JSON.parse((await raw(app, sys, `/org/exports/declarations.json?office=${w.committee}`)).body).total, 3, 'the committee sees what reached it');

    // Keyset pages: one row at a time gives every row once.
    const seen: number[] = [];
    for (let after = 0; ;) {
      const p = await exportPage(app.ctx, w.supervisor, {}, after, 1, false);
      if (!p.length) break;
      t.equal(p.length, 1);
      seen.push(p[0]!.declaration_id);
      after = p[0]!.declaration_id;
    }
    t.same(seen, [zhang.id, wang.id, liu.id, chen.id].sort((a, b) => a - b));

    // With 查看完整身份证号、手机号 the file carries full numbers, and its audit row says so.
    await app.ctx.db.updateTable('users').set({ permissions: 'reveal_pii' }).where('username', '=', w.staff.committee).execute();
    const com = await staff(app, w.staff.committee);
    const full = JSON.parse((await raw(app, com, '/org/exports/declarations.json')).body);
    t.equal(full.id_number_full, true);
    t.equal(full.rows.find((r: { name: string }) => r.name === '张伟').id_number, zhang.user.id);

    const audits = await app.ctx.db.selectFrom('audit_log').select(['action', 'object_type', 'detail', 'username']).where('action', '=', 'exchange_export').where('object_type', '=', 'declarations').execute();
    t.ok(audits.length >= 9, 'every download audited');
    t.ok(audits.some((a) => a.username === 'sup_zhao' && /格式XLSX，4条，计划/.test(a.detail ?? '')), 'format, count and filters in the row');
    t.ok(audits.some((a) => a.username === w.staff.committee && /含完整身份证号/.test(a.detail ?? '')));
    t.notOk(audits.some((a) => (a.detail ?? '').includes(zhang.user.id)), 'never a full number in the log');
  });

  const tokens: Record<string, string> = {};
  await t.test('tokens: created by the system admin, shown once, stored hashed', async (t) => {
    const sys = await staff(app, 'sys_li');
    t.equal((await sys.get('/admin/api-tokens')).statusCode, 200);
    const platform = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'platform').executeTakeFirstOrThrow()).id;
    const otherCommittee = (await app.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('id', '<>', w.committee).executeTakeFirstOrThrow()).id;
    const empty = await sys.post('/admin/api-tokens', { name: '', org_id: '' });
    t.equal(empty.statusCode, 422);
    t.match(empty.body, '请填写令牌名称');
    t.match(empty.body, '请选择令牌所属机构');
    for (const [key, name, orgId] of [['platform', '省人社厅政务服务平台', platform], ['committee', '卫生健康档案系统', w.committee], ['other', '教育系统', otherCommittee], ['revoked', '旧系统', platform]] as const) {
      await sys.get('/admin/api-tokens');
      const r = await sys.post('/admin/api-tokens', { name, org_id: String(orgId) });
      t.equal(r.statusCode, 200);
      const token = /id="new-token" readonly value="(zc_[A-Za-z0-9_-]{43})"/.exec(r.body)?.[1];
      t.ok(token, `${name}: the token is shown`);
      tokens[key] = token!;
    }
    const rows = await app.ctx.db.selectFrom('api_tokens').selectAll().execute();
    t.equal(rows.length, 4);
    for (const r of rows) t.notOk(Object.values(tokens).some((tok) => JSON.stringify(r).includes(tok.slice(3))), 'only a hash is stored');
    const list = await sys.get('/admin/api-tokens');
    t.notOk(Object.values(tokens).some((tok) => list.body.includes(tok)), 'never shown again');
    t.match(list.body, tokens.platform!.slice(0, 11));
    // Revoke (after a confirmation page).
    const rev = rows.find((r) => r.name === '旧系统')!;
    const confirm = await sys.get(`/admin/api-tokens/${rev.id}/revoke`);
    t.match(confirm.body, '确认吊销');
    t.equal((await sys.post(`/admin/api-tokens/${rev.id}/revoke`)).statusCode, 303);
    t.ok((await app.ctx.db.selectFrom('api_tokens').select('revoked_at').where('id', '=', rev.id).executeTakeFirstOrThrow()).revoked_at);
    const acts = await app.ctx.db.selectFrom('audit_log').select('action').where('action', 'in', ['api_token_create', 'api_token_revoke']).execute();
    t.equal(acts.filter((a) => a.action === 'api_token_create').length, 4);
    t.equal(acts.filter((a) => a.action === 'api_token_revoke').length, 1);
    // Other admins cannot reach it.
    await createStaff(app, { username: 'aud_zhao', name: '赵敏', roles: 'audit' });
    t.equal((await raw(app, await staff(app, 'aud_zhao'), '/admin/api-tokens')).statusCode, 403);
  });

  const api = (url: string, token?: string) => app.app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

  await t.test('API: auth, scope, pagination, audit', async (t) => {
    const before = Number((await app.ctx.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'api_call').executeTakeFirstOrThrow()).n);
    // 401: none, malformed, unknown, revoked. JSON with Chinese messages.
    for (const [tok, msg] of [[undefined, '缺少访问令牌'], ['abc', '访问令牌无效'], [`zc_${'A'.repeat(43)}`, '访问令牌无效'], [tokens.revoked, '访问令牌已被吊销']] as const) {
      const r = await api(`/api/v1/plans/${w.plan}/results`, tok);
      t.equal(r.statusCode, 401);
      t.match(r.headers['content-type'], /application\/json/);
      t.match(r.json(), { error: { code: 'unauthorized', message: new RegExp(msg) } });
      t.notOk(r.headers['set-cookie'], 'no session cookie');
    }
    // A session cookie is no substitute for the token.
    const sys = await staff(app, 'sys_li');
    t.equal((await raw(app, sys, `/api/v1/plans/${w.plan}/results`)).statusCode, 401);

    // Results of a plan, keyset pages.
    const p1 = await api(`/api/v1/plans/${w.plan}/results?limit=2`, tokens.committee);
    t.equal(p1.statusCode, 200);
    const b1 = p1.json();
    t.match(b1.plan, { id: w.plan, committee: '云南省卫生技术高级职称评审委员会' === b1.plan.committee ? b1.plan.committee : String });
    t.equal(b1.data.length, 2);
    t.equal(b1.next_after, b1.data[1].declaration_id);
    t.same(Object.keys(b1.data[0]).sort(), ['declaration_id', 'name', 'id_number_masked', 'unit', 'title', 'level', 'level_name', 'specialty', 'result', 'meeting_date', 'votes', 'certificate_number'].sort());
    const b2 = (await api(`/api/v1/plans/${w.plan}/results?limit=2&after=${b1.next_after}`, tokens.committee)).json();
    t.equal(b2.data.length, 1);
    t.equal(b2.next_after, null);
    t.same([...b1.data, ...b2.data].map((r: { name: string }) => r.name), ['张伟', '王芳', '刘强'], 'passed and failed, not the one under review');
    t.match(b1.data[0], { result: 'passed', votes: { agree: 7 }, certificate_number: 'WJ2026-0001' });
    t.notMatch(JSON.stringify([b1, b2]), zhang.user.id, 'never the full ID');
    t.equal((await api(`/api/v1/plans/${w.plan}/results?limit=101`, tokens.committee)).statusCode, 400, 'limit above the maximum');
    t.match((await api(`/api/v1/plans/${w.plan}/results?limit=0`, tokens.committee)).json(), { error: { code: 'bad_request', message: /limit/ } });
    // Another committee's token: 403 on this plan; an unknown plan 404.
    const forbidden = await api(`/api/v1/plans/${w.plan}/results`, tokens.other);
    t.equal(forbidden.statusCode, 403);
    t.match(forbidden.json(), { error: { code: 'forbidden', message: /无权/ } });
    t.equal((await api('/api/v1/plans/999999/results', tokens.platform)).statusCode, 404);
    t.equal((await api('/api/v1/nothing-here', tokens.platform)).statusCode, 404);
    t.match((await api('/api/v1/nothing-here', tokens.platform)).json(), { error: { code: 'not_found' } });
    t.equal((await api(`/api/v1/plans/${w.plan}/results`, tokens.platform)).json().data.length, 3, 'platform: every result');
    t.same((await api('/api/v1/plans', tokens.other)).json().data.map((p: { id: number }) => p.id).includes(w.plan), false, 'plans list: only its own');
    t.ok((await api('/api/v1/plans', tokens.committee)).json().data.some((p: { id: number }) => p.id === w.plan));

    // Certificates by 身份证号: issued and imported (platform), issued only (committee), none (other).
    const byId = (tok: string, qs = '') => api(`/api/v1/certificates?id_number=${zhang.user.id}${qs}`, tok);
    const pl = (await byId(tokens.platform!)).json();
    t.equal(pl.total, 2);
    t.same(pl.data.map((c: { number: string; source: string }) => `${c.source}:${c.number}`), ['issued:WJ2026-0001', 'legacy:YN2015-0009']);
    t.match(pl.data[0], { name: '张伟', title: String, level_name: '副高级', issuer: String, doc_no: '云职改〔2026〕1号', issued_on: '2026-06-15', plan_id: w.plan });
    t.notMatch(JSON.stringify(pl), zhang.user.id);
    const viaHeader = await app.app.inject({ method: 'GET', url: '/api/v1/certificates', headers: { authorization: `Bearer ${tokens.platform}`, 'x-id-number': zhang.user.id } });
    t.equal(viaHeader.json().total, 2, 'the number in the X-Id-Number header');
    const page2 = (await byId(tokens.platform!, '&limit=1&page=2')).json();
    t.match(page2, { page: 2, limit: 1, total: 2, has_more: false });
    t.equal(page2.data[0].number, 'YN2015-0009');
    t.equal((await byId(tokens.platform!, '&limit=1')).json().has_more, true);
    t.same((await byId(tokens.committee!)).json().data.map((c: { number: string }) => c.number), ['WJ2026-0001']);
    t.match((await byId(tokens.other!)).json(), { total: 0, data: [] });
    const wrongCheck = zhang.user.id.slice(0, 17) + (zhang.user.id[17] === '0' ? '1' : '0');
    const badId = await api(`/api/v1/certificates?id_number=${wrongCheck}`, tokens.platform);
    t.equal(badId.statusCode, 400);
    t.match(badId.json().error.message, '身份证号校验位不正确');
    // By number: out of scope reads as absent.
    t.equal((await api('/api/v1/certificates/WJ2026-0001', tokens.committee)).json().data.name, '张伟');
    t.equal((await api('/api/v1/certificates/WJ2026-0001', tokens.other)).statusCode, 404);
    t.equal((await api('/api/v1/certificates/YN2015-0009', tokens.platform)).json().data.source, 'legacy');
    t.equal((await api('/api/v1/certificates/YN2015-0009', tokens.committee)).statusCode, 404);

    // Every call audited, with the token as the actor; never the ID number asked for.
    const rows = await app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'api_call').orderBy('id').execute();
    t.equal(rows.length - before, 27, 'one api_call row per call (27 calls above), refused ones and unknown paths included');
    t.ok(rows.some((r) => r.result === 'fail' && /访问令牌已被吊销/.test(r.detail ?? '')));
    const ok = rows.find((r) => r.result === 'ok' && /按身份证号/.test(r.detail ?? ''))!;
    t.match(ok, { role: 'api', name: '接口：省人社厅政务服务平台', object_type: 'api_token' });
    t.notOk(rows.some((r) => (r.detail ?? '').includes(zhang.user.id)));
    t.ok((await app.ctx.db.selectFrom('api_tokens').select('last_used_at').where('name', '=', '卫生健康档案系统').executeTakeFirstOrThrow()).last_used_at);
  });

  await t.test('API: rate limited per token and per IP for refused tokens (counters in the database)', async (t) => {
    const cfg = app.ctx.config as { rateLimit: boolean; apiRateLimit: number };
    cfg.rateLimit = true;
    cfg.apiRateLimit = 3;
    t.teardown(() => {
      cfg.rateLimit = false;
    });
    for (let i = 0; i < 3; i++) t.equal((await api('/api/v1/plans', tokens.platform)).statusCode, 200);
    const r = await api('/api/v1/plans', tokens.platform);
    t.equal(r.statusCode, 429);
    t.ok(Number(r.headers['retry-after']) > 0);
    t.match(r.json(), { error: { code: 'rate_limited', message: /请求过于频繁/ } });
    t.equal((await api('/api/v1/plans', tokens.committee)).statusCode, 200, 'another token has its own allowance');
    t.ok(await app.ctx.db.selectFrom('rate_counters').select('key').where('key', 'like', 'rl:api:token:%').executeTakeFirst(), 'a shared counter row');
    app.clock.advance(61_000);
    t.equal((await api('/api/v1/plans', tokens.platform)).statusCode, 200, 'a new window');
    let last = 0;
    for (let i = 0; i < 31; i++) last = (await api('/api/v1/plans', 'zc_wrong')).statusCode;
    t.equal(last, 429, 'refused tokens from one IP');
  });
});

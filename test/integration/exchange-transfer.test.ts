import crypto from 'node:crypto';
import t from 'tap';
import { makeApp, Agent, login, createStaff, type TestApp } from '../helpers/app.js';
import { multipart, unzip } from '../helpers/files.js';
import { kunming, submittedDeclaration, approveByCommittee, org } from '../helpers/world.js';
import { zipBuffer } from '../../src/features/results/materials.js';
import { ED25519_SPKI } from '../../src/lib/secrets.js';

/**
 * 转评委会 / 接收评审情况 between two deployments (two apps, two master keys): A sends a batch of
 * approved declarations as a signed archive → B verifies and imports them (转入, with their files)
 * → B evaluates and exports 评审情况 → A imports them as its results. Tampered archives (a file's
 * byte, the manifest, another key) are refused with nothing imported; another committee reaches
 * nothing of A's.
 */

async function staff(app: TestApp, username: string) {
  const a = new Agent(app);
  const r = await login(a, 'staff', username);
  if (r.statusCode !== 303) throw new Error(`login ${username}`);
  return a;
}

const publicKeyOn = (html: string) => /id="pubkey"[^>]*value="([^"]+)"/.exec(html)![1]!;

async function importZip(a: Agent, zip: Buffer, planId?: number) {
  await a.get('/org/transfers');
  const m = await multipart('transfer.zip', zip, 'application/zip', 'file', { csrf: a.csrf(), fields: planId ? [['plan_id', String(planId)]] : [] });
  return a.t.app.inject({ method: 'POST', url: '/org/transfers/import', payload: m.payload, headers: { 'content-type': m.contentType, cookie: a.cookieHeader() } });
}

/** The archive's entries changed by `edit` and zipped again (the signature left as it was unless `edit` changes it). */
function rezip(zip: Buffer, edit: (entries: Map<string, Buffer>) => void): Buffer {
  const entries = new Map(unzip(zip).map((e) => [e.name, e.data]));
  edit(entries);
  return zipBuffer([...entries].map(([name, data]) => ({ name, data })));
}

async function counts(app: TestApp) {
  const n = async (table: 'declarations' | 'files' | 'transfer_batches' | 'users' | 'evaluation_votes') => Number((await app.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { declarations: await n('declarations'), files: await n('files'), batches: await n('transfer_batches'), users: await n('users'), votes: await n('evaluation_votes') };
}

t.test('转评委会 round trip between two deployments; tampered archives refused; scope', async (t) => {
  const A = await makeApp();
  t.teardown(() => A.close());
  const B = await makeApp();
  t.teardown(() => B.close());

  // ---- A: two declarations approved by its committee ----
  const wa = await kunming(A);
  const d1 = await submittedDeclaration(A, wa, { name: '张伟' });
  const d2 = await submittedDeclaration(A, wa, { name: '王芳', seq: '232', phone: '13800138001' });
  await approveByCommittee(A, d1.id);
  await approveByCommittee(A, d2.id);
  const wb = await kunming(B);

  const a = await staff(A, wa.staff.committee);
  const b = await staff(B, wb.staff.committee);
  const pageA = await a.get('/org/transfers');
  t.equal(pageA.statusCode, 200);
  t.match(pageA.body, '本系统的签名公钥');
  t.ok(pageA.body.includes(`name="ids" value="${d1.id}"`), 'an approved declaration is offered');
  const keyA = publicKeyOn(pageA.body);
  const keyB = publicKeyOn((await b.get('/org/transfers')).body);
  t.not(keyA, keyB, 'each deployment signs with its own key');
  t.equal(Buffer.from(keyA, 'base64').length, 32);

  // The trusted senders: a bad key is refused next to the field, the typed name kept.
  let r = await b.post('/org/transfers/peers', { name: '云南省卫生系列高级评委会（甲系统）', public_key: 'abc' });
  t.equal(r.statusCode, 422);
  t.match(r.body, '公钥格式不正确');
  t.match(r.body, 'value="云南省卫生系列高级评委会（甲系统）"');
  t.equal((await b.post('/org/transfers/peers', { name: '云南省卫生系列高级评委会（甲系统）', public_key: keyA })).statusCode, 303);
  t.equal((await a.post('/org/transfers/peers', { name: '省卫生技术评委会（乙系统）', public_key: keyB })).statusCode, 303);

  // ---- A sends the batch ----
  r = await a.post('/org/transfers/batches', { to: '省卫生技术评委会（乙系统）' });
  t.equal(r.statusCode, 422);
  t.match(r.body, '请勾选要转评委会的申报');
  r = await a.post('/org/transfers/batches', { to: '省卫生技术评委会（乙系统）', ids: [String(d1.id), String(d2.id)] });
  t.equal(r.statusCode, 303);
  const outUrl = r.headers.location as string;
  const outId = Number(/batches\/(\d+)$/.exec(outUrl)![1]);
  t.match((await a.get(outUrl)).body, '下载转评委会数据包');
  const dl = await a.get(`${outUrl}/archive.zip`);
  t.equal(dl.statusCode, 200);
  t.equal(dl.headers['content-type'], 'application/zip');
  const archive = dl.rawPayload;
  const names = unzip(archive).map((e) => e.name);
  t.ok(names.includes('manifest.json') && names.includes('manifest.sig'));
  t.ok(names.includes(`versions/${d1.id}.json`) && names.includes(`versions/${d2.id}.json`));
  const manifest = JSON.parse(unzip(archive).find((e) => e.name === 'manifest.json')!.data.toString());
  t.match(manifest, { format: 'zhicheng-transfer', version: 1, kind: 'declarations', sender: { public_key: keyA } });
  const fileEntry = manifest.declarations[0].files[0];
  t.ok(fileEntry, 'the files travel with the versions');
  t.notOk((await a.get('/org/transfers')).body.includes(`name="ids" value="${d1.id}"`), 'a sent declaration is not offered again');

  // ---- tampered or foreign archives: refused with a reason, nothing imported on B ----
  const before = await counts(B);
  const oneByte = rezip(archive, (e) => {
    const data = Buffer.from(e.get(fileEntry.path)!);
    data[data.length - 5] ^= 0x01;
    e.set(fileEntry.path, data);
  });
  r = await importZip(b, oneByte, wb.plan);
  t.equal(r.statusCode, 422);
  t.match(r.body, `文件“${fileEntry.path}”的校验值（SHA-256）与清单不符`);

  const edited = rezip(archive, (e) => {
    const m = JSON.parse(e.get('manifest.json')!.toString());
    m.declarations[0].name = '李娜';
    e.set('manifest.json', Buffer.from(JSON.stringify(m, null, 1)));
  });
  r = await importZip(b, edited, wb.plan);
  t.equal(r.statusCode, 422);
  t.match(r.body, '数据包签名验证失败');

  // Signed with another key: claiming A's key fails the signature; naming its own key is an unknown sender.
  const other = crypto.generateKeyPairSync('ed25519');
  const otherPub = (other.publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(ED25519_SPKI.length).toString('base64');
  const resign = (ownKey: boolean) => rezip(archive, (e) => {
    const m = JSON.parse(e.get('manifest.json')!.toString());
    if (ownKey) m.sender.public_key = otherPub;
    const json = Buffer.from(JSON.stringify(m, null, 1));
    e.set('manifest.json', json);
    e.set('manifest.sig', Buffer.from(crypto.sign(null, json, other.privateKey).toString('base64')));
  });
  r = await importZip(b, resign(false), wb.plan);
  t.equal(r.statusCode, 422);
  t.match(r.body, '数据包签名验证失败');
  r = await importZip(b, resign(true), wb.plan);
  t.equal(r.statusCode, 422);
  t.match(r.body, '不是本评委会登记的可信发送方');
  r = await importZip(b, Buffer.from('not a zip'), wb.plan);
  t.equal(r.statusCode, 422);
  t.match(r.body, '不是有效的 ZIP 文件');
  r = await importZip(b, archive);
  t.equal(r.statusCode, 422);
  t.match(r.body, '请选择接收这些申报的评审计划');
  t.same(await counts(B), before, 'nothing imported by any refused archive');
  t.equal(Number((await B.ctx.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'transfer_import').where('result', '=', 'fail').executeTakeFirstOrThrow()).n), 5, 'each refusal audited');

  // ---- B imports the genuine archive ----
  r = await importZip(b, archive, wb.plan);
  t.equal(r.statusCode, 303);
  const inUrl = r.headers.location as string;
  t.match((await b.get(inUrl)).body, '已接收 2 份申报（转入）');
  const received = await B.ctx.db.selectFrom('declarations as d').innerJoin('users as u', 'u.id', 'd.user_id').select(['d.id', 'd.status', 'd.plan_id', 'd.transfer_from', 'd.version_id', 'u.name', 'u.disabled']).where('d.transfer_from', 'is not', null).orderBy('d.id').execute();
  t.match(received, [
    { name: '张伟', status: 'approved', plan_id: wb.plan, transfer_from: '云南省卫生系列高级评委会（甲系统）', disabled: 1 },
    { name: '王芳', status: 'approved', plan_id: wb.plan, transfer_from: '云南省卫生系列高级评委会（甲系统）', disabled: 1 },
  ]);
  const queue = await b.get('/org/reviews');
  t.match(queue.body, /张伟 <span class="tag"[^>]*>转入<\/span>/);
  t.match(queue.body, '转入：云南省卫生系列高级评委会（甲系统）');
  const detail = await b.get(`/org/reviews/${received[0]!.id}`);
  t.equal(detail.statusCode, 200);
  t.match(detail.body, '张伟');
  t.match((await b.get(`/org/reviews/${received[0]!.id}/track`)).body, '转入：来自云南省卫生系列高级评委会（甲系统）', 'the timeline says where it came from');
  const materials = await b.get(`/org/reviews/${received[0]!.id}/materials.zip`);
  t.equal(materials.statusCode, 200, '一键下载材料 works on a received declaration');
  // Its files are served from B, byte for byte those A sent.
  const snap = JSON.parse((await B.ctx.db.selectFrom('declaration_versions').select('snapshot').where('id', '=', received[0]!.version_id!).executeTakeFirstOrThrow()).snapshot);
  const fid = snap.attachments.flatMap((x: any) => x.files)[0].fileId;
  const served = await b.get(`/org/reviews/${received[0]!.id}/files/${fid}`);
  t.equal(served.statusCode, 200);
  const bFile = await B.ctx.db.selectFrom('files').selectAll().where('id', '=', fid).executeTakeFirstOrThrow();
  t.equal(crypto.createHash('sha256').update(served.rawPayload).digest('hex'), bFile.sha256);
  t.ok(manifest.declarations.some((d: any) => d.files.some((f: any) => f.sha256 === bFile.sha256)));
  r = await importZip(b, archive, wb.plan);
  t.equal(r.statusCode, 422);
  t.match(r.body, '不能重复导入');
  // Nothing evaluated yet: no results to export.
  const early = await b.get(`${inUrl}/results.zip`);
  t.equal(early.statusCode, 303);
  t.match((await b.get(early.headers.location as string)).body, '本批次尚无已确认的评审结果');

  // ---- B evaluates (a paper meeting, as its office does) and exports 评审情况 ----
  r = await b.post('/org/evaluations', { plan_id: String(wb.plan), meeting_date: '2026-06-20', members_expected: '21', members_present: '15' });
  t.equal(r.statusCode, 303);
  const evalUrl = r.headers.location as string;
  await b.get(evalUrl);
  const [r1, r2] = received;
  r = await b.post(`${evalUrl}/votes`, { [`agree_${r1!.id}`]: '12', [`disagree_${r1!.id}`]: '2', [`abstain_${r1!.id}`]: '1', [`agree_${r2!.id}`]: '6', [`disagree_${r2!.id}`]: '8', [`abstain_${r2!.id}`]: '1' });
  t.equal(r.statusCode, 303);
  t.equal((await b.post(`${evalUrl}/confirm`)).statusCode, 303);
  const res = await b.get(`${inUrl}/results.zip`);
  t.equal(res.statusCode, 200);
  const resManifest = JSON.parse(unzip(res.rawPayload).find((e) => e.name === 'manifest.json')!.data.toString());
  t.match(resManifest, { kind: 'results', ref: manifest.id, sender: { public_key: keyB } });
  t.same(resManifest.results.map((x: any) => [x.id, x.result]).sort(), [[d1.id, 'passed'], [d2.id, 'failed']]);

  // ---- scope on A: another committee reaches none of it ----
  const otherCommittee = await org(A, { kind: 'committee', name: '昆明市中小学教师高级职务评审委员会', committee_level: 'senior' });
  await createStaff(A, { username: 'com_zhou', name: '周敏', orgId: otherCommittee, roles: '' });
  const stranger = await staff(A, 'com_zhou');
  t.equal((await stranger.get(outUrl)).statusCode, 404);
  t.equal((await stranger.get(`${outUrl}/archive.zip`)).statusCode, 404);
  await stranger.get('/org/transfers');
  r = await stranger.post('/org/transfers/batches', { to: '别的评委会', ids: [String(d1.id)] });
  t.equal(r.statusCode, 422, "someone else's declaration cannot be sent");
  await stranger.post('/org/transfers/peers', { name: '省卫生技术评委会（乙系统）', public_key: keyB });
  r = await importZip(stranger, res.rawPayload);
  t.equal(r.statusCode, 422);
  t.match(r.body, '不是本评委会转出申报的评审结果');
  t.equal((await staff(A, wa.staff.unit).then((u) => u.get('/org/transfers'))).statusCode, 403, 'a unit has no such page');
  t.equal(Number((await A.ctx.db.selectFrom('transfer_batches').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', otherCommittee).executeTakeFirstOrThrow()).n), 0);

  // ---- A imports 评审情况: recorded on its declarations as if typed by the office ----
  r = await importZip(a, res.rawPayload);
  t.equal(r.statusCode, 303);
  t.match((await a.get(r.headers.location as string)).body, '2 份申报的评审结果已录入');
  const mine = await A.ctx.db.selectFrom('declarations').select(['id', 'status']).where('id', 'in', [d1.id, d2.id]).orderBy('id').execute();
  t.same(mine.map((d) => d.status), ['passed', 'failed']);
  const votes = await A.ctx.db.selectFrom('evaluation_votes as v').innerJoin('evaluations as e', 'e.id', 'v.evaluation_id').select(['v.declaration_id', 'v.agree', 'v.disagree', 'v.abstain', 'e.meeting_date', 'e.members_present', 'e.confirmed_at', 'e.plan_id']).orderBy('v.declaration_id').execute();
  t.match(votes, [
    { declaration_id: d1.id, agree: 12, disagree: 2, abstain: 1, meeting_date: '2026-06-20', members_present: 15, plan_id: wa.plan },
    { declaration_id: d2.id, agree: 6, disagree: 8, abstain: 1 },
  ]);
  t.ok(votes[0]!.confirmed_at);
  const audited = await A.ctx.db.selectFrom('audit_log').select(['object_id', 'detail']).where('action', '=', 'transfer_results_import').execute();
  t.equal(audited.length, 2);
  t.match(audited[0]!.detail, '接收评审情况');
  const outPage = await a.get(outUrl);
  t.match(outPage.body, '通过（2026-06-20，同意12、不同意2、弃权1）');
  t.match(outPage.body, '未通过（2026-06-20，同意6、不同意8、弃权1）');
  r = await importZip(a, res.rawPayload);
  t.equal(r.statusCode, 422);
  t.match(r.body, '不能重复导入');
  t.match((await d1.agent.get('/me/messages')).body, '您的职称评审结果：通过');
});

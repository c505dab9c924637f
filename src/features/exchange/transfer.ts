/**
 * 高中级申报信息转评委会 / 接收高中级评审情况 (seed 004; issue #17): a committee office sends a batch
 * of its approved declarations (their frozen versions and files) to another deployment's committee
 * as a signed archive (transferArchive.ts), and records the 评审情况 that comes back. The receiving
 * committee imports the archive into one of its plans: the declarations join its queue as 转入,
 * ready for its evaluation, and it sends the results back the same way.
 */
import crypto from 'node:crypto';
import type { AppContext } from '../../context.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { writeTx } from '../../db/index.js';
import { isValidDate } from '../../domain/workdays.js';
import { writeStages } from '../review/scope.js';
import { parseCover, type Snapshot } from '../declaration/service.js';
import { audit } from '../audit/service.js';
import { latestConfirmedVotes } from '../results/votes.js';
import { ed25519Public } from '../../lib/secrets.js';
import { sha256, verifyArchive, writeArchive, type Manifest, type ManifestDeclaration, type ManifestFile, type ManifestResult } from './transferArchive.js';

export type Staff = Pick<CurrentUser, 'id' | 'orgId' | 'orgKind' | 'orgName' | 'name' | 'roles' | 'username'>;
export const isCommitteeStaff = (u: Staff | null | undefined): u is Staff & { orgId: number } => !!u && u.orgKind === 'committee' && u.orgId !== null;

// ---------------------------------------------------------------------------------------
// 可信发送方 (the other deployments' public keys)

export function peersOf(ctx: AppContext, orgId: number) {
  return ctx.db.selectFrom('transfer_peers').selectAll().where('org_id', '=', orgId).where('removed_at', 'is', null).orderBy('id').execute();
}

export async function addPeer(ctx: AppContext, u: Staff & { orgId: number }, b: { name?: string; public_key?: string }, ip?: string): Promise<{ ok: true } | { ok: false; errors: Record<string, string> }> {
  const errors: Record<string, string> = {};
  const name = (b.name ?? '').trim();
  const key = (b.public_key ?? '').replace(/\s+/g, '');
  if (!name) errors.name = '请填写发送方名称';
  else if (name.length > 100) errors.name = '发送方名称不能超过100个字';
  if (!key) errors.public_key = '请粘贴对方页面上显示的公钥';
  else if (!ed25519Public(key)) errors.public_key = '公钥格式不正确：应为对方“转评委会”页面上显示的44个字符';
  else if (key === ctx.secrets.signingPublic) errors.public_key = '这是本系统自己的公钥，请粘贴对方的公钥';
  else if ((await peersOf(ctx, u.orgId)).some((p) => p.public_key === key)) errors.public_key = '该公钥已登记';
  if (Object.keys(errors).length) return { ok: false, errors };
  await writeTx(ctx.db, async (trx) => {
    const row = await trx.insertInto('transfer_peers').values({ org_id: u.orgId, name, public_key: key, created_by: u.id, created_at: ctx.config.now().toISOString(), removed_at: null }).returning('id').executeTakeFirstOrThrow();
    await audit(ctx, null, { action: 'transfer_peer_add', objectType: 'transfer_peer', objectId: row.id, detail: `登记可信发送方：${name}`, actor: u as CurrentUser, ip }, trx);
  });
  return { ok: true };
}

export async function removePeer(ctx: AppContext, u: Staff & { orgId: number }, id: number, ip?: string): Promise<boolean> {
  return writeTx(ctx.db, async (trx) => {
    const p = await trx.selectFrom('transfer_peers').selectAll().where('id', '=', id).where('org_id', '=', u.orgId).where('removed_at', 'is', null).executeTakeFirst();
    if (!p) return false;
    await trx.updateTable('transfer_peers').set({ removed_at: ctx.config.now().toISOString() }).where('id', '=', id).execute();
    await audit(ctx, null, { action: 'transfer_peer_remove', objectType: 'transfer_peer', objectId: id, detail: `删除可信发送方：${p.name}`, actor: u as CurrentUser, ip }, trx);
    return true;
  });
}

// ---------------------------------------------------------------------------------------
// Batches

export const DIRECTION_NAMES = { out: '转出', in: '转入', results_in: '接收评审情况' } as const;

export function batchesOf(ctx: AppContext, orgId: number) {
  return ctx.db.selectFrom('transfer_batches').selectAll().where('org_id', '=', orgId).orderBy('id', 'desc').limit(50).execute();
}

/** A batch of the user's committee (undefined for anyone else's: the route answers 404). */
export async function batchOf(ctx: AppContext, u: Staff, id: number) {
  if (!isCommitteeStaff(u) || !Number.isSafeInteger(id)) return undefined;
  return ctx.db.selectFrom('transfer_batches').selectAll().where('id', '=', id).where('org_id', '=', u.orgId).executeTakeFirst();
}

/** The declarations of a batch with their current state and the latest confirmed evaluation. */
export async function batchRows(ctx: AppContext, batchId: number) {
  const rows = await ctx.db
    .selectFrom('transfer_items as i')
    .innerJoin('declarations as d', 'd.id', 'i.declaration_id')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .select(['d.id', 'd.status', 'd.cover', 'i.remote_id', 'u.name', 'u.id_masked'])
    .where('i.batch_id', '=', batchId)
    .orderBy('d.id')
    .execute();
  const results = await latestResults(ctx, rows.map((r) => r.id));
  return rows.map((r) => ({ ...r, cover: parseCover(r), result: results.get(r.id) ?? null }));
}

/** Declarations of the committee's own plans it may send: e-review approved, not sent yet, not received from elsewhere. */
export function transferable(ctx: AppContext, orgId: number) {
  return ctx.db
    .selectFrom('declarations as d')
    .innerJoin('plans as p', 'p.id', 'd.plan_id')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .select(['d.id', 'd.cover', 'u.name', 'u.id_masked', 'p.name as plan_name'])
    .where('p.committee_org_id', '=', orgId)
    .where('d.status', '=', 'approved')
    .where('d.version_id', 'is not', null)
    .where('d.transfer_from', 'is', null)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('transfer_items as i').innerJoin('transfer_batches as b', 'b.id', 'i.batch_id').select('i.batch_id').whereRef('i.declaration_id', '=', 'd.id').where('b.direction', '=', 'out'))))
    .orderBy('d.id')
    .limit(500);
}

export async function createOut(ctx: AppContext, u: Staff & { orgId: number }, b: { to?: string; ids?: string[] | string }, ip?: string): Promise<{ ok: true; id: number } | { ok: false; errors: Record<string, string> }> {
  const errors: Record<string, string> = {};
  const to = (b.to ?? '').trim();
  if (!to) errors.to = '请填写接收的评委会名称';
  else if (to.length > 100) errors.to = '评委会名称不能超过100个字';
  const ids = [...new Set((Array.isArray(b.ids) ? b.ids : b.ids ? [b.ids] : []).filter((x) => /^\d{1,12}$/.test(x)).map(Number))];
  if (!ids.length) errors.ids = '请勾选要转评委会的申报';
  if (Object.keys(errors).length) return { ok: false, errors };
  return writeTx(ctx.db, async (trx) => {
    const ok = new Set((await transferable({ ...ctx, db: trx } as AppContext, u.orgId).where('d.id', 'in', ids).execute()).map((r) => r.id));
    if (ids.some((id) => !ok.has(id))) return { ok: false as const, errors: { ids: '所选申报中有不属于本评委会、尚未通过电子材料审核或已转出的，请刷新后重新勾选' } };
    const stamp = ctx.config.now().toISOString();
    const batch = await trx.insertInto('transfer_batches').values({
      org_id: u.orgId, direction: 'out', archive_id: crypto.randomUUID(), ref_archive_id: null, peer_id: null, peer_name: to, plan_id: null, count: ids.length, sha256: null, created_by: u.id, created_at: stamp,
    }).returning('id').executeTakeFirstOrThrow();
    await trx.insertInto('transfer_items').values(ids.map((id) => ({ batch_id: batch.id, declaration_id: id, remote_id: null }))).execute();
    for (const id of ids) {
      await trx.insertInto('workflow_events').values({ declaration_id: id, actor_user_id: u.id, org_id: u.orgId, stage: null, action: 'transfer_out', opinion: `转评委会：${to}（批次 ${batch.id}）`, from_status: 'approved', to_status: 'approved', data: JSON.stringify({ batchId: batch.id }), created_at: stamp }).execute();
    }
    await audit(ctx, null, { action: 'transfer_export', objectType: 'transfer_batch', objectId: batch.id, detail: `转评委会：${ids.length}份申报转${to}`, actor: u as CurrentUser, ip }, trx);
    return { ok: true as const, id: batch.id };
  });
}

/** Every file id a version refers to. */
export function snapshotFileIds(s: Snapshot): number[] {
  const ids = new Set<number>();
  if (s.photoFileId) ids.add(s.photoFileId);
  for (const rows of Object.values(s.sections ?? {})) for (const r of rows) for (const f of r.files ?? []) ids.add(f.fileId);
  for (const a of s.attachments ?? []) for (const f of a.files) ids.add(f.fileId);
  return [...ids];
}

/** The version with its file ids replaced (the receiver's own ids). */
function remapFiles(s: Snapshot, map: Map<number, number>): Snapshot {
  const to = (id: number) => map.get(id) ?? id;
  return {
    ...s,
    photoFileId: s.photoFileId ? to(s.photoFileId) : null,
    sections: Object.fromEntries(Object.entries(s.sections ?? {}).map(([k, rows]) => [k, rows.map((r) => ({ ...r, files: (r.files ?? []).map((f) => ({ ...f, fileId: to(f.fileId) })) }))])),
    attachments: (s.attachments ?? []).map((a) => ({ ...a, files: a.files.map((f) => ({ ...f, fileId: to(f.fileId) })) })),
  };
}

/** The signed archive of an out batch: each declaration's frozen version and its files. */
export async function outArchive(ctx: AppContext, u: Staff & { orgId: number }, batch: { id: number; archive_id: string; created_at: string }, ip?: string): Promise<Buffer> {
  const rows = await ctx.db
    .selectFrom('transfer_items as i')
    .innerJoin('declarations as d', 'd.id', 'i.declaration_id')
    .innerJoin('declaration_versions as v', 'v.id', 'd.version_id')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .select(['d.id', 'd.user_id', 'd.cover', 'd.submitted_at', 'v.snapshot', 'v.sha256', 'u.name', 'u.id_masked'])
    .where('i.batch_id', '=', batch.id)
    .orderBy('d.id')
    .execute();
  const entries: { path: string; data: Buffer }[] = [];
  const declarations: ManifestDeclaration[] = [];
  const stored = new Set<string>();
  for (const r of rows) {
    const snap = JSON.parse(r.snapshot) as Snapshot;
    const cover = parseCover(r);
    const path = `versions/${r.id}.json`;
    entries.push({ path, data: Buffer.from(r.snapshot, 'utf8') });
    const fileIds = snapshotFileIds(snap);
    const files = fileIds.length ? await ctx.db.selectFrom('files').selectAll().where('id', 'in', fileIds).where('user_id', '=', r.user_id).orderBy('id').execute() : [];
    const mf: ManifestFile[] = [];
    for (const f of files) {
      const fp = `files/${f.sha256}`;
      if (!stored.has(fp)) {
        entries.push({ path: fp, data: await ctx.blobs.read(f.sha256) });
        stored.add(fp);
      }
      mf.push({ id: f.id, path: fp, sha256: f.sha256, size: f.size, mime: f.mime, name: f.original_name, width: f.width, height: f.height });
    }
    declarations.push({
      id: r.id, name: r.name, id_masked: r.id_masked, title: cover.title, level: cover.level, level_name: cover.level_name, specialty: cover.specialty,
      submitted_at: r.submitted_at, version: path, version_sha256: r.sha256, files: mf,
    });
  }
  const zip = writeArchive({ kind: 'declarations', id: batch.archive_id, created_at: batch.created_at, sender: { name: u.orgName ?? '', public_key: ctx.secrets.signingPublic }, declarations }, entries, ctx.secrets.signingKey);
  await ctx.db.updateTable('transfer_batches').set({ sha256: sha256(zip) }).where('id', '=', batch.id).execute();
  await audit(ctx, null, { action: 'transfer_download', objectType: 'transfer_batch', objectId: batch.id, detail: `下载转评委会数据包（${rows.length}份申报）`, actor: u as CurrentUser, ip });
  return zip;
}

/** The latest confirmed result of each declaration now 通过/未通过 (the meeting's figures). */
async function latestResults(ctx: AppContext, ids: number[]) {
  const out = new Map<number, Omit<ManifestResult, 'id'>>();
  for (const [id, v] of await latestConfirmedVotes(ctx.db, ids, { decidedOnly: true })) {
    out.set(id, { result: v.result, agree: v.agree, disagree: v.disagree, abstain: v.abstain, members_expected: v.members_expected, members_present: v.members_present, meeting_date: v.meeting_date });
  }
  return out;
}

/** 评审情况 of a received batch, signed, for the sender: only the declarations evaluated so far. */
export async function resultsArchive(ctx: AppContext, u: Staff & { orgId: number }, batch: { id: number; archive_id: string; peer_name: string }, ip?: string): Promise<{ ok: true; zip: Buffer; count: number } | { ok: false; error: string }> {
  const items = await ctx.db.selectFrom('transfer_items').select(['declaration_id', 'remote_id']).where('batch_id', '=', batch.id).execute();
  const res = await latestResults(ctx, items.map((i) => i.declaration_id));
  const results: ManifestResult[] = items.filter((i) => res.has(i.declaration_id) && i.remote_id !== null).map((i) => ({ id: i.remote_id!, ...res.get(i.declaration_id)! }));
  if (!results.length) return { ok: false, error: '本批次尚无已确认的评审结果，请先在“评审会议”中录入并确认' };
  const now = ctx.config.now().toISOString();
  const zip = writeArchive({ kind: 'results', id: crypto.randomUUID(), created_at: now, ref: batch.archive_id, sender: { name: u.orgName ?? '', public_key: ctx.secrets.signingPublic }, results }, [], ctx.secrets.signingKey);
  await audit(ctx, null, { action: 'transfer_results_export', objectType: 'transfer_batch', objectId: batch.id, detail: `导出评审情况：${results.length}份（${batch.peer_name}）`, actor: u as CurrentUser, ip });
  return { ok: true, zip, count: results.length };
}

// ---------------------------------------------------------------------------------------
// Import (either kind): verify everything first, then one transaction

export type ImportResult = { ok: true; batchId: number; kind: Manifest['kind']; count: number; skipped?: number } | { ok: false; error: string; field?: 'file' | 'plan_id' };

export async function importArchive(ctx: AppContext, u: Staff & { orgId: number }, buf: Buffer, planIdRaw: string | undefined, ip?: string): Promise<ImportResult> {
  const v = verifyArchive(buf, await peersOf(ctx, u.orgId));
  const refuse = async (error: string, field: 'file' | 'plan_id' = 'file'): Promise<ImportResult> => {
    await audit(ctx, null, { action: 'transfer_import', objectType: 'transfer_batch', result: 'fail', detail: `导入数据包被拒绝：${error}`, actor: u as CurrentUser, ip });
    return { ok: false, error, field };
  };
  if (!v.ok) return refuse(v.error);
  const m = v.manifest;
  const dup = await ctx.db.selectFrom('transfer_batches').select('id').where('org_id', '=', u.orgId).where('archive_id', '=', m.id).where('direction', '!=', 'out').executeTakeFirst();
  if (dup) return refuse(`该数据包已于批次 ${dup.id} 导入，不能重复导入`);
  if (m.kind === 'declarations') return importDeclarations(ctx, u, v, planIdRaw, ip, refuse);
  if (m.kind === 'results') return importResults(ctx, u, v, ip, refuse);
  return refuse('数据包格式不正确：未知的数据包类型');
}

type Ok = Extract<ReturnType<typeof verifyArchive>, { ok: true }>;

async function importDeclarations(ctx: AppContext, u: Staff & { orgId: number }, v: Ok, planIdRaw: string | undefined, ip: string | undefined, refuse: (e: string, f?: 'file' | 'plan_id') => Promise<ImportResult>): Promise<ImportResult> {
  const m = v.manifest;
  const planId = planIdRaw && /^\d{1,12}$/.test(planIdRaw) ? Number(planIdRaw) : NaN;
  const plan = Number.isSafeInteger(planId)
    ? await ctx.db.selectFrom('plans as p').innerJoin('orgs as c', 'c.id', 'p.committee_org_id').select(['p.id', 'p.name', 'p.year', 'c.name as committee']).where('p.id', '=', planId).where('p.committee_org_id', '=', u.orgId).executeTakeFirst()
    : undefined;
  if (!plan) return { ok: false, error: '请选择接收这些申报的评审计划', field: 'plan_id' };
  const decls = m.declarations ?? [];
  if (!decls.length) return refuse('数据包中没有申报');
  // Every version and file named must be an entry the signature covers (verifyArchive checked their hashes).
  const listed = new Set(m.entries.map((e) => e.path));
  for (const d of decls) {
    if (!listed.has(d.version) || sha256(v.entries.get(d.version)!) !== d.version_sha256) return refuse(`申报“${d.name}”的版本文件与清单不符，已拒绝导入`);
    for (const f of d.files) if (!listed.has(f.path) || f.path !== `files/${f.sha256}`) return refuse(`申报“${d.name}”的附件“${f.name}”与清单不符，已拒绝导入`);
  }
  const stamp = ctx.config.now().toISOString();
  const route = [{ kind: 'committee', orgId: u.orgId, name: u.orgName ?? plan.committee, label: '评委会' }];
  const batchId = await writeTx(ctx.db, async (trx) => {
    const blobs = ctx.blobs.in(trx);
    const batch = await trx.insertInto('transfer_batches').values({
      org_id: u.orgId, direction: 'in', archive_id: m.id, ref_archive_id: null, peer_id: v.signer.id, peer_name: v.signer.name, plan_id: plan.id, count: decls.length, sha256: null, created_by: u.id, created_at: stamp,
    }).returning('id').executeTakeFirstOrThrow();
    for (const d of decls) {
      const snap = JSON.parse(v.entries.get(d.version)!.toString('utf8')) as Snapshot;
      // The applicant is a record without an account here: no ID hash, no phone, cannot sign in.
      const person = await trx.insertInto('users').values({
        kind: 'applicant', username: null, name: d.name, id_enc: null, id_hmac: null, id_masked: d.id_masked, phone_enc: null, phone_hmac: null, phone_masked: null,
        password_hash: '!transfer', org_id: null, unit_org_id: null, locked_at: null, password_changed_at: null, last_login_at: null, person_user_id: null, disabled: 1, created_at: stamp, updated_at: stamp,
      } as any).returning('id').executeTakeFirstOrThrow();
      const map = new Map<number, number>();
      for (const f of d.files) {
        await blobs.put(f.sha256, { buffer: v.entries.get(f.path)! });
        const row = await trx.insertInto('files').values({ user_id: person.id, sha256: f.sha256, size: f.size, mime: f.mime, original_name: f.name, width: f.width, height: f.height, created_at: stamp }).returning('id').executeTakeFirstOrThrow();
        map.set(f.id, row.id);
      }
      const cover = { ...snap.cover, plan_id: plan.id, plan_name: plan.name, committee: plan.committee, year: plan.year };
      const local: Snapshot = { ...remapFiles(snap, map), cover, plan: { id: plan.id, name: plan.name, year: plan.year, committee: plan.committee }, route: route as Snapshot['route'] };
      const json = JSON.stringify(local);
      const decl = await trx.insertInto('declarations').values({
        user_id: person.id, plan_id: plan.id, year: plan.year, status: 'approved', cover: JSON.stringify(cover), route: JSON.stringify(route), stage: 0, returns_count: 0, version_id: null,
        submit_token: null, submitted_at: d.submitted_at ?? stamp, unit_opinion: null, unit_verified_at: null, publicity_state: null, recommendation_id: null, paper_received_at: null,
        created_at: stamp, updated_at: stamp, cover_level: cover.level ?? null, cover_level_name: cover.level_name ?? null, transfer_from: v.signer.name,
      }).returning('id').executeTakeFirstOrThrow();
      const ver = await trx.insertInto('declaration_versions').values({ declaration_id: decl.id, no: 1, snapshot: json, sha256: sha256(json), created_at: stamp }).returning('id').executeTakeFirstOrThrow();
      await trx.updateTable('declarations').set({ version_id: ver.id }).where('id', '=', decl.id).execute();
      await writeStages(trx, decl.id, [{ orgId: u.orgId, kind: 'committee' }]);
      await trx.insertInto('transfer_items').values({ batch_id: batch.id, declaration_id: decl.id, remote_id: d.id }).execute();
      await trx.insertInto('workflow_events').values({
        declaration_id: decl.id, actor_user_id: u.id, org_id: u.orgId, stage: 0, action: 'transfer_in', opinion: `转入：来自${v.signer.name}（对方申报号 ${d.id}，批次 ${batch.id}）`,
        from_status: null, to_status: 'approved', data: JSON.stringify({ batchId: batch.id, remoteId: d.id, versionSha256: d.version_sha256 }), created_at: stamp,
      }).execute();
    }
    await audit(ctx, null, { action: 'transfer_import', objectType: 'transfer_batch', objectId: batch.id, detail: `接收转评委会申报：${decls.length}份，来自${v.signer.name}，计划 ${plan.name}`, actor: u as CurrentUser, ip }, trx);
    return batch.id;
  });
  return { ok: true, batchId, kind: 'declarations', count: decls.length };
}

const nat = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n < 100_000;

async function importResults(ctx: AppContext, u: Staff & { orgId: number }, v: Ok, ip: string | undefined, refuse: (e: string) => Promise<ImportResult>): Promise<ImportResult> {
  const m = v.manifest;
  const out = m.ref ? await ctx.db.selectFrom('transfer_batches').selectAll().where('org_id', '=', u.orgId).where('direction', '=', 'out').where('archive_id', '=', m.ref).executeTakeFirst() : undefined;
  if (!out) return refuse('找不到这份评审情况对应的转出批次：它不是本评委会转出申报的评审结果');
  const results = m.results ?? [];
  if (!results.length) return refuse('数据包中没有评审结果');
  const items = new Set((await ctx.db.selectFrom('transfer_items').select('declaration_id').where('batch_id', '=', out.id).execute()).map((i) => i.declaration_id));
  for (const r of results) {
    if (!items.has(r.id)) return refuse(`评审结果中的申报（编号 ${r.id}）不在转出批次 ${out.id} 中，已拒绝导入`);
    const okNums = [r.agree, r.disagree, r.abstain, r.members_expected, r.members_present].every(nat) && r.agree + r.disagree + r.abstain <= r.members_present && r.members_present <= r.members_expected;
    if (!okNums || (r.result !== 'passed' && r.result !== 'failed') || !isValidDate(r.meeting_date)) return refuse(`申报（编号 ${r.id}）的评审结果不完整或票数不正确，已拒绝导入`);
  }
  const stamp = ctx.config.now().toISOString();
  return writeTx(ctx.db, async (trx) => {
    const decls = await trx.selectFrom('declarations').select(['id', 'user_id', 'plan_id', 'status', 'stage', 'cover']).where('id', 'in', results.map((r) => r.id)).execute();
    const byId = new Map(decls.map((d) => [d.id, d]));
    const todo = results.filter((r) => byId.get(r.id)?.status === 'approved');
    const batch = await trx.insertInto('transfer_batches').values({
      org_id: u.orgId, direction: 'results_in', archive_id: m.id, ref_archive_id: out.archive_id, peer_id: v.signer.id, peer_name: v.signer.name, plan_id: null, count: todo.length, sha256: null, created_by: u.id, created_at: stamp,
    }).returning('id').executeTakeFirstOrThrow();
    // One 评审会议 (paper, confirmed) per plan and meeting: the results as if the office had typed them.
    const meetings = new Map<string, number>();
    for (const r of todo) {
      const d = byId.get(r.id)!;
      const key = `${d.plan_id}|${r.meeting_date}|${r.members_expected}|${r.members_present}`;
      let evaluationId = meetings.get(key);
      if (!evaluationId) {
        evaluationId = (await trx.insertInto('evaluations').values({ plan_id: d.plan_id, meeting_date: r.meeting_date, members_expected: r.members_expected, members_present: r.members_present, confirmed_at: stamp, created_by: u.id, created_at: stamp, mode: 'paper' }).returning('id').executeTakeFirstOrThrow()).id;
        meetings.set(key, evaluationId);
      }
      await trx.insertInto('evaluation_votes').values({ evaluation_id: evaluationId, declaration_id: d.id, agree: r.agree, disagree: r.disagree, abstain: r.abstain, result: r.result }).execute();
      await trx.updateTable('declarations').set({ status: r.result, updated_at: stamp }).where('id', '=', d.id).execute();
      const text = r.result === 'passed' ? '通过' : '未通过';
      await trx.insertInto('workflow_events').values({
        declaration_id: d.id, actor_user_id: u.id, org_id: u.orgId, stage: d.stage, action: 'evaluate',
        opinion: `评审结果：${text}（${v.signer.name}评审，评审时间${r.meeting_date}，应到${r.members_expected}人，实到${r.members_present}人；同意${r.agree}票，不同意${r.disagree}票，弃权${r.abstain}票）`,
        from_status: d.status, to_status: r.result, data: JSON.stringify({ evaluationId, transferBatchId: batch.id }), created_at: stamp,
      }).execute();
      await audit(ctx, null, {
        action: 'transfer_results_import', objectType: 'declaration', objectId: d.id,
        detail: `接收评审情况（${v.signer.name}）：${d.status}→${r.result}（同意${r.agree}、不同意${r.disagree}、弃权${r.abstain}）`, actor: u as CurrentUser, ip,
      }, trx);
      await trx.insertInto('messages').values({ user_id: d.user_id, type: '评审结果', content: `您的职称评审结果：${text}（${parseCover(d).title}）。`, created_at: stamp }).execute();
    }
    return { ok: true as const, batchId: batch.id, kind: 'results' as const, count: todo.length, skipped: results.length - todo.length };
  });
}

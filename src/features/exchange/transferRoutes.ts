import fs from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireDuty } from '../../plugins/auth.js';
import { registerUploads, requestBudget, UPLOAD_ROUTE, type FormLimits } from '../../lib/multipart.js';
import { uploadRefused, uploadTmpDir } from '../files/routes.js';
import { attachmentHeader } from '../../lib/xlsx.js';
import { parseCover } from '../declaration/service.js';
import { statusText, type Status } from '../../domain/declaration.js';
import * as tr from './transfer.js';

/** The largest archive accepted (versions and every file of the batch). */
export const TRANSFER_MAX_BYTES = 200 * 1024 * 1024;
const TOO_LARGE = `数据包不能超过${TRANSFER_MAX_BYTES / 1024 / 1024}MB，请分批转出`;

/**
 * 转评委会 / 接收评审情况 (committee offices, duty 评审结果录入): the public key to copy, the trusted
 * senders, sending a batch, importing an archive (declarations or 评审情况), a batch's page.
 */
export default async function transferRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const readForm = await registerUploads(app, { tmpDir: uploadTmpDir(ctx) });
  const files = { file: TRANSFER_MAX_BYTES };
  const LIMITS: FormLimits = { files, fields: 2, fieldBytes: 200, totalBytes: requestBudget(files, 2, 200) };
  const guard = { preHandler: requireDuty('evaluation') };
  const HOME = '/org/transfers';
  const crumbs = (...more: { label: string; href?: string }[]) => [{ label: '转评委会', href: HOME }, ...more];
  const idOf = (req: FastifyRequest) => Number((req.params as { id: string }).id);
  const body = (req: FastifyRequest) => (req.body ?? {}) as Record<string, string | string[] | undefined>;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

  const home = async (req: FastifyRequest, reply: FastifyReply, data: Record<string, unknown> = {}, status = 200) => {
    const u = req.user!;
    const orgId = u.orgId!;
    const [peers, batches, candidates, plans] = await Promise.all([
      tr.peersOf(ctx, orgId),
      tr.batchesOf(ctx, orgId),
      tr.transferable(ctx, orgId).execute(),
      ctx.db.selectFrom('plans').select(['id', 'name', 'year']).where('committee_org_id', '=', orgId).orderBy('year', 'desc').orderBy('id', 'desc').limit(50).execute(),
    ]);
    return reply.page('exchange/transfers.njk', {
      title: '转评委会', publicKey: ctx.secrets.signingPublic, peers, batches, directions: tr.DIRECTION_NAMES, plans, maxMb: TRANSFER_MAX_BYTES / 1024 / 1024,
      candidates: candidates.map((c) => ({ ...c, cover: parseCover(c) })), values: {}, errors: {}, breadcrumbs: crumbs(), ...data,
    }, status);
  };
  /** Committee offices only: anyone else gets 404 (the page does not exist for them). */
  const committee = (req: FastifyRequest) => (tr.isCommitteeStaff(req.user) ? req.user : null);

  app.get(HOME, guard, async (req, reply) => {
    if (!committee(req)) return reply.callNotFound();
    return home(req, reply);
  });

  app.post(`${HOME}/peers`, guard, async (req, reply) => {
    const u = committee(req);
    if (!u) return reply.callNotFound();
    const b = body(req);
    const values = { name: one(b.name), public_key: one(b.public_key) };
    const r = await tr.addPeer(ctx, u, values, req.ip);
    if (!r.ok) return home(req, reply, { peerValues: values, peerErrors: r.errors }, 422);
    return reply.flashRedirect(HOME, `已登记可信发送方：${values.name!.trim()}`);
  });

  app.post(`${HOME}/peers/:id/remove`, guard, async (req, reply) => {
    const u = committee(req);
    if (!u) return reply.callNotFound();
    if (one(body(req).confirm) !== '1') return reply.flashRedirect(HOME, '请勾选“确认删除”后再删除', 'error');
    if (!(await tr.removePeer(ctx, u, idOf(req), req.ip))) return reply.callNotFound();
    return reply.flashRedirect(HOME, '已删除可信发送方');
  });

  app.post(`${HOME}/batches`, guard, async (req, reply) => {
    const u = committee(req);
    if (!u) return reply.callNotFound();
    const b = body(req);
    const r = await tr.createOut(ctx, u, { to: one(b.to), ids: b.ids }, req.ip);
    if (!r.ok) return home(req, reply, { values: { to: one(b.to) ?? '', ids: ([] as string[]).concat(b.ids ?? []) }, errors: r.errors }, 422);
    return reply.flashRedirect(`${HOME}/batches/${r.id}`, '已生成转评委会批次，请下载数据包交给接收的评委会');
  });

  const batchFor = async (req: FastifyRequest) => {
    const u = committee(req);
    const batch = u ? await tr.batchOf(ctx, u, idOf(req)) : undefined;
    return u && batch ? { u, batch } : undefined;
  };

  app.get(`${HOME}/batches/:id`, guard, async (req, reply) => {
    const x = await batchFor(req);
    if (!x) return reply.callNotFound();
    const rows = x.batch.direction === 'results_in'
      ? []
      : (await tr.batchRows(ctx, x.batch.id)).map((r) => ({ ...r, text: statusText(r.status as Status, null) }));
    const plan = x.batch.plan_id ? await ctx.db.selectFrom('plans').select(['id', 'name']).where('id', '=', x.batch.plan_id).executeTakeFirst() : undefined;
    return reply.page('exchange/transfer-batch.njk', {
      title: `${tr.DIRECTION_NAMES[x.batch.direction]}批次 ${x.batch.id}`, batch: x.batch, rows, plan, directions: tr.DIRECTION_NAMES,
      breadcrumbs: crumbs({ label: `批次 ${x.batch.id}` }),
    });
  });

  app.get(`${HOME}/batches/:id/archive.zip`, guard, async (req, reply) => {
    const x = await batchFor(req);
    if (!x || x.batch.direction !== 'out') return reply.callNotFound();
    const zip = await tr.outArchive(ctx, x.u, x.batch, req.ip);
    return reply
      .header('Content-Type', 'application/zip')
      .header('Content-Disposition', attachmentHeader(`转评委会-批次${x.batch.id}.zip`, `transfer-${x.batch.id}.zip`))
      .send(zip);
  });

  app.get(`${HOME}/batches/:id/results.zip`, guard, async (req, reply) => {
    const x = await batchFor(req);
    if (!x || x.batch.direction !== 'in') return reply.callNotFound();
    const r = await tr.resultsArchive(ctx, x.u, x.batch, req.ip);
    if (!r.ok) return reply.flashRedirect(`${HOME}/batches/${x.batch.id}`, r.error, 'error');
    return reply
      .header('Content-Type', 'application/zip')
      .header('Content-Disposition', attachmentHeader(`评审情况-批次${x.batch.id}.zip`, `results-${x.batch.id}.zip`))
      .send(r.zip);
  });

  app.post(`${HOME}/import`, { ...UPLOAD_ROUTE, ...guard }, async (req, reply) => {
    const form = await readForm(req, LIMITS, { total: TOO_LARGE });
    if (!form.ok) return uploadRefused(reply, form, HOME);
    const u = committee(req);
    if (!u) return reply.callNotFound();
    const plan_id = form.fields.plan_id?.[0];
    const importValues = { plan_id: plan_id ?? '' };
    if (form.tooLarge.length) return home(req, reply, { importValues, importErrors: { file: TOO_LARGE } }, 413);
    const file = form.files.file;
    if (!file) return home(req, reply, { importValues, importErrors: { file: '请选择要导入的数据包（.zip）' } }, 422);
    const r = await tr.importArchive(ctx, u, await fs.promises.readFile(file.path), plan_id, req.ip);
    if (!r.ok) return home(req, reply, { importValues, importErrors: { [r.field ?? 'file']: r.error } }, 422);
    const text = r.kind === 'declarations'
      ? `数据包签名和文件校验通过，已接收 ${r.count} 份申报（转入），可在“申报审核”和“评审会议”中办理`
      : `已接收评审情况：${r.count} 份申报的评审结果已录入${r.skipped ? `（${r.skipped} 份此前已有结果，未改动）` : ''}`;
    return reply.flashRedirect(`${HOME}/batches/${r.batchId}`, text);
  });
}

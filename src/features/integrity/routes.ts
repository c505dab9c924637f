import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireStaff } from '../../plugins/auth.js';
import { registerUploads, requestBudget, TOTAL_MESSAGE, UPLOAD_ROUTE, type FormLimits } from '../../lib/multipart.js';
import { pageParams } from '../../lib/paging.js';
import { RECORD_YEARS, REASON_MAX } from '../../domain/integrity.js';
import { sizeMessage } from '../files/service.js';
import { uploadRefused, uploadTmpDir } from '../files/routes.js';
import { sendStoredFile } from '../files/send.js';
import { chinaToday } from '../plans/repository.js';
import { canSanction, createSanction, liftSanction, listSanctions, sanctionableUnits, type SanctionValues } from './sanctions.js';
import { canRecord, createRecord, evidenceFile, getRecord, liftRecord, listRecords, readRecordValues, type RecordErrors, type RecordValues } from './service.js';

const idParam = (req: FastifyRequest) => {
  const raw = (req.params as { id: string }).id;
  return /^\d{1,12}$/.test(raw) ? Number(raw) : -1;
};

/** /org/sanctions: staff of a supervisory department or an HR bureau. */
async function requireSanctioner(req: FastifyRequest, reply: FastifyReply) {
  const r = await requireStaff(req, reply);
  if (reply.sent) return r;
  if (!canSanction(req.user!)) return reply.code(403).page('errors/error.njk', { title: '无权访问', message: '暂停单位职称申报推荐工作由主管部门或人力资源社会保障部门办理。' }, 403);
}

/** /org/integrity: staff of an HR bureau or a committee office. */
async function requireRecorder(req: FastifyRequest, reply: FastifyReply) {
  const r = await requireStaff(req, reply);
  if (reply.sent) return r;
  if (!canRecord(req.user!)) return reply.code(403).page('errors/error.njk', { title: '无权访问', message: '职称评审诚信档案由人力资源社会保障部门和评委会办公室记录。' }, 403);
}

/**
 * 诚信档案 (seed 001 同意条款, 002 一(一)1): list, add (with the evidence upload), view, lift early
 * with a reason. Each office sees only the records it made.
 */
export default async function integrityRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const readForm = await registerUploads(app, { tmpDir: uploadTmpDir(ctx) });
  const files = { evidence: ctx.config.uploadMaxFileBytes };
  const limits: FormLimits = { files, fields: 10, fieldBytes: REASON_MAX * 4 + 100, totalBytes: requestBudget(files, 10, REASON_MAX * 4 + 100) };
  const opts = { preHandler: requireRecorder };
  const crumbs = (...items: { label: string; href?: string }[]) => [{ label: '首页', href: '/org' }, { label: '诚信档案', href: '/org/integrity' }, ...items];

  app.get('/org/integrity', opts, async (req, reply) => {
    const list = await listRecords(ctx, req.user!.orgId ?? -1, pageParams(req.query, 20));
    return reply.page('integrity/list.njk', { title: '职称评审诚信档案', list, years: RECORD_YEARS, breadcrumbs: crumbs() });
  });

  const newPage = (reply: FastifyReply, values: Partial<RecordValues>, errors: RecordErrors, status = 200) =>
    reply.page('integrity/new.njk', { title: '记入诚信档案', values, errors, years: RECORD_YEARS, maxSize: sizeMessage(ctx, 'doc'), breadcrumbs: crumbs({ label: '记入诚信档案' }) }, status);

  app.get('/org/integrity/new', opts, async (_req, reply) => newPage(reply, { recorded_on: chinaToday(ctx.config.now()) }, {}));

  app.post('/org/integrity', { ...UPLOAD_ROUTE, ...opts }, async (req, reply) => {
    if (!req.isMultipart()) return newPage(reply, {}, { evidence: '请上传证明材料' }, 422);
    const form = await readForm(req, limits, { total: `${TOTAL_MESSAGE}（${sizeMessage(ctx, 'doc')}）` });
    if (!form.ok) return uploadRefused(reply, form, '/org/integrity/new');
    const values = readRecordValues(form.fields);
    if (form.fields.confirm?.[0] !== '1') return newPage(reply, values, { confirm: '请勾选确认' } as RecordErrors, 422);
    const r = await createRecord(ctx, req.user!, values, form.files.evidence ?? null, { tooLarge: form.tooLarge.includes('evidence') ? sizeMessage(ctx, 'doc') : undefined, ip: req.ip });
    if (!r.ok) return newPage(reply, values, r.errors, 422);
    return reply.flashRedirect(`/org/integrity/${r.id}`, r.closed ? `已记入诚信档案，${r.closed}份在途申报已按不予受理关闭` : '已记入诚信档案');
  });

  const viewPage = async (req: FastifyRequest, reply: FastifyReply, o: { liftReason?: string; error?: string } = {}, status = 200) => {
    const rec = await getRecord(ctx, req.user!.orgId ?? -1, idParam(req));
    if (!rec) return reply.callNotFound();
    return reply.page('integrity/view.njk', { title: '诚信档案记录', rec, liftReason: o.liftReason ?? '', error: o.error, breadcrumbs: crumbs({ label: rec.name }) }, status);
  };

  app.get('/org/integrity/:id', opts, async (req, reply) => viewPage(req, reply));

  app.post('/org/integrity/:id/lift', opts, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, string | undefined>;
    const reason = String(b.lift_reason ?? '').trim();
    if (b.confirm !== '1') return viewPage(req, reply, { liftReason: reason, error: '请勾选确认提前撤销' }, 422);
    const r = await liftRecord(ctx, req.user!, idParam(req), reason, req.ip);
    if (!r.ok) return r.status === 404 ? reply.callNotFound() : viewPage(req, reply, { liftReason: reason, error: r.error }, r.status);
    return reply.flashRedirect(`/org/integrity/${idParam(req)}`, '已提前撤销该记录');
  });

  // ---- 暂停单位推荐 (seed 002 一(一)2) ----
  const sanctionsPage = async (req: FastifyRequest, reply: FastifyReply, o: { values?: Partial<SanctionValues>; errors?: Record<string, string>; liftId?: number; liftError?: string } = {}, status = 200) => {
    const list = await listSanctions(ctx, req.user!.orgId ?? -1, pageParams(req.query, 20));
    const units = (await sanctionableUnits(ctx.db, req.user!)).map((u) => ({ code: u.id, name: u.name }));
    const year = Number(chinaToday(ctx.config.now()).slice(0, 4)) + 1;
    return reply.page('integrity/sanctions.njk', {
      title: '暂停单位职称申报推荐工作', list, units, values: o.values ?? { year: String(year) }, errors: o.errors ?? {}, liftId: o.liftId, liftError: o.liftError,
      breadcrumbs: [{ label: '首页', href: '/org' }, { label: '暂停单位推荐' }],
    }, status);
  };
  const sopts = { preHandler: requireSanctioner };
  app.get('/org/sanctions', sopts, async (req, reply) => sanctionsPage(req, reply));
  app.post('/org/sanctions', sopts, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, string | undefined>;
    const values: SanctionValues = { unit_org_id: String(b.unit_org_id ?? ''), year: String(b.year ?? '').trim(), reason: String(b.reason ?? '').trim() };
    if (b.confirm !== '1') return sanctionsPage(req, reply, { values, errors: { confirm: '请勾选确认' } }, 422);
    const r = await createSanction(ctx, req.user!, values, req.ip);
    if (!r.ok) return sanctionsPage(req, reply, { values, errors: r.errors }, 422);
    return reply.flashRedirect('/org/sanctions', `已暂停该单位${values.year}年度职称申报推荐工作`);
  });
  app.post('/org/sanctions/:id/lift', sopts, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, string | undefined>;
    const id = idParam(req);
    if (b.confirm !== '1') return sanctionsPage(req, reply, { liftId: id, liftError: '请勾选确认撤销' }, 422);
    const r = await liftSanction(ctx, req.user!, id, String(b.lift_reason ?? ''), req.ip);
    if (!r.ok) return r.status === 404 ? reply.callNotFound() : sanctionsPage(req, reply, { liftId: id, liftError: r.error }, r.status);
    return reply.flashRedirect('/org/sanctions', '已撤销暂停');
  });

  app.get('/org/integrity/:id/evidence', opts, async (req, reply) => {
    const f = await evidenceFile(ctx, req.user!.orgId ?? -1, idParam(req));
    if (!f) return reply.callNotFound();
    return sendStoredFile(req, reply, ctx.blobs, { id: f.id, sha256: f.sha256, size: f.size, mime: f.mime, name: f.original_name });
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireStaff } from '../../plugins/auth.js';
import { registerUploads, UPLOAD_ROUTE } from '../../lib/multipart.js';
import { makePage, pageParams } from '../../lib/paging.js';
import { sendXlsx, xlsxBuffer } from '../../lib/xlsx.js';
import { REC_LEVEL_NAMES, REC_SLOTS, parseWindowMonths, recognitionLocked } from '../../domain/recognition.js';
import { audit } from '../audit/service.js';
import { attach, discardFile, sizeMessage, storeFile, EMPTY_MESSAGE } from '../files/service.js';
import { uploadFormLimits, uploadTmpDir } from '../files/routes.js';
import { sendStoredFile } from '../files/send.js';
import { zipBuffer, type ZipEntry } from '../results/service.js';
import { chinaStamp } from '../stats/service.js';
import * as svc from './service.js';
import { formModel } from './print.js';
import { recognitionFormPdf } from '../../print/recognitionForm.js';
import { formContext, sendForm } from './pages.js';

type Body = Record<string, unknown>;
const idOf = (req: FastifyRequest) => Number((req.params as { id: string }).id);
const isUnit = (u: { orgKind: string | null }) => u.orgKind === 'unit' || u.orgKind === 'agency';
const crumbs = (...items: { label: string; href?: string }[]) => [{ label: '首页', href: '/org' }, { label: '职称认定', href: '/org/recognitions' }, ...items];

/** 职称认定 for staff: the unit fills in, checks and 上报; the deciding office approves, returns or refuses. */
export default async function recognitionStaffRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const readForm = await registerUploads(app, { tmpDir: uploadTmpDir(ctx) });
  const staff = { preHandler: requireStaff };

  async function people(orgId: number) {
    return ctx.db.selectFrom('users').select(['id', 'name', 'id_masked']).where('unit_org_id', '=', orgId).where('kind', '=', 'applicant').orderBy('name').limit(500).execute();
  }

  // The offices that decide recognitions (Q12(1)): HR bureaus and the city departments.
  const decides = (u: { orgKind: string | null }) => u.orgKind === 'hrb' || u.orgKind === 'supervisor';

  async function listPage(req: FastifyRequest, reply: FastifyReply, monthsValue: string | null, errors: svc.Errors, status = 200) {
    const u = req.user!;
    const q = req.query as Record<string, string | undefined>;
    const { page, size, offset } = pageParams(q, 20);
    const { rows, total } = await svc.staffList(ctx, u, { status: q.status }, size, offset);
    const todo = await svc.recognitionTodo(ctx.db, u);
    const office = decides(u) && u.orgId ? await ctx.db.selectFrom('orgs').select(['id', 'name', 'recognition_months']).where('id', '=', u.orgId).executeTakeFirst() : null;
    return reply.page('recognition/staff-list.njk', {
      title: '职称认定', list: makePage(rows.map((r) => ({ ...r, kind: svc.kindOf(r) })), total, page, size), todo, isUnit: isUnit(u), office, people: isUnit(u) && u.orgId ? await people(u.orgId) : [],
      statusText: svc.STATUS_TEXT, levelNames: REC_LEVEL_NAMES, query: { status: q.status ?? '' }, errors,
      values: { months: monthsValue ?? office?.recognition_months ?? '' },
      breadcrumbs: [{ label: '首页', href: '/org' }, { label: '职称认定' }],
    }, status);
  }

  app.get('/org/recognitions', staff, async (req, reply) => listPage(req, reply, null, {}));

  // A bureau's own calendar (Q13): the months it accepts recognitions. A bad entry comes back
  // next to the field with what was typed.
  app.post('/org/recognitions/windows', staff, async (req, reply) => {
    const u = req.user!;
    if (!decides(u) || !u.orgId) return reply.callNotFound();
    const raw = svc.str((req.body as Body)?.months);
    if (raw && !parseWindowMonths(raw)) return listPage(req, reply, raw, { months: '受理月份填写不正确：请填写1至12的月份，用逗号分隔，如 1,4,7,10' }, 422);
    const months = raw ? parseWindowMonths(raw)!.join(',') : null;
    await ctx.db.updateTable('orgs').set({ recognition_months: months }).where('id', '=', u.orgId).execute();
    await audit(ctx, req, { action: 'recognition_windows', objectType: 'org', objectId: u.orgId, detail: months ?? '默认（1、4、7、10月）' });
    return reply.flashRedirect('/org/recognitions', '已保存受理月份');
  });

  app.get('/org/recognitions/export.xlsx', staff, async (req, reply) => {
    const u = req.user!;
    const { rows } = await svc.staffList(ctx, u, { status: (req.query as Record<string, string>).status }, 10000, 0);
    const buf = await xlsxBuffer(rows, [
      { header: '姓名', width: 10, value: (r) => r.name },
      { header: '身份证号', width: 20, value: (r) => r.id_masked },
      { header: '工作单位', width: 28, value: (r) => r.unit_name },
      { header: '类别', width: 6, value: (r) => svc.kindOf(r) },
      { header: '认定级别', width: 8, value: (r) => REC_LEVEL_NAMES[r.level] },
      { header: '资格名称', width: 26, value: (r) => r.title_name },
      { header: '职称专业', width: 16, value: (r) => r.specialty },
      { header: '学历', width: 10, value: (r) => r.education },
      { header: '学位', width: 6, value: (r) => r.degree },
      { header: '认定时间', width: 12, value: (r) => r.hired_on },
      { header: '认定部门', width: 24, value: (r) => r.office_name },
      { header: '状态', width: 12, value: (r) => svc.STATUS_TEXT[r.status] },
      { header: '证书编号', width: 20, value: (r) => r.cert_number },
      { header: '操作人', width: 10, value: (r) => r.operator_name },
      { header: '联系电话', width: 14, value: (r) => r.operator_phone },
    ], { sheet: '职称认定' });
    const name = `职称认定汇总表-${chinaStamp(ctx.config.now())}.xlsx`;
    await audit(ctx, req, { action: 'export', objectType: 'recognition', detail: `${name}（${rows.length}人）` });
    return sendXlsx(reply, buf, name, 'recognitions.xlsx');
  });

  async function newPage(req: FastifyRequest, reply: FastifyReply, userId: number, values: svc.RecInput, errors: svc.Errors, status = 200) {
    const u = req.user!;
    const person = (await people(u.orgId!)).find((p) => p.id === userId);
    if (!person) return reply.callNotFound();
    const fc = await formContext(ctx, userId, u.orgId!, values);
    return reply.page('recognition/staff-new.njk', {
      title: '填写职称认定材料', person, ...fc, values: Object.keys(values).length ? values : fc.defaults, errors, action: `/org/recognitions/new?user=${userId}`,
      breadcrumbs: crumbs({ label: '填写材料' }),
    }, status);
  }

  app.get('/org/recognitions/new', staff, async (req, reply) => {
    if (!isUnit(req.user!)) return reply.callNotFound();
    return newPage(req, reply, Number((req.query as Record<string, string>).user), {}, {});
  });

  app.post('/org/recognitions/new', staff, async (req, reply) => {
    const u = req.user!;
    if (!isUnit(u)) return reply.callNotFound();
    const userId = Number((req.query as Record<string, string>).user);
    if (!(await people(u.orgId!)).some((p) => p.id === userId)) return reply.callNotFound();
    const values = svc.formValues((req.body ?? {}) as Body);
    const r = await svc.createRecognition(ctx, u, userId, values, req.ip);
    if (!r.ok) return newPage(req, reply, userId, values, r.errors, 422);
    return reply.flashRedirect(`/org/recognitions/${r.id}`, '已保存，请上传所需材料后上报');
  });

  async function detailPage(req: FastifyRequest, reply: FastifyReply, r: NonNullable<Awaited<ReturnType<typeof svc.staffRecognition>>>, values: svc.RecInput | null, errors: svc.Errors, status = 200) {
    const v = values ?? svc.valuesOf(r);
    const fc = await formContext(ctx, r.user_id, r.unit_org_id, v);
    const body = (req.body ?? {}) as Body;
    return reply.page('recognition/detail.njk', {
      title: `职称认定 - ${r.name}`, r, kind: svc.kindOf(r), values: v, errors, ...fc, files: await svc.filesOf(ctx, r), allSlots: REC_SLOTS, mine: false,
      editable: r.asUnit && !recognitionLocked(r.status, 'unit'), asUnit: r.asUnit, asOffice: r.asOffice && r.status === 'office',
      events: await svc.eventsOf(ctx.db, r.id), lastReturn: r.status === 'returned' ? await svc.lastReturn(ctx.db, r.id) : null,
      submitValues: { operator_name: svc.str(body.operator_name), operator_phone: svc.str(body.operator_phone) },
      decideValues: { action: svc.str(body.action), reason: svc.str(body.reason) },
      statusText: svc.STATUS_TEXT, actionText: svc.ACTION_TEXT, levelNames: REC_LEVEL_NAMES, base: `/org/recognitions/${r.id}`,
      breadcrumbs: crumbs({ label: r.name }),
    }, status);
  }

  const load = (req: FastifyRequest) => svc.staffRecognition(ctx, req.user!, idOf(req));

  app.get('/org/recognitions/:id', staff, async (req, reply) => {
    const r = await load(req);
    if (!r) return reply.callNotFound();
    return detailPage(req, reply, r, null, {});
  });

  app.post('/org/recognitions/:id', staff, async (req, reply) => {
    const r = await load(req);
    if (!r || !r.asUnit) return reply.callNotFound();
    const values = svc.formValues((req.body ?? {}) as Body);
    const res = await svc.updateRecognition(ctx, req.user!, r, values, req.ip);
    if (!res.ok) return detailPage(req, reply, r, values, res.errors, 422);
    return reply.flashRedirect(`/org/recognitions/${r.id}`, '已保存');
  });

  app.post('/org/recognitions/:id/files', { ...UPLOAD_ROUTE, preHandler: requireStaff }, async (req, reply) => {
    // The CSRF token is the form's first field: read (and checked) before anything else answers,
    // so a forged post gets the 403 whatever the id (test/security/csrf.test.ts).
    const form = req.isMultipart() ? await readForm(req, uploadFormLimits(ctx, 'doc'), { total: sizeMessage(ctx, 'doc') }) : null;
    const r = await load(req);
    if (!r || !r.asUnit || recognitionLocked(r.status, 'unit')) return reply.callNotFound();
    const def = REC_SLOTS.find((s) => s.key === (req.query as Record<string, string>).slot);
    if (!def) return reply.callNotFound();
    const back = `/org/recognitions/${r.id}`;
    const slotId = `att-recognition-${r.id}-${def.key}`;
    const refuse = (m: string) => reply.flashRedirect(`${back}#${slotId}`, m, 'error', slotId);
    if (!form) return refuse(EMPTY_MESSAGE);
    if (!form.ok) return refuse(form.error);
    if (form.tooLarge.length) return refuse(sizeMessage(ctx, 'doc'));
    const file = form.files.file;
    if (!file) return refuse(EMPTY_MESSAGE);
    // Stored as the applicant's file: the recognition and its files are theirs.
    const stored = await storeFile(ctx, r.user_id, file, 'doc');
    if (!stored.ok && stored.busy) return reply.header('Retry-After', '30').page('errors/error.njk', { title: '系统繁忙', message: stored.error, back }, 503);
    if (!stored.ok) return refuse(stored.error);
    const aid = await attach(ctx, r.user_id, 'recognition', r.id, def.key, stored.fileId, 'unit');
    if (aid === null) {
      await discardFile(ctx, r.user_id, stored.fileId);
      return reply.callNotFound();
    }
    await audit(ctx, req, { action: 'file_upload', objectType: 'file', objectId: stored.fileId, detail: `recognition:${r.id}:${def.key}` });
    return reply.flashRedirect(back, '上传成功');
  });

  app.get('/org/recognitions/:id/files/:fileId', staff, async (req, reply) => {
    const r = await load(req);
    if (!r) return reply.callNotFound();
    const fileId = Number((req.params as { fileId: string }).fileId);
    const a = (await svc.filesOf(ctx, r)).find((f) => f.fileId === fileId);
    if (!a) return reply.callNotFound();
    const f = await ctx.db.selectFrom('files').select(['id', 'sha256', 'size', 'mime', 'original_name']).where('id', '=', fileId).executeTakeFirstOrThrow();
    return sendStoredFile(req, reply, ctx.blobs, { id: f.id, sha256: f.sha256, size: f.size, mime: f.mime as any, name: f.original_name }, (req.query as Record<string, string>).download === '1');
  });

  app.post('/org/recognitions/:id/submit', staff, async (req, reply) => {
    const r = await load(req);
    if (!r || !r.asUnit) return reply.callNotFound();
    const res = await svc.unitSubmit(ctx, req.user!, r, (req.body ?? {}) as Record<string, string>, req.ip);
    if (!res.ok) return detailPage(req, reply, r, null, res.errors ?? { form: res.error }, 422);
    return reply.flashRedirect(`/org/recognitions/${r.id}`, `已上报至${r.office_name}`);
  });

  app.post('/org/recognitions/:id/decide', staff, async (req, reply) => {
    const r = await load(req);
    if (!r || !r.asOffice) return reply.callNotFound();
    const b = (req.body ?? {}) as Body;
    const res = await svc.decide(ctx, req.user!, r, svc.str(b.action), svc.str(b.reason), req.ip);
    if (!res.ok) return detailPage(req, reply, r, null, { [res.field ?? 'decide']: res.error }, 422);
    const text = res.number ? `认定通过，证书编号：${res.number}` : svc.str(b.action) === 'return' ? '已退回' : '已不予认定';
    return reply.flashRedirect(`/org/recognitions/${r.id}`, text);
  });

  app.get('/org/recognitions/:id/print', staff, async (req, reply) => {
    const r = await load(req);
    if (!r) return reply.callNotFound();
    const form = await formModel(ctx, r);
    return reply.page('recognition/form.njk', { title: form.heading, form, pdfHref: `/org/recognitions/${r.id}/pdf`, breadcrumbs: crumbs({ label: r.name, href: `/org/recognitions/${r.id}` }, { label: form.heading }) });
  });

  app.get('/org/recognitions/:id/pdf', staff, async (req, reply) => {
    const r = await load(req);
    if (!r) return reply.callNotFound();
    return sendForm(ctx, req, reply, r, `/org/recognitions/${r.id}/print`);
  });

  // 一键下载材料 of a recognition: its 初定表/认定表 and the uploaded files, named apart from a review's.
  app.get('/org/recognitions/:id/materials.zip', staff, async (req, reply) => {
    const r = await load(req);
    if (!r) return reply.callNotFound();
    const model = await formModel(ctx, r);
    const entries: ZipEntry[] = [];
    const now = ctx.config.now();
    const pdf = await recognitionFormPdf(ctx, reply, model);
    if (pdf.kind === 'ok') entries.push({ name: `${model.heading}.pdf`, data: pdf.pdf, date: now });
    for (const f of await svc.filesOf(ctx, r)) {
      const row = await ctx.db.selectFrom('files').select(['sha256']).where('id', '=', f.fileId).executeTakeFirst();
      const label = REC_SLOTS.find((s) => s.key === f.slot)?.label.replace(/[\\/:*?"<>|《》（）()]/g, '') ?? f.slot;
      const ext = f.name.split('.').pop()?.toLowerCase().replace(/[^a-z0-9]/g, '') || 'bin';
      try {
        if (row) entries.push({ name: `附件/${label}.${ext}`, data: await ctx.blobs.read(row.sha256), date: now });
      } catch { /* a missing blob leaves its entry out */ }
    }
    await audit(ctx, req, { action: 'export', objectType: 'recognition', objectId: r.id, detail: '职称认定材料 zip' });
    const name = `职称认定材料-${r.name}-${r.id}.zip`;
    return reply.header('Content-Type', 'application/zip')
      .header('Content-Disposition', `attachment; filename="recognition-${r.id}.zip"; filename*=UTF-8''${encodeURIComponent(name)}`)
      .header('Cache-Control', 'no-store')
      .send(zipBuffer(entries));
  });
}

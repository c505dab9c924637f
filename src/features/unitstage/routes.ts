import { sendStoredFile } from '../files/send.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { registerUploads, requestBudget, TOTAL_MESSAGE, UPLOAD_ROUTE, type FormLimits } from '../../lib/multipart.js';
import type { AppContext } from '../../context.js';
import { requireStaff, requireDuty } from '../../plugins/auth.js';
import { makePage, pageParams } from '../../lib/paging.js';
import { OPINION_FIELDS, RECOMMEND_METHODS, RECOMMENDATIONS, parseOpinion } from '../../domain/unitstage.js';
import { parseCover } from '../declaration/service.js';
import { chinaToday } from '../plans/repository.js';
import { downloadName, sizeMessage } from '../files/service.js';
import { contentDisposition, safeBack, uploadRefused, uploadTmpDir } from '../files/routes.js';
import {
  gate, listRecommendations, recommend, recommendCandidates, recommendationFile, saveOpinion, unitPanel, unitQueue, verify,
  type Refusal, type RecommendErrors, type Staff, type Upload,
} from './service.js';
import {
  checkPublicity, completePublicity, createPublicity, listPublicities, newPublicityValues, publicityCandidates, publicityDetail, readCompleteForm,
  readPublicityForm, unitContact, CONTACT_ADDRESS_MAX, CONTACT_PHONE_MAX, type CompleteValues, type PublicityErrors, type PublicityValues,
} from './publicity.js';

type Query = Record<string, string | undefined>;

const UNIT_KINDS = new Set(['unit', 'agency']);

/** /org/publicity and /org/recommend: staff of an employer or an HR agency/association. */
async function requireUnitStaff(req: FastifyRequest, reply: FastifyReply) {
  const r = await requireStaff(req, reply);
  if (reply.sent) return r;
  if (!UNIT_KINDS.has(req.user!.orgKind ?? '')) return reply.code(403).page('errors/error.njk', { title: '无权访问', message: '申报公示和推荐上报由用人单位（或人事代理机构、行业协会）办理。' }, 403);
}

const staffOf = (req: FastifyRequest): Staff => req.user!;
const idParam = (req: FastifyRequest) => {
  const raw = (req.params as { id: string }).id;
  return /^\d{1,12}$/.test(raw) ? Number(raw) : -1;
};

/**
 * 单位审核的子步骤 (seed 003 §1.3): 基层单位意见 (表十二) → 核验通过 → 申报公示 → 完成公示 →
 * 单位推荐上报. Declarations out of the caller's scope are 404; in scope but not waiting for
 * the caller's organisation at a unit stage, 409 with the reason.
 */
export default async function unitStageRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  // 推荐上报 uploads 诚信承诺书 and 公示情况说明 in one form: multipart in this scope only, read
  // strictly (src/lib/multipart.ts): those two files, the `ids` check boxes, nothing else.
  const readForm = await registerUploads(app, { tmpDir: uploadTmpDir(ctx) });
  const recommendFiles = { pledge: ctx.config.uploadMaxFileBytes, report: ctx.config.uploadMaxFileBytes };
  const recommendLimits: FormLimits = { files: recommendFiles, fields: 300, fieldBytes: 100, totalBytes: requestBudget(recommendFiles, 300, 100) };

  const refuse = (reply: FastifyReply, r: Refusal) =>
    r.status === 404 ? reply.callNotFound() : reply.page('errors/error.njk', { title: '不能办理', message: r.error }, r.status);

  const crumbs = (...items: { label: string; href?: string }[]) => [{ label: '首页', href: '/org' }, ...items];

  // ------------------------------------------------------------------------------------
  // 单位内部核验: the declarations waiting at the unit stage, with their sub-step

  app.get('/org/unit-stage', { preHandler: requireUnitStaff }, async (req, reply) => {
    const rows = await unitQueue(ctx.db, staffOf(req));
    return reply.page('unitstage/list.njk', { title: '单位内部核验', rows, breadcrumbs: crumbs({ label: '单位内部核验' }) });
  });

  const applicantOf = async (userId: number) =>
    (await ctx.db.selectFrom('users').select(['name', 'id_masked']).where('id', '=', userId).executeTakeFirst()) ?? { name: '', id_masked: null };

  app.get('/org/unit-stage/:id', { preHandler: requireStaff }, async (req, reply) => {
    const g = await gate(ctx.db, staffOf(req), idParam(req));
    if (!g.ok) return refuse(reply, g);
    const panel = await unitPanel(ctx, req.user!, g.d);
    return reply.page('unitstage/stage.njk', {
      title: '单位审核', d: g.d, cover: parseCover(g.d), applicant: await applicantOf(g.d.user_id), unitPanel: panel,
      breadcrumbs: crumbs({ label: '单位内部核验', href: '/org/unit-stage' }, { label: '单位审核' }),
    });
  });

  // ------------------------------------------------------------------------------------
  // 基层单位意见 (表十二)

  const opinionPage = async (req: FastifyRequest, reply: FastifyReply, g: Extract<Awaited<ReturnType<typeof gate>>, { ok: true }>, values: Record<string, string>, errors: Record<string, string>, back: string) =>
    reply.page('unitstage/opinion.njk', {
      title: '基层单位意见', d: g.d, cover: parseCover(g.d), applicant: await applicantOf(g.d.user_id), values, errors, back,
      verified: g.step !== 'opinion' && g.step !== 'verify', fields: Object.fromEntries(OPINION_FIELDS.map((f) => [f.key, f])),
      methods: RECOMMEND_METHODS, recommendations: RECOMMENDATIONS.map((r) => ({ code: r, name: r })),
      breadcrumbs: crumbs({ label: '单位审核', href: `/org/unit-stage/${g.d.id}` }, { label: '基层单位意见' }),
    }, Object.keys(errors).length ? 422 : 200);

  app.get('/org/unit-stage/:id/opinion', { preHandler: requireStaff }, async (req, reply) => {
    const g = await gate(ctx.db, staffOf(req), idParam(req));
    if (!g.ok) return refuse(reply, g);
    if (!g.actions.editOpinion) return refuse(reply, { ok: false, status: 409, error: '该申报已推荐上报，基层单位意见不能修改' });
    const op = parseOpinion(g.d.unit_opinion);
    return opinionPage(req, reply, g, { ...(op ?? {}) }, {}, safeBack((req.query as Query).back, `/org/unit-stage/${g.d.id}`));
  });

  app.post('/org/unit-stage/:id/opinion', { preHandler: requireDuty('review') }, async (req, reply) => {
    const id = idParam(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const back = safeBack(body.back, `/org/unit-stage/${id}`);
    const r = await saveOpinion(ctx, staffOf(req), id, body);
    if (r.ok) return reply.flashRedirect(back, '基层单位意见已保存');
    if (!('errors' in r)) return refuse(reply, r);
    const g = await gate(ctx.db, staffOf(req), id);
    if (!g.ok) return refuse(reply, g);
    return opinionPage(req, reply, g, r.values, r.errors as Record<string, string>, back);
  });

  // ------------------------------------------------------------------------------------
  // 核验通过

  app.post('/org/unit-stage/:id/verify', { preHandler: requireDuty('review') }, async (req, reply) => {
    const id = idParam(req);
    const back = safeBack(((req.body ?? {}) as Record<string, unknown>).back, `/org/unit-stage/${id}`);
    const r = await verify(ctx, staffOf(req), id, req.ip);
    if (!r.ok) return refuse(reply, r);
    return reply.flashRedirect(back, r.warning ? `核验通过。提示：${r.warning}` : '核验通过');
  });

  // ------------------------------------------------------------------------------------
  // 申报公示

  app.get('/org/publicity', { preHandler: requireUnitStaff }, async (req, reply) => {
    const { page, size, offset } = pageParams(req.query);
    const { rows, total } = await listPublicities(ctx, staffOf(req), size, offset);
    const waiting = (await publicityCandidates(ctx.db, staffOf(req))).length;
    return reply.page('unitstage/publicity-list.njk', {
      title: '申报公示', list: makePage(rows, total, page, size), waiting, breadcrumbs: crumbs({ label: '申报公示' }),
    });
  });

  const newPage = async (req: FastifyRequest, reply: FastifyReply, values: PublicityValues, errors: PublicityErrors, end: string, warning: string, status = 200) => {
    const candidates = await publicityCandidates(ctx.db, staffOf(req));
    return reply.page('unitstage/publicity-new.njk', {
      title: '新增公示', candidates, values, errors, end, warning, limits: { phone: CONTACT_PHONE_MAX, address: CONTACT_ADDRESS_MAX },
      breadcrumbs: crumbs({ label: '申报公示', href: '/org/publicity' }, { label: '新增公示' }),
    }, status);
  };

  app.get('/org/publicity/new', { preHandler: requireUnitStaff }, async (req, reply) => {
    const candidates = await publicityCandidates(ctx.db, staffOf(req));
    const values = newPublicityValues(candidates, chinaToday(ctx.config.now()), await unitContact(ctx.db, req.user!.orgId));
    const check = await checkPublicity(ctx, { ...values, title: '-' }, candidates, { requireIds: false });
    return newPage(req, reply, values, {}, check.end, check.warning);
  });

  app.post('/org/publicity', { preHandler: [requireUnitStaff, requireDuty('publicity')] }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = readPublicityForm(body);
    if (body._preview) {
      // 计算结束日期 (no-JS path, and the htmx refresh of the form): nothing is saved.
      const candidates = await publicityCandidates(ctx.db, staffOf(req));
      const check = await checkPublicity(ctx, values, candidates, { requireIds: false });
      const { title: _t, contact_phone: _p, contact_address: _a, ...errors } = check.errors;
      return newPage(req, reply, values, errors, check.end, check.warning, Object.keys(errors).length ? 422 : 200);
    }
    const r = await createPublicity(ctx, staffOf(req), values, req.ip);
    if (!r.ok) return newPage(req, reply, values, r.errors, r.end, r.warning, r.status);
    const msg = `公示已保存，公示期${values.start_date}至${r.end}`;
    return reply.flashRedirect(`/org/publicity/${r.id}`, r.warning ? `${msg}（${r.warning}）` : msg);
  });

  const detailPage = async (req: FastifyRequest, reply: FastifyReply, values: CompleteValues, errors: Record<string, string>, status = 200) => {
    const det = await publicityDetail(ctx, staffOf(req), idParam(req));
    if (!det) return reply.callNotFound();
    return reply.page('unitstage/publicity-detail.njk', {
      title: det.publicity.title, ...det, values, errors, loadFormCss: true,
      breadcrumbs: crumbs({ label: '申报公示', href: '/org/publicity' }, { label: '公示详情' }),
    }, status);
  };

  app.get('/org/publicity/:id', { preHandler: requireUnitStaff }, async (req, reply) => detailPage(req, reply, {}, {}));

  app.get('/org/publicity/:id/print', { preHandler: requireUnitStaff }, async (req, reply) => {
    const det = await publicityDetail(ctx, staffOf(req), idParam(req));
    if (!det) return reply.callNotFound();
    return reply.page('unitstage/publicity-print.njk', { title: det.publicity.title, ...det });
  });

  app.post('/org/publicity/:id/complete', { preHandler: [requireUnitStaff, requireDuty('publicity')] }, async (req, reply) => {
    const id = idParam(req);
    const values = readCompleteForm((req.body ?? {}) as Record<string, unknown>);
    const r = await completePublicity(ctx, staffOf(req), id, values, req.ip);
    if (r.ok) return reply.flashRedirect(`/org/publicity/${id}`, r.objections ? `公示已完成，${r.objections}人有异议，不能推荐上报` : '公示已完成，均无异议');
    if ('errors' in r) return detailPage(req, reply, values, r.errors, 422);
    return refuse(reply, r);
  });

  // ------------------------------------------------------------------------------------
  // 单位推荐上报

  const recommendPage = async (req: FastifyRequest, reply: FastifyReply, ids: number[], errors: RecommendErrors, status = 200) => {
    const { ready, objections } = await recommendCandidates(ctx.db, staffOf(req));
    return reply.page('unitstage/recommend.njk', {
      title: '单位推荐上报', ready, objections, ids: ids.map(String), errors, history: await listRecommendations(ctx, staffOf(req)),
      reportRequired: ready.some((r) => r.publicityRequired), maxSize: sizeMessage(ctx, 'doc'),
      breadcrumbs: crumbs({ label: '推荐上报' }),
    }, status);
  };

  app.get('/org/recommend', { preHandler: requireUnitStaff }, async (req, reply) => recommendPage(req, reply, [], {}));

  app.post('/org/recommend', { ...UPLOAD_ROUTE, preHandler: [requireUnitStaff, requireDuty('review')] }, async (req, reply) => {
    if (!req.isMultipart()) return recommendPage(req, reply, [], { pledge: '请上传诚信承诺书' }, 422);
    const form = await readForm(req, recommendLimits, { total: `${TOTAL_MESSAGE}（${sizeMessage(ctx, 'doc')}）` });
    if (!form.ok) return uploadRefused(reply, form, '/org/recommend');
    const tooLarge: RecommendErrors = Object.fromEntries(form.tooLarge.map((k) => [k, sizeMessage(ctx, 'doc')]));
    const ids = (form.fields.ids ?? []).filter((x) => /^\d{1,12}$/.test(x)).map(Number);
    const r = await recommend(ctx, staffOf(req), { ids, pledge: form.files.pledge ?? null, report: form.files.report ?? null, tooLarge, ip: req.ip });
    if (r.ok) return reply.flashRedirect('/org/recommend', `已推荐上报${r.count}人，已进入下一审核环节`);
    return recommendPage(req, reply, ids, r.errors, r.status);
  });

  app.get('/org/recommend/files/:id', { preHandler: requireUnitStaff }, async (req, reply) => {
    const f = await recommendationFile(ctx, staffOf(req), idParam(req));
    if (!f) return reply.callNotFound();
    return sendStoredFile(req, reply, ctx.blobs, { id: f.id, sha256: f.sha256, size: f.size, mime: f.mime, name: f.original_name });
  });
}

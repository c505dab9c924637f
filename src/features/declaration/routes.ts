import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireApplicant } from '../../plugins/auth.js';
import { redirect } from '../../plugins/views.js';
import { AGREEMENT_TEXT, budgetText, LEVEL_NAMES, PLEDGE_TEXT, EDITABLE, FINAL, isPrintable, type Status } from '../../domain/declaration.js';
import { planCategories, requiredSlots } from '../../domain/plans.js';
import { routeLabel } from '../../domain/route.js';
import { reviewFormModel } from '../../print/reviewForm.js';
import { declarationSlots, listAttachments, listOwnFiles, sizeMessage, TABLE17_SLOT } from '../files/service.js';
import { chinaToday } from '../plans/repository.js';
import * as svc from './service.js';
import { saveCover, titleOptions } from './cover.js';
import { revisionFor } from './revision.js';
import { table17Of } from './table17.js';
import { reviewFormInputs } from './formInputs.js';
import { unitSealFile, sealIndex } from '../unitstage/formBox.js';
import { sendStoredFile } from '../files/send.js';
import { loadProfile } from '../profile/service.js';
import { openSupplementsOfUser } from '../supplements/service.js';

type Q = Record<string, string | undefined>;

// Seed 001 §4.1: 封面填写→基本信息确认→申报信息预览→提交申报.
const STEPS = ['封面填写', '基本信息确认', '申报信息预览', '提交申报'];

export default async function declarationRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const opts = { preHandler: requireApplicant };
  const today = () => chinaToday(ctx.config.now());

  async function coverPage(req: FastifyRequest, reply: FastifyReply, d: svc.Declaration | undefined, values: Q, errors: Record<string, string> = {}, warnings: string[] = []) {
    // 申报年份 first (seed 001 §4.1.1), then the open plans of that year.
    const years = await svc.openPlanYears(ctx);
    const thisYear = svc.yearOf(ctx.config.now());
    const asked = Number(values.year ?? (d ? svc.parseCover(d).year : NaN));
    const year = years.includes(asked) ? asked : years.includes(thisYear) ? thisYear : years[0];
    const plans = year === undefined ? [] : await svc.openPlanList(ctx, year);
    const planId = Number(values.plan_id ?? (d ? svc.parseCover(d).plan_id : NaN));
    const plan = plans.find((p) => p.id === planId) ?? (Number.isFinite(planId) ? await svc.getPlan(ctx, planId) : undefined);
    const level = values.level ?? '';
    const levels = plan ? plan.levels.split(',').filter(Boolean).map((code) => ({ code, name: LEVEL_NAMES[code] ?? code })) : [];
    const titles = plan && level ? await titleOptions(ctx, plan, level, d ? svc.parseCover(d).title : undefined) : [];
    const specialties = plan?.specialties ? plan.specialties.split('\n').map((s) => s.trim()).filter(Boolean) : [];
    return reply.page('declaration/cover.njk', {
      d, years, year, plans, plan, levels, titles, specialties, categories: plan ? planCategories(plan) : [], values, errors, warnings,
      steps: STEPS, step: 1, title: '职称申报', breadcrumbs: [{ label: '职称申报' }, { label: '封面填写' }],
    }, Object.keys(errors).length ? 422 : 200);
  }

  /** The declaration the steps work on; steps 2–4 need one that the applicant may still change. */
  async function working(req: FastifyRequest) {
    const d = await svc.currentDeclaration(ctx, req.user!.id);
    const plan = d ? await svc.getPlan(ctx, d.plan_id) : undefined;
    return { d, plan };
  }

  /** The base of steps 2–4: the declaration, its plan and cover, the steps, the budget sentence, the route. */
  const stepBase = (d: svc.Declaration, plan: svc.Plan, step: number) => ({
    d, plan, cover: svc.parseCover(d), steps: STEPS, step, title: '职称申报', budget: budgetText(d.returns_count, plan.max_returns), routeText: routeLabel(svc.parseRoute(d)),
  });

  /**
   * Step 4 (提交申报). After 返回修改 it lists the ticked sections (需修改); those not changed since
   * ask for a confirmation box. A refused post re-renders it with what was ticked and its token.
   */
  async function submitPage(req: FastifyRequest, reply: FastifyReply, d: svc.Declaration, plan: svc.Plan, o: { token?: string; values?: Q; errors?: Record<string, string> } = {}) {
    const revision = await revisionFor(ctx, req.user!.id, d);
    const errors = o.errors ?? {};
    return reply.page('declaration/submit.njk', {
      ...stepBase(d, plan, 4), ready: await svc.readiness(ctx, req.user!.id, d, plan), agreement: AGREEMENT_TEXT,
      revision, untouchedTitles: revision ? revision.items.filter((i) => !i.changed).map((i) => i.title) : [],
      values: o.values ?? {}, errors, token: o.token ?? crypto.randomBytes(18).toString('base64url'),
      breadcrumbs: [{ label: '职称申报' }, { label: '提交申报' }],
    }, Object.keys(errors).length ? 422 : 200);
  }

  app.get('/me/declaration', opts, async (req, reply) => {
    const q = req.query as Q;
    const step = Math.min(4, Math.max(1, Number(q.step) || 1));
    const { d, plan } = await working(req);
    const uid = req.user!.id;
    // Submitted and not returned: nothing to fill in; show where it is.
    if (d && !EDITABLE.includes(d.status as Status)) {
      return reply.page('declaration/locked.njk', {
        d, info: svc.describe(d), cover: svc.parseCover(d), supplements: await openSupplementsOfUser(ctx, uid, d.id), steps: STEPS, title: '职称申报', breadcrumbs: [{ label: '职称申报' }],
      });
    }
    if (step === 1 || !d || !plan) {
      const c = d ? svc.parseCover(d) : undefined;
      return coverPage(req, reply, d, c ? { plan_id: String(c.plan_id), level: c.level, title: c.title, specialty: c.specialty, category: c.category, ...q } : { ...q });
    }
    if (step === 4) return submitPage(req, reply, d, plan);
    const base = stepBase(d, plan, step);
    if (step === 2) {
      const ready = await svc.readiness(ctx, uid, d, plan);
      return reply.page('declaration/basic.njk', { ...base, ready, breadcrumbs: [{ label: '职称申报' }, { label: '基本信息确认' }] });
    }
    const snapshot = await svc.buildSnapshot(ctx, uid, d, plan);
    // After a reset the unit's 表十二 opinion stays (editable); it shows in the preview too.
    const inputs = await reviewFormInputs(ctx, d, { sealUrl: `/me/records/${d.id}/seal` });
    const form = reviewFormModel(snapshot, { ...inputs, today: today(), preview: true, pledge: PLEDGE_TEXT });
    const files = (await listAttachments(ctx, uid, 'declaration', [d.id])).get(d.id) ?? [];
    return reply.page('declaration/info.njk', {
      ...base, form, photoUrl: snapshot.photoFileId ? `/me/files/${snapshot.photoFileId}` : '', slots: declarationSlots(ctx, plan, svc.extraSlots(d, snapshot.profile)), files,
      ownFiles: await listOwnFiles(ctx, uid), loadFormCss: true, breadcrumbs: [{ label: '职称申报' }, { label: '申报信息预览' }],
    });
  });

  app.post('/me/declaration/cover', opts, async (req, reply) => {
    const b = (req.body ?? {}) as Q;
    const { d } = await working(req);
    // 选择评委会 / 申报等级 without JS: the form posts back to fill the next select.
    if (b._refresh) return coverPage(req, reply, d, b);
    const r = await saveCover(ctx, req.user!.id, b);
    if (!r.ok) return coverPage(req, reply, d, b, r.errors, r.warnings);
    return reply.flashRedirect('/me/declaration?step=2', ['封面已保存', ...r.warnings].join('。'), r.warnings.length ? 'error' : 'ok');
  });

  app.post('/me/declaration/submit', opts, async (req, reply) => {
    const b = (req.body ?? {}) as Q;
    // Resubmitting after 返回修改 with a ticked section left as it was: confirm first (no JS needed).
    const d = await svc.getDeclaration(ctx, req.user!.id, Number(b.declaration_id));
    if (d?.status === 'returned' && b.confirm_unchanged !== '1') {
      const revision = await revisionFor(ctx, req.user!.id, d);
      const plan = await svc.getPlan(ctx, d.plan_id);
      if (revision?.untouched.length && plan) {
        const titles = revision.items.filter((i) => !i.changed).map((i) => i.title).join('、');
        return submitPage(req, reply, d, plan, { token: b.token, values: b, errors: { confirm_unchanged: `审核部门要求修改的“${titles}”自返回修改后未作修改。确认无需修改的，请勾选后再提交` } });
      }
    }
    const r = await svc.submit(ctx, req.user!.id, Number(b.declaration_id), String(b.token ?? ''), b.pledge === '1', req);
    if (!r.ok) {
      if (r.missing?.length) return reply.flashRedirect('/me/declaration?step=2', r.error, 'error');
      return reply.flashRedirect(r.error.includes('已提交') ? '/me/records' : '/me/declaration?step=4', r.error, 'error');
    }
    if (r.already) return redirect(reply, `/me/declaration/done?id=${r.id}`);
    return reply.flashRedirect(`/me/declaration/done?id=${r.id}`, svc.SUBMIT_STARTED);
  });

  app.get('/me/declaration/done', opts, async (req, reply) => {
    const d = await svc.getDeclaration(ctx, req.user!.id, Number((req.query as Q).id));
    if (!d || !d.submitted_at) return reply.callNotFound();
    return reply.page('declaration/done.njk', { d, cover: svc.parseCover(d), info: svc.describe(d), title: '提交申报成功', breadcrumbs: [{ label: '职称申报' }, { label: '提交申报成功' }] });
  });

  // ---- 申报记录 ----
  app.get('/me/records', opts, async (req, reply) => {
    const year = svc.yearOf(ctx.config.now());
    const rows = await ctx.db.selectFrom('declarations').selectAll().where('user_id', '=', req.user!.id).where('year', '>=', year).orderBy('id', 'desc').execute();
    const items = [];
    for (const d of rows as svc.Declaration[]) items.push({ d, cover: svc.parseCover(d), info: svc.describe(d), events: await svc.timeline(ctx, d.id) });
    return reply.page('declaration/records.njk', { items, actions: svc.ACTION_NAMES, title: '申报记录', breadcrumbs: [{ label: '申报记录' }] });
  });

  // 查看申报表: the version under review (or the last one), never the live archive.
  app.get('/me/records/:id/form', opts, async (req, reply) => {
    const d = await svc.getDeclaration(ctx, req.user!.id, Number((req.params as { id: string }).id));
    if (!d) return reply.callNotFound();
    const v = await svc.versionOf(ctx, d);
    if (!v) return reply.page('errors/error.njk', { title: '尚未提交', message: '该申报尚未提交，没有申报表。提交前可在“职称申报 - 申报信息”中预览。' }, 404);
    const inputs = await reviewFormInputs(ctx, d, { sealUrl: `/me/records/${d.id}/seal` });
    const form = reviewFormModel(v.snapshot, { ...inputs, today: v.created_at.slice(0, 10), preview: !isPrintable(d.status), pledge: PLEDGE_TEXT });
    return reply.page('declaration/form.njk', {
      d, v, form, cover: v.snapshot.cover, photoUrl: v.snapshot.photoFileId ? `/me/files/${v.snapshot.photoFileId}` : '', loadFormCss: true,
      title: '查看申报表', breadcrumbs: [{ label: '申报记录', href: '/me/records' }, { label: '查看申报表' }],
    });
  });

  // The unit's electronic seal on 表十二 of the applicant's own declaration (once the unit verified it).
  app.get('/me/records/:id/seal', opts, async (req, reply) => {
    const d = await svc.getDeclaration(ctx, req.user!.id, Number((req.params as { id: string }).id));
    const f = d ? await unitSealFile(ctx, d, sealIndex(req.query)) : null;
    if (!f) return reply.callNotFound();
    return sendStoredFile(req, reply, ctx.blobs, f);
  });

  // ---- 附件管理 ----
  app.get('/me/attachments', opts, async (req, reply) => {
    const { d, plan } = await working(req);
    const files = d ? (await listAttachments(ctx, req.user!.id, 'declaration', [d.id])).get(d.id) ?? [] : [];
    const extra = d ? svc.extraSlots(d, await loadProfile(ctx, req.user!.id)) : [];
    const editable = !!d && EDITABLE.includes(d.status as Status);
    const printable = !!d && isPrintable(d.status);
    return reply.page('declaration/attachments.njk', {
      d, plan, files, editable, printable, slots: plan ? declarationSlots(ctx, plan, extra) : [],
      table17: d ? await table17Of(ctx, d) : null, table17Slot: TABLE17_SLOT, uploadRule: sizeMessage(ctx, 'doc'),
      slotRows: plan ? [...requiredSlots(plan), ...extra].map((s) => ({ ...s, files: files.filter((f) => f.slot === s.key) })) : [],
      ownFiles: editable ? await listOwnFiles(ctx, req.user!.id) : [], title: '附件管理', breadcrumbs: [{ label: '附件管理' }],
    });
  });

  // ---- 申报历史: earlier years, read-only ----
  app.get('/me/history', opts, async (req, reply) => {
    const year = svc.yearOf(ctx.config.now());
    const rows = await ctx.db.selectFrom('declarations').selectAll().where('user_id', '=', req.user!.id).where('year', '<', year).orderBy('year', 'desc').orderBy('id', 'desc').execute();
    const items = (rows as svc.Declaration[]).map((d) => ({ d, cover: svc.parseCover(d), info: svc.describe(d) }));
    return reply.page('declaration/history.njk', { items, title: '申报历史', breadcrumbs: [{ label: '申报历史' }] });
  });

  void FINAL;
}

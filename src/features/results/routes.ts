import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ownServices, replacementOf, serviceByCode } from '../certservices/service.js';
import type { AppContext } from '../../context.js';
import { requireApplicant, requireStaff, requireDuty } from '../../plugins/auth.js';
import { makePage, pageParams } from '../../lib/paging.js';
import { maskName } from '../../domain/mask.js';
import { legacyByVerifyCode } from '../exchange/certImport.js';
import { ratioText, resultPublicityTitle, votesNeeded } from '../../domain/evaluation.js';
import { chinaDate } from '../../domain/plans.js';
import { attachmentHeader } from '../../lib/xlsx.js';
import { getDeclaration, type Declaration } from '../declaration/service.js';
import { visibleDeclaration } from '../review/service.js';
import * as svc from './service.js';
import { materialsZip } from './dossier.js';
import { onlineModel } from '../meeting/routes.js';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../app-root.js';
import { audit } from '../audit/service.js';
import { kindOf as recognitionKind, recognitionByCode } from '../recognition/service.js';
import { REC_LEVEL_NAMES } from '../../domain/recognition.js';
import { certificatePdf, printProblem, reviewFormPdf, type CertificateDoc } from '../../print/documents.js';

type Q = Record<string, string | undefined>;
const idOf = (req: FastifyRequest) => Number((req.params as { id: string }).id);

/** 评后管理: 评审会议, 评审结果公示, 发证, 电子证书 and its public check, 一键下载材料. */
export default async function resultsRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const staff = { preHandler: requireStaff };
  const forbidden = (reply: import('fastify').FastifyReply) =>
    reply.code(403).page('errors/error.njk', { title: '无权访问', message: '只有评委会办公室和平台管理员可以办理评后管理。' }, 403);

  // ---- 评审会议 ----
  app.get('/org/evaluations', staff, async (req, reply) => {
    if (!svc.canManage(req.user!)) return forbidden(reply);
    const { plans, rows } = await svc.listEvaluations(ctx, req.user!);
    return reply.page('results/evaluations.njk', { plans, rows, values: {}, errors: {}, title: '评审会议', breadcrumbs: [{ label: '评审会议' }] });
  });

  app.post('/org/evaluations', { preHandler: requireDuty('evaluation') }, async (req, reply) => {
    if (!svc.canManage(req.user!)) return forbidden(reply);
    const b = (req.body ?? {}) as svc.MeetingInput;
    const r = await svc.createEvaluation(ctx, req.user!, b);
    if (!r.ok) {
      const { plans, rows } = await svc.listEvaluations(ctx, req.user!);
      return reply.page('results/evaluations.njk', { plans, rows, values: b, errors: r.errors, title: '评审会议', breadcrumbs: [{ label: '评审会议' }] }, 422);
    }
    await audit(ctx, req, { action: 'evaluation_create', objectType: 'evaluation', objectId: r.id, detail: `评审计划 ${b.plan_id ?? ''}` });
    return reply.flashRedirect(`/org/evaluations/${r.id}`, '已创建评审会议，请录入表决结果');
  });

  async function meetingPage(req: FastifyRequest, reply: import('fastify').FastifyReply, errors: svc.VoteErrors = {}, posted: Record<string, unknown> = {}, status = 200) {
    const x = await svc.getEvaluation(ctx, req.user!, idOf(req));
    if (!x) return reply.callNotFound();
    if (x.e.mode === 'online') return reply.page('meeting/online.njk', await onlineModel(ctx, x), status);
    const ratio = svc.ratioOf(x.plan);
    const rows = await svc.meetingRows(ctx, x.e.id, x.plan.id);
    const val = (id: number, k: 'agree' | 'disagree' | 'abstain', saved: number | null) => {
      const p = posted[`${k}_${id}`];
      return typeof p === 'string' ? p : saved ?? '';
    };
    return reply.page('results/evaluation.njk', {
      e: x.e, plan: x.plan, rule: ratioText(ratio), needed: votesNeeded(x.e.members_present, ratio), errors,
      rows: rows.map((r) => ({ ...r, v: { agree: val(r.id, 'agree', r.agree), disagree: val(r.id, 'disagree', r.disagree), abstain: val(r.id, 'abstain', r.abstain) } })),
      open: rows.some((r) => r.status === 'approved'),
      title: '评审会议', breadcrumbs: [{ label: '评审会议', href: '/org/evaluations' }, { label: x.e.meeting_date }],
    }, status);
  }

  app.get('/org/evaluations/:id', staff, async (req, reply) => {
    if (!svc.canManage(req.user!)) return forbidden(reply);
    return meetingPage(req, reply);
  });

  app.post('/org/evaluations/:id/votes', { preHandler: requireDuty('evaluation') }, async (req, reply) => {
    if (!svc.canManage(req.user!)) return forbidden(reply);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const r = await svc.saveVotes(ctx, req.user!, idOf(req), body);
    if (!r.ok) {
      if (r.error === '评审会议不存在') return reply.callNotFound();
      if (r.error) return reply.flashRedirect(`/org/evaluations/${idOf(req)}`, r.error, 'error');
      return meetingPage(req, reply, r.errors, body, 422);
    }
    await audit(ctx, req, { action: 'evaluation_votes', objectType: 'evaluation', objectId: idOf(req), detail: `录入${r.saved}人的表决结果` });
    return reply.flashRedirect(`/org/evaluations/${idOf(req)}`, `已保存${r.saved}人的表决结果`);
  });

  app.post('/org/evaluations/:id/confirm', { preHandler: requireDuty('evaluation') }, async (req, reply) => {
    if (!svc.canManage(req.user!)) return forbidden(reply);
    const r = await svc.confirmEvaluation(ctx, req.user!, idOf(req), req.ip);
    if (!r.ok) {
      if (r.error === '评审会议不存在') return reply.callNotFound();
      return reply.flashRedirect(`/org/evaluations/${idOf(req)}`, r.error, 'error');
    }
    return reply.flashRedirect(`/org/evaluations/${idOf(req)}`, `已确认评审结果：通过${r.passed}人，未通过${r.failed}人`);
  });

  // ---- 评审结果公示 ----
  app.get('/org/result-publicity', staff, async (req, reply) => {
    if (!svc.canManage(req.user!)) return forbidden(reply);
    const { plans, rows } = await svc.listPublicities(ctx, req.user!);
    return reply.page('results/publicities.njk', { plans, rows, values: { days: '5' }, errors: {}, min: svc.MIN_RESULT_PUBLICITY_DAYS, title: '结果公示', breadcrumbs: [{ label: '结果公示' }] });
  });

  app.post('/org/result-publicity', { preHandler: requireDuty('publicity') }, async (req, reply) => {
    if (!svc.canManage(req.user!)) return forbidden(reply);
    const b = (req.body ?? {}) as { plan_id?: string; start_date?: string; days?: string };
    const r = await svc.createPublicity(ctx, req.user!, b);
    if (!r.ok) {
      const { plans, rows } = await svc.listPublicities(ctx, req.user!);
      return reply.page('results/publicities.njk', { plans, rows, values: b, errors: r.errors, min: svc.MIN_RESULT_PUBLICITY_DAYS, title: '结果公示', breadcrumbs: [{ label: '结果公示' }] }, 422);
    }
    await audit(ctx, req, { action: 'result_publicity', objectType: 'result_publicity', objectId: r.id, detail: `评审计划 ${b.plan_id ?? ''}，公示期至${r.end}` });
    return reply.flashRedirect(`/org/result-publicity/${r.id}`, `已发布评审结果公示，公示期至${r.end}`);
  });

  app.get('/org/result-publicity/:id', staff, async (req, reply) => {
    if (!svc.canManage(req.user!)) return forbidden(reply);
    const x = await svc.getPublicity(ctx, req.user!, idOf(req));
    if (!x) return reply.callNotFound();
    const people = await svc.passedOfPlan(ctx.db, x.plan.id);
    const heading = resultPublicityTitle(x.plan.year, x.plan.name);
    return reply.page('results/publicity.njk', { r: x.r, plan: x.plan, people, heading, title: heading, breadcrumbs: [{ label: '结果公示', href: '/org/result-publicity' }, { label: x.plan.name }] });
  });

  // ---- 发证 ----
  async function certificatesPage(req: FastifyRequest, reply: import('fastify').FastifyReply, errors: Record<string, string> = {}, values: Record<string, string> = {}, status = 200) {
    const plans = await svc.plansInScope(ctx, req.user!).execute();
    const today = chinaDate(ctx.config.now());
    const cards = [];
    for (const p of plans) {
      const passed = await svc.passedOfPlan(ctx.db, p.id);
      if (!passed.length) continue;
      const pending = passed.filter((x) => !x.number).length;
      cards.push({ plan: p, passed: passed.length, pending, blocker: pending ? await svc.issueBlocker(ctx.db, p.id, today) : null });
    }
    const { page, size, offset } = pageParams(req.query, 20);
    const list = await svc.certificatesOfPlans(ctx, plans.map((p) => p.id), size, offset);
    return reply.page('results/certificates.njk', { cards, list: makePage(list.rows, list.total, page, size), errors, values, title: '证书', breadcrumbs: [{ label: '证书' }] }, status);
  }

  app.get('/org/certificates', { preHandler: requireDuty('certificate') }, async (req, reply) => {
    if (!svc.canManage(req.user!)) return forbidden(reply);
    return certificatesPage(req, reply);
  });

  app.post('/org/certificates/issue', { preHandler: requireDuty('certificate') }, async (req, reply) => {
    if (!svc.canManage(req.user!)) return forbidden(reply);
    const b = (req.body ?? {}) as Q;
    const planId = Number(b.plan_id);
    const r = await svc.issueCertificates(ctx, req.user!, planId, b.doc_no ?? '', req.ip);
    if (!r.ok) {
      if (r.field) return certificatesPage(req, reply, { [`doc_no_${planId}`]: r.error }, { [`doc_no_${planId}`]: b.doc_no ?? '' }, 422);
      return reply.flashRedirect('/org/certificates', r.error, 'error');
    }
    return reply.flashRedirect('/org/certificates', `已发证${r.issued.length}人：${r.issued[0]!.number}${r.issued.length > 1 ? ` 至 ${r.issued[r.issued.length - 1]!.number}` : ''}`);
  });

  // ---- 电子证书 (applicant) and its public check ----
  app.get('/me/certificates', { preHandler: requireApplicant }, async (req, reply) => {
    const rows = await svc.certificateQuery(ctx.db).where('d.user_id', '=', req.user!.id).orderBy('c.id', 'desc').execute();
    const legacy = await ctx.db.selectFrom('legacy_certificates').select(['number', 'title_name', 'specialty', 'issuer', 'obtained_on', 'verify_code']).where('user_id', '=', req.user!.id).orderBy('obtained_on').execute();
    const services = (await ownServices(ctx.db, req.user!.id)).filter((x) => x.status === 'confirmed');
    return reply.page('results/my-certificates.njk', {
      rows: rows.map((c) => ({ ...c, ...svc.certificateView(c) })), legacy: legacy.map((c) => ({ ...c, codeDisplay: svc.displayVerifyCode(c.verify_code) })),
      services: services.map((x) => ({ ...x, codeDisplay: svc.displayVerifyCode(x.verify_code), source: x.kind === 'transfer' ? '外地调入确认' : `遗失补办（原证书 ${x.orig_number}）` })),
      title: '我的证书', breadcrumbs: [{ label: '我的证书' }],
    });
  });

  app.get('/me/certificates/:id', { preHandler: requireApplicant }, async (req, reply) => {
    const id = idOf(req);
    if (!Number.isSafeInteger(id)) return reply.callNotFound();
    const c = await svc.certificateQuery(ctx.db).where('c.id', '=', id).where('d.user_id', '=', req.user!.id).executeTakeFirst();
    if (!c) return reply.callNotFound();
    const verifyUrl = `${ctx.config.publicUrl}/verify-cert/${c.verify_code}`;
    return reply.page('results/certificate.njk', { c, ...svc.certificateView(c), verifyUrl, title: '电子证书', breadcrumbs: [{ label: '我的证书', href: '/me/certificates' }, { label: c.number }] });
  });

  // The e-certificate as a PDF: the applicant's own, or any of the committee office's (admin: all).
  function certDoc(c: Awaited<ReturnType<ReturnType<typeof svc.certificateQuery>['executeTakeFirst']>> & object): CertificateDoc {
    const v = svc.certificateView(c);
    return {
      name: c.name, certTitle: v.certTitle, levelName: v.levelName, specialty: v.cover.specialty ?? '', committee: c.committee, number: c.number,
      docNo: c.doc_no ?? '', issuedAt: chinaDate(new Date(c.issued_at)), codeDisplay: v.codeDisplay, verifyUrl: `${ctx.config.publicUrl}/verify-cert/${c.verify_code}`,
    };
  }
  async function sendCertificate(req: FastifyRequest, reply: import('fastify').FastifyReply, c: Parameters<typeof certDoc>[0], back: string) {
    const r = await certificatePdf(ctx, reply, certDoc(c));
    if (r.kind !== 'ok') return printProblem(req, reply, r, back, '证书');
    await audit(ctx, req, { action: 'export', objectType: 'certificate', objectId: c.id, detail: '电子证书 PDF' });
    const safe = c.number.replace(/[^0-9A-Za-z_-]/g, '') || 'certificate';
    return reply
      .header('Content-Type', 'application/pdf')
      .header('Content-Disposition', attachmentHeader(`电子证书-${c.number}.pdf`, `certificate-${safe}.pdf`))
      .header('Cache-Control', 'no-store')
      .header('X-Content-Type-Options', 'nosniff')
      .send(r.pdf);
  }

  app.get('/me/certificates/:id/pdf', { preHandler: requireApplicant }, async (req, reply) => {
    const id = idOf(req);
    if (!Number.isSafeInteger(id)) return reply.callNotFound();
    const c = await svc.certificateQuery(ctx.db).where('c.id', '=', id).where('d.user_id', '=', req.user!.id).executeTakeFirst();
    if (!c) return reply.callNotFound();
    return sendCertificate(req, reply, c, `/me/certificates/${c.id}`);
  });

  app.get('/org/certificates/:id/pdf', { preHandler: requireDuty('certificate') }, async (req, reply) => {
    if (!svc.canManage(req.user!)) return forbidden(reply);
    const id = idOf(req);
    if (!Number.isSafeInteger(id)) return reply.callNotFound();
    let q = svc.certificateQuery(ctx.db).where('c.id', '=', id);
    if (!svc.isAdmin(req.user! as svc.Staff)) q = q.where('c.committee_org_id', '=', req.user!.orgId!);
    const c = await q.executeTakeFirst();
    if (!c) return reply.callNotFound();
    return sendCertificate(req, reply, c, '/org/certificates');
  });

  app.get('/verify-cert/:code', async (req, reply) => {
    const raw = String((req.params as { code: string }).code ?? '').slice(0, 40);
    const code = svc.normalizeVerifyCode(raw);
    const c = code ? await svc.certificateQuery(ctx.db).where('c.verify_code', '=', code).executeTakeFirst() : undefined;
    if (!c) {
      // 初定/认定 certificates carry their code on the recognition itself.
      const rec = code ? await recognitionByCode(ctx.db, code) : undefined;
      if (rec) {
        return reply.page('results/verify.njk', {
          c: { name: maskName(rec.name), number: rec.cert_number, committee: rec.office, issued_at: rec.decided_at },
          certTitle: `${rec.title_name}（${REC_LEVEL_NAMES[rec.level]}，${recognitionKind(rec)}）`, issuerLabel: '认定部门', codeDisplay: svc.displayVerifyCode(code!), title: '证书核验',
          replaced: await replacementOf(ctx.db, 'recognition', rec.id),
        });
      }
      // 证书服务: a confirmed 外地调入 certificate (with the original's data) or a replacement.
      const cs = code ? await serviceByCode(ctx.db, code) : undefined;
      if (cs) {
        return reply.page('results/verify.njk', {
          c: { name: maskName(cs.name), number: cs.cert_number, committee: cs.office_name, issued_at: cs.decided_at },
          certTitle: `${cs.title_name.split(' - ').pop()}（${cs.specialty}）`, issuerLabel: cs.kind === 'transfer' ? '确认部门' : '发证部门',
          service: { kind: cs.kind, origNumber: cs.orig_number, origIssuer: cs.orig_issuer, origDate: cs.orig_date },
          codeDisplay: svc.displayVerifyCode(code!), title: '证书核验', replaced: await replacementOf(ctx.db, 'cert_service', cs.id),
        });
      }
      // A certificate of the old system, imported (导入历史证书): marked as such.
      const legacy = code ? await legacyByVerifyCode(ctx.db, code) : undefined;
      if (legacy) return reply.page('results/verify.njk', { c: null, legacy: { ...legacy, name: maskName(legacy.name) }, codeDisplay: svc.displayVerifyCode(code!), title: '证书核验' });
      return reply.page('results/verify.njk', { c: null, codeDisplay: raw, title: '未找到该验证码对应的证书' }, 404);
    }
    return reply.page('results/verify.njk', { c: { ...c, name: maskName(c.name) }, ...svc.certificateView(c), title: '证书核验', replaced: await replacementOf(ctx.db, 'certificate', c.id) });
  });

  // ---- 一键下载材料 ----
  app.get('/org/reviews/:id/materials.zip', staff, async (req, reply) => {
    const d = (await visibleDeclaration(ctx, req.user!, idOf(req))) as Declaration | undefined;
    if (!d) return reply.callNotFound();
    const route = svc.parseRoute(d);
    if (route[route.length - 1]?.orgId !== req.user!.orgId) return forbidden(reply);
    const r = await materialsZip(ctx, reply, d, req.user!.id);
    if (r.kind === 'missing') return reply.callNotFound();
    if (r.kind === 'problem') return printProblem(req, reply, r.printed, `/org/reviews/${d.id}`);
    return reply
      .header('Content-Type', 'application/zip')
      .header('Content-Disposition', attachmentHeader(r.name, `materials-${d.id}.zip`))
      .header('Cache-Control', 'no-store')
      .send(r.zip);
  });

  // 申报记录 → 下载申报材料: the applicant's own declaration (their id only), once submitted.
  app.get('/me/records/:id/dossier.zip', { preHandler: requireApplicant }, async (req, reply) => {
    const d = await getDeclaration(ctx, req.user!.id, idOf(req));
    if (!d) return reply.callNotFound();
    const r = await materialsZip(ctx, reply, d, req.user!.id);
    if (r.kind === 'missing') return reply.page('errors/error.njk', { title: '尚未提交', message: '该申报尚未提交，没有可下载的申报材料。' }, 404);
    if (r.kind === 'problem') return printProblem(req, reply, r.printed, `/me/records/${d.id}/form`);
    await audit(ctx, req, { action: 'file_download', objectType: 'declaration', objectId: d.id, detail: '下载本人申报材料' });
    return reply
      .header('Content-Type', 'application/zip')
      .header('Content-Disposition', attachmentHeader(r.name, `dossier-${d.id}.zip`))
      .header('Cache-Control', 'no-store')
      .send(r.zip);
  });
}

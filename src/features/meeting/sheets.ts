import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireStaff, requireUser, type CurrentUser } from '../../plugins/auth.js';
import { PLEDGE_TEXT } from '../../domain/declaration.js';
import { ruleModes } from '../../domain/whoMay.js';
import { eligibilitySheet, type EligibilitySheet } from '../../print/eligibilitySheet.js';
import { blankBrief, blankReviewForm } from '../../print/blankForms.js';
import { blankReviewFormPdf, briefsPdf, printProblem, sheetPdf } from '../../print/documents.js';
import { attachmentHeader } from '../../lib/xlsx.js';
import { getPlan, planRules, versionOf, type Declaration } from '../declaration/service.js';
import { visibleDeclaration } from '../review/service.js';
import { audit } from '../audit/service.js';
import { isMember } from './voting.js';
import { validateIdNumber } from '../../domain/idcard.js';

/**
 * 资格审查表 of a declaration (staff on its route; from its current frozen version) and
 * 打印空白表格 (the blank review form and 评审简表 for offline use).
 */
export async function eligibilitySheetOf(ctx: AppContext, user: CurrentUser, declId: number): Promise<{ d: Declaration; sheet: EligibilitySheet } | undefined> {
  if (isMember(user)) return undefined;
  const d = (await visibleDeclaration(ctx, user, declId)) as Declaration | undefined;
  if (!d) return undefined;
  const v = await versionOf(ctx, d);
  const plan = await getPlan(ctx, d.plan_id);
  if (!v || !plan) return undefined;
  const u = await ctx.db.selectFrom('users').select('id_enc').where('id', '=', d.user_id).executeTakeFirst();
  const id = u?.id_enc ? validateIdNumber(ctx.secrets.decrypt(u.id_enc), ctx.config.now()) : null;
  const sheet = eligibilitySheet(v.snapshot, {
    birthDate: id?.ok ? id.birthDate : undefined,
    rules: planRules(plan), modes: ruleModes(plan.declare_rules), refDate: plan.closes_at.slice(0, 10), planName: plan.name, committee: plan.committee,
  });
  return { d, sheet };
}

const pdfReply = (reply: FastifyReply, pdf: Buffer, name: string, ascii: string) =>
  reply.header('Content-Type', 'application/pdf').header('Content-Disposition', attachmentHeader(name, ascii)).header('Cache-Control', 'no-store').send(pdf);

export default async function sheetRoutes(app: FastifyInstance, ctx: AppContext) {
  const id = (req: FastifyRequest) => Number((req.params as { id: string }).id);

  app.get('/org/reviews/:id/eligibility', { preHandler: requireStaff }, async (req, reply) => {
    const x = await eligibilitySheetOf(ctx, req.user!, id(req));
    if (!x) return reply.callNotFound();
    const html = await reply.viewAsync('print/eligibility.njk', { s: x.sheet, fontFamily: 'serif' });
    return reply.type('text/html; charset=utf-8').send(html);
  });

  app.get('/org/reviews/:id/eligibility.pdf', { preHandler: requireStaff }, async (req, reply) => {
    const x = await eligibilitySheetOf(ctx, req.user!, id(req));
    if (!x) return reply.callNotFound();
    const r = await sheetPdf(ctx, reply, 'print/eligibility.njk', { s: x.sheet });
    if (r.kind !== 'ok') return printProblem(req, reply, r, `/org/reviews/${x.d.id}/eligibility`);
    await audit(ctx, req, { action: 'export', objectType: 'declaration', objectId: x.d.id, detail: '资格审查表 PDF' });
    return pdfReply(reply, r.pdf, `资格审查表-${x.sheet.name}.pdf`, `eligibility-${x.d.id}.pdf`);
  });

  // 打印空白表格: for anyone signed in (a paper meeting, an applicant filling in offline).
  app.get('/forms/blank', { preHandler: requireUser }, async (_req, reply) =>
    reply.page('print/blank.njk', { title: '打印空白表格', breadcrumbs: [{ label: '打印空白表格' }] }));

  app.get('/forms/blank/review-form.pdf', { preHandler: requireUser }, async (req, reply) => {
    const r = await blankReviewFormPdf(ctx, reply, blankReviewForm(PLEDGE_TEXT));
    if (r.kind !== 'ok') return printProblem(req, reply, r, '/forms/blank');
    return pdfReply(reply, r.pdf, '专业技术职称申报评审表（空白）.pdf', 'blank-review-form.pdf');
  });

  app.get('/forms/blank/brief.pdf', { preHandler: requireUser }, async (req, reply) => {
    const r = await briefsPdf(ctx, reply, '', [blankBrief()]);
    if (r.kind !== 'ok') return printProblem(req, reply, r, '/forms/blank');
    return pdfReply(reply, r.pdf, '评审简表（空白）.pdf', 'blank-brief.pdf');
  });
}

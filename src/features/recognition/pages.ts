import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { REC_LEVELS, REC_LEVEL_NAMES } from '../../domain/recognition.js';
import { chinaToday } from '../plans/repository.js';
import { audit } from '../audit/service.js';
import { attachmentHeader } from '../../lib/xlsx.js';
import { printProblem } from '../../print/documents.js';
import { recognitionFormPdf } from '../../print/recognitionForm.js';
import * as svc from './service.js';
import { formModel } from './print.js';

/** Shared by the applicant's and the staff pages: the form's choices, the proposal, the window. */
export async function formContext(ctx: AppContext, userId: number, unitOrgId: number | null, values: svc.RecInput) {
  const archive = await svc.archiveFacts(ctx.db, userId);
  const today = chinaToday(ctx.config.now());
  const proposal = svc.proposeLevel(svc.factsOf(archive, { ...values, hired_on: values.hired_on || archive.hiredDefault || '' }), today);
  const titles = await svc.titleOptions(ctx);
  const level = (values.level || proposal.proposed || 'junior') as (typeof REC_LEVELS)[number];
  let office: { name: string; window: Awaited<ReturnType<typeof svc.windowOf>> } | { error: string } | null = null;
  if (unitOrgId) {
    const d = await svc.deciderOf(ctx.db, level, unitOrgId);
    office = d.ok ? { name: d.decider.name, window: await svc.windowOf(ctx.db, d.decider.orgId, today) } : { error: `${d.error}：${d.detail}` };
  }
  return {
    archive, proposal, office,
    levels: REC_LEVELS.map((l) => ({ code: l, name: REC_LEVEL_NAMES[l] })),
    titles: titles.map((t) => ({ code: t.name, name: `${t.name}（${REC_LEVEL_NAMES[t.level as keyof typeof REC_LEVEL_NAMES]}）` })),
    defaults: { level: proposal.proposed ?? '', hired_on: archive.hiredDefault ?? '' },
  };
}

export async function sendForm(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, r: svc.RecRow, back: string) {
  const model = await formModel(ctx, r);
  const out = await recognitionFormPdf(ctx, reply, model);
  if (out.kind !== 'ok') return printProblem(req, reply, out, back, '证书');
  await audit(ctx, req, { action: 'export', objectType: 'recognition', objectId: r.id, detail: `${model.heading}${model.preview ? '（预览）' : ''}` });
  return reply
    .header('Content-Type', 'application/pdf')
    .header('Content-Disposition', attachmentHeader(`${model.heading}-${r.name}.pdf`, `recognition-${r.id}.pdf`))
    .header('Cache-Control', 'no-store')
    .send(out.pdf);
}


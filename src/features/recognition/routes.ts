import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireApplicant } from '../../plugins/auth.js';
import { REC_LEVELS, REC_LEVEL_NAMES, REC_SLOTS, recognitionLocked } from '../../domain/recognition.js';
import { chinaToday } from '../plans/repository.js';
import { audit } from '../audit/service.js';
import { attachmentHeader } from '../../lib/xlsx.js';
import { printProblem } from '../../print/documents.js';
import { recognitionFormPdf } from '../../print/recognitionForm.js';
import { resolveSlot, type UploadSlot } from '../files/service.js';
import * as svc from './service.js';
import { formModel } from './print.js';
import staffRoutes from './staff.js';
import { formContext, sendForm } from './pages.js';

type Body = Record<string, unknown>;
const idOf = (req: FastifyRequest) => Number((req.params as { id: string }).id);

/** 职称认定 (初定/认定, issue #14): the applicant's pages; staff pages are in staff.ts. */
export default async function recognitionRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const me = { preHandler: requireApplicant };

  async function listPage(req: FastifyRequest, reply: FastifyReply, values: svc.RecInput, errors: svc.Errors, status = 200) {
    const uid = req.user!.id;
    const rows = await svc.ownRecognitions(ctx, uid);
    const user = await ctx.db.selectFrom('users').select('unit_org_id').where('id', '=', uid).executeTakeFirstOrThrow();
    const fc = await formContext(ctx, uid, user.unit_org_id, values);
    const v = Object.keys(values).length ? values : fc.defaults;
    return reply.page('recognition/mine.njk', {
      title: '职称认定', rows, statusText: svc.STATUS_TEXT, levelNames: REC_LEVEL_NAMES, ...fc, values: v, errors, action: '/me/recognition',
      breadcrumbs: [{ label: '职称认定' }],
    }, status);
  }

  app.get('/me/recognition', me, async (req, reply) => listPage(req, reply, {}, {}));

  app.post('/me/recognition', me, async (req, reply) => {
    const values = svc.formValues((req.body ?? {}) as Body);
    const r = await svc.createRecognition(ctx, req.user!, req.user!.id, values, req.ip);
    if (!r.ok) return listPage(req, reply, values, r.errors, 422);
    return reply.flashRedirect(`/me/recognition/${r.id}`, '已保存，请上传所需材料后提交单位');
  });

  async function detailPage(req: FastifyRequest, reply: FastifyReply, r: svc.RecRow, values: svc.RecInput | null, errors: svc.Errors, status = 200) {
    const v = values ?? svc.valuesOf(r);
    const fc = await formContext(ctx, r.user_id, r.unit_org_id, v);
    const files = await svc.filesOf(ctx, r);
    const slots: UploadSlot[] = [];
    for (const s of REC_SLOTS) {
      const slot = await resolveSlot(ctx, r.user_id, 'recognition', r.id, s.key);
      if (slot) slots.push(slot);
    }
    return reply.page('recognition/detail.njk', {
      title: `职称认定 - ${REC_LEVEL_NAMES[r.level]}`, r, kind: svc.kindOf(r), values: v, errors, ...fc, files, slots, allSlots: REC_SLOTS,
      editable: !recognitionLocked(r.status, 'applicant'), mine: true,
      events: await svc.eventsOf(ctx.db, r.id), lastReturn: r.status === 'returned' ? await svc.lastReturn(ctx.db, r.id) : null,
      statusText: svc.STATUS_TEXT, actionText: svc.ACTION_TEXT, levelNames: REC_LEVEL_NAMES, base: `/me/recognition/${r.id}`,
      breadcrumbs: [{ label: '职称认定', href: '/me/recognition' }, { label: `${REC_LEVEL_NAMES[r.level]}` }],
    }, status);
  }

  app.get('/me/recognition/:id', me, async (req, reply) => {
    const r = await svc.ownRecognition(ctx, req.user!.id, idOf(req));
    if (!r) return reply.callNotFound();
    return detailPage(req, reply, r, null, {});
  });

  app.post('/me/recognition/:id', me, async (req, reply) => {
    const r = await svc.ownRecognition(ctx, req.user!.id, idOf(req));
    if (!r) return reply.callNotFound();
    // Not editable now: said at the top (the page shows no form to put an error in).
    const locked = recognitionLocked(r.status, 'applicant');
    if (locked) return reply.flashRedirect(`/me/recognition/${r.id}`, locked, 'error');
    const values = svc.formValues((req.body ?? {}) as Body);
    const res = await svc.updateRecognition(ctx, req.user!, r, values, req.ip);
    if (!res.ok) return detailPage(req, reply, r, values, res.errors, 422);
    return reply.flashRedirect(`/me/recognition/${r.id}`, '已保存');
  });

  app.post('/me/recognition/:id/send', me, async (req, reply) => {
    const r = await svc.ownRecognition(ctx, req.user!.id, idOf(req));
    if (!r) return reply.callNotFound();
    const res = await svc.sendToUnit(ctx, req.user!, r, req.ip);
    if (!res.ok) return detailPage(req, reply, r, null, res.errors ?? { form: res.error }, 422);
    return reply.flashRedirect(`/me/recognition/${r.id}`, '已提交单位审核');
  });

  app.get('/me/recognition/:id/print', me, async (req, reply) => {
    const r = await svc.ownRecognition(ctx, req.user!.id, idOf(req));
    if (!r) return reply.callNotFound();
    const form = await formModel(ctx, r);
    return reply.page('recognition/form.njk', { title: form.heading, form, pdfHref: `/me/recognition/${r.id}/pdf`, breadcrumbs: [{ label: '职称认定', href: `/me/recognition/${r.id}` }, { label: form.heading }] });
  });

  app.get('/me/recognition/:id/pdf', me, async (req, reply) => {
    const r = await svc.ownRecognition(ctx, req.user!.id, idOf(req));
    if (!r) return reply.callNotFound();
    return sendForm(ctx, req, reply, r, `/me/recognition/${r.id}/print`);
  });

  await app.register(staffRoutes, { ctx });
}

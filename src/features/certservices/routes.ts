import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireApplicant } from '../../plugins/auth.js';
import { registerUploads, requestBudget, UPLOAD_ROUTE, type FormLimits } from '../../lib/multipart.js';
import { maxBytes, sizeMessage } from '../files/service.js';
import { uploadTmpDir } from '../files/routes.js';
import type { Errors } from '../../domain/certServices.js';
import * as svc from './service.js';
import staffRoutes from './staff.js';

const idOf = (req: FastifyRequest) => Number((req.params as { id: string }).id);

/**
 * 证书服务 for the applicant (/me/cert-services): 外地调入人员职称资格确认 and 遗失补办, each one
 * multipart form (CSRF token first, the fields, then the scan); the office's pages are in staff.ts.
 */
export default async function certServiceRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  await app.register(applicantRoutes, { ctx });
  await app.register(staffRoutes, { ctx });
}

async function applicantRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const readForm = await registerUploads(app, { tmpDir: uploadTmpDir(ctx) });
  const me = { preHandler: requireApplicant };
  const files = { file: maxBytes(ctx, 'doc') };
  const limits: FormLimits = { files, fields: 9, fieldBytes: 1000, totalBytes: requestBudget(files, 9, 1000, ctx.config.uploadMaxFileBytes) };

  async function listPage(req: FastifyRequest, reply: FastifyReply, form: { kind?: 'transfer' | 'reissue'; values?: svc.ApplyInput; errors?: Errors } = {}, status = 200) {
    const uid = req.user!.id;
    const dicts = await ctx.dicts.ready();
    const certs = await svc.replaceableCerts(ctx.db, uid);
    const blank: svc.ApplyInput = {};
    return reply.page('certservices/mine.njk', {
      title: '证书服务', rows: (await svc.ownServices(ctx.db, uid)).map((s) => ({ ...s, statusText: svc.statusText(s), kindText: svc.KIND_TEXT[s.kind] })),
      titles: dicts.options('titles').map((o) => ({ code: o.name, name: o.name })),
      certs: certs.map((c) => ({ code: c.key, name: `${c.number}（${c.title.split(' - ').pop()}，${c.office}）` })),
      transfer: { values: form.kind === 'transfer' ? form.values : blank, errors: form.kind === 'transfer' ? form.errors : {} },
      reissue: { values: form.kind === 'reissue' ? form.values : blank, errors: form.kind === 'reissue' ? form.errors : {} },
      fileHint: `支持 jpg、png、pdf，不超过${sizeMessage(ctx, 'doc').replace('文件不能超过', '')}`,
      breadcrumbs: [{ label: '证书服务' }],
    }, status);
  }

  app.get('/me/cert-services', me, async (req, reply) => listPage(req, reply));

  for (const kind of ['transfer', 'reissue'] as const) {
    app.post(`/me/cert-services/${kind}`, { ...UPLOAD_ROUTE, ...me }, async (req, reply) => {
      if (!req.isMultipart()) return listPage(req, reply, { kind, values: {}, errors: { form: '请使用页面上的表单提交' } }, 422);
      const form = await readForm(req, limits, { total: sizeMessage(ctx, 'doc') });
      if (!form.ok) return listPage(req, reply, { kind, values: {}, errors: { form: form.error } }, form.status === 413 ? 413 : 422);
      const values = svc.formValues(form.fields);
      const fileKey = kind === 'transfer' ? 'file' : 'notice_file';
      if (form.tooLarge.length) return listPage(req, reply, { kind, values, errors: { [fileKey]: sizeMessage(ctx, 'doc') } }, 422);
      const r = kind === 'transfer'
        ? await svc.applyTransfer(ctx, req.user!, values, form.files.file, req.ip)
        : await svc.applyReissue(ctx, req.user!, values, form.files.file, req.ip);
      if (!r.ok) return listPage(req, reply, { kind, values, errors: r.errors }, 422);
      return reply.flashRedirect(`/me/cert-services/${r.id}`, '申请已提交，请等待审核');
    });
  }

  app.get('/me/cert-services/:id', me, async (req, reply) => {
    const s = await svc.ownService(ctx.db, req.user!.id, idOf(req));
    if (!s) return reply.callNotFound();
    return reply.page('certservices/detail.njk', {
      title: svc.KIND_TEXT[s.kind], s, statusText: svc.statusText(s), kindText: svc.KIND_TEXT[s.kind], files: await svc.filesOf(ctx.db, s), slots: svc.SLOTS, mine: true,
      fileHref: (f: { id: number }) => `/me/files/${f.id}`,
      breadcrumbs: [{ label: '证书服务', href: '/me/cert-services' }, { label: svc.KIND_TEXT[s.kind] }],
    });
  });
}

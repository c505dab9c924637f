import fs from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireAdmin } from '../../plugins/auth.js';
import { registerUploads, requestBudget, UPLOAD_ROUTE, type FormLimits } from '../../lib/multipart.js';
import { pageParams } from '../../lib/paging.js';
import { uploadRefused, uploadTmpDir } from '../files/routes.js';
import { CERT_COLUMNS } from '../../domain/legacyCert.js';
import { EXCHANGE_MAX_BYTES, EXCHANGE_MAX_ROWS } from './table.js';
import { CLASSES, CLASS_NAMES, getBatch, recentBatches, reportPage, type Kind, type Summary } from './batches.js';
import * as certs from './certImport.js';
import * as orgs from './orgImport.js';
import * as dictx from './dictExchange.js';
import { attachmentHeader } from '../../lib/xlsx.js';
import { audit } from '../audit/service.js';
import { ORG_COLUMNS } from '../../domain/orgImportRow.js';

const MB = Math.round(EXCHANGE_MAX_BYTES / 1024 / 1024);
export const TOO_LARGE = `导入文件不能超过${MB}MB`;

interface ImportKind {
  kind: Kind;
  title: string;
  base: string;
  columns: readonly string[];
  /** Display columns of a report line. */
  reportCols: string[];
  dryRun: (ctx: AppContext, req: FastifyRequest, file: import('../../lib/multipart.js').TempUpload, buf: Buffer) => Promise<{ ok: true; batchId: number } | { ok: false; error: string }>;
  confirm: (ctx: AppContext, req: FastifyRequest, id: number) => Promise<{ ok: true; imported: number; linked?: number } | { ok: false; error: string }>;
}

/**
 * 数据交换 (system admin): imports with a dry run and a confirmation. The uploaded file is kept in
 * the blob store between the two (several processes may serve them).
 */
export default async function exchangeRoutes(app: FastifyInstance, { ctx, kinds = [] }: { ctx: AppContext; kinds?: ImportKind[] }) {
  const readForm = await registerUploads(app, { tmpDir: uploadTmpDir(ctx) });
  const files = { file: EXCHANGE_MAX_BYTES };
  // Past twice the limit the request is refused from its Content-Length, before any byte is parsed.
  const LIMITS: FormLimits = { files, fields: 2, fieldBytes: 200, totalBytes: requestBudget(files, 2, 200) };
  const admin = { preHandler: requireAdmin };
  const crumbs = (...more: { label: string; href?: string }[]) => [{ label: '平台管理', href: '/admin' }, { label: '数据交换', href: '/admin/exchange' }, ...more];

  const all: ImportKind[] = [
    {
      kind: 'certificates', title: '导入历史证书', base: '/admin/exchange/certificates', columns: CERT_COLUMNS, reportCols: ['姓名', '身份证号', '证书编号'],
      dryRun: certs.dryRun, confirm: certs.confirm,
    },
    {
      kind: 'orgs', title: '导入单位和主管部门', base: '/admin/exchange/orgs', columns: ORG_COLUMNS, reportCols: ['单位名称', '统一社会信用代码', '类型'],
      dryRun: orgs.dryRun, confirm: orgs.confirm,
    },
    ...kinds,
  ];

  app.get('/admin/exchange', admin, async (_req, reply) => {
    return reply.page('exchange/home.njk', { title: '数据交换', kinds: all, breadcrumbs: crumbs() });
  });

  for (const k of all) {
    const uploadPage = async (reply: FastifyReply, data: Record<string, unknown> = {}, status = 200) =>
      reply.page('exchange/upload.njk', {
        title: k.title, k, maxMb: MB, maxRows: EXCHANGE_MAX_ROWS, batches: await recentBatches(ctx, k.kind), classNames: CLASS_NAMES,
        breadcrumbs: crumbs({ label: k.title }), ...data,
      }, status);

    app.get(k.base, admin, async (_req, reply) => uploadPage(reply));

    app.post(k.base, { ...UPLOAD_ROUTE, ...admin }, async (req, reply) => {
      const form = await readForm(req, LIMITS, { total: TOO_LARGE });
      if (!form.ok) return uploadRefused(reply, form, k.base);
      if (form.tooLarge.length) return uploadPage(reply, { error: TOO_LARGE }, 413);
      const file = form.files.file;
      if (!file) return uploadPage(reply, { error: '请选择要导入的文件' }, 422);
      const r = await k.dryRun(ctx, req, file, await fs.promises.readFile(file.path));
      if (!r.ok) return uploadPage(reply, { error: r.error }, 422);
      return reply.redirect(`/admin/exchange/batches/${r.batchId}`, 303);
    });
  }

  app.get('/admin/exchange/batches/:id', admin, async (req, reply) => {
    const batch = await getBatch(ctx.db, Number((req.params as { id: string }).id));
    const k = batch && all.find((x) => x.kind === batch.kind);
    if (!batch || !k) return reply.callNotFound();
    const q = req.query as Record<string, string | undefined>;
    const cls = CLASSES.includes(q.cls as never) ? q.cls : '';
    const { page, size } = pageParams(q, 50);
    const summary = JSON.parse(batch.summary) as Summary;
    return reply.page('exchange/batch.njk', {
      title: `${k.title}：预检结果`, k, batch, summary, cls, list: reportPage(batch, cls, page, size), classes: CLASSES, classNames: CLASS_NAMES,
      breadcrumbs: crumbs({ label: k.title, href: k.base }, { label: `批次 ${batch.id}` }),
    });
  });

  app.post('/admin/exchange/batches/:id/confirm', admin, async (req, reply) => {
    const batch = await getBatch(ctx.db, Number((req.params as { id: string }).id));
    const k = batch && all.find((x) => x.kind === batch.kind);
    if (!batch || !k) return reply.callNotFound();
    const back = `/admin/exchange/batches/${batch.id}`;
    const r = await k.confirm(ctx, req, batch.id);
    if (!r.ok) return reply.flashRedirect(back, r.error, 'error');
    return reply.flashRedirect(back, `已导入 ${r.imported} 条${r.linked ? `，其中 ${r.linked} 条已填入已注册人员的现有职称` : ''}`);
  });

  // ---- 导出基本代码 / 接收更新代码: the whole dictionary set as one versioned JSON file ----
  const dictPage = async (reply: FastifyReply, data: Record<string, unknown> = {}, status = 200) => {
    const batches = await ctx.db.selectFrom('import_batches').select(['id', 'filename', 'status', 'summary', 'created_at', 'imported_at']).where('kind', '=', 'dicts').orderBy('id', 'desc').limit(10).execute();
    return reply.page('exchange/dicts.njk', { title: '字典导出与导入', maxMb: MB, batches: batches.map((b) => ({ ...b, summary: JSON.parse(b.summary) })), breadcrumbs: crumbs({ label: '字典导出与导入' }), ...data }, status);
  };
  app.get('/admin/exchange/dicts', admin, async (_req, reply) => dictPage(reply));

  app.get('/admin/exchange/dicts.json', admin, async (req, reply) => {
    const now = ctx.config.now();
    const set = await dictx.exportSet(ctx.db, now);
    await audit(ctx, req, { action: 'exchange_export', objectType: 'dicts', detail: '导出基本代码（字典 JSON）' });
    const day = now.toISOString().slice(0, 10);
    return reply
      .header('Content-Type', 'application/json; charset=utf-8')
      .header('Content-Disposition', attachmentHeader(`基本代码-${day}.json`, `dicts-${day}.json`))
      .send(JSON.stringify(set, null, 1));
  });

  app.post('/admin/exchange/dicts', { ...UPLOAD_ROUTE, ...admin }, async (req, reply) => {
    const form = await readForm(req, LIMITS, { total: TOO_LARGE });
    if (!form.ok) return uploadRefused(reply, form, '/admin/exchange/dicts');
    if (form.tooLarge.length) return dictPage(reply, { error: TOO_LARGE }, 413);
    const file = form.files.file;
    if (!file) return dictPage(reply, { error: '请选择要导入的文件' }, 422);
    const r = await dictx.dryRun(ctx, req, file, await fs.promises.readFile(file.path));
    if (!r.ok) return dictPage(reply, { error: r.error }, 422);
    return reply.redirect(`/admin/exchange/dicts/batches/${r.batchId}`, 303);
  });

  const dictBatch = async (req: FastifyRequest) => {
    const b = await getBatch(ctx.db, Number((req.params as { id: string }).id));
    return b?.kind === 'dicts' ? b : undefined;
  };
  app.get('/admin/exchange/dicts/batches/:id', admin, async (req, reply) => {
    const batch = await dictBatch(req);
    if (!batch) return reply.callNotFound();
    const q = req.query as Record<string, string | undefined>;
    const kind = q.kind && q.kind in dictx.CHANGE_NAMES ? q.kind : '';
    const all = JSON.parse(batch.report) as import('../../domain/dictDiff.js').DictChange[];
    const rows = kind ? all.filter((c) => c.kind === kind) : all;
    const { page, size } = pageParams(q, 50);
    const list = { rows: rows.slice((page - 1) * size, page * size), total: rows.length, page, size, pages: Math.max(1, Math.ceil(rows.length / size)) };
    return reply.page('exchange/dicts-batch.njk', {
      title: '接收更新代码：预览', batch, summary: JSON.parse(batch.summary), list, kind, changeNames: dictx.CHANGE_NAMES, groupNames: dictx.GROUP_NAMES,
      breadcrumbs: crumbs({ label: '字典导出与导入', href: '/admin/exchange/dicts' }, { label: `批次 ${batch.id}` }),
    });
  });
  app.post('/admin/exchange/dicts/batches/:id/confirm', admin, async (req, reply) => {
    const batch = await dictBatch(req);
    if (!batch) return reply.callNotFound();
    const back = `/admin/exchange/dicts/batches/${batch.id}`;
    const r = await dictx.confirm(ctx, req, batch.id);
    if (!r.ok) return reply.flashRedirect(back, r.error, 'error');
    return reply.flashRedirect(back, `已更新 ${r.imported} 项字典`);
  });
}

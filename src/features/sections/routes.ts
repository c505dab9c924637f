import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireApplicant } from '../../plugins/auth.js';
import { redirect } from '../../plugins/views.js';
import { sectionByKey, type SectionDef } from '../../domain/sections.js';
import { archivePlanOf, type ArchivePlan } from './plan.js';
import { display, type RowValues } from '../../domain/sectionRules.js';
import { makePage, pageParams } from '../../lib/paging.js';
import * as svc from './service.js';
import { formView, type SearchRequest } from './form.js';
import { attachmentsFor, cleanupRow } from './attachments.js';
import { currentRevision } from '../declaration/revision.js';
import { RESTORED_TEXT } from '../../plugins/pending.js';

type Body = Record<string, unknown>;
const PAGE_SIZE = 10;

function crumbs(def: SectionDef, last?: string) {
  const base = [{ label: '申报信息管理' }, { label: def.title, href: last ? `/me/sections/${def.key}` : undefined }];
  return last ? [...base, { label: last }] : base;
}

/** The 搜索 button of a tree field posts the whole form with `_search=<field>`: re-render, don't save. */
function searchOf(body: Body): SearchRequest | undefined {
  const field = typeof body._search === 'string' ? body._search : '';
  return field ? { field, q: String(body[`${field}_q`] ?? '') } : undefined;
}

export default async function sectionRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const opts = { preHandler: requireApplicant };

  /**
   * The section of the URL among the sections of the applicant's plan (its 系列: issue #16), with
   * that plan's settings; a section of another series is 404, like an unknown key.
   */
  const planOf = new WeakMap<FastifyRequest, ArchivePlan>();
  const archivePlan = async (req: FastifyRequest) => {
    let ap = planOf.get(req);
    if (!ap) planOf.set(req, (ap = await archivePlanOf(ctx, req.user!.id)));
    return ap;
  };
  const defOf = async (req: FastifyRequest, _reply: FastifyReply): Promise<SectionDef | null> => {
    const key = (req.params as { key: string }).key;
    return (await archivePlan(req)).sections.find((s) => s.key === key) ?? null;
  };

  /** 需修改 of this section (ticked on 返回修改), for full pages only. */
  async function revisionOf(req: FastifyRequest, def: SectionDef) {
    if (req.isFragment) return {};
    const revision = await currentRevision(ctx, req.user!.id);
    const revisionItem = revision?.items.find((i) => i.key === def.key);
    return revisionItem ? { revision, revisionItem } : {};
  }

  const cells = (def: SectionDef, data: RowValues) =>
    def.columns.map((c) => c.fields.map((f) => display(data[f])).filter(Boolean).join(c.join ?? ' '));

  async function renderForm(req: FastifyRequest, reply: FastifyReply, def: SectionDef, o: { id?: number; values: Body; errors?: Record<string, string>; search?: SearchRequest; raw?: Body; status?: number; restored?: boolean }) {
    const dicts = await ctx.dicts.ready();
    const fields = formView(def.fields, o.values, o.errors ?? {}, dicts, o.search, o.raw);
    const action = o.id ? `/me/sections/${def.key}/${o.id}` : `/me/sections/${def.key}`;
    const attachments = o.id ? await attachmentsFor(ctx, req.user!.id, def, o.id) : null;
    const tpl = req.isFragment ? 'sections/_form.njk' : 'sections/form.njk';
    return reply.page(tpl, {
      ...(await revisionOf(req, def)),
      def, fields, action, id: o.id, errors: o.errors ?? {}, attachments, searched: o.search?.field,
      title: `${o.id ? '编辑' : '新增'}${def.title}`, breadcrumbs: crumbs(def, o.id ? '编辑' : '新增'),
      flash: o.restored ? { kind: 'ok', text: RESTORED_TEXT } : undefined,
    }, o.status ?? (o.errors && Object.keys(o.errors).length ? 422 : 200));
  }

  // ---- list ----
  app.get('/me/sections/:key', opts, async (req, reply) => {
    const def = await defOf(req, reply);
    if (!def) return reply.callNotFound();
    const uid = req.user!.id;
    const counts = await svc.countRows(ctx, uid);
    const total = counts[def.key] ?? 0;
    const { size, offset } = pageParams(req.query, PAGE_SIZE);
    const pages = Math.max(1, Math.ceil(total / size));
    const page = Math.min(pageParams(req.query, PAGE_SIZE).page, pages);
    const rows = await svc.listRows(ctx, uid, def.key, size, (page - 1) * size);
    void offset;
    const list = makePage(rows.map((r) => ({ id: r.id, cells: cells(def, r.data) })), total, page, size);
    const tpl = req.isFragment ? 'sections/_list.njk' : 'sections/list.njk';
    return reply.page(tpl, { ...(await revisionOf(req, def)), def, list, sections: (await archivePlan(req)).sections, counts, title: def.title, breadcrumbs: crumbs(def), loadSortable: true });
  });

  // A form posted after the session ended comes back on its page after the next login
  // (src/plugins/pending.ts): the typed values, as after 搜索.
  const restoredForm = async (req: FastifyRequest, reply: FastifyReply, def: SectionDef, id?: number) => {
    const body = await app.pendingForms.take(req, reply);
    return body ? renderForm(req, reply, def, { id, values: rawValues(def, body), raw: body, restored: true }) : null;
  };

  // ---- new / create ----
  app.get('/me/sections/:key/new', opts, async (req, reply) => {
    const def = await defOf(req, reply);
    if (!def) return reply.callNotFound();
    return (await restoredForm(req, reply, def)) ?? renderForm(req, reply, def, { values: {} });
  });

  app.post('/me/sections/:key', { ...opts, config: { pendingForm: (p) => (sectionByKey(p.key!) ? `/me/sections/${p.key}/new` : null) } }, async (req, reply) => {
    const def = await defOf(req, reply);
    if (!def) return reply.callNotFound();
    const body = (req.body ?? {}) as Body;
    const search = searchOf(body);
    if (search) return renderForm(req, reply, def, { values: rawValues(def, body), search, raw: body });
    const r = await svc.createRow(ctx, req.user!.id, def, body, (await archivePlan(req)).settings);
    if (!r.ok) return renderForm(req, reply, def, { values: r.values, errors: r.errors, raw: body });
    // Sections with attachment slots continue on the edit page, where the files are uploaded.
    if (def.attachments.length) return reply.flashRedirect(`/me/sections/${def.key}/${r.id}/edit#attachments`, '已保存，请上传附件');
    const total = (await svc.countRows(ctx, req.user!.id))[def.key] ?? 1;
    return reply.flashRedirect(`/me/sections/${def.key}?page=${Math.ceil(total / PAGE_SIZE)}`, '已保存');
  });

  // ---- edit / update ----
  app.get('/me/sections/:key/:id/edit', opts, async (req, reply) => {
    const def = await defOf(req, reply);
    if (!def) return reply.callNotFound();
    const row = await svc.getRow(ctx, req.user!.id, def.key, Number((req.params as { id: string }).id));
    if (!row) return reply.callNotFound();
    return (await restoredForm(req, reply, def, row.id)) ?? renderForm(req, reply, def, { id: row.id, values: row.data });
  });

  app.post('/me/sections/:key/:id', { ...opts, config: { pendingForm: (p) => (sectionByKey(p.key!) && /^\d+$/.test(p.id!) ? `/me/sections/${p.key}/${p.id}/edit` : null) } }, async (req, reply) => {
    const def = await defOf(req, reply);
    if (!def) return reply.callNotFound();
    const id = Number((req.params as { id: string }).id);
    const body = (req.body ?? {}) as Body;
    if (!(await svc.getRow(ctx, req.user!.id, def.key, id))) return reply.callNotFound();
    const search = searchOf(body);
    if (search) return renderForm(req, reply, def, { id, values: rawValues(def, body), search, raw: body });
    const r = await svc.updateRow(ctx, req.user!.id, def, id, body, (await archivePlan(req)).settings);
    if (!r) return reply.callNotFound();
    if (!r.ok) return renderForm(req, reply, def, { id, values: r.values, errors: r.errors, raw: body });
    return reply.flashRedirect(`/me/sections/${def.key}`, '已保存');
  });

  // ---- delete (confirmation page, then POST) ----
  app.get('/me/sections/:key/:id/delete', opts, async (req, reply) => {
    const def = await defOf(req, reply);
    if (!def) return reply.callNotFound();
    const row = await svc.getRow(ctx, req.user!.id, def.key, Number((req.params as { id: string }).id));
    if (!row) return reply.callNotFound();
    return reply.page('components/confirm.njk', {
      title: `删除${def.title}`, message: '确定删除这条记录吗？记录的附件也会一并删除，删除后无法恢复。',
      detail: cells(def, row.data).filter(Boolean).slice(0, 3).join(' / '),
      action: `/me/sections/${def.key}/${row.id}/delete`, cancel: `/me/sections/${def.key}`, confirmLabel: '确认删除',
      breadcrumbs: crumbs(def, '删除'),
    });
  });

  app.post('/me/sections/:key/:id/delete', opts, async (req, reply) => {
    const def = await defOf(req, reply);
    if (!def) return reply.callNotFound();
    const id = Number((req.params as { id: string }).id);
    const ok = await svc.deleteRow(ctx, req.user!.id, def.key, id, (rowId) => cleanupRow(ctx, req.user!.id, rowId));
    if (!ok) return reply.callNotFound();
    return reply.flashRedirect(`/me/sections/${def.key}`, '已删除');
  });

  // ---- order: drag-sort (htmx) and 上移/下移 (plain form) post the same form ----
  app.post('/me/sections/:key/order', opts, async (req, reply) => {
    const def = await defOf(req, reply);
    if (!def) return reply.callNotFound();
    const body = (req.body ?? {}) as Body;
    const raw = body.order === undefined ? [] : Array.isArray(body.order) ? body.order : [body.order];
    const posted = raw.map(Number);
    let move: { id: number; dir: 'up' | 'down' } | undefined;
    const m = typeof body.move === 'string' ? /^(\d+):(up|down)$/.exec(body.move) : null;
    if (m) move = { id: Number(m[1]), dir: m[2] as 'up' | 'down' };
    if (posted.some((n) => !Number.isSafeInteger(n))) return reply.code(400).page('errors/error.njk', { title: '排序失败', message: '排序数据无效，请刷新页面后重试。' }, 400);
    const ok = await svc.reorder(ctx, req.user!.id, def.key, posted, move);
    if (!ok) return reply.code(409).page('errors/error.njk', { title: '排序失败', message: '列表已在其他页面发生变化，请刷新页面后重试。' }, 409);
    const page = Number(body.page) > 0 ? Number(body.page) : 1;
    return redirect(reply, `/me/sections/${def.key}?page=${page}`);
  });

  // ---- tree search for htmx type-ahead: the <option>s of a tree field ----
  app.get('/me/dicts/tree', opts, async (req, reply) => {
    const q = req.query as Record<string, string>;
    const dict = q.dict === 'major' || q.dict === 'specialty' ? q.dict : null;
    if (!dict) return reply.callNotFound();
    const field = String(q.field ?? '');
    const term = String(q[`${field}_q`] ?? q.q ?? '');
    const dicts = await ctx.dicts.ready();
    const found = dicts.searchTree(dict, term);
    return reply.page('sections/_tree_options.njk', { options: found.map((l) => ({ code: l, name: l })), q: term });
  });
}

/** The typed values as they came (for re-rendering a form after 搜索). */
function rawValues(def: SectionDef, body: Body): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of def.fields) {
    let v = body[f.key];
    if (Array.isArray(v)) v = v[v.length - 1];
    if (v === '__other__') v = body[`${f.key}_other`] ?? '';
    if (f.allowOngoing && body[`${f.key}_ongoing`]) v = '至今';
    out[f.key] = v;
  }
  return out;
}

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireStaff, refuseWithoutDuty, hasDuty } from '../../plugins/auth.js';
import type { Duty } from '../../domain/duties.js';
import { redirect } from '../../plugins/views.js';
import { makePage, pageParams } from '../../lib/paging.js';
import { ALL_SECTIONS as SECTIONS } from '../../domain/sections.js';
import { sectionFileRows } from '../../domain/sectionFiles.js';
import { PROFILE_FIELDS } from '../../domain/profile.js';
import { statusText, PLEDGE_TEXT, isPrintable, type Status } from '../../domain/declaration.js';
import { table17Of } from '../declaration/table17.js';
import { diffSnapshots } from '../../domain/diff.js';
import { ACTION_LABELS, type ReviewAction } from '../../domain/workflow.js';
import { reviewFormModel } from '../../print/reviewForm.js';
import { parseCover, parseRoute, timeline, ACTION_NAMES, type Snapshot } from '../declaration/service.js';
import { sendStoredFile } from '../files/send.js';
import { reviewFormInputs } from '../declaration/formInputs.js';
import { unitSealFile, sealIndex } from '../unitstage/formBox.js';
import { SUMMARY_COLUMNS } from '../stats/summary.js';
import { mayReveal } from '../security/reveal.js';
import { queuePage, queueCount, parseFilters, pageAt, cursorText, STATUS_FILTERS } from './queue.js';
import { act, visibleDeclaration, isTheirTurn, receivePaper, refusalOf, paperRefusal } from './service.js';
import * as batch from './batch.js';
import { audit } from '../audit/service.js';
import { supplementsOf } from '../supplements/service.js';

type Q = Record<string, string | undefined>;
const ACTIONS: ReviewAction[] = ['approve', 'return', 'reset', 'reject'];
const PAGE = 20;

/** The unit stage's panel, provided by the unit-stage feature when it is present. */
export type UnitPanelFn = (ctx: AppContext, user: NonNullable<import('fastify').FastifyRequest['user']>, d: any) => Promise<object | null>;

export default async function reviewRoutes(app: FastifyInstance, { ctx, unitPanel }: { ctx: AppContext; unitPanel?: UnitPanelFn }) {
  const opts = { preHandler: requireStaff };

  // ---- 申报审核: one screen for every stage organisation ----
  app.get('/org/reviews', opts, async (req, reply) => {
    const f = parseFilters(req.query);
    const { page, size, offset } = pageParams(req.query, PAGE);
    const n = await queueCount(ctx, req.user!, f);
    const rows = await queuePage(ctx, req.user!, f, size, pageAt(req.query, offset));
    const list = makePage(
      rows.map((r) => {
        const route = parseRoute(r);
        const stage = route[r.stage];
        // Batch: the rows the single 通过 / 纸质材料已收 would accept now get a checkbox.
        const canApprove = refusalOf(r, req.user!.orgId, 'approve', { maxReturns: 0 }) === null;
        const canPaper = !r.paper_received_at && paperRefusal(r, req.user!.orgId) === null;
        return {
          ...r, cover: parseCover(r), text: statusText(r.status as Status, r.status === 'reviewing' || r.status === 'returned' ? stage ?? null : null), mine: isTheirTurn(r, req.user!.orgId),
          canApprove, canPaper, selectable: canApprove || canPaper,
        };
      }),
      Number(n), page, size,
    );
    // 上一页 / 下一页 continue from this page's first and last rows (keyset: no offset to skip).
    const first = rows[0], last = rows[rows.length - 1];
    const cursor = first && last ? { prev: cursorText({ id: first.id, updatedAt: first.updated_at }), next: cursorText({ id: last.id, updatedAt: last.updated_at }) } : null;
    const plans = await ctx.db.selectFrom('plans').select(['id', 'name', 'year']).orderBy('year', 'desc').orderBy('id', 'desc').limit(100).execute();
    return reply.page('review/list.njk', {
      list: { ...list, cursor }, f, plans, statuses: STATUS_FILTERS, exportColumns: SUMMARY_COLUMNS, fullIdExport: mayReveal(req.user!), query: { year: f.year ? String(f.year) : '', plan: f.plan ? String(f.plan) : '', status: f.status ?? '', q: f.q ?? '' },
      batch: {
        shown: list.rows.filter((r) => r.selectable).map((r) => r.id),
        approve: list.rows.some((r) => r.canApprove),
        paper: list.rows.some((r) => r.canPaper),
        unit: req.user!.orgKind === 'unit' || req.user!.orgKind === 'agency',
      },
      title: '申报审核', breadcrumbs: [{ label: '申报审核' }],
    });
  });

  // ---- 批量通过 / 纸质材料已收 (batch.ts): tick → confirmation page → each one as a single action ----
  /** The queue page a batch came from: its filters and page number, from known fields only. */
  const filterFields = (b: Record<string, unknown>) => {
    const one = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
    const f = parseFilters({ year: one('year'), plan: one('plan'), status: one('status'), q: one('q') });
    const page = one('page') ?? '';
    return { year: f.year ? String(f.year) : '', plan: f.plan ? String(f.plan) : '', status: f.status ?? '', q: f.q ?? '', page: /^[1-9]\d{0,5}$/.test(page) ? page : '' };
  };
  const listUrl = (b: Record<string, unknown>) => {
    const qs = new URLSearchParams(Object.entries(filterFields(b)).filter(([k, v]) => v && !(k === 'page' && v === '1')));
    return `/org/reviews${qs.size ? `?${qs}` : ''}`;
  };
  const confirmPage = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply, op: batch.BatchOp, ids: number[], b: Record<string, unknown>, error?: string) => {
    const rows = await batch.preview(ctx, req.user!, op, ids);
    const label = batch.BATCH_OPS[op].label;
    // A POST's answer: under hx-boost the address bar keeps the list's URL (a reload shows the list).
    reply.header('HX-Push-Url', 'false');
    return reply.page('review/batch.njk', {
      op, ops: batch.BATCH_OPS, rows, ready: rows.filter((r) => !r.reason), refused: rows.filter((r) => r.reason),
      opinion: typeof b.opinion === 'string' ? b.opinion : '', errors: error ? { opinion: error } : {},
      filters: filterFields(b), back: listUrl(b),
      title: `${label}确认`, breadcrumbs: [{ label: '申报审核', href: listUrl(b) }, { label: `${label}确认` }],
    }, error ? 422 : 200);
  };

  // The confirmation page is a POST's answer; an address typed or bookmarked goes to the list.
  app.get('/org/reviews/batch', opts, async (_req, reply) => redirect(reply, '/org/reviews'));

  app.post('/org/reviews/batch', opts, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const op = batch.parseOp(b.op);
    if (!op) return reply.flashRedirect(listUrl(b), '请选择批量操作', 'error');
    if (await refuseWithoutDuty(req, reply, 'review')) return reply;
    const ticked = batch.parseIds(b.ids);
    // 全选本页 (no JS needed): every row of the page that had a checkbox, as the page listed them.
    const shown = ([] as unknown[]).concat(b.all).includes('1') ? batch.parseIds(b.shown).filter((id) => !ticked.includes(id)) : [];
    if (!ticked.length && !shown.length) return reply.flashRedirect(listUrl(b), '请勾选要办理的申报，或勾选“全选本页”', 'error');
    if (ticked.length + shown.length > batch.BATCH_MAX) return reply.flashRedirect(listUrl(b), `每次最多批量办理${batch.BATCH_MAX}份申报`, 'error');
    // Rows taken in by 全选本页 that this operation does not apply to (e.g. already passed on) are left out.
    const fromPage = shown.length ? (await batch.preview(ctx, req.user!, op, shown)).filter((r) => !r.reason).map((r) => r.id) : [];
    const ids = [...ticked, ...fromPage];
    if (!ids.length) return reply.flashRedirect(listUrl(b), `本页没有可以${batch.BATCH_OPS[op].verb}的申报`, 'error');
    return confirmPage(req, reply, op, ids, b);
  });

  app.post('/org/reviews/batch/confirm', opts, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const op = batch.parseOp(b.op);
    const items = batch.parseItems(b.items);
    if (!op || !items.length) return reply.flashRedirect(listUrl(b), '请勾选要办理的申报', 'error');
    if (await refuseWithoutDuty(req, reply, 'review')) return reply;
    if (items.length > batch.BATCH_MAX) return reply.flashRedirect(listUrl(b), `每次最多批量办理${batch.BATCH_MAX}份申报`, 'error');
    const opinion = op === 'approve' && typeof b.opinion === 'string' ? b.opinion.trim() : '';
    if ([...opinion].length > 1000) return confirmPage(req, reply, op, items.map((i) => i.id), b, '审核意见不能超过1000个字');
    const r = await batch.run(ctx, req.user!, op, items, opinion, req.ip);
    return reply.flashRedirect(listUrl(b), batch.summary(op, r), r.refused.length ? 'error' : 'ok');
  });

  async function loadDetail(req: import('fastify').FastifyRequest) {
    const id = Number((req.params as { id: string }).id);
    const d = await visibleDeclaration(ctx, req.user!, id);
    if (!d) return null;
    const versions = await ctx.db.selectFrom('declaration_versions').select(['id', 'no', 'snapshot', 'sha256', 'created_at']).where('declaration_id', '=', d.id).orderBy('no', 'desc').limit(2).execute();
    const cur = versions[0];
    const snapshot: Snapshot | null = cur ? JSON.parse(cur.snapshot) : null;
    return { d, cur, prev: versions[1], snapshot };
  }

  app.get('/org/reviews/:id', opts, async (req, reply) => {
    const x = await loadDetail(req);
    if (!x || !x.snapshot || !x.cur) return reply.callNotFound();
    const { d, cur, prev, snapshot } = x;
    const route = parseRoute(d);
    const stage = route[d.stage];
    const mine = isTheirTurn(d, req.user!.orgId);
    const atUnit = stage?.kind === 'unit' || stage?.kind === 'agency';
    const labels = Object.fromEntries(PROFILE_FIELDS.map((f) => [f.key, f.label]));
    const changes = prev ? diffSnapshots(JSON.parse(prev.snapshot), snapshot, labels) : null;
    const inputs = await reviewFormInputs(ctx, d, { sealUrl: `/org/reviews/${d.id}/seal` });
    const form = reviewFormModel(snapshot, { ...inputs, today: cur.created_at.slice(0, 10), preview: !isPrintable(d.status), pledge: PLEDGE_TEXT });
    const events = await timeline(ctx, d.id);
    // The sections ticked on the last return, shown to everyone on the route.
    const lastReturn = [...events].reverse().find((e) => e.action === 'return');
    const panel = mine && atUnit && unitPanel ? await unitPanel(ctx, req.user!, d) : null;
    return reply.page('review/detail.njk', {
      d, cover: parseCover(d), route, stage, mine, atUnit, snapshot, version: cur, changes, prevNo: prev?.no, form, events, actions: ACTION_NAMES,
      sectionFiles: sectionFileRows(snapshot.sections),
      text: statusText(d.status as Status, d.status === 'reviewing' || d.status === 'returned' ? stage ?? null : null),
      photoUrl: snapshot.photoFileId ? `/org/reviews/${d.id}/files/${snapshot.photoFileId}` : '',
      // 返回修改 offers the sections of this version (a series' own ones only for its plans).
      sections: SECTIONS.filter((x) => !x.series || snapshot.sections[x.key] !== undefined), actionLabels: ACTION_LABELS,
      // Only the actions this staff user's duties allow (本级人员授权); the POST checks again.
      available: ACTIONS.filter((a) => !(a === 'approve' && atUnit)).filter((a) => hasDuty(req.user, a === 'approve' ? 'review' : 'return')),
      lastSections: lastReturn?.data ? (JSON.parse(lastReturn.data).sections as string[]).map((k) => SECTIONS.find((s) => s.key === k)?.title) : [],
      // The committee office is the route's last stage; only it records paper copies and downloads materials.
      isCommittee: route[route.length - 1]?.orgId === req.user!.orgId,
      table17: isPrintable(d.status) ? await table17Of(ctx, d) : null,
      unitPanel: panel, supplements: await supplementsOf(ctx, d.id), loadFormCss: true, title: '审核申报', breadcrumbs: [{ label: '申报审核', href: '/org/reviews' }, { label: (await ctx.db.selectFrom('users').select('name').where('id', '=', d.user_id).executeTakeFirstOrThrow()).name }],
    });
  });

  app.post('/org/reviews/:id/act', opts, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const action = ACTIONS.find((a) => a === b.action);
    if (!action) return reply.flashRedirect(`/org/reviews/${id}`, '请选择审核结果', 'error');
    // 本级人员授权: 通过 is 资格审查经办; 返回修改, 重置流程 and 不予受理 are 退回审查.
    const duty: Duty = action === 'approve' ? 'review' : 'return';
    if (await refuseWithoutDuty(req, reply, duty)) return reply;
    const raw = b.sections === undefined ? [] : Array.isArray(b.sections) ? b.sections : [b.sections];
    const r = await act(ctx, req.user!, id, { action, opinion: typeof b.opinion === 'string' ? b.opinion : '', sections: raw.map(String), ip: req.ip });
    if (!r.ok) {
      if (r.status === 404) return reply.callNotFound();
      return reply.flashRedirect(`/org/reviews/${id}#act`, r.error, 'error');
    }
    const done = r.failedForYear ? '已办理：返回修改和重置流程次数已用完，该申报本年度申报失败' : `已办理：${ACTION_LABELS[action]}`;
    return reply.flashRedirect('/org/reviews?status=todo', done);
  });

  // 纸质材料已收: the committee office records the paper copy of an approved declaration.
  app.post('/org/reviews/:id/paper', opts, async (req, reply) => {
    if (await refuseWithoutDuty(req, reply, 'review')) return reply;
    const id = Number((req.params as { id: string }).id);
    const r = await receivePaper(ctx, req.user!, id, req.ip);
    if (!r.ok) return r.status === 404 ? reply.callNotFound() : reply.flashRedirect(`/org/reviews/${id}`, r.error, 'error');
    return reply.flashRedirect(`/org/reviews/${id}`, '已登记纸质材料');
  });

  // Files of a declaration's version, for the organisations on its route (scope first).
  app.get('/org/reviews/:id/files/:fileId', opts, async (req, reply) => {
    const x = await loadDetail(req);
    const fileId = Number((req.params as { fileId: string }).fileId);
    if (!x || !x.snapshot) return reply.callNotFound();
    const s = x.snapshot;
    // The version's files, and the 表十七 scan uploaded after it (the current one only).
    const t17 = isPrintable(x.d.status) ? await table17Of(ctx, x.d) : null;
    const inVersion = s.photoFileId === fileId || t17?.file?.fileId === fileId
      || s.attachments.some((a) => a.files.some((f) => f.fileId === fileId))
      || Object.values(s.sections).some((rows) => rows.some((r) => r.files.some((f) => f.fileId === fileId)));
    if (!inVersion) return reply.callNotFound();
    const file = await ctx.db.selectFrom('files').selectAll().where('id', '=', fileId).where('user_id', '=', x.d.user_id).executeTakeFirst();
    if (!file) return reply.callNotFound();
    await audit(ctx, req, { action: 'file_download', objectType: 'file', objectId: file.id, detail: `申报 ${x.d.id}` });
    return sendStoredFile(req, reply, ctx.blobs, { id: file.id, sha256: file.sha256, size: file.size, mime: file.mime, name: file.original_name }, (req.query as Q).download === '1');
  });

  // The unit's electronic seal on 表十二 (declarations in scope, once the unit verified them).
  app.get('/org/reviews/:id/seal', opts, async (req, reply) => {
    const d = await visibleDeclaration(ctx, req.user!, Number((req.params as { id: string }).id));
    const f = d ? await unitSealFile(ctx, d, sealIndex(req.query)) : null;
    if (!f) return reply.callNotFound();
    return sendStoredFile(req, reply, ctx.blobs, f);
  });

  // 追踪: the timeline of any declaration in scope.
  app.get('/org/reviews/:id/track', opts, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const d = await visibleDeclaration(ctx, req.user!, id);
    if (!d) return reply.callNotFound();
    const route = parseRoute(d);
    return reply.page('review/track.njk', {
      d, cover: parseCover(d), route, events: await timeline(ctx, d.id), actions: ACTION_NAMES,
      text: statusText(d.status as Status, route[d.stage] ?? null), title: '追踪', breadcrumbs: [{ label: '申报审核', href: '/org/reviews' }, { label: '追踪' }],
    });
  });
}

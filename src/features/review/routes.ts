import { evaluationForForm } from '../results/service.js';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireStaff } from '../../plugins/auth.js';
import { makePage, pageParams } from '../../lib/paging.js';
import { SECTIONS } from '../../domain/sections.js';
import { sectionFileRows } from '../../domain/sectionFiles.js';
import { PROFILE_FIELDS } from '../../domain/profile.js';
import { statusText, PLEDGE_TEXT, isPrintable, type Status } from '../../domain/declaration.js';
import { table17Of } from '../declaration/table17.js';
import { diffSnapshots } from '../../domain/diff.js';
import { ACTION_LABELS, type ReviewAction } from '../../domain/workflow.js';
import { reviewFormModel } from '../../print/reviewForm.js';
import { parseCover, parseRoute, timeline, ACTION_NAMES, type Snapshot } from '../declaration/service.js';
import { blobPath } from '../files/service.js';
import { sendStoredFile } from '../files/send.js';
import { queueQuery, queueCount, parseFilters, QUEUE_COLUMNS, STATUS_FILTERS } from './queue.js';
import { act, visibleDeclaration, isTheirTurn } from './service.js';
import { audit } from '../audit/service.js';
import { writeTx } from '../../db/index.js';

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
    const base = queueQuery(ctx, req.user!, f);
    const n = await queueCount(ctx, req.user!, f);
    // The page's ids first, then their wide columns (route, cover): sorting every row of a busy
    // committee with its JSON was the slow part of this page.
    const pageIds = base.select('d.id').orderBy('d.updated_at', 'desc').orderBy('d.id', 'desc').limit(size).offset(offset);
    const rows = await base.select([...QUEUE_COLUMNS]).where('d.id', 'in', pageIds).orderBy('d.updated_at', 'desc').orderBy('d.id', 'desc').execute();
    const list = makePage(
      rows.map((r) => {
        const route = parseRoute(r);
        const stage = route[r.stage];
        return { ...r, cover: parseCover(r), text: statusText(r.status as Status, r.status === 'reviewing' || r.status === 'returned' ? stage ?? null : null), mine: isTheirTurn(r, req.user!.orgId) };
      }),
      Number(n), page, size,
    );
    const plans = await ctx.db.selectFrom('plans').select(['id', 'name', 'year']).orderBy('year', 'desc').orderBy('id', 'desc').limit(100).execute();
    return reply.page('review/list.njk', {
      list, f, plans, statuses: STATUS_FILTERS, query: { year: f.year ? String(f.year) : '', plan: f.plan ? String(f.plan) : '', status: f.status ?? '', q: f.q ?? '' },
      title: '申报审核', breadcrumbs: [{ label: '申报审核' }],
    });
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
    const form = reviewFormModel(snapshot, { today: cur.created_at.slice(0, 10), preview: !isPrintable(d.status), pledge: PLEDGE_TEXT, evaluation: await evaluationForForm(ctx.db, d.id) });
    const events = await timeline(ctx, d.id);
    // The sections ticked on the last return, shown to everyone on the route.
    const lastReturn = [...events].reverse().find((e) => e.action === 'return');
    const panel = mine && atUnit && unitPanel ? await unitPanel(ctx, req.user!, d) : null;
    return reply.page('review/detail.njk', {
      d, cover: parseCover(d), route, stage, mine, atUnit, snapshot, version: cur, changes, prevNo: prev?.no, form, events, actions: ACTION_NAMES,
      sectionFiles: sectionFileRows(snapshot.sections),
      text: statusText(d.status as Status, d.status === 'reviewing' || d.status === 'returned' ? stage ?? null : null),
      photoUrl: snapshot.photoFileId ? `/org/reviews/${d.id}/files/${snapshot.photoFileId}` : '',
      sections: SECTIONS, actionLabels: ACTION_LABELS, available: ACTIONS.filter((a) => !(a === 'approve' && atUnit)),
      lastSections: lastReturn?.data ? (JSON.parse(lastReturn.data).sections as string[]).map((k) => SECTIONS.find((s) => s.key === k)?.title) : [],
      // The committee office is the route's last stage; only it records paper copies and downloads materials.
      isCommittee: route[route.length - 1]?.orgId === req.user!.orgId,
      table17: isPrintable(d.status) ? await table17Of(ctx, d) : null,
      unitPanel: panel, loadFormCss: true, title: '审核申报', breadcrumbs: [{ label: '申报审核', href: '/org/reviews' }, { label: (await ctx.db.selectFrom('users').select('name').where('id', '=', d.user_id).executeTakeFirstOrThrow()).name }],
    });
  });

  app.post('/org/reviews/:id/act', opts, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const action = ACTIONS.find((a) => a === b.action);
    if (!action) return reply.flashRedirect(`/org/reviews/${id}`, '请选择审核结果', 'error');
    const d = await visibleDeclaration(ctx, req.user!, id);
    if (!d) return reply.callNotFound();
    const stage = parseRoute(d)[d.stage];
    if (action === 'approve' && (stage?.kind === 'unit' || stage?.kind === 'agency')) {
      return reply.flashRedirect(`/org/reviews/${id}`, '单位审核请完成基层单位意见、核验和公示后，通过【推荐上报】提交至下一环节', 'error');
    }
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
    const id = Number((req.params as { id: string }).id);
    const d = await visibleDeclaration(ctx, req.user!, id);
    if (!d) return reply.callNotFound();
    const route = parseRoute(d);
    if (d.status !== 'approved' || route[route.length - 1]?.orgId !== req.user!.orgId) {
      return reply.flashRedirect(`/org/reviews/${id}`, '只有评委会办公室可以在电子材料审核通过后登记纸质材料', 'error');
    }
    if (!d.paper_received_at) {
      const stamp = ctx.config.now().toISOString();
      await writeTx(ctx.db, async (trx) => {
        // Re-checked under the write lock: two clicks record the paper copy once.
        const r = await trx.updateTable('declarations').set({ paper_received_at: stamp, updated_at: stamp }).where('id', '=', d.id).where('paper_received_at', 'is', null).executeTakeFirst();
        if (!Number(r.numUpdatedRows)) return;
        await trx.insertInto('workflow_events').values({ declaration_id: d.id, actor_user_id: req.user!.id, org_id: req.user!.orgId, stage: d.stage, action: 'paper', from_status: d.status, to_status: d.status, created_at: stamp }).execute();
        await audit(ctx, req, { action: 'paper_received', objectType: 'declaration', objectId: d.id, detail: `登记纸质材料（环节${d.stage}）` }, trx);
      });
    }
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
    return sendStoredFile(req, reply, { id: file.id, path: blobPath(ctx, file.sha256), size: file.size, mime: file.mime, name: file.original_name }, (req.query as Q).download === '1');
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

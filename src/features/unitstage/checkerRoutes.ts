import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireStaff } from '../../plugins/auth.js';
import { CHECKER_EXAMPLES, CHECKER_SCOPES, VERDICTS, SIGNOFF_MAX } from '../../domain/checkers.js';
import { isOrgAdmin } from '../orgtree/service.js';
import { parseCover } from '../declaration/service.js';
import { safeBack } from '../files/routes.js';
import { addChecker, checkPage, checkQueue, listCheckers, ownChecker, removeChecker, signOff, unitStaff } from './checkers.js';
import type { Refusal, Staff } from './service.js';

const UNIT_KINDS = new Set(['unit', 'agency']);
const crumbs = (...items: { label: string; href?: string }[]) => [{ label: '首页', href: '/org' }, ...items];
const num = (raw: string | undefined) => (raw && /^\d{1,12}$/.test(raw) ? Number(raw) : -1);

/** Staff of an employer (or an HR agency/association). */
async function unitStaffOnly(req: FastifyRequest, reply: FastifyReply) {
  await requireStaff(req, reply);
  if (reply.sent) return reply;
  if (!UNIT_KINDS.has(req.user!.orgKind ?? '')) return reply.code(403).page('errors/error.njk', { title: '无权访问', message: '职能部门审核由用人单位（或人事代理机构、行业协会）设置和办理。' }, 403);
}

/** The unit's admin (单位管理员). */
async function unitAdmin(req: FastifyRequest, reply: FastifyReply) {
  await unitStaffOnly(req, reply);
  if (reply.sent) return reply;
  if (!isOrgAdmin(req.user)) return reply.code(403).page('errors/error.njk', { title: '无权访问', message: '职能部门审核由单位管理员设置。' }, 403);
}

/**
 * 职能部门审核 (seed 004 客户端): /org/checkers — the unit admin defines the checkers;
 * /org/checks — each checker's queue and sign-off (同意/不同意 + opinion).
 */
export default async function checkerRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const staffOf = (req: FastifyRequest): Staff => req.user!;
  const refuse = (reply: FastifyReply, r: Refusal) =>
    r.status === 404 ? reply.callNotFound() : reply.page('errors/error.njk', { title: '不能办理', message: r.error }, r.status);

  const listPage = async (req: FastifyRequest, reply: FastifyReply, values: Record<string, string> = { applies_to: 'all' }, errors: Record<string, string> = {}) =>
    reply.page('unitstage/checkers.njk', {
      title: '职能部门审核设置', checkers: await listCheckers(ctx.db, req.user!.orgId!), staff: await unitStaff(ctx.db, req.user!.orgId!),
      scopes: CHECKER_SCOPES, examples: CHECKER_EXAMPLES, values, errors, breadcrumbs: crumbs({ label: '职能部门审核设置' }),
    }, Object.keys(errors).length ? 422 : 200);

  app.get('/org/checkers', { preHandler: unitAdmin }, async (req, reply) => listPage(req, reply));

  app.post('/org/checkers', { preHandler: unitAdmin }, async (req, reply) => {
    const r = await addChecker(ctx, staffOf(req), (req.body ?? {}) as Record<string, unknown>, req.ip);
    if (!r.ok) return listPage(req, reply, r.values, r.errors as Record<string, string>);
    return reply.flashRedirect('/org/checkers', '职能部门审核已新增');
  });

  app.get('/org/checkers/:cid/remove', { preHandler: unitAdmin }, async (req, reply) => {
    const c = await ownChecker(ctx.db, staffOf(req), num((req.params as { cid: string }).cid));
    if (!c) return reply.callNotFound();
    return reply.page('components/confirm.njk', {
      title: '删除职能部门审核', message: `确定删除“${c.name}”吗？删除后新的申报不再需要该部门审核，已签署的审核意见保留。`,
      action: `/org/checkers/${c.id}/remove`, cancel: '/org/checkers', confirmLabel: '删除', breadcrumbs: crumbs({ label: '职能部门审核设置', href: '/org/checkers' }, { label: '删除' }),
    });
  });

  app.post('/org/checkers/:cid/remove', { preHandler: unitAdmin }, async (req, reply) => {
    const ok = await removeChecker(ctx, staffOf(req), num((req.params as { cid: string }).cid), req.ip);
    if (!ok) return reply.callNotFound();
    return reply.flashRedirect('/org/checkers', '职能部门审核已删除');
  });

  app.get('/org/checks', { preHandler: unitStaffOnly }, async (req, reply) =>
    reply.page('unitstage/checks.njk', { title: '职能部门审核', rows: await checkQueue(ctx, staffOf(req)), breadcrumbs: crumbs({ label: '职能部门审核' }) }));

  const checkView = async (req: FastifyRequest, reply: FastifyReply, id: number, form: { checkerId?: number; values?: Record<string, string>; errors?: Record<string, string> } = {}) => {
    const p = await checkPage(ctx, staffOf(req), id);
    if (!p.ok) return refuse(reply, p);
    const applicant = await ctx.db.selectFrom('users').select('name').where('id', '=', p.g.d.user_id).executeTakeFirstOrThrow();
    return reply.page('unitstage/check.njk', {
      title: '职能部门审核', d: p.g.d, cover: parseCover(p.g.d), applicant, rows: p.rows, open: p.open, verdicts: VERDICTS, max: SIGNOFF_MAX,
      form: { checkerId: form.checkerId ?? null, values: form.values ?? {}, errors: form.errors ?? {} },
      breadcrumbs: crumbs({ label: '职能部门审核', href: '/org/checks' }, { label: applicant.name }),
    }, form.errors && Object.keys(form.errors).length ? 422 : 200);
  };

  app.get('/org/checks/:id', { preHandler: unitStaffOnly }, async (req, reply) => checkView(req, reply, num((req.params as { id: string }).id)));

  app.post('/org/checks/:id/:cid', { preHandler: unitStaffOnly }, async (req, reply) => {
    const params = req.params as { id: string; cid: string };
    const id = num(params.id);
    const cid = num(params.cid);
    const r = await signOff(ctx, staffOf(req), id, cid, (req.body ?? {}) as Record<string, unknown>, req.ip);
    if (r.ok) return reply.flashRedirect(safeBack(((req.body ?? {}) as Record<string, unknown>).back, `/org/checks/${id}`), '审核意见已保存');
    if (!('errors' in r)) return refuse(reply, r);
    return checkView(req, reply, id, { checkerId: cid, values: r.values, errors: r.errors as Record<string, string> });
  });
}

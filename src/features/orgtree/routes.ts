import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireStaff } from '../../plugins/auth.js';
import { makePage, pageParams } from '../../lib/paging.js';
import type { FieldErrors } from '../../lib/forms.js';
import { removalError, subtreeIds } from '../../domain/orgtree.js';
import { regionOptions, ORG_KIND_LABEL } from '../admin/orgs.js';
import { oneTime } from '../units/people.js';
import * as tree from './service.js';
import * as staff from './staff.js';

type Body = Record<string, string | undefined>;

const forbidden = (reply: FastifyReply, message = '只有本机构管理员可以管理下级机构和本级人员。') =>
  reply.code(403).page('errors/error.njk', { title: '无权访问', message }, 403);

/** An organisation's admin (机构管理员 / 单位管理员 / the platform's 系统管理员). */
async function orgAdmin(req: FastifyRequest, reply: FastifyReply) {
  await requireStaff(req, reply);
  if (reply.sent) return reply;
  if (!tree.isOrgAdmin(req.user)) return forbidden(reply);
}

const crumbs = (...items: { label: string; href?: string }[]) => [{ label: '首页', href: '/org' }, ...items];
const keep = (b: Body): Body => ({ ...b, _csrf: undefined });

/** 组织机构管理 and 本级人员授权 (issue #15). */
export default async function orgTreeRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const ownOrg = async (req: FastifyRequest) => ctx.db.selectFrom('orgs').select(['id', 'name', 'kind', 'hrb_level']).where('id', '=', req.user!.orgId!).executeTakeFirstOrThrow();

  // ---- 组织机构管理: the caller's subtree ----
  app.get('/org/tree', { preHandler: orgAdmin }, async (req, reply) => {
    const me = await ownOrg(req);
    const rows = await tree.subtreeRows(ctx.db, me.id);
    const { page, size, offset } = pageParams(req.query, 30);
    return reply.page('orgtree/list.njk', {
      title: '组织机构管理', me, choices: tree.childChoices(me), list: makePage(rows.slice(offset, offset + size), rows.length, page, size),
      breadcrumbs: crumbs({ label: '组织机构管理' }),
    });
  });

  const newPage = async (req: FastifyRequest, reply: FastifyReply, values: Body, errors: FieldErrors = {}) => {
    const me = await ownOrg(req);
    return reply.page('orgtree/new.njk', {
      title: '创建下级机构', me, choices: tree.childChoices(me), regions: await regionOptions(ctx.db), values: { kind: '', region_code: '', ...values }, errors,
      breadcrumbs: crumbs({ label: '组织机构管理', href: '/org/tree' }, { label: '创建下级机构' }),
    }, Object.keys(errors).length ? 422 : 200);
  };

  app.get('/org/tree/new', { preHandler: orgAdmin }, async (req, reply) => {
    const me = await ownOrg(req);
    if (!tree.childChoices(me).length) return forbidden(reply, `${ORG_KIND_LABEL[me.kind] ?? ''}不能创建下级机构。`);
    return newPage(req, reply, { kind: String((req.query as Body).kind ?? '') });
  });

  app.post('/org/tree/new', { preHandler: orgAdmin }, async (req, reply) => {
    const me = await ownOrg(req);
    const b = (req.body ?? {}) as Body;
    const r = await tree.createChild(ctx, req, me, b);
    if (!r.ok) return newPage(req, reply, keep(b), r.errors);
    return reply.flashRedirect(`/org/tree/${r.id}`, `下级机构“${r.name}”已创建，管理员账号 ${r.username}，${oneTime(r.password)}`);
  });

  const child = async (req: FastifyRequest, reply: FastifyReply) => {
    const org = await tree.inSubtree(ctx.db, req.user!.orgId!, (req.params as { id: string }).id);
    if (!org) await reply.callNotFound();
    return org;
  };

  const editPage = async (req: FastifyRequest, reply: FastifyReply, org: NonNullable<Awaited<ReturnType<typeof tree.inSubtree>>>, values: object, errors: FieldErrors = {}) => {
    const me = await ownOrg(req);
    // Possible parents: the caller's org and its subtree, minus this org and everything under it.
    const map = await tree.parentMap(ctx.db);
    const below = new Set(subtreeIds(map, org.id));
    const parents = [{ id: me.id, name: me.name }, ...(await tree.subtreeRows(ctx.db, me.id)).filter((r) => !below.has(r.id)).map((r) => ({ id: r.id, name: `${'　'.repeat(r.depth)}${r.name}` }))];
    return reply.page('orgtree/edit.njk', {
      title: `编辑机构：${org.name}`, org, kindLabel: ORG_KIND_LABEL[org.kind] ?? org.kind, values: { region_code: '', ...values, parent_org_id: String((values as Body).parent_org_id ?? org.parent_org_id ?? me.id) }, errors,
      parents: parents.map((p) => ({ code: String(p.id), name: p.name })), regions: await regionOptions(ctx.db, { keep: [org.region_code] }),
      renames: await tree.renames(ctx.db, org.id), staff: await tree.childStaff(ctx.db, org.id), contents: await tree.contents(ctx.db, org.id),
      breadcrumbs: crumbs({ label: '组织机构管理', href: '/org/tree' }, { label: org.name }),
    }, Object.keys(errors).length ? 422 : 200);
  };

  app.get('/org/tree/:id', { preHandler: orgAdmin }, async (req, reply) => {
    const org = await child(req, reply);
    if (!org) return reply;
    return editPage(req, reply, org, { ...org, uscc: org.uscc ?? '', phone: org.phone ?? '', contact: org.contact ?? '', address: org.address ?? '', region_code: org.region_code ?? '' });
  });

  app.post('/org/tree/:id', { preHandler: orgAdmin }, async (req, reply) => {
    const org = await child(req, reply);
    if (!org) return reply;
    const b = (req.body ?? {}) as Body;
    const r = await tree.updateChild(ctx, req, req.user!.orgId!, org, b);
    if (!r.ok) return editPage(req, reply, org, keep(b), r.errors);
    return reply.flashRedirect(`/org/tree/${org.id}`, '机构信息已保存');
  });

  // 注销 a child: a confirmation page first, saying why it cannot be done when it cannot.
  app.get('/org/tree/:id/remove', { preHandler: orgAdmin }, async (req, reply) => {
    const org = await child(req, reply);
    if (!org) return reply;
    return reply.page('orgtree/remove.njk', {
      title: '注销下级机构', org, reason: removalError(await tree.contents(ctx.db, org.id)),
      breadcrumbs: crumbs({ label: '组织机构管理', href: '/org/tree' }, { label: org.name, href: `/org/tree/${org.id}` }, { label: '注销' }),
    });
  });

  app.post('/org/tree/:id/remove', { preHandler: orgAdmin }, async (req, reply) => {
    const org = await child(req, reply);
    if (!org) return reply;
    const why = await tree.removeChild(ctx, req, org);
    if (why) return reply.code(409).page('orgtree/remove.njk', { title: '注销下级机构', org, reason: why, breadcrumbs: crumbs({ label: '组织机构管理', href: '/org/tree' }, { label: org.name }) }, 409);
    return reply.flashRedirect('/org/tree', `机构“${org.name}”已注销`);
  });

  // 注销下级机构管理员 (seed 004): the child's accounts, so an empty child can then be removed.
  app.post('/org/tree/:id/staff/:uid/disable', { preHandler: orgAdmin }, async (req, reply) => {
    const org = await child(req, reply);
    if (!org) return reply;
    const ok = await tree.disableChildStaff(ctx, req, org.id, Number((req.params as { uid: string }).uid));
    if (!ok) return reply.callNotFound();
    return reply.flashRedirect(`/org/tree/${org.id}`, '该工作人员账号已注销');
  });

  // ---- 本级人员授权 ----
  const staffPage = async (req: FastifyRequest, reply: FastifyReply, values: Record<string, unknown> = {}, errors: FieldErrors = {}) => {
    const me = await ownOrg(req);
    const ticked = values.duties === undefined ? [] : ([] as unknown[]).concat(values.duties).map(String);
    return reply.page('orgtree/staff.njk', {
      title: '本级人员授权', me, rows: await staff.listStaff(ctx.db, me), choices: staff.dutyChoices(me.kind), values, ticked, errors,
      breadcrumbs: crumbs({ label: '本级人员授权' }),
    }, Object.keys(errors).length ? 422 : 200);
  };

  app.get('/org/staff', { preHandler: orgAdmin }, async (req, reply) => staffPage(req, reply));

  app.post('/org/staff', { preHandler: orgAdmin }, async (req, reply) => {
    const me = await ownOrg(req);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const r = await staff.addStaff(ctx, req, me, b);
    if (!r.ok) return staffPage(req, reply, { ...b, _csrf: undefined }, r.errors);
    return reply.flashRedirect(`/org/staff/${r.id}`, `工作人员账号已创建，${oneTime(r.password)}`);
  });

  // One staff account's permissions: its admin sees and edits them; the person sees their own.
  app.get('/org/staff/:id', { preHandler: requireStaff }, async (req, reply) => {
    const u = req.user!;
    const raw = (req.params as { id: string }).id;
    if (!tree.isOrgAdmin(u) && Number(raw) !== u.id) return forbidden(reply, '只能查看本人的权限；其他人员的权限由本机构管理员查看。');
    if (!u.orgId) return reply.callNotFound();
    const me = await ownOrg(req);
    const s = await staff.staffMember(ctx.db, me, raw);
    if (!s) return reply.callNotFound();
    return reply.page('orgtree/member.njk', {
      title: `人员权限：${s.name}`, me, s, dutyNames: staff.dutyNames(s.duties), choices: staff.dutyChoices(me.kind), canEdit: tree.isOrgAdmin(u) && s.id !== u.id,
      breadcrumbs: crumbs(...(tree.isOrgAdmin(u) ? [{ label: '本级人员授权', href: '/org/staff' }] : []), { label: s.name }),
    });
  });

  app.post('/org/staff/:id/duties', { preHandler: orgAdmin }, async (req, reply) => {
    const me = await ownOrg(req);
    const s = await staff.staffMember(ctx.db, me, (req.params as { id: string }).id);
    if (!s) return reply.callNotFound();
    if (s.id === req.user!.id) return reply.flashRedirect(`/org/staff/${s.id}`, '不能修改自己的权限', 'error');
    const duties = await staff.setDuties(ctx, req, me, s.id, (req.body as Record<string, unknown> | undefined)?.duties);
    return reply.flashRedirect(`/org/staff/${s.id}`, `权限已保存：${staff.dutyNames(duties) || '无'}`);
  });
}

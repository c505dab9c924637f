import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { refuseWithoutDuty, requireStaff } from '../../plugins/auth.js';
import { POST_LEVELS } from '../../domain/posts.js';
import { forbidden, unitStaff } from '../units/guards.js';
import {
  addAppointment, appointmentOf, endAppointment, listAppointments, postStats, readAppointment, saveQuotas, unitPeople, unitPosts,
  type AppointmentValues,
} from './service.js';

type Body = Record<string, unknown>;
const crumbs = (label?: string) => [{ label: '首页', href: '/org' }, { label: '岗位设置与聘任', href: label ? '/org/posts' : undefined }, ...(label ? [{ label }] : [])];

/** The unit's staff holding 人员与聘任管理. */
async function postManager(req: FastifyRequest, reply: FastifyReply) {
  await unitStaff(req, reply);
  if (reply.sent) return reply;
  if (await refuseWithoutDuty(req, reply, 'people')) return reply;
}

/** 岗位统计: a unit sees itself, a supervisor its units, an HR bureau its region's; all need 统计查询. */
async function statsViewer(req: FastifyRequest, reply: FastifyReply) {
  await requireStaff(req, reply);
  if (reply.sent) return reply;
  if (!['unit', 'agency', 'supervisor', 'hrb'].includes(req.user!.orgKind ?? '')) return forbidden(reply);
  if (await refuseWithoutDuty(req, reply, 'stats')) return reply;
}

/** 岗位设置与聘任 (seed 004 聘任管理、结构比例管理). */
export default async function postRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const orgOf = (req: FastifyRequest) => req.user!.orgId!;

  const mainPage = async (req: FastifyRequest, reply: FastifyReply, values?: Record<string, string>, errors: Record<string, string> = {}) => {
    const posts = await unitPosts(ctx, orgOf(req));
    const all = (req.query as Record<string, string | undefined>).all === '1';
    const formValues = values ?? Object.fromEntries(posts.map((p) => [`quota_${p.level}`, p.quota === null ? '' : String(p.quota)]));
    return reply.page('posts/index.njk', {
      title: '岗位设置与聘任', breadcrumbs: crumbs(), posts, values: formValues, errors, all,
      appointments: await listAppointments(ctx, orgOf(req), all),
    }, Object.keys(errors).length ? 422 : 200);
  };

  app.get('/org/posts', { preHandler: postManager }, async (req, reply) => mainPage(req, reply));

  app.post('/org/posts/quotas', { preHandler: postManager }, async (req, reply) => {
    const r = await saveQuotas(ctx, req.user!, orgOf(req), (req.body ?? {}) as Body, req.ip);
    if (!r.ok) return mainPage(req, reply, r.values, r.errors);
    return reply.flashRedirect('/org/posts', '岗位数已保存');
  });

  const newPage = async (req: FastifyRequest, reply: FastifyReply, values: Partial<AppointmentValues>, errors: Record<string, string> = {}) =>
    reply.page('posts/appointment-new.njk', {
      title: '新增聘任', breadcrumbs: crumbs('新增聘任'), values, errors, levels: POST_LEVELS, posts: await unitPosts(ctx, orgOf(req)),
      people: (await unitPeople(ctx, orgOf(req))).map((p) => ({ code: String(p.id), name: `${p.name}（${p.id_masked ?? ''}）` })),
    }, Object.keys(errors).length ? 422 : 200);

  app.get('/org/posts/appointments/new', { preHandler: postManager }, async (req, reply) => newPage(req, reply, {}));

  app.post('/org/posts/appointments', { preHandler: postManager }, async (req, reply) => {
    const v = readAppointment((req.body ?? {}) as Body);
    const r = await addAppointment(ctx, req.user!, orgOf(req), v, req.ip);
    if (!r.ok) return newPage(req, reply, v, r.errors);
    return reply.flashRedirect('/org/posts', `已聘任“${r.name}”`);
  });

  const idOf = (req: FastifyRequest) => { const raw = (req.params as { id: string }).id; return /^\d{1,12}$/.test(raw) ? Number(raw) : -1; };

  app.get('/org/posts/appointments/:id/end', { preHandler: postManager }, async (req, reply) => {
    const a = await appointmentOf(ctx, orgOf(req), idOf(req));
    if (!a) return reply.callNotFound();
    return reply.page('components/confirm.njk', {
      title: '解聘', message: `确定解聘“${a.name}”的${a.levelName}岗位（${a.start_date}起）吗？解聘后该岗位即为空岗，聘任记录保留。`,
      action: `/org/posts/appointments/${a.id}/end`, cancel: '/org/posts', confirmLabel: '确认解聘',
    });
  });

  app.post('/org/posts/appointments/:id/end', { preHandler: postManager }, async (req, reply) => {
    const r = await endAppointment(ctx, req.user!, orgOf(req), idOf(req), req.ip);
    if (r === null) return reply.callNotFound();
    if (r) return reply.flashRedirect('/org/posts', r, 'error');
    return reply.flashRedirect('/org/posts', '已解聘');
  });

  app.get('/org/posts/stats', { preHandler: statsViewer }, async (req, reply) => {
    const { rows, totals, bySupervisor } = await postStats(ctx, req.user!);
    return reply.page('posts/stats.njk', {
      title: '岗位统计', breadcrumbs: [{ label: '首页', href: '/org' }, { label: '岗位统计' }], rows, totals, bySupervisor, levels: POST_LEVELS,
      supervisor: req.user!.orgKind === 'supervisor' || req.user!.orgKind === 'hrb', hrb: req.user!.orgKind === 'hrb',
    });
  });
}

/** The preHandlers and breadcrumbs shared by the unit and supervisor screens. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireStaff } from '../../plugins/auth.js';
import { UNIT_ADMIN } from './service.js';

export const forbidden = (reply: FastifyReply) => reply.code(403).page('errors/error.njk', { title: '无权访问', message: '您没有访问该页面的权限。' }, 403);

/** Staff of a 用人单位 or 人事代理机构/行业协会. */
export async function unitStaff(req: FastifyRequest, reply: FastifyReply) {
  await requireStaff(req, reply);
  if (reply.sent) return reply;
  const u = req.user!;
  if (!u.orgId || (u.orgKind !== 'unit' && u.orgKind !== 'agency')) return forbidden(reply);
}

/** The unit's administrators (单位管理员): they manage the staff accounts. */
export async function unitAdmin(req: FastifyRequest, reply: FastifyReply) {
  await unitStaff(req, reply);
  if (reply.sent) return reply;
  if (!req.user!.roles.includes(UNIT_ADMIN)) return forbidden(reply);
}

/** Staff of a 主管部门. */
export async function supervisorStaff(req: FastifyRequest, reply: FastifyReply) {
  await requireStaff(req, reply);
  if (reply.sent) return reply;
  const u = req.user!;
  if (!u.orgId || u.orgKind !== 'supervisor') return forbidden(reply);
}

export const crumbs = (label: string, parent?: { label: string; href: string }) => [{ label: '首页', href: '/org' }, ...(parent ? [parent] : []), { label }];

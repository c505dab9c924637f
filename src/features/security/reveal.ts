import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { hasPlatformRole, homeOf, requireStaff, type CurrentUser } from '../../plugins/auth.js';
import { scoped } from '../review/scope.js';
import { safeNext } from '../auth/routes.js';
import { audit } from '../audit/service.js';

export const REVEAL_PERMISSION = 'reveal_pii';
const FIELDS = { id: { column: 'id_enc', label: '身份证号' }, phone: { column: 'phone_enc', label: '手机号' } } as const;
type Field = keyof typeof FIELDS;

/**
 * Whether a staff user holds “查看完整身份证号、手机号” (reveal_pii): the 显示完整 button, and the
 * full 身份证号 column of the 汇总表. Never the security or audit admin (they see no personal data).
 */
export function mayReveal(viewer: CurrentUser): boolean {
  return viewer.kind === 'staff' && viewer.permissions.includes(REVEAL_PERMISSION) && !hasPlatformRole(viewer, 'security') && !hasPlatformRole(viewer, 'audit');
}

/**
 * Whether a staff user may see this person at all, by the same scoping as the pages that list
 * them: the system admin's 用户管理 (everyone), a unit's 专业技术人员 (its applicants), and
 * 申报审核 (people whose declaration has reached the viewer's organisation). The security and
 * audit admins see no personal data.
 */
export async function maySeePerson(ctx: AppContext, viewer: CurrentUser, personId: number): Promise<boolean> {
  if (viewer.kind !== 'staff') return false;
  if (hasPlatformRole(viewer, 'security') || hasPlatformRole(viewer, 'audit')) return false;
  if (hasPlatformRole(viewer, 'admin')) return true;
  if (!viewer.orgId) return false;
  if (viewer.orgKind === 'unit' || viewer.orgKind === 'agency') {
    const own = await ctx.db.selectFrom('users').select('id').where('id', '=', personId).where('kind', '=', 'applicant').where('unit_org_id', '=', viewer.orgId).executeTakeFirst();
    if (own) return true;
  }
  return !!(await scoped(ctx.db, viewer).select('d.id').where('d.user_id', '=', personId).limit(1).executeTakeFirst());
}

/**
 * 显示完整: one person's full 身份证号 or 手机号, for staff holding the 'reveal_pii' permission.
 * htmx swaps the masked span for the value; without JS a small no-store page shows it. Every
 * attempt is audited with the person and the field, never the value.
 */
export default async function revealRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const refuse = (req: FastifyRequest, reply: FastifyReply, status: 403 | 404, text: string) => {
    if (req.isFragment) return reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(`<span class="pii bad">${text}</span>`);
    return reply.page('errors/error.njk', { title: status === 403 ? '无权访问' : '页面不存在', message: text }, status);
  };

  app.post('/reveal/:id/:field', { preHandler: requireStaff }, async (req, reply) => {
    const { id: rawId, field: rawField } = req.params as { id: string; field: string };
    const personId = Number(rawId);
    if (!Object.hasOwn(FIELDS, rawField) || !Number.isSafeInteger(personId) || personId < 1) return reply.callNotFound();
    const field = rawField as Field;
    const { label } = FIELDS[field];
    const viewer = req.user!;
    const fail = (detail: string) => audit(ctx, req, { action: 'pii_reveal', objectType: 'user', objectId: personId, result: 'fail', detail: `${label}：${detail}` });
    if (!mayReveal(viewer)) {
      await fail('无查看权限');
      return refuse(req, reply, 403, '您没有查看完整信息的权限。');
    }
    if (!(await maySeePerson(ctx, viewer, personId))) {
      await fail('不在查看范围内');
      return refuse(req, reply, 404, '该人员不存在，或不在您的查看范围内。');
    }
    const person = await ctx.db.selectFrom('users').select(['name', 'id_enc', 'phone_enc']).where('id', '=', personId).executeTakeFirst();
    const enc = person?.[FIELDS[field].column];
    if (!person || !enc) return refuse(req, reply, 404, `未登记${label}。`);
    const value = ctx.secrets.decrypt(enc);
    await audit(ctx, req, { action: 'pii_reveal', objectType: 'user', objectId: personId, detail: `查看完整${label}` });
    if (req.isFragment) {
      // The value only: no layout, never cached, and not kept in htmx's history either.
      return reply.header('Cache-Control', 'no-store').type('text/html; charset=utf-8')
        .view('security/reveal-value.njk', { value, label });
    }
    const back = safeNext((req.body as Record<string, unknown> | undefined)?.back) ?? homeOf(viewer);
    return reply.page('security/reveal.njk', { name: person.name, label, value, back, title: `查看完整${label}` });
  });
}

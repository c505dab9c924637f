import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireApplicant, requireStaff } from '../../plugins/auth.js';
import { pageParams, makePage } from '../../lib/paging.js';
import { redirect } from '../../plugins/views.js';

export async function unreadCount(ctx: AppContext, userId: number): Promise<number> {
  const r = await ctx.db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** 消息中心 (seed 001 §5): the same pages under /me for applicants and /org for staff. */
export default async function messageRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  for (const [base, guard] of [['/me/messages', requireApplicant], ['/org/messages', requireStaff]] as const) {
    app.get(base, { preHandler: guard }, async (req, reply) => {
      const { page, size, offset } = pageParams(req.query);
      const uid = req.user!.id;
      const [{ n }] = await ctx.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', uid).execute();
      const rows = await ctx.db.selectFrom('messages').selectAll().where('user_id', '=', uid).orderBy('id', 'desc').limit(size).offset(offset).execute();
      return reply.page('messages/list.njk', { base, list: makePage(rows, Number(n), page, size), breadcrumbs: [{ label: '消息中心' }] });
    });

    // Scoped to the caller: someone else's message id is simply not found.
    app.get(`${base}/:id`, { preHandler: guard }, async (req, reply) => {
      const id = Number((req.params as { id: string }).id);
      const msg = Number.isInteger(id)
        ? await ctx.db.selectFrom('messages').selectAll().where('id', '=', id).where('user_id', '=', req.user!.id).executeTakeFirst()
        : undefined;
      if (!msg) return reply.callNotFound();
      if (!msg.read_at) {
        await ctx.db.updateTable('messages').set({ read_at: ctx.config.now().toISOString() }).where('id', '=', msg.id).execute();
      }
      return reply.page('messages/detail.njk', { base, msg, breadcrumbs: [{ label: '消息中心', href: base }, { label: '消息详情' }] });
    });

    // Destructive actions get a confirmation page (works without JS; htmx just loads it faster).
    app.get(`${base}/:id/delete`, { preHandler: guard }, async (req, reply) => {
      const id = Number((req.params as { id: string }).id);
      const msg = Number.isInteger(id)
        ? await ctx.db.selectFrom('messages').select(['id', 'content']).where('id', '=', id).where('user_id', '=', req.user!.id).executeTakeFirst()
        : undefined;
      if (!msg) return reply.callNotFound();
      return reply.page('components/confirm.njk', {
        title: '删除消息', message: `确定删除这条消息吗？删除后无法恢复。`, detail: msg.content,
        action: `${base}/${msg.id}/delete`, cancel: `${base}/${msg.id}`, confirmLabel: '确认删除',
      });
    });

    app.post(`${base}/:id/delete`, { preHandler: guard }, async (req, reply) => {
      const id = Number((req.params as { id: string }).id);
      const r = Number.isInteger(id)
        ? await ctx.db.deleteFrom('messages').where('id', '=', id).where('user_id', '=', req.user!.id).executeTakeFirst()
        : undefined;
      if (!r || Number(r.numDeletedRows) === 0) return reply.callNotFound();
      return reply.flashRedirect(base, '消息已删除');
    });

    app.post(`${base}/read-all`, { preHandler: guard }, async (req, reply) => {
      await ctx.db.updateTable('messages').set({ read_at: ctx.config.now().toISOString() }).where('user_id', '=', req.user!.id).where('read_at', 'is', null).execute();
      return redirect(reply, base);
    });
  }
}

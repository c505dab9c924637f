import { sql } from 'kysely';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { hasPlatformRole, requireStaff } from '../../plugins/auth.js';
import { pageParams, makePage } from '../../lib/paging.js';
import { sendXlsx, xlsxBuffer } from '../../lib/xlsx.js';
import { containsPattern } from '../admin/orgs.js';
import { AUDIT_ACTIONS, audit, startAuditPurge, verifyChain } from './service.js';

/**
 * 审计日志 (/admin/audit): the 审计管理员 only (三权分立: the system admin, whose acts are in
 * the log, may not read it). There is no route that edits or deletes a row; the audit admin's
 * own reads are audited too.
 */
export const isAuditor = (u: CurrentUser) => hasPlatformRole(u, 'audit');

async function requireAuditor(req: FastifyRequest, reply: FastifyReply) {
  const r = await requireStaff(req, reply);
  if (reply.sent || r) return r;
  if (!isAuditor(req.user!)) return reply.page('errors/error.njk', { title: '无权访问', message: '您没有访问该页面的权限。' }, 403);
}

interface Filters {
  from: string;
  to: string;
  user: string;
  action: string;
  object: string;
  result: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseFilters(query: unknown): Filters {
  const q = (query ?? {}) as Record<string, unknown>;
  const s = (k: string) => (typeof q[k] === 'string' ? (q[k] as string).trim().slice(0, 64) : '');
  return {
    from: DATE.test(s('from')) ? s('from') : '',
    to: DATE.test(s('to')) ? s('to') : '',
    user: s('user'),
    action: AUDIT_ACTIONS[s('action')] ? s('action') : '',
    object: s('object'),
    result: s('result') === 'ok' || s('result') === 'fail' ? s('result') : '',
  };
}

/** The filters as the audit row records them (the user/object search text is scrubbed by audit()). */
function filterText(f: Filters): string {
  const parts = [f.from && `自${f.from}`, f.to && `至${f.to}`, f.user && `用户${f.user}`, f.action && `操作${f.action}`, f.object && `对象${f.object}`, f.result && `结果${f.result}`];
  return parts.filter(Boolean).join('，');
}

/** A China-time calendar day (YYYY-MM-DD) → its UTC start as ISO. */
const dayStart = (d: string) => new Date(Date.parse(`${d}T00:00:00+08:00`)).toISOString();
const nextDayStart = (d: string) => new Date(Date.parse(`${d}T00:00:00+08:00`) + 86_400_000).toISOString();

export default async function auditRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const query = (f: Filters) => {
    let q = ctx.db.selectFrom('audit_log');
    if (f.from) q = q.where('at', '>=', dayStart(f.from));
    if (f.to) q = q.where('at', '<', nextDayStart(f.to));
    if (f.action) q = q.where('action', '=', f.action);
    if (f.result) q = q.where('result', '=', f.result as 'ok' | 'fail');
    if (f.user) {
      const like = containsPattern(f.user);
      const id = /^\d+$/.test(f.user) ? Number(f.user) : -1;
      q = q.where((eb) => eb.or([eb('user_id', '=', id), sql<boolean>`name like ${like} escape '\\'`, sql<boolean>`username like ${like} escape '\\'`]));
    }
    if (f.object) {
      const like = containsPattern(f.object);
      q = q.where((eb) => eb.or([eb('object_id', '=', f.object), sql<boolean>`object_type like ${like} escape '\\'`]));
    }
    return q;
  };
  const label = (a: string) => AUDIT_ACTIONS[a] ?? a;
  const breadcrumbs = [{ label: '平台管理', href: '/admin' }, { label: '审计日志' }];

  app.get('/admin/audit', { preHandler: requireAuditor }, async (req, reply) => {
    const f = parseFilters(req.query);
    const { page, size, offset } = pageParams(req.query, 20);
    const { n } = await query(f).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await query(f).selectAll().orderBy('id', 'desc').limit(size).offset(offset).execute();
    const list = makePage(rows.map((r) => ({ ...r, actionLabel: label(r.action) })), Number(n), page, size);
    const qs = new URLSearchParams(Object.entries(f).filter(([, v]) => v)).toString();
    await audit(ctx, req, { action: 'audit_read', objectType: 'audit_log', detail: `查阅${qs ? `（${filterText(f)}）` : ''}第${page}页，共${Number(n)}条` });
    return reply.page('admin/audit.njk', {
      list, f, actions: Object.entries(AUDIT_ACTIONS).map(([code, name]) => ({ code, name })),
      exportHref: `/admin/audit/export.xlsx${qs ? `?${qs}` : ''}`, breadcrumbs,
    });
  });

  app.get('/admin/audit/export.xlsx', { preHandler: requireAuditor }, async (req, reply) => {
    const f = parseFilters(req.query);
    const rows = await query(f).selectAll().orderBy('id', 'desc').limit(100_000).execute();
    const buf = await xlsxBuffer(rows, [
      { header: '序号', width: 8, value: (r) => r.id },
      { header: '时间', width: 20, value: (r) => new Date(Date.parse(r.at) + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ') },
      { header: '用户ID', width: 8, value: (r) => r.user_id },
      { header: '账号', width: 18, value: (r) => r.username },
      { header: '姓名', width: 10, value: (r) => r.name },
      { header: '角色', width: 12, value: (r) => r.role },
      { header: '机构ID', width: 8, value: (r) => r.org_id },
      { header: '来源IP', width: 16, value: (r) => r.ip },
      { header: '操作', width: 14, value: (r) => label(r.action) },
      { header: '对象类型', width: 12, value: (r) => r.object_type },
      { header: '对象ID', width: 10, value: (r) => r.object_id },
      { header: '结果', width: 8, value: (r) => (r.result === 'ok' ? '成功' : '失败') },
      { header: '说明', width: 40, value: (r) => r.detail },
    ], { sheet: '审计日志' });
    await audit(ctx, req, { action: 'audit_export', objectType: 'audit_log', detail: `导出${rows.length}条${filterText(f) ? `（${filterText(f)}）` : ''}` });
    return sendXlsx(reply, buf, '审计日志.xlsx', 'audit-log.xlsx');
  });

  // 校验: walks the whole chain (GET is enough: it changes nothing but the log itself).
  app.post('/admin/audit/verify', { preHandler: requireAuditor }, async (req, reply) => {
    const r = await verifyChain(ctx.db, ctx.secrets.auditKey);
    await audit(ctx, req, { action: 'audit_verify', objectType: 'audit_log', result: r.ok ? 'ok' : 'fail', detail: r.ok ? `校验通过，共${r.rows}条` : `第${r.firstBad!.id}条${r.firstBad!.reason}` });
    return reply.page('admin/audit-verify.njk', { r, breadcrumbs: [{ label: '平台管理', href: '/admin' }, { label: '审计日志', href: '/admin/audit' }, { label: '校验' }] });
  });

  // Retention purge: daily; stopped before the database closes.
  const stop = startAuditPurge(ctx);
  app.addHook('onClose', async () => stop());
}

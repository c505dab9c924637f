import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { audit } from '../audit/service.js';
import { hit, secondsUntil } from '../../lib/counters.js';
import { validateIdNumber } from '../../domain/idcard.js';
import { authenticate, bearerOf, type ApiClient } from './tokens.js';
import { certificateByNumber, certificatesByIdNumber, DEFAULT_LIMIT, MAX_LIMIT, planAccess, planResults, plansOf } from './service.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiClient: ApiClient | null;
  }
}

/** Refused token attempts per IP and minute before 429 (RATE_LIMIT on). */
export const API_BAD_TOKEN_PER_MINUTE = 30;

/** A JSON error: `{"error":{"code":…,"message":…}}` with a Chinese message. */
function apiError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send({ error: { code, message } });
}

const actorOf = (c: ApiClient) => ({ kind: 'staff' as const, name: `接口：${c.name}`, username: `api-token-${c.tokenId}`, roles: ['api'], orgId: c.orgId });

/**
 * 对外只读接口 /api/v1 (issue #17): other government systems read certificates and a plan's
 * results with a bearer token created by the system admin (/admin/api-tokens). No session, no
 * cookie, no CSRF: GET only, the token is the whole authentication. Every call is audited
 * (api_call: the token, the endpoint, the outcome; never the 身份证号 asked for). Rate-limited
 * per token (API_RATE_LIMIT a minute) and, for refused tokens, per IP, in rate_counters (shared
 * by every process). Registered with the prefix /api/v1; errors and unknown paths answer JSON.
 */
export default async function apiRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  app.decorateRequest('apiClient', null);

  app.setNotFoundHandler(async (req, reply) => {
    // The token was checked by the preHandler below (it runs for unknown paths too): audited like any call.
    const c = req.apiClient;
    if (c) await audit(ctx, req, { action: 'api_call', objectType: 'api_token', objectId: c.tokenId, actor: actorOf(c), result: 'fail', detail: `${req.method} ${req.url.split('?')[0]!.slice(0, 100)}：接口不存在` });
    return apiError(reply, 404, 'not_found', '接口不存在');
  });
  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'api request failed');
    return apiError(reply, status, status === 500 ? 'internal' : 'bad_request', status === 500 ? '系统繁忙，请稍后再试' : '请求无效，请检查后重试');
  });

  const endpoint = (req: FastifyRequest) => `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`;

  app.addHook('preHandler', async (req, reply) => {
    const r = await authenticate(ctx, bearerOf(req.headers.authorization));
    const now = ctx.config.now();
    if (!r.ok) {
      if (ctx.config.rateLimit) {
        const h = await hit(ctx.db, `rl:api:ip:${req.ip}`, 60_000, now);
        if (h.count > API_BAD_TOKEN_PER_MINUTE) {
          // Audited once per window, not for every refused call after it.
          if (h.count === API_BAD_TOKEN_PER_MINUTE + 1) await audit(ctx, req, { action: 'api_call', objectType: 'api', result: 'fail', detail: `${endpoint(req)}：令牌错误次数过多，已限制` });
          reply.header('Retry-After', String(secondsUntil(h.resetAt, now)));
          return apiError(reply, 429, 'rate_limited', `请求过于频繁，请${secondsUntil(h.resetAt, now)}秒后再试`);
        }
      }
      await audit(ctx, req, { action: 'api_call', objectType: 'api', result: 'fail', detail: `${endpoint(req)}：${r.message}` });
      reply.header('WWW-Authenticate', 'Bearer realm="zhicheng"');
      return apiError(reply, 401, 'unauthorized', r.message);
    }
    req.apiClient = r.client;
    if (ctx.config.rateLimit) {
      const h = await hit(ctx.db, `rl:api:token:${r.client.tokenId}`, 60_000, now);
      if (h.count > ctx.config.apiRateLimit) {
        const s = secondsUntil(h.resetAt, now);
        await audit(ctx, req, { action: 'api_call', objectType: 'api_token', objectId: r.client.tokenId, actor: actorOf(r.client), result: 'fail', detail: `${endpoint(req)}：超过每分钟${ctx.config.apiRateLimit}次` });
        reply.header('Retry-After', String(s));
        return apiError(reply, 429, 'rate_limited', `请求过于频繁，请${s}秒后再试`);
      }
    }
  });

  /** Sends a JSON answer and writes its audit row (what was asked, how many rows; no personal data). */
  const answer = async (req: FastifyRequest, reply: FastifyReply, status: number, body: unknown, detail: string) => {
    const c = req.apiClient!;
    await audit(ctx, req, { action: 'api_call', objectType: 'api_token', objectId: c.tokenId, actor: actorOf(c), result: status < 400 ? 'ok' : 'fail', detail: `${endpoint(req)}：${detail}` });
    if (status >= 400) {
      const e = body as { code: string; message: string };
      return apiError(reply, status, e.code, e.message);
    }
    return reply.code(status).header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send(body);
  };

  type Paging = { ok: true; page: number; limit: number; after: number } | { ok: false; message: string };
  const paging = (query: unknown): Paging => {
    const q = (query ?? {}) as Record<string, unknown>;
    const int = (v: unknown, min: number, max: number, dflt: number) => {
      if (v === undefined || v === '') return dflt;
      return typeof v === 'string' && /^\d{1,9}$/.test(v) && Number(v) >= min && Number(v) <= max ? Number(v) : null;
    };
    const limit = int(q.limit, 1, MAX_LIMIT, DEFAULT_LIMIT);
    if (limit === null) return { ok: false, message: `limit 应为1到${MAX_LIMIT}之间的整数` };
    const page = int(q.page, 1, 1_000_000, 1);
    if (page === null) return { ok: false, message: 'page 应为大于0的整数' };
    const after = int(q.after, 0, 999_999_999, 0);
    if (after === null) return { ok: false, message: 'after 应为上一页返回的 next_after' };
    return { ok: true, page, limit, after };
  };
  const bad = (message: string) => ({ code: 'bad_request', message });

  // 证书：按身份证号
  app.get('/certificates', async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const p = paging(req.query);
    if (!p.ok) return answer(req, reply, 400, bad(p.message), p.message);
    // The header keeps the number out of URLs (a reverse proxy's access log); the query is accepted too.
    const header = req.headers['x-id-number'];
    const raw = typeof header === 'string' && header ? header : typeof q.id_number === 'string' ? q.id_number : '';
    if (!raw) return answer(req, reply, 400, bad('请在请求头 X-Id-Number 或参数 id_number 中提供身份证号，或按证书编号查询 /api/v1/certificates/{证书编号}'), '缺少身份证号');
    const id = validateIdNumber(raw, ctx.config.now());
    if (!id.ok) return answer(req, reply, 400, bad(id.error), id.error);
    const r = await certificatesByIdNumber(ctx, req.apiClient!, id.value, p.page, p.limit);
    return answer(req, reply, 200, r, `按身份证号查询证书，${r.data.length}条`);
  });

  // 证书：按证书编号
  app.get('/certificates/:number', async (req, reply) => {
    const number = String((req.params as { number: string }).number ?? '').trim();
    if (!number || [...number].length > 50) return answer(req, reply, 400, bad('证书编号无效'), '证书编号无效');
    const c = await certificateByNumber(ctx, req.apiClient!, number);
    // Out of scope reads as absent: whether someone holds a certificate is personal data.
    if (!c) return answer(req, reply, 404, { code: 'not_found', message: '未找到该证书编号对应的证书' }, `证书 ${number} 未找到`);
    return answer(req, reply, 200, { data: c }, `证书 ${number}`);
  });

  // 评审计划
  app.get('/plans', async (req, reply) => {
    const p = paging(req.query);
    if (!p.ok) return answer(req, reply, 400, bad(p.message), p.message);
    const r = await plansOf(ctx, req.apiClient!, p.page, p.limit);
    return answer(req, reply, 200, r, `评审计划，${r.data.length}条`);
  });

  // 评审结果
  app.get('/plans/:id/results', async (req, reply) => {
    const idText = String((req.params as { id: string }).id ?? '');
    const planId = /^\d{1,9}$/.test(idText) ? Number(idText) : NaN;
    const p = paging(req.query);
    if (!p.ok) return answer(req, reply, 400, bad(p.message), p.message);
    const access = await planAccess(ctx, req.apiClient!, planId);
    if (!access.ok) {
      return access.status === 404
        ? answer(req, reply, 404, { code: 'not_found', message: '评审计划不存在' }, `计划 ${idText} 不存在`)
        : answer(req, reply, 403, { code: 'forbidden', message: '无权查询该评审计划的结果（不在令牌所属机构的范围内）' }, `计划 ${planId} 不在范围内`);
    }
    const r = await planResults(ctx, req.apiClient!, access, p.after, p.limit);
    return answer(req, reply, 200, { plan: access.plan, ...r }, `计划 ${planId} 评审结果，${r.data.length}条`);
  });
}

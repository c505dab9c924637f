import fp from 'fastify-plugin';
import underPressure, { type FastifyUnderPressureOptions } from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

export const BUSY_MESSAGE = '系统繁忙，请稍后再试';
export const RETRY_AFTER_S = 10;
const STARTUP_GRACE_MS = 5_000;

/** Small and prebuilt: under pressure the answer must cost next to nothing (no template, no DB). */
export function busyPage(cssUrl: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${BUSY_MESSAGE}</title><link rel="stylesheet" href="${cssUrl}"></head><body><main id="main"><div class="card narrow"><h1>${BUSY_MESSAGE}</h1><p>当前访问人数较多，请 ${RETRY_AFTER_S} 秒后刷新页面。已填写的内容请勿关闭页面，稍后重新提交即可。</p></div></main></body></html>`;
}

/** What a busy server answers (cheap: no template, no database): `/api/` clients get the API's JSON error, htmx the sentence, browsers the page. */
export function busyAnswer(req: FastifyRequest, html: string): { type: string; body: string } {
  if (req.url.startsWith('/api/')) return { type: 'application/json; charset=utf-8', body: BUSY_JSON };
  return { type: 'text/html; charset=utf-8', body: req.headers['hx-request'] ? BUSY_MESSAGE : html };
}
const BUSY_JSON = JSON.stringify({ error: { code: 'busy', message: BUSY_MESSAGE } });

/**
 * Back-pressure: while the event loop lags (or memory is above a configured limit) requests
 * are answered at once with 503 + Retry-After instead of queueing until they time out.
 * /health always answers: it is the container's HEALTHCHECK, and a busy server is not a dead one.
 */
export default fp(async function pressurePlugin(app: FastifyInstance, opts: { config: Config; cssUrl: string; sampleIntervalMs?: number; startupGraceMs?: number }) {
  const { config } = opts;
  const html = busyPage(opts.cssUrl);
  // under-pressure sends what the handler returns, and lets the request through on undefined
  // (index.js handlePressure); its types only say void.
  // Start-up (migrations, fixtures, the first templates) blocks the loop for a moment; the first
  // sample then reads as "no samples" = Infinity and would turn away the first visitors.
  let readyAt = Infinity;
  app.addHook('onReady', async () => {
    readyAt = Date.now();
  });
  const handler = (req: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined): string | undefined => {
    if (req.url === '/health' || req.url.startsWith('/health?')) return undefined;
    if (type === 'eventLoopDelay' && Date.now() - readyAt < (opts.startupGraceMs ?? STARTUP_GRACE_MS)) return undefined;
    req.log.warn({ pressure: type, value }, 'under pressure: 503');
    const answer = busyAnswer(req, html);
    reply.code(503).header('Retry-After', String(RETRY_AFTER_S)).header('Cache-Control', 'no-store').type(answer.type);
    return answer.body;
  };
  await app.register(underPressure, {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    maxHeapUsedBytes: config.maxHeapUsedBytes,
    maxRssBytes: config.maxRssBytes,
    retryAfter: RETRY_AFTER_S,
    sampleInterval: opts.sampleIntervalMs,
    pressureHandler: handler as unknown as FastifyUnderPressureOptions['pressureHandler'],
  });
});

import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';

/**
 * Structured logs (pino, one JSON line per event) with a request id in every line of a request,
 * and no personal data: requests are logged as method + path (never the query string, the
 * body or headers), and cookie / authorization headers are censored should anything log them.
 */

/** An upstream proxy's X-Request-Id is kept when it is a plain token; anything else is replaced. */
const SANE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE_ID.test(given) ? given : crypto.randomUUID();
}

export function loggerOptions(config: Config, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    ...(stream ? { stream } : {}),
    // Paths only: query strings can carry the CSRF token of multipart forms or search terms.
    serializers: { req: (req) => ({ method: req.method, url: req.url.split('?')[0], reqId: req.id }) },
    redact: {
      paths: ['req.headers.cookie', 'req.headers.authorization', 'headers.cookie', 'headers.authorization', 'res.headers["set-cookie"]', 'cookie', 'authorization'],
      censor: '[redacted]',
    },
  };
}

/** Echoes the request id to the client (quote it when reporting a problem). */
export default fp(async function requestIdPlugin(app: FastifyInstance) {
  app.addHook('onRequest', async (req, reply) => {
    reply.header('X-Request-Id', req.id);
  });
});

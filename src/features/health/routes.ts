import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { AppContext } from '../../context.js';
import { dialectOf } from '../../db/index.js';

export default async function healthRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  // Which database this process is on (sqlite | postgres): operators check it after a move.
  const database = dialectOf(ctx.db);
  app.get('/health', async (_req, reply) => {
    try {
      await sql`select 1`.execute(ctx.db);
      return reply.header('Cache-Control', 'no-store').send({ status: 'ok', db: 'ok', database });
    } catch {
      return reply.code(503).send({ status: 'error', db: 'unavailable', database });
    }
  });
}

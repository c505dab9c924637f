import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { hit, secondsUntil } from '../../lib/counters.js';
import { drawChallenge, newChallenge, CHALLENGE_HEIGHT, CHALLENGE_WIDTH } from './challenge.js';
import { challengeRequired } from './codes.js';

/** Pages with a 获取验证码 button (GET and their POSTs): they show the image code when needed. */
export const SMS_FORM_PATH = /^\/(?:register|forgot|unlock)(?:\/sms)?$|^\/account\/phone(?:\/[a-z-]+)?$/;

/** What the page's image-code block needs (views/components/forms.njk smsChallenge), or null. */
export interface SmsChallengeView {
  src: string;
  width: number;
  height: number;
}

/** For the page context: the image code when this page has a 获取验证码 button and the IP needs one. */
export async function smsChallengeView(ctx: AppContext, req: FastifyRequest): Promise<SmsChallengeView | null> {
  const path = req.url.split('?')[0] ?? '';
  if (!SMS_FORM_PATH.test(path) || !(await challengeRequired(ctx, req.ip))) return null;
  // A fresh URL on every page: the image (and so the answer) is new each time the form is shown.
  return { src: `/sms/captcha.png?v=${crypto.randomBytes(6).toString('hex')}`, width: CHALLENGE_WIDTH, height: CHALLENGE_HEIGHT };
}

/** GET /sms/captcha.png: a new image code for this browser's session (src/features/sms/challenge.ts). */
export default async function smsRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  app.get('/sms/captcha.png', async (req, reply) => {
    if (ctx.config.rateLimit) {
      const now = ctx.config.now();
      const r = await hit(ctx.db, `rl:sms-captcha:ip:${req.ip}`, 60_000, now);
      if (r.count > 30) return reply.code(429).header('Retry-After', String(secondsUntil(r.resetAt, now))).type('text/plain; charset=utf-8').send('操作过于频繁');
    }
    // Keeps the session (and its cookie) if this is its first use: the answer is bound to it.
    req.session.smsChallengeAt = ctx.config.now().getTime();
    const digits = await newChallenge(ctx, req.session.sessionId);
    return reply
      .header('Cache-Control', 'no-store')
      .header('X-Content-Type-Options', 'nosniff')
      .type('image/png')
      .send(drawChallenge(digits));
  });
}

declare module 'fastify' {
  interface Session {
    /** When this session last fetched an image code (keeps an anonymous session saved). */
    smsChallengeAt?: number;
  }
}

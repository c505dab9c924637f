import type { LightMyRequestResponse } from 'fastify';
import { answerHash } from '../../src/features/sms/challenge.js';
import type { Agent, TestApp } from './app.js';

/** The session id behind an agent's signed session cookie. */
export function sessionIdOf(agent: Agent): string {
  const c = agent.cookies.get('zc_sid');
  if (!c) throw new Error('the agent has no session cookie');
  const v = decodeURIComponent(c);
  return v.slice(0, v.lastIndexOf('.'));
}

/**
 * Reads the image code like a person would read the picture: fetches /sms/captcha.png for the
 * agent's session, then finds the 4 digits whose keyed hash is the stored one (the answer itself
 * is never stored). Returns the digits and the image response.
 */
export async function solveSmsChallenge(agent: Agent, ip?: string): Promise<{ answer: string; image: LightMyRequestResponse }> {
  const t: TestApp = agent.t;
  const image = await t.app.inject({ method: 'GET', url: '/sms/captcha.png?v=1', headers: { cookie: agent.cookieHeader() }, ...(ip ? { remoteAddress: ip } : {}) });
  if (image.statusCode !== 200) throw new Error(`image code: HTTP ${image.statusCode}`);
  for (const c of image.cookies as { name: string; value: string }[]) agent.cookies.set(c.name, c.value);
  const sid = sessionIdOf(agent);
  const rows = await t.ctx.db.selectFrom('sms_challenges').select('answer_hash').execute();
  const stored = new Set(rows.map((r) => r.answer_hash));
  for (let n = 0; n < 10_000; n++) {
    const answer = String(n).padStart(4, '0');
    if (stored.has(answerHash(t.ctx, sid, answer))) return { answer, image };
  }
  throw new Error('no stored image code for this session');
}

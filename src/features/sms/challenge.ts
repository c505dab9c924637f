/**
 * 图片验证码 in front of 获取验证码 (field test #19: one IP had 10 codes a minute sent to new
 * numbers). After the first code sent from an IP (within 24 h: the per-IP daily counter of
 * src/features/sms/codes.ts), the next 获取验证码 from that IP needs the digits of an image.
 *
 * It works without JavaScript: the page shows <img src="/sms/captcha.png?v=…">; fetching the
 * image draws 4 random digits with noise (pngjs, here) and stores, for the browser's session,
 * only keyed hashes of the session id and of the answer (table sms_challenges, one live row
 * per session: a new image replaces the previous answer), valid 5 minutes. Every check
 * consumes the row (DELETE … RETURNING, atomic): right or wrong, an image answers once.
 * Nothing lives in process memory, so any process behind a load balancer can check it.
 */
import crypto from 'node:crypto';
import { PNG } from 'pngjs';
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';

export const CHALLENGE_VALID_MS = 5 * 60_000;
export const CHALLENGE_DIGITS = 4;
export const CHALLENGE_WIDTH = 120;
export const CHALLENGE_HEIGHT = 44;

export const CHALLENGE_MESSAGES = {
  missing: '请输入图片中的数字',
  expired: '图片验证码已失效，请输入新图片中的数字',
  wrong: '图片验证码错误，请输入新图片中的数字',
  refreshed: '已更换图片，请输入新图片中的数字',
} as const;

function sidHash(ctx: AppContext, sid: string): string {
  return ctx.secrets.lookupHash(`sms-challenge:sid:${sid}`);
}

export function answerHash(ctx: AppContext, sid: string, answer: string): string {
  return ctx.secrets.lookupHash(`sms-challenge:${sidHash(ctx, sid)}:${answer}`);
}

/** A new challenge for this session (replacing any previous one); returns the digits to draw. */
export async function newChallenge(ctx: AppContext, sid: string): Promise<string> {
  const digits = Array.from({ length: CHALLENGE_DIGITS }, () => String(crypto.randomInt(0, 10))).join('');
  const now = ctx.config.now();
  const row = {
    answer_hash: answerHash(ctx, sid, digits),
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + CHALLENGE_VALID_MS).toISOString(),
  };
  await ctx.db
    .insertInto('sms_challenges')
    .values({ sid_hash: sidHash(ctx, sid), ...row })
    .onConflict((oc) => oc.column('sid_hash').doUpdateSet(row))
    .execute();
  return digits;
}

export type ChallengeCheck = { ok: true } | { ok: false; error: string };

/**
 * Checks `answer` against the session's challenge and consumes it (whatever the outcome).
 * `db` may be the caller's transaction.
 */
export async function consumeChallenge(ctx: AppContext, db: Kysely<Database>, sid: string, answer: string): Promise<ChallengeCheck> {
  const typed = String(answer ?? '').replace(/\s+/g, '');
  const row = await db.deleteFrom('sms_challenges').where('sid_hash', '=', sidHash(ctx, sid)).returning(['answer_hash', 'expires_at']).executeTakeFirst();
  if (!typed) return { ok: false, error: CHALLENGE_MESSAGES.missing };
  if (!row || row.expires_at <= ctx.config.now().toISOString()) return { ok: false, error: CHALLENGE_MESSAGES.expired };
  const good = crypto.timingSafeEqual(Buffer.from(row.answer_hash), Buffer.from(answerHash(ctx, sid, typed)));
  return good ? { ok: true } : { ok: false, error: CHALLENGE_MESSAGES.wrong };
}

/** Deletes expired challenges; returns how many went. */
export async function purgeChallenges(ctx: AppContext, now = ctx.config.now()): Promise<number> {
  const r = await ctx.db.deleteFrom('sms_challenges').where('expires_at', '<=', now.toISOString()).executeTakeFirst();
  return Number(r.numDeletedRows);
}

// ---------------------------------------------------------------------------------------
// Drawing

/** 5×7 bitmaps of 0–9, one string of 5 bits per row. */
const FONT: Record<string, string[]> = {
  0: ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  1: ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  2: ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  3: ['11111', '00010', '00100', '00010', '00001', '10001', '01110'],
  4: ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  5: ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  6: ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  7: ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  8: ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  9: ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
};

const rnd = (n: number) => crypto.randomInt(0, n);

/**
 * The digits drawn into a PNG: each glyph scaled ×4 with its own colour, vertical offset and
 * slant, over a light background with noise dots and lines in lighter colours, so a person
 * reads it easily and a plain OCR does not.
 */
export function drawChallenge(digits: string): Buffer {
  const W = CHALLENGE_WIDTH;
  const H = CHALLENGE_HEIGHT;
  const png = new PNG({ width: W, height: H });
  const px = (x: number, y: number, c: [number, number, number]) => {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const i = (y * W + x) * 4;
    png.data[i] = c[0];
    png.data[i + 1] = c[1];
    png.data[i + 2] = c[2];
    png.data[i + 3] = 255;
  };
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px(x, y, [245 - rnd(12), 245 - rnd(12), 240 - rnd(12)]);
  const light = (): [number, number, number] => [150 + rnd(70), 150 + rnd(70), 150 + rnd(70)];
  for (let k = 0; k < 120; k++) px(rnd(W), rnd(H), light());
  const line = (x0: number, y0: number, x1: number, y1: number, c: [number, number, number]) => {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let s = 0; s <= steps; s++) px(Math.round(x0 + ((x1 - x0) * s) / steps), Math.round(y0 + ((y1 - y0) * s) / steps), c);
  };
  for (let k = 0; k < 4; k++) line(rnd(W), rnd(H), rnd(W), rnd(H), light());

  const scale = 4;
  const cell = Math.floor(W / digits.length);
  [...digits].forEach((d, n) => {
    const glyph = FONT[d] ?? FONT[0]!;
    const color: [number, number, number] = [rnd(90), rnd(90), 60 + rnd(90)];
    const x0 = n * cell + 4 + rnd(Math.max(1, cell - 5 * scale - 6));
    const y0 = 4 + rnd(H - 7 * scale - 6);
    const slant = (rnd(5) - 2) / 10; // -0.2 … 0.2 pixels per pixel
    glyph.forEach((bits, gy) => {
      for (let gx = 0; gx < 5; gx++) {
        if (bits[gx] !== '1') continue;
        for (let sy = 0; sy < scale; sy++) {
          for (let sx = 0; sx < scale; sx++) {
            const y = gy * scale + sy;
            px(x0 + gx * scale + sx + Math.round((7 * scale - y) * slant), y0 + y, color);
          }
        }
      }
    });
  });
  for (let k = 0; k < 2; k++) line(0, rnd(H), W - 1, rnd(H), light());
  return PNG.sync.write(png);
}

import type { AppContext } from '../../context.js';
import { isUniqueViolation, writeTx } from '../../db/index.js';
import { addDays, chinaDate, daysUntilClose } from '../../domain/plans.js';
import { startPeriodic } from '../../lib/jobs.js';

/**
 * Deadline reminders: an applicant whose declaration is still a draft is told once when the
 * plan closes within 7 days ('7d') and once more on the last two days ('1d': closes today or
 * tomorrow, China time). reminders_sent makes it idempotent across runs and restarts.
 */

export const REMINDER_INTERVAL_MS = 3_600_000;

export function reminderText(planName: string, closesAt: string): string {
  return `您申报的“${planName}”将于${closesAt} 24:00截止，您的申报尚未提交，请尽快完成并提交。`;
}

/** Sends the reminders due at `now`; returns the number of messages sent. */
export async function runReminders(ctx: AppContext, now: Date): Promise<number> {
  const today = chinaDate(now);
  // Open plans (opens_at ≤ today ≤ closes_at) closing within 7 days; drafts only.
  const due = await ctx.db
    .selectFrom('declarations as d')
    .innerJoin('plans as p', 'p.id', 'd.plan_id')
    .select([
      'd.id', 'd.user_id', 'p.name', 'p.closes_at',
      (eb) => eb.selectFrom('reminders_sent as r').select('r.kind').whereRef('r.declaration_id', '=', 'd.id').where('r.kind', '=', '7d').as('sent7'),
      (eb) => eb.selectFrom('reminders_sent as r').select('r.kind').whereRef('r.declaration_id', '=', 'd.id').where('r.kind', '=', '1d').as('sent1'),
    ])
    .where('d.status', '=', 'draft')
    .where('p.opens_at', '<=', today)
    .where('p.closes_at', '>=', today)
    .where('p.closes_at', '<=', addDays(today, 7))
    .orderBy('d.id')
    .execute();

  let sent = 0;
  const stamp = now.toISOString();
  for (const d of due) {
    const days = daysUntilClose(d, now);
    if (days < 0 || days > 7) continue;
    // On the last two days the 1d reminder alone is sent; a 7d one not yet sent (a draft
    // started late) is recorded as covered by it, so nobody gets two messages at once.
    const kinds: ('7d' | '1d')[] = days <= 1 ? (d.sent1 ? [] : d.sent7 ? ['1d'] : ['1d', '7d']) : d.sent7 ? [] : ['7d'];
    if (!kinds.length) continue;
    try {
      await writeTx(ctx.db, async (trx) => {
        // The primary key (declaration_id, kind) decides: a row already there = already sent.
        for (const kind of kinds) await trx.insertInto('reminders_sent').values({ declaration_id: d.id, kind, sent_at: stamp }).execute();
        await trx.insertInto('messages').values({ user_id: d.user_id, type: '系统消息', content: reminderText(d.name, d.closes_at), created_at: stamp }).execute();
      });
      sent++;
    } catch (err) {
      if (isUniqueViolation(err)) continue; // sent meanwhile (another run or process)
      throw err;
    }
  }
  return sent;
}

/** Runs the reminders now and every hour; returns a stop function. Errors are logged. */
export function startReminderScheduler(ctx: AppContext): () => Promise<void> {
  return startPeriodic(ctx.log, 'deadline reminders', REMINDER_INTERVAL_MS, () => runReminders(ctx, ctx.config.now()), { db: ctx.db, now: ctx.config.now });
}

import { sql } from 'kysely';
import type { AppContext } from '../../context.js';
import { startPeriodic } from '../../lib/jobs.js';
import { reviewFormPdf, type PrintRenderer } from '../../print/documents.js';
import { printerFor } from '../../print/printer.js';
import { reviewFormInputs } from './formInputs.js';
import type { Declaration } from './service.js';

/** How often the pre-render looks for printable forms not yet kept, and how many it renders then. */
export const PRERENDER_INTERVAL_MS = 60_000;
const BATCH = 10;

/**
 * Issue #18: a form becomes printable when the committee's e-review passes, and is then printed
 * by the applicant, the unit and the committee, often on the same morning. Rendering it once in
 * the background (in one process at a time: the job's lease) means the first of them is served
 * the kept PDF too. A form whose content changes later (the evaluation is recorded) renders again
 * on the next request. Returns the number rendered.
 */
export async function prerenderPrintable(ctx: AppContext, renderer: PrintRenderer, batch = BATCH): Promise<number> {
  if (!printerFor(ctx).executablePath) return 0;
  const rows = (await ctx.db
    .selectFrom('declarations as d')
    .selectAll('d')
    .where('d.status', 'in', ['approved', 'passed', 'failed'])
    .where('d.version_id', 'is not', null)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('pdf_cache as c').select(sql`1`.as('one')).whereRef('c.declaration_id', '=', 'd.id'))))
    .orderBy('d.id')
    .limit(batch)
    .execute()) as unknown as Declaration[];
  let n = 0;
  for (const d of rows) {
    const r = await reviewFormPdf(ctx, renderer, d, null, await reviewFormInputs(ctx, d, { fullId: true }));
    if (r.kind === 'ok') n++;
    else if (r.kind === 'busy' || r.kind === 'no-browser' || r.kind === 'no-fonts') break; // users' prints first
  }
  return n;
}

export function startPdfPrerender(ctx: AppContext, renderer: PrintRenderer): () => Promise<void> {
  if (!ctx.config.pdfPrerender) return async () => {};
  return startPeriodic(ctx.log, 'pdf prerender', PRERENDER_INTERVAL_MS, () => prerenderPrintable(ctx, renderer), {
    db: ctx.db,
    now: ctx.config.now,
    firstDelayMs: 30_000, // not in the start-up's first seconds
  });
}

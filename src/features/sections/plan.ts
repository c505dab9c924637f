import type { AppContext } from '../../context.js';
import { FINAL, type Status } from '../../domain/declaration.js';
import { planSeries } from '../../domain/plans.js';
import { sectionsFor, type SectionDef, type PlanSectionSettings } from '../../domain/sections.js';
import { planSectionSettings } from '../../domain/seriesRules.js';
import { chinaToday } from '../plans/repository.js';

/** The plan the applicant's archive is filled for (issue #16): its 系列 picks the sections, its settings the rules. */
export interface ArchivePlan {
  planId: number | null;
  /** The plan's 系列 (its own, else its committee's); null = 不限, or no declaration yet. */
  series: string | null;
  settings: PlanSectionSettings;
  sections: SectionDef[];
}

/**
 * The plan of the declaration the applicant works on now (this year's, not ended; else the
 * newest of this year: the same choice as currentDeclaration). Without one, the common sections.
 */
export async function archivePlanOf(ctx: AppContext, userId: number): Promise<ArchivePlan> {
  const year = Number(chinaToday(ctx.config.now()).slice(0, 4));
  const rows = await ctx.db
    .selectFrom('declarations as d')
    .innerJoin('plans as p', 'p.id', 'd.plan_id')
    .innerJoin('orgs as c', 'c.id', 'p.committee_org_id')
    .select(['d.status', 'p.id as plan_id', 'p.series_code', 'p.any_series', 'c.series_code as committee_series', 'p.theory_pass_mark', 'p.min_study_hours', 'p.max_representative', 'p.cnki_required'])
    .where('d.user_id', '=', userId)
    .where('d.year', '>=', year)
    .orderBy('d.id', 'desc')
    .execute();
  const cur = rows.find((d) => !FINAL.includes(d.status as Status)) ?? rows[0];
  if (!cur) return { planId: null, series: null, settings: planSectionSettings(null), sections: sectionsFor(null) };
  const series = planSeries(cur, cur.committee_series);
  return { planId: cur.plan_id, series, settings: planSectionSettings(cur), sections: sectionsFor(series) };
}

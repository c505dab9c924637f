/**
 * Step 2's checks of the series sections and papers (issue #16), from the plan's settings
 * (migration 0026) and the pure rules in src/domain/seriesRules.ts.
 */
import type { AppContext } from '../../context.js';
import { planSeries } from '../../domain/plans.js';
import { sectionsFor } from '../../domain/sections.js';
import { cnkiMissing, isRepresentative, planSectionSettings, studyHoursShortfalls, theoryPassed } from '../../domain/seriesRules.js';
import { listRows } from '../sections/service.js';
import { listAttachments } from '../files/service.js';

type PlanRow = Parameters<typeof planSectionSettings>[0] & object;

/** The plan's 系列 (its own, else its committee's; null = 不限); getPlan() carries the committee's. */
export function seriesOfPlan(plan: { series_code: string | null; any_series?: number | null; committee_series?: string | null }): string | null {
  return planSeries(plan, plan.committee_series ?? null);
}

/**
 * What the plan's settings ask of the series sections and papers (issue #16), as step 2 lists
 * missing items: 学时 under the yearly minimum, no passing 教育理论 score, more 代表作 than N,
 * papers without 知网收录 proof.
 */
export async function seriesMissing(ctx: AppContext, userId: number, plan: PlanRow, series: string | null): Promise<{ text: string; href: string }[]> {
  const out: { text: string; href: string }[] = [];
  const settings = planSectionSettings(plan);
  const own = new Set(sectionsFor(series).map((s) => s.key));
  if (own.has('study-hours')) {
    for (const t of studyHoursShortfalls((await listRows(ctx, userId, 'study-hours')).map((r) => r.data), settings.minStudyHours)) {
      out.push({ text: `考试考核学时情况：${t}`, href: '/me/sections/study-hours' });
    }
  }
  const theory = own.has('theory-exam') ? (await listRows(ctx, userId, 'theory-exam')).map((r) => r.data) : [];
  // No row at all is the required-section item above; rows without a passing score are this one.
  if (theory.length) {
    if (!theoryPassed(theory, settings.theoryPassMark)) out.push({ text: `教育理论考试成绩：未达到合格分数（${settings.theoryPassMark}分）`, href: '/me/sections/theory-exam' });
  }
  // A series section's required row attachment (公开课: each row its proof).
  for (const def of sectionsFor(series).filter((d) => d.series && d.attachments.some((a) => a.required))) {
    const rows = await listRows(ctx, userId, def.key);
    const files = rows.length ? await listAttachments(ctx, userId, 'row', rows.map((r) => r.id)) : new Map();
    rows.forEach((r, i) => {
      for (const slot of def.attachments.filter((a) => a.required)) {
        if (!(files.get(r.id) ?? []).some((f: { slot: string }) => f.slot === slot.key)) out.push({ text: `${def.title}：第${i + 1}条未上传${slot.label}`, href: `/me/sections/${def.key}/${r.id}/edit#attachments` });
      }
    });
  }
  const papers = await listRows(ctx, userId, 'papers');
  if (settings.maxRepresentative !== null && papers.filter((p) => isRepresentative(p.data)).length > settings.maxRepresentative) {
    out.push({ text: `撰写论文情况：代表作最多${settings.maxRepresentative}篇`, href: '/me/sections/papers' });
  }
  if (settings.cnkiRequired && papers.length) {
    const files = await listAttachments(ctx, userId, 'row', papers.map((p) => p.id));
    const lacking = cnkiMissing(papers.map((p) => ({ data: p.data, slots: (files.get(p.id) ?? []).map((f) => f.slot) })), true);
    for (const title of lacking) out.push({ text: `撰写论文情况：《${title}》缺少知网收录证明（网址和截图）`, href: '/me/sections/papers' });
  }
  return out;
}


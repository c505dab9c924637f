import type { AppContext } from '../../context.js';
import { briefModel, type BriefDoc } from '../../print/brief.js';
import { reviewFormInputs } from '../declaration/formInputs.js';
import { versionOf, type Declaration } from '../declaration/service.js';

/**
 * 评审简表 of a plan's meeting in queue order (学科组 in order, then declaration number), each
 * from the declaration's frozen version; the unit's opinion is 表十二's 推荐意见 and 评价意见.
 */
export async function meetingBriefs(ctx: AppContext, planId: number): Promise<BriefDoc[]> {
  const rows = await ctx.db
    .selectFrom('eval_group_decls as a')
    .innerJoin('eval_groups as g', 'g.id', 'a.group_id')
    .innerJoin('declarations as d', 'd.id', 'a.declaration_id')
    .selectAll('d')
    .select('g.name as group_name')
    .where('g.plan_id', '=', planId)
    .where('d.status', 'in', ['approved', 'passed', 'failed'])
    .orderBy('g.id')
    .orderBy('d.id')
    .execute();
  const out: BriefDoc[] = [];
  for (const r of rows) {
    const d = r as unknown as Declaration;
    const v = await versionOf(ctx, d);
    if (!v) continue;
    const op = (await reviewFormInputs(ctx, d, {})).unit?.opinion;
    const opinion = op ? [op.recommendation, op.evaluation].filter(Boolean).join('：') : null;
    out.push(briefModel(v.snapshot, { order: out.length + 1, group: r.group_name, opinion }));
  }
  return out;
}

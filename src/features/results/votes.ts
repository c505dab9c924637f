import type { Tx } from '../../db/index.js';

/** A declaration's figures at its latest confirmed 评审会议. */
export interface ConfirmedVote {
  evaluation_id: number;
  meeting_date: string;
  result: 'passed' | 'failed';
  agree: number;
  disagree: number;
  abstain: number;
  members_expected: number;
  members_present: number;
}

/**
 * The latest confirmed meeting's votes of each declaration in `ids` (one query; a declaration
 * evaluated again, e.g. after 复议 in a later meeting, keeps the last one). The export, the API
 * and 转评委会 read results through this. `decidedOnly`: only declarations now 通过/未通过.
 */
export async function latestConfirmedVotes(db: Tx, ids: readonly number[], o: { decidedOnly?: boolean } = {}): Promise<Map<number, ConfirmedVote>> {
  const out = new Map<number, ConfirmedVote>();
  if (!ids.length) return out;
  let q = db
    .selectFrom('evaluation_votes as v')
    .innerJoin('evaluations as e', 'e.id', 'v.evaluation_id')
    .select(['v.declaration_id', 'v.agree', 'v.disagree', 'v.abstain', 'v.result', 'e.id as evaluation_id', 'e.meeting_date', 'e.members_expected', 'e.members_present'])
    .where('v.declaration_id', 'in', [...ids])
    .where('e.confirmed_at', 'is not', null);
  if (o.decidedOnly) q = q.where((eb) => eb.exists(eb.selectFrom('declarations as d').select('d.id').whereRef('d.id', '=', 'v.declaration_id').where('d.status', 'in', ['passed', 'failed'])));
  for (const r of await q.orderBy('e.confirmed_at', 'asc').orderBy('e.id', 'asc').execute()) {
    out.set(r.declaration_id, {
      evaluation_id: r.evaluation_id, meeting_date: r.meeting_date, result: r.result as ConfirmedVote['result'],
      agree: Number(r.agree), disagree: Number(r.disagree), abstain: Number(r.abstain),
      members_expected: Number(r.members_expected), members_present: Number(r.members_present),
    });
  }
  return out;
}

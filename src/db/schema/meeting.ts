import type { Generated } from 'kysely';

/** Tables of The committee's meeting: 学科组, online rounds, the expert pool (migration 0019). Re-exported by src/db/schema.ts. */

/** 学科组 of a plan (migration 0019). */
export interface EvalGroupsTable {
  id: Generated<number>;
  plan_id: number;
  name: string;
  specialties: Generated<string>;
  created_at: string;
}

export interface EvalGroupDeclsTable {
  declaration_id: number;
  group_id: number;
  moved: Generated<number>;
  recommendation: 'agree' | 'disagree' | null;
  recommendation_note: string | null;
  recommended_by: number | null;
  recommended_at: string | null;
}

export interface EvaluationMembersTable {
  id: Generated<number>;
  evaluation_id: number;
  user_id: number;
  group_id: number;
  created_at: string;
}

export interface EvaluationRoundsTable {
  id: Generated<number>;
  evaluation_id: number;
  no: number;
  kind: 'first' | 'reconsider';
  opened_by: number | null;
  opened_at: string;
  closed_at: string | null;
}

/** Anonymous counters of a round per declaration: never who voted how. */
export interface RoundTalliesTable {
  round_id: number;
  declaration_id: number;
  agree: Generated<number>;
  disagree: Generated<number>;
  abstain: Generated<number>;
}

/** That a member voted (no choice): the primary key refuses a second vote. */
export interface RoundVotedTable {
  round_id: number;
  member_id: number;
  declaration_id: number;
}

/** 评委专家库 (migration 0019). */
export interface ExpertsTable {
  id: Generated<number>;
  committee_org_id: number;
  name: string;
  series_code: string | null;
  specialty: string;
  level: string | null;
  unit: string;
  region_code: string | null;
  available: Generated<number>;
  integrity_note: string | null;
  created_at: string;
}

export interface ExpertConflictsTable {
  expert_id: number;
  declaration_id: number;
}

export interface ExpertDrawsTable {
  id: Generated<number>;
  evaluation_id: number;
  seed: string;
  /** JSON of the DrawInput (src/domain/draw.ts): re-running it re-checks the result. */
  input: string;
  /** JSON of the DrawResult. */
  result: string;
  created_by: number | null;
  created_at: string;
}

export interface DrawnExpertsTable {
  draw_id: number;
  expert_id: number;
  group_id: number;
  declined: Generated<number>;
}

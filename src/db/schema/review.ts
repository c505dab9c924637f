import type { Generated } from 'kysely';

/** Tables of the review chain after submission: stages, publicity, recommendation, evaluation, certificates, prints. Re-exported by src/db/schema.ts. */

export interface SupervisorRequestsTable {
  id: Generated<number>;
  unit_org_id: number;
  supervisor_org_id: number;
  status: 'pending' | 'approved' | 'rejected';
  opinion: string | null;
  requested_by: number | null;
  decided_by: number | null;
  created_at: string;
  decided_at: string | null;
}

export interface DeclarationStagesTable {
  declaration_id: number;
  idx: number;
  org_id: number;
  kind: string;
}

export interface PublicitiesTable {
  id: Generated<number>;
  org_id: number;
  title: string;
  start_date: string;
  days: number;
  end_date: string;
  status: 'open' | 'completed';
  created_by: number | null;
  created_at: string;
  completed_at: string | null;
  /** 异议受理电话 / 异议受理地址 printed on the notice (0013); null on older rows: the unit's phone/address. */
  contact_phone?: string | null;
  contact_address?: string | null;
}

export interface PublicityItemsTable {
  publicity_id: number;
  declaration_id: number;
  objection: Generated<number>;
  note: string | null;
}

export interface RecommendationsTable {
  id: Generated<number>;
  org_id: number;
  created_by: number | null;
  pledge_file_id: number | null;
  report_file_id: number | null;
  count: number;
  created_at: string;
}

/** A rendered review form, kept (migration 0022). */
export interface PdfCacheTable {
  key: string;
  declaration_id: number;
  code: string;
  sha256: string;
  size: number;
  created_at: string;
}

export interface PrintRecordsTable {
  code: string;
  declaration_id: number;
  version_id: number;
  sha256: string;
  printed_by: number | null;
  printed_at: string;
}

export interface EvaluationsTable {
  id: Generated<number>;
  plan_id: number;
  meeting_date: string;
  members_expected: number;
  members_present: number;
  confirmed_at: string | null;
  created_by: number | null;
  created_at: string;
  /** 'paper': totals typed by the office; 'online': members vote (migration 0019). */
  mode: Generated<'paper' | 'online'>;
}

export interface EvaluationVotesTable {
  evaluation_id: number;
  declaration_id: number;
  agree: number;
  disagree: number;
  abstain: number;
  result: 'passed' | 'failed';
}

export interface ResultPublicitiesTable {
  id: Generated<number>;
  plan_id: number;
  start_date: string;
  days: number;
  end_date: string;
  status: Generated<'open' | 'completed'>;
  created_by: number | null;
  created_at: string;
}

export interface CertificatesTable {
  id: Generated<number>;
  declaration_id: number;
  committee_org_id: number;
  year: number;
  seq: number;
  number: string;
  doc_no: string;
  verify_code: string;
  issued_by: number | null;
  issued_at: string;
}

/** A unit's internal checker (职能部门审核, seed 004 客户端), migration 0024. */
export interface UnitCheckersTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  user_id: number;
  applies_to: 'all' | 'under40';
  created_at: string;
  removed_at: string | null;
}

export interface CheckerSignoffsTable {
  id: Generated<number>;
  declaration_id: number;
  checker_id: number;
  org_id: number;
  checker_name: string;
  user_id: number;
  signer_name: string;
  verdict: '同意' | '不同意';
  opinion: string;
  signed_at: string;
}

/** A finished unit stage of a route with two (dispatch company, then employer), migration 0024. */
export interface UnitStageRecordsTable {
  declaration_id: number;
  stage: number;
  org_id: number;
  unit_opinion: string | null;
  unit_verified_at: string | null;
  submitted_at: string | null;
  publicity_state: 'open' | 'no_objection' | 'objection' | null;
  recommendation_id: number | null;
  created_at: string;
}

/** 补充材料 requests (migration 0016): named extra files asked by a review stage. */
export interface SupplementRequestsTable {
  id: Generated<number>;
  declaration_id: number;
  org_id: number;
  stage: number;
  /** JSON [{ key, label }]. */
  items: string;
  note: string | null;
  requested_by: number;
  created_at: string;
  /** When the applicant handed in every item; null = still asked. */
  submitted_at: string | null;
  /** Withdrawn by the stage that asked (migration 0030); null = not withdrawn. */
  cancelled_at?: string | null;
  cancelled_by?: number | null;
}

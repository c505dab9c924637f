import type { Generated } from 'kysely';

/** Tables of 初定/认定 (migration 0017). Re-exported by src/db/schema.ts. */

export type RecognitionStatus = 'draft' | 'unit' | 'office' | 'returned' | 'approved' | 'refused';

/** 初定/认定 (migrations/0017_recognition.ts, src/features/recognition). */
export interface RecognitionsTable {
  id: Generated<number>;
  user_id: number;
  unit_org_id: number;
  level: 'junior' | 'assistant' | 'intermediate' | 'senior_vice';
  title_name: string;
  specialty: string;
  education: string | null;
  degree: string | null;
  double_bachelor: Generated<number>;
  postdoc: Generated<number>;
  hired_on: string;
  filing_date: string;
  decider_org_id: number;
  decider_kind: string;
  status: RecognitionStatus;
  by_unit: Generated<number>;
  operator_name: string | null;
  operator_phone: string | null;
  created_by: number | null;
  submitted_at: string | null;
  decided_at: string | null;
  decided_by: number | null;
  cert_year: number | null;
  cert_seq: number | null;
  cert_number: string | null;
  verify_code: string;
  created_at: string;
  updated_at: string;
}

export interface RecognitionEventsTable {
  id: Generated<number>;
  recognition_id: number;
  actor_user_id: number | null;
  org_id: number | null;
  action: string;
  reason: string | null;
  from_status: string | null;
  to_status: string;
  created_at: string;
}

/** 证书服务: 外地调入人员职称资格确认 and 遗失补办 (migrations/0023_cert_services.ts, src/features/certservices). */
export interface CertServicesTable {
  id: Generated<number>;
  kind: 'transfer' | 'reissue';
  user_id: number;
  office_org_id: number;
  status: 'office' | 'confirmed' | 'refused';
  title_name: string;
  level: string | null;
  specialty: string;
  orig_number: string;
  orig_issuer: string;
  orig_date: string;
  reason: string | null;
  old_type: 'certificate' | 'recognition' | 'cert_service' | null;
  old_id: number | null;
  refuse_reason: string | null;
  decided_by: number | null;
  decided_at: string | null;
  cert_year: number | null;
  cert_seq: number | null;
  cert_number: string | null;
  verify_code: string;
  created_at: string;
  updated_at: string;
}

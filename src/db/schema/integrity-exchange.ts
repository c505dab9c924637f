import type { Generated } from 'kysely';

/** Tables of Integrity records and unit sanctions (0015); data exchange (0020). Re-exported by src/db/schema.ts. */

export interface IntegrityRecordsTable {
  id: Generated<number>;
  id_hmac: string;
  id_masked: string;
  name: string;
  recorded_on: string;
  reason: string;
  evidence_file_id: number | null;
  org_id: number;
  created_by: number;
  created_at: string;
  lifted_at: string | null;
  lifted_by: number | null;
  lift_reason: string | null;
}

export interface UnitSanctionsTable {
  id: Generated<number>;
  unit_org_id: number;
  year: number;
  reason: string;
  org_id: number;
  created_by: number;
  created_at: string;
  lifted_at: string | null;
  lifted_by: number | null;
  lift_reason: string | null;
}

/** An uploaded exchange file between its dry run and its confirmation (0020). */
export interface ImportBatchesTable {
  id: Generated<number>;
  kind: 'certificates' | 'orgs' | 'dicts';
  sha256: string;
  size: number;
  filename: string;
  status: 'checked' | 'imported';
  /** JSON counts per class. */
  summary: string;
  /** JSON array: one entry per row (line, class, reason, what the row says). */
  report: string;
  created_by: number | null;
  created_at: string;
  imported_at: string | null;
  imported_count: number | null;
}

/** A certificate issued before this system, imported from a file (0020). */
export interface LegacyCertificatesTable {
  id: Generated<number>;
  batch_id: number;
  id_enc: string;
  id_hmac: string;
  id_masked: string;
  name: string;
  title_name: string;
  /** Level code (senior_full…junior). */
  level: string;
  specialty: string;
  obtained_on: string;
  number: string;
  issuer: string;
  method: string;
  verify_code: string;
  /** The holder's account once linked (现有职称 filled). */
  user_id: number | null;
  created_at: string;
}

/** A read-only API token of another system (0020): only its SHA-256 is kept. */
export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  org_id: number;
  token_hash: string;
  prefix: string;
  created_by: number | null;
  created_at: string;
  revoked_at: string | null;
  revoked_by: number | null;
  last_used_at: string | null;
}

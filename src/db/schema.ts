import type { Generated } from 'kysely';
import type { TotpRecoveryCodesTable, PasswordHistoryTable, LoginFailuresTable, SessionsTable, SmsCodesTable, PendingFormsTable, SmsOutboxTable, RateCountersTable, SmsChallengesTable } from './schema/auth.js';
import type { SupervisorRequestsTable, DeclarationStagesTable, PublicitiesTable, PublicityItemsTable, RecommendationsTable, PdfCacheTable, PrintRecordsTable, SupplementRequestsTable, UnitCheckersTable, CheckerSignoffsTable, UnitStageRecordsTable, EvaluationsTable, EvaluationVotesTable, ResultPublicitiesTable, CertificatesTable } from './schema/review.js';
import type { EvalGroupsTable, EvalGroupDeclsTable, EvaluationMembersTable, EvaluationRoundsTable, RoundTalliesTable, RoundVotedTable, ExpertsTable, ExpertConflictsTable, ExpertDrawsTable, DrawnExpertsTable } from './schema/meeting.js';
import type { RecognitionStatus, RecognitionsTable, RecognitionEventsTable, CertServicesTable } from './schema/recognition.js';
import type { TransferPeersTable, TransferBatchesTable, TransferItemsTable } from './schema/transfer.js';
import type { PostQuotasTable, AppointmentsTable } from './schema/posts.js';
import type { IntegrityRecordsTable, UnitSanctionsTable, ImportBatchesTable, LegacyCertificatesTable, ApiTokensTable } from './schema/integrity-exchange.js';

// Tables by area live beside this file (src/db/schema/); the core ones and `Database` stay here.
export * from './schema/auth.js';
export * from './schema/review.js';
export * from './schema/meeting.js';
export * from './schema/recognition.js';
export * from './schema/integrity-exchange.js';
export * from './schema/transfer.js';
export * from './schema/posts.js';

export type OrgKind = 'unit' | 'supervisor' | 'hrb' | 'committee' | 'agency' | 'platform';

export interface OrgsTable {
  id: Generated<number>;
  kind: OrgKind;
  name: string;
  code: string | null;
  hrb_level: 'county' | 'city' | 'province' | null;
  committee_level: 'senior' | 'intermediate' | null;
  region_code: string | null;
  uscc: string | null;
  nature: string | null;
  unit_level: string | null;
  supervisor_org_id: number | null;
  address: string | null;
  phone: string | null;
  contact: string | null;
  scope: string | null;
  organizer: string | null;
  plan_months: string | null;
  series_code: string | null;
  disabled: Generated<number>;
  committee_tier: 'city' | 'province' | null;
  legal_rep: string | null;
  industry: string | null;
  location: string | null;
  fax: string | null;
  remark: string | null;
  license_file_id: number | null;
  seal_file_id: number | null;
  supervisor_status: 'pending' | 'approved' | 'rejected' | null;
  /** 证书编号 pattern of a committee (src/domain/evaluation.ts); null = default. */
  cert_pattern?: string | null;
  /** Months a bureau accepts 初定/认定, e.g. '1,4,7,10'; null = the default (migrations/0017). */
  recognition_months?: string | null;
  created_at: string;
  updated_at: string;
  /** The organisation that created this one (0018, the tree); null = made by the platform. */
  parent_org_id?: number | null;
  /** Removed from the tree by its parent's admin (0018); the row stays for history. */
  removed_at?: string | null;
}

/** 更名记录 (0018). */
export interface OrgRenamesTable {
  id: Generated<number>;
  org_id: number;
  old_name: string;
  new_name: string;
  by_user_id: number | null;
  by_name: string;
  renamed_at: string;
}

export interface UsersTable {
  id: Generated<number>;
  kind: 'applicant' | 'staff';
  username: string | null;
  name: string;
  id_enc: string | null;
  id_hmac: string | null;
  id_masked: string | null;
  phone_enc: string | null;
  phone_hmac: string | null;
  phone_masked: string | null;
  password_hash: string;
  org_id: number | null;
  roles: Generated<string>;
  unit_org_id: number | null;
  failed_logins: Generated<number>;
  locked_at: string | null;
  disabled: Generated<number>;
  must_change_password: Generated<number>;
  password_changed_at: string | null;
  last_login_at: string | null;
  person_user_id: number | null;
  created_at: string;
  updated_at: string;
  /** Comma list of granted permissions, e.g. 'reveal_pii' (0008; granted by the security admin). */
  permissions: Generated<string>;
  /** Two-factor login (0009): encrypted base32 secret; counts once enrolment is confirmed. */
  totp_secret_enc: string | null;
  totp_enabled: Generated<number>;
  /** Last accepted TOTP time step: codes of this or an earlier step are refused (replay). */
  totp_last_step: number | null;
  totp_enabled_at: string | null;
  /** 本级人员授权 (0018): comma list of duties (src/domain/duties.ts); null = all of the org's. */
  duties?: string | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface DictItemsTable {
  id: Generated<number>;
  dict: string;
  code: string;
  name: string;
  parent_code: string | null;
  sort: Generated<number>;
  extra: string | null;
  disabled: Generated<number>;
}

export interface RegionsTable {
  code: string;
  name: string;
  parent_code: string | null;
  level: 'province' | 'city' | 'county';
  zone: Generated<number>;
  disabled: Generated<number>;
}

export interface SeriesTable {
  code: string;
  name: string;
  sort: Generated<number>;
  /** 0020: a series no longer offered (kept while in use). */
  disabled: Generated<number>;
}

export interface TitlesTable {
  id: Generated<number>;
  series_code: string;
  track: string | null;
  level: string;
  name: string;
  sort: Generated<number>;
  disabled: Generated<number>;
}

export interface HolidaysTable {
  date: string;
  kind: 'holiday' | 'workday';
  name: string;
}

export interface HolidayYearsTable {
  year: number;
  source: string | null;
}

export interface PlansTable {
  id: Generated<number>;
  committee_org_id: number;
  year: number;
  name: string;
  series_code: string | null;
  levels: Generated<string>;
  opens_at: string;
  closes_at: string;
  notice: string | null;
  specialties: string | null;
  categories: Generated<string>;
  required_sections: string | null;
  required_slots: string | null;
  max_returns: Generated<number>;
  publicity_required: Generated<number>;
  publicity_days: Generated<number>;
  major_mismatch: Generated<'warn' | 'block'>;
  eligibility_mode: Generated<'warn' | 'block'>;
  eligibility_rules: string | null;
  /** Who may declare (migration 0015): JSON {rule: 'warn'|'block'}; a missing rule keeps its default (src/domain/whoMay.ts). */
  declare_rules: string | null;
  /** 评审通过比例 (migration 0006): 同意 / 实到 ≥ a/b, text "a/b", default '2/3'. */
  pass_ratio: Generated<string>;
  /** 系列 不限 chosen deliberately (migration 0014): every series' titles; 0 = series_code, else the committee's series. */
  any_series: Generated<number>;
  /** Opening / closing minute HH:MM China time (migration 0016); null = 00:00 / 24:00. */
  opens_time: string | null;
  closes_time: string | null;
  /** 开始/截止收审材料日期 and 统一报送 of a provincial plan whose window was computed (0016). */
  materials_from: string | null;
  materials_until: string | null;
  central_submit: Generated<number>;
  /** 否决比例 "a/b" or null (migration 0019). */
  reject_ratio: string | null;
  /** 最少参加表决评委人数 or null = no quorum rule (migration 0019). */
  min_members: number | null;
  /** Series sections (migration 0026): 教育理论考试 合格分数, 每年最低学时, 代表作篇数上限 (null = not asked), 知网收录证明. */
  theory_pass_mark: number | null;
  min_study_hours: number | null;
  max_representative: number | null;
  cnki_required: Generated<number>;
  created_at: string;
  updated_at: string | null;
}

export interface MessagesTable {
  id: Generated<number>;
  user_id: number;
  type: string;
  content: string;
  read_at: string | null;
  created_at: string;
}

export interface ProfilesTable {
  user_id: number;
  data: string;
  updated_at: string;
}

export interface SectionRowsTable {
  id: Generated<number>;
  user_id: number;
  section: string;
  position: number;
  data: string;
  created_at: string;
  updated_at: string;
}

export interface FilesTable {
  id: Generated<number>;
  user_id: number;
  sha256: string;
  size: number;
  mime: string;
  original_name: string;
  width: number | null;
  height: number | null;
  created_at: string;
}

export interface AttachmentsTable {
  id: Generated<number>;
  user_id: number;
  owner_type: 'row' | 'profile' | 'declaration' | 'supplement' | 'recognition' | 'cert_service' | 'notice';
  owner_id: number;
  slot: string;
  file_id: number;
  created_at: string;
}

export type DeclarationStatus = 'draft' | 'reviewing' | 'returned' | 'approved' | 'rejected' | 'failed_for_year' | 'passed' | 'failed';

export interface DeclarationsTable {
  id: Generated<number>;
  user_id: number;
  plan_id: number;
  year: number;
  status: DeclarationStatus;
  cover: string;
  route: string | null;
  stage: Generated<number>;
  returns_count: Generated<number>;
  version_id: number | null;
  submit_token: string | null;
  submitted_at: string | null;
  unit_opinion: string | null;
  unit_verified_at: string | null;
  publicity_state: 'open' | 'no_objection' | 'objection' | null;
  recommendation_id: number | null;
  paper_received_at: string | null;
  created_at: string;
  updated_at: string;
  /** The cover's level and level_name (migration 0021: statistics group by them). */
  cover_level: string | null;
  cover_level_name: string | null;
  /** 转入: the sending committee's name on a declaration received by 转评委会 (0029). */
  transfer_from?: string | null;
}

export interface DeclarationVersionsTable {
  id: Generated<number>;
  declaration_id: number;
  no: number;
  snapshot: string;
  sha256: string;
  created_at: string;
}

export interface WorkflowEventsTable {
  id: Generated<number>;
  declaration_id: number;
  actor_user_id: number | null;
  org_id: number | null;
  stage: number | null;
  action: string;
  opinion: string | null;
  from_status: string | null;
  to_status: string | null;
  data: string | null;
  created_at: string;
}

export interface NoticesTable {
  id: Generated<number>;
  org_id: number;
  plan_id: number | null;
  title: string;
  body: string;
  author_user_id: number | null;
  published_at: string;
  created_at: string;
}

export interface NoticeReadsTable {
  notice_id: number;
  user_id: number;
  read_at: string;
}

export interface RemindersSentTable {
  declaration_id: number;
  kind: '7d' | '1d';
  sent_at: string;
}

/** Append-only audit trail, HMAC-chained (migrations/0007_audit.ts, src/features/audit). */
export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  user_id: number | null;
  username: string | null;
  name: string | null;
  role: string | null;
  org_id: number | null;
  ip: string | null;
  action: string;
  object_type: string | null;
  object_id: string | null;
  result: 'ok' | 'fail';
  detail: string | null;
  prev_mac: string;
  mac: string;
}

/** A periodic job's lease (src/lib/jobs.ts): exactly one process runs it per interval. */
export interface JobRunsTable {
  name: string;
  holder: string;
  lease_until: string;
  last_run_at: string | null;
}

/** File bytes by sha256 when BLOB_STORE=db (src/lib/blobs.ts). */
export interface BlobsTable {
  sha256: string;
  size: number;
  data: Buffer;
  created_at: string;
}

export interface Database {
  post_quotas: PostQuotasTable;
  appointments: AppointmentsTable;
  integrity_records: IntegrityRecordsTable;
  unit_sanctions: UnitSanctionsTable;
  org_renames: OrgRenamesTable;
  import_batches: ImportBatchesTable;
  legacy_certificates: LegacyCertificatesTable;
  api_tokens: ApiTokensTable;
  transfer_peers: TransferPeersTable;
  transfer_batches: TransferBatchesTable;
  transfer_items: TransferItemsTable;
  job_runs: JobRunsTable;
  blobs: BlobsTable;
  audit_log: AuditLogTable;
  evaluations: EvaluationsTable;
  evaluation_votes: EvaluationVotesTable;
  eval_groups: EvalGroupsTable;
  eval_group_decls: EvalGroupDeclsTable;
  evaluation_members: EvaluationMembersTable;
  evaluation_rounds: EvaluationRoundsTable;
  round_tallies: RoundTalliesTable;
  round_voted: RoundVotedTable;
  experts: ExpertsTable;
  expert_conflicts: ExpertConflictsTable;
  expert_draws: ExpertDrawsTable;
  drawn_experts: DrawnExpertsTable;
  result_publicities: ResultPublicitiesTable;
  certificates: CertificatesTable;
  cert_services: CertServicesTable;
  print_records: PrintRecordsTable;
  pdf_cache: PdfCacheTable;
  unit_checkers: UnitCheckersTable;
  checker_signoffs: CheckerSignoffsTable;
  unit_stage_records: UnitStageRecordsTable;
  supervisor_requests: SupervisorRequestsTable;
  declaration_stages: DeclarationStagesTable;
  publicities: PublicitiesTable;
  publicity_items: PublicityItemsTable;
  recommendations: RecommendationsTable;
  declarations: DeclarationsTable;
  declaration_versions: DeclarationVersionsTable;
  workflow_events: WorkflowEventsTable;
  notices: NoticesTable;
  notice_reads: NoticeReadsTable;
  reminders_sent: RemindersSentTable;
  profiles: ProfilesTable;
  section_rows: SectionRowsTable;
  files: FilesTable;
  attachments: AttachmentsTable;
  supplement_requests: SupplementRequestsTable;
  messages: MessagesTable;
  orgs: OrgsTable;
  users: UsersTable;
  totp_recovery_codes: TotpRecoveryCodesTable;
  password_history: PasswordHistoryTable;
  login_failures: LoginFailuresTable;
  sessions: SessionsTable;
  pending_forms: PendingFormsTable;
  sms_codes: SmsCodesTable;
  sms_outbox: SmsOutboxTable;
  rate_counters: RateCountersTable;
  sms_challenges: SmsChallengesTable;
  settings: SettingsTable;
  dict_items: DictItemsTable;
  regions: RegionsTable;
  series: SeriesTable;
  titles: TitlesTable;
  holidays: HolidaysTable;
  holiday_years: HolidayYearsTable;
  plans: PlansTable;
  recognitions: RecognitionsTable;
  recognition_events: RecognitionEventsTable;
}

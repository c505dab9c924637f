import type { Generated } from 'kysely';

/** 岗位设置与聘任 (migration 0025, src/domain/posts.ts). Re-exported by src/db/schema.ts. */
export interface PostQuotasTable {
  org_id: number;
  level: string;
  quota: number;
  updated_by: number | null;
  updated_at: string;
}

export interface AppointmentsTable {
  id: Generated<number>;
  org_id: number;
  user_id: number;
  level: string;
  post_name: string | null;
  start_date: string;
  end_date: string | null;
  certificate_id: number | null;
  created_by: number | null;
  created_at: string;
  ended_by: number | null;
  ended_at: string | null;
}

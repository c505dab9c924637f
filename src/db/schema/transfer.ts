import type { Generated } from 'kysely';

/** 转评委会 / 接收评审情况 (migration 0029, src/features/exchange/transfer.ts). Re-exported by src/db/schema.ts. */

/** Another deployment's committee whose signed archives this committee accepts. */
export interface TransferPeersTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  /** Ed25519 public key, base64 of the raw 32 bytes. */
  public_key: string;
  created_by: number | null;
  created_at: string;
  removed_at: string | null;
}

/** out: declarations sent; in: declarations received; results_in: 评审情况 received for an out batch. */
export type TransferDirection = 'out' | 'in' | 'results_in';

export interface TransferBatchesTable {
  id: Generated<number>;
  org_id: number;
  direction: TransferDirection;
  /** The archive's id (manifest.id): an archive is imported once. */
  archive_id: string;
  /** results_in: the out batch's archive id the results answer. */
  ref_archive_id: string | null;
  peer_id: number | null;
  /** Out: the receiving committee's name as typed; in: the trusted peer's name. */
  peer_name: string;
  /** In: the plan the received declarations were put under. */
  plan_id: number | null;
  count: number;
  sha256: string | null;
  created_by: number | null;
  created_at: string;
}

export interface TransferItemsTable {
  batch_id: number;
  declaration_id: number;
  /** The declaration's id on the other deployment. */
  remote_id: number | null;
}

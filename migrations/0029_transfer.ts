import type { Kysely } from 'kysely';
import { autoId } from '../src/db/ddl.js';

// Issue #17, 高中级申报信息转评委会 / 接收高中级评审情况 (seed 004): a committee office hands a batch
// of declarations to another deployment's committee as a signed archive and receives the results
// back. transfer_peers: the other deployments' public keys a committee trusts; transfer_batches:
// every archive made or imported (direction out/in/results_in); transfer_items: which local
// declaration stands for which declaration id on the other side; declarations.transfer_from:
// the sender's name on a received declaration (转入).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('transfer_peers')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('created_by', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('removed_at', 'text')
    .execute();
  await db.schema.createIndex('transfer_peers_org').on('transfer_peers').column('org_id').execute();

  await db.schema
    .createTable('transfer_batches')
    .addColumn('id', 'integer', autoId(db))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('archive_id', 'text', (c) => c.notNull())
    .addColumn('ref_archive_id', 'text')
    .addColumn('peer_id', 'integer')
    .addColumn('peer_name', 'text', (c) => c.notNull())
    .addColumn('plan_id', 'integer')
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text')
    .addColumn('created_by', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('transfer_batches_org').on('transfer_batches').columns(['org_id', 'direction']).execute();
  await db.schema.createIndex('transfer_batches_archive').on('transfer_batches').columns(['org_id', 'archive_id', 'direction']).unique().execute();

  await db.schema
    .createTable('transfer_items')
    .addColumn('batch_id', 'integer', (c) => c.notNull().references('transfer_batches.id'))
    .addColumn('declaration_id', 'integer', (c) => c.notNull().references('declarations.id'))
    .addColumn('remote_id', 'integer')
    .addPrimaryKeyConstraint('transfer_items_pk', ['batch_id', 'declaration_id'])
    .execute();
  await db.schema.createIndex('transfer_items_declaration').on('transfer_items').column('declaration_id').execute();

  await db.schema.alterTable('declarations').addColumn('transfer_from', 'text').execute();
}

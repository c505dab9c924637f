import { Migrator, type MigrationProvider } from 'kysely';
import { migrations } from '../../migrations/index.js';
import { dialectOf, type DB } from './index.js';
import { pgMigrationPlugin } from './postgres.js';

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Applies pending migrations; throws with the failing migration's name. */
export async function migrateToLatest(db: DB): Promise<string[]> {
  const migrator = new Migrator({ db: dialectOf(db) === 'postgres' ? db.withPlugin(pgMigrationPlugin) : db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    e.message = `migration ${failed?.migrationName ?? '?'} failed: ${e.message}`;
    throw e;
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

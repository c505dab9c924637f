import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import { dialectOf } from './index.js';

/**
 * Portable DDL pieces for migrations. The SQLite output is exactly what the migrations wrote
 * before PostgreSQL existed (`integer primary key autoincrement`), so databases created then are
 * the same as ones created now; PostgreSQL gets an identity column.
 */
export function autoId(db: Kysely<any>) {
  const pg = dialectOf(db) === 'postgres';
  return (c: ColumnDefinitionBuilder) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement());
}

import type pgTypes from 'pg';
import {
  DataTypeNode, Kysely, OperationNodeTransformer, PostgresDialect, PrimitiveValueListNode, ValueNode,
  type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow,
} from 'kysely';

/**
 * PostgreSQL for sites that outgrow one machine (DATABASE_URL=postgres://…). Everything that
 * knows about `pg` is in this file; the rest of the app sees a Kysely instance.
 */

// count(*), sum() and bigint columns come back as strings by default (int8 can exceed 2^53).
// Our counts and ids never do; the SQLite side returns numbers, so both sides agree.
// `pg` is loaded on first use: a SQLite site never pays for it at start-up (issue #18).
let pgModule: typeof pgTypes | null = null;
async function loadPg(): Promise<typeof pgTypes> {
  if (pgModule) return pgModule;
  const pg = (await import('pg')).default;
  pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
  pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
  return (pgModule = pg);
}

/**
 * SQLite binds a NaN parameter as NULL (an id parsed from a bad URL or form value matches
 * nothing); pg would send 'NaN' and PostgreSQL refuses it for an integer column. Both sides
 * now see NULL, so `where id = ${Number('abc')}` finds nothing on either.
 */
class NaNAsNull extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    return typeof node.value === 'number' && Number.isNaN(node.value) ? ValueNode.create(null) : super.transformValue(node);
  }
  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return node.values.some((v) => typeof v === 'number' && Number.isNaN(v))
      ? PrimitiveValueListNode.create(node.values.map((v) => (typeof v === 'number' && Number.isNaN(v) ? null : v)))
      : super.transformPrimitiveValueList(node);
  }
}

class SqliteCompatibleParameters implements KyselyPlugin {
  private t = new NaNAsNull();
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.t.transformNode(args.node);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/**
 * SQLite's integer is 64-bit; PostgreSQL's is 32. Migrations say 'integer' (portable); on
 * PostgreSQL they create bigint, so any id or number that fits on one side fits on the other
 * (an 18-digit 身份证号 typed into an id filter finds nothing instead of failing).
 */
class IntegerAsBigint extends OperationNodeTransformer {
  protected override transformDataType(node: DataTypeNode): DataTypeNode {
    return node.dataType === 'integer' ? DataTypeNode.create('bigint') : super.transformDataType(node);
  }
}

/** For the migrator on PostgreSQL: 'integer' columns become bigint. */
export const pgMigrationPlugin: KyselyPlugin = {
  transformQuery: (args) => new IntegerAsBigint().transformNode(args.node),
  transformResult: async (args) => args.result,
};

/** A wrong DATABASE_URL, an unreachable server, refused credentials: said in one line. */
export class DbConnectError extends Error {}

export interface PgOptions {
  url: string;
  max?: number;
  statementTimeoutMs?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
}

export interface PgTarget {
  host: string;
  port: string;
  database: string;
  user: string;
}

/** Host, port, database and user of a postgres:// URL (never the password). */
export function pgTarget(url: string): PgTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DbConnectError('DATABASE_URL 格式不正确 (expected postgres://user:password@host:5432/database)');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new DbConnectError(`DATABASE_URL 必须以 postgres:// 开头 (got ${u.protocol}//…)`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  const host = u.hostname || u.searchParams.get('host') || 'localhost';
  return { host, port: u.port || '5432', database, user: decodeURIComponent(u.username) || process.env.PGUSER || 'postgres' };
}

export function describePg(t: PgTarget): string {
  return `postgres://${t.user}@${t.host}:${t.port}/${t.database}`;
}

/** Turns a connection failure into a sentence naming the part that failed. */
export function explainPgError(err: unknown, t: PgTarget): DbConnectError {
  const e = err as { code?: string; message?: string };
  const where = `${t.host}:${t.port}`;
  switch (e.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new DbConnectError(`无法解析数据库主机 ${t.host}（DATABASE_URL 的主机名有误？）cannot resolve database host ${t.host}`);
    case 'ECONNREFUSED':
      return new DbConnectError(`无法连接数据库服务器 ${where}（服务未启动或端口有误）connection refused by ${where}`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new DbConnectError(`连接数据库服务器 ${where} 超时 timed out connecting to ${where}`);
    case '28P01':
    case '28000':
      return new DbConnectError(`数据库认证失败：用户 ${t.user} 的密码或访问权限不正确 authentication failed for user "${t.user}" on ${where}`);
    case '3D000':
      return new DbConnectError(`数据库 ${t.database} 不存在（请先 createdb ${t.database}）database "${t.database}" does not exist on ${where}`);
    default:
      return new DbConnectError(`无法连接数据库 ${describePg(t)}：${e.code ? `${e.code} ` : ''}${(e.message ?? String(err)).split('\n')[0]}`);
  }
}

/** A pool for the URL, checked with one query before it is handed out. */
export async function openPostgres<DBT>(opts: PgOptions) {
  const target = pgTarget(opts.url);
  const pg = await loadPg();
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    idleTimeoutMillis: 30_000,
    // A server that is down (or restarting) fails a request after this instead of hanging it.
    connectionTimeoutMillis: 10_000,
    application_name: opts.applicationName ?? 'zhicheng',
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
  });
  // An idle client whose server went away emits 'error' on the pool; unhandled it would end
  // the process. The pool drops that client and opens a new one on the next query.
  pool.on('error', () => {});
  // A client that is checked out (Kysely holds one between the queries of a transaction) has
  // no such listener: a server restart or pg_terminate_backend then emitted an unhandled
  // 'error' and ended the whole process (test/integration/pg-reconnect.test.ts). The client
  // marks itself unusable, its query (if any) fails with the error (the request answers 500),
  // and the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const c = await pool.connect();
    c.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw explainPgError(err, target);
  }
  const db = new Kysely<DBT>({ dialect: new PostgresDialect({ pool }), plugins: [new SqliteCompatibleParameters()] });
  return {
    db,
    dialect: 'postgres' as const,
    describe: describePg(target),
    pool,
    async close() {
      await db.destroy(); // ends the pool
    },
  };
}

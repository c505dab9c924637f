/**
 * API tokens of other government systems (issue #17; table api_tokens of migration 0020).
 * A token is `zc_` + 43 base64url characters (256 random bits), shown once when the system admin
 * creates it; only its SHA-256 is stored, with an 8-character prefix to recognise it in lists.
 * Each token is scoped to one organisation: it reads what that organisation's staff could see
 * (src/features/api/service.ts). Revoked tokens stay listed (revoked_at) and are refused.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { AppContext } from '../../context.js';
import type { FastifyRequest } from 'fastify';
import type { CurrentUser } from '../../plugins/auth.js';
import { writeTx } from '../../db/index.js';
import { audit } from '../audit/service.js';

export const TOKEN_PREFIX = 'zc_';
const TOKEN_RE = /^zc_[A-Za-z0-9_-]{43}$/;

export const hashToken = (token: string) => crypto.createHash('sha256').update(token, 'utf8').digest('hex');

export function newToken(): string {
  return TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
}

export interface ApiClient {
  tokenId: number;
  name: string;
  orgId: number;
  orgKind: string;
  orgName: string;
}

export type AuthResult = { ok: true; client: ApiClient } | { ok: false; message: string };

/** The client of a presented token, or why it is refused (all refusals are 401). */
export async function authenticate(ctx: AppContext, token: string | undefined): Promise<AuthResult> {
  if (!token) return { ok: false, message: '缺少访问令牌，请在请求头 Authorization 中提供 Bearer 令牌' };
  if (!TOKEN_RE.test(token)) return { ok: false, message: '访问令牌无效' };
  const row = await ctx.db
    .selectFrom('api_tokens as t')
    .innerJoin('orgs as o', 'o.id', 't.org_id')
    .select(['t.id', 't.name', 't.org_id', 't.revoked_at', 't.last_used_at', 'o.kind', 'o.name as org_name', 'o.disabled'])
    .where('t.token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row) return { ok: false, message: '访问令牌无效' };
  if (row.revoked_at) return { ok: false, message: '访问令牌已被吊销' };
  if (Number(row.disabled)) return { ok: false, message: '访问令牌所属机构已停用' };
  // last_used_at: written at most once a minute per token (not a write on every call).
  const now = ctx.config.now();
  if (!row.last_used_at || Date.parse(row.last_used_at) < now.getTime() - 60_000) {
    await ctx.db.updateTable('api_tokens').set({ last_used_at: now.toISOString() }).where('id', '=', row.id).execute();
  }
  return { ok: true, client: { tokenId: row.id, name: row.name, orgId: row.org_id, orgKind: row.kind, orgName: row.org_name } };
}

/** The bearer token of a request (Authorization: Bearer …), else undefined. */
export function bearerOf(header: string | string[] | undefined): string | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

export interface CreateInput {
  name?: string;
  org_id?: string;
}

/** Creates a token; the clear token is returned once and never stored. */
export async function createToken(ctx: AppContext, req: FastifyRequest, by: Pick<CurrentUser, 'id'>, b: CreateInput): Promise<{ ok: true; id: number; token: string; orgName: string } | { ok: false; errors: Record<string, string> }> {
  const errors: Record<string, string> = {};
  const name = (b.name ?? '').trim();
  if (!name) errors.name = '请填写令牌名称（调用系统）';
  else if ([...name].length > 50) errors.name = '令牌名称不能超过50个字';
  const orgId = /^\d{1,9}$/.test(b.org_id ?? '') ? Number(b.org_id) : 0;
  const org = orgId ? await ctx.db.selectFrom('orgs').select(['id', 'name']).where('id', '=', orgId).where('kind', 'in', ['platform', 'hrb', 'committee', 'supervisor']).where('disabled', '=', 0).executeTakeFirst() : undefined;
  if (!org) errors.org_id = '请选择令牌所属机构';
  if (Object.keys(errors).length) return { ok: false, errors };
  const token = newToken();
  const prefix = token.slice(0, 8 + TOKEN_PREFIX.length);
  const id = await writeTx(ctx.db, async (trx) => {
    const row = await trx
      .insertInto('api_tokens')
      .values({ name, org_id: org!.id, token_hash: hashToken(token), prefix, created_by: by.id, created_at: ctx.config.now().toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(ctx, req, { action: 'api_token_create', objectType: 'api_token', objectId: row.id, detail: `${name}（${org!.name}，${prefix}…）` }, trx);
    return row.id;
  });
  return { ok: true, id, token, orgName: org!.name };
}

export async function revokeToken(ctx: AppContext, req: FastifyRequest, by: Pick<CurrentUser, 'id'>, id: number): Promise<{ ok: true; name: string } | { ok: false; error: string; status: number }> {
  const row = Number.isSafeInteger(id) ? await ctx.db.selectFrom('api_tokens').select(['id', 'name', 'revoked_at']).where('id', '=', id).executeTakeFirst() : undefined;
  if (!row) return { ok: false, error: '令牌不存在', status: 404 };
  if (row.revoked_at) return { ok: false, error: '该令牌已吊销', status: 409 };
  const done = await writeTx(ctx.db, async (trx) => {
    const r = await trx.updateTable('api_tokens').set({ revoked_at: ctx.config.now().toISOString(), revoked_by: by.id }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    if (!Number(r.numUpdatedRows)) return false;
    await audit(ctx, req, { action: 'api_token_revoke', objectType: 'api_token', objectId: id, detail: row.name }, trx);
    return true;
  });
  if (!done) return { ok: false, error: '该令牌已吊销', status: 409 };
  return { ok: true, name: row.name };
}

export async function getToken(ctx: AppContext, id: number) {
  if (!Number.isSafeInteger(id)) return undefined;
  return ctx.db.selectFrom('api_tokens as t').innerJoin('orgs as o', 'o.id', 't.org_id').select(['t.id', 't.name', 't.prefix', 't.revoked_at', 'o.name as org_name']).where('t.id', '=', id).executeTakeFirst();
}

export async function listTokens(ctx: AppContext) {
  return ctx.db
    .selectFrom('api_tokens as t')
    .innerJoin('orgs as o', 'o.id', 't.org_id')
    .leftJoin('users as c', 'c.id', 't.created_by')
    .select(['t.id', 't.name', 't.prefix', 't.created_at', 't.revoked_at', 't.last_used_at', 'o.name as org_name', 'c.name as creator'])
    // Active tokens first (the same on SQLite and PostgreSQL, whatever their null ordering).
    .orderBy(sql`case when t.revoked_at is null then 0 else 1 end`)
    .orderBy('t.id', 'desc')
    .limit(500)
    .execute();
}

/** Organisations a token may be scoped to (not units: their staff see only their own people). */
export async function tokenOrgs(ctx: AppContext) {
  return ctx.db.selectFrom('orgs').select(['id', 'name', 'kind']).where('kind', 'in', ['platform', 'hrb', 'committee', 'supervisor']).where('disabled', '=', 0).orderBy('kind').orderBy('name').execute();
}

/**
 * What the read-only API (/api/v1, src/features/api/routes.ts) reads, always through the token's
 * organisation: a platform token reads everything; any other organisation reads what its staff
 * see in 申报审核 (review/scope.ts scoped(): declarations whose route passes through it, from
 * its stage on). Certificates of the old system (导入历史证书) carry no organisation: platform
 * tokens only. Persons are given with the masked 身份证号, never the full number.
 */
import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { LEVEL_NAMES } from '../../domain/declaration.js';
import { idHmac } from '../../lib/pii.js';
import { scoped, scopedOnce } from '../review/scope.js';
import { parseCover } from '../declaration/service.js';
import { latestConfirmedVotes } from '../results/votes.js';
import type { ApiClient } from './tokens.js';

export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 20;

const isPlatform = (c: ApiClient) => c.orgKind === 'platform';

export interface ApiCertificate {
  number: string;
  source: 'issued' | 'legacy';
  name: string;
  id_number_masked: string;
  title: string;
  level: string;
  level_name: string;
  specialty: string;
  issuer: string;
  issued_on: string;
  doc_no: string | null;
  method: string;
  plan_id: number | null;
}

const chinaDay = (iso: string) => new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 10);

function issuedQuery(ctx: AppContext, c: ApiClient) {
  let q = ctx.db
    .selectFrom('certificates as c')
    .innerJoin('declarations as d', 'd.id', 'c.declaration_id')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .innerJoin('orgs as o', 'o.id', 'c.committee_org_id');
  if (!isPlatform(c)) {
    const inScope = scoped(ctx.db as Kysely<Database>, { orgId: c.orgId }).select('d.id');
    q = q.where('d.id', 'in', inScope as never);
  }
  return q;
}
const ISSUED_COLUMNS = ['c.id', 'c.number', 'c.doc_no', 'c.issued_at', 'd.plan_id', 'd.cover', 'u.name', 'u.id_masked', 'o.name as committee'] as const;
const LEGACY_COLUMNS = ['id', 'number', 'name', 'id_masked', 'title_name', 'level', 'specialty', 'obtained_on', 'issuer', 'method'] as const;

function issuedView(r: { number: string; doc_no: string; issued_at: string; plan_id: number; cover: string; name: string; id_masked: string | null; committee: string }): ApiCertificate {
  let cover: Partial<ReturnType<typeof parseCover>> = {};
  try {
    cover = parseCover(r);
  } catch { /* an unreadable cover gives blank fields */ }
  const title = cover.title ?? '';
  return {
    number: r.number, source: 'issued', name: r.name, id_number_masked: r.id_masked ?? '',
    title: title.split(' - ').slice(1).join(' - ') || title, level: cover.level ?? '', level_name: (cover.level && LEVEL_NAMES[cover.level]) || cover.level_name || '',
    specialty: cover.specialty ?? '', issuer: r.committee, issued_on: chinaDay(r.issued_at), doc_no: r.doc_no || null, method: '评审', plan_id: r.plan_id,
  };
}

function legacyView(r: { number: string; name: string; id_masked: string; title_name: string; level: string; specialty: string; obtained_on: string; issuer: string; method: string }): ApiCertificate {
  return {
    number: r.number, source: 'legacy', name: r.name, id_number_masked: r.id_masked, title: r.title_name, level: r.level, level_name: LEVEL_NAMES[r.level] ?? r.level,
    specialty: r.specialty, issuer: r.issuer, issued_on: r.obtained_on, doc_no: null, method: r.method, plan_id: null,
  };
}

/** One certificate by its number, within the client's scope (undefined: none it may see). */
export async function certificateByNumber(ctx: AppContext, c: ApiClient, number: string): Promise<ApiCertificate | undefined> {
  const issued = await issuedQuery(ctx, c).select([...ISSUED_COLUMNS]).where('c.number', '=', number).executeTakeFirst();
  if (issued) return issuedView(issued);
  if (!isPlatform(c)) return undefined;
  const legacy = await ctx.db.selectFrom('legacy_certificates').select([...LEGACY_COLUMNS]).where('number', '=', number).executeTakeFirst();
  return legacy ? legacyView(legacy) : undefined;
}

/**
 * A person's certificates by 身份证号 (looked up by its HMAC, never stored or compared in clear):
 * issued ones first (newest first), then imported ones; page/limit over both.
 */
export async function certificatesByIdNumber(ctx: AppContext, c: ApiClient, idNumber: string, page: number, limit: number) {
  const hmac = idHmac(ctx.secrets, idNumber);
  const issuedBase = issuedQuery(ctx, c).where('u.id_hmac', '=', hmac);
  const legacyBase = ctx.db.selectFrom('legacy_certificates').where('id_hmac', '=', hmac);
  const [ni, nl] = await Promise.all([
    issuedBase.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst(),
    isPlatform(c) ? legacyBase.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst() : Promise.resolve({ n: 0 }),
  ]);
  const nIssued = Number(ni?.n ?? 0);
  const total = nIssued + Number(nl?.n ?? 0);
  const offset = (page - 1) * limit;
  const data: ApiCertificate[] = [];
  if (offset < nIssued) {
    const rows = await issuedBase.select([...ISSUED_COLUMNS]).orderBy('c.issued_at', 'desc').orderBy('c.id', 'desc').limit(limit).offset(offset).execute();
    data.push(...rows.map(issuedView));
  }
  if (data.length < limit && isPlatform(c) && offset + data.length < total) {
    const rows = await legacyBase.select([...LEGACY_COLUMNS]).orderBy('obtained_on', 'desc').orderBy('id', 'desc').limit(limit - data.length).offset(Math.max(0, offset - nIssued)).execute();
    data.push(...rows.map(legacyView));
  }
  return { data, page, limit, total, has_more: offset + data.length < total };
}

/** Plans the client may read the results of, newest first (page/limit). */
export async function plansOf(ctx: AppContext, c: ApiClient, page: number, limit: number) {
  let q = ctx.db.selectFrom('plans as p').innerJoin('orgs as o', 'o.id', 'p.committee_org_id');
  if (!isPlatform(c)) {
    const seen = scopedOnce(ctx.db, { orgId: c.orgId }).select('d.plan_id');
    q = q.where((eb) => eb.or([eb('p.committee_org_id', '=', c.orgId), eb('p.id', 'in', seen as never)]));
  }
  const [{ n }] = await q.select((eb) => eb.fn.countAll<number>().as('n')).execute();
  const rows = await q
    .select(['p.id', 'p.name', 'p.year', 'p.series_code', 'p.opens_at', 'p.closes_at', 'o.name as committee'])
    .orderBy('p.year', 'desc').orderBy('p.id', 'desc')
    .limit(limit).offset((page - 1) * limit).execute();
  const total = Number(n);
  return { data: rows, page, limit, total, has_more: (page - 1) * limit + rows.length < total };
}

export type PlanAccess = { ok: true; plan: { id: number; name: string; year: number; committee: string }; all: boolean } | { ok: false; status: 403 | 404 };

/**
 * May the client read this plan's results? 404: no such plan. 403: a plan of another committee
 * none of whose declarations passes through the client's organisation. `all`: every result of
 * the plan (platform, its committee); otherwise only those in the organisation's scope.
 */
export async function planAccess(ctx: AppContext, c: ApiClient, planId: number): Promise<PlanAccess> {
  if (!Number.isSafeInteger(planId)) return { ok: false, status: 404 };
  const p = await ctx.db.selectFrom('plans as p').innerJoin('orgs as o', 'o.id', 'p.committee_org_id').select(['p.id', 'p.name', 'p.year', 'p.committee_org_id', 'o.name as committee']).where('p.id', '=', planId).executeTakeFirst();
  if (!p) return { ok: false, status: 404 };
  const plan = { id: p.id, name: p.name, year: p.year, committee: p.committee };
  if (isPlatform(c) || p.committee_org_id === c.orgId) return { ok: true, plan, all: true };
  const any = await scopedOnce(ctx.db, { orgId: c.orgId }).select('d.id').where('d.plan_id', '=', planId).limit(1).executeTakeFirst();
  return any ? { ok: true, plan, all: false } : { ok: false, status: 403 };
}

export interface ApiResult {
  declaration_id: number;
  name: string;
  id_number_masked: string;
  unit: string;
  title: string;
  level: string;
  level_name: string;
  specialty: string;
  result: 'passed' | 'failed';
  meeting_date: string | null;
  votes: { agree: number; disagree: number; abstain: number } | null;
  certificate_number: string | null;
}

/**
 * The committee's results of a plan (declarations passed or failed), by declaration id
 * ascending, `limit` after the declaration id `after` (keyset: no offset to skip).
 */
export async function planResults(ctx: AppContext, c: ApiClient, access: Extract<PlanAccess, { ok: true }>, after: number, limit: number) {
  let ids = (access.all ? ctx.db.selectFrom('declarations as d') : scopedOnce(ctx.db, { orgId: c.orgId }))
    .select('d.id')
    .where('d.plan_id', '=', access.plan.id)
    .where('d.status', 'in', ['passed', 'failed']);
  if (after > 0) ids = ids.where('d.id', '>', after);
  const page = (await ids.orderBy('d.id').limit(limit + 1).execute()).map((r) => r.id);
  const more = page.length > limit;
  const want = page.slice(0, limit);
  if (!want.length) return { data: [] as ApiResult[], limit, next_after: null as number | null };
  const [rows, vote, certs] = await Promise.all([
    ctx.db
      .selectFrom('declarations as d')
      .innerJoin('users as u', 'u.id', 'd.user_id')
      .leftJoin('orgs as unit', 'unit.id', 'u.unit_org_id')
      .select(['d.id', 'd.status', 'd.cover', 'u.name', 'u.id_masked', 'unit.name as unit_name'])
      .where('d.id', 'in', want)
      .orderBy('d.id')
      .execute(),
    latestConfirmedVotes(ctx.db, want),
    ctx.db.selectFrom('certificates').select(['declaration_id', 'number']).where('declaration_id', 'in', want).execute(),
  ]);
  const cert = new Map(certs.map((x) => [x.declaration_id, x.number] as const));
  const data: ApiResult[] = rows.map((d) => {
    let cover: Partial<ReturnType<typeof parseCover>> = {};
    try {
      cover = parseCover(d);
    } catch { /* blank fields */ }
    const v = vote.get(d.id);
    return {
      declaration_id: d.id, name: d.name, id_number_masked: d.id_masked ?? '', unit: d.unit_name ?? '',
      title: cover.title ?? '', level: cover.level ?? '', level_name: (cover.level && LEVEL_NAMES[cover.level]) || cover.level_name || '', specialty: cover.specialty ?? '',
      result: d.status as 'passed' | 'failed', meeting_date: v?.meeting_date ?? null,
      votes: v ? { agree: v.agree, disagree: v.disagree, abstain: v.abstain } : null,
      certificate_number: cert.get(d.id) ?? null,
    };
  });
  return { data, limit, next_after: more ? want[want.length - 1]! : null };
}

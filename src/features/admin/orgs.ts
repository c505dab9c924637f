import { sql } from 'kysely';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import type { DB } from '../../db/index.js';
import { writeTx } from '../../db/index.js';
import type { OrgKind, OrgsTable } from '../../db/schema.js';
import { compileForm, type FieldErrors } from '../../lib/forms.js';
import { pageParams, makePage } from '../../lib/paging.js';
import { validateUscc } from '../../domain/uscc.js';
import { patternError } from '../../domain/evaluation.js';
import { audit } from '../audit/service.js';

export const ORG_KINDS: { code: OrgKind; name: string }[] = [
  { code: 'unit', name: '用人单位' },
  { code: 'supervisor', name: '主管部门' },
  { code: 'hrb', name: '人社局' },
  { code: 'committee', name: '评委会' },
  { code: 'agency', name: '人事代理机构/行业协会' },
  { code: 'platform', name: '平台' },
];
export const ORG_KIND_LABEL: Record<string, string> = Object.fromEntries(ORG_KINDS.map((k) => [k.code, k.name]));
export const HRB_LEVELS = [
  { code: 'county', name: '县区' },
  { code: 'city', name: '市' },
  { code: 'province', name: '省' },
];
export const COMMITTEE_LEVELS = [
  { code: 'senior', name: '高级' },
  { code: 'intermediate', name: '中级' },
];
const HRB_LEVEL_LABEL: Record<string, string> = Object.fromEntries(HRB_LEVELS.map((k) => [k.code, k.name]));
const COMMITTEE_LEVEL_LABEL: Record<string, string> = Object.fromEntries(COMMITTEE_LEVELS.map((k) => [k.code, k.name]));

/** A LIKE pattern for "contains q", with the wildcards of q escaped (used with escape '\'). */
export function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
}

/**
 * The select macro stringifies the current value, which fails on null/undefined: select
 * fields get '' when empty (a DB null or a field left blank).
 */
export function withBlanks<T extends object>(values: T, keys: readonly string[]): T {
  const out = { ...values } as Record<string, unknown>;
  for (const k of keys) if (out[k] === null || out[k] === undefined) out[k] = '';
  return out as unknown as T;
}
const SELECTS = ['kind', 'region_code', 'hrb_level', 'committee_level', 'committee_tier', 'nature', 'unit_level', 'supervisor_org_id'] as const;

/** Every region with its full path label: "云南省 / 昆明市 / 五华区". */
/** A unit's 统一社会信用代码: valid, and not another organisation's (`exceptId`: the one being edited). */
export async function checkOrgUscc(db: DB, raw: string, exceptId?: number): Promise<{ ok: true; value: string } | { ok: false; error: string }> {
  const v = validateUscc(raw);
  if (!v.ok) return v;
  let q = db.selectFrom('orgs').select('id').where('uscc', '=', v.value);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst()) return { ok: false, error: '该统一社会信用代码已注册' };
  return { ok: true, value: v.value };
}

/**
 * Regions with their path label (省 / 市 / 县区). For a picker (the default): the enabled ones, plus
 * those in `keep` (the region an existing record already has, marked 已停用), so a disabled region is
 * no longer offered but an old record still shows and keeps its own. `all`: every region, for labels.
 */
export async function regionOptions(db: DB, o: { all?: boolean; keep?: readonly (string | null | undefined)[] } = {}): Promise<{ code: string; name: string }[]> {
  const all = await db.selectFrom('regions').select(['code', 'name', 'parent_code', 'disabled']).orderBy('code').execute();
  const rows = o.all ? all : all.filter((r) => !r.disabled || o.keep?.includes(r.code));
  const byCode = new Map(rows.map((r) => [r.code, r]));
  const label = (code: string): string => {
    const parts: string[] = [];
    let cur = byCode.get(code);
    for (let guard = 0; cur && guard < 10; guard++) {
      parts.unshift(cur.name);
      cur = cur.parent_code ? byCode.get(cur.parent_code) : undefined;
    }
    return parts.join(' / ');
  };
  return rows.map((r) => ({ code: r.code, name: !o.all && r.disabled ? `${label(r.code)}（已停用）` : label(r.code) }));
}

/** A region a form may save: it exists and is enabled, or it is the record's own (`keep`). */
export async function regionUsable(db: DB, code: string, keep?: string | null): Promise<{ level: string } | undefined> {
  const r = await db.selectFrom('regions').select(['level', 'disabled']).where('code', '=', code).executeTakeFirst();
  return r && (!r.disabled || code === keep) ? { level: r.level } : undefined;
}

interface OrgForm {
  kind?: OrgKind;
  name?: string;
  hrb_level?: 'county' | 'city' | 'province';
  committee_level?: 'senior' | 'intermediate';
  committee_tier?: 'city' | 'province';
  scope?: string;
  organizer?: string;
  cert_pattern?: string;
  uscc?: string;
  nature?: string;
  unit_level?: string;
  supervisor_org_id?: number;
  region_code?: string;
  address?: string;
  phone?: string;
  contact?: string;
  disabled?: string;
}

const parseOrg = compileForm<OrgForm>({
  type: 'object',
  properties: {
    kind: { type: 'string', title: '类型', enum: ORG_KINDS.map((k) => k.code) },
    name: { type: 'string', title: '名称', maxLength: 100 },
    hrb_level: { type: 'string', title: '级别', enum: HRB_LEVELS.map((k) => k.code) },
    committee_level: { type: 'string', title: '评委会级别', enum: COMMITTEE_LEVELS.map((k) => k.code) },
    committee_tier: { type: 'string', title: '评委会层级', enum: ['city', 'province'] },
    scope: { type: 'string', title: '评审范围', maxLength: 1000 },
    organizer: { type: 'string', title: '组建部门', maxLength: 100 },
    cert_pattern: { type: 'string', title: '证书编号规则', maxLength: 40 },
    uscc: { type: 'string', title: '统一社会信用代码', maxLength: 30 },
    nature: { type: 'string', title: '单位性质', maxLength: 50 },
    unit_level: { type: 'string', title: '单位等级', maxLength: 50 },
    supervisor_org_id: { type: 'integer', title: '主管部门', minimum: 1, errorMessage: '请选择主管部门' },
    region_code: { type: 'string', title: '行政区域', maxLength: 12 },
    address: { type: 'string', title: '地址', maxLength: 200 },
    phone: { type: 'string', title: '联系电话', maxLength: 50, pattern: '^[0-9][0-9 +()（）,，、/转-]*$', errorMessage: '联系电话只能包含数字、空格、“-”和“转”' },
    contact: { type: 'string', title: '联系人', maxLength: 50 },
    disabled: { type: 'string', title: '停用', enum: ['1'] },
  },
  required: ['kind', 'name'],
});

// Registration details (legal_rep, files…) belong to the unit's own pages, not this admin form.
type OrgRow = Omit<OrgsTable, 'id' | 'created_at' | 'updated_at' | 'disabled' | 'code' | 'plan_months' | 'series_code' | 'legal_rep' | 'industry' | 'location' | 'fax' | 'remark' | 'license_file_id' | 'seal_file_id'> & { disabled: number };

/** Server-side checks beyond the schema; irrelevant fields of the chosen kind become null. */
async function checkOrg(ctx: AppContext, body: unknown, existing?: { id: number; kind: OrgKind; region_code?: string | null }): Promise<{ values: OrgForm; errors: FieldErrors; row?: OrgRow }> {
  const { values, errors } = parseOrg(body);
  const kind = values.kind;
  const isUnit = kind === 'unit' || kind === 'agency';
  if (kind === 'platform' && existing?.kind !== 'platform') errors.kind ??= '平台机构只有一个，不能新增或改为平台类型';
  if (existing?.kind === 'platform' && kind && kind !== 'platform') errors.kind ??= '平台机构的类型不能修改';
  if (existing?.kind === 'platform' && values.disabled === '1') errors.disabled ??= '不能停用平台机构';
  if (kind === 'hrb' && !values.hrb_level) errors.hrb_level ??= '请选择级别';

  let uscc: string | null = null;
  if (isUnit && values.uscc && !errors.uscc) {
    const v = await checkOrgUscc(ctx.db, values.uscc, existing?.id);
    if (!v.ok) errors.uscc = v.error;
    else uscc = v.value;
  }
  if (isUnit && values.nature && !errors.nature) {
    const ok = await ctx.db.selectFrom('dict_items').select('id').where('dict', '=', 'unit_nature').where('code', '=', values.nature).executeTakeFirst();
    if (!ok) errors.nature = '请选择单位性质';
  }
  if (isUnit && values.unit_level && !errors.unit_level) {
    const ok = await ctx.db.selectFrom('dict_items').select('id').where('dict', '=', 'unit_level').where('code', '=', values.unit_level).executeTakeFirst();
    if (!ok) errors.unit_level = '请选择单位等级';
  }
  if (isUnit && values.supervisor_org_id !== undefined && !errors.supervisor_org_id) {
    const sup = await ctx.db.selectFrom('orgs').select('id').where('id', '=', values.supervisor_org_id).where('kind', '=', 'supervisor').executeTakeFirst();
    if (!sup || sup.id === existing?.id) errors.supervisor_org_id = '请选择主管部门';
  }
  if (values.region_code && !errors.region_code) {
    if (!(await regionUsable(ctx.db, values.region_code, existing?.region_code))) errors.region_code = '请选择行政区域';
  }
  if (kind === 'committee' && values.cert_pattern && !errors.cert_pattern) {
    const bad = patternError(values.cert_pattern);
    if (bad) errors.cert_pattern = bad;
  }
  if (Object.keys(errors).length || !kind || !values.name) return { values, errors };
  const row: OrgRow = {
    kind,
    name: values.name,
    hrb_level: kind === 'hrb' ? values.hrb_level ?? null : null,
    committee_level: kind === 'committee' ? values.committee_level ?? null : null,
    // A provincial committee adds the city HRB stage to every route (DESIGN.md §3).
    committee_tier: kind === 'committee' ? values.committee_tier ?? 'city' : null,
    // 评审范围 for a committee, 服务范围 for an HR bureau.
    scope: kind === 'committee' || kind === 'hrb' ? values.scope ?? null : null,
    organizer: kind === 'committee' ? values.organizer ?? null : null,
    // Empty: the default ZC{ORG}{YYYY}{SEQ:5} (src/domain/evaluation.ts).
    cert_pattern: kind === 'committee' ? values.cert_pattern ?? null : null,
    uscc: isUnit ? uscc : null,
    nature: isUnit ? values.nature ?? null : null,
    unit_level: isUnit ? values.unit_level ?? null : null,
    supervisor_org_id: isUnit ? values.supervisor_org_id ?? null : null,
    // A binding set by the platform admin needs no approval by the supervisor.
    supervisor_status: isUnit && values.supervisor_org_id ? 'approved' : null,
    region_code: values.region_code ?? null,
    address: values.address ?? null,
    phone: values.phone ?? null,
    contact: values.contact ?? null,
    disabled: values.disabled === '1' ? 1 : 0,
  };
  return { values, errors, row };
}

export default async function orgsRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const formOptions = async (selfId?: number, selfKind?: OrgKind, keepRegion?: string | null) => {
    const dict = (d: string) => ctx.db.selectFrom('dict_items').select(['code', 'name']).where('dict', '=', d).where('disabled', '=', 0).orderBy('sort').execute();
    let sup = ctx.db.selectFrom('orgs').select(['id as code', 'name']).where('kind', '=', 'supervisor').orderBy('name');
    if (selfId) sup = sup.where('id', '!=', selfId);
    return {
      // There is one platform org: it cannot be created, nor can it change kind.
      kinds: selfKind === 'platform' ? ORG_KINDS.filter((k) => k.code === 'platform') : ORG_KINDS.filter((k) => k.code !== 'platform'),
      hrbLevels: HRB_LEVELS,
      committeeLevels: COMMITTEE_LEVELS,
      natures: await dict('unit_nature'),
      unitLevels: await dict('unit_level'),
      supervisors: await sup.execute(),
      regions: await regionOptions(ctx.db, { keep: [keepRegion] }),
    };
  };

  const formPage = async (reply: FastifyReply, data: { org?: { id: number; name: string; kind: OrgKind; code: string | null; users: number }; values: object; errors?: FieldErrors }) => {
    const errors = data.errors ?? {};
    return reply.page('admin/orgs-form.njk', { ...data, values: withBlanks(data.values, SELECTS), errors, ...(await formOptions(data.org?.id, data.org?.kind, data.org ? (await loadOrg(String(data.org.id)))?.region_code : null)) }, Object.keys(errors).length ? 422 : 200);
  };

  const loadOrg = async (raw: string) => {
    const id = Number(raw);
    if (!Number.isInteger(id)) return undefined;
    return ctx.db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst();
  };

  // 组织机构 list: search by name, filter by kind.
  app.get('/admin/orgs', async (req, reply) => {
    const query = req.query as Record<string, string | undefined>;
    const q = (query.q ?? '').trim();
    const kind = ORG_KIND_LABEL[query.kind ?? ''] ? query.kind! : '';
    const { page, size, offset } = pageParams(query, 20);
    let base = ctx.db.selectFrom('orgs as o');
    if (q) base = base.where(sql<boolean>`o.name like ${containsPattern(q)} escape '\\'`);
    if (kind) base = base.where('o.kind', '=', kind as OrgKind);
    const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .select(['o.id', 'o.kind', 'o.name', 'o.hrb_level', 'o.committee_level', 'o.region_code', 'o.phone', 'o.disabled'])
      .orderBy((eb) => {
        let c = eb.case().when('o.kind', '=', ORG_KINDS[0]!.code).then(0);
        ORG_KINDS.slice(1).forEach((k, i) => { c = c.when('o.kind', '=', k.code).then(i + 1); });
        return c.else(99).end();
      })
      .orderBy('o.name')
      .orderBy('o.id')
      .limit(size)
      .offset(offset)
      .execute();
    const regions = new Map((await regionOptions(ctx.db, { all: true })).map((r) => [r.code, r.name]));
    const list = makePage(
      rows.map((r) => ({
        ...r,
        kindLabel: ORG_KIND_LABEL[r.kind] ?? r.kind,
        level: r.kind === 'hrb' ? HRB_LEVEL_LABEL[r.hrb_level ?? ''] ?? '' : r.kind === 'committee' ? COMMITTEE_LEVEL_LABEL[r.committee_level ?? ''] ?? '' : '',
        region: r.region_code ? regions.get(r.region_code) ?? r.region_code : '',
      })),
      Number(n), page, size,
    );
    return reply.page('admin/orgs.njk', { list, q, kind, kinds: ORG_KINDS });
  });

  app.get('/admin/orgs/new', async (req, reply) => {
    const kind = (req.query as Record<string, string | undefined>).kind;
    return formPage(reply, { values: { kind: ORG_KIND_LABEL[kind ?? ''] && kind !== 'platform' ? kind : '' } });
  });

  app.post('/admin/orgs/new', async (req, reply) => {
    const { values, errors, row } = await checkOrg(ctx, req.body);
    if (!row) return formPage(reply, { values, errors });
    const stamp = ctx.config.now().toISOString();
    const id = await writeTx(ctx.db, async (trx) => {
      // Re-checked under the write lock: two admins saving the same code at once.
      if (row.uscc && (await trx.selectFrom('orgs').select('id').where('uscc', '=', row.uscc).executeTakeFirst())) return null;
      const r = await trx.insertInto('orgs').values({ ...row, created_at: stamp, updated_at: stamp }).returning('id').executeTakeFirstOrThrow();
      await audit(ctx, req, { action: 'org_create', objectType: 'org', objectId: r.id, detail: `${ORG_KIND_LABEL[row.kind] ?? row.kind}：${row.name}` }, trx);
      return r.id;
    });
    if (id === null) return formPage(reply, { values, errors: { uscc: '该统一社会信用代码已注册' } });
    return reply.flashRedirect(`/admin/orgs/${id}`, `机构“${row.name}”已创建`);
  });

  app.get('/admin/orgs/:id', async (req, reply) => {
    const org = await loadOrg((req.params as { id: string }).id);
    if (!org) return reply.callNotFound();
    const { n } = await ctx.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org.id).executeTakeFirstOrThrow();
    return formPage(reply, { org: { id: org.id, name: org.name, kind: org.kind, code: org.code, users: Number(n) }, values: org });
  });

  app.post('/admin/orgs/:id', async (req, reply) => {
    const org = await loadOrg((req.params as { id: string }).id);
    if (!org) return reply.callNotFound();
    const { n } = await ctx.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org.id).executeTakeFirstOrThrow();
    const info = { id: org.id, name: org.name, kind: org.kind, code: org.code, users: Number(n) };
    const { values, errors, row } = await checkOrg(ctx, req.body, org);
    if (!row) return formPage(reply, { org: info, values, errors });
    const stamp = ctx.config.now().toISOString();
    const saved = await writeTx(ctx.db, async (trx) => {
      if (row.uscc && (await trx.selectFrom('orgs').select('id').where('uscc', '=', row.uscc).where('id', '!=', org.id).executeTakeFirst())) return false;
      // A committee keeps its plan months and series; another kind has none.
      const extra = row.kind === 'committee' ? {} : { plan_months: null, series_code: null };
      await trx.updateTable('orgs').set({ ...row, ...extra, updated_at: stamp }).where('id', '=', org.id).execute();
      // Which fields changed (names only: values may be contact details).
      const changed = Object.keys(row).filter((k) => (row as Record<string, unknown>)[k] !== (org as Record<string, unknown>)[k]);
      await audit(ctx, req, { action: 'org_update', objectType: 'org', objectId: org.id, detail: `${row.name}：${changed.length ? `修改 ${changed.join('、')}` : '未修改'}` }, trx);
      return true;
    });
    if (!saved) return formPage(reply, { org: info, values, errors: { uscc: '该统一社会信用代码已注册' } });
    return reply.flashRedirect(`/admin/orgs/${org.id}`, '机构信息已保存');
  });
}

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import type { Kysely } from 'kysely';
import type { Database, DeclarationsTable, PlansTable } from '../../db/schema.js';
import { ALL_SECTIONS as SECTIONS, sectionsFor, type PlanSectionSettings } from '../../domain/sections.js';
import { planSectionSettings } from '../../domain/seriesRules.js';
import { seriesMissing, seriesOfPlan } from './seriesChecks.js';
import { missingProfileItems, profileDeclarationSlots } from '../../domain/profile.js';
import type { RouteStage } from '../../domain/route.js';
import { checkEligibility, type EligibilityRule, type EligibilityResult } from '../../domain/eligibility.js';
import { isOpen, requiredSections, requiredSlots, windowRefusal, type PlanSlot } from '../../domain/plans.js';
import { categorySlots, ruleModes, whoMayDeclare } from '../../domain/whoMay.js';
import { validateIdNumber } from '../../domain/idcard.js';
import { statusText, EDITABLE, FINAL, type Status } from '../../domain/declaration.js';
import { ROOT } from '../../app-root.js';
import { countRows, listRows } from '../sections/service.js';
import { loadProfile, identityOf } from '../profile/service.js';
import { listAttachments } from '../files/service.js';
import { sendMessage } from '../auth/service.js';
import { chinaToday, openNowSql } from '../plans/repository.js';
import { writeStages } from '../review/scope.js';
import { audit } from '../audit/service.js';
import { applicantIntegrityRefusal } from '../integrity/service.js';
import { unitSanctionRefusal } from '../integrity/sanctions.js';

export type Declaration = Omit<DeclarationsTable, 'id' | 'stage' | 'returns_count'> & { id: number; stage: number; returns_count: number };
export type Plan = Omit<PlansTable, 'id' | 'levels' | 'categories' | 'max_returns' | 'publicity_required' | 'publicity_days' | 'major_mismatch' | 'eligibility_mode' | 'any_series' | 'declare_rules' | 'cnki_required'> & {
  declare_rules?: string | null;
  id: number; levels: string; categories: string; max_returns: number; publicity_required: number; publicity_days: number; major_mismatch: 'warn' | 'block'; eligibility_mode: 'warn' | 'block';
  any_series: number;
  cnki_required: number;
};

export interface Cover {
  year: number;
  plan_id: number;
  committee: string;
  plan_name: string;
  specialty: string;
  level: string;
  level_name: string;
  title: string;
  category: string;
  category_name: string;
}

const chinaYear = (now: Date) => Number(chinaToday(now).slice(0, 4));

export async function getPlan(ctx: AppContext, id: number): Promise<(Plan & { committee: string; committee_tier: string | null; committee_series: string | null }) | undefined> {
  if (!Number.isSafeInteger(id)) return undefined;
  return ctx.db
    .selectFrom('plans as p')
    .innerJoin('orgs as c', 'c.id', 'p.committee_org_id')
    .selectAll('p')
    .select(['c.name as committee', 'c.committee_tier', 'c.series_code as committee_series'])
    .where('p.id', '=', id)
    .executeTakeFirst() as any;
}

/**
 * Plans open right now (for the cover's 评委会 list); `year` (申报年份, seed 001 §4.1.1) keeps
 * only that year's plans.
 */
export async function openPlanList(ctx: AppContext, year?: number) {
  let q = ctx.db
    .selectFrom('plans as p')
    .innerJoin('orgs as c', 'c.id', 'p.committee_org_id')
    .selectAll('p')
    .select(['c.name as committee', 'c.series_code as committee_series'])
    .where(openNowSql(ctx.config.now()))
    .where('c.disabled', '=', 0);
  if (year !== undefined) q = q.where('p.year', '=', year);
  const rows = await q.orderBy('c.name').orderBy('p.id').execute();
  return rows as unknown as (Plan & { committee: string; committee_series: string | null })[];
}

/** 申报年份 the cover offers: the years of the plans open now, newest first. */
export async function openPlanYears(ctx: AppContext): Promise<number[]> {
  const rows = await ctx.db
    .selectFrom('plans as p')
    .innerJoin('orgs as c', 'c.id', 'p.committee_org_id')
    .select('p.year')
    .distinct()
    .where(openNowSql(ctx.config.now()))
    .where('c.disabled', '=', 0)
    .orderBy('p.year', 'desc')
    .execute();
  return rows.map((r) => r.year);
}

/** The declaration the applicant works on now: this year's, not ended; else the newest of this year. */
export async function currentDeclaration(ctx: AppContext, userId: number): Promise<Declaration | undefined> {
  const year = chinaYear(ctx.config.now());
  const rows = await ctx.db.selectFrom('declarations').selectAll().where('user_id', '=', userId).where('year', '>=', year).orderBy('id', 'desc').execute();
  return (rows.find((d) => !FINAL.includes(d.status as Status)) ?? rows[0]) as Declaration | undefined;
}

export async function getDeclaration(ctx: AppContext, userId: number, id: number): Promise<Declaration | undefined> {
  if (!Number.isSafeInteger(id)) return undefined;
  return (await ctx.db.selectFrom('declarations').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst()) as Declaration | undefined;
}

export function parseCover(d: { cover: string }): Cover {
  return JSON.parse(d.cover);
}
/** The cover's columns the statistics group by (migration 0021), written with every cover. */
export function coverColumns(c: { level?: string | null; level_name?: string | null }) {
  return { cover_level: c.level || null, cover_level_name: c.level_name || null };
}
export function parseRoute(d: { route: string | null }): RouteStage[] {
  return d.route ? JSON.parse(d.route) : [];
}

/** Where this declaration is, in words, with the stage it waits at. */
export function describe(d: Declaration) {
  const route = parseRoute(d);
  const stage = d.status === 'reviewing' || d.status === 'returned' ? route[d.stage] ?? null : null;
  return { route, stage, text: statusText(d.status as Status, stage) };
}

// ---------------------------------------------------------------------------------------
// Route: from the applicant's unit and the plan's committee

let eligibilityDefaults: EligibilityRule[] | undefined;
function defaultRules(): EligibilityRule[] {
  eligibilityDefaults ??= JSON.parse(fs.readFileSync(path.join(ROOT, 'fixtures', 'eligibility.json'), 'utf8')).rules;
  return eligibilityDefaults!;
}
export function planRules(plan: { eligibility_rules: string | null }): EligibilityRule[] {
  return plan.eligibility_rules ? JSON.parse(plan.eligibility_rules) : defaultRules();
}

// The route inputs (routeInputs, routeFor…) live in ./route.ts, re-exported here.
import { routeFor } from './route.js';
export { routeInputs, routeInputsOfUser, employerOfUser, routeFor, NO_UNIT, type RouteInputs } from './route.js';

// ---------------------------------------------------------------------------------------
// Step 2: what is missing, and eligibility

/** A who-may-declare condition shown in step 2 (✓/✗ with its reason); `blocks`: a failure stops the submit. */
export interface Condition {
  rule?: string;
  ok: boolean;
  text: string;
  blocks: boolean;
}

export interface Readiness {
  missing: { text: string; href: string }[];
  eligibility: EligibilityResult;
  eligibilityBlocks: boolean;
  /** 诚信档案, unit sanction, who may declare (issue #13). */
  conditions: Condition[];
  /** The first failed condition that blocks, in the seeds' words; null when none. */
  refusal: string | null;
  ready: boolean;
}

export async function readiness(ctx: AppContext, userId: number, d: Declaration, plan: Plan): Promise<Readiness> {
  const missing: { text: string; href: string }[] = [];
  const profile = await loadProfile(ctx, userId);
  const ident = await identityOf(ctx, userId);
  const profFiles = (await listAttachments(ctx, userId, 'profile', [userId])).get(userId) ?? [];
  const has = (slot: string) => profFiles.some((f) => f.slot === slot);
  for (const item of missingProfileItems(profile, { unit: !!ident.unitOrgId, avatar: has('avatar'), idFront: has('id_front'), idBack: has('id_back') })) {
    missing.push({ text: `基本信息：${item}`, href: '/me/profile' });
  }
  const counts = await countRows(ctx, userId);
  const series = seriesOfPlan(plan);
  for (const key of requiredSections(plan, series)) {
    const def = SECTIONS.find((s) => s.key === key);
    if (def && !(counts[key] ?? 0)) missing.push({ text: `申报信息：${def.title}`, href: `/me/sections/${key}` });
  }
  missing.push(...(await seriesMissing(ctx, userId, plan, series)));
  const declFiles = (await listAttachments(ctx, userId, 'declaration', [d.id])).get(d.id) ?? [];
  for (const slot of slotsOf(plan, d, profile)) {
    if (slot.required && !declFiles.some((f) => f.slot === slot.key)) missing.push({ text: `附件：${slot.label}`, href: '/me/declaration?step=3#slots' });
  }
  const cover = parseCover(d);
  const eligibility = checkEligibility(cover.level as any, {
    work: (await listRows(ctx, userId, 'work')).map((r) => r.data as any),
    titles: (await listRows(ctx, userId, 'titles')).map((r) => r.data as any),
    educations: (await listRows(ctx, userId, 'educations')).map((r) => r.data as any),
  }, planRules(plan), cover.year);
  const conditions = await declareConditions(ctx, userId, d, plan);
  // 破格 applicants, and 博士后 recognised directly at 副高 (seed 002 Q9), are judged by the committee, not by the year rules.
  const postdoc = conditions.some((c) => c.rule === 'postdoc' && c.ok);
  const eligibilityBlocks = plan.eligibility_mode === 'block' && !eligibility.ok && cover.category !== 'exceptional' && !postdoc;
  const refusal = conditions.find((c) => !c.ok && c.blocks)?.text ?? null;
  return { missing, eligibility, eligibilityBlocks, conditions, refusal, ready: missing.length === 0 && !eligibilityBlocks && !refusal };
}

/** 诚信档案 (always blocks), then the other who-may-declare conditions. */
export async function declareConditions(ctx: AppContext, userId: number, d: Declaration, plan: Plan, db: Kysely<Database> = ctx.db): Promise<Condition[]> {
  const out: Condition[] = [];
  const barred = await applicantIntegrityRefusal(ctx, userId, db);
  out.push(barred ? { ok: false, text: barred, blocks: true } : { ok: true, text: '职称评审诚信档案：无记录期内的失信记录', blocks: true });
  // A unit whose 推荐 is suspended for the plan's year (暂停该单位下一年度职称申报推荐工作).
  const unit = await db.selectFrom('users').select(['unit_org_id']).where('id', '=', userId).executeTakeFirst();
  const sanction = await unitSanctionRefusal(db, unit?.unit_org_id ?? null, plan.year);
  if (sanction) out.push({ rule: 'sanction', ok: false, text: sanction, blocks: true });
  const cover = parseCover(d);
  const profile = await loadProfileIn(db, userId);
  const u = await db.selectFrom('users').select(['id_enc']).where('id', '=', userId).executeTakeFirst();
  const id = u?.id_enc ? validateIdNumber(ctx.secrets.decrypt(u.id_enc), ctx.config.now()) : null;
  const str = (k: string) => (typeof profile[k] === 'string' ? (profile[k] as string) : '');
  const modes = ruleModes(plan.declare_rules);
  const checks = whoMayDeclare(
    { staffType: str('staff_type'), birthDate: id?.ok ? id.birthDate : '', gender: id?.ok ? id.gender : '男', agencyStart: str('agency_start'), postSince: str('post_since'), postOrigin: str('post_origin'), postdocOut: str('postdoc_out') },
    cover.category, cover.level, plan.closes_at,
  );
  for (const c of checks) {
    const mode = c.rule === 'staff_type' || c.rule === 'postdoc' ? 'warn' : modes[c.rule];
    out.push({ rule: c.rule, ok: c.ok, text: c.text, blocks: mode === 'block' });
  }
  return out;
}

async function loadProfileIn(db: Kysely<Database>, userId: number): Promise<Record<string, unknown>> {
  const row = await db.selectFrom('profiles').select('data').where('user_id', '=', userId).executeTakeFirst();
  return row ? JSON.parse(row.data) : {};
}

/** The declaration's attachment slots: the plan's, then those its 参评类别 and the 原岗位类别 add. */
export function slotsOf(plan: { required_slots: string | null }, d: { cover: string }, profile: Record<string, unknown>): PlanSlot[] {
  return [...requiredSlots(plan), ...extraSlots(d, profile)];
}
export function extraSlots(d: { cover: string }, profile: Record<string, unknown>): PlanSlot[] {
  return [...categorySlots(parseCover(d).category, typeof profile.post_origin === 'string' ? profile.post_origin : ''), ...profileDeclarationSlots(profile)];
}

// ---------------------------------------------------------------------------------------
// The snapshot a submission freezes

export interface Snapshot {
  cover: Cover;
  /** `series` and `settings` (issue #16) are absent from versions frozen before them. */
  plan: { id: number; name: string; year: number; committee: string; series?: string | null; settings?: PlanSectionSettings };
  person: { name: string; gender: string; birth: string; idMasked: string | null; phoneMasked: string | null; unitName: string | null; unitId: number | null };
  profile: Record<string, unknown>;
  photoFileId: number | null;
  sections: Record<string, { id: number; data: Record<string, unknown>; files: { slot: string; fileId: number; name: string }[] }[]>;
  attachments: { slot: string; label: string; files: { fileId: number; name: string }[] }[];
  route: RouteStage[];
  takenAt: string;
}

export async function buildSnapshot(ctx: AppContext, userId: number, d: Declaration, plan: Plan & { committee: string }): Promise<Snapshot> {
  const ident = await identityOf(ctx, userId);
  const u = await ctx.db.selectFrom('users').select(['id_masked', 'phone_masked']).where('id', '=', userId).executeTakeFirstOrThrow();
  const profile = await loadProfile(ctx, userId);
  const profFiles = (await listAttachments(ctx, userId, 'profile', [userId])).get(userId) ?? [];
  const sections: Snapshot['sections'] = {};
  const series = seriesOfPlan(plan);
  for (const s of sectionsFor(series)) {
    const rows = await listRows(ctx, userId, s.key);
    const files = rows.length ? await listAttachments(ctx, userId, 'row', rows.map((r) => r.id)) : new Map();
    sections[s.key] = rows.map((r) => ({ id: r.id, data: r.data, files: (files.get(r.id) ?? []).map((f: any) => ({ slot: f.slot, fileId: f.fileId, name: f.name })) }));
  }
  const declFiles = (await listAttachments(ctx, userId, 'declaration', [d.id])).get(d.id) ?? [];
  const slots = slotsOf(plan, d, profile);
  return {
    cover: parseCover(d),
    plan: { id: plan.id, name: plan.name, year: plan.year, committee: plan.committee, series, settings: planSectionSettings(plan) },
    person: { name: ident.name, gender: ident.gender, birth: ident.birth, idMasked: u.id_masked, phoneMasked: u.phone_masked, unitName: ident.unitName, unitId: ident.unitOrgId },
    profile,
    photoFileId: profFiles.find((f) => f.slot === 'avatar')?.fileId ?? null,
    sections,
    attachments: slots.map((s) => ({ slot: s.key, label: s.label, files: declFiles.filter((f) => f.slot === s.key).map((f) => ({ fileId: f.fileId, name: f.name })) })),
    route: parseRoute(d),
    takenAt: ctx.config.now().toISOString(),
  };
}

// ---------------------------------------------------------------------------------------
// Step 4: 申报

/** The flash and the 系统消息 of a submission, in the seed's words (001 §5.1). */
export const SUBMIT_STARTED = '申报流程开始!';

export type SubmitResult =
  | { ok: true; id: number; already: boolean }
  | { ok: false; error: string; missing?: { text: string; href: string }[] };

/**
 * Freezes a version and starts (or resumes) the route. Idempotent: the same form token
 * posted twice (double click, back button) yields one submission; a second tab's post
 * finds the declaration already under review and is told so. The submission's audit row (the
 * applicant from `req`, the source IP, the version and its digest) is written in the same
 * transaction; a repeated post writes none.
 */
export async function submit(ctx: AppContext, userId: number, declId: number, token: string, pledged: boolean, req?: FastifyRequest): Promise<SubmitResult> {
  const d = await getDeclaration(ctx, userId, declId);
  if (!d) return { ok: false, error: '申报不存在' };
  if (d.submit_token && d.submit_token === token && d.status !== 'draft' && d.status !== 'returned') return { ok: true, id: d.id, already: true };
  if (!EDITABLE.includes(d.status as Status)) return { ok: false, error: '您的申报已提交，正在审核中，无需重复提交' };
  if (!pledged) return { ok: false, error: '请阅读并勾选同意条款' };
  const plan = (await getPlan(ctx, d.plan_id))!;
  const closed = windowRefusal(plan, ctx.config.now());
  if (closed) return { ok: false, error: closed };
  const ready = await readiness(ctx, userId, d, plan);
  // A person recorded as 失信 (or otherwise not allowed) is told why, in the seeds' words.
  if (ready.refusal) return { ok: false, error: ready.refusal };
  if (!ready.ready) {
    return { ok: false, error: ready.eligibilityBlocks ? '不符合该评委会的申报条件，不能提交' : '还有必填项未完成，请完善后再提交', missing: ready.missing };
  }
  const route = await routeFor(ctx, userId, plan);
  if (!route.ok) return { ok: false, error: `${route.error}：${route.detail}` };
  // A resubmission after 返回修改 resumes the stage that returned it; after a reset it starts over.
  const resumed = d.status === 'returned';
  const snapshot = await buildSnapshot(ctx, userId, { ...d, route: JSON.stringify(resumed ? parseRoute(d) : route.stages) }, plan);
  const json = JSON.stringify(snapshot);
  const sha = crypto.createHash('sha256').update(json).digest('hex');
  const stamp = ctx.config.now().toISOString();
  const outcome = await writeTx(ctx.db, async (trx) => {
    const cur = await trx.selectFrom('declarations').selectAll().where('id', '=', d.id).executeTakeFirstOrThrow();
    if (cur.status !== d.status) return cur.submit_token === token ? 'same' : 'changed';
    // A 失信 record entered since the check above: refused under the write lock too.
    const barred = await applicantIntegrityRefusal(ctx, userId, trx);
    if (barred) return { barred };
    const last = await trx.selectFrom('declaration_versions').select((eb) => eb.fn.max<number>('no').as('n')).where('declaration_id', '=', d.id).executeTakeFirst();
    const no = Number(last?.n ?? 0) + 1;
    const v = await trx
      .insertInto('declaration_versions')
      .values({ declaration_id: d.id, no, snapshot: json, sha256: sha, created_at: stamp })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('declarations')
      .set({
        status: 'reviewing', version_id: v.id, submit_token: token, submitted_at: stamp, updated_at: stamp,
        ...(resumed ? {} : { stage: 0, route: JSON.stringify(route.stages) }),
      })
      .where('id', '=', d.id)
      .execute();
    if (!resumed) await writeStages(trx, d.id, route.stages);
    await trx.insertInto('workflow_events').values({
      declaration_id: d.id, actor_user_id: userId, stage: resumed ? d.stage : 0, action: resumed ? 'resubmit' : 'submit',
      from_status: d.status, to_status: 'reviewing', created_at: stamp,
    }).execute();
    await audit(ctx, req ?? null, {
      action: 'declaration_submit', objectType: 'declaration', objectId: d.id,
      detail: `${resumed ? '重新提交（返回修改后）' : '提交'}：${d.status}→reviewing（环节${resumed ? d.stage : 0}），版本${no}，sha256 ${sha.slice(0, 16)}`,
      actor: req?.user ?? { id: userId, kind: 'applicant' },
    }, trx);
    return 'done';
  });
  if (typeof outcome === 'object') return { ok: false, error: outcome.barred };
  if (outcome === 'changed') return { ok: false, error: '您的申报已提交，正在审核中，无需重复提交' };
  if (outcome === 'done') {
    const cover = parseCover(d);
    const stages = resumed ? parseRoute(d) : route.stages;
    const at = stages[resumed ? d.stage : 0];
    // Seed 001 §5.1: every submission leaves "申报流程开始!" among the 系统消息.
    await sendMessage(ctx, userId, '系统消息', SUBMIT_STARTED);
    await sendMessage(ctx, userId, '审核消息', `您已${resumed ? '重新提交' : '提交'}“${cover.title}”申报（${cover.committee}），当前进度：${at ? `${at.label}（${at.name}）` : '审核中'}。`);
  }
  return { ok: true, id: d.id, already: outcome === 'same' };
}

export async function timeline(ctx: AppContext, declId: number) {
  return ctx.db
    .selectFrom('workflow_events as e')
    .leftJoin('users as u', 'u.id', 'e.actor_user_id')
    .leftJoin('orgs as o', 'o.id', 'e.org_id')
    .select(['e.id', 'e.action', 'e.opinion', 'e.stage', 'e.from_status', 'e.to_status', 'e.data', 'e.created_at', 'u.name as actor', 'u.kind as actor_kind', 'o.name as org'])
    .where('e.declaration_id', '=', declId)
    .orderBy('e.id')
    .execute();
}

export async function versionOf(ctx: AppContext, d: Declaration): Promise<{ no: number; snapshot: Snapshot; sha256: string; created_at: string } | null> {
  if (!d.version_id) return null;
  const v = await ctx.db.selectFrom('declaration_versions').select(['no', 'snapshot', 'sha256', 'created_at']).where('id', '=', d.version_id).executeTakeFirst();
  return v ? { no: v.no, snapshot: JSON.parse(v.snapshot), sha256: v.sha256, created_at: v.created_at } : null;
}

export const ACTION_NAMES: Record<string, string> = {
  save_cover: '保存封面', submit: '提交申报', resubmit: '重新提交', approve: '审核通过', return: '返回修改', reset: '重置流程',
  reject: '不予受理', fail_year: '本年度申报失败', supervisor_changed: '更换主管部门', verify: '单位核验', publicize: '公示', recommend: '推荐上报', paper: '纸质材料已收',
  evaluate: '评审结果确认', transfer_out: '转评委会', transfer_in: '转入', certify: '发证', integrity_reject: '不予受理（记入诚信档案）', supplement: '要求补充材料', supplement_upload: '上传补充材料', supplement_cancel: '撤销补充材料要求', supplement_remove: '删除补充材料',
};

export function yearOf(now: Date): number {
  return chinaYear(now);
}

export { EDITABLE, FINAL, seriesOfPlan };

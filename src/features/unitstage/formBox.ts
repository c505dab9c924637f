/**
 * 表十二 基层单位意见 for the review form (seed 002 §五(三)5), one per unit stage: the unit's saved opinion, its checkers' opinions, the
 * unit's name, the date of its 核验 and its electronic seal (单位签章, seed 004: uploaded at
 * registration or in 单位信息). The caller passes the result into the view model
 * (src/print/reviewForm.ts); the seal's bytes go to the PDF printer, or a scoped URL serves
 * them to the on-screen preview.
 */
import type { Kysely, Selectable } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database, DeclarationsTable } from '../../db/schema.js';
import { chinaDate } from '../../domain/plans.js';
import { isUnitStageKind, parseOpinion, sealPrints, type UnitOpinion } from '../../domain/unitstage.js';
import { parseRoute } from '../declaration/service.js';
import { printedChecks } from './checkers.js';
import { unitStageRecords } from './records.js';

export type FormBoxDeclaration = Pick<Selectable<DeclarationsTable>, 'id' | 'route' | 'unit_opinion' | 'unit_verified_at' | 'submitted_at' | 'recommendation_id'> & { stage: number };

/** The stored seal image (an upload of the unit's staff, content-checked jpg/png). */
export interface StoredSeal {
  fileId: number;
  sha256: string;
  mime: string;
  size: number;
  name: string;
}

export interface UnitFormBox {
  name: string;
  /** The stage's label when a route has two unit stages (派遣单位审核 / 用工单位审核), else ''. */
  label: string;
  opinion: UnitOpinion | null;
  /** 'YYYY-MM-DD' (China) of 核验 while the seal prints, else ''. */
  date: string;
  /** The seal to print: the unit uploaded one and sealPrints() holds. */
  seal: StoredSeal | null;
  /** 职能部门审核 opinions signed in this unit (src/features/unitstage/checkers.ts). */
  checks: { name: string; verdict: string; opinion: string; signer: string; date: string }[];
}

type StageState = Pick<Selectable<DeclarationsTable>, 'unit_opinion' | 'unit_verified_at' | 'submitted_at' | 'recommendation_id'>;

async function boxOf(db: Kysely<Database>, declarationId: number, stage: { orgId: number; name: string; label: string }, label: string, st: StageState | null): Promise<UnitFormBox> {
  const org = await db.selectFrom('orgs').select(['name', 'seal_file_id']).where('id', '=', stage.orgId).executeTakeFirst();
  const opinion = st ? parseOpinion(st.unit_opinion) : null;
  const sealed = !!st && !!opinion && !!st.unit_verified_at && sealPrints({ verifiedAt: st.unit_verified_at, submittedAt: st.submitted_at, recommendationId: st.recommendation_id });
  let seal: StoredSeal | null = null;
  if (sealed && org?.seal_file_id) {
    const f = await db.selectFrom('files').select(['id', 'sha256', 'mime', 'size', 'original_name']).where('id', '=', org.seal_file_id).executeTakeFirst();
    if (f && (f.mime === 'image/png' || f.mime === 'image/jpeg')) seal = { fileId: f.id, sha256: f.sha256, mime: f.mime, size: f.size, name: f.original_name };
  }
  return {
    name: org?.name ?? stage.name,
    label,
    opinion,
    date: sealed ? chinaDate(new Date(st!.unit_verified_at!)) : '',
    seal,
    checks: await printedChecks(db, declarationId, stage.orgId),
  };
}

/**
 * 表十二 of every unit stage of the route, in route order (one for most routes; a dispatch
 * worker's dispatch company and employer each write their own, seed 002 Q18 “双盖章”). A finished
 * earlier unit stage prints from unit_stage_records; the unit stage the declaration is at (or last
 * passed) from the declaration; one not reached yet prints blank. [] when there is no unit stage.
 */
export async function unitFormBoxes(db: Kysely<Database>, d: FormBoxDeclaration): Promise<UnitFormBox[]> {
  let route: ReturnType<typeof parseRoute>;
  try {
    route = parseRoute(d);
  } catch {
    return [];
  }
  const idxs = route.map((r, i) => (isUnitStageKind(r.kind) ? i : -1)).filter((i) => i >= 0);
  if (!idxs.length) return [];
  const live = idxs.filter((i) => i <= d.stage).pop() ?? idxs[0]!;
  const records = idxs.length > 1 ? await unitStageRecords(db, d.id) : [];
  const out: UnitFormBox[] = [];
  for (const i of idxs) {
    const stage = route[i]!;
    const rec = records.find((r) => r.stage === i);
    const st: StageState | null = i === live ? d : rec ?? null;
    out.push(await boxOf(db, d.id, stage, idxs.length > 1 ? stage.label : '', st));
  }
  return out;
}

/** 表十二 of the (first) unit stage, or null when its route has no unit stage (nothing to print). */
export async function unitFormBox(db: Kysely<Database>, d: FormBoxDeclaration): Promise<UnitFormBox | null> {
  return (await unitFormBoxes(db, d))[0] ?? null;
}

/** The seal image of the n-th 表十二 (0: the first unit) for the preview's scoped URL (/me/records/:id/seal, /org/reviews/:id/seal?n=1), or null. */
export async function unitSealFile(ctx: AppContext, d: FormBoxDeclaration, n = 0) {
  const box = (await unitFormBoxes(ctx.db, d))[n];
  if (!box?.seal) return null;
  return { id: box.seal.fileId, sha256: box.seal.sha256, size: box.seal.size, mime: box.seal.mime, name: box.seal.name };
}

/** `?n=1` of a seal URL: which 表十二 (0 when absent or not a small number). */
export function sealIndex(query: unknown): number {
  const n = (query as { n?: unknown } | null)?.n;
  return typeof n === 'string' && /^[0-9]$/.test(n) ? Number(n) : 0;
}

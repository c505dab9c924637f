/**
 * 表十二 基层单位意见 for the review form (seed 002 §五(三)5): the unit's saved opinion, the
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

export type FormBoxDeclaration = Pick<Selectable<DeclarationsTable>, 'route' | 'unit_opinion' | 'unit_verified_at' | 'submitted_at' | 'recommendation_id'>;

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
  opinion: UnitOpinion | null;
  /** 'YYYY-MM-DD' (China) of 核验 while the seal prints, else ''. */
  date: string;
  /** The seal to print: the unit uploaded one and sealPrints() holds. */
  seal: StoredSeal | null;
}

/** 表十二 of a declaration, or null when its route has no unit stage (nothing to print). */
export async function unitFormBox(db: Kysely<Database>, d: FormBoxDeclaration): Promise<UnitFormBox | null> {
  let route: ReturnType<typeof parseRoute>;
  try {
    route = parseRoute(d);
  } catch {
    return null;
  }
  const stage = route.find((r) => isUnitStageKind(r.kind));
  if (!stage) return null;
  const org = await db.selectFrom('orgs').select(['name', 'seal_file_id']).where('id', '=', stage.orgId).executeTakeFirst();
  const opinion = parseOpinion(d.unit_opinion);
  const sealed = !!opinion && !!d.unit_verified_at && sealPrints({ verifiedAt: d.unit_verified_at, submittedAt: d.submitted_at, recommendationId: d.recommendation_id });
  let seal: StoredSeal | null = null;
  if (sealed && org?.seal_file_id) {
    const f = await db.selectFrom('files').select(['id', 'sha256', 'mime', 'size', 'original_name']).where('id', '=', org.seal_file_id).executeTakeFirst();
    if (f && (f.mime === 'image/png' || f.mime === 'image/jpeg')) seal = { fileId: f.id, sha256: f.sha256, mime: f.mime, size: f.size, name: f.original_name };
  }
  return {
    name: org?.name ?? stage.name,
    opinion,
    date: sealed ? chinaDate(new Date(d.unit_verified_at!)) : '',
    seal,
  };
}

/** The seal image for the preview's scoped URL (/me/records/:id/seal, /org/reviews/:id/seal), or null. */
export async function unitSealFile(ctx: AppContext, d: FormBoxDeclaration) {
  const box = await unitFormBox(ctx.db, d);
  if (!box?.seal) return null;
  return { id: box.seal.fileId, sha256: box.seal.sha256, size: box.seal.size, mime: box.seal.mime, name: box.seal.name };
}

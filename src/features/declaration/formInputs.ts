/**
 * What the review form prints beside the frozen version: the committee's recorded evaluation
 * (表十三–十六), the unit's 表十二 (opinion, date, seal) and, for the printed form only, the
 * full 身份证号. Every page that shows the form (applicant, staff, materials zip) and the PDF
 * take their reviewFormModel options from here, so the preview and the PDF never disagree.
 */
import type { Selectable } from 'kysely';
import type { AppContext } from '../../context.js';
import type { DeclarationsTable } from '../../db/schema.js';
import type { ReviewFormOptions } from '../../print/reviewForm.js';
import { evaluationForForm } from '../results/service.js';
import { unitFormBoxes, type FormBoxDeclaration, type StoredSeal, type UnitFormBox } from '../unitstage/formBox.js';

export type FormInputDeclaration = Pick<Selectable<DeclarationsTable>, 'id' | 'user_id'> & FormBoxDeclaration;

export interface FormInputs extends Pick<ReviewFormOptions, 'evaluation' | 'unit' | 'moreUnits' | 'idNumber'> {
  /** The unit's seal when 表十二 prints it (the PDF printer serves its bytes). */
  seal: StoredSeal | null;
  /** The seals of moreUnits (a dispatch worker's employer), in the same order. */
  moreSeals?: (StoredSeal | null)[];
}

/**
 * `sealUrl`: where the page's <img> loads the seal from (a scoped route, or a data: URL);
 * `fullId`: the printed official form (print-gated, access-checked by the caller) carries the
 * full number on 表一; everywhere else it stays masked.
 */
export async function reviewFormInputs(ctx: AppContext, d: FormInputDeclaration, o: { sealUrl?: string; fullId?: boolean } = {}): Promise<FormInputs> {
  const [evaluation, boxes] = await Promise.all([evaluationForForm(ctx.db, d.id), unitFormBoxes(ctx.db, d)]);
  const box = boxes[0];
  const more = boxes.slice(1);
  const input = (b: UnitFormBox, url: string) => ({ name: b.name, label: b.label, opinion: b.opinion, date: b.date, sealUrl: b.seal ? url : '', checks: b.checks });
  let idNumber: string | undefined;
  if (o.fullId) {
    const u = await ctx.db.selectFrom('users').select('id_enc').where('id', '=', d.user_id).executeTakeFirst();
    if (u?.id_enc) idNumber = ctx.secrets.decrypt(u.id_enc);
  }
  return {
    evaluation,
    unit: box ? input(box, o.sealUrl ?? '') : undefined,
    moreUnits: more.map((b, i) => input(b, o.sealUrl ? `${o.sealUrl}?n=${i + 1}` : '')),
    idNumber,
    seal: box?.seal ?? null,
    moreSeals: more.map((b) => b.seal),
  };
}

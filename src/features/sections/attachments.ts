import type { AppContext } from '../../context.js';
import type { SectionDef } from '../../domain/sections.js';
import { listAttachments, deleteOwnerAttachments, rowSlots } from '../files/service.js';

/** The attachment slots of a row with the files in them (for the edit page). */
export async function attachmentsFor(ctx: AppContext, userId: number, def: SectionDef, rowId: number) {
  if (!def.attachments.length) return null;
  const byOwner = await listAttachments(ctx, userId, 'row', [rowId]);
  return { slots: rowSlots(ctx, def.key), items: byOwner.get(rowId) ?? [], ownerId: rowId, back: `/me/sections/${def.key}/${rowId}/edit#attachments` };
}

export async function cleanupRow(ctx: AppContext, userId: number, rowId: number): Promise<void> {
  await deleteOwnerAttachments(ctx, userId, 'row', rowId);
}

import { ALL_SECTIONS as SECTIONS } from './sections.js';
import { display } from './sectionRules.js';

/**
 * 返回修改: the sections a reviewer ticked (需修改), and whether the applicant has changed them
 * since. A section counts as changed when its rows differ from the returned version: a row
 * added, removed or moved, a field's value, or a row's attachments. Saving a row without
 * changing anything does not count. Pure.
 */
export interface RevisionRow {
  id: number;
  data: Record<string, unknown>;
  files?: readonly { slot: string; fileId: number }[];
}

/** The ticked keys of a 返回修改 event's data (registry order, unknown keys dropped). */
export function tickedSections(eventData: string | null | undefined): string[] {
  if (!eventData) return [];
  let keys: unknown;
  try {
    keys = (JSON.parse(eventData) as { sections?: unknown }).sections;
  } catch {
    return [];
  }
  if (!Array.isArray(keys)) return [];
  return SECTIONS.map((s) => s.key).filter((k) => keys.includes(k));
}

function rowKey(key: string, r: RevisionRow): string {
  const def = SECTIONS.find((s) => s.key === key);
  const fields = def ? def.fields.map((f) => display(r.data[f.key])) : [JSON.stringify(r.data)];
  const files = [...(r.files ?? [])].map((f) => `${f.slot}:${f.fileId}`).sort();
  return JSON.stringify([r.id, fields, files]);
}

/** Whether one section's rows are the same as in the returned version. */
export function sectionUnchanged(key: string, before: readonly RevisionRow[], now: readonly RevisionRow[]): boolean {
  return before.length === now.length && before.every((r, i) => rowKey(key, r) === rowKey(key, now[i]!));
}

/** The ticked sections the applicant has not changed since the return (registry order). */
export function untouchedSections(ticked: readonly string[], before: Readonly<Record<string, readonly RevisionRow[]>>, now: Readonly<Record<string, readonly RevisionRow[]>>): string[] {
  return ticked.filter((k) => sectionUnchanged(k, before[k] ?? [], now[k] ?? []));
}

import { ALL_SECTIONS as SECTIONS } from './sections.js';
import { rowSummary } from './diff.js';

/** The files of one section row's slot, as the review screen lists them. */
export interface SectionFileRow {
  /** e.g. 现有职称情况 · 职称证书 — the section's and the slot's Chinese titles, never registry keys. */
  label: string;
  /** Which row they belong to, in a few words (e.g. the paper's title and journal); '' if none. */
  row: string;
  files: { fileId: number; name: string }[];
}

type SnapSections = Record<string, { data: Record<string, unknown>; files: { slot: string; fileId: number; name: string }[] }[]>;

/**
 * The files attached to a version's section rows: registry order of sections, then row order,
 * then the section's slot order; one line per row and slot. Pure. A section or slot the
 * registry no longer has (an old version) is still listed, under 其他附件 / the section's title.
 */
export function sectionFileRows(sections: SnapSections): SectionFileRow[] {
  const out: SectionFileRow[] = [];
  const known = new Set(SECTIONS.map((s) => s.key));
  const keys = [...SECTIONS.map((s) => s.key), ...Object.keys(sections).filter((k) => !known.has(k))];
  for (const key of keys) {
    const def = SECTIONS.find((s) => s.key === key);
    for (const r of sections[key] ?? []) {
      if (!r.files.length) continue;
      const slots = [...(def?.attachments ?? []).map((a) => a.key), ...new Set(r.files.map((f) => f.slot))];
      for (const slot of new Set(slots)) {
        const files = r.files.filter((f) => f.slot === slot).map((f) => ({ fileId: f.fileId, name: f.name }));
        if (!files.length) continue;
        const slotLabel = def?.attachments.find((a) => a.key === slot)?.label;
        const label = def ? (slotLabel ? `${def.title} · ${slotLabel}` : `${def.title} · 附件`) : '其他附件';
        out.push({ label, row: def ? rowSummary(key, r.data) : '', files });
      }
    }
  }
  return out;
}

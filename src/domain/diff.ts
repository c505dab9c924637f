import { ALL_SECTIONS as SECTIONS } from './sections.js';
import { display } from './sectionRules.js';

/**
 * What changed between two submitted versions, section by section (rows matched by their
 * archive row id), for the reviewer who returned a declaration. Pure.
 */
export interface FieldChange {
  label: string;
  before: string;
  after: string;
}
export interface RowChange {
  kind: 'added' | 'removed' | 'changed';
  summary: string;
  fields: FieldChange[];
}
export interface SectionChanges {
  key: string;
  title: string;
  rows: RowChange[];
}

interface SnapLike {
  profile?: Record<string, unknown>;
  cover?: object;
  sections?: Record<string, { id: number; data: Record<string, unknown> }[]>;
  attachments?: { slot: string; label: string; files: { fileId: number; name: string }[] }[];
}

/** A section row in a few words (its first two list columns), e.g. a paper's title and journal. */
export function rowSummary(key: string, data: Record<string, unknown>): string {
  const def = SECTIONS.find((s) => s.key === key);
  if (!def) return '';
  return def.columns.slice(0, 2).map((c) => c.fields.map((f) => display(data[f])).filter(Boolean).join(c.join ?? ' ')).filter(Boolean).join(' / ');
}

export function diffSnapshots(prev: SnapLike, cur: SnapLike, profileLabels: Record<string, string> = {}): SectionChanges[] {
  const out: SectionChanges[] = [];
  const pf: FieldChange[] = [];
  for (const k of new Set([...Object.keys(prev.profile ?? {}), ...Object.keys(cur.profile ?? {})])) {
    const a = display(prev.profile?.[k]);
    const b = display(cur.profile?.[k]);
    if (a !== b) pf.push({ label: profileLabels[k] ?? k, before: a, after: b });
  }
  if (pf.length) out.push({ key: 'profile', title: '基本信息', rows: [{ kind: 'changed', summary: '', fields: pf }] });
  for (const def of SECTIONS) {
    const before = prev.sections?.[def.key] ?? [];
    const after = cur.sections?.[def.key] ?? [];
    const rows: RowChange[] = [];
    for (const r of after) {
      const old = before.find((x) => x.id === r.id);
      if (!old) {
        rows.push({ kind: 'added', summary: rowSummary(def.key, r.data), fields: [] });
        continue;
      }
      const fields = def.fields
        .map((f) => ({ label: f.label, before: display(old.data[f.key]), after: display(r.data[f.key]) }))
        .filter((c) => c.before !== c.after);
      if (fields.length) rows.push({ kind: 'changed', summary: rowSummary(def.key, r.data), fields });
    }
    for (const r of before) if (!after.some((x) => x.id === r.id)) rows.push({ kind: 'removed', summary: rowSummary(def.key, r.data), fields: [] });
    // Order alone changed: say so, since the printed form follows it.
    if (!rows.length && before.length === after.length && before.some((r, i) => r.id !== after[i]!.id)) rows.push({ kind: 'changed', summary: '顺序已调整', fields: [] });
    if (rows.length) out.push({ key: def.key, title: def.title, rows });
  }
  const att: RowChange[] = [];
  for (const slot of cur.attachments ?? []) {
    const old = (prev.attachments ?? []).find((a) => a.slot === slot.slot);
    const a = (old?.files ?? []).map((f) => f.name).join('、');
    const b = slot.files.map((f) => f.name).join('、');
    if (a !== b) att.push({ kind: 'changed', summary: slot.label, fields: [{ label: slot.label, before: a, after: b }] });
  }
  if (att.length) out.push({ key: 'attachments', title: '申报附件', rows: att });
  return out;
}

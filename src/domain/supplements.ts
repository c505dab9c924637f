/**
 * 补充材料 (seed 002 五(二)3(4), 003 §1.3): a review stage names extra files it needs; the
 * declaration is neither returned nor does it spend a return chance. Pure: no I/O.
 */
export interface SupplementItem {
  key: string;
  label: string;
}

export const MAX_SUPPLEMENT_ITEMS = 10;
export const MAX_SUPPLEMENT_LABEL = 100;

/** The textarea "one file name per line" → items i1, i2…, or the reason it cannot. */
export function parseSupplementItems(text: string): { items: SupplementItem[]; error?: string } {
  const labels: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    const s = line.trim();
    if (s && !labels.includes(s)) labels.push(s);
  }
  if (!labels.length) return { items: [], error: '请填写需要补充的材料名称（每行一项）' };
  if (labels.length > MAX_SUPPLEMENT_ITEMS) return { items: [], error: `补充材料一次最多${MAX_SUPPLEMENT_ITEMS}项` };
  const long = labels.find((l) => [...l].length > MAX_SUPPLEMENT_LABEL);
  if (long) return { items: [], error: `材料名称不能超过${MAX_SUPPLEMENT_LABEL}个字：“${long.slice(0, 20)}…”` };
  return { items: labels.map((label, i) => ({ key: `i${i + 1}`, label })) };
}

/** Items still without a file (the request is complete when none is left). */
export function missingItems(items: readonly SupplementItem[], uploadedKeys: readonly string[]): SupplementItem[] {
  return items.filter((i) => !uploadedKeys.includes(i.key));
}

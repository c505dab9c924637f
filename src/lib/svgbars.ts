/**
 * A horizontal bar chart as an SVG string, drawn on the server (DESIGN.md §6: no chart library
 * in the browser, works with JS off). Pure. Every text is escaped; the chart carries its own
 * <title>, role="img" and an aria-label with the numbers, and no style attribute (CSP: only
 * presentation attributes such as fill and width).
 */
export interface Bar {
  label: string;
  value: number;
}

export interface BarsOptions {
  /** The chart's accessible name (also its <title>). */
  title: string;
  /** Total width in px (labels + bars + values). */
  width?: number;
  /** Width in px of the label column; longer labels are shortened with … (full text in a tooltip). */
  labelWidth?: number;
  barHeight?: number;
  gap?: number;
  fontSize?: number;
  /** A hex colour (#rgb or #rrggbb); anything else falls back to the default. */
  color?: string;
  /** Shown after each value and in the aria-label, e.g. '人'. */
  unit?: string;
  /** Text drawn when there are no bars. */
  empty?: string;
}

const DEFAULTS = { width: 560, labelWidth: 180, barHeight: 18, gap: 8, fontSize: 13, color: '#2f6fb0', unit: '', empty: '暂无数据' };
const VALUE_WIDTH = 64;
const PAD = 4;

/** Escapes text for XML content and attribute values. */
export function escapeXml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Estimated width of a text in em: CJK and other wide characters 1em, the rest 0.6em. */
export function textEm(s: string): number {
  let em = 0;
  for (const ch of s) em += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{20000}-\u{3fffd}]/u.test(ch) ? 1 : 0.6;
  return em;
}

/** The label cut to fit maxEm (with …), or as is. */
export function fitLabel(s: string, maxEm: number): string {
  if (textEm(s) <= maxEm) return s;
  let out = '';
  let em = 1; // room for the ellipsis
  for (const ch of s) {
    const w = textEm(ch);
    if (em + w > maxEm) break;
    out += ch;
    em += w;
  }
  return out + '…';
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
const round = (v: number) => Math.round(v * 100) / 100;

export function svgBars(bars: readonly Bar[], opts: BarsOptions): string {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & BarsOptions;
  const color = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(o.color) ? o.color : DEFAULTS.color;
  const width = Math.max(200, Math.round(num(o.width) || DEFAULTS.width));
  const labelWidth = Math.min(Math.max(40, Math.round(num(o.labelWidth) || DEFAULTS.labelWidth)), width - VALUE_WIDTH - 40);
  const barHeight = Math.max(8, Math.round(num(o.barHeight) || DEFAULTS.barHeight));
  const gap = Math.max(0, Math.round(num(o.gap)));
  const fontSize = Math.max(8, Math.round(num(o.fontSize) || DEFAULTS.fontSize));
  const plot = width - labelWidth - VALUE_WIDTH - PAD * 2;
  const unit = o.unit ?? '';
  const title = escapeXml(o.title);
  const rows = bars.map((b) => ({ label: String(b.label ?? ''), value: num(b.value) }));

  if (!rows.length) {
    const h = barHeight + gap * 2;
    return (
      `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeXml(`${o.title}：${o.empty}`)}" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}">` +
      `<title>${title}</title>` +
      `<text x="${PAD}" y="${round(h / 2)}" dominant-baseline="middle" font-size="${fontSize}" fill="#667">${escapeXml(o.empty)}</text></svg>`
    );
  }

  const max = Math.max(...rows.map((r) => r.value));
  const height = rows.length * (barHeight + gap) + gap;
  const maxEm = (labelWidth - PAD * 2) / fontSize;
  const summary = rows.map((r) => `${r.label} ${r.value}${unit}`).join('，');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeXml(`${o.title}：${summary}`)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<title>${title}</title>`,
  ];
  rows.forEach((r, i) => {
    const y = gap + i * (barHeight + gap);
    const mid = round(y + barHeight / 2);
    const w = max > 0 ? round((r.value / max) * plot) : 0;
    const shown = fitLabel(r.label, maxEm);
    const x = labelWidth + PAD;
    parts.push(
      `<g>` +
        `<title>${escapeXml(`${r.label}：${r.value}${unit}`)}</title>` +
        `<text x="${labelWidth - PAD}" y="${mid}" text-anchor="end" dominant-baseline="middle" font-size="${fontSize}" fill="#222">${escapeXml(shown)}</text>` +
        `<rect x="${x}" y="${y}" width="${w}" height="${barHeight}" fill="${color}"/>` +
        `<text x="${round(x + w + PAD)}" y="${mid}" dominant-baseline="middle" font-size="${fontSize}" fill="#222">${r.value}${escapeXml(unit)}</text>` +
        `</g>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Text for a printed cell of the review form and the publicity notices: HTML-escaped, each
 * number (a date, a year, a count) wrapped in <span class="rf-num">. form.css sets those in
 * the font's half-width forms (OpenType `hwid`: the digits drawn to match the Chinese text,
 * not the proportional Latin ones) and keeps them on one line, so a date never breaks inside
 * a number ("2019-09-0 / 1"). `hwid` cannot go on the whole text: it would also narrow the
 * full-width （）， of the Chinese. Numbers longer than NOWRAP_MAX characters may still break
 * (they must not push a table past the page edge). The views' `printText` filter marks the
 * result safe; everything else in it stays escaped.
 */
const NUMBER = /\d(?:[\d.:/-]*\d)?/g;
export const NOWRAP_MAX = 20;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function printTextHtml(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  // Escaping first: the only digits an entity holds are in &#39;, which the look-behind skips.
  return escapeHtml(s).replace(NUMBER, (m, offset: number, all: string) => {
    if (m === '39' && all.slice(offset - 2, offset) === '&#') return m;
    return `<span class="${m.length <= NOWRAP_MAX ? 'rf-num rf-nw' : 'rf-num'}">${m}</span>`;
  });
}

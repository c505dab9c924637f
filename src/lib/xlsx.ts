import type { Row, Sheet } from 'write-excel-file/node';
import type { FastifyReply } from 'fastify';

/** One column of an export: its header, width in characters, and how a row gives its value. */
export interface XlsxColumn<T> {
  header: string;
  width?: number;
  value: (row: T) => string | number | null | undefined;
}

export interface XlsxSheet<T> {
  name: string;
  rows: readonly T[];
  columns: readonly XlsxColumn<T>[];
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

// Excel limits: sheet names ≤ 31 characters without []:*?/\ ; cells ≤ 32767 characters.
const sheetName = (s: string) => s.replace(/[[\]:*?/\\]/g, '_').slice(0, 31) || 'Sheet1';

/**
 * Text that a spreadsheet could take for a formula (=, +, -, @, or a tab/CR first: OWASP “CSV
 * injection”) goes out with a leading single quote, so it stays text wherever the sheet is
 * opened, re-saved or turned into CSV. Cells are already typed as text; this is the second guard.
 */
export function textCell(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

function sheetData<T>(s: XlsxSheet<T>): Sheet<any> {
  const header: Row = s.columns.map((c) => ({ value: c.header, fontWeight: 'bold' as const }));
  const body: Row[] = s.rows.map((r) =>
    s.columns.map((c) => {
      const v = c.value(r);
      if (v === null || v === undefined || v === '') return null;
      // Strings stay strings (never formulas), and formula-looking ones get a leading quote.
      return typeof v === 'number' ? { value: v, type: Number } : { value: textCell(String(v)).slice(0, 32767), type: String };
    }),
  );
  return { data: [header, ...body], sheet: sheetName(s.name), columns: s.columns.map((c) => ({ width: c.width ?? 14 })), stickyRowsCount: 1 };
}

/** Rows and column definitions → the bytes of an .xlsx with a bold, frozen header row. */
export async function xlsxBuffer<T>(rows: readonly T[], columns: readonly XlsxColumn<T>[], opts: { sheet?: string } = {}): Promise<Buffer> {
  return xlsxWorkbook([{ name: opts.sheet ?? 'Sheet1', rows, columns }]);
}

/** Several sheets in one workbook. */
export async function xlsxWorkbook(sheets: readonly XlsxSheet<any>[]): Promise<Buffer> {
  // Loaded on first export, not at start-up (issue #18).
  const { default: writeXlsxFile } = await import('write-excel-file/node');
  return writeXlsxFile(sheets.map(sheetData) as Sheet<any>[]).toBuffer();
}

/** Content-Disposition for a download: an ASCII fallback and the UTF-8 name (RFC 6266/5987). */
export function attachmentHeader(filename: string, asciiFallback: string): string {
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return `attachment; filename="${asciiFallback.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encoded}`;
}

/** Sends an .xlsx download: no caching (personal data), the file named in both forms. */
export function sendXlsx(reply: FastifyReply, buffer: Buffer, filename: string, asciiFallback: string): FastifyReply {
  return reply
    .header('Content-Type', XLSX_TYPE)
    .header('Content-Disposition', attachmentHeader(filename, asciiFallback))
    .header('Cache-Control', 'no-store')
    .header('X-Content-Type-Options', 'nosniff')
    .send(buffer);
}

/**
 * 批量新增账号: the rows of a paste, a .csv or an .xlsx — 姓名, 身份证号, 手机号 — with the line
 * number the user sees (the textarea's line, the spreadsheet's row), before any validation.
 */

export interface RawRow {
  line: number;
  cells: string[];
  /** A problem found while reading (e.g. an 18-digit number Excel rounded). */
  problem?: string;
}

export const IMPORT_MAX_ROWS = 500;
export const IMPORT_MAX_BYTES = 2 * 1024 * 1024;

/** A header row: its cells name the columns instead of holding a person. */
function isHeader(cells: string[]): boolean {
  return cells.some((c) => /姓名|身份证|手机/.test(c));
}

function finish(rows: RawRow[]): RawRow[] {
  const filled = rows.filter((r) => r.cells.some((c) => c !== ''));
  if (filled.length && isHeader(filled[0]!.cells)) filled.shift();
  return filled;
}

/** Pasted lines: cells separated by a comma, a tab or a Chinese comma. */
export function parsePasted(text: string): RawRow[] {
  const lines = String(text ?? '').replace(/^\ufeff/, '').split(/\r\n|\r|\n/);
  return finish(lines.map((l, i) => ({ line: i + 1, cells: l.split(/[,，\t]/).map((c) => c.trim().replace(/^"(.*)"$/, '$1').trim()) })));
}

/** CSV text (quotes allowed; comma, Chinese comma or tab as separators). */
export function parseCsv(text: string): RawRow[] {
  return finish(csvRows(text));
}

/** Every row of a CSV text as written (header and empty rows included), with its line number. */
export function csvRows(text: string): RawRow[] {
  const rows: RawRow[] = [];
  const src = String(text ?? '').replace(/^\ufeff/, '');
  let line = 1;
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let startLine = 1;
  const endCell = () => {
    cells.push(cell.trim());
    cell = '';
  };
  const endRow = () => {
    endCell();
    rows.push({ line: startLine, cells });
    cells = [];
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && cell.trim() === '') {
      cell = '';
      quoted = true;
    } else if (ch === ',' || ch === '，' || ch === '\t') endCell();
    else if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      endRow();
      line++;
      startLine = line;
    } else cell += ch;
  }
  if (cell !== '' || cells.length) endRow();
  return rows;
}

/** UTF-8 (with or without BOM); Excel on Chinese Windows saves CSV as GBK. */
export function decodeText(buf: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    try {
      return new TextDecoder('gbk').decode(buf);
    } catch {
      return buf.toString('utf8');
    }
  }
}

export function cellText(v: unknown): { text: string; problem?: string } {
  if (v === null || v === undefined) return { text: '' };
  if (typeof v === 'number') {
    // An 18-digit ID typed as a number has lost its last digits (Excel keeps 15 significant).
    if (!Number.isSafeInteger(v)) return { text: String(v), problem: '身份证号请以文本格式填写（Excel 中18位数字会丢失末尾数字）' };
    return { text: String(v) };
  }
  if (v instanceof Date) return { text: v.toISOString().slice(0, 10) };
  return { text: String(v).trim() };
}

export type FileParse = { ok: true; rows: RawRow[] } | { ok: false; error: string };

/** An uploaded .xlsx or .csv, told apart by content. */
export async function parseImportFile(buf: Buffer): Promise<FileParse> {
  if (buf.length === 0) return { ok: false, error: '请选择要导入的文件' };
  if (buf.length > IMPORT_MAX_BYTES) return { ok: false, error: '导入文件不能超过2MB' };
  const head = buf.subarray(0, 4).toString('latin1');
  if (head === '\xd0\xcf\x11\xe0') return { ok: false, error: '不支持 .xls 格式，请在 Excel 中另存为 .xlsx 或 .csv 后导入' };
  if (head === 'PK\x03\x04') {
    let data: unknown[][];
    try {
      // Loaded when a spreadsheet arrives (cold start: most processes never read one).
      const { default: readXlsxFile } = await import('read-excel-file/node');
      data = (await readXlsxFile(buf)) as unknown[][];
    } catch {
      return { ok: false, error: '无法读取该 Excel 文件，请确认是 .xlsx 格式' };
    }
    const rows: RawRow[] = data.map((r, i) => {
      const cells: string[] = [];
      let problem: string | undefined;
      r.forEach((v, col) => {
        const c = cellText(v);
        cells.push(c.text);
        if (c.problem && col === 1) problem = c.problem;
      });
      return { line: i + 1, cells, problem };
    });
    return { ok: true, rows: finish(rows) };
  }
  if (buf.includes(0)) return { ok: false, error: '只能导入 .xlsx 或 .csv 文件' };
  return { ok: true, rows: parseCsv(decodeText(buf)) };
}

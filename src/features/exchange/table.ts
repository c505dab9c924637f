/**
 * An uploaded exchange file (.xlsx or .csv, told apart by content) as a header row and data rows
 * with the line numbers the user sees. CSV encoding: src/domain/textEncoding.ts.
 */
import { csvRows, cellText } from '../units/importer.js';
import { decodeCsvBytes, type TextEncodingName } from '../../domain/textEncoding.js';

/** The largest exchange file accepted; the multipart reader refuses a body past twice this before parsing. */
export const EXCHANGE_MAX_BYTES = 20 * 1024 * 1024;
export const EXCHANGE_MAX_ROWS = 50_000;

export interface TableRow {
  line: number;
  cells: string[];
}

export type Table =
  | { ok: true; header: string[]; rows: TableRow[]; encoding: TextEncodingName | 'xlsx' }
  | { ok: false; error: string };

const mb = (n: number) => `${Math.round(n / 1024 / 1024)}MB`;

export async function readTable(buf: Buffer): Promise<Table> {
  if (buf.length === 0) return { ok: false, error: '请选择要导入的文件' };
  if (buf.length > EXCHANGE_MAX_BYTES) return { ok: false, error: `导入文件不能超过${mb(EXCHANGE_MAX_BYTES)}` };
  const head = buf.subarray(0, 4).toString('latin1');
  if (head === '\xd0\xcf\x11\xe0') return { ok: false, error: '不支持 .xls 格式，请在 Excel 中另存为 .xlsx 或 .csv 后导入' };
  let all: TableRow[];
  let encoding: TextEncodingName | 'xlsx';
  if (head === 'PK\x03\x04') {
    let data: unknown[][];
    try {
      // Loaded when a spreadsheet arrives (most processes never read one).
      const { default: readXlsxFile } = await import('read-excel-file/node');
      data = (await readXlsxFile(buf)) as unknown[][];
    } catch {
      return { ok: false, error: '无法读取该 Excel 文件，请确认是 .xlsx 格式' };
    }
    all = data.map((r, i) => ({ line: i + 1, cells: r.map((v) => cellText(v).text) }));
    encoding = 'xlsx';
  } else {
    if (buf.includes(0)) return { ok: false, error: '只能导入 .xlsx 或 .csv 文件' };
    const decoded = decodeCsvBytes(buf);
    all = csvRows(decoded.text);
    encoding = decoded.encoding;
  }
  const filled = all.filter((r) => r.cells.some((c) => c.trim() !== ''));
  if (!filled.length) return { ok: false, error: '文件中没有数据' };
  const [header, ...rows] = filled;
  if (rows.length > EXCHANGE_MAX_ROWS) return { ok: false, error: `每次最多导入${EXCHANGE_MAX_ROWS}行，请分批导入` };
  if (!rows.length) return { ok: false, error: '文件中只有标题行，没有数据' };
  return { ok: true, header: header!.cells, rows, encoding };
}

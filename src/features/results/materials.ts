/**
 * 一键下载材料: a dependency-free ZIP writer, the CSV of the timeline and the attachments'
 * entries of a declaration. Re-exported by service.ts.
 */
import zlib from 'node:zlib';
import type { AppContext } from '../../context.js';
import { parseRoute, type Snapshot } from '../declaration/service.js';

export interface ZipEntry {
  name: string;
  data: Buffer;
  /** When the entry was made (DOS time in the archive; China time). */
  date?: Date;
}

function dosTime(d: Date): { time: number; date: number } {
  const c = new Date(d.getTime() + 8 * 3_600_000);
  const year = Math.max(1980, c.getUTCFullYear());
  return {
    time: (c.getUTCHours() << 11) | (c.getUTCMinutes() << 5) | (c.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((c.getUTCMonth() + 1) << 5) | c.getUTCDate(),
  };
}

/**
 * A ZIP archive (no ZIP64: under 4 GB and 65535 entries) with UTF-8 names (general purpose
 * flag bit 11). Each entry is DEFLATEd unless that does not make it smaller (then STOREd:
 * images and PDFs are already compressed).
 */
export function zipBuffer(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const crc = zlib.crc32(e.data) >>> 0;
    const deflated = zlib.deflateRawSync(e.data, { level: 6 });
    const store = deflated.length >= e.data.length;
    const body = store ? e.data : deflated;
    const method = store ? 0 : 8;
    const { time, date } = dosTime(e.date ?? new Date());
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // bit 11: UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: a regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** One CSV field: quoted when needed; a leading = + - @ is neutralised (spreadsheet formulas). */
function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const cst = (iso: string) => {
  const s = new Date(Date.parse(iso) + 8 * 3_600_000).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 19)}`;
};

/** 审核记录.csv: UTF-8 with BOM (Excel), CRLF, columns 时间,环节,办理单位,操作,意见. */
export function timelineCsv(
  events: readonly { created_at: string; stage: number | null; org: string | null; actor: string | null; action: string; opinion: string | null }[],
  route: readonly { label: string }[],
  actionNames: Record<string, string>,
): Buffer {
  const lines = [['时间', '环节', '办理单位', '操作', '意见'].join(',')];
  for (const e of events) {
    const stage = e.stage !== null && route[e.stage] ? route[e.stage]!.label : '申报人';
    lines.push([cst(e.created_at), stage, e.org ?? e.actor ?? '', actionNames[e.action] ?? e.action, e.opinion ?? ''].map(csvField).join(','));
  }
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n', 'utf8')]);
}

const EXT: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'application/pdf': 'pdf', 'image/gif': 'gif', 'image/webp': 'webp' };

/** Characters Windows refuses in file names, and path separators, become '_'. */
const safeName = (s: string) => s.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').trim() || '附件';

/**
 * The attachments of a version as zip entries: '附件/<slot label>-<n>.<ext>' for the
 * declaration's slots, then the section rows' files as '附件/<section title>-<n>.<ext>'.
 * Files missing from the store are listed in the returned `missing`.
 */
export async function attachmentEntries(ctx: AppContext, userId: number, s: Snapshot, sectionTitles: Record<string, string>, extra: { label: string; fileIds: number[] }[] = []): Promise<{ entries: ZipEntry[]; missing: string[] }> {
  const groups: { label: string; fileIds: number[] }[] = s.attachments.map((a) => ({ label: a.label, fileIds: a.files.map((f) => f.fileId) }));
  groups.push(...extra);
  for (const [key, rows] of Object.entries(s.sections)) {
    const ids = rows.flatMap((r) => r.files.map((f) => f.fileId));
    if (ids.length) groups.push({ label: sectionTitles[key] ?? key, fileIds: ids });
  }
  const all = [...new Set(groups.flatMap((g) => g.fileIds))];
  const files = all.length ? await ctx.db.selectFrom('files').select(['id', 'sha256', 'mime', 'original_name']).where('id', 'in', all).where('user_id', '=', userId).execute() : [];
  const byId = new Map(files.map((f) => [f.id, f]));
  const entries: ZipEntry[] = [];
  const missing: string[] = [];
  const used = new Set<string>();
  for (const g of groups) {
    let n = 0;
    for (const id of g.fileIds) {
      const f = byId.get(id);
      n++;
      const ext = (f && EXT[f.mime]) || (f?.original_name.split('.').pop() ?? 'bin').toLowerCase().replace(/[^a-z0-9]/g, '') || 'bin';
      let name = `附件/${safeName(g.label)}-${n}.${ext}`;
      while (used.has(name)) name = name.replace(/(\.[a-z0-9]+)$/, '_$1');
      used.add(name);
      try {
        if (!f) throw new Error('missing');
        entries.push({ name, data: await ctx.blobs.read(f.sha256) });
      } catch {
        missing.push(name);
      }
    }
  }
  return { entries, missing };
}

export { parseRoute };

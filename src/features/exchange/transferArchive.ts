/**
 * The signed archive of 转评委会 / 评审情况 (format in docs/exchange.md): a ZIP with
 * `manifest.json`, `manifest.sig` (Ed25519 over the manifest's bytes, base64) and the entries the
 * manifest lists with their SHA-256. Reading checks the signature against the committee's trusted
 * keys and every entry's hash before anything is used.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { zipBuffer, type ZipEntry } from '../results/materials.js';
import { ed25519Public } from '../../lib/secrets.js';

export const TRANSFER_FORMAT = 'zhicheng-transfer';
export const TRANSFER_VERSION = 1;

export interface ManifestFile {
  /** The file's id on the sending deployment (the snapshot refers to it). */
  id: number;
  path: string;
  sha256: string;
  size: number;
  mime: string;
  name: string;
  width: number | null;
  height: number | null;
}

export interface ManifestDeclaration {
  /** The declaration's id on the sending deployment. */
  id: number;
  name: string;
  id_masked: string | null;
  title: string;
  level: string;
  level_name: string;
  specialty: string;
  submitted_at: string | null;
  /** The frozen version: its entry and its SHA-256 as stored by the sender. */
  version: string;
  version_sha256: string;
  files: ManifestFile[];
}

export interface ManifestResult {
  /** The declaration's id on the deployment that sent it (the archive this answers). */
  id: number;
  result: 'passed' | 'failed';
  agree: number;
  disagree: number;
  abstain: number;
  members_expected: number;
  members_present: number;
  meeting_date: string;
}

export interface Manifest {
  format: typeof TRANSFER_FORMAT;
  version: number;
  kind: 'declarations' | 'results';
  id: string;
  created_at: string;
  sender: { name: string; public_key: string };
  /** results: the id of the declarations archive they answer. */
  ref?: string;
  /** Every entry besides manifest.json and manifest.sig. */
  entries: { path: string; sha256: string; size: number }[];
  declarations?: ManifestDeclaration[];
  results?: ManifestResult[];
}

export const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

/** The archive: the manifest gets its entries' hashes, is signed, and everything is zipped. */
export function writeArchive(m: Omit<Manifest, 'entries' | 'format' | 'version'>, entries: { path: string; data: Buffer }[], key: crypto.KeyObject): Buffer {
  const manifest: Manifest = { format: TRANSFER_FORMAT, version: TRANSFER_VERSION, ...m, entries: entries.map((e) => ({ path: e.path, sha256: sha256(e.data), size: e.data.length })) };
  const json = Buffer.from(JSON.stringify(manifest, null, 1), 'utf8');
  const sig = crypto.sign(null, json, key).toString('base64');
  const date = new Date(m.created_at);
  const zip: ZipEntry[] = [{ name: 'manifest.json', data: json, date }, { name: 'manifest.sig', data: Buffer.from(sig + '\n'), date }, ...entries.map((e) => ({ name: e.path, data: e.data, date }))];
  return zipBuffer(zip);
}

/** The entries of a ZIP (stored or deflated), each checked against its CRC-32; null when it is not a readable ZIP. */
export function readZip(buf: Buffer): Map<string, Buffer> | null {
  try {
    const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0 || eocd + 22 > buf.length) return null;
    const count = buf.readUInt16LE(eocd + 10);
    let p = buf.readUInt32LE(eocd + 16);
    const out = new Map<string, Buffer>();
    for (let i = 0; i < count; i++) {
      if (buf.readUInt32LE(p) !== 0x02014b50) return null;
      const method = buf.readUInt16LE(p + 10);
      const crc = buf.readUInt32LE(p + 16);
      const csize = buf.readUInt32LE(p + 20);
      const nlen = buf.readUInt16LE(p + 28);
      const xlen = buf.readUInt16LE(p + 30);
      const clen = buf.readUInt16LE(p + 32);
      const off = buf.readUInt32LE(p + 42);
      const name = buf.subarray(p + 46, p + 46 + nlen).toString('utf8');
      p += 46 + nlen + xlen + clen;
      if (buf.readUInt32LE(off) !== 0x04034b50) return null;
      const start = off + 30 + buf.readUInt16LE(off + 26) + buf.readUInt16LE(off + 28);
      const raw = buf.subarray(start, start + csize);
      const data = method === 0 ? Buffer.from(raw) : method === 8 ? zlib.inflateRawSync(raw) : null;
      if (!data || (zlib.crc32(data) >>> 0) !== crc || out.has(name)) return null;
      out.set(name, data);
    }
    return out;
  } catch {
    return null;
  }
}

export type Verified = { ok: true; manifest: Manifest; entries: Map<string, Buffer>; signer: { id: number; name: string } } | { ok: false; error: string };

export const ARCHIVE_ERRORS = {
  notZip: '数据包格式不正确：不是有效的 ZIP 文件，或文件已损坏',
  noManifest: '数据包格式不正确：缺少清单（manifest.json）或签名（manifest.sig）',
  notOurs: '数据包格式不正确：不是本系统导出的转评委会数据包',
  unknownSigner: '数据包的发送方不是本评委会登记的可信发送方（公钥不符），已拒绝导入。请先在“可信发送方”中登记对方的公钥',
  badSignature: '数据包签名验证失败：清单已被改动，或不是由该发送方签发的，已拒绝导入',
  extraEntry: (p: string) => `数据包中有清单未列出的文件“${p}”，可能已被改动，已拒绝导入`,
  missingEntry: (p: string) => `数据包缺少清单列出的文件“${p}”，已拒绝导入`,
  badHash: (p: string) => `文件“${p}”的校验值（SHA-256）与清单不符，数据包已被改动，已拒绝导入`,
};

/**
 * Checks an archive: readable, signed by one of `peers` (the manifest names its signer's key; that
 * key must be trusted and the signature must verify), and every entry exactly as listed.
 */
export function verifyArchive(buf: Buffer, peers: readonly { id: number; name: string; public_key: string }[]): Verified {
  const entries = readZip(buf);
  if (!entries) return { ok: false, error: ARCHIVE_ERRORS.notZip };
  const json = entries.get('manifest.json');
  const sig = entries.get('manifest.sig');
  if (!json || !sig) return { ok: false, error: ARCHIVE_ERRORS.noManifest };
  let m: Manifest;
  try {
    m = JSON.parse(json.toString('utf8'));
  } catch {
    return { ok: false, error: ARCHIVE_ERRORS.notOurs };
  }
  if (!m || m.format !== TRANSFER_FORMAT || m.version !== TRANSFER_VERSION || typeof m.sender?.public_key !== 'string' || !Array.isArray(m.entries)) return { ok: false, error: ARCHIVE_ERRORS.notOurs };
  const peer = peers.find((p) => p.public_key === m.sender.public_key);
  const key = peer && ed25519Public(peer.public_key);
  if (!peer || !key) return { ok: false, error: ARCHIVE_ERRORS.unknownSigner };
  let good = false;
  try {
    good = crypto.verify(null, json, key, Buffer.from(sig.toString('utf8').trim(), 'base64'));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, error: ARCHIVE_ERRORS.badSignature };
  const listed = new Map(m.entries.map((e) => [e.path, e]));
  for (const name of entries.keys()) if (name !== 'manifest.json' && name !== 'manifest.sig' && !listed.has(name)) return { ok: false, error: ARCHIVE_ERRORS.extraEntry(name) };
  for (const e of m.entries) {
    const data = entries.get(e.path);
    if (!data) return { ok: false, error: ARCHIVE_ERRORS.missingEntry(e.path) };
    if (data.length !== e.size || sha256(data) !== e.sha256) return { ok: false, error: ARCHIVE_ERRORS.badHash(e.path) };
  }
  return { ok: true, manifest: m, entries, signer: { id: peer.id, name: peer.name } };
}

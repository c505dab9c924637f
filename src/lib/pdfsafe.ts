/**
 * Neutralises scripts and automatic actions in an uploaded PDF before it is stored (field test
 * #19: JavaScript in an uploaded PDF ran when a reviewer opened it).
 *
 * A PDF reader only runs what a dictionary names: an action whose type is /JavaScript, /Launch,
 * /SubmitForm, /ImportData, /GoToR, /GoToE or /RichMedia, reached from /OpenAction (on open),
 * /AA (additional actions: page open, field focus…), /Names /JavaScript, or an XFA form (/XFA).
 * Renaming those name tokens (first character → 'x': /JavaScript → /xavaScript, /JS → /xS)
 * makes every reader ignore them, and keeps the file's length and every byte offset, so the
 * cross-reference table stays valid and the document displays as before. Hex escapes in names
 * (/Java#53cript) are decoded before comparing.
 *
 * Where the names are:
 * - in the file's own bytes (uncompressed objects): renamed in place, also inside strings and
 *   comments (harmless), but not inside the data of a verified stream (images, fonts, content),
 *   where the same bytes could be pixel data; a stream whose data holds something that looks
 *   like an object header ("12 0 obj") is treated as plain bytes and renamed too;
 * - in object streams (/Type /ObjStm, PDF 1.5+: objects compressed together): the stream is
 *   inflated, the names renamed (same length, so the stream's own offsets hold), deflated
 *   again, and written back into the same bytes with /Length adjusted (same number of digits,
 *   the rest filled with line feeds before `endstream`); when the new data would not fit, or
 *   the object stream uses a filter other than plain FlateDecode, the file is refused.
 * An encrypted PDF's object streams cannot be read without its key: an encrypted file with an
 * object stream is refused ('encrypted'); one without is handled like any other (names in
 * dictionaries are never encrypted, only strings and streams).
 * After rewriting, the result is scanned again and must contain no such name.
 */
import zlib from 'node:zlib';

/** Names that start scripts or actions without the reader's user asking for them. */
export const DANGEROUS_NAMES: ReadonlySet<string> = new Set([
  'JavaScript', 'JS', 'OpenAction', 'AA', 'Launch', 'SubmitForm', 'ImportData', 'RichMedia', 'XFA', 'GoToR', 'GoToE',
]);

export type PdfSafeResult =
  /** `removed`: the dangerous names found (deduplicated, sorted); `buffer` is the input itself when none. */
  | { ok: true; buffer: Buffer; removed: string[] }
  /** 'encrypted': object streams we cannot read; 'unchecked': a structure we cannot rewrite safely. */
  | { ok: false; reason: 'encrypted' | 'unchecked' };

const MAX_INFLATED = 64 * 1024 * 1024;

const isWhite = (c: number) => c === 0x00 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
const isDelim = (c: number) => c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25;
const isRegular = (c: number) => !isWhite(c) && !isDelim(c);

/** A name token's value with #xx escapes decoded (latin1). */
function decodeName(raw: string): string {
  return raw.replace(/#([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Positions of the '/' of every dangerous name token in buf[start, end), with their names. */
export function findDangerousNames(buf: Uint8Array, start = 0, end = buf.length): { pos: number; name: string }[] {
  const out: { pos: number; name: string }[] = [];
  for (let i = start; i < end; i++) {
    if (buf[i] !== 0x2f) continue;
    let j = i + 1;
    while (j < end && isRegular(buf[j]!)) j++;
    if (j - i > 1 && j - i <= 40) {
      const name = decodeName(Buffer.from(buf.buffer, buf.byteOffset + i + 1, j - i - 1).toString('latin1'));
      if (DANGEROUS_NAMES.has(name)) out.push({ pos: i, name });
    }
    i = j - 1;
  }
  return out;
}

type Token =
  | { t: 'name'; v: string }
  | { t: 'num'; v: string; pos: number }
  | { t: 'kw'; v: string }
  | { t: 'other' };

interface StreamInfo {
  /** The dictionary's direct entries. */
  dict: Token[];
  /** Where its `<<` starts and its `>>` ends (exclusive). */
  dictStart: number;
  dictEnd: number;
  dataStart: number;
  dataEnd: number;
  /** dataEnd came from a direct /Length that points at `endstream`. */
  verified: boolean;
}

/** The direct value of `key` in a dictionary's tokens: a token, or 'ref' for `n g R`. */
function dictGet(dict: Token[], key: string): Token | 'ref' | 'container' | undefined {
  let i = 0;
  while (i < dict.length) {
    const k = dict[i]!;
    const a = dict[i + 1];
    const isRef = a?.t === 'num' && dict[i + 2]?.t === 'num' && dict[i + 3]?.t === 'kw' && (dict[i + 3] as { v: string }).v === 'R';
    if (k.t === 'name' && k.v === key) return isRef ? 'ref' : a?.t === 'other' ? 'container' : a;
    i += isRef ? 4 : 2;
  }
  return undefined;
}

/**
 * Walks the file's top level: comments, strings, dictionaries and arrays, and each stream
 * (dictionary + data range). Also reports whether an /Encrypt entry exists.
 */
function scanStructure(buf: Buffer): { streams: (StreamInfo & { filters: string[] | null; lengthPos: number | null })[]; encrypted: boolean } {
  const streams: (StreamInfo & { filters: string[] | null; lengthPos: number | null })[] = [];
  let encrypted = false;
  // Containers being read: each collects the tokens directly inside it.
  const stack: { kind: 'dict' | 'array'; tokens: Token[]; filterArray?: string[] }[] = [];
  let lastTopDict: Token[] | null = null;
  let topDictStart = 0;
  let topDictEnd = 0;
  const n = buf.length;
  let i = 0;
  const push = (tok: Token) => {
    if (stack.length) stack[stack.length - 1]!.tokens.push(tok);
  };
  // The /Filter array of a dictionary (names only), kept aside as arrays are one token.
  const filterArrays = new WeakMap<Token[], string[]>();
  while (i < n) {
    const c = buf[i]!;
    if (isWhite(c)) { i++; continue; }
    if (c === 0x25) { // % comment
      while (i < n && buf[i] !== 0x0a && buf[i] !== 0x0d) i++;
      continue;
    }
    if (c === 0x28) { // ( literal string )
      let depth = 1;
      i++;
      while (i < n && depth > 0) {
        const d = buf[i]!;
        if (d === 0x5c) i += 2;
        else { if (d === 0x28) depth++; else if (d === 0x29) depth--; i++; }
      }
      push({ t: 'other' });
      lastTopDict = null;
      continue;
    }
    if (c === 0x3c && buf[i + 1] === 0x3c) {
      if (stack.length === 0) topDictStart = i;
      stack.push({ kind: 'dict', tokens: [] });
      i += 2;
      continue;
    }
    if (c === 0x3e && buf[i + 1] === 0x3e) {
      i += 2;
      const top = stack.pop();
      if (top && top.kind === 'dict') {
        if (stack.length === 0) {
          lastTopDict = top.tokens;
          topDictEnd = i;
        } else push({ t: 'other' });
      }
      continue;
    }
    if (c === 0x3c) { // <hex string>
      while (i < n && buf[i] !== 0x3e) i++;
      i++;
      push({ t: 'other' });
      continue;
    }
    if (c === 0x5b) { stack.push({ kind: 'array', tokens: [] }); i++; continue; }
    if (c === 0x5d) {
      i++;
      const top = stack.pop();
      if (top && top.kind === 'array') {
        const parent = stack[stack.length - 1];
        const prev = parent?.tokens[parent.tokens.length - 1];
        if (parent && prev?.t === 'name' && prev.v === 'Filter') {
          filterArrays.set(parent.tokens, top.tokens.filter((x) => x.t === 'name').map((x) => (x as { v: string }).v));
        }
        push({ t: 'other' });
      }
      continue;
    }
    if (c === 0x7b || c === 0x7d || c === 0x29 || c === 0x3e) { i++; continue; }
    if (c === 0x2f) { // /Name
      let j = i + 1;
      while (j < n && isRegular(buf[j]!)) j++;
      const name = decodeName(buf.toString('latin1', i + 1, j));
      if (name === 'Encrypt') encrypted = true;
      push({ t: 'name', v: name });
      i = j;
      continue;
    }
    // A number or keyword.
    let j = i;
    while (j < n && isRegular(buf[j]!)) j++;
    const word = buf.toString('latin1', i, j);
    const start = i;
    i = j;
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) { push({ t: 'num', v: word, pos: start }); continue; }
    if (word === 'stream' && stack.length === 0 && lastTopDict) {
      // Data starts after CRLF or LF (a lone CR is tolerated).
      let s = i;
      if (buf[s] === 0x0d && buf[s + 1] === 0x0a) s += 2;
      else if (buf[s] === 0x0a || buf[s] === 0x0d) s += 1;
      const dict = lastTopDict;
      const len = dictGet(dict, 'Length');
      let end = -1;
      let verified = false;
      let lengthPos: number | null = null;
      if (len && len !== 'ref' && len !== 'container' && len.t === 'num' && /^\d+$/.test(len.v)) {
        const e = s + Number(len.v);
        let k = e;
        while (k < n && isWhite(buf[k]!)) k++;
        if (e <= n && buf.toString('latin1', k, k + 9) === 'endstream') {
          end = e;
          verified = true;
          lengthPos = len.pos;
        }
      }
      if (end < 0) {
        const at = buf.indexOf('endstream', s, 'latin1');
        end = at < 0 ? n : at;
        // The EOL before `endstream` is not data.
        if (end > s && buf[end - 1] === 0x0a) end--;
        if (end > s && buf[end - 1] === 0x0d) end--;
      }
      const f = dictGet(dict, 'Filter');
      const filters = f === undefined ? [] : f === 'container' ? filterArrays.get(dict) ?? null : f !== 'ref' && f.t === 'name' ? [f.v] : null;
      streams.push({ dict, dictStart: topDictStart, dictEnd: topDictEnd, dataStart: s, dataEnd: end, verified, filters, lengthPos });
      lastTopDict = null;
      i = end;
      continue;
    }
    if (stack.length === 0) lastTopDict = null;
    push({ t: 'kw', v: word });
  }
  return { streams, encrypted };
}

const OBJ_HEADER = /\d+[\x00\x09\x0a\x0c\x0d\x20]+\d+[\x00\x09\x0a\x0c\x0d\x20]+obj(?![^\x00\x09\x0a\x0c\x0d\x20()<>[\]{}/%])/;

/** Whether buf[start, end) holds something like an object header ("12 0 obj"); looks only around each "obj". */
function hasObjectHeader(buf: Buffer, start: number, end: number): boolean {
  let i = buf.indexOf('obj', start, 'latin1');
  while (i >= 0 && i + 3 <= end) {
    if (OBJ_HEADER.test(buf.toString('latin1', Math.max(start, i - 40), Math.min(end, i + 4)))) return true;
    i = buf.indexOf('obj', i + 3, 'latin1');
  }
  return false;
}

function rename(out: Buffer, at: { pos: number }[], base = 0) {
  for (const { pos } of at) out[base + pos + 1] = 0x78; // 'x'
}

const WS = '[\\x00\\x09\\x0a\\x0c\\x0d\\x20]';

/** The `n g` of the `n g obj` header right before a dictionary, or null. */
function objectNumberBefore(buf: Buffer, dictStart: number): { num: number; gen: number } | null {
  const head = buf.toString('latin1', Math.max(0, dictStart - 64), dictStart);
  const m = new RegExp(`(\\d+)${WS}+(\\d+)${WS}+obj${WS}*$`).exec(head);
  return m ? { num: Number(m[1]), gen: Number(m[2]) } : null;
}

/** The trailer entries an appended cross-reference section must repeat, from the last section. */
function lastTrailer(buf: Buffer): { prev: number; classic: boolean; size: number; keep: string } | null {
  const sx = buf.lastIndexOf('startxref');
  if (sx < 0) return null;
  const m = new RegExp(`^startxref${WS}+(\\d+)`).exec(buf.toString('latin1', sx, sx + 40));
  if (!m) return null;
  const prev = Number(m[1]);
  if (prev >= buf.length) return null;
  const classic = buf.toString('latin1', prev, prev + 4) === 'xref';
  // The trailer dictionary (classic) or the XRef stream's dictionary: up to `startxref`/`stream`.
  const from = classic ? buf.indexOf('trailer', prev, 'latin1') : prev;
  if (from < 0) return null;
  const text = buf.toString('latin1', from, classic ? sx : Math.min(sx, buf.indexOf('stream', from, 'latin1') >>> 0));
  const size = new RegExp(`/Size${WS}+(\\d+)`).exec(text);
  if (!size) return null;
  const keep: string[] = [];
  for (const key of ['Root', 'Info']) {
    const r = new RegExp(`/${key}${WS}+(\\d+${WS}+\\d+${WS}+R)`).exec(text);
    if (r) keep.push(`/${key} ${r[1]}`);
  }
  const id = /\/ID\s*(\[\s*<[0-9A-Fa-f\s]*>\s*<[0-9A-Fa-f\s]*>\s*\])/.exec(text);
  if (id) keep.push(`/ID ${id[1]}`);
  if (!keep.some((k) => k.startsWith('/Root'))) return null;
  return { prev, classic, size: Number(size[1]), keep: keep.join(' ') };
}

interface Replacement {
  num: number;
  gen: number;
  /** The new object (`n g obj … endobj`) without its offset. */
  dict: string;
  data: Buffer;
}

/**
 * Appends new versions of the given objects and a cross-reference section for them (an
 * incremental update, as Acrobat saves): a classic `xref` table when the last section is one,
 * else a cross-reference stream. Readers take the newest version of each object.
 */
function appendUpdate(out: Buffer, reps: Replacement[]): Buffer | null {
  const t = lastTrailer(out);
  if (!t) return null;
  const parts: Buffer[] = [out, Buffer.from(out[out.length - 1] === 0x0a ? '' : '\n', 'latin1')];
  let offset = out.length + parts[1]!.length;
  const entries: { num: number; gen: number; offset: number }[] = [];
  for (const r of reps) {
    const head = Buffer.from(`${r.num} ${r.gen} obj\n${r.dict}\nstream\n`, 'latin1');
    const tail = Buffer.from('\nendstream\nendobj\n', 'latin1');
    entries.push({ num: r.num, gen: r.gen, offset });
    parts.push(head, r.data, tail);
    offset += head.length + r.data.length + tail.length;
  }
  entries.sort((a, b) => a.num - b.num);
  let section: string;
  if (t.classic) {
    section = 'xref\n' + entries.map((e) => `${e.num} 1\n${String(e.offset).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} n \n`).join('');
    section += `trailer\n<< /Size ${t.size} /Prev ${t.prev} ${t.keep} >>\nstartxref\n${offset}\n%%EOF\n`;
    parts.push(Buffer.from(section, 'latin1'));
  } else {
    const xnum = t.size;
    const rows = [...entries, { num: xnum, gen: 0, offset }].map((e) => {
      const row = Buffer.alloc(7);
      row[0] = 1;
      row.writeUInt32BE(e.offset, 1);
      row.writeUInt16BE(e.gen, 5);
      return row;
    });
    const index = [...entries.map((e) => `${e.num} 1`), `${xnum} 1`].join(' ');
    const data = Buffer.concat(rows);
    parts.push(Buffer.from(`${xnum} 0 obj\n<< /Type /XRef /Size ${xnum + 1} /Index [${index}] /W [1 4 2] /Prev ${t.prev} ${t.keep} /Length ${data.length} >>\nstream\n`, 'latin1'));
    parts.push(data, Buffer.from(`\nendstream\nendobj\nstartxref\n${offset}\n%%EOF\n`, 'latin1'));
  }
  return Buffer.concat(parts);
}

/** Renames dangerous names in a PDF (see the module comment). Never throws. */
export function neutralizePdf(input: Buffer): PdfSafeResult {
  try {
    return neutralize(input);
  } catch {
    return { ok: false, reason: 'unchecked' };
  }
}

function neutralize(input: Buffer): PdfSafeResult {
  const { streams, encrypted } = scanStructure(input);
  const removed = new Set<string>();
  let out: Buffer = Buffer.from(input);
  // Byte ranges that are stream data we leave alone (verified, no object header inside).
  const skip: [number, number][] = [];
  const reps: Replacement[] = [];
  for (const s of streams) {
    const type = dictGet(s.dict, 'Type');
    const isObjStm = type !== undefined && type !== 'ref' && type !== 'container' && type.t === 'name' && type.v === 'ObjStm';
    if (isObjStm) {
      if (encrypted) return { ok: false, reason: 'encrypted' };
      const plainFlate = s.filters !== null && s.filters.length === 1 && s.filters[0] === 'FlateDecode' && dictGet(s.dict, 'DecodeParms') === undefined;
      const noFilter = s.filters !== null && s.filters.length === 0;
      if (!plainFlate && !noFilter) return { ok: false, reason: 'unchecked' };
      skip.push([s.dataStart, s.dataEnd]);
      const raw = input.subarray(s.dataStart, s.dataEnd);
      const data = noFilter ? Buffer.from(raw) : zlib.inflateSync(raw, { maxOutputLength: MAX_INFLATED, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      const found = findDangerousNames(data);
      if (found.length === 0) continue;
      for (const f of found) removed.add(f.name);
      rename(data, found);
      if (noFilter) {
        data.copy(out, s.dataStart);
        continue;
      }
      // Compressed again the data rarely fits its old bytes exactly (another zlib): the object
      // stream is written anew at the end of the file (incremental update) and its old data is
      // zeroed, so no copy of the names is left anywhere.
      const id = objectNumberBefore(input, s.dictStart);
      if (!id) return { ok: false, reason: 'unchecked' };
      const z = zlib.deflateSync(data, { level: 9 });
      const dict = input.toString('latin1', s.dictStart, s.dictEnd).replace(new RegExp(`/Length${WS}+\\d+(?:${WS}+\\d+${WS}+R)?`), `/Length ${z.length}`);
      reps.push({ ...id, dict, data: z });
      out.fill(0, s.dataStart, s.dataEnd);
      continue;
    }
    if (s.verified && !hasObjectHeader(input, s.dataStart, s.dataEnd)) skip.push([s.dataStart, s.dataEnd]);
  }
  skip.sort((a, b) => a[0] - b[0]);
  let from = 0;
  for (const [a, b] of [...skip, [input.length, input.length] as [number, number]]) {
    if (a > from) {
      const found = findDangerousNames(input, from, a);
      for (const f of found) removed.add(f.name);
      rename(out, found);
    }
    from = Math.max(from, b);
  }
  if (removed.size === 0) return { ok: true, buffer: input, removed: [] };
  if (reps.length) {
    const updated = appendUpdate(out, reps);
    if (!updated) return { ok: false, reason: 'unchecked' };
    out = updated;
  }
  // Check the result the same way: nothing dangerous may be left.
  const again = neutralizeCheck(out);
  return again ? { ok: true, buffer: out, removed: [...removed].sort() } : { ok: false, reason: 'unchecked' };
}

/** True when a scan of `buf` finds no dangerous name (outside verified binary streams). */
function neutralizeCheck(buf: Buffer): boolean {
  const { streams } = scanStructure(buf);
  const skip: [number, number][] = [];
  for (const s of streams) {
    const type = dictGet(s.dict, 'Type');
    const isObjStm = type !== undefined && type !== 'ref' && type !== 'container' && type.t === 'name' && type.v === 'ObjStm';
    if (isObjStm) {
      skip.push([s.dataStart, s.dataEnd]);
      const raw = buf.subarray(s.dataStart, s.dataEnd);
      if (raw.every((b) => b === 0)) continue; // a superseded object stream, zeroed
      const data = s.filters?.length ? zlib.inflateSync(raw, { maxOutputLength: MAX_INFLATED, finishFlush: zlib.constants.Z_SYNC_FLUSH }) : raw;
      if (findDangerousNames(data).length) return false;
      continue;
    }
    if (s.verified && !hasObjectHeader(buf, s.dataStart, s.dataEnd)) skip.push([s.dataStart, s.dataEnd]);
  }
  skip.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [a, b] of [...skip, [buf.length, buf.length] as [number, number]]) {
    if (a > at && findDangerousNames(buf, at, a).length) return false;
    at = Math.max(at, b);
  }
  return true;
}

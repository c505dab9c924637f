/**
 * The text of an uploaded CSV. Excel on Chinese Windows saves CSV as GBK; newer tools as UTF-8,
 * often with a BOM. Rule: a UTF-8 BOM, or bytes that are valid UTF-8 → UTF-8; anything else is
 * decoded as GBK (WHATWG 'gbk' is the GB18030 superset, so nothing throws).
 */
export type TextEncodingName = 'utf-8' | 'gbk';

export function detectEncoding(buf: Uint8Array): TextEncodingName {
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return 'utf-8';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return 'utf-8';
  } catch {
    return 'gbk';
  }
}

/** Decoded text without a BOM, and the encoding it was read as. */
export function decodeCsvBytes(buf: Uint8Array): { text: string; encoding: TextEncodingName } {
  const encoding = detectEncoding(buf);
  // TextDecoder drops a leading BOM itself (ignoreBOM defaults to false).
  return { text: new TextDecoder(encoding).decode(buf), encoding };
}

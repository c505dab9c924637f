/**
 * A GBK encoder for tests, built from the platform's own GBK decoder (TextEncoder only writes
 * UTF-8): every two-byte GBK code decoded once, the reverse kept.
 */
let table: Map<string, number[]> | null = null;

export function encodeGbk(text: string): Buffer {
  if (!table) {
    table = new Map();
    const dec = new TextDecoder('gbk');
    for (let lead = 0x81; lead <= 0xfe; lead++) {
      for (let trail = 0x40; trail <= 0xfe; trail++) {
        if (trail === 0x7f) continue;
        const ch = dec.decode(new Uint8Array([lead, trail]));
        if (ch.length === 1 && ch !== '\ufffd' && !table.has(ch)) table.set(ch, [lead, trail]);
      }
    }
  }
  const out: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) out.push(code);
    else {
      const b = table.get(ch);
      if (!b) throw new Error(`not in GBK: ${ch}`);
      out.push(...b);
    }
  }
  return Buffer.from(out);
}

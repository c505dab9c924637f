/**
 * Upload content checks (pure, no I/O): what a file really is, decided from its first bytes
 * and never from its name or the browser's claimed type; image dimensions; the portrait rule
 * of the applicant photo (大一寸 3.3 cm × 4.8 cm, seed 390 × 567 px).
 *
 * Every function here is total: truncated, empty or hostile input yields null / no dimensions,
 * never an exception, and every loop advances so it always ends.
 */

export type SniffedMime = 'image/jpeg' | 'image/png' | 'application/pdf';
export type SniffedExt = 'jpg' | 'png' | 'pdf';

export interface Sniffed {
  mime: SniffedMime;
  ext: SniffedExt;
  /** Pixel size for images when it can be read (absent for PDFs and damaged images). */
  width?: number;
  height?: number;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PDF_SIG = [0x25, 0x50, 0x44, 0x46, 0x2d]; // "%PDF-"

function startsWith(buf: Uint8Array, sig: number[]): boolean {
  if (buf.length < sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (buf[i] !== sig[i]) return false;
  return true;
}

function u16be(buf: Uint8Array, i: number): number {
  return (buf[i]! << 8) | buf[i + 1]!;
}

function u32be(buf: Uint8Array, i: number): number {
  return ((buf[i]! << 24) >>> 0) + (buf[i + 1]! << 16) + (buf[i + 2]! << 8) + buf[i + 3]!;
}

/** PNG: the IHDR chunk must come first (bytes 8..32); width/height are its first 8 bytes. */
function pngSize(buf: Uint8Array): { width: number; height: number } | null {
  if (buf.length < 24) return null;
  // length (4) + "IHDR"
  if (buf[12] !== 0x49 || buf[13] !== 0x48 || buf[14] !== 0x44 || buf[15] !== 0x52) return null;
  const width = u32be(buf, 16);
  const height = u32be(buf, 20);
  // The PNG spec bounds both by 2^31-1; zero is invalid.
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return null;
  return { width, height };
}

/**
 * JPEG: walk the marker segments from after SOI to the first start-of-frame (SOF0..SOF15
 * except DHT C4, JPG C8 and DAC CC) and read its height and width. Stops at SOS/EOI or at the
 * end of the buffer; each step moves forward by at least one byte.
 */
function jpegSize(buf: Uint8Array): { width: number; height: number } | null {
  let i = 2;
  const n = buf.length;
  while (i < n) {
    if (buf[i] !== 0xff) return null; // not at a marker: damaged stream
    // Any number of 0xFF fill bytes may precede a marker.
    while (i < n && buf[i] === 0xff) i++;
    if (i >= n) return null;
    const marker = buf[i]!;
    i++;
    // Stand-alone markers without a length: TEM, RST0..7, SOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    // End of image or start of scan before any frame header: no size to read.
    if (marker === 0xd9 || marker === 0xda) return null;
    if (i + 2 > n) return null;
    const len = u16be(buf, i);
    if (len < 2) return null;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      // length (2), precision (1), height (2), width (2)
      if (len < 7 || i + 7 > n) return null;
      const height = u16be(buf, i + 3);
      const width = u16be(buf, i + 5);
      // height 0 means "defined later by DNL": treat as unknown.
      if (width === 0 || height === 0) return null;
      return { width, height };
    }
    i += len;
  }
  return null;
}

/** What a file is, from its content. null when it is none of jpg, png or pdf. */
export function sniff(buf: Buffer | Uint8Array): Sniffed | null {
  if (!buf || buf.length < 3) return null;
  if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) {
    const size = jpegSize(buf);
    return size ? { mime: 'image/jpeg', ext: 'jpg', ...size } : { mime: 'image/jpeg', ext: 'jpg' };
  }
  if (startsWith(buf, PNG_SIG)) {
    const size = pngSize(buf);
    return size ? { mime: 'image/png', ext: 'png', ...size } : { mime: 'image/png', ext: 'png' };
  }
  if (startsWith(buf, PDF_SIG)) return { mime: 'application/pdf', ext: 'pdf' };
  return null;
}

/**
 * Largest image accepted by default, in pixels (IMAGE_MAX_MEGAPIXELS overrides it). The size is
 * read from the header only, so a tiny PNG can claim a 30000×30000 canvas (a decompression bomb)
 * that exhausts memory and CPU wherever it is decoded: a 116 KB, 40-megapixel PNG took ~10 s
 * of CPU to re-encode (field test #19). An A4 page scanned at 600 dpi is ~35 MP, at 400 dpi
 * ~15.5 MP; phone cameras give 12–24 MP.
 */
export const MAX_IMAGE_PIXELS = 25_000_000;

/** null when the image is small enough to decode safely, otherwise the message to show. */
export function checkImagePixels(width: number, height: number, maxPixels = MAX_IMAGE_PIXELS): string | null {
  if (!Number.isFinite(width) || !Number.isFinite(height) || width * height > maxPixels) {
    return `图片尺寸过大（当前为 ${width}×${height} 像素），请缩小到不超过 ${Math.floor(maxPixels / 10_000)} 万像素后重新上传`;
  }
  return null;
}

/** 大一寸 photo: 3.3 cm × 4.8 cm. */
export const PORTRAIT_RATIO = 33 / 48;
/** Accepted deviation of width/height from PORTRAIT_RATIO (±8%). */
export const PORTRAIT_TOLERANCE = 0.08;
export const PORTRAIT_MIN_WIDTH = 150;
export const PORTRAIT_MIN_HEIGHT = 218;

/** The applicant photo rule: null when acceptable, otherwise the message to show. */
export function checkPortrait(width: number, height: number): string | null {
  if (!Number.isFinite(width) || !Number.isFinite(height) || width <= 0 || height <= 0) {
    return '无法识别照片尺寸，请重新导出为 jpg 或 png 后上传';
  }
  const ratio = width / height;
  if (Math.abs(ratio / PORTRAIT_RATIO - 1) > PORTRAIT_TOLERANCE) {
    return `照片比例应为3.3cm×4.8cm（宽:高约为 2:3），当前为 ${width}×${height} 像素`;
  }
  if (width < PORTRAIT_MIN_WIDTH || height < PORTRAIT_MIN_HEIGHT) {
    return `照片分辨率过低（当前为 ${width}×${height} 像素），请上传不小于 ${PORTRAIT_MIN_WIDTH}×${PORTRAIT_MIN_HEIGHT} 像素的照片`;
  }
  return null;
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import { downloadName } from './service.js';
import type { BlobStore } from '../../lib/blobs.js';

/** RFC 6266/5987: an ASCII fallback plus the exact UTF-8 name. */
export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%;]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export interface StoredFile {
  id: number;
  sha256: string;
  size: number;
  mime: string;
  name: string;
}

/**
 * Every download of an uploaded file goes through here, after the caller's access check:
 * the stored (content-checked) type, nosniff, a Content-Disposition, no caching, and a
 * sandbox CSP.
 *
 * PDFs are always attachments (downloads), whatever `download` says: opened inline, the
 * browser's own viewer would run on this site, and Chromium's PDF viewer runs a PDF's
 * JavaScript (PDFium); a CSP `sandbox` does not help, as Chromium then refuses to show the PDF
 * at all. Scripts are also neutralised when a PDF is stored (src/lib/pdfsafe.ts), which covers
 * the reader on the reviewer's PC after the download. Images stay inline (thumbnails, 查看):
 * they are re-encoded from their pixels when stored and cannot carry script.
 */
export async function sendStoredFile(req: FastifyRequest, reply: FastifyReply, blobs: BlobStore, file: StoredFile, download = false) {
  // Opened before the headers: a missing blob is a 404 here, not a broken response.
  const stream = await blobs.stream(file.sha256);
  if (!stream) {
    req.log.error({ fileId: file.id }, 'stored upload is missing');
    return reply.callNotFound();
  }
  reply
    .header('Content-Type', file.mime)
    .header('Content-Length', String(file.size))
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Disposition', contentDisposition(download || !file.mime.startsWith('image/') ? 'attachment' : 'inline', downloadName(file.name, file.mime)))
    .header('Cache-Control', 'private, no-store')
    .header('Content-Security-Policy', 'sandbox');
  return reply.send(stream);
}

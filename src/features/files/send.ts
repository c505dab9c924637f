import fs from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { downloadName } from './service.js';

/** RFC 6266/5987: an ASCII fallback plus the exact UTF-8 name. */
export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%;]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Opens a file for streaming, failing here (not mid-response) when it is missing. */
function openStream(p: string): Promise<fs.ReadStream> {
  return new Promise((resolve, reject) => {
    const s = fs.createReadStream(p);
    s.once('open', () => resolve(s));
    s.once('error', reject);
  });
}

export interface StoredFile {
  id: number;
  path: string;
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
export async function sendStoredFile(req: FastifyRequest, reply: FastifyReply, file: StoredFile, download = false) {
  let stream: fs.ReadStream;
  try {
    stream = await openStream(file.path);
  } catch (err) {
    req.log.error({ err, fileId: file.id }, 'stored upload is missing');
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

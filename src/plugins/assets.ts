import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * Compressed copies, made on the first request for each file and kept (brotli at quality 11
 * for every file took ~20% of the start-up CPU; most files are asked for much later, if ever).
 */
const compressed = new WeakMap<Asset, { br?: Buffer; gzip?: Buffer }>();
function encoded(a: Asset, enc: 'br' | 'gzip'): Buffer {
  let c = compressed.get(a);
  if (!c) compressed.set(a, (c = {}));
  if (enc === 'br') return (c.br ??= zlib.brotliCompressSync(a.body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
  return (c.gzip ??= zlib.gzipSync(a.body, { level: 9 }));
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

function walk(dir: string, base = dir): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p, base) : [path.relative(base, p).split(path.sep).join('/')];
  });
}

/**
 * Serves public/ from memory under content-hashed names (app.3f2a1b9c.css), pre-compressed
 * with brotli and gzip (on first use), cached for a year: a repeat visit downloads no CSS or JS at all.
 */
export function loadAssets(publicDir: string) {
  const byUrl = new Map<string, Asset>();
  const urlOf = new Map<string, string>();
  const hashOf = new Map<string, string>();
  for (const rel of walk(publicDir)) {
    const body = fs.readFileSync(path.join(publicDir, rel));
    const hash = crypto.createHash('sha256').update(body).digest('hex').slice(0, 10);
    const ext = path.extname(rel);
    const url = `/public/${rel.slice(0, -ext.length)}.${hash}${ext}`;
    byUrl.set(url, {
      body,
      type: TYPES[ext] ?? 'application/octet-stream',
      etag: `"${hash}"`,
    });
    urlOf.set(rel, url);
    hashOf.set(rel, hash);
  }
  return {
    /** Hashed URL for a file under public/, e.g. asset('css/app.css'). */
    url(rel: string): string {
      const u = urlOf.get(rel);
      if (!u) throw new Error(`unknown asset ${rel}`);
      return u;
    },
    get: (url: string) => byUrl.get(url),
    /** A file's text and content hash, for inlining it into a page (the critical CSS). */
    inline(rel: string): { text: string; hash: string } {
      const url = this.url(rel);
      return { text: byUrl.get(url)!.body.toString('utf8'), hash: hashOf.get(rel)! };
    },
  };
}

export type Assets = ReturnType<typeof loadAssets>;

export default fp(async function assetsPlugin(app: FastifyInstance, opts: { assets: Assets }) {
  app.get('/public/*', async (req, reply) => {
    const a = opts.assets.get(req.url.split('?')[0]!);
    if (!a) return reply.callNotFound();
    reply
      .header('Cache-Control', 'public, max-age=31536000, immutable')
      .header('ETag', a.etag)
      .header('Vary', 'Accept-Encoding')
      .type(a.type);
    if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
    const accept = String(req.headers['accept-encoding'] ?? '');
    if (/\bbr\b/.test(accept)) return reply.header('Content-Encoding', 'br').send(encoded(a, 'br'));
    if (/\bgzip\b/.test(accept)) return reply.header('Content-Encoding', 'gzip').send(encoded(a, 'gzip'));
    return reply.send(a.body);
  });
});

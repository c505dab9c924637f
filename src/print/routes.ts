import { evaluationForForm } from '../features/results/service.js';
import { isPrintable } from '../domain/declaration.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { AppContext } from '../context.js';
import { ROOT } from '../app-root.js';
import { requireApplicant, requireStaff } from '../plugins/auth.js';
import { PLEDGE_TEXT } from '../domain/declaration.js';
import { maskName } from '../domain/mask.js';
import { getDeclaration, versionOf, type Declaration, type Snapshot } from '../features/declaration/service.js';
import { visibleDeclaration } from '../features/review/service.js';
import { blobPath } from '../features/files/service.js';
import { reviewFormModel } from './reviewForm.js';
import { findBrowser } from './browser.js';
import { loadPrintFonts, MissingFontError, FONT_FAMILY, FOOTER_FAMILY, PRINT_ORIGIN, type PrintFonts } from './fonts.js';
import { createPdfPool, PdfQueueFullError, PdfTimeoutError, type PdfPool, type Resource } from './pdf.js';

/**
 * 打印申报表 (PDF) and the public check of a printed form (/verify/<code>).
 *
 * Print gate (seed 001 §6.10): the PDF exists from 评委会电子材料审核通过 on (approved, and the
 * final passed/failed); before that the answer is 当前状态不能打印申报表 and the on-screen
 * preview is offered. Every PDF is one print_records row: a fresh random code printed on every
 * page and in the QR code, tied to the version (and its SHA-256) that was printed.
 */
export const PRINTABLE = ['approved', 'passed', 'failed'] as const;
export const GATE_MESSAGE = '当前状态不能打印申报表';
export const NO_BROWSER_MESSAGE = '打印申报表需要在服务器上安装 Chromium/Chrome/Edge';

export { isPrintable };

// Crockford base32: no I, L, O, U; 12 characters = 60 random bits.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newCode(): string {
  const bytes = crypto.randomBytes(12);
  let s = '';
  for (const b of bytes) s += ALPHABET[b & 31];
  return s;
}

/** What a person typed or scanned → the stored code, or null when it cannot be one. */
export function normalizeCode(raw: string): string | null {
  const s = raw.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return /^[0-9A-HJKMNP-TV-Z]{12}$/.test(s) ? s : null;
}

export function displayCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}

/** RFC 6266: an ASCII fallback name plus the UTF-8 one (申报评审表-姓名.pdf). */
export function pdfDisposition(name: string): string {
  const safe = name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '').trim() || '申报人';
  return `attachment; filename="review-form.pdf"; filename*=UTF-8''${encodeURIComponent(`申报评审表-${safe}.pdf`)}`;
}

let cssCache: { formCss: string; preRule: string } | null = null;
function printCss() {
  if (cssCache) return cssCache;
  const formCss = fs.readFileSync(path.join(ROOT, 'public/css/form.css'), 'utf8');
  const app = fs.readFileSync(path.join(ROOT, 'public/css/app.css'), 'utf8');
  const preRule = /(^|\})\s*(\.pre\{[^}]*\})/m.exec(app)?.[2] ?? '.pre{white-space:pre-wrap}';
  cssCache = { formCss, preRule };
  return cssCache;
}

export default async function printRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const executablePath = findBrowser(ctx.config.chromiumPath);
  if (!executablePath) ctx.log.warn(`${NO_BROWSER_MESSAGE}${ctx.config.chromiumPath ? `（CHROMIUM_PATH=${ctx.config.chromiumPath} 不可执行）` : ''}; PDF printing is off`);
  let pool: PdfPool | null = null;
  let fonts: PrintFonts | null = null;

  function printer(): { pool: PdfPool; fonts: PrintFonts } {
    fonts ??= loadPrintFonts();
    pool ??= createPdfPool({
      executablePath: executablePath!,
      concurrency: ctx.config.pdfConcurrency,
      queueMax: ctx.config.pdfQueueMax,
      timeoutMs: ctx.config.pdfTimeoutMs,
      recycleAfter: 100,
      resources: {
        [fonts.mainUrl]: { contentType: 'font/woff2', body: fonts.main, cache: true },
        [fonts.boldUrl]: { contentType: 'font/woff2', body: fonts.bold, cache: true },
      },
    });
    return { pool, fonts };
  }

  app.addHook('onClose', async () => {
    await pool?.close();
  });

  async function photoResource(d: Declaration, s: Snapshot): Promise<{ url: string; resource: Resource } | null> {
    if (!s.photoFileId) return null;
    const f = await ctx.db.selectFrom('files').select(['sha256', 'mime']).where('id', '=', s.photoFileId).where('user_id', '=', d.user_id).executeTakeFirst();
    if (!f || !['image/jpeg', 'image/png'].includes(f.mime)) return null;
    try {
      const body = await fs.promises.readFile(blobPath(ctx, f.sha256));
      // A per-job URL, never cached: the next job on this page cannot see this photo.
      return { url: `${PRINT_ORIGIN}/photo/${crypto.randomBytes(12).toString('hex')}`, resource: { contentType: f.mime, body } };
    } catch {
      return null;
    }
  }

  async function sendPdf(req: FastifyRequest, reply: FastifyReply, d: Declaration, previewUrl: string) {
    if (!isPrintable(d.status)) {
      return reply.page('print/message.njk', {
        title: GATE_MESSAGE, message: '评委会电子材料审核通过后方可打印申报表。在此之前可以在线预览申报表（预览）。', previewUrl,
        breadcrumbs: [{ label: '打印申报表' }],
      }, 409);
    }
    if (!executablePath) {
      return reply.page('print/message.njk', { title: NO_BROWSER_MESSAGE, message: `${NO_BROWSER_MESSAGE}。请联系系统管理员；可先在线预览申报表。`, previewUrl }, 503);
    }
    const v = await versionOf(ctx, d);
    if (!v || !d.version_id) return reply.callNotFound();
    let printing: ReturnType<typeof printer>;
    try {
      printing = printer();
    } catch (err) {
      if (!(err instanceof MissingFontError)) throw err;
      req.log.error({ err }, 'print fonts missing');
      return reply.page('print/message.njk', { title: '打印申报表暂不可用', message: '服务器缺少打印字体文件，请联系系统管理员。可先在线预览申报表。', previewUrl }, 503);
    }
    const { pool, fonts } = printing;
    const code = newCode();
    const printedAt = ctx.config.now().toISOString();
    const verifyUrl = `${ctx.config.publicUrl}/verify/${code}`;
    const photo = await photoResource(d, v.snapshot);
    const form = reviewFormModel(v.snapshot, { today: v.created_at.slice(0, 10), preview: false, pledge: PLEDGE_TEXT, evaluation: await evaluationForForm(ctx.db, d.id) });
    const qrSvg = await QRCode.toString(verifyUrl, { type: 'svg', margin: 0, errorCorrectionLevel: 'M' });
    const css = printCss();
    const common = { codeDisplay: displayCode(code), footerFamily: FOOTER_FAMILY, footerFontUrl: fonts.footerDataUrl };
    const html = await reply.viewAsync('print/page.njk', {
      ...common, form, cover: v.snapshot.cover, photoUrl: photo?.url ?? '', qrSvg, printedAt, versionNo: v.no, verifyUrl,
      fontFamily: FONT_FAMILY, fontUrl: fonts.mainUrl, boldFontUrl: fonts.boldUrl, printOrigin: PRINT_ORIGIN, formCss: css.formCss, preRule: css.preRule,
    });
    const footerTemplate = await reply.viewAsync('print/footer.njk', common);
    let pdf: Buffer;
    try {
      pdf = await pool.render(html, { resources: photo ? { [photo.url]: photo.resource } : {}, footerTemplate });
    } catch (err) {
      if (err instanceof PdfQueueFullError || err instanceof PdfTimeoutError) {
        reply.header('Retry-After', String(err.retryAfter));
        return reply.page('print/message.njk', { title: '打印任务繁忙', message: '当前打印申报表的人数较多，请稍后再试。', previewUrl }, 503);
      }
      throw err;
    }
    // Recorded once the PDF exists: a code on paper always verifies.
    await ctx.db.insertInto('print_records').values({
      code, declaration_id: d.id, version_id: d.version_id, sha256: v.sha256, printed_by: req.user?.id ?? null, printed_at: printedAt,
    }).execute();
    return reply
      .code(200)
      .header('Content-Type', 'application/pdf')
      .header('Content-Disposition', pdfDisposition(v.snapshot.person.name))
      .header('Cache-Control', 'no-store')
      .header('X-Content-Type-Options', 'nosniff')
      .send(pdf);
  }

  // The applicant: own declaration only.
  app.get('/me/records/:id/pdf', { preHandler: requireApplicant }, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const d = Number.isSafeInteger(id) ? await getDeclaration(ctx, req.user!.id, id) : undefined;
    if (!d) return reply.callNotFound();
    return sendPdf(req, reply, d, `/me/records/${d.id}/form`);
  });

  // Staff on the declaration's route (scope).
  app.get('/org/reviews/:id/pdf', { preHandler: requireStaff }, async (req, reply) => {
    const d = await visibleDeclaration(ctx, req.user!, Number((req.params as { id: string }).id));
    if (!d) return reply.callNotFound();
    return sendPdf(req, reply, d as Declaration, `/org/reviews/${d.id}`);
  });

  // Public: type the code printed on the paper copy.
  app.get('/verify', async (req, reply) => {
    const raw = String((req.query as { code?: string }).code ?? '').trim().slice(0, 40);
    if (raw) return reply.redirect(`/verify/${encodeURIComponent(normalizeCode(raw) ?? raw)}`, 303);
    return reply.page('print/verify.njk', { ask: true, title: '申报表核验' });
  });

  // Public: is this paper copy one the system printed?
  app.get('/verify/:code', async (req, reply) => {
    const raw = String((req.params as { code: string }).code ?? '').slice(0, 40);
    const code = normalizeCode(raw);
    const row = code
      ? await ctx.db
          .selectFrom('print_records as p')
          .innerJoin('declaration_versions as v', 'v.id', 'p.version_id')
          .innerJoin('declarations as d', 'd.id', 'p.declaration_id')
          .select(['p.code', 'p.sha256', 'p.printed_at', 'v.no', 'v.snapshot', 'v.created_at as version_at', 'd.version_id as current_version'])
          .where('p.code', '=', code)
          .executeTakeFirst()
      : undefined;
    if (!row) {
      return reply.page('print/verify.njk', { rec: null, codeDisplay: raw, title: '未找到该验证码对应的申报表' }, 404);
    }
    const s = JSON.parse(row.snapshot) as Snapshot;
    const rec = {
      maskedName: maskName(s.person.name), unit: s.person.unitName ?? '', title: s.cover.title, committee: s.cover.committee, year: s.cover.year,
      versionNo: row.no, versionAt: row.version_at, printedAt: row.printed_at, hashShort: row.sha256.slice(0, 16),
      superseded: row.current_version !== null && row.current_version !== undefined && (await isSuperseded(row.current_version, row.no)),
    };
    return reply.page('print/verify.njk', { rec, codeDisplay: displayCode(row.code), title: '申报表核验' });
  });

  async function isSuperseded(currentVersionId: number, printedNo: number): Promise<boolean> {
    const cur = await ctx.db.selectFrom('declaration_versions').select('no').where('id', '=', currentVersionId).executeTakeFirst();
    return !!cur && cur.no > printedNo;
  }
}

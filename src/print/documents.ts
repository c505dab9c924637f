import { qrcode } from '../lib/qrcode.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { ROOT } from '../app-root.js';
import { isPrintable, PLEDGE_TEXT } from '../domain/declaration.js';
import { versionOf, type Declaration, type Snapshot } from '../features/declaration/service.js';
import { reviewFormModel, type ReviewFormModel, type ReviewFormOptions } from './reviewForm.js';
import { MissingFontError, FONT_FAMILY, FOOTER_FAMILY, PRINT_ORIGIN } from './fonts.js';
import { PdfQueueFullError, PdfTimeoutError, type Resource } from './pdf.js';
import { printerFor } from './printer.js';
import { newCode, displayCode } from './codes.js';
import { APP_VERSION } from '../version.js';
import { writeTx } from '../db/index.js';

/**
 * The PDFs the system prints, each from the same template as its on-screen page:
 * the review form (print/page.njk around print/_form.njk) and the e-certificate
 * (results/certificate-print.njk). Both carry a verification code and a QR code.
 */
export const GATE_MESSAGE = '当前状态不能打印申报表';
export const NO_BROWSER_MESSAGE = '打印申报表需要在服务器上安装 Chromium/Chrome/Edge';

/** Why no PDF came out; printProblem() turns it into the page the user sees. */
export type PrintProblem = { kind: 'gate' } | { kind: 'no-browser' } | { kind: 'no-fonts' } | { kind: 'busy'; retryAfter: number } | { kind: 'missing' };
export type PrintResult = { kind: 'ok'; pdf: Buffer; code: string; name: string } | PrintProblem;

let cssCache: { formCss: string; preRule: string } | null = null;
function printCss() {
  if (cssCache) return cssCache;
  const formCss = fs.readFileSync(path.join(ROOT, 'public/css/form.css'), 'utf8');
  const app = fs.readFileSync(path.join(ROOT, 'public/css/app.css'), 'utf8');
  const preRule = /(^|\})\s*(\.pre\{[^}]*\})/m.exec(app)?.[2] ?? '.pre{white-space:pre-wrap}';
  cssCache = { formCss, preRule };
  return cssCache;
}

/** A stored jpg/png as a resource of one print job, at a per-job URL never cached (the next job on this page cannot see it). */
async function imageResource(ctx: AppContext, f: { sha256: string; mime: string } | undefined | null, kind: 'photo' | 'seal'): Promise<{ url: string; resource: Resource } | null> {
  if (!f || !['image/jpeg', 'image/png'].includes(f.mime)) return null;
  try {
    const body = await ctx.blobs.read(f.sha256);
    return { url: `${PRINT_ORIGIN}/${kind}/${crypto.randomBytes(12).toString('hex')}`, resource: { contentType: f.mime, body } };
  } catch {
    return null;
  }
}

/**
 * What the caller adds to the frozen version (src/features/declaration/formInputs.ts): the
 * evaluation, 表十二 with the unit's seal, and the full 身份证号 of the printed form.
 */
export interface PdfInputs extends Pick<ReviewFormOptions, 'evaluation' | 'unit' | 'moreUnits' | 'idNumber'> {
  seal: { sha256: string; mime: string } | null;
  /** The seals of moreUnits, in order. */
  moreSeals?: ({ sha256: string; mime: string } | null)[];
}

/** Runs a print job, mapping the printer's refusals to PrintProblems. */
async function attempt<T>(ctx: AppContext, req: FastifyRequest | null, job: () => Promise<T>): Promise<{ kind: 'done'; value: T } | PrintProblem> {
  if (!printerFor(ctx).executablePath) return { kind: 'no-browser' };
  try {
    return { kind: 'done', value: await job() };
  } catch (err) {
    if (err instanceof MissingFontError) {
      (req?.log ?? ctx.log).error({ err }, 'print fonts missing');
      return { kind: 'no-fonts' };
    }
    if (err instanceof PdfQueueFullError || err instanceof PdfTimeoutError) return { kind: 'busy', retryAfter: err.retryAfter };
    throw err;
  }
}

/** Placeholders of the canonical page (the cache key): what differs between two prints of the same content. */
const CANON = { code: '000000000000', printedAt: '1970-01-01T00:00:00.000Z' };

/**
 * The review form of a declaration's current version as a PDF (a code on paper always verifies:
 * print_records). Refused before 评委会电子材料审核通过 (the print gate).
 *
 * A version never changes once submitted, so its form is rendered by Chromium once (issue #18: a
 * heavy form took seconds of CPU every time): the page is first rendered with placeholders for
 * the code, the time and the images' per-job URLs, and the sha256 of that canonical page (plus
 * the image and app versions) keys pdf_cache. A hit serves the stored PDF, with the code it was
 * printed with; a miss renders, stores the bytes in the blob store (every process sees them)
 * and records the code. Anything that changes what is printed (a new version, the committee's
 * evaluation, the unit's opinion or seal, the photo, a template) changes the key.
 */
/** What renders the templates: a reply (a user's request), or the app (the background pre-render). */
export interface PrintRenderer {
  viewAsync(page: string, data: Record<string, unknown>): Promise<string>;
  request?: FastifyRequest | null;
}

export async function reviewFormPdf(ctx: AppContext, reply: PrintRenderer, d: Declaration, printedBy: number | null, inputs: PdfInputs): Promise<PrintResult> {
  if (!isPrintable(d.status)) return { kind: 'gate' };
  const v = await versionOf(ctx, d);
  if (!v || !d.version_id) return { kind: 'missing' };
  const printer = printerFor(ctx);
  if (!printer.executablePath) return { kind: 'no-browser' };
  const fonts = printer.fonts();
  const css = printCss();
  const photoFile = v.snapshot.photoFileId
    ? await ctx.db.selectFrom('files').select(['sha256', 'mime']).where('id', '=', v.snapshot.photoFileId).where('user_id', '=', d.user_id).executeTakeFirst()
    : undefined;
  const usable = (f: { mime: string } | null | undefined) => !!f && ['image/jpeg', 'image/png'].includes(f.mime);
  const sealFile = inputs.unit && usable(inputs.seal) ? inputs.seal : null;
  const moreSealFiles = (inputs.moreUnits ?? []).map((_, i) => (usable(inputs.moreSeals?.[i]) ? inputs.moreSeals![i]! : null));

  const page = async (code: string, printedAt: string, photoUrl: string, sealUrl: string, moreSealUrls: string[]) => {
    const verifyUrl = `${ctx.config.publicUrl}/verify/${code}`;
    const form = reviewFormModel(v.snapshot, {
      today: v.created_at.slice(0, 10), preview: false, pledge: PLEDGE_TEXT, evaluation: inputs.evaluation, idNumber: inputs.idNumber,
      unit: inputs.unit ? { ...inputs.unit, sealUrl } : undefined,
      moreUnits: (inputs.moreUnits ?? []).map((u, i) => ({ ...u, sealUrl: moreSealUrls[i] ?? '' })),
    });
    const qrSvg = await (await qrcode()).toString(verifyUrl, { type: 'svg', margin: 0, errorCorrectionLevel: 'M' });
    const common = { codeDisplay: displayCode(code), footerFamily: FOOTER_FAMILY, footerFontUrl: fonts.footerDataUrl };
    const html = await reply.viewAsync('print/page.njk', {
      ...common, form, cover: v.snapshot.cover, photoUrl, qrSvg, printedAt, versionNo: v.no, verifyUrl,
      fontFamily: FONT_FAMILY, fontUrl: fonts.mainUrl, boldFontUrl: fonts.boldUrl, printOrigin: PRINT_ORIGIN, formCss: css.formCss, preRule: css.preRule,
    });
    const footerTemplate = await reply.viewAsync('print/footer.njk', common);
    return { html, footerTemplate };
  };

  const canon = await page(CANON.code, CANON.printedAt, usable(photoFile) ? `sha:${photoFile!.sha256}` : '', sealFile ? `sha:${sealFile.sha256}` : '', moreSealFiles.map((f) => (f ? `sha:${f.sha256}` : '')));
  const key = crypto.createHash('sha256').update(`${APP_VERSION}\0${canon.html}\0${canon.footerTemplate}`).digest('hex');
  const hit = await cachedPdf(ctx, key);
  if (hit) return { kind: 'ok', pdf: hit.pdf, code: hit.code, name: v.snapshot.person.name };

  const r = await attempt(ctx, reply.request ?? null, async () => {
    const code = newCode();
    const printedAt = ctx.config.now().toISOString();
    const photo = usable(photoFile) ? await imageResource(ctx, photoFile, 'photo') : null;
    const seal = sealFile ? await imageResource(ctx, sealFile, 'seal') : null;
    const moreSeals = await Promise.all(moreSealFiles.map((f) => (f ? imageResource(ctx, f, 'seal') : Promise.resolve(null))));
    const { html, footerTemplate } = await page(code, printedAt, photo?.url ?? '', seal?.url ?? '', moreSeals.map((m) => m?.url ?? ''));
    const resources = Object.fromEntries([photo, seal, ...moreSeals].filter((r) => r !== null).map((r) => [r!.url, r!.resource]));
    const pdf = await printer.render(html, { resources, footerTemplate });
    await ctx.db.insertInto('print_records').values({
      code, declaration_id: d.id, version_id: d.version_id!, sha256: v.sha256, printed_by: printedBy, printed_at: printedAt,
    }).execute();
    await keepPdf(ctx, key, d.id, code, pdf);
    return { pdf, code, name: v.snapshot.person.name };
  });
  return r.kind === 'done' ? { kind: 'ok', ...r.value } : r;
}

async function cachedPdf(ctx: AppContext, key: string): Promise<{ pdf: Buffer; code: string } | null> {
  const row = await ctx.db.selectFrom('pdf_cache').select(['code', 'sha256']).where('key', '=', key).executeTakeFirst();
  if (!row) return null;
  try {
    return { pdf: await ctx.blobs.read(row.sha256), code: row.code };
  } catch {
    return null; // bytes gone (a restored database without its uploads): render again
  }
}

/**
 * Stores a rendered form under its key; the declaration's older renders (superseded content)
 * are dropped so that the cache holds one form per declaration. Two processes rendering the
 * same content at once both succeed: the second insert finds the key taken and keeps the first.
 */
async function keepPdf(ctx: AppContext, key: string, declarationId: number, code: string, pdf: Buffer): Promise<void> {
  const sha = crypto.createHash('sha256').update(pdf).digest('hex');
  try {
    await ctx.blobs.put(sha, { buffer: pdf });
    const old = await writeTx(ctx.db, async (trx) => {
      const stale = await trx.selectFrom('pdf_cache').select(['key', 'sha256']).where('declaration_id', '=', declarationId).where('key', '!=', key).execute();
      if (stale.length) await trx.deleteFrom('pdf_cache').where('key', 'in', stale.map((s) => s.key)).execute();
      await trx.insertInto('pdf_cache').values({ key, declaration_id: declarationId, code, sha256: sha, size: pdf.length, created_at: ctx.config.now().toISOString() })
        .onConflict((oc) => oc.column('key').doNothing()).execute();
      return stale.map((s) => s.sha256);
    });
    for (const s of old) await ctx.blobs.remove(s).catch(() => {});
  } catch (err) {
    // The PDF was printed and recorded; only the cache failed: the next print renders again.
    ctx.log.warn({ err }, 'could not keep the rendered form');
  }
}

/** What the certificate template shows (results/certificate.njk and certificate-print.njk). */
export interface CertificateDoc {
  name: string;
  certTitle: string;
  levelName: string;
  specialty: string;
  committee: string;
  number: string;
  docNo: string;
  issuedAt: string;
  codeDisplay: string;
  verifyUrl: string;
}

/** The e-certificate as a one-page A4 landscape PDF with its QR code. */
export async function certificatePdf(ctx: AppContext, reply: FastifyReply, cert: CertificateDoc): Promise<{ kind: 'ok'; pdf: Buffer } | PrintProblem> {
  const printer = printerFor(ctx);
  const r = await attempt(ctx, reply.request, async () => {
    const fonts = printer.fonts();
    const qrSvg = await (await qrcode()).toString(cert.verifyUrl, { type: 'svg', margin: 0, errorCorrectionLevel: 'M' });
    const html = await reply.viewAsync('results/certificate-print.njk', {
      cert, qrSvg, fontFamily: FONT_FAMILY, fontUrl: fonts.mainUrl, printOrigin: PRINT_ORIGIN,
    });
    return printer.render(html, { margin: { top: '0', bottom: '0', left: '0', right: '0' } });
  });
  return r.kind === 'done' ? { kind: 'ok', pdf: r.value } : r;
}

/** 评审简表 of a meeting as one PDF (one A4 page per declaration, in the order given). */
export async function briefsPdf(ctx: AppContext, reply: FastifyReply, title: string, briefs: readonly import('./brief.js').BriefDoc[]): Promise<{ kind: 'ok'; pdf: Buffer } | PrintProblem> {
  const printer = printerFor(ctx);
  const r = await attempt(ctx, reply.request, async () => {
    const fonts = printer.fonts();
    const html = await reply.viewAsync('print/brief.njk', { title, briefs, fontFamily: FONT_FAMILY, fontUrl: fonts.mainUrl, printOrigin: PRINT_ORIGIN });
    return printer.render(html, {});
  });
  return r.kind === 'done' ? { kind: 'ok', pdf: r.value } : r;
}

/** A standalone one-template document (评审简表-like: its own fonts and @page) as a PDF. */
export async function sheetPdf(ctx: AppContext, reply: FastifyReply, view: string, data: Record<string, unknown>): Promise<{ kind: 'ok'; pdf: Buffer } | PrintProblem> {
  const printer = printerFor(ctx);
  const r = await attempt(ctx, reply.request, async () => {
    const fonts = printer.fonts();
    const html = await reply.viewAsync(view, { ...data, fontFamily: FONT_FAMILY, fontUrl: fonts.mainUrl, printOrigin: PRINT_ORIGIN });
    return printer.render(html, {});
  });
  return r.kind === 'done' ? { kind: 'ok', pdf: r.value } : r;
}

/**
 * The blank review form (打印空白表格): the review form's template with every value empty and no
 * verification code (nothing to verify); page numbers in the footer.
 */
export async function blankReviewFormPdf(ctx: AppContext, reply: FastifyReply, form: ReviewFormModel): Promise<{ kind: 'ok'; pdf: Buffer } | PrintProblem> {
  const printer = printerFor(ctx);
  const r = await attempt(ctx, reply.request, async () => {
    const fonts = printer.fonts();
    const css = printCss();
    const html = await reply.viewAsync('print/page.njk', {
      form, cover: {}, photoUrl: '', codeDisplay: '', footerFamily: FOOTER_FAMILY, footerFontUrl: fonts.footerDataUrl,
      fontFamily: FONT_FAMILY, fontUrl: fonts.mainUrl, boldFontUrl: fonts.boldUrl, printOrigin: PRINT_ORIGIN, formCss: css.formCss, preRule: css.preRule,
    });
    const footerTemplate = '<div style="width:100%;text-align:center;font-size:8.5pt;font-family:serif"><span class="pageNumber"></span> / <span class="totalPages"></span></div>';
    return printer.render(html, { footerTemplate });
  });
  return r.kind === 'done' ? { kind: 'ok', pdf: r.value } : r;
}

/** The page for a PrintProblem (409 for the gate, 503 otherwise, Retry-After when busy). */
export function printProblem(_req: FastifyRequest, reply: FastifyReply, p: PrintProblem, previewUrl: string, doc: '申报表' | '证书' = '申报表') {
  const view = doc === '申报表' ? '在线预览申报表' : '在线查看证书';
  switch (p.kind) {
    case 'gate':
      return reply.page('print/message.njk', {
        title: GATE_MESSAGE, message: '评委会电子材料审核通过后方可打印申报表。在此之前可以在线预览申报表（预览）。', previewUrl,
        breadcrumbs: [{ label: '打印申报表' }],
      }, 409);
    case 'no-browser':
      {
      const title = `打印${doc}需要在服务器上安装 Chromium/Chrome/Edge`;
      return reply.page('print/message.njk', { title, message: `${title}。请联系系统管理员；可先${view}。`, previewUrl }, 503);
    }
    case 'no-fonts':
      return reply.page('print/message.njk', { title: `打印${doc}暂不可用`, message: `服务器缺少打印字体文件，请联系系统管理员。可先${view}。`, previewUrl }, 503);
    case 'busy':
      reply.header('Retry-After', String(p.retryAfter));
      return reply.page('print/message.njk', { title: '打印任务繁忙', message: `当前打印${doc}的人数较多，请稍后再试。`, previewUrl }, 503);
    case 'missing':
      return reply.callNotFound();
  }
}

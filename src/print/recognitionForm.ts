import type { FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import type { AppContext } from '../context.js';
import { MissingFontError, FONT_FAMILY, PRINT_ORIGIN } from './fonts.js';
import { PdfQueueFullError, PdfTimeoutError } from './pdf.js';
import { printerFor } from './printer.js';
import type { PrintProblem } from './documents.js';

/**
 * 初定表/认定表 (seed 004 1.3.1): one view model, one partial (recognition/_form.njk) for the
 * on-screen preview and the PDF. Watermarked 预览 until the office approves; the verification
 * code is the certificate's (/verify-cert), so the paper and the certificate check the same way.
 */
export interface RecognitionFormModel {
  /** '专业技术资格初定表' or '专业技术资格认定表'. */
  heading: string;
  kind: '初定' | '认定';
  name: string;
  gender: string;
  birth: string;
  idNumber: string;
  unit: string;
  education: string;
  degree: string;
  school: string;
  major: string;
  hiredOn: string;
  levelName: string;
  titleName: string;
  specialty: string;
  office: string;
  officeKind: string;
  lines: string[];
  operator: string;
  status: string;
  certNumber: string;
  decidedAt: string;
  preview: boolean;
  codeDisplay: string;
  verifyUrl: string;
}

export async function recognitionFormPdf(ctx: AppContext, reply: FastifyReply, form: RecognitionFormModel): Promise<{ kind: 'ok'; pdf: Buffer } | PrintProblem> {
  const printer = printerFor(ctx);
  if (!printer.executablePath) return { kind: 'no-browser' };
  try {
    const fonts = printer.fonts();
    const qrSvg = await QRCode.toString(form.verifyUrl, { type: 'svg', margin: 0, errorCorrectionLevel: 'M' });
    const html = await reply.viewAsync('recognition/form-print.njk', { form, qrSvg, fontFamily: FONT_FAMILY, fontUrl: fonts.mainUrl, printOrigin: PRINT_ORIGIN });
    return { kind: 'ok', pdf: await printer.render(html) };
  } catch (err) {
    if (err instanceof MissingFontError) return { kind: 'no-fonts' };
    if (err instanceof PdfQueueFullError || err instanceof PdfTimeoutError) return { kind: 'busy', retryAfter: err.retryAfter };
    throw err;
  }
}

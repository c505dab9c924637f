import { isPrintable } from '../domain/declaration.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { requireApplicant, requireStaff } from '../plugins/auth.js';
import { maskName } from '../domain/mask.js';
import { getDeclaration, type Declaration, type Snapshot } from '../features/declaration/service.js';
import { visibleDeclaration } from '../features/review/service.js';
import { reviewFormInputs } from '../features/declaration/formInputs.js';
import { printerFor } from './printer.js';
import { reviewFormPdf, printProblem, NO_BROWSER_MESSAGE } from './documents.js';
import { normalizeCode, displayCode } from './codes.js';

/**
 * 打印申报表 (PDF) and the public check of a printed form (/verify/<code>).
 *
 * Print gate (seed 001 §6.10): the PDF exists from 评委会电子材料审核通过 on (approved, and the
 * final passed/failed); before that the answer is 当前状态不能打印申报表 and the on-screen
 * preview is offered. Every PDF is one print_records row: a fresh random code printed on every
 * page and in the QR code, tied to the version (and its SHA-256) that was printed.
 */
export const PRINTABLE = ['approved', 'passed', 'failed'] as const;
export { GATE_MESSAGE, NO_BROWSER_MESSAGE } from './documents.js';

export { isPrintable };

export { newCode, normalizeCode, displayCode } from './codes.js';

/** RFC 6266: an ASCII fallback name plus the UTF-8 one (申报评审表-姓名.pdf). */
export function pdfDisposition(name: string): string {
  const safe = name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '').trim() || '申报人';
  return `attachment; filename="review-form.pdf"; filename*=UTF-8''${encodeURIComponent(`申报评审表-${safe}.pdf`)}`;
}

export default async function printRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const printer = printerFor(ctx);
  if (!printer.executablePath) ctx.log.warn(`${NO_BROWSER_MESSAGE}${ctx.config.chromiumPath ? `（CHROMIUM_PATH=${ctx.config.chromiumPath} 不可执行）` : ''}; PDF printing is off`);
  app.addHook('onClose', async () => {
    await printer.close();
  });

  async function sendPdf(req: FastifyRequest, reply: FastifyReply, d: Declaration, previewUrl: string) {
    // The printed official form carries the full 身份证号 (the caller passed the scope check).
    const r = await reviewFormPdf(ctx, reply, d, req.user?.id ?? null, isPrintable(d.status) ? await reviewFormInputs(ctx, d, { fullId: true }) : { seal: null });
    if (r.kind !== 'ok') return printProblem(req, reply, r, previewUrl);
    return reply
      .code(200)
      .header('Content-Type', 'application/pdf')
      .header('Content-Disposition', pdfDisposition(r.name))
      .header('Cache-Control', 'no-store')
      .header('X-Content-Type-Options', 'nosniff')
      .send(r.pdf);
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

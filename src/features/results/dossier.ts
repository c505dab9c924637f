import fs from 'node:fs';
import path from 'node:path';
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { ROOT } from '../../app-root.js';
import { ALL_SECTIONS as SECTIONS } from '../../domain/sections.js';
import { PLEDGE_TEXT, isPrintable } from '../../domain/declaration.js';
import { reviewFormModel } from '../../print/reviewForm.js';
import { reviewFormPdf, type PrintProblem } from '../../print/documents.js';
import { ACTION_NAMES, timeline, versionOf, type Declaration } from '../declaration/service.js';
import { table17Of } from '../declaration/table17.js';
import { reviewFormInputs } from '../declaration/formInputs.js';
import * as svc from './service.js';

/**
 * 一键下载材料 (the committee office) and the applicant's own 申报材料 (seed 002 五(二)3(6): they
 * keep the year's electronic material): the form PDF once printable (else the HTML preview),
 * every attachment of the version, and the timeline. The caller has checked who may have it.
 */
export async function materialsZip(ctx: AppContext, reply: FastifyReply, d: Declaration, printedBy: number):
  Promise<{ kind: 'zip'; zip: Buffer; name: string } | { kind: 'missing' } | { kind: 'problem'; printed: PrintProblem }> {
  const route = svc.parseRoute(d);
    const v = await versionOf(ctx, d);
    if (!v) return { kind: 'missing' };
    const s = v.snapshot;
    const now = ctx.config.now();
    // The printed form (with its verification code) once printable; before that, or without a
    // browser on the server, the on-screen preview as a standalone HTML file.
    let formEntry: svc.ZipEntry | null = null;
    const inputs = await reviewFormInputs(ctx, d, { fullId: isPrintable(d.status) });
    const printed = await reviewFormPdf(ctx, reply, d, printedBy, inputs);
    if (printed.kind === 'ok') formEntry = { name: '申报评审表.pdf', data: printed.pdf, date: now };
    else if (printed.kind === 'busy') return { kind: 'problem', printed };
    else {
      const dataUrl = async (f: { sha256: string; mime: string } | null | undefined) => {
        if (!f) return '';
        try {
          return `data:${f.mime};base64,${(await ctx.blobs.read(f.sha256)).toString('base64')}`;
        } catch {
          return ''; // the form shows the empty photo box / no seal
        }
      };
      const photo = s.photoFileId ? await ctx.db.selectFrom('files').select(['sha256', 'mime']).where('id', '=', s.photoFileId).where('user_id', '=', d.user_id).executeTakeFirst() : undefined;
      const photoUrl = await dataUrl(photo);
      const unit = inputs.unit ? { ...inputs.unit, sealUrl: await dataUrl(inputs.seal) } : undefined;
      const moreUnits = await Promise.all((inputs.moreUnits ?? []).map(async (u, i) => ({ ...u, sealUrl: await dataUrl(inputs.moreSeals?.[i]) })));
      const form = reviewFormModel(s, { ...inputs, unit, moreUnits, today: v.created_at.slice(0, 10), preview: printed.kind === 'gate', pledge: PLEDGE_TEXT });
      const css = await fs.promises.readFile(path.join(ROOT, 'public/css/form.css'), 'utf8').catch(() => '');
      const html = await reply.viewAsync('results/form-doc.njk', { form, photoUrl, css, cover: s.cover });
      formEntry = { name: printed.kind === 'gate' ? '申报表-预览.html' : '申报表.html', data: Buffer.from(html, 'utf8'), date: now };
    }
    const sectionTitles = Object.fromEntries(SECTIONS.map((x) => [x.key, x.title]));
    const t17 = await table17Of(ctx, d);
    const { entries, missing } = await svc.attachmentEntries(ctx, d.user_id, s, sectionTitles, t17.file ? [{ label: '表十七', fileIds: [t17.file.fileId] }] : []);
    const events = await timeline(ctx, d.id);
    const files: svc.ZipEntry[] = [
      formEntry,
      ...entries.map((e) => ({ ...e, date: now })),
      { name: '审核记录.csv', data: svc.timelineCsv(events, route, ACTION_NAMES), date: now },
    ];
    if (missing.length) files.push({ name: '缺失文件.txt', data: Buffer.from(`以下附件在存储中缺失：\r\n${missing.join('\r\n')}\r\n`, 'utf8'), date: now });
    const zip = svc.zipBuffer(files);
    return { kind: 'zip', zip, name: `申报材料-${s.person.name}-${d.id}.zip` };
}

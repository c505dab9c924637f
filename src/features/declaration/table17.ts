import type { AppContext } from '../../context.js';
import { TABLE17_SLOT } from '../files/service.js';

/**
 * 【表十七】审核推荐意见和评审结果确认意见 (seed 001 §4.3.1): after the committee's e-review
 * approves, the applicant prints the form, has 表十七 stamped at every level offline, and
 * uploads the scan (附件管理, with a crop step when JS is on). 待提交 until a scan is there,
 * then 已提交; the committee office sees it on the review screen.
 */
export interface Table17 {
  status: '待提交' | '已提交';
  file: { attachmentId: number; fileId: number; name: string; mime: string; at: string } | null;
}

export async function table17Of(ctx: AppContext, declaration: { id: number; user_id: number }): Promise<Table17> {
  const row = await ctx.db
    .selectFrom('attachments as a')
    .innerJoin('files as f', 'f.id', 'a.file_id')
    .select(['a.id', 'a.file_id', 'a.created_at', 'f.original_name', 'f.mime'])
    .where('a.owner_type', '=', 'declaration')
    .where('a.owner_id', '=', declaration.id)
    .where('a.user_id', '=', declaration.user_id)
    .where('f.user_id', '=', declaration.user_id)
    .where('a.slot', '=', TABLE17_SLOT.key)
    .orderBy('a.id', 'desc')
    .executeTakeFirst();
  if (!row) return { status: '待提交', file: null };
  return { status: '已提交', file: { attachmentId: row.id, fileId: row.file_id, name: row.original_name, mime: row.mime, at: row.created_at } };
}

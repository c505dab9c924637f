import type { AppContext } from '../../context.js';
import { ALL_SECTIONS as SECTIONS } from '../../domain/sections.js';
import { tickedSections, untouchedSections, type RevisionRow } from '../../domain/revision.js';
import { listRows } from '../sections/service.js';
import { listAttachments } from '../files/service.js';
import { currentDeclaration, versionOf, type Declaration } from './service.js';

/**
 * 需修改: the sections ticked on the last 返回修改 of a returned declaration, each with whether
 * the applicant has changed it since (against the returned version). Shown on /me and on the
 * section pages; at resubmission the untouched ones ask for a confirmation.
 */
export interface Revision {
  declarationId: number;
  opinion: string | null;
  org: string | null;
  items: { key: string; title: string; href: string; changed: boolean }[];
  /** Keys of the ticked sections not changed since the return. */
  untouched: string[];
}

async function rowsNow(ctx: AppContext, userId: number, key: string): Promise<RevisionRow[]> {
  const rows = await listRows(ctx, userId, key);
  const files = rows.length ? await listAttachments(ctx, userId, 'row', rows.map((r) => r.id)) : new Map();
  return rows.map((r) => ({ id: r.id, data: r.data, files: (files.get(r.id) ?? []).map((f: { slot: string; fileId: number }) => ({ slot: f.slot, fileId: f.fileId })) }));
}

/** The 需修改 of a returned declaration of this applicant; null unless it is returned. */
export async function revisionFor(ctx: AppContext, userId: number, d: Declaration): Promise<Revision | null> {
  if (d.status !== 'returned' || d.user_id !== userId) return null;
  const ev = await ctx.db
    .selectFrom('workflow_events as e')
    .leftJoin('orgs as o', 'o.id', 'e.org_id')
    .select(['e.data', 'e.opinion', 'o.name as org'])
    .where('e.declaration_id', '=', d.id)
    .where('e.action', '=', 'return')
    .orderBy('e.id', 'desc')
    .executeTakeFirst();
  const ticked = tickedSections(ev?.data);
  const version = ticked.length ? await versionOf(ctx, d) : null;
  const before: Record<string, RevisionRow[]> = {};
  const now: Record<string, RevisionRow[]> = {};
  for (const key of ticked) {
    before[key] = version?.snapshot.sections[key] ?? [];
    now[key] = await rowsNow(ctx, userId, key);
  }
  const untouched = untouchedSections(ticked, before, now);
  return {
    declarationId: d.id,
    opinion: ev?.opinion ?? null,
    org: ev?.org ?? null,
    items: ticked.map((key) => ({ key, title: SECTIONS.find((s) => s.key === key)!.title, href: `/me/sections/${key}`, changed: !untouched.includes(key) })),
    untouched,
  };
}

/** The 需修改 of the applicant's current declaration (null when none is returned). */
export async function currentRevision(ctx: AppContext, userId: number): Promise<Revision | null> {
  const d = await currentDeclaration(ctx, userId);
  return d ? revisionFor(ctx, userId, d) : null;
}

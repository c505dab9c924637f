// 评审简表 (issue #16): one A4 page per declaration, from its frozen version, for the members and
// the paper meeting. A pure view model: the caller passes the snapshot and the unit's opinion.
import { cnDate, formatSpan, levelName, tenureOf, type TitleRow, type WorkRow } from '../domain/tenure.js';
import { highestEducation } from '../domain/eligibility.js';
import { isRepresentative, representativeFirst } from '../domain/seriesRules.js';

type Rows = Record<string, { data: Record<string, unknown> }[]>;
export interface BriefSource {
  cover: { title?: string; level?: string; specialty?: string; year: number };
  person: { name: string; gender: string; birth: string; unitName: string | null };
  sections: Rows;
}

export interface BriefDoc {
  order: number;
  group: string;
  name: string;
  gender: string;
  birth: string;
  unit: string;
  education: string;
  currentTitle: string;
  currentSince: string;
  titleYears: string;
  workYears: string;
  target: string;
  specialty: string;
  /** 代表作 and key achievements: at most 5, papers and books first, then awards and projects. */
  achievements: string[];
  opinion: string;
}

const s = (v: unknown) => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');
const short = (t: string, n: number) => ([...t].length > n ? `${[...t].slice(0, n).join('')}…` : t);

export const MAX_ACHIEVEMENTS = 5;

export function briefModel(src: BriefSource, o: { order: number; group: string; opinion: string | null }): BriefDoc {
  const rows = (k: string) => (src.sections[k] ?? []).map((r) => r.data);
  const tenure = tenureOf({ titles: rows('titles') as TitleRow[], work: rows('work') as WorkRow[] }, src.cover.year);
  const edu = highestEducation(rows('educations') as { education?: string; end?: string }[]);
  const eduRow = rows('educations').find((r) => s(r.education) === edu?.name);
  const achievements = [
    // 代表作 first (the reform's representative-work review, issue #16).
    ...representativeFirst(src.sections.papers ?? []).map((x) => x.data).map((r) => `${isRepresentative(r) ? '代表作' : '论文'}：《${s(r.title)}》，${s(r.journal)}${s(r.published_on) ? `，${s(r.published_on).slice(0, 7)}` : ''}`),
    ...rows('books').map((r) => `著作：《${s(r.title)}》，${s(r.publisher)}`),
    ...rows('awards').map((r) => `奖励：${s(r.name)}（${s(r.grade)}${s(r.approved_on) ? `，${s(r.approved_on).slice(0, 4)}年` : ''}）`),
    ...rows('projects').map((r) => `课题：${s(r.name)}（${s(r.role)}）`),
  ].filter((x) => x.length > 4).slice(0, MAX_ACHIEVEMENTS).map((x) => short(x, 80));
  return {
    order: o.order, group: o.group, name: src.person.name, gender: src.person.gender, birth: src.person.birth ? cnDate(src.person.birth) : '',
    unit: src.person.unitName ?? '',
    education: edu ? `${edu.name}${eduRow ? `，${s(eduRow.school)} ${s(eduRow.major)}` : ''}` : '',
    currentTitle: tenure.current?.name ?? '', currentSince: tenure.current?.since ? cnDate(tenure.current.since) : '',
    titleYears: tenure.title ? formatSpan(tenure.title) : '', workYears: formatSpan(tenure.work),
    target: `${src.cover.title ?? ''}（${levelName(src.cover.level)}）`, specialty: src.cover.specialty ?? '',
    achievements, opinion: short((o.opinion ?? '').replace(/\s+/g, ' ').trim(), 150),
  };
}

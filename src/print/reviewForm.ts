import { ALL_SECTIONS as SECTIONS, NO_PLAN_SETTINGS } from '../domain/sections.js';
import { representativeFirst } from '../domain/seriesRules.js';
import { printedDate, display } from '../domain/sectionRules.js';
import type { Snapshot } from '../features/declaration/service.js';
import { EVALUATION_TABLES } from '../domain/evaluation.js';
import { OPINION_FIELDS, type UnitOpinion } from '../domain/unitstage.js';
import { tenureOf, type Tenure, type TitleRow, type WorkRow } from '../domain/tenure.js';

/**
 * The view model of 专业技术职称申报评审表 (seed 001 §4.2.1): one model, rendered by one
 * template (views/print/_form.njk) for the on-screen preview and the PDF. Rows come from the
 * section registry in the applicant's order. What is not in the frozen version (the unit's
 * 表十二 opinion and seal, the recorded evaluation, the full ID number for the printed form)
 * is passed in by the caller: this module never reads the database.
 */
export interface PrintTable {
  /** The section it prints (the template places 表三 and 表十 by these). */
  key: string;
  no: string;
  title: string;
  head: string[];
  rows: string[][];
  empty: string;
}

/** 表十二 as the caller found it (src/features/unitstage/formBox.ts builds it). */
export interface UnitOpinionInput {
  /** The organisation at the route's unit stage (the employer, or the agency of a freelancer). */
  name: string;
  opinion: UnitOpinion | null;
  /** 'YYYY-MM-DD' (China) of the unit's 核验, or '' before it: the date next to the seal. */
  date: string;
  /** The unit's electronic seal (单位签章, seed 004) once it has verified; '' prints none. */
  sealUrl: string;
  /** '派遣单位审核' / '用工单位审核' when the route has two unit stages. */
  label?: string;
  /** 职能部门审核 opinions signed in the unit (seed 004 客户端). */
  checks?: { name: string; verdict: string; opinion: string; signer: string; date: string }[];
}

/** 表十二 as printed: every field of the opinion form in its order, the unit, the date, the seal. */
export interface UnitOpinionBox {
  name: string;
  rows: { key: string; label: string; value: string }[];
  /** '2026年6月15日', or '' (the blank 年 月 日 of the paper form). */
  date: string;
  sealUrl: string;
  label: string;
  /** 职能部门审核意见: '人事处（论文著作）' → '同意。论文真实有效（王芳，2026年9月20日）'. */
  checks: { name: string; text: string }[];
}

/** 'YYYY-MM-DD' → '2026年6月5日' ('' stays ''). */
export function chineseDate(d: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(d);
  return m ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日` : '';
}

function unitOpinionBox(u: UnitOpinionInput | undefined): UnitOpinionBox {
  return {
    name: u?.name ?? '',
    rows: OPINION_FIELDS.map((f) => ({ key: f.key, label: f.label, value: u?.opinion ? display(u.opinion[f.key]) : '' })),
    date: u?.opinion ? chineseDate(u.date) : '',
    sealUrl: u?.opinion ? u.sealUrl : '',
    label: u?.label ?? '',
    checks: (u?.checks ?? []).map((c) => ({ name: c.name, text: `${c.verdict}。${c.opinion}（${c.signer}，${chineseDate(c.date)}）` })),
  };
}

export interface ReviewFormModel {
  preview: boolean;
  cover: { name: string; unit: string; supervisor: string; series: string; title: string; specialty: string; filledOn: string; committee: string; year: number };
  person: Snapshot['person'];
  /** 身份证号 on 表一: the full number on the printed form, masked on screen. */
  idNumber: string;
  profile: Record<string, string>;
  photoFileId: number | null;
  currentTitle: string;
  /** 现职称履职年限 and 从事专业技术工作年限: computed from the archive (src/domain/tenure.ts), as the eligibility check states them. */
  tenure: Pick<Tenure, 'titleText' | 'workText'>;
  education: { highest: string; school: string; major: string; graduated: string };
  tables: PrintTable[];
  summaries: { year: string; content: string }[];
  pledge: string;
  unitOpinion: UnitOpinionBox;
  /** Every 表十二 (the first is unitOpinion; a dispatch worker's employer adds one). */
  unitOpinions: UnitOpinionBox[];
  routeBoxes: { label: string; name: string; opinion: string; date: string }[];
  /** 表十三–表十六 in order; only the declared level's table is filled, from the recorded evaluation. */
  evaluations: EvaluationBox[];
  toc: { no: string; title: string }[];
}

/** The committee's recorded evaluation of this declaration (评审会议 + its votes). */
export interface EvaluationInput {
  date: string;
  expected: number;
  present: number;
  agree: number;
  disagree: number;
  abstain: number;
  result: 'passed' | 'failed';
}

export interface EvaluationBox {
  no: string;
  label: string;
  filled: boolean;
  date: string;
  expected: string;
  present: string;
  agree: string;
  disagree: string;
  abstain: string;
  result: string;
}

function evaluationBoxes(level: string, e: EvaluationInput | undefined): EvaluationBox[] {
  return EVALUATION_TABLES.map((t) => {
    const on = !!e && t.levels.includes(level);
    const n = (x: number | undefined) => (on && x !== undefined ? String(x) : '');
    return {
      no: t.no, label: t.label, filled: on, date: on ? e!.date : '', expected: n(e?.expected), present: n(e?.present),
      agree: n(e?.agree), disagree: n(e?.disagree), abstain: n(e?.abstain), result: on ? (e!.result === 'passed' ? '通过' : '未通过') : '',
    };
  });
}

function rowsOf(s: Pick<Snapshot, 'sections'>, key: string) {
  return (s.sections[key] ?? []).map((r) => r.data as Record<string, unknown>);
}

/**
 * A section's rows as printed: every registry field in order, plus the entry's computed column
 * (合格, 达标) from the plan's settings. Papers: 代表作 first, and the 代表作 / 知网 columns only
 * when the plan asks for them.
 */
function tableOf(s: Snapshot, key: string, today: string): { head: string[]; rows: string[][] } {
  const def = SECTIONS.find((x) => x.key === key)!;
  const settings = s.plan?.settings ?? NO_PLAN_SETTINGS;
  const hidden = new Set<string>([...(settings.maxRepresentative === null ? ['representative'] : []), ...(settings.cnkiRequired ? [] : ['cnki_url'])]);
  const fields = def.fields.filter((f) => !hidden.has(f.key));
  const rows = (key === 'papers' ? representativeFirst(s.sections[key] ?? []) : s.sections[key] ?? []).map((r) => r.data as Record<string, unknown>);
  const derived = def.printDerived;
  return {
    head: [...fields.map((f) => f.label), ...(derived ? [derived.label] : [])],
    rows: rows.map((r) => [...fields.map((f) => (f.type === 'date' ? printedDate(r[f.key], today, f) : display(r[f.key]))), ...(derived ? [derived.value(r, settings)] : [])]),
  };
}

/** The series' own tables (issue #16) of the sections this version holds, each after its `printAfter` table. */
function withSeriesTables(s: Snapshot, common: PrintTable[], today: string): PrintTable[] {
  const out: PrintTable[] = [];
  const series = SECTIONS.filter((d) => d.series && s.sections[d.key] !== undefined);
  for (const t of common) {
    out.push(t);
    for (const d of series.filter((x) => x.printAfter === t.key)) out.push({ key: d.key, no: d.printedTable, title: d.printTitle ?? d.title, ...tableOf(s, d.key, today), empty: '无' });
  }
  return out;
}

export interface ReviewFormOptions {
  today: string;
  preview: boolean;
  pledge: string;
  opinions?: Record<number, { opinion: string; date: string }>;
  evaluation?: EvaluationInput;
  /** 表十二 (the unit's opinion and seal); absent: the blank box. */
  unit?: UnitOpinionInput;
  /** More 表十二 after the first (a dispatch worker's employer, seed 002 Q18 双盖章). */
  moreUnits?: UnitOpinionInput[];
  /** The full 身份证号, for the printed form only (print-gated and access-checked by the caller). */
  idNumber?: string;
}

/**
 * The current title and both tenures as of 31 December of the declaration year: the figures of
 * the eligibility check, the form, the publicity list and the 汇总表 (one computation).
 */
export function tenureOfSnapshot(s: Pick<Snapshot, 'sections' | 'cover'>): Tenure {
  return tenureOf({ titles: rowsOf(s, 'titles') as TitleRow[], work: rowsOf(s, 'work') as WorkRow[] }, s.cover.year);
}

/** 现有职称 with the date it was obtained: “主治(主管)医师（2019-09-01）”, or 无. */
export function currentTitleOf(s: Pick<Snapshot, 'sections' | 'cover'>, tenure = tenureOfSnapshot(s)): string {
  const cur = tenure.current;
  return cur ? `${cur.name.split(' - ').pop()}${cur.since ? `（${cur.since}）` : ''}` : '无';
}

/** 最高学历: the first row of 学历 (the applicant's order). */
export function topEducationOf(s: Pick<Snapshot, 'sections'>): { highest: string; school: string; major: string; graduated: string } {
  const top = rowsOf(s, 'educations')[0];
  return { highest: top ? display(top.education) : '', school: top ? display(top.school) : '', major: top ? display(top.major) : '', graduated: top ? display(top.end) : '' };
}

export function reviewFormModel(s: Snapshot, o: ReviewFormOptions): ReviewFormModel {
  const tenure = tenureOfSnapshot(s);
  const p = Object.fromEntries(Object.entries(s.profile).map(([k, v]) => [k, display(v)]));
  const study = tableOf(s, 'study', o.today);
  const work = tableOf(s, 'work', o.today);
  const books = tableOf(s, 'books', o.today);
  const papers = tableOf(s, 'papers', o.today);
  const tables: PrintTable[] = withSeriesTables(s, [
    { key: 'study', no: '表二', title: '主要学习经历', ...study, empty: '无' },
    { key: 'work', no: '表二', title: '主要工作经历', ...work, empty: '无' },
    { key: 'main-works', no: '表四', title: '完成主要专业技术工作情况', ...tableOf(s, 'main-works', o.today), empty: '无' },
    { key: 'projects', no: '表五', title: '承担课题（项目）情况', ...tableOf(s, 'projects', o.today), empty: '无' },
    { key: 'ip', no: '表六', title: '获得专利（知识产权）情况', ...tableOf(s, 'ip', o.today), empty: '无' },
    { key: 'awards', no: '表七', title: '获得表彰奖励情况', ...tableOf(s, 'awards', o.today), empty: '无' },
    { key: 'books', no: '表八', title: '撰写著作情况', ...books, empty: '无' },
    { key: 'papers', no: '表八', title: '撰写论文情况', ...papers, empty: '无' },
    { key: 'ce', no: '表九', title: '参加继续教育和国际学术活动情况', ...tableOf(s, 'ce', o.today), empty: '无' },
    { key: 'assessments', no: '表十一', title: '年度考核情况（近五年）', ...tableOf(s, 'assessments', o.today), empty: '无' },
  ], o.today);
  return {
    preview: o.preview,
    cover: {
      name: s.person.name, unit: s.person.unitName ?? '', supervisor: s.route.find((r) => r.kind === 'supervisor')?.name ?? '',
      series: s.cover.title.split(' - ')[0] ?? '', title: s.cover.title.split(' - ').slice(1).join(' - ') || s.cover.title,
      specialty: s.cover.specialty, filledOn: s.takenAt.slice(0, 10), committee: s.cover.committee, year: s.cover.year,
    },
    person: s.person,
    idNumber: o.idNumber || s.person.idMasked || '',
    profile: p,
    photoFileId: s.photoFileId,
    currentTitle: currentTitleOf(s, tenure),
    tenure: { titleText: tenure.titleText, workText: tenure.workText },
    education: topEducationOf(s),
    tables,
    summaries: rowsOf(s, 'summaries').map((r) => ({ year: display(r.year), content: display(r.content) })),
    pledge: o.pledge,
    evaluations: evaluationBoxes(s.cover.level, o.evaluation),
    unitOpinion: unitOpinionBox(o.unit),
    unitOpinions: [unitOpinionBox(o.unit), ...(o.moreUnits ?? []).map((u) => unitOpinionBox(u))],
    routeBoxes: s.route.map((r, i) => ({ label: r.label, name: r.name, opinion: o.opinions?.[i]?.opinion ?? '', date: o.opinions?.[i]?.date ?? '' })),
    toc: [
      { no: '封面', title: '' }, { no: '表一', title: '基本情况' }, { no: '表二', title: '主要学习和工作经历' }, { no: '表三', title: '专业技术工作总结' },
      { no: '表四', title: '完成主要专业技术工作情况' }, { no: '表五', title: '承担课题（项目）情况' }, { no: '表六', title: '获得专利情况' },
      { no: '表七', title: '获得表彰奖励情况' }, { no: '表八', title: '撰写著作和论文情况' }, { no: '表九', title: '参加继续教育和国际学术活动情况' },
      { no: '表十', title: '个人承诺书' }, { no: '表十一', title: '年度考核情况（近五年）' }, { no: '表十二', title: '基层单位意见' },
      { no: '表十三', title: '初级职称评审委员会评审记录' }, { no: '表十四', title: '中级职称评审委员会评审记录' }, { no: '表十五', title: '副高级职称评审委员会评审记录' },
      { no: '表十六', title: '正高级职称评审委员会评审记录' }, { no: '表十七', title: '审核推荐意见和评审结果确认意见' },
    ],
  };
}

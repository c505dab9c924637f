// 资格审查表 (issue #16, seed 004 “打印资格审查表”): one sheet per declaration with √/× per
// Marks: √ and × (in GBK, so the packaged print font has them; ✓/✗ are not).
// eligibility rule, from the declaration's frozen version — the same rules the applicant saw in
// step 2 (src/domain/eligibility.ts: education and years; src/domain/whoMay.ts: who may declare).
// A pure view model: the caller passes the snapshot, the plan's rules and the reference date.
import { checkEligibility, type EligibilityRule } from '../domain/eligibility.js';
import { whoMayDeclare, type RuleMode, type WhoRule } from '../domain/whoMay.js';
import { levelName } from '../domain/tenure.js';

type Rows = Record<string, { data: Record<string, unknown> }[]>;
export interface SheetSource {
  cover: { title?: string; level?: string; specialty?: string; category?: string; category_name?: string; year: number };
  person: { name: string; gender: string; birth: string; unitName: string | null };
  profile: Record<string, unknown>;
  sections: Rows;
}

export interface SheetOptions {
  rules: readonly EligibilityRule[];
  /** The plan's who-may-declare modes (block: a ✗ stops the declaration; warn: the committee decides). */
  modes: Record<WhoRule, RuleMode>;
  /** The plan's closing date 'YYYY-MM-DD' (retirement and 满1年 are counted to it). */
  refDate: string;
  planName: string;
  committee: string;
  /** The full birth date from the 身份证号 (the version keeps the month only); else the version's. */
  birthDate?: string;
}

export interface SheetRow {
  group: '申报资格' | '学历和任职年限';
  ok: boolean;
  mark: '√' | '×';
  text: string;
  /** For a ✗: whether the plan refuses it (不符合) or leaves it to the committee (提示). */
  note: string;
}

export interface EligibilitySheet {
  planName: string;
  committee: string;
  name: string;
  gender: string;
  birth: string;
  unit: string;
  target: string;
  specialty: string;
  category: string;
  asOf: string;
  rows: SheetRow[];
  passed: number;
  failed: number;
  /** 系统审查结论: every rule met, or how many are not. */
  conclusion: string;
}

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

export function eligibilitySheet(src: SheetSource, o: SheetOptions): EligibilitySheet {
  const rows = (k: string) => (src.sections[k] ?? []).map((r) => r.data as never);
  const level = src.cover.level ?? '';
  const category = src.cover.category ?? '';
  const gender = src.person.gender === '女' ? '女' : '男';
  const who = whoMayDeclare(
    { staffType: str(src.profile.staff_type), birthDate: [o.birthDate ?? '', src.person.birth].find((b) => /^\d{4}-\d{2}-\d{2}$/.test(b)) ?? '', gender, agencyStart: str(src.profile.agency_start), postSince: str(src.profile.post_since), postOrigin: str(src.profile.post_origin), postdocOut: str(src.profile.postdoc_out) },
    category, level, o.refDate,
  );
  const out: SheetRow[] = who.map((c) => {
    const blocks = c.rule !== 'staff_type' && c.rule !== 'postdoc' && o.modes[c.rule] === 'block';
    return { group: '申报资格', ok: c.ok, mark: c.ok ? '√' : '×', text: c.text, note: c.ok ? '' : blocks ? '不符合' : '提示，由评委会认定' };
  });
  const el = checkEligibility(level as never, { work: rows('work'), titles: rows('titles'), educations: rows('educations') }, o.rules, src.cover.year);
  const exceptional = category === 'exceptional';
  for (const c of el.checks) out.push({ group: '学历和任职年限', ok: c.ok, mark: c.ok ? '√' : '×', text: c.text, note: c.ok ? '' : exceptional ? '破格申报，由评委会认定' : '不符合' });
  const failed = out.filter((r) => !r.ok).length;
  return {
    planName: o.planName, committee: o.committee, name: src.person.name, gender: src.person.gender, birth: src.person.birth, unit: src.person.unitName ?? '',
    target: `${src.cover.title ?? ''}${level ? `（${levelName(level as never)}）` : ''}`, specialty: src.cover.specialty ?? '', category: src.cover.category_name ?? '',
    asOf: el.asOf, rows: out, passed: out.length - failed, failed,
    conclusion: failed ? `${failed}项不符合或需评委会认定（×），请审查人核实` : `${out.length}项均符合（√）`,
  };
}

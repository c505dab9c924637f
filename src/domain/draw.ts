// 评委抽取 (issue #16), pure: members drawn at random from the expert pool within the rules, from
// a recorded seed so anyone can re-run the draw and get the same members.
//
// Rules: per 学科组 the number asked for, from experts whose specialty the group covers (as in
// meeting.ts groupForSpecialty: exact, or the field named last), available, with no 专家诚信
// record against them; at most one expert per unit in the whole meeting; 回避: no expert of an
// applicant's unit, none who declared a conflict with one of the meeting's declarations.
import { specialtyList } from './meeting.js';

/** A 32-bit hash of the seed text (FNV-1a), then mulberry32: small, fast, the same everywhere. */
export function prng(seed: string): () => number {
  let h = 0x811c9dc5;
  for (const ch of seed) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let a = h;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Expert {
  id: number;
  name: string;
  unit: string;
  specialty: string;
  available: boolean;
  /** 专家诚信: a recorded breach keeps the expert out of draws. */
  integrityOk: boolean;
  /** Declarations the expert declared a conflict of interest with. */
  conflicts: readonly number[];
}

export interface GroupNeed {
  groupId: number;
  name: string;
  specialties: string;
  count: number;
}

export interface DrawInput {
  seed: string;
  pool: readonly Expert[];
  groups: readonly GroupNeed[];
  /** Units of the meeting's applicants (回避). */
  applicantUnits: readonly string[];
  /** The meeting's declarations (a declared conflict with any of them keeps the expert out). */
  declarations: readonly number[];
  /** Experts already drawn for the meeting (kept, declined or not): never drawn again. */
  taken?: readonly { expertId: number; unit: string; declined: boolean }[];
}

export interface DrawResult {
  picks: { groupId: number; expertId: number }[];
  /** 学科组 that could not be filled, in the office's words. */
  shortfalls: string[];
}

export const covers = (specialties: string, s: string) => specialtyList(specialties).some((x) => s === x || s.endsWith(x));

/** Why an expert cannot sit in a group's draw, or null. */
export function exclusion(e: Expert, g: Pick<GroupNeed, 'specialties'>, o: { applicantUnits: ReadonlySet<string>; declarations: ReadonlySet<number> }): string | null {
  if (!e.available) return '不可参加';
  if (!e.integrityOk) return '有专家诚信记录';
  if (!covers(g.specialties, e.specialty)) return '专业不符';
  if (o.applicantUnits.has(e.unit)) return '回避：与申报人同单位';
  if (e.conflicts.some((d) => o.declarations.has(d))) return '回避：本人申明回避';
  return null;
}

/**
 * The draw. Deterministic for the same input: candidates are ordered by id (not by how the pool
 * was read), each group in turn shuffles its candidates with the seeded PRNG (Fisher–Yates) and
 * takes them in that order, skipping a unit already represented.
 */
export function draw(input: DrawInput): DrawResult {
  const rand = prng(input.seed);
  const taken = new Set((input.taken ?? []).map((t) => t.expertId));
  // A declined expert's unit is free again; a kept one's is used.
  const units = new Set((input.taken ?? []).filter((t) => !t.declined).map((t) => t.unit));
  const ctx = { applicantUnits: new Set(input.applicantUnits), declarations: new Set(input.declarations) };
  const pool = [...input.pool].sort((a, b) => a.id - b.id);
  const picks: DrawResult['picks'] = [];
  const shortfalls: string[] = [];
  for (const g of [...input.groups].sort((a, b) => a.groupId - b.groupId)) {
    const cands = pool.filter((e) => !taken.has(e.id) && exclusion(e, g, ctx) === null);
    for (let i = cands.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [cands[i], cands[j]] = [cands[j]!, cands[i]!];
    }
    let got = 0;
    for (const e of cands) {
      if (got >= g.count) break;
      if (units.has(e.unit)) continue;
      units.add(e.unit);
      taken.add(e.id);
      picks.push({ groupId: g.groupId, expertId: e.id });
      got++;
    }
    if (got < g.count) shortfalls.push(`${g.name}需抽取${g.count}人，符合条件的专家仅${got}人`);
  }
  return { picks, shortfalls };
}

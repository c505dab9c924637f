/**
 * 接收更新代码 / 导出基本代码 (seed 004): the whole dictionary set as one versioned JSON file, and
 * what importing next year's file would change. Pure: entries in, changes out. Nothing is ever
 * deleted: an entry missing from the new file is disabled (rows already filled keep their text).
 */
export const DICT_FORMAT = 'zhicheng-dicts';
export const DICT_VERSION = 1;
export const DICT_GROUPS = ['series', 'titles', 'regions', 'committees', 'enums'] as const;
export type DictGroup = (typeof DICT_GROUPS)[number];

export interface DictEntry {
  group: DictGroup;
  /** enums: the dictionary's key (unit_nature, specialty…); else ''. */
  dict: string;
  /** Stable key within group+dict (a code; titles: series|level|track|name). */
  key: string;
  name: string;
  disabled: boolean;
  /** The rest of the entry as exported (parent_code, level, sort…): used when it is added. */
  data: Record<string, unknown>;
}

export type ChangeKind = 'added' | 'renamed' | 'disabled' | 'enabled';
export interface DictChange {
  kind: ChangeKind;
  entry: DictEntry;
  /** renamed: the current name. */
  from?: string;
  reason?: string;
}

const id = (e: Pick<DictEntry, 'group' | 'dict' | 'key'>) => `${e.group}\u0000${e.dict}\u0000${e.key}`;

export function diffDicts(current: readonly DictEntry[], incoming: readonly DictEntry[]): DictChange[] {
  const now = new Map(current.map((e) => [id(e), e]));
  const seen = new Set<string>();
  const out: DictChange[] = [];
  for (const e of incoming) {
    const k = id(e);
    if (seen.has(k)) continue;
    seen.add(k);
    const c = now.get(k);
    if (!c) {
      out.push({ kind: 'added', entry: e });
      continue;
    }
    if (c.name !== e.name) out.push({ kind: 'renamed', entry: e, from: c.name });
    if (e.disabled && !c.disabled) out.push({ kind: 'disabled', entry: e, reason: '新文件中已停用' });
    else if (!e.disabled && c.disabled) out.push({ kind: 'enabled', entry: e });
  }
  for (const c of current) {
    if (!seen.has(id(c)) && !c.disabled) out.push({ kind: 'disabled', entry: c, reason: '新文件中没有此项，停用（不删除，已填写的信息不受影响）' });
  }
  return out;
}

export type ParsedSet = { ok: true; entries: DictEntry[]; exportedAt: string } | { ok: false; error: string };

const str = (v: unknown, max = 200) => typeof v === 'string' && v.trim() !== '' && [...v].length <= max;

/** Reads a dictionary file; every entry is checked (a broken file imports nothing). */
export function parseDictSet(text: string): ParsedSet {
  let j: any;
  try {
    j = JSON.parse(text);
  } catch {
    return { ok: false, error: '字典文件不是有效的 JSON 文件' };
  }
  if (!j || j.format !== DICT_FORMAT) return { ok: false, error: '不是本系统导出的字典文件（format 应为 zhicheng-dicts）' };
  if (j.version !== DICT_VERSION) return { ok: false, error: `字典文件版本 ${String(j.version)} 不支持（应为 ${DICT_VERSION}）` };
  const entries: DictEntry[] = [];
  const bad: string[] = [];
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  const add = (group: DictGroup, dict: string, key: unknown, e: any, where: string) => {
    if (!str(key, 300) || !str(e?.name, 100)) {
      bad.push(where);
      return;
    }
    const { name, disabled, ...data } = e;
    entries.push({ group, dict, key: String(key), name: String(name).trim(), disabled: disabled === true || disabled === 1, data });
  };
  list(j.series).forEach((e: any, i: number) => add('series', '', e?.code, e, `series[${i}]`));
  list(j.titles).forEach((e: any, i: number) => add('titles', '', str(e?.series_code) && str(e?.level) ? titleKey(e) : null, e, `titles[${i}]`));
  list(j.regions).forEach((e: any, i: number) => add('regions', '', e?.code, e, `regions[${i}]`));
  list(j.committees).forEach((e: any, i: number) => add('committees', '', e?.code, e, `committees[${i}]`));
  for (const [dict, items] of Object.entries(j.enums ?? {})) {
    if (!/^[a-z_]{1,40}$/.test(dict)) bad.push(`enums.${dict}`);
    else list(items).forEach((e: any, i: number) => add('enums', dict, e?.code, e, `enums.${dict}[${i}]`));
  }
  if (bad.length) return { ok: false, error: `字典文件有${bad.length}项缺少代码或名称（如 ${bad.slice(0, 3).join('、')}），未导入任何内容` };
  if (!entries.length) return { ok: false, error: '字典文件中没有任何字典项' };
  return { ok: true, entries, exportedAt: String(j.exported_at ?? '') };
}

export function titleKey(t: { series_code: unknown; level: unknown; track?: unknown; name: unknown }): string {
  return [t.series_code, t.level, t.track ?? '', t.name].map((x) => String(x ?? '')).join('|');
}

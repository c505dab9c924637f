import type { DB } from '../../db/index.js';
import type { DictLookup } from '../../domain/sectionRules.js';

export interface Option {
  code: string;
  name: string;
}

interface Tree {
  /** Leaf paths "一级 - 二级 - 三级" in dictionary order. */
  leaves: string[];
  set: Set<string>;
}

/**
 * Dictionaries in memory: small (a few thousand rows), read on every form. Loaded on first use;
 * `changed()` after an admin edits one. 'titles' and 'committees' are lists built from their
 * own tables; trees (major, specialty) are flattened to leaf paths.
 *
 * Several processes may share the database (workers, machines): an edit stamps a version row
 * (settings.dicts_version), and every process compares it at most once a second before using its
 * copy, so an edit made through one process shows in the others within a second.
 */
const VERSION_KEY = 'dicts_version';
const CHECK_MS = 1000;

export class Dicts implements DictLookup {
  private lists?: Map<string, Option[]>;
  private sets?: Map<string, Set<string>>;
  private trees?: Map<string, Tree>;
  private titleLevels?: Map<string, string>;
  private loading?: Promise<void>;
  private version: string | null = null;
  private checkedAt = 0;

  constructor(private db: DB) {}

  invalidate() {
    this.lists = this.sets = this.trees = this.titleLevels = undefined;
    this.loading = undefined;
  }

  /** After an edit: this process reloads now, the others at their next check. */
  async changed(): Promise<void> {
    const value = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    await this.db.insertInto('settings').values({ key: VERSION_KEY, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
    this.invalidate();
  }

  private async currentVersion(): Promise<string | null> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', VERSION_KEY).executeTakeFirst();
    return row?.value ?? null;
  }

  async ready(): Promise<this> {
    if (this.lists && Date.now() - this.checkedAt > CHECK_MS) {
      this.checkedAt = Date.now();
      if ((await this.currentVersion()) !== this.version) this.invalidate();
    }
    if (!this.lists) this.loading ??= this.load();
    await this.loading;
    return this;
  }

  private async load() {
    this.version = await this.currentVersion();
    this.checkedAt = Date.now();
    const items = await this.db.selectFrom('dict_items').select(['dict', 'code', 'name', 'parent_code']).where('disabled', '=', 0).orderBy('dict').orderBy('sort').orderBy('id').execute();
    const lists = new Map<string, Option[]>();
    const byDict = new Map<string, typeof items>();
    for (const it of items) {
      if (!byDict.has(it.dict)) byDict.set(it.dict, []);
      byDict.get(it.dict)!.push(it);
      if (!lists.has(it.dict)) lists.set(it.dict, []);
      if (it.parent_code === null) lists.get(it.dict)!.push({ code: it.code, name: it.name });
    }
    const trees = new Map<string, Tree>();
    for (const dict of ['major', 'specialty']) {
      const nodes = byDict.get(dict) ?? [];
      const children = new Map<string | null, typeof nodes>();
      for (const n of nodes) {
        if (!children.has(n.parent_code)) children.set(n.parent_code, []);
        children.get(n.parent_code)!.push(n);
      }
      const leaves: string[] = [];
      const walk = (parent: string | null, prefix: string[]) => {
        for (const n of children.get(parent) ?? []) {
          const path = [...prefix, n.name];
          if (children.has(n.code)) walk(n.code, path);
          else leaves.push(path.join(' - '));
        }
      };
      walk(null, []);
      trees.set(dict, { leaves, set: new Set(leaves) });
    }
    const titles = await this.db
      .selectFrom('titles as t')
      .innerJoin('series as s', 's.code', 't.series_code')
      .select(['t.name', 't.level', 't.track', 's.name as series', 's.sort as ssort', 't.sort'])
      // A disabled series or title is no longer offered (0020); rows that name it keep their text.
      .where('t.disabled', '=', 0)
      .where('s.disabled', '=', 0)
      .orderBy('s.sort')
      .orderBy('t.sort')
      .execute();
    const titleLevels = new Map<string, string>();
    const titleOpts: Option[] = [];
    for (const t of titles) {
      const label = `${t.series} - ${t.name}`;
      if (titleLevels.has(label)) continue;
      titleLevels.set(label, t.level);
      titleOpts.push({ code: label, name: label });
    }
    lists.set('titles', titleOpts);
    const committees = await this.db.selectFrom('orgs').select(['name']).where('kind', '=', 'committee').where('disabled', '=', 0).orderBy('committee_level', 'desc').orderBy('id').execute();
    lists.set('committees', committees.map((c) => ({ code: c.name, name: c.name })));
    const sets = new Map<string, Set<string>>();
    for (const [k, v] of lists) sets.set(k, new Set(v.map((o) => o.name)));
    this.lists = lists;
    this.sets = sets;
    this.trees = trees;
    this.titleLevels = titleLevels;
  }

  /** Options of a flat dictionary. Values stored in rows are the option names. */
  options(dict: string): Option[] {
    return this.lists?.get(dict) ?? [];
  }

  has(dict: string, value: string): boolean {
    return this.sets?.get(dict)?.has(value) || this.trees?.get(dict)?.set.has(value) || false;
  }

  isTreeLeaf(dict: string, value: string): boolean {
    return this.trees?.get(dict)?.set.has(value) ?? false;
  }

  /** Leaf paths containing every whitespace-separated term of `q`, at most `limit`. */
  searchTree(dict: string, q: string, limit = 50): string[] {
    const terms = q.trim().split(/\s+/).filter(Boolean);
    if (!terms.length) return [];
    const out: string[] = [];
    for (const leaf of this.trees?.get(dict)?.leaves ?? []) {
      if (terms.every((t) => leaf.includes(t))) out.push(leaf);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Level code of a 资格名称 label (for "highest employed title"). */
  titleLevel(label: string): string | undefined {
    return this.titleLevels?.get(label);
  }
}

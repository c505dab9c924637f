import type { FieldDef } from '../../domain/sections.js';
import { ONGOING, OTHER, type RowValues } from '../../domain/sectionRules.js';
import type { Dicts, Option } from '../dicts/service.js';

/** What the field macro needs for one field: the value to show and the choices to offer. */
export interface FieldView {
  def: FieldDef;
  value: string;
  error?: string;
  options: Option[];
  /** select/tree: the stored value is free text (其他). */
  other: boolean;
  ongoing: boolean;
  /** tree: the text typed into its search box. */
  query: string;
  /** tree: a search ran and found nothing. */
  noMatch: boolean;
}

export interface SearchRequest {
  field: string;
  q: string;
}

/**
 * Builds the view of a form from the registry fields, the values to show (stored or typed),
 * and the errors. A tree field offers its current value plus the results of a search (the
 * no-JS 搜索 button and the htmx type-ahead both end up here).
 */
export function formView(fields: readonly FieldDef[], values: RowValues | Record<string, unknown>, errors: Record<string, string>, dicts: Dicts, search?: SearchRequest, raw: Record<string, unknown> = {}): FieldView[] {
  return fields.map((def) => {
    const v = values[def.key];
    const value = v === null || v === undefined ? '' : String(v);
    const query = search?.field === def.key ? search.q : typeof raw[`${def.key}_q`] === 'string' ? String(raw[`${def.key}_q`]) : '';
    let options: Option[] = [];
    let other = false;
    let noMatch = false;
    if (def.type === 'select' || def.type === 'radio') {
      options = def.options ? def.options.map((o) => ({ code: o, name: o })) : dicts.options(def.dict!);
      other = !!def.allowOther && value !== '' && !options.some((o) => o.name === value);
    } else if (def.type === 'tree') {
      const found = query ? dicts.searchTree(def.dict!, query) : [];
      noMatch = !!query && found.length === 0;
      const leaves = value && dicts.isTreeLeaf(def.dict!, value) ? [value, ...found.filter((f) => f !== value)] : found;
      options = leaves.map((l) => ({ code: l, name: l }));
      other = value !== '' && !dicts.isTreeLeaf(def.dict!, value);
    }
    return { def, value: value === ONGOING ? '' : value, error: errors[def.key], options, other, ongoing: value === ONGOING, query, noMatch };
  });
}

export { OTHER, ONGOING };

import type { TestApp } from './app.js';
import type { FieldDef, SectionDef } from '../../src/domain/sections.js';

/** A valid value for a registry field, from the loaded dictionaries (n varies it). */
export async function sample(app: TestApp, f: FieldDef, n = 0): Promise<string> {
  const dicts = await app.ctx.dicts.ready();
  switch (f.type) {
    case 'date':
      return f.key === 'end' ? `2019-0${(n % 9) + 1}-20` : `2018-0${(n % 9) + 1}-01`;
    case 'year':
      return String(2025 - n);
    case 'int':
    case 'number':
      return String(1 + n);
    case 'select':
    case 'radio':
      if (f.options) return f.options[n % f.options.length]!;
      return dicts.options(f.dict!)[n % dicts.options(f.dict!).length]!.name;
    case 'tree':
      return dicts.searchTree(f.dict!, f.dict === 'major' ? '计算机' : '工程', 5)[0]!;
    case 'textarea':
      return `张伟在${f.label}方面的第${n + 1}项说明`;
    default:
      return `${f.label}${n + 1}`;
  }
}

/** A complete valid form for a section row. */
export async function validForm(app: TestApp, def: SectionDef, n = 0): Promise<Record<string, string>> {
  const form: Record<string, string> = {};
  for (const f of def.fields) form[f.key] = await sample(app, f, n);
  return form;
}

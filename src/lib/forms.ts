import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';

/**
 * HTML form parsing on ajv: shape, required fields and limits from a JSON schema whose
 * `title`s are the seeds' field labels, turned into Chinese messages keyed by field name.
 * Domain rules (ID checksum, password policy) add their own messages after this.
 */
export type FieldErrors = Record<string, string>;

const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, removeAdditional: true });
// Our own annotation: a field-specific Chinese message instead of the generic one.
ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });

export interface FormSchema {
  type: 'object';
  properties: Record<string, { type: 'string' | 'integer' | 'boolean'; title: string; minLength?: number; maxLength?: number; pattern?: string; minimum?: number; maximum?: number; enum?: readonly unknown[]; default?: unknown; errorMessage?: string }>;
  required?: readonly string[];
}

function message(e: ErrorObject, schema: FormSchema): [string, string] {
  const field = e.keyword === 'required' ? (e.params as { missingProperty: string }).missingProperty : e.instancePath.slice(1);
  const p = schema.properties[field];
  const label = p?.title ?? field;
  if (p?.errorMessage && e.keyword !== 'required') return [field, p.errorMessage];
  switch (e.keyword) {
    case 'required':
      return [field, `请填写${label}`];
    case 'minLength':
      return [field, (e.params as { limit: number }).limit === 1 ? `请填写${label}` : `${label}不能少于${(e.params as { limit: number }).limit}个字`];
    case 'maxLength':
      return [field, `${label}不能超过${(e.params as { limit: number }).limit}个字`];
    case 'minimum':
      return [field, `${label}不能小于${(e.params as { limit: number }).limit}`];
    case 'maximum':
      return [field, `${label}不能大于${(e.params as { limit: number }).limit}`];
    case 'enum':
      return [field, `请选择${label}`];
    case 'type':
      return [field, `${label}格式不正确`];
    default:
      return [field, `${label}格式不正确`];
  }
}

export function compileForm<T>(schema: FormSchema) {
  // Compiled on the first form posted, not at start-up: the forms' ajv code took ~180 ms of
  // every start (issue #18).
  let compiled: ReturnType<typeof ajv.compile> | null = null;
  return function parse(body: unknown): { values: T; errors: FieldErrors } {
    const validate = (compiled ??= ajv.compile(schema as unknown as JSONSchemaType<T>));
    // Trim every string; an empty string counts as "not filled" for required fields.
    const input: Record<string, unknown> = {};
    for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>)) {
      if (!(k in schema.properties)) continue;
      const raw = Array.isArray(v) ? v[v.length - 1] : v;
      const s = typeof raw === 'string' ? raw.trim() : raw;
      if (s !== '' && s !== undefined) input[k] = s;
    }
    const errors: FieldErrors = {};
    if (!validate(input)) {
      for (const e of validate.errors ?? []) {
        const [field, text] = message(e, schema);
        errors[field] ??= text;
      }
    }
    return { values: input as T, errors };
  };
}

/** String length as a person counts it (code points, not UTF-16 units or bytes). */
export function charCount(s: string): number {
  return [...s].length;
}

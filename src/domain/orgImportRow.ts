/**
 * 导入单位和主管部门: the columns of an organisation file and the checks of one row, pure (the
 * dictionaries are passed in). A row is keyed by its 统一社会信用代码 (src/domain/uscc.ts).
 */
import { validateUscc } from './uscc.js';

export const ORG_COLUMNS = ['类型', '单位名称', '统一社会信用代码', '单位性质', '单位等级', '行政区域', '主管部门', '地址', '联系电话', '联系人'] as const;
export type OrgColumn = (typeof ORG_COLUMNS)[number];
export const ORG_ALIASES: Record<string, OrgColumn> = { 机构类型: '类型', 名称: '单位名称', 信用代码: '统一社会信用代码', 所在地区: '行政区域', 行政区划: '行政区域', 主管单位: '主管部门' };

export const ORG_KIND_NAMES: Record<string, 'unit' | 'supervisor'> = { 用人单位: 'unit', 单位: 'unit', 主管部门: 'supervisor' };

export interface OrgLookups {
  /** 单位性质 / 单位等级 by code and by name → code. */
  nature: Map<string, string>;
  unitLevel: Map<string, string>;
  /** Region by code and by name (names that are unique) → code. */
  region: Map<string, string>;
}

export interface OrgRowValue {
  kind: 'unit' | 'supervisor';
  name: string;
  uscc: string;
  nature: string | null;
  unitLevel: string | null;
  regionCode: string;
  /** The 主管部门 cell as written (a USCC or a name), resolved against the database later. */
  supervisorRef: string;
  address: string | null;
  phone: string | null;
  contact: string | null;
}

export type OrgRowCheck = { ok: true; row: OrgRowValue } | { ok: false; reasons: string[]; name: string; uscc: string };

const len = (s: string) => [...s].length;

export function checkOrgRow(cells: Record<OrgColumn, string>, lk: OrgLookups): OrgRowCheck {
  const reasons: string[] = [];
  const get = (c: OrgColumn) => (cells[c] ?? '').trim();
  const kindText = get('类型');
  const kind = ORG_KIND_NAMES[kindText];
  if (!kindText) reasons.push('类型不能为空');
  else if (!kind) reasons.push(`类型“${kindText}”不正确，应为用人单位或主管部门`);
  const name = get('单位名称');
  if (!name) reasons.push('单位名称不能为空');
  else if (len(name) > 100) reasons.push('单位名称不能超过100个字');
  const usccText = get('统一社会信用代码');
  const u = validateUscc(usccText);
  if (!usccText) reasons.push('统一社会信用代码不能为空');
  else if (!u.ok) reasons.push(u.error);
  const pick = (c: OrgColumn, map: Map<string, string>, required: boolean): string | null => {
    const v = get(c);
    if (!v) {
      if (required) reasons.push(`${c}不能为空`);
      return null;
    }
    const code = map.get(v);
    if (!code) reasons.push(`${c}“${v}”不在字典中`);
    return code ?? null;
  };
  // A unit's route needs its nature and level (DESIGN §3 单位信息不完整); a department's does not.
  const nature = pick('单位性质', lk.nature, kind === 'unit');
  const unitLevel = pick('单位等级', lk.unitLevel, kind === 'unit');
  const regionCode = pick('行政区域', lk.region, true);
  const phone = get('联系电话');
  if (phone && !/^[0-9][0-9 +()（）,，、/转-]*$/.test(phone)) reasons.push('联系电话只能包含数字、空格、“-”和“转”');
  const opt = (c: OrgColumn, max: number) => {
    const v = get(c);
    if (len(v) > max) reasons.push(`${c}不能超过${max}个字`);
    return v || null;
  };
  const address = opt('地址', 200);
  const contact = opt('联系人', 50);
  const supervisorRef = get('主管部门');
  if (supervisorRef && kind === 'supervisor') reasons.push('主管部门不能再填写主管部门');
  if (reasons.length || !kind || !u.ok || !regionCode) return { ok: false, reasons, name, uscc: usccText };
  return { ok: true, row: { kind, name, uscc: u.value, nature, unitLevel, regionCode, supervisorRef, address, phone: phone || null, contact } };
}

// 证书服务 (seed 002 §四): 外地调入人员职称资格确认 and 遗失补办 — the pure rules: which office
// confirms a transfer, and what a request must hold. Used by src/features/certservices.
import type { RouteHrb, RouteUnit } from './route.js';
import { isValidDate } from './workdays.js';

export type CertServiceKind = 'transfer' | 'reissue';
export const KIND_TEXT: Record<CertServiceKind, string> = { transfer: '外地调入人员职称资格确认', reissue: '职称证书遗失补办' };
export const SERVICE_STATUS_TEXT: Record<string, string> = { office: '待审核', confirmed: '已确认', refused: '不予确认' };
export const REISSUE_STATUS_TEXT: Record<string, string> = { office: '待审核', confirmed: '已补办', refused: '不予补办' };

export type OfficeResult = { ok: true; office: { kind: 'hrb_county' | 'hrb_city'; orgId: number; name: string } } | { ok: false; error: string; detail: string };

/**
 * The office that confirms a certificate brought from another province: the county (市、区) HR
 * bureau of the unit's region (seed 002: every 县区人社局 lists 外地调入人员职称资格确认), the one
 * serving the unit's ownership where a region has two (西山区); a unit registered at city level
 * goes to the city bureau. The unit's 行政区域 is all it needs.
 */
export function transferOffice(unit: Pick<RouteUnit, 'name' | 'kind' | 'public' | 'regionCode' | 'regionLevel'>, hrbs: readonly RouteHrb[]): OfficeResult {
  const who = unit.kind === 'agency' ? '人事代理机构（行业协会）' : '单位';
  if (!unit.regionCode?.trim() || !unit.regionLevel) {
    return { ok: false, error: '单位信息不完整', detail: `${who}“${unit.name}”的单位信息缺少行政区域，无法确定负责确认的人社局。请单位管理员在“单位信息”中补充。` };
  }
  const region = unit.regionCode;
  if (unit.regionLevel === 'county') {
    const candidates = hrbs.filter((h) => h.level === 'county' && h.regionCode === region);
    const want = unit.public === true ? 'public' : unit.public === false ? 'non_public' : null;
    const hrb = (want && candidates.find((h) => h.appliesTo === want)) || candidates.find((h) => !h.appliesTo) || candidates[0];
    if (hrb) return { ok: true, office: { kind: 'hrb_county', orgId: hrb.id, name: hrb.name } };
    return { ok: false, error: '查找人社局失败', detail: `行政区域（代码 ${region}）没有对应的县(市)区人社局。请联系平台管理员在机构管理中添加该区县的人社局。` };
  }
  const cityCode = unit.regionLevel === 'city' ? region : null;
  const city = cityCode ? hrbs.find((h) => h.level === 'city' && h.regionCode === cityCode) : undefined;
  if (city) return { ok: true, office: { kind: 'hrb_city', orgId: city.id, name: city.name } };
  return { ok: false, error: '查找人社局失败', detail: `行政区域（代码 ${region}）找不到负责确认的人社局。请单位管理员在“单位信息”中把行政区域选到区县一级。` };
}

export interface TransferInput {
  title_name?: string;
  specialty?: string;
  orig_number?: string;
  orig_issuer?: string;
  orig_date?: string;
}
export type Errors = Record<string, string>;

const len = (s: string) => [...s].length;

/**
 * A transfer request: 资格名称 (one of the dictionary's, `levelOf` gives its level), 职称专业, and
 * the original certificate's 证书编号, 发证机关 and 取得时间 (a real date, not in the future).
 */
export function transferErrors(v: TransferInput, today: string, levelOf: (title: string) => string | null): Errors {
  const e: Errors = {};
  if (!v.title_name) e.title_name = '请选择资格名称';
  else if (!levelOf(v.title_name)) e.title_name = `资格名称“${v.title_name}”不在职称字典中，请重新选择`;
  if (!v.specialty) e.specialty = '请填写职称专业';
  else if (len(v.specialty) > 50) e.specialty = '职称专业不超过50个字';
  if (!v.orig_number) e.orig_number = '请填写原证书编号';
  else if (len(v.orig_number) > 50) e.orig_number = '证书编号不超过50个字符';
  if (!v.orig_issuer) e.orig_issuer = '请填写原发证机关';
  else if (len(v.orig_issuer) > 100) e.orig_issuer = '发证机关不超过100个字';
  if (!v.orig_date) e.orig_date = '请填写取得资格时间';
  else if (!isValidDate(v.orig_date)) e.orig_date = '取得资格时间格式不正确（年-月-日）';
  else if (v.orig_date > today) e.orig_date = '取得资格时间不能晚于今天';
  return e;
}

/** A replacement request: which certificate (one of the holder's, chosen from a list) and why. */
export function reissueErrors(v: { cert?: string; reason?: string }, choices: readonly string[]): Errors {
  const e: Errors = {};
  if (!v.cert) e.cert = '请选择遗失的证书';
  else if (!choices.includes(v.cert)) e.cert = '该证书不能申请补办（已补办或正在办理中），请重新选择';
  if (!v.reason) e.reason = '请填写遗失原因';
  else if (len(v.reason) > 200) e.reason = '遗失原因不超过200字';
  return e;
}

/** 不予确认 / 不予补办 needs its reason (shown to the applicant). */
export function refuseError(reason: string): string | null {
  if (!reason.trim()) return '请填写不予通过的理由';
  if (len(reason.trim()) > 500) return '理由不超过500字';
  return null;
}

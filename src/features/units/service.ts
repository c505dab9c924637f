/**
 * 用人单位 / 人事代理机构 accounts (seed 004, seed 002 §五(三)): registration with the first
 * staff account and 单位信息. The binding to a 主管部门 (request, 下属单位审核, re-routing) is in
 * ./supervision.ts.
 */
import type { Kysely } from 'kysely';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Database, OrgKind } from '../../db/schema.js';
import { writeTx } from '../../db/index.js';
import { charCount, type FieldErrors } from '../../lib/forms.js';
import { hashPassword } from '../../lib/passwords.js';
import { validateUscc } from '../../domain/uscc.js';
import { validatePhone } from '../../domain/phone.js';
import { newPasswordProblems } from '../auth/passwords.js';
import { checkImagePixels } from '../../domain/images.js';
import { regionOptions } from '../admin/orgs.js';
import {
  storeFile, discardFile, maxBytes, sizeMessage, extensionContradicts, sanitizeName, inspectUpload,
  TYPE_MESSAGE, BROKEN_IMAGE_MESSAGE, type UploadInput,
} from '../files/service.js';
import { audit } from '../audit/service.js';

type Db = Kysely<Database>;
type Body = Record<string, string | undefined>;

export const UNIT_ADMIN = 'unit_admin';

/** 单位类型 at registration → orgs.kind. */
export const UNIT_TYPES: { code: 'unit' | 'agency'; name: string }[] = [
  { code: 'unit', name: '用人单位' },
  { code: 'agency', name: '人事代理机构/行业协会' },
];

/** 单位行业: the 20 sections (门类) of GB/T 4754-2017 国民经济行业分类. */
export const INDUSTRIES: string[] = [
  '农、林、牧、渔业', '采矿业', '制造业', '电力、热力、燃气及水生产和供应业', '建筑业', '批发和零售业',
  '交通运输、仓储和邮政业', '住宿和餐饮业', '信息传输、软件和信息技术服务业', '金融业', '房地产业',
  '租赁和商务服务业', '科学研究和技术服务业', '水利、环境和公共设施管理业', '居民服务、修理和其他服务业',
  '教育', '卫生和社会工作', '文化、体育和娱乐业', '公共管理、社会保障和社会组织', '国际组织',
];

export const USERNAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{2,31}$/;
export const USERNAME_MESSAGE = '用户名为3–32位字母、数字或 _ . -，以字母开头';
export const USCC_TAKEN = '该统一社会信用代码已注册，请直接登录或联系单位管理员';
export const REMARK_MAX = 100;

/** 联系电话 (or another `label`): a mobile number, or a landline such as 0871-64138302 (extension allowed). */
export function validateContactPhone(raw: string | undefined, label = '联系电话'): { ok: true; value: string } | { ok: false; error: string } {
  const s = (raw ?? '').trim().replace(/－|—/g, '-').replace(/\s+/g, '');
  if (!s) return { ok: false, error: `请填写${label}` };
  const landline = /^(0\d{2,3})-?(\d{7,8})(?:(?:-|转)(\d{1,6}))?$/.exec(s);
  if (landline) return { ok: true, value: `${landline[1]}-${landline[2]}${landline[3] ? `-${landline[3]}` : ''}` };
  const mobile = validatePhone(s);
  if (mobile.ok) return mobile;
  return { ok: false, error: `${label}应为11位手机号或带区号的固定电话（如 0871-64138302）` };
}

const str = (b: Body, k: string) => (typeof b[k] === 'string' ? b[k]!.trim() : '');

function need(errors: FieldErrors, b: Body, key: string, label: string, max: number, verb = '填写'): string {
  const v = str(b, key);
  if (!v) errors[key] ??= `请${verb}${label}`;
  else if (charCount(v) > max) errors[key] ??= `${label}不能超过${max}个字`;
  return v;
}

function optional(errors: FieldErrors, b: Body, key: string, label: string, max: number): string | null {
  const v = str(b, key);
  if (v && charCount(v) > max) errors[key] ??= `${label}不能超过${max}个字`;
  return v || null;
}

/**
 * Every region with its path label, and the counties only (单位所在地): enabled ones, plus `keep`
 * (the unit's own, even if disabled since); `{ all: true }` for labels.
 */
export async function regionLists(ctx: AppContext, o: { all?: boolean; keep?: readonly (string | null | undefined)[] } = {}) {
  const all = await regionOptions(ctx.db, o);
  const levels = new Map((await ctx.db.selectFrom('regions').select(['code', 'level']).execute()).map((r) => [r.code, r.level]));
  return { regions: all, counties: all.filter((r) => levels.get(r.code) === 'county') };
}

/** The level of a region a form may save: enabled, or the unit's own (`keep`); null otherwise. */
async function regionLevel(db: Db, code: string, keep: readonly (string | null | undefined)[] = []): Promise<string | null> {
  const r = await db.selectFrom('regions').select(['level', 'disabled']).where('code', '=', code).executeTakeFirst();
  return r && (!r.disabled || keep.includes(code)) ? r.level : null;
}

// ---------------------------------------------------------------------------------------
// Uploads of the unit (营业执照, 单位签章): checked like storeFile does before any row exists

/** An uploaded file (a temp file from the multipart reader, or bytes), stored by storeFile. */
export type Upload = UploadInput;

export type OrgFileSlot = 'license' | 'seal';
export const ORG_FILE_LABEL: Record<OrgFileSlot, string> = { license: '营业执照', seal: '单位签章' };
export const SEAL_TYPE_MESSAGE = '单位签章只能是 jpg 或 png 图片';

/** The checks storeFile makes (size, content type, name, broken image) without storing. */
export async function checkOrgUpload(ctx: AppContext, slot: OrgFileSlot, up: Upload): Promise<string | null> {
  if (('buffer' in up ? up.buffer.length : up.size) > maxBytes(ctx, 'doc')) return sizeMessage(ctx, 'doc');
  const { type } = await inspectUpload(up);
  if (!type) return slot === 'seal' ? SEAL_TYPE_MESSAGE : TYPE_MESSAGE;
  if (slot === 'seal' && type.ext === 'pdf') return SEAL_TYPE_MESSAGE;
  if (extensionContradicts(sanitizeName(up.filename, type.ext), type.mime)) return slot === 'seal' ? SEAL_TYPE_MESSAGE : TYPE_MESSAGE;
  if (type.ext !== 'pdf' && (type.width === undefined || type.height === undefined)) return BROKEN_IMAGE_MESSAGE;
  if (type.ext !== 'pdf') return checkImagePixels(type.width!, type.height!, ctx.config.imageMaxPixels);
  return null;
}

/** Stores the file for `userId` and makes it the org's 营业执照/单位签章 (the old one is dropped). */
export async function replaceOrgFile(ctx: AppContext, orgId: number, userId: number, slot: OrgFileSlot, up: Upload): Promise<{ ok: true } | { ok: false; error: string }> {
  const problem = await checkOrgUpload(ctx, slot, up);
  if (problem) return { ok: false, error: problem };
  const stored = await storeFile(ctx, userId, up, 'doc');
  if (!stored.ok) return stored;
  const col = slot === 'license' ? 'license_file_id' : 'seal_file_id';
  const old = await writeTx(ctx.db, async (trx) => {
    const org = await trx.selectFrom('orgs').select([col]).where('id', '=', orgId).executeTakeFirstOrThrow();
    await trx.updateTable('orgs').set({ [col]: stored.fileId, updated_at: ctx.config.now().toISOString() }).where('id', '=', orgId).execute();
    const prev = (org as Record<string, number | null>)[col];
    return prev ? trx.selectFrom('files').select(['id', 'user_id']).where('id', '=', prev).executeTakeFirst() : undefined;
  });
  if (old && old.id !== stored.fileId) await discardFile(ctx, old.user_id, old.id);
  return { ok: true };
}

/** The org's file for viewing (any staff of the org, or its supervisor): path, type, name. */
export async function orgFile(ctx: AppContext, orgId: number, slot: OrgFileSlot) {
  const org = await ctx.db.selectFrom('orgs').select(['license_file_id', 'seal_file_id']).where('id', '=', orgId).executeTakeFirst();
  const fileId = slot === 'license' ? org?.license_file_id : org?.seal_file_id;
  if (!fileId) return null;
  const f = await ctx.db.selectFrom('files').select(['id', 'sha256', 'size', 'mime', 'original_name']).where('id', '=', fileId).executeTakeFirst();
  return f ? { id: f.id, sha256: f.sha256, size: f.size, mime: f.mime, name: f.original_name } : null;
}

// ---------------------------------------------------------------------------------------
// 单位注册

export const REGISTER_FIELDS = [
  'kind', 'uscc', 'name', 'legal_rep', 'industry', 'location', 'address', 'contact', 'phone', 'username', 'password', 'password2',
] as const;

export type RegisterResult =
  | { ok: true; userId: number; orgId: number; fileErrors: string[] }
  | { ok: false; errors: FieldErrors };

/**
 * 单位注册 (public): the organisation and its first staff account (单位管理员), audited in the same
 * transaction with the new account as the actor (`req` gives the source IP). The row names the
 * unit and the username, never the contact phone or the password.
 */
export async function registerUnit(ctx: AppContext, req: FastifyRequest, b: Body, files: { license?: Upload; seal?: Upload }): Promise<RegisterResult> {
  const errors: FieldErrors = {};
  const kind = UNIT_TYPES.find((t) => t.code === str(b, 'kind'))?.code;
  if (!kind) errors.kind = '请选择单位类型';
  let uscc: string | null = null;
  const u = validateUscc(str(b, 'uscc'));
  if (!u.ok) errors.uscc = u.error;
  else {
    uscc = u.value;
    if (await ctx.db.selectFrom('orgs').select('id').where('uscc', '=', uscc).executeTakeFirst()) errors.uscc = USCC_TAKEN;
  }
  const name = need(errors, b, 'name', '单位名称', 100);
  const legalRep = need(errors, b, 'legal_rep', '法定代表人', 50);
  const industry = str(b, 'industry');
  if (!INDUSTRIES.includes(industry)) errors.industry = '请选择单位行业';
  const location = str(b, 'location');
  const locLevel = location ? await regionLevel(ctx.db, location) : null;
  if (!locLevel) errors.location = '请选择单位所在地';
  const address = need(errors, b, 'address', '单位地址', 200);
  const contact = need(errors, b, 'contact', '联系人', 50);
  const phone = validateContactPhone(b.phone);
  if (!phone.ok) errors.phone = phone.error;
  const username = str(b, 'username');
  if (!username) errors.username = '请填写用户名';
  else if (!USERNAME_RE.test(username)) errors.username = USERNAME_MESSAGE;
  else if (await ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) errors.username = '该用户名已被使用';
  const pw = b.password ?? '';
  if (!pw) errors.password = '请输入密码';
  else {
    const problems = newPasswordProblems(pw, { phone: phone.ok ? phone.value : undefined });
    if (problems.length) errors.password = problems.join('；');
  }
  if (!errors.password && pw !== (b.password2 ?? '')) errors.password2 = '两次输入的密码不一致';
  if (!files.license) errors.license = '请上传营业执照彩色扫描件';
  else {
    const p = await checkOrgUpload(ctx, 'license', files.license);
    if (p) errors.license = p;
  }
  if (files.seal) {
    const p = await checkOrgUpload(ctx, 'seal', files.seal);
    if (p) errors.seal = p;
  }
  if (Object.keys(errors).length || !kind || !uscc || !phone.ok) return { ok: false, errors };

  const hash = await hashPassword(pw);
  const stamp = ctx.config.now().toISOString();
  const created = await writeTx(ctx.db, async (trx): Promise<{ errors: FieldErrors } | { orgId: number; userId: number }> => {
    // Re-checked under the write lock: two registrations of the same code or name at once.
    if (await trx.selectFrom('orgs').select('id').where('uscc', '=', uscc).executeTakeFirst()) return { errors: { uscc: USCC_TAKEN } };
    if (await trx.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) return { errors: { username: '该用户名已被使用' } };
    const org = await trx
      .insertInto('orgs')
      .values({
        kind: kind as OrgKind, name, uscc, legal_rep: legalRep, industry, location, address, contact, phone: phone.value,
        // 所在地 at county level is also the 行政区域 the route needs (editable in 单位信息).
        region_code: locLevel === 'county' ? location : null,
        created_at: stamp, updated_at: stamp,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const user = await trx
      .insertInto('users')
      .values({
        kind: 'staff', username, name: contact, org_id: org.id, roles: UNIT_ADMIN, password_hash: hash,
        password_changed_at: stamp, created_at: stamp, updated_at: stamp,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.insertInto('messages').values({
      user_id: user.id, type: '系统消息', created_at: stamp,
      content: `单位“${name}”注册成功。请在“单位信息”中完善单位性质、单位等级和行政区域${kind === 'unit' ? '，并选择主管部门' : ''}；单位信息不完整时，本单位人员不能提交申报。`,
    }).execute();
    await audit(ctx, req, {
      action: 'unit_register', objectType: 'org', objectId: org.id,
      detail: `${UNIT_TYPES.find((t) => t.code === kind)!.name}：${name}，单位管理员账号 ${username}`,
      actor: { id: user.id, kind: 'staff', name: contact, username, roles: [UNIT_ADMIN], orgId: org.id },
    }, trx);
    return { orgId: org.id, userId: user.id };
  });
  if ('errors' in created) return { ok: false, errors: created.errors };

  // The files belong to the new staff user (quota, ownership); stored now that the user exists.
  const fileErrors: string[] = [];
  for (const slot of ['license', 'seal'] as const) {
    const up = files[slot];
    if (!up) continue;
    const r = await replaceOrgFile(ctx, created.orgId, created.userId, slot, up);
    if (!r.ok) fileErrors.push(`${ORG_FILE_LABEL[slot]}上传失败：${r.error}`);
  }
  return { ok: true, userId: created.userId, orgId: created.orgId, fileErrors };
}

// ---------------------------------------------------------------------------------------
// 单位信息

export async function loadOrg(ctx: AppContext, orgId: number) {
  return ctx.db.selectFrom('orgs').selectAll().where('id', '=', orgId).executeTakeFirstOrThrow();
}
export type OrgRow = Awaited<ReturnType<typeof loadOrg>>;

/** What keeps the unit's applicants from submitting (the notice on /org/unit), in words. */
export async function missingInfo(ctx: AppContext, org: OrgRow): Promise<string[]> {
  const out: string[] = [];
  const isAgency = org.kind === 'agency';
  let isPublic = false;
  if (!isAgency) {
    if (!org.nature) out.push('单位性质');
    else {
      const n = await ctx.db.selectFrom('dict_items').select('extra').where('dict', '=', 'unit_nature').where('code', '=', org.nature).executeTakeFirst();
      if (!n) out.push('单位性质（当前值不在字典中，请重新选择）');
      else isPublic = !!(n.extra && JSON.parse(n.extra).public);
    }
    if (!org.unit_level) out.push('单位等级');
  }
  if (!org.region_code) out.push('行政区域');
  else if ((await regionLevel(ctx.db, org.region_code, [org.region_code])) !== 'county') out.push('行政区域（须选到区县）');
  else if (isAgency || !isPublic || org.unit_level === 'county') {
    // These routes pass the county HRB of the region (DESIGN.md §3): it must exist.
    const hrb = await ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'hrb').where('hrb_level', '=', 'county').where('region_code', '=', org.region_code).where('disabled', '=', 0).executeTakeFirst();
    if (!hrb) out.push('行政区域对应的县(市)区人社局（平台尚未设置，请联系平台管理员）');
  }
  if (isPublic && (!org.supervisor_org_id || org.supervisor_status !== 'approved')) {
    out.push(org.supervisor_status === 'pending' ? '主管部门（等待主管部门审核）' : '主管部门（未选择或审核未通过）');
  }
  return out;
}

export const INFO_FIELDS = ['name', 'legal_rep', 'industry', 'location', 'nature', 'unit_level', 'region_code', 'contact', 'phone', 'fax', 'address', 'remark'] as const;

export async function saveUnitInfo(ctx: AppContext, org: OrgRow, b: Body): Promise<{ ok: true } | { ok: false; errors: FieldErrors }> {
  const errors: FieldErrors = {};
  const isAgency = org.kind === 'agency';
  const name = need(errors, b, 'name', '单位名称', 100);
  const legalRep = optional(errors, b, 'legal_rep', '法定代表人', 50);
  const industry = str(b, 'industry') || null;
  if (industry && !INDUSTRIES.includes(industry)) errors.industry = '请选择单位行业';
  const location = str(b, 'location') || null;
  if (location && !(await regionLevel(ctx.db, location, [org.location]))) errors.location = '请选择单位所在地';
  const dictOk = async (dict: string, code: string) =>
    !!(await ctx.db.selectFrom('dict_items').select('id').where('dict', '=', dict).where('code', '=', code).where('disabled', '=', 0).executeTakeFirst());
  const nature = str(b, 'nature') || null;
  const unitLevel = str(b, 'unit_level') || null;
  if (!nature) { if (!isAgency) errors.nature = '请选择单位性质'; } else if (!(await dictOk('unit_nature', nature))) errors.nature = '请选择单位性质';
  if (!unitLevel) { if (!isAgency) errors.unit_level = '请选择单位等级'; } else if (!(await dictOk('unit_level', unitLevel))) errors.unit_level = '请选择单位等级';
  const region = str(b, 'region_code');
  if (!region) errors.region_code = '请选择行政区域';
  else {
    const level = await regionLevel(ctx.db, region, [org.region_code]);
    if (!level) errors.region_code = '请选择行政区域';
    else if (level !== 'county') errors.region_code = '行政区域须选到区县';
  }
  const contact = optional(errors, b, 'contact', '联系人', 50);
  const phone = validateContactPhone(b.phone);
  if (!phone.ok) errors.phone = phone.error;
  const faxRaw = str(b, 'fax');
  let fax: string | null = null;
  if (faxRaw) {
    const f = validateContactPhone(faxRaw);
    if (!f.ok || !f.value.startsWith('0')) errors.fax = '传真应为带区号的号码（如 0871-64138302）';
    else fax = f.value;
  }
  const address = optional(errors, b, 'address', '地址', 200);
  const remark = optional(errors, b, 'remark', '备注', REMARK_MAX);
  if (Object.keys(errors).length || !phone.ok) return { ok: false, errors };
  await writeTx(ctx.db, async (trx) => {
    await trx.updateTable('orgs').set({
      name, legal_rep: legalRep, industry, location, nature, unit_level: unitLevel, region_code: region, contact, phone: phone.value, fax, address, remark,
      updated_at: ctx.config.now().toISOString(),
    }).where('id', '=', org.id).execute();
  });
  return { ok: true };
}

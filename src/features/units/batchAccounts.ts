/**
 * 批量新增账号 (seed 004): the unit creates its 专业技术人员's personal accounts from a list —
 * 姓名, 身份证号, 手机号 per row (./importer.ts reads a paste, a .csv or an .xlsx).
 *
 * Every created account gets its OWN random initial password (the password policy, the common
 * list, never the person's ID number or phone) and must change it at first login. The passwords
 * are never stored in clear: the unit either sees the list once, on the response to its import
 * (a page to print; GET shows nothing, and pages are no-store), or has each one sent by SMS to
 * the account's phone (then the page shows none, except for a message that could not be sent).
 *
 * One audit row per import, on the unit: the counts and the delivery only (never names, ID
 * numbers, phones or passwords).
 */
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import { charCount } from '../../lib/forms.js';
import { hashPassword } from '../../lib/passwords.js';
import { idColumns, idHmac, phoneColumns, phoneHmac } from '../../lib/pii.js';
import { maskIdNumber, maskPhone } from '../../domain/mask.js';
import { validateIdNumber } from '../../domain/idcard.js';
import { validatePhone } from '../../domain/phone.js';
import { generatePassword } from '../admin/users.js';
import { IMPORT_MAX_ROWS, type RawRow } from './importer.js';
import { audit } from '../audit/service.js';
import type { Unit } from './people.js';

/** How the initial passwords reach the people: a list the unit prints, or one SMS each. */
export type Delivery = 'print' | 'sms';

export const DELIVERY_LABEL: Record<Delivery, string> = { print: '打印初始密码单交本人', sms: '短信发送到本人手机' };

export function parseDelivery(v: unknown): Delivery {
  return v === 'sms' ? 'sms' : 'print';
}

export interface ImportError {
  line: number;
  name: string;
  text: string;
}

export interface CreatedAccount {
  line: number;
  name: string;
  idMasked: string;
  phoneMasked: string;
  /** Shown on this response only; null once it went out by SMS. */
  password: string | null;
  sms: 'sent' | 'failed' | null;
}

export interface ImportResult {
  created: number;
  failed: number;
  errors: ImportError[];
  /** The created accounts in row order, each with its own initial password (or its SMS state). */
  accounts: CreatedAccount[];
  delivery: Delivery;
  /** Set when nothing was imported at all (no rows, too many rows). */
  fatal?: string;
}

interface GoodRow {
  line: number;
  name: string;
  id: string;
  phone: string;
}

/** The SMS of an initial password (the local transport's outbox masks it after 10 minutes). */
export const accountSms = (unit: string, pw: string) =>
  `【职称申报评审系统】${unit}已为您创建职称申报个人账号，可使用本人身份证号或手机号登录，初始密码：${pw}，首次登录须修改密码。`;

/** Hashes with at most `n` at a time: argon2 runs on the libuv pool, which file reads share. */
async function hashAll(passwords: string[], n = 2): Promise<string[]> {
  const out: string[] = new Array(passwords.length);
  let next = 0;
  const worker = async () => {
    while (next < passwords.length) {
      const i = next++;
      out[i] = await hashPassword(passwords[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, passwords.length) }, worker));
  return out;
}

/** Validates every row, then creates the valid ones, each with its own initial password. */
export async function importPeople(ctx: AppContext, req: FastifyRequest, unit: Unit, rows: RawRow[], delivery: Delivery = 'print'): Promise<ImportResult> {
  const empty = { created: 0, failed: 0, errors: [], accounts: [], delivery };
  const refused = async (fatal: string): Promise<ImportResult> => {
    await audit(ctx, req, { action: 'unit_import', objectType: 'org', objectId: unit.id, result: 'fail', detail: `未导入：${fatal}` });
    return { ...empty, fatal };
  };
  if (rows.length === 0) return refused('没有可导入的数据：每行填写“姓名,身份证号,手机号”');
  if (rows.length > IMPORT_MAX_ROWS) return refused(`每次最多导入${IMPORT_MAX_ROWS}行（本次${rows.length}行），请分批导入`);
  const errors: ImportError[] = [];
  const good: GoodRow[] = [];
  const seenId = new Map<string, number>();
  const seenPhone = new Map<string, number>();
  const now = ctx.config.now();
  for (const r of rows) {
    const [nameRaw = '', idRaw = '', phoneRaw = ''] = r.cells;
    const name = nameRaw.trim();
    const problems: string[] = [];
    if (r.cells.length < 3) problems.push('应为“姓名,身份证号,手机号”三列');
    else {
      if (!name) problems.push('请填写姓名');
      else if (charCount(name) > 50) problems.push('姓名不能超过50个字');
      let id: string | undefined;
      if (r.problem) problems.push(r.problem);
      else {
        const v = validateIdNumber(idRaw, now);
        if (!v.ok) problems.push(v.error);
        else id = v.value;
      }
      let phone: string | undefined;
      const p = validatePhone(phoneRaw);
      if (!p.ok) problems.push(p.error);
      else phone = p.value;
      if (id) {
        if (seenId.has(id)) problems.push(`身份证号与第${seenId.get(id)}行重复`);
        else if (await ctx.db.selectFrom('users').select('id').where('id_hmac', '=', idHmac(ctx.secrets, id)).executeTakeFirst()) problems.push('该身份证号已注册账号');
        else seenId.set(id, r.line);
      }
      if (phone) {
        if (seenPhone.has(phone)) problems.push(`手机号与第${seenPhone.get(phone)}行重复`);
        else if (await ctx.db.selectFrom('users').select('id').where('phone_hmac', '=', phoneHmac(ctx.secrets, phone)).executeTakeFirst()) problems.push('该手机号已被其他账号使用');
        else seenPhone.set(phone, r.line);
      }
      if (!problems.length && id && phone) good.push({ line: r.line, name, id, phone });
    }
    if (problems.length) errors.push({ line: r.line, name, text: `第${r.line}行：${problems.join('；')}` });
  }
  const counts = (created: number) => `共${rows.length}行：成功${created}条，失败${errors.length}条`;
  if (good.length === 0) {
    await audit(ctx, req, { action: 'unit_import', objectType: 'org', objectId: unit.id, result: 'fail', detail: counts(0) });
    return { ...empty, failed: errors.length, errors };
  }
  // One password per person, hashed before the write transaction (it holds the writer).
  const passwords = good.map((g) => generatePassword(12, { idNumber: g.id, phone: g.phone }));
  const hashes = await hashAll(passwords);
  const stamp = ctx.config.now().toISOString();
  const how = delivery === 'sms' ? '初始密码已通过短信发送到您的手机' : '初始密码由单位告知';
  const created = await writeTx(ctx.db, async (trx) => {
    const done: { g: GoodRow; password: string }[] = [];
    for (const [i, g] of good.entries()) {
      const idCols = idColumns(ctx.secrets, g.id);
      const phoneCols = phoneColumns(ctx.secrets, g.phone);
      // Re-checked under the write lock: someone registering meanwhile keeps their account.
      const clash = await trx.selectFrom('users').select('id').where((eb) => eb.or([eb('id_hmac', '=', idCols.id_hmac), eb('phone_hmac', '=', phoneCols.phone_hmac)])).executeTakeFirst();
      if (clash) {
        errors.push({ line: g.line, name: g.name, text: `第${g.line}行：该身份证号或手机号已注册账号` });
        continue;
      }
      const row = await trx
        .insertInto('users')
        .values({
          kind: 'applicant', name: g.name, ...idCols, ...phoneCols, password_hash: hashes[i]!, must_change_password: 1, unit_org_id: unit.id,
          created_at: stamp, updated_at: stamp,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx.insertInto('messages').values({
        user_id: row.id, type: '单位消息', created_at: stamp,
        content: `您的个人账号已由单位“${unit.name}”创建，可使用身份证号或手机号登录（${how}）。首次登录须修改初始密码，并完善基本信息。`,
      }).execute();
      done.push({ g, password: passwords[i]! });
    }
    await audit(ctx, req, {
      action: 'unit_import', objectType: 'org', objectId: unit.id, result: done.length ? 'ok' : 'fail',
      detail: `${counts(done.length)}（每个账号单独的初始密码，${DELIVERY_LABEL[delivery]}，首次登录须修改）`,
    }, trx);
    return done;
  });
  // SMS after the commit: a message is never sent for an account that does not exist.
  const accounts: CreatedAccount[] = [];
  for (const { g, password } of created) {
    let sms: CreatedAccount['sms'] = null;
    if (delivery === 'sms') {
      try {
        await ctx.sms.send(g.phone, accountSms(unit.name, password), 'unit_account');
        sms = 'sent';
      } catch (err) {
        req.log.warn({ err }, 'initial-password SMS not sent');
        sms = 'failed';
      }
    }
    accounts.push({ line: g.line, name: g.name, idMasked: maskIdNumber(g.id), phoneMasked: maskPhone(g.phone), password: sms === 'sent' ? null : password, sms });
  }
  errors.sort((a, b) => a.line - b.line);
  return { created: accounts.length, failed: errors.length, errors, accounts, delivery };
}

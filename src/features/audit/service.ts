import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { writeTx, type DB } from '../../db/index.js';
import { startPeriodic } from '../../lib/jobs.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { maskIdNumber, maskPhone } from '../../domain/mask.js';

/**
 * 安全审计 (GB/T 22239 level 3): one append-only row per security-relevant event, chained:
 *
 *   mac = HMAC-SHA256(auditKey, prev_mac + '\n' + canonical JSON of the row's fields)
 *
 * where prev_mac is the mac of the row appended before it ('' for the very first). The chain
 * head {id, mac} is kept in settings 'audit_head' (updated in the same transaction), so:
 * - an edited row no longer matches its mac                     → 内容被修改 (that row)
 * - a deleted row leaves the next row's prev_mac pointing nowhere → 记录被删除 (the next row)
 * - a deleted last row leaves the head pointing past the table    → 记录被删除 (the head's id)
 *
 * Retention purge (purgeAudit): first append an 'audit_purge' checkpoint row (chained like any
 * other) whose object_id is the last purged id P and whose detail carries the mac of row P;
 * then delete rows id ≤ P. The oldest surviving row (P+1) has prev_mac = mac(P), which the
 * verifier accepts only when a genuine (mac-checked) checkpoint vouches for exactly that id and
 * mac — so deleting rows at the start of the table is still detected.
 *
 * Never put passwords, codes, session ids or full ID numbers / phones in an entry: `detail`
 * is truncated and any 18-digit ID or 11-digit mobile number in it is masked regardless.
 */

export type AuditResult = 'ok' | 'fail';

export interface AuditEntry {
  action: string;
  objectType?: string | null;
  objectId?: string | number | null;
  result?: AuditResult;
  detail?: string | null;
  /** Who acted, when req.user is not (yet) the actor: a login attempt, an SMS self-unlock. */
  actor?: Partial<Pick<CurrentUser, 'id' | 'kind' | 'name' | 'username' | 'roles' | 'orgId'>> | null;
  /** Overrides req.ip (for callers without a request). */
  ip?: string | null;
}

/** Action codes and their labels (the admin screen's filter and the export). */
export const AUDIT_ACTIONS: Record<string, string> = {
  login: '登录',
  logout: '退出登录',
  account_lock: '账号锁定',
  account_unlock: '账号解锁',
  password_reset: '重置密码',
  user_create: '创建用户',
  user_update: '修改用户/角色',
  user_disable: '停用账号',
  user_enable: '启用账号',
  workflow: '审核流程操作',
  file_download: '附件下载',
  export: '导出',
  config_change: '配置变更',
  register: '个人注册',
  password_change: '修改密码',
  phone_change: '修改手机号',
  role_change: '角色变更',
  permission_change: '权限变更',
  session_end: '结束会话',
  pii_reveal: '查看完整个人信息',
  org_create: '新增机构',
  org_update: '修改机构',
  org_remove: '注销机构',
  user_duties: '本级人员授权',
  audit_read: '查阅审计日志',
  '2fa.enroll': '启用双因素认证',
  '2fa.ok': '双因素认证通过',
  '2fa.fail': '双因素认证失败',
  '2fa.recovery': '使用恢复码登录',
  '2fa.codes': '重新生成恢复码',
  '2fa.disable': '关闭双因素认证',
  '2fa.reset': '重置双因素认证',
  audit_export: '导出审计日志',
  audit_verify: '校验审计日志',
  audit_purge: '清理过期审计日志',
  unit_register: '单位注册',
  unit_person_remove: '移出单位人员',
  post_quotas: '岗位设置',
  appointment_add: '新增聘任',
  appointment_end: '解聘',
  unit_import: '批量新增账号',
  supervisor_decision: '主管部门审核单位',
  declaration_submit: '提交申报',
  unit_verify: '单位核验',
  supplement_request: '要求补充材料',
  supplement_upload: '上传补充材料',
  supplement_cancel: '撤销补充材料要求',
  supplement_remove: '删除补充材料',
  unit_checker_add: '新增职能部门审核',
  unit_checker_remove: '删除职能部门审核',
  unit_check: '职能部门审核',
  publicity_start: '申报公示',
  publicity_complete: '完成公示',
  evaluation_confirm: '确认评审结果',
  certificate_issue: '发证',
  paper_received: '登记纸质材料',
  backup: '备份',
  restore: '恢复备份',
  migrate: '数据库迁移',
  evaluation_create: '创建评审会议',
  evaluation_votes: '录入表决结果',
  result_publicity: '评审结果公示',
  notice_publish: '发布通知',
  notice_update: '修改通知',
  notice_delete: '删除通知',
  unit_update: '修改单位信息',
  unit_file: '上传单位证照',
  supervisor_request: '申请主管部门',
  supervisor_withdraw: '撤回主管部门申请',
  file_upload: '上传附件',
  file_delete: '删除附件',
  integrity_record: '记入诚信档案',
  integrity_lift: '撤销诚信档案记录',
  unit_sanction: '暂停单位推荐',
  unit_sanction_lift: '撤销暂停单位推荐',
  recognition_create: '填写职称认定材料',
  recognition_update: '修改职称认定材料',
  recognition_send: '职称认定提交单位',
  recognition_submit: '上报职称认定',
  recognition_approve: '认定通过',
  recognition_return: '退回职称认定',
  recognition_refuse: '不予认定',
  recognition_windows: '设置认定申报时间',
  cert_service_apply: '申请证书服务（外地调入确认/遗失补办）',
  cert_service_confirm: '证书服务办结（确认/补办）',
  cert_service_refuse: '证书服务不予通过',
  exchange_check: '数据导入预检',
  exchange_import: '数据导入',
  exchange_export: '数据导出',
  transfer_export: '转评委会',
  transfer_download: '下载转评委会数据包',
  transfer_import: '导入转评委会数据包',
  transfer_results_export: '导出评审情况',
  transfer_results_import: '接收评审情况',
  transfer_peer_add: '登记可信发送方',
  transfer_peer_remove: '删除可信发送方',
  api_token_create: '创建接口令牌',
  api_token_revoke: '吊销接口令牌',
  api_call: '接口调用',
};

/** The actor of rows written by the command line (backup, restore, migrate, create-admin). */
export const CLI_ACTOR: NonNullable<AuditEntry['actor']> = { username: 'cli', name: '命令行', roles: ['cli'] };

const HEAD_KEY = 'audit_head';
const DETAIL_MAX = 200;
type Row = Selectable<Database['audit_log']>;
type Fields = Omit<Row, 'id' | 'prev_mac' | 'mac'> & { id: number };

/** Masks anything that looks like an ID number or a mobile phone, and bounds the length. */
export function scrub(text: string | null | undefined): string | null {
  if (text === null || text === undefined || text === '') return null;
  const s = String(text)
    .replace(/(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])/g, (m) => maskIdNumber(m))
    .replace(/(?<!\d)1\d{10}(?!\d)/g, (m) => maskPhone(m));
  return [...s].slice(0, DETAIL_MAX).join('');
}

/** A typed account (ID number or phone or username) as it may appear in the log. */
export function maskAccount(account: string): string {
  const a = account.trim().slice(0, 64);
  const id = a.toUpperCase();
  if (/^\d{17}[\dX]$/.test(id)) return maskIdNumber(id);
  const phone = a.replace(/[\s-]/g, '');
  if (/^1\d{10}$/.test(phone)) return maskPhone(phone);
  return scrub(a) ?? '';
}

function canonical(r: Fields): string {
  // A fixed field order: the JSON of an array is canonical without key sorting.
  return JSON.stringify([r.id, r.at, r.user_id, r.username, r.name, r.role, r.org_id, r.ip, r.action, r.object_type, r.object_id, r.result, r.detail]);
}

export function macOf(key: Buffer, prevMac: string, r: Fields): string {
  return crypto.createHmac('sha256', key).update(prevMac + '\n' + canonical(r)).digest('hex');
}

async function readHead(db: Kysely<Database>): Promise<{ id: number; mac: string } | null> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', HEAD_KEY).executeTakeFirst();
  if (!row) return null;
  try {
    const h = JSON.parse(row.value) as { id: number; mac: string };
    return typeof h.id === 'number' && typeof h.mac === 'string' ? h : null;
  } catch {
    return null;
  }
}

function roleOf(u: AuditEntry['actor']): string | null {
  if (!u) return null;
  if (u.kind === 'applicant') return 'applicant';
  const roles = (u.roles ?? []).filter(Boolean);
  return roles.length ? roles.join(',') : u.kind ?? null;
}

/**
 * Appends one audit row. Inside a caller's writeTx pass its `trx` (the single SQLite
 * connection is held by it); otherwise the row gets its own write transaction.
 */
export async function audit(ctx: AppContext, req: FastifyRequest | null, entry: AuditEntry, trx?: Kysely<Database>): Promise<void> {
  const who = entry.actor ?? req?.user ?? null;
  const base = {
    at: ctx.config.now().toISOString(),
    user_id: who?.id ?? null,
    username: who?.username ? scrub(who.username) : null,
    name: who?.name ?? null,
    role: roleOf(who),
    org_id: who?.orgId ?? null,
    ip: entry.ip ?? req?.ip ?? null,
    action: entry.action,
    object_type: entry.objectType ?? null,
    object_id: entry.objectId === null || entry.objectId === undefined ? null : String(entry.objectId),
    result: entry.result ?? 'ok',
    detail: scrub(entry.detail),
  };
  const run = async (t: Kysely<Database>) => appendRow(ctx.secrets.auditKey, t, base);
  await (trx ? run(trx) : writeTx(ctx.db, run));
}

async function appendRow(key: Buffer, t: Kysely<Database>, base: Omit<Fields, 'id'>): Promise<{ id: number; mac: string }> {
  const head = await readHead(t);
  const last = await t.selectFrom('audit_log').select(['id', 'mac']).orderBy('id', 'desc').limit(1).executeTakeFirst();
  // Chain on the head (not the last row): a deleted last row then stays visible as a break.
  const prev = head?.mac ?? last?.mac ?? '';
  // The id is chosen here (inside the write transaction) so it can be part of the mac.
  const id = Math.max(head?.id ?? 0, last?.id ?? 0) + 1;
  const fields: Fields = { id, ...base };
  const mac = macOf(key, prev, fields);
  await t.insertInto('audit_log').values({ ...fields, prev_mac: prev, mac }).execute();
  const value = JSON.stringify({ id, mac });
  await t.insertInto('settings').values({ key: HEAD_KEY, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  return { id, mac };
}

export interface VerifyResult {
  ok: boolean;
  rows: number;
  firstBad?: { id: number; reason: '内容被修改' | '记录被删除' };
}

/** Walks the whole chain in id order. Streams in pages so a large table stays cheap. */
export async function verifyChain(db: DB | Kysely<Database>, key: Buffer): Promise<VerifyResult> {
  const head = await readHead(db);
  // Checkpoints first: which purged prefix (last id, its mac) a genuine purge row vouches for.
  const anchors = new Map<number, string>();
  let rows = 0;
  let prevMac: string | null = null;
  let lastId = 0;
  let after = 0;
  const PAGE = 2000;
  const pending: Row[] = [];
  for (;;) {
    const page = await db.selectFrom('audit_log').selectAll().where('id', '>', after).orderBy('id').limit(PAGE).execute();
    if (!page.length) break;
    after = page[page.length - 1]!.id;
    for (const r of page) {
      rows++;
      const { prev_mac, mac, ...fields } = r;
      if (macOf(key, prev_mac, fields) !== mac) return { ok: false, rows, firstBad: { id: r.id, reason: '内容被修改' } };
      if (r.action === 'audit_purge' && r.object_id) {
        const m = /mac=([0-9a-f]{64})/.exec(r.detail ?? '');
        if (m) anchors.set(Number(r.object_id), m[1]!);
      }
      if (prevMac === null) {
        // The oldest row: either the genesis row, or the first survivor of a purge (checked below,
        // once the checkpoint rows that follow it have been read).
        if (!(r.id === 1 && prev_mac === '')) pending.push(r);
      } else if (prev_mac !== prevMac || r.id !== lastId + 1) {
        return { ok: false, rows, firstBad: { id: r.id, reason: '记录被删除' } };
      }
      prevMac = mac;
      lastId = r.id;
    }
  }
  const first = pending[0];
  if (first && anchors.get(first.id - 1) !== first.prev_mac) return { ok: false, rows, firstBad: { id: first.id, reason: '记录被删除' } };
  if (!head) {
    if (rows > 0) return { ok: false, rows, firstBad: { id: lastId, reason: '内容被修改' } };
    return { ok: true, rows };
  }
  if (head.id !== lastId || head.mac !== prevMac) {
    // Rows after the last one present were removed (or all of them).
    return { ok: false, rows, firstBad: { id: head.id > lastId ? lastId + 1 : head.id, reason: '记录被删除' } };
  }
  return { ok: true, rows };
}

/**
 * Deletes rows older than the retention period (never less than 184 days), after writing the
 * 'audit_purge' checkpoint. Returns how many rows went.
 */
export async function purgeAudit(ctx: AppContext, now = ctx.config.now()): Promise<number> {
  const days = Math.max(184, ctx.config.auditRetentionDays);
  const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
  return writeTx(ctx.db, async (t) => {
    // Ids grow with time, so the old rows are a prefix: purge up to the newest old one.
    const last = await t.selectFrom('audit_log').select(['id', 'mac']).where('at', '<', cutoff).orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (!last) return 0;
    const { n } = await t.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('id', '<=', last.id).executeTakeFirstOrThrow();
    await appendRow(ctx.secrets.auditKey, t, {
      at: now.toISOString(), user_id: null, username: null, name: '系统', role: 'system', org_id: null, ip: null,
      action: 'audit_purge', object_type: 'audit_log', object_id: String(last.id), result: 'ok',
      detail: `清理${days}天前的审计记录${Number(n)}条（截至id ${last.id}）；mac=${last.mac}`,
    });
    await t.deleteFrom('audit_log').where('id', '<=', last.id).execute();
    return Number(n);
  });
}

/** Daily purge, by one process of those sharing the database; returns a stop function. */
export function startAuditPurge(ctx: AppContext): () => Promise<void> {
  return startPeriodic(ctx.log, 'audit purge', 24 * 3_600_000, () => purgeAudit(ctx), { db: ctx.db, now: ctx.config.now });
}

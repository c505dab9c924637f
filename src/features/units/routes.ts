import fs from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { registerUploads, requestBudget, UPLOAD_ROUTE, type FormLimits } from '../../lib/multipart.js';
import type { AppContext } from '../../context.js';
import { redirect } from '../../plugins/views.js';
import { homeOf } from '../../plugins/auth.js';
import { pageParams, makePage } from '../../lib/paging.js';
import type { FieldErrors } from '../../lib/forms.js';
import { PASSWORD_HINT } from '../../domain/password.js';
import { withBlanks } from '../admin/orgs.js';
import { startSession } from '../auth/routes.js';
import { sendStoredFile } from '../files/send.js';
import { uploadRefused, uploadTmpDir } from '../files/routes.js';
import { downloadName, maxBytes } from '../files/service.js';
import * as units from './service.js';
import * as people from './people.js';
import * as accounts from './batchAccounts.js';
import * as supervision from './supervision.js';
import { parsePasted, parseImportFile, IMPORT_MAX_BYTES, IMPORT_MAX_ROWS, type RawRow } from './importer.js';
import { audit } from '../audit/service.js';
import { unitReviewRoutes } from './unitReviewRoutes.js';
import { crumbs, unitAdmin, unitStaff } from './guards.js';

type Body = Record<string, string | undefined>;
type Query = Record<string, string | undefined>;

/** Passwords are never echoed back into a page. */
function keep(b: Body): Body {
  const { password, password2, _csrf, ...rest } = b;
  void password; void password2; void _csrf;
  return rest;
}

/** The flash after a unit resets a password: the new one-time password, and an admin lock if one stands. */
function resetMessage(name: string, r: { password: string; adminLocked: boolean }): string {
  return `“${name}”的密码已重置，新的${people.oneTime(r.password)}${r.adminLocked ? `；该账号${people.ADMIN_LOCKED_NOTE}解锁后方可登录` : ''}`;
}

/**
 * 单位注册, 单位信息, 主管部门, 工作人员, 专业技术人员管理, 批量新增账号 (unit/agency staff) and
 * 下属单位审核 (supervisor staff, ./unitReviewRoutes.ts: the units binding to it; not the
 * declaration stage 单位审核).
 */
export default async function unitRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const fileLimit = maxBytes(ctx, 'doc');
  // Multipart bodies for this plugin's forms only (registration, unit files, import), read
  // strictly (src/lib/multipart.ts). Oversized files are reported per field, not as a 413 page.
  const readStrict = await registerUploads(app, { tmpDir: uploadTmpDir(ctx) });
  const formLimits = (files: Record<string, number>, fields: number, fieldBytes: number): FormLimits =>
    ({ files, fields, fieldBytes, totalBytes: requestBudget(files, fields, fieldBytes, fileLimit) });
  const REGISTER_LIMITS = formLimits({ license: fileLimit, seal: fileLimit }, 20, 2000);
  const ORG_FILE_LIMITS = formLimits({ file: fileLimit }, 2, 1000);
  // The pasted list and the delivery choice of the import page ride along with its file input.
  const IMPORT_LIMITS = formLimits({ file: IMPORT_MAX_BYTES }, 3, 200_000);
  /** Text fields (the last value of each) and files; a refused request comes back as it is. */
  const readForm = async (req: FastifyRequest, limits: FormLimits) => {
    const r = await readStrict(req, limits);
    if (!r.ok) return r;
    const fields: Body = Object.fromEntries(Object.entries(r.fields).map(([k, v]) => [k, v[v.length - 1]]));
    return { ...r, fields };
  };

  const unitOf = (req: FastifyRequest) => units.loadOrg(ctx, req.user!.orgId!);

  // ---- 单位注册 (public) ----
  const registerPage = async (reply: FastifyReply, values: Body, errors: FieldErrors = {}) => {
    const { counties } = await units.regionLists(ctx);
    return reply.page('units/register.njk', {
      title: '单位注册', values: withBlanks(values, ['kind', 'industry', 'location']), errors,
      types: units.UNIT_TYPES, industries: units.INDUSTRIES.map((n) => ({ code: n, name: n })), counties,
      passwordHint: PASSWORD_HINT, fileRule: `支持 jpg、png、pdf，不超过${Math.round(fileLimit / 1024 / 1024)}MB`,
    }, Object.keys(errors).length ? 422 : 200);
  };

  app.get('/units/register', async (req, reply) => {
    if (req.user) return redirect(reply, homeOf(req.user));
    return registerPage(reply, { kind: 'unit' });
  });

  app.post('/units/register', { ...UPLOAD_ROUTE, preHandler: app.limits.strict }, async (req, reply) => {
    if (!req.isMultipart()) return registerPage(reply, keep((req.body ?? {}) as Body), { license: '请上传营业执照彩色扫描件' });
    const form = await readForm(req, REGISTER_LIMITS);
    if (!form.ok) return uploadRefused(reply, form, '/units/register');
    const errors: FieldErrors = {};
    for (const f of form.tooLarge) errors[f] = `文件不能超过${Math.round(fileLimit / 1024 / 1024)}MB`;
    const r = await units.registerUnit(ctx, req, form.fields, { license: form.files.license, seal: form.files.seal });
    if (!r.ok || Object.keys(errors).length) return registerPage(reply, keep(form.fields), { ...(r.ok ? {} : r.errors), ...errors });
    await startSession(req, r.userId, ctx.config.now());
    const note = r.fileErrors.length ? `；${r.fileErrors.join('；')}，请在单位信息中重新上传` : '';
    return reply.flashRedirect('/org/unit', `单位注册成功，请完善单位信息并选择主管部门${note}`, r.fileErrors.length ? 'error' : 'ok');
  });

  // ---- 单位信息 ----
  const infoPage = async (req: FastifyRequest, reply: FastifyReply, values?: Body, errors: FieldErrors = {}) => {
    const org = await unitOf(req);
    const dicts = await ctx.dicts.ready();
    const { regions, counties } = await units.regionLists(ctx, { keep: [org.region_code, org.location] });
    const regionName = new Map(regions.map((r) => [r.code, r.name]));
    const sup = org.supervisor_org_id ? await ctx.db.selectFrom('orgs').select('name').where('id', '=', org.supervisor_org_id).executeTakeFirst() : undefined;
    const pending = await ctx.db
      .selectFrom('supervisor_requests as r').innerJoin('orgs as s', 's.id', 'r.supervisor_org_id')
      .select(['s.name']).where('r.unit_org_id', '=', org.id).where('r.status', '=', 'pending').executeTakeFirst();
    const v = values ?? Object.fromEntries(units.INFO_FIELDS.map((k) => [k, (org as Record<string, unknown>)[k] ?? ''])) as Body;
    return reply.page('units/info.njk', {
      title: '单位信息', breadcrumbs: crumbs('单位信息'), org, errors,
      values: withBlanks(v, ['nature', 'unit_level', 'region_code', 'industry', 'location']),
      missing: await units.missingInfo(ctx, org),
      natures: dicts.options('unit_nature'), unitLevels: dicts.options('unit_level'), regions, counties,
      industries: units.INDUSTRIES.map((n) => ({ code: n, name: n })),
      kindLabel: units.UNIT_TYPES.find((t) => t.code === org.kind)?.name ?? '',
      locationName: org.location ? regionName.get(org.location) ?? org.location : '',
      supervisor: sup?.name ?? null, pendingSupervisor: pending?.name ?? null,
      remarkMax: units.REMARK_MAX,
      fileRule: `支持 jpg、png、pdf，不超过${Math.round(fileLimit / 1024 / 1024)}MB`,
    }, Object.keys(errors).length ? 422 : 200);
  };

  app.get('/org/unit', { preHandler: unitStaff }, async (req, reply) => infoPage(req, reply));

  app.post('/org/unit', { preHandler: unitStaff }, async (req, reply) => {
    const org = await unitOf(req);
    const b = (req.body ?? {}) as Body;
    const r = await units.saveUnitInfo(ctx, org, b);
    if (!r.ok) return infoPage(req, reply, keep(b), r.errors);
    await audit(ctx, req, { action: 'unit_update', objectType: 'org', objectId: org.id });
    return reply.flashRedirect('/org/unit', '单位信息已保存');
  });

  app.get('/org/unit/files/:slot', { preHandler: unitStaff }, async (req, reply) => {
    const slot = (req.params as { slot: string }).slot;
    if (slot !== 'license' && slot !== 'seal') return reply.callNotFound();
    const f = await units.orgFile(ctx, req.user!.orgId!, slot);
    if (!f) return reply.callNotFound();
    return sendStoredFile(req, reply, ctx.blobs, f);
  });

  app.post('/org/unit/files/:slot', { ...UPLOAD_ROUTE, preHandler: unitStaff }, async (req, reply) => {
    const slot = (req.params as { slot: string }).slot;
    if (slot !== 'license' && slot !== 'seal') return reply.callNotFound();
    if (!req.isMultipart()) return reply.flashRedirect('/org/unit', '请选择要上传的文件', 'error');
    const form = await readForm(req, ORG_FILE_LIMITS);
    if (!form.ok) return uploadRefused(reply, form, '/org/unit');
    if (form.tooLarge.length) return reply.flashRedirect('/org/unit', `文件不能超过${Math.round(fileLimit / 1024 / 1024)}MB`, 'error');
    const up = form.files.file;
    if (!up) return reply.flashRedirect('/org/unit', '请选择要上传的文件', 'error');
    const r = await units.replaceOrgFile(ctx, req.user!.orgId!, req.user!.id, slot, up);
    if (!r.ok) return reply.flashRedirect('/org/unit', `${units.ORG_FILE_LABEL[slot]}上传失败：${r.error}`, 'error');
    await audit(ctx, req, { action: 'unit_file', objectType: 'org', objectId: req.user!.orgId!, detail: units.ORG_FILE_LABEL[slot] });
    return reply.flashRedirect('/org/unit', `${units.ORG_FILE_LABEL[slot]}已上传`);
  });

  // ---- 选择或更换主管部门 ----
  const supervisorPage = async (req: FastifyRequest, reply: FastifyReply, error?: string) => {
    const org = await unitOf(req);
    const q = ((req.query as Query).q ?? '').trim().slice(0, 50);
    const current = org.supervisor_org_id ? await ctx.db.selectFrom('orgs').select(['id', 'name']).where('id', '=', org.supervisor_org_id).executeTakeFirst() : undefined;
    const requests = await supervision.requestsOfUnit(ctx, org.id);
    const nature = org.nature ? await ctx.db.selectFrom('dict_items').select(['name', 'extra']).where('dict', '=', 'unit_nature').where('code', '=', org.nature).executeTakeFirst() : undefined;
    return reply.page('units/supervisor.njk', {
      title: '主管部门', breadcrumbs: crumbs('主管部门', { label: '单位信息', href: '/org/unit' }), org, q, error,
      current: current ?? null, status: org.supervisor_status,
      pending: requests.find((r) => r.status === 'pending') ?? null,
      requests: requests.map((r) => ({ ...r, statusLabel: supervision.REQUEST_STATUS_LABEL[r.status] ?? r.status })),
      options: await supervision.supervisorOptions(ctx, q),
      needsSupervisor: org.kind === 'unit' && !!(nature?.extra && JSON.parse(nature.extra).public),
      natureName: nature?.name ?? null,
    }, error ? 422 : 200);
  };

  app.get('/org/unit/supervisor', { preHandler: unitStaff }, async (req, reply) => supervisorPage(req, reply));

  app.post('/org/unit/supervisor', { preHandler: unitStaff }, async (req, reply) => {
    const org = await unitOf(req);
    const r = await supervision.requestSupervisor(ctx, org, Number((req.body as Body).supervisor_org_id), req.user!.id);
    if (!r.ok) return supervisorPage(req, reply, r.error);
    await audit(ctx, req, { action: 'supervisor_request', objectType: 'org', objectId: org.id, detail: `申请主管部门：${r.name}` });
    return reply.flashRedirect('/org/unit/supervisor', `已提交申请，等待“${r.name}”审核。审核通过前，${org.supervisor_org_id ? '原主管部门继续有效，但' : ''}本单位人员暂不能提交需经主管部门审核的申报。`);
  });

  app.post('/org/unit/supervisor/withdraw', { preHandler: unitStaff }, async (req, reply) => {
    const org = await unitOf(req);
    if (!(await supervision.withdrawRequest(ctx, org, req.user!.id))) return reply.flashRedirect('/org/unit/supervisor', '没有等待审核的申请', 'error');
    await audit(ctx, req, { action: 'supervisor_withdraw', objectType: 'org', objectId: org.id });
    return reply.flashRedirect('/org/unit/supervisor', '申请已撤回');
  });

  // ---- 工作人员 ----
  const staffPage = async (req: FastifyRequest, reply: FastifyReply, values: Body = {}, errors: FieldErrors = {}) => {
    const org = await unitOf(req);
    return reply.page('units/staff.njk', {
      title: '工作人员', breadcrumbs: crumbs('工作人员', { label: '单位信息', href: '/org/unit' }), org,
      staff: await people.listStaff(ctx, org.id), isAdmin: req.user!.roles.includes(units.UNIT_ADMIN), values, errors,
    }, Object.keys(errors).length ? 422 : 200);
  };

  app.get('/org/unit/staff', { preHandler: unitStaff }, async (req, reply) => staffPage(req, reply));

  app.post('/org/unit/staff', { preHandler: unitAdmin }, async (req, reply) => {
    const org = await unitOf(req);
    const b = (req.body ?? {}) as Body;
    const r = await people.addStaff(ctx, req, org, b);
    if (!r.ok) return staffPage(req, reply, keep(b), r.errors);
    const link = r.linked ? '已关联该工作人员的个人账号' : '未找到该身份证号注册的个人账号，暂未关联';
    return reply.flashRedirect('/org/unit/staff', `工作人员账号已创建（${link}），${people.oneTime(r.password)}`);
  });

  const staffTarget = async (req: FastifyRequest, reply: FastifyReply) => {
    const s = await people.staffOf(ctx, req.user!.orgId!, Number((req.params as { id: string }).id));
    if (!s) {
      await reply.callNotFound();
      return null;
    }
    if (s.id === req.user!.id) {
      await reply.flashRedirect('/org/unit/staff', '不能对自己的账号执行此操作；修改自己的密码请使用“修改密码”', 'error');
      return null;
    }
    return s;
  };

  app.get('/org/unit/staff/:id/disable', { preHandler: unitAdmin }, async (req, reply) => {
    const s = await staffTarget(req, reply);
    if (!s) return reply;
    return reply.page('components/confirm.njk', {
      title: '停用工作人员账号', message: `确定停用“${s.name}（${s.username}）”的账号吗？停用后不能登录，当前的登录会全部退出。`,
      action: `/org/unit/staff/${s.id}/disable`, cancel: '/org/unit/staff', confirmLabel: '确认停用',
    });
  });

  for (const [act, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post(`/org/unit/staff/:id/${act}`, { preHandler: unitAdmin }, async (req, reply) => {
      const s = await staffTarget(req, reply);
      if (!s) return reply;
      const org = await unitOf(req);
      await people.setStaffDisabled(ctx, req, org, s.id, disabled);
      return reply.flashRedirect('/org/unit/staff', `“${s.name}”的账号已${disabled ? '停用' : '启用'}`);
    });
  }

  app.get('/org/unit/staff/:id/reset-password', { preHandler: unitAdmin }, async (req, reply) => {
    const s = await staffTarget(req, reply);
    if (!s) return reply;
    return reply.page('components/confirm.njk', {
      title: '重置密码', message: `确定重置“${s.name}（${s.username}）”的登录密码吗？将生成新的初始密码，该账号当前的登录会全部退出，下次登录须修改密码。`,
      action: `/org/unit/staff/${s.id}/reset-password`, cancel: '/org/unit/staff', confirmLabel: '确认重置',
    });
  });

  app.post('/org/unit/staff/:id/reset-password', { preHandler: unitAdmin }, async (req, reply) => {
    const s = await staffTarget(req, reply);
    if (!s) return reply;
    const r = await people.resetPassword(ctx, req, await unitOf(req), s.id, 'staff');
    return reply.flashRedirect('/org/unit/staff', resetMessage(s.name, r));
  });

  // ---- 专业技术人员管理 ----
  app.get('/org/people', { preHandler: unitStaff }, async (req, reply) => {
    const query = req.query as Query;
    const q = (query.q ?? '').trim().slice(0, 50);
    const status = query.status === 'locked' ? 'locked' : '';
    const { page, size, offset } = pageParams(query, 20);
    const org = await unitOf(req);
    const r = await people.listPeople(ctx, org.id, { q, status }, offset, size);
    return reply.page('units/people.njk', {
      title: '专业技术人员管理', breadcrumbs: crumbs('专业技术人员管理'), org, q, status, list: makePage(r.rows, r.total, page, size),
    });
  });

  const personTarget = async (req: FastifyRequest, reply: FastifyReply) => {
    const p = await people.personOf(ctx, req.user!.orgId!, Number((req.params as { id: string }).id));
    if (!p) await reply.callNotFound();
    return p ?? null;
  };
  const peopleCrumbs = (label: string) => crumbs(label, { label: '专业技术人员管理', href: '/org/people' });

  const messagePage = (reply: FastifyReply, p: { id: number; name: string }, values: Body, error?: string) =>
    reply.page('units/person-message.njk', {
      title: '发送信息', breadcrumbs: peopleCrumbs('发送信息'), person: p, values, errors: error ? { content: error } : {}, max: people.MESSAGE_MAX,
    }, error ? 422 : 200);

  app.get('/org/people/:id/message', { preHandler: unitStaff }, async (req, reply) => {
    const p = await personTarget(req, reply);
    if (!p) return reply;
    return messagePage(reply, p, {});
  });

  app.post('/org/people/:id/message', { preHandler: unitStaff }, async (req, reply) => {
    const p = await personTarget(req, reply);
    if (!p) return reply;
    const content = String((req.body as Body).content ?? '');
    const err = await people.messagePerson(ctx, await unitOf(req), p.id, content);
    if (err) return messagePage(reply, p, { content }, err);
    return reply.flashRedirect('/org/people', `信息已发送给“${p.name}”`);
  });

  app.get('/org/people/:id/reset-password', { preHandler: unitStaff }, async (req, reply) => {
    const p = await personTarget(req, reply);
    if (!p) return reply;
    return reply.page('components/confirm.njk', {
      title: '重置密码', message: `确定重置“${p.name}（${p.id_masked}）”的登录密码吗？将生成新的初始密码（同时解除密码错误锁定${p.locked_at ? '；该账号已被平台管理员锁定，重置后仍须平台解锁' : ''}），其当前的登录会全部退出，下次登录须修改密码。`,
      action: `/org/people/${p.id}/reset-password`, cancel: '/org/people', confirmLabel: '确认重置',
    });
  });

  app.post('/org/people/:id/reset-password', { preHandler: unitStaff }, async (req, reply) => {
    const p = await personTarget(req, reply);
    if (!p) return reply;
    const r = await people.resetPassword(ctx, req, await unitOf(req), p.id, 'person');
    return reply.flashRedirect('/org/people', resetMessage(p.name, r));
  });

  app.post('/org/people/:id/unlock', { preHandler: unitStaff }, async (req, reply) => {
    const p = await personTarget(req, reply);
    if (!p) return reply;
    const r = await people.unlockPerson(ctx, req, await unitOf(req), p.id);
    if (!r.ok) return reply.flashRedirect('/org/people', `“${p.name}”的账号${r.error}`, 'error');
    return reply.flashRedirect('/org/people', `“${p.name}”的账号已解锁`);
  });

  app.get('/org/people/:id/remove', { preHandler: unitStaff }, async (req, reply) => {
    const p = await personTarget(req, reply);
    if (!p) return reply;
    return reply.page('components/confirm.njk', {
      title: '移除人员', message: `确定将“${p.name}（${p.id_masked}）”移出本单位吗？移除后该人员不再属于本单位，其个人账号和申报资料保留。`,
      action: `/org/people/${p.id}/remove`, cancel: '/org/people', confirmLabel: '确认移除',
    });
  });

  app.post('/org/people/:id/remove', { preHandler: unitStaff }, async (req, reply) => {
    const p = await personTarget(req, reply);
    if (!p) return reply;
    const err = await people.removePerson(ctx, req, await unitOf(req), p.id);
    if (err) return reply.flashRedirect('/org/people', err, 'error');
    return reply.flashRedirect('/org/people', `“${p.name}”已移出本单位`);
  });

  // ---- 批量新增账号 ----
  const importPage = (reply: FastifyReply, data: Record<string, unknown> = {}, status = 200) =>
    reply.page('units/import.njk', { title: '批量新增账号', breadcrumbs: peopleCrumbs('批量新增账号'), max: IMPORT_MAX_ROWS, text: '', delivery: 'print', deliveries: accounts.DELIVERY_LABEL, ...data }, status);

  app.get('/org/people/import', { preHandler: unitStaff }, async (_req, reply) => importPage(reply));

  app.post('/org/people/import', { ...UPLOAD_ROUTE, preHandler: unitStaff }, async (req, reply) => {
    let text = '';
    let delivery: accounts.Delivery;
    let rows: RawRow[];
    if (req.isMultipart()) {
      const form = await readForm(req, IMPORT_LIMITS);
      if (!form.ok) return uploadRefused(reply, form, '/org/people/import');
      text = form.fields.text ?? '';
      delivery = accounts.parseDelivery(form.fields.delivery);
      if (form.tooLarge.length) return importPage(reply, { text, delivery, error: '导入文件不能超过2MB' }, 422);
      if (form.files.file) {
        // At most IMPORT_MAX_BYTES, parsed in memory and never stored.
        const parsed = await parseImportFile(await fs.promises.readFile(form.files.file.path));
        if (!parsed.ok) return importPage(reply, { text, delivery, error: parsed.error }, 422);
        rows = parsed.rows;
      } else rows = parsePasted(text);
    } else {
      const b = (req.body ?? {}) as Body;
      text = String(b.text ?? '');
      delivery = accounts.parseDelivery(b.delivery);
      rows = parsePasted(text);
    }
    const org = await unitOf(req);
    const result = await accounts.importPeople(ctx, req, org, rows, delivery);
    if (result.fatal) return importPage(reply, { text, delivery, error: result.fatal }, 422);
    // Rendered, not redirected: each account's initial password is shown on this response only
    // (never stored in clear; a later visit of the page shows none).
    return importPage(reply, { result, text: '', delivery }, result.created ? 200 : 422);
  });

  await unitReviewRoutes(app, ctx);
}

import zlib from 'node:zlib';
import type { TestApp } from './app.js';
import { createApplicant, createStaff, idNumber, Agent, login } from './app.js';
import { usccCheckChar } from '../../src/domain/uscc.js';
import { seedDemoArchive } from '../../scripts/demo-archive.js';
import { storeFile, attach } from '../../src/features/files/service.js';
import { requiredSlots } from '../../src/domain/plans.js';
import { chinaToday } from '../../src/features/plans/repository.js';

/** One PNG chunk: length, type, data, CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** A valid grayscale PNG of w×h. */
export function makePng(w: number, h: number, shade = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  const raw = Buffer.alloc((w + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw[y * (w + 1) + 1 + x] = (x + y + shade) & 0xff;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}

const stampOf = (t: TestApp) => t.clock.now().toISOString();

export async function org(t: TestApp, values: Record<string, unknown>): Promise<number> {
  const stamp = stampOf(t);
  const row = await t.ctx.db.insertInto('orgs').values({ created_at: stamp, updated_at: stamp, ...values } as any).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export const uscc = (seq: number) => {
  const first = `12530100MB${String(seq).padStart(7, '0')}`;
  return first + usccCheckChar(first);
};

/** 昆明市第一人民医院's 联系电话 (the default 异议受理电话 of its publicities). */
export const UNIT_PHONE = '0871-63638888';

export interface World {
  supervisor: number;
  unit: number;
  committee: number;
  plan: number;
  countyHrb: number;
  cityHrb: number;
  staff: { unit: string; supervisor: string; county: string; city: string; committee: string };
}

/**
 * The Kunming world of the review chain: 昆明市卫生健康委员会 supervising 昆明市第一人民医院
 * (a city-level public hospital in 五华区), the fixture HR bureaus, the 卫生技术 committee
 * with an open plan, and one staff user at each of them.
 */
export async function kunming(t: TestApp, o: { unitLevel?: string; nature?: string; tier?: 'city' | 'province'; supervisorStatus?: string | null; region?: string } = {}): Promise<World> {
  const supervisor = await org(t, { kind: 'supervisor', name: '昆明市卫生健康委员会', region_code: '530100' });
  const unit = await org(t, {
    kind: 'unit', name: '昆明市第一人民医院', uscc: uscc(1), phone: UNIT_PHONE, address: '昆明市五华区西昌路157号', nature: o.nature === undefined ? 'institution' : o.nature || null, unit_level: o.unitLevel ?? 'city',
    region_code: o.region ?? '530102', supervisor_org_id: supervisor, supervisor_status: o.supervisorStatus === undefined ? 'approved' : o.supervisorStatus,
  });
  const committee = (await t.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('name', 'like', '%卫生技术%').executeTakeFirstOrThrow()).id;
  if (o.tier) await t.ctx.db.updateTable('orgs').set({ committee_tier: o.tier }).where('id', '=', committee).execute();
  const countyHrb = (await t.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'hrb').where('region_code', '=', '530102').executeTakeFirstOrThrow()).id;
  const cityHrb = (await t.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'hrb').where('hrb_level', '=', 'city').executeTakeFirstOrThrow()).id;
  const today = chinaToday(t.clock.now());
  const day = (n: number) => new Date(Date.parse(today) + n * 86_400_000).toISOString().slice(0, 10);
  const plan = (
    await t.ctx.db
      .insertInto('plans')
      .values({ committee_org_id: committee, year: Number(today.slice(0, 4)), name: `${today.slice(0, 4)}年度卫生技术高级职称评审`, levels: 'senior_vice,senior_full', opens_at: day(-5), closes_at: day(30), notice: null, created_at: stampOf(t) } as any)
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  await createStaff(t, { username: 'unit_lina', name: '李娜', orgId: unit, roles: '' });
  await createStaff(t, { username: 'sup_zhao', name: '赵强', orgId: supervisor, roles: '' });
  await createStaff(t, { username: 'county_chen', name: '陈静', orgId: countyHrb, roles: '' });
  await createStaff(t, { username: 'city_liu', name: '刘洋', orgId: cityHrb, roles: '' });
  await createStaff(t, { username: 'com_sun', name: '孙丽', orgId: committee, roles: '' });
  return { supervisor, unit, committee, plan, countyHrb, cityHrb, staff: { unit: 'unit_lina', supervisor: 'sup_zhao', county: 'county_chen', city: 'city_liu', committee: 'com_sun' } };
}

/** An applicant of the unit with a complete archive (profile, sections, photo, ID scans). */
export async function readyApplicant(t: TestApp, unitId: number, o: { name?: string; seq?: string; phone?: string; birth?: string } = {}) {
  const name = o.name ?? '张伟';
  const a = await createApplicant(t, { name, id: idNumber(o.birth ?? '19850612', o.seq ?? '231'), phone: o.phone ?? '13800138000', unitOrgId: unitId });
  await seedDemoArchive(t.ctx, [{ id: a.userId, name, unitId }]);
  const photo = await storeFile(t.ctx, a.userId, { filename: '照片.png', buffer: makePng(390, 567) }, 'photo');
  if (!photo.ok) throw new Error(photo.error);
  await attach(t.ctx, a.userId, 'profile', a.userId, 'avatar', photo.fileId);
  for (const [slot, shade] of [['id_front', 1], ['id_back', 2]] as const) {
    const f = await storeFile(t.ctx, a.userId, { filename: `${slot}.png`, buffer: makePng(200, 120, shade) }, 'doc');
    if (!f.ok) throw new Error(f.error);
    await attach(t.ctx, a.userId, 'profile', a.userId, slot, f.fileId);
  }
  return a;
}

/** Puts a file into every required slot of the applicant's declaration. */
export async function fillDeclarationSlots(t: TestApp, userId: number, declId: number, plan: { required_slots: string | null }) {
  let shade = 10;
  for (const s of requiredSlots(plan)) {
    const f = await storeFile(t.ctx, userId, { filename: `${s.label}.png`, buffer: makePng(100, 140, shade++) }, 'doc');
    if (!f.ok) throw new Error(f.error);
    await attach(t.ctx, userId, 'declaration', declId, s.key, f.fileId);
  }
}

/** The applicant declares to the world's plan through the pages, as a person would. Returns the declaration id. */
export async function declareThroughUi(t: TestApp, agent: import('./app.js').Agent, w: World, userId: number, specialty = '心血管内科'): Promise<number> {
  const dicts = await t.ctx.dicts.ready();
  const title = dicts.options('titles').find((o) => o.name.includes('副主任医师'))!.name;
  await agent.get('/me/declaration');
  const cover = await agent.post('/me/declaration/cover', { plan_id: String(w.plan), level: 'senior_vice', title, specialty, category: 'normal' });
  if (cover.statusCode !== 303) throw new Error(`cover refused: ${/class="notice error"[^>]*>([^<]*)/.exec(cover.body)?.[1] ?? cover.statusCode}`);
  const d = await t.ctx.db.selectFrom('declarations').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  const plan = await t.ctx.db.selectFrom('plans').selectAll().where('id', '=', d.plan_id).executeTakeFirstOrThrow();
  await fillDeclarationSlots(t, userId, d.id, plan);
  return d.id;
}

/** Submits (or resubmits) the applicant's current declaration from step 4 (`extra`: more ticked boxes, e.g. confirm_unchanged). */
export async function submitThroughUi(agent: import('./app.js').Agent, declId: number, extra: Record<string, string> = {}) {
  const page = await agent.get('/me/declaration?step=4');
  const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1];
  if (!token) throw new Error('no submit form on step 4');
  const res = await agent.post('/me/declaration/submit', { declaration_id: String(declId), token, pledge: '1', ...extra });
  if (res.headers.location !== `/me/declaration/done?id=${declId}`) throw new Error(`submit refused → ${res.headers.location}`);
}

/** A ready applicant (the seed archive: name 张伟 or 王芳) who declared to the world's plan and submitted, through the pages. */
export async function submittedDeclaration(t: TestApp, w: World, o: { name?: string; seq?: string; phone?: string } = {}) {
  const user = await readyApplicant(t, w.unit, o);
  const agent = new Agent(t);
  await login(agent, 'applicant', user.phone);
  const id = await declareThroughUi(t, agent, w, user.userId);
  await submitThroughUi(agent, id);
  return { id, agent, user };
}

/** The committee's e-review approved: status and stage set directly (the chain has its own tests). */
export async function approveByCommittee(t: TestApp, declarationId: number): Promise<void> {
  const d = await t.ctx.db.selectFrom('declarations').select('route').where('id', '=', declarationId).executeTakeFirstOrThrow();
  await t.ctx.db.updateTable('declarations').set({ status: 'approved', stage: JSON.parse(d.route!).length - 1 }).where('id', '=', declarationId).execute();
}

/**
 * Another applicant of the same unit with a declaration like `fromId` (same plan, route, stage,
 * status and version), inserted directly: for tests about many declarations, not about filling one.
 */
export async function likeDeclaration(t: TestApp, fromId: number, name: string, seq: string) {
  const src = await t.ctx.db.selectFrom('declarations').selectAll().where('id', '=', fromId).executeTakeFirstOrThrow();
  const owner = await t.ctx.db.selectFrom('users').select('unit_org_id').where('id', '=', src.user_id).executeTakeFirstOrThrow();
  const user = await createApplicant(t, { name, id: idNumber('19860101', seq), phone: `1370000${seq.padStart(4, '0')}`, unitOrgId: owner.unit_org_id ?? undefined });
  const { id: _id, ...rest } = src;
  const row = await t.ctx.db.insertInto('declarations').values({ ...rest, user_id: user.userId, submit_token: null }).returning('id').executeTakeFirstOrThrow();
  const stages = await t.ctx.db.selectFrom('declaration_stages').selectAll().where('declaration_id', '=', fromId).execute();
  await t.ctx.db.insertInto('declaration_stages').values(stages.map(({ declaration_id: _d, ...s }) => ({ ...s, declaration_id: row.id }))).execute();
  return { id: row.id, user };
}

/**
 * A 中小学教师 plan (issue #16) of 昆明市中小学高级教师评审委员会, open now, with the series
 * settings given (migration 0026 columns). Returns its id and the committee's.
 */
export async function teacherPlan(t: TestApp, settings: { theory_pass_mark?: number | null; max_representative?: number | null; min_study_hours?: number | null; cnki_required?: number } = {}) {
  const committee = (await t.ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'committee').where('name', '=', '昆明市中小学高级教师评审委员会').executeTakeFirstOrThrow()).id;
  const today = chinaToday(t.clock.now());
  const day = (n: number) => new Date(Date.parse(today) + n * 86_400_000).toISOString().slice(0, 10);
  const plan = (
    await t.ctx.db
      .insertInto('plans')
      .values({ committee_org_id: committee, year: Number(today.slice(0, 4)), name: `${today.slice(0, 4)}年度中小学高级教师评审`, series_code: 'S22', levels: 'senior_vice', opens_at: day(-5), closes_at: day(30), notice: null, ...settings, created_at: stampOf(t) } as any)
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  return { plan, committee };
}

/** The 中小学教师 cover of a teacher plan, through the page. */
export const TEACHER_COVER = { level: 'senior_vice', title: '中小学教师 - 高级教师', specialty: '中学数学', category: 'normal' };

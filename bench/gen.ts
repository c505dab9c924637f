/**
 * bench/gen — a realistic dataset for the load bench (issue #8), written straight into a fresh
 * data dir: the app's own migrations and dictionaries (buildApp), then big better-sqlite3
 * transactions (not HTTP, which would take hours). Defaults: 20 000 applicants with filled
 * archives (profile + ~10 section rows each, validated by the registry's own rules), 5 000
 * declarations spread over the stages with their route stages, versions (built by the app's
 * buildSnapshot), workflow events and messages, and a pool of real JPEG/PNG/PDF files on disk.
 *
 * ID numbers and phones are encrypted with the data dir's own master key through src/lib/pii.ts,
 * so logins work. Every account has the one bench password, hashed ONCE with argon2id and the
 * hash reused for all users (hashing 20 000 times would take minutes and prove nothing).
 * Accounts for bench/load.ts are listed in DATA_DIR/bench-accounts.json (synthetic people).
 *
 * Usage: node --import tsx bench/gen.ts [DATA_DIR] [--applicants 20000] [--declarations 5000]
 *          [--blobs 3000] [--seed 8] [--force]   (--force empties an existing data dir first)
 * DATA_DIR defaults to $TMPDIR/zhicheng-bench.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import type SqliteDatabase from 'better-sqlite3';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openSqlite } from '../src/db/index.js';
import { hashPassword } from '../src/lib/passwords.js';
import { idColumns, phoneColumns } from '../src/lib/pii.js';
import { idCheckChar } from '../src/domain/idcard.js';
import { usccCheckChar } from '../src/domain/uscc.js';
import { SECTIONS, sectionByKey } from '../src/domain/sections.js';
import { validateRow, validateFields } from '../src/domain/sectionRules.js';
import { PROFILE_FIELDS, profileExtraErrors } from '../src/domain/profile.js';
import { requiredSlots } from '../src/domain/plans.js';
import { sniff } from '../src/domain/images.js';
import { LEVEL_NAMES } from '../src/domain/declaration.js';
import type { RouteStage } from '../src/domain/route.js';
import { chinaToday } from '../src/features/plans/repository.js';
import { routeFor, buildSnapshot, coverColumns, getPlan, type Cover, type Declaration } from '../src/features/declaration/service.js';
import { titleOptions } from '../src/features/declaration/cover.js';
import { rng, personName, phoneOf, sectionRow, rowCounts, profileForm, ID_REGIONS, type Sector, type Vocab, type Person } from './data.js';

export const BENCH_PASSWORD = 'Bench#2026pass';

// ---------------------------------------------------------------------------------------
// Arguments

function args(argv: string[]) {
  const out = { dir: '', applicants: 20_000, declarations: 5_000, blobs: 3_000, seed: 8, force: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a} needs a whole number`);
      return n;
    };
    if (a === '--applicants') out.applicants = num();
    else if (a === '--declarations') out.declarations = num();
    else if (a === '--blobs') out.blobs = num();
    else if (a === '--seed') out.seed = num();
    else if (a === '--force') out.force = true;
    else if (!a.startsWith('--') && !out.dir) out.dir = a;
    else throw new Error(`unknown argument ${a}`);
  }
  // Default: where bench/run.ts and bench/load.ts look for it.
  out.dir ||= path.join(os.tmpdir(), 'zhicheng-bench');
  out.declarations = Math.min(out.declarations, out.applicants);
  out.blobs = Math.max(out.blobs, 3);
  return out;
}

const opt = args(process.argv.slice(2));
const dataDir = path.resolve(opt.dir);
if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length) {
  // Only something that looks like a data dir (or that the user named with --force) is emptied.
  if (!opt.force) throw new Error(`${dataDir} is not empty (use --force to empty it)`);
  if (!fs.existsSync(path.join(dataDir, 'zhicheng.db')) && !fs.existsSync(path.join(dataDir, 'bench-accounts.json'))) throw new Error(`${dataDir} does not look like a data dir; refusing to empty it`);
  fs.rmSync(dataDir, { recursive: true, force: true });
}

const t0 = performance.now();
const lap = (what: string) => console.log(`  ${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const r = rng(opt.seed);
const now = new Date();
const today = chinaToday(now);
const thisYear = Number(today.slice(0, 4));
const iso = (ms: number) => new Date(ms).toISOString();
const DAY = 86_400_000;
const dayOf = (n: number) => new Date(Date.parse(today) + n * DAY).toISOString().slice(0, 10);

// The app itself: migrations, dictionaries, master key, and a context for routeFor/buildSnapshot.
const config = loadConfig({ DATA_DIR: dataDir, NODE_ENV: 'production', LOG_LEVEL: 'warn' });
const { app, ctx } = await buildApp(config);
const dicts = await ctx.dicts.ready();
const raw: SqliteDatabase.Database = openSqlite(config.dbFile);
const stamp = now.toISOString();
const hash = await hashPassword(BENCH_PASSWORD); // once: every bench account shares it
console.log(`bench/gen → ${dataDir}: ${opt.applicants} applicants, ${opt.declarations} declarations, ${opt.blobs} distinct files (seed ${opt.seed})`);

// ---------------------------------------------------------------------------------------
// Vocabulary from the loaded dictionaries

const SECTORS: Sector[] = ['health', 'education', 'construction', 'economy'];
function leaves(dict: 'major' | 'specialty', terms: string[]): string[] {
  const found = [...new Set(terms.flatMap((t) => dicts.searchTree(dict, t, 40)))];
  return found.length ? found : dicts.searchTree(dict, dict === 'major' ? '学' : '技术', 40);
}
const vocab: Vocab = {
  options: (d) => dicts.options(d).map((o) => o.name),
  majors: { health: leaves('major', ['临床医学', '护理', '医学']), education: leaves('major', ['教育', '数学', '汉语言']), construction: leaves('major', ['土木', '建筑']), economy: leaves('major', ['经济', '会计', '财务']) },
  specialties: { health: leaves('specialty', ['临床', '护理', '卫生']), education: leaves('specialty', ['教育', '中学', '小学']), construction: leaves('specialty', ['建筑', '土木', '工程']), economy: leaves('specialty', ['经济', '会计']) },
  titles: Object.fromEntries(SECTORS.map((s) => {
    const word = { health: '卫生', education: '教师', construction: '工程', economy: '经济' }[s];
    const all = dicts.options('titles').map((o) => o.name);
    const mine = all.filter((n) => n.includes(word) && !/正高|高级/.test(n));
    return [s, mine.length ? mine : all.slice(0, 20)];
  })) as Record<Sector, string[]>,
  committees: dicts.options('committees').map((o) => o.name),
};

// ---------------------------------------------------------------------------------------
// Prepared statements

const ins = {
  org: raw.prepare(`insert into orgs (kind, name, code, region_code, uscc, nature, unit_level, supervisor_org_id, supervisor_status, address, phone, contact, created_at, updated_at)
                    values (@kind, @name, @code, @region_code, @uscc, @nature, @unit_level, @supervisor_org_id, @supervisor_status, @address, @phone, @contact, @stamp, @stamp)`),
  user: raw.prepare(`insert into users (kind, username, name, id_enc, id_hmac, id_masked, phone_enc, phone_hmac, phone_masked, password_hash, org_id, roles, unit_org_id, password_changed_at, created_at, updated_at)
                     values (@kind, @username, @name, @id_enc, @id_hmac, @id_masked, @phone_enc, @phone_hmac, @phone_masked, @hash, @org_id, @roles, @unit_org_id, @stamp, @created, @created)`),
  profile: raw.prepare('insert into profiles (user_id, data, updated_at) values (?, ?, ?)'),
  row: raw.prepare('insert into section_rows (user_id, section, position, data, created_at, updated_at) values (?, ?, ?, ?, ?, ?)'),
  file: raw.prepare('insert into files (user_id, sha256, size, mime, original_name, width, height, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)'),
  attach: raw.prepare('insert into attachments (user_id, owner_type, owner_id, slot, file_id, created_at) values (?, ?, ?, ?, ?, ?)'),
  plan: raw.prepare(`insert into plans (committee_org_id, year, name, series_code, levels, opens_at, closes_at, notice, created_at) values (?, ?, ?, ?, 'senior_vice,senior_full', ?, ?, ?, ?)`),
  notice: raw.prepare('insert into notices (org_id, plan_id, title, body, author_user_id, published_at, created_at) values (?, ?, ?, ?, null, ?, ?)'),
  decl: raw.prepare(`insert into declarations (user_id, plan_id, year, status, cover, cover_level, cover_level_name, route, stage, returns_count, submit_token, submitted_at, unit_opinion, unit_verified_at, publicity_state, created_at, updated_at)
                     values (@user_id, @plan_id, @year, @status, @cover, @cover_level, @cover_level_name, @route, @stage, @returns_count, @submit_token, @submitted_at, @unit_opinion, @unit_verified_at, @publicity_state, @created_at, @updated_at)`),
  stage: raw.prepare('insert into declaration_stages (declaration_id, idx, org_id, kind) values (?, ?, ?, ?)'),
  event: raw.prepare('insert into workflow_events (declaration_id, actor_user_id, org_id, stage, action, opinion, from_status, to_status, data, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
  message: raw.prepare('insert into messages (user_id, type, content, read_at, created_at) values (?, ?, ?, ?, ?)'),
  version: raw.prepare('insert into declaration_versions (declaration_id, no, snapshot, sha256, created_at) values (?, ?, ?, ?, ?)'),
  setVersion: raw.prepare('update declarations set version_id = ? where id = ?'),
};
const orgId = (name: string) => (raw.prepare('select id from orgs where name = ?').get(name) as { id: number } | undefined)?.id;

// ---------------------------------------------------------------------------------------
// Organisations: supervisors, units in Kunming's counties, the fixtures' HR bureaus and committees

const SECTOR_ORG: Record<Sector, { supervisor: string | null; committee: string; nature: string; share: number }> = {
  health: { supervisor: '昆明市卫生健康委员会', committee: 'KMG02', nature: 'institution', share: 0.35 },
  education: { supervisor: '昆明市教育体育局', committee: 'KMG01', nature: 'institution', share: 0.3 },
  construction: { supervisor: '昆明市住房和城乡建设局', committee: 'KMG05', nature: 'soe', share: 0.15 },
  economy: { supervisor: null, committee: 'KMG09', nature: 'non_public', share: 0.2 },
};
const countyHrbs = raw.prepare(`select o.id, o.region_code, r.name as region from orgs o join regions r on r.code = o.region_code where o.kind = 'hrb' and o.hrb_level = 'county' order by o.id`).all() as { id: number; region_code: string; region: string }[];
const regions = [...new Map(countyHrbs.map((h) => [h.region_code, h.region])).entries()];

interface Unit { id: number; name: string; sector: Sector; staffId: number }
const units: Unit[] = [];
const supervisors = new Map<string, number>();
const staffOf = new Map<number, number[]>(); // org id → staff user ids
const staffAccounts: { username: string; orgId: number; orgKind: string }[] = [];
let staffSeq = 0;

function addStaff(username: string, org: number, orgKind: string, roles = '') {
  const male = r.chance(0.5);
  const id = Number(ins.user.run({
    kind: 'staff', username, name: personName(r, male), id_enc: null, id_hmac: null, id_masked: null, phone_enc: null, phone_hmac: null, phone_masked: null,
    hash, org_id: org, roles, unit_org_id: null, stamp, created: stamp,
  }).lastInsertRowid);
  if (!staffOf.has(org)) staffOf.set(org, []);
  staffOf.get(org)!.push(id);
  staffAccounts.push({ username, orgId: org, orgKind });
  staffSeq++;
  return id;
}

const unitCount = Math.max(SECTORS.length, Math.round(opt.applicants / 50));
const plans = new Map<Sector, { id: number; committeeId: number; committee: string; name: string; series: string | null }>();
raw.transaction(() => {
  const platform = (raw.prepare(`select id from orgs where kind = 'platform'`).get() as { id: number }).id;
  addStaff('bench_admin', platform, 'platform', 'admin');
  for (const s of SECTORS) {
    const so = SECTOR_ORG[s];
    if (so.supervisor && !supervisors.has(so.supervisor)) {
      const id = Number(ins.org.run({ kind: 'supervisor', name: so.supervisor, code: null, region_code: '530100', uscc: null, nature: null, unit_level: null, supervisor_org_id: null, supervisor_status: null, address: '昆明市呈贡区锦绣大街', phone: '0871-63111111', contact: null, stamp }).lastInsertRowid);
      supervisors.set(so.supervisor, id);
      for (let m = 1; m <= 6; m++) addStaff(`bench_sup_${supervisors.size}_${m}`, id, 'supervisor');
    }
    const c = raw.prepare('select id, name, series_code from orgs where code = ?').get(so.committee) as { id: number; name: string; series_code: string | null };
    const name = `${thisYear}年度${c.name}评审`;
    const pid = Number(ins.plan.run(c.id, thisYear, name, c.series_code, dayOf(-20), dayOf(40), '请按申报通知要求如实填报，按时提交。', stamp).lastInsertRowid);
    ins.notice.run(c.id, pid, `关于开展${thisYear}年度${c.name.replace(/评审委员会$/, '')}职称评审工作的通知`, '各有关单位：现将本年度职称评审工作有关事项通知如下……', stamp, stamp);
    plans.set(s, { id: pid, committeeId: c.id, committee: c.name, name, series: c.series_code });
    for (let m = 1; m <= 6; m++) addStaff(`bench_com_${so.committee}_${m}`, c.id, 'committee');
  }
  for (const h of countyHrbs) for (let m = 1; m <= 3; m++) addStaff(`bench_hrb_${h.id}_${m}`, h.id, 'hrb');

  const HEALTH = ['人民医院', '中医医院', '妇幼保健院', '第二人民医院', '疾病预防控制中心', '社区卫生服务中心', '口腔医院', '精神卫生中心'];
  const SCHOOL = ['第一中学', '第二中学', '实验中学', '第一小学', '实验小学', '职业高级中学', '民族中学', '幼儿园'];
  const BUILD = ['建设工程有限公司', '市政工程有限公司', '建筑设计研究院有限公司', '路桥工程有限公司', '城建投资有限公司'];
  const FIRM = ['科技有限公司', '贸易有限公司', '实业有限公司', '物流有限公司', '会计师事务所有限公司', '咨询服务有限公司'];
  const BRAND = ['滇峰', '春城', '金马', '碧鸡', '翠湖', '云岭', '高原', '彩云', '金殿', '大观', '长虫山', '西山', '宝象', '螺峰'];
  const seen = new Map<string, number>();
  let usccSeq = 1;
  for (let u = 0; u < unitCount; u++) {
    // Sectors by share, interleaved so a small dataset still has every kind of route.
    const x = (u * 0.618034) % 1;
    let acc = 0;
    const sector = SECTORS.find((s) => (acc += SECTOR_ORG[s].share) > x) ?? 'economy';
    const so = SECTOR_ORG[sector];
    const [region, regionName] = regions[u % regions.length]!;
    const county = u % 5 < 2; // 40% county-level, 60% city-level
    const place = county ? regionName.replace(/(彝族|回族|苗族|自治)+县$/, '县') : '昆明市';
    let name = sector === 'health' ? `${place}${r.pick(HEALTH)}` : sector === 'education' ? `${place}${r.pick(SCHOOL)}` : `${sector === 'construction' ? '昆明' : '云南'}${r.pick(BRAND)}${r.pick(sector === 'construction' ? BUILD : FIRM)}`;
    const dup = (seen.get(name) ?? 0) + 1;
    seen.set(name, dup);
    if (dup > 1) name = sector === 'health' || sector === 'education' ? name.replace(/(人民医院|中医医院|中学|小学|幼儿园|中心|医院)$/, `第${dup}$1`) : name.replace(/有限公司$/, `第${dup}分公司`);
    const first17 = `${so.nature === 'non_public' ? '91530100' : '12530100'}MB${String(usccSeq++).padStart(7, '0')}`;
    const id = Number(ins.org.run({
      kind: 'unit', name, code: null, region_code: region, uscc: first17 + usccCheckChar(first17), nature: so.nature, unit_level: county ? 'county' : 'city',
      supervisor_org_id: so.supervisor ? supervisors.get(so.supervisor)! : null, supervisor_status: so.supervisor ? 'approved' : null,
      address: `${regionName}${r.pick(['人民路', '建设路', '环城路', '金碧路'])}${r.int(1, 500)}号`, phone: `0871-6${r.int(1000000, 9999999)}`, contact: personName(r, r.chance(0.5)), stamp,
    }).lastInsertRowid);
    units.push({ id, name, sector, staffId: addStaff(`bench_unit_${u + 1}`, id, 'unit') });
  }
})();
lap(`${units.length} units, ${supervisors.size} supervisors, ${plans.size} open plans, ${staffSeq} staff`);

// ---------------------------------------------------------------------------------------
// Files: a pool of distinct real blobs on disk (content-addressed like the app's uploads)

interface Blob { sha: string; size: number; mime: string; width: number | null; height: number | null; ext: string }
const pool: { portrait: Blob[]; scan: Blob[]; pdf: Blob[] } = { portrait: [], scan: [], pdf: [] };

function storeBlob(buf: Buffer): Blob {
  const s = sniff(buf);
  if (!s) throw new Error('generated a file the app would refuse');
  const sha = crypto.createHash('sha256').update(buf).digest('hex');
  const dir = path.join(config.uploadDir, sha.slice(0, 2));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, sha), buf);
  return { sha, size: buf.length, mime: s.mime, width: s.width ?? null, height: s.height ?? null, ext: s.ext };
}

/** A 330×480 ID photo (3.3 cm × 4.8 cm): plain background, head and shoulders, varied colours. */
function portraitBase(n: number): Buffer {
  const w = 330, h = 480;
  const png = new PNG({ width: w, height: h });
  const bg = [[67, 142, 219], [255, 255, 255], [200, 30, 40]][n % 3]!;
  const skin = [225 - ((n * 7) % 40), 190 - ((n * 5) % 30), 160 - ((n * 3) % 25)];
  const cloth = [(n * 37) % 120, (n * 53) % 120, 40 + ((n * 11) % 100)];
  const rx = 62 + (n % 5) * 4, ry = 84 + (n % 4) * 5;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const head = ((x - 165) / rx) ** 2 + ((y - 190) / ry) ** 2 <= 1;
    const body = y > 300 && Math.abs(x - 165) < 40 + (y - 300) * 0.9;
    const c = head ? skin : body ? cloth : bg;
    const i = (y * w + x) * 4;
    png.data[i] = c[0]!; png.data[i + 1] = c[1]!; png.data[i + 2] = c[2]!; png.data[i + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: 2 });
}

/** A 480×300 scan (ID card, certificate): light paper, text-like bars, a little noise. */
function scanBase(n: number): Buffer {
  const w = 480, h = 300;
  const data = Buffer.alloc(w * h * 4);
  const s = rng(1000 + n);
  const bars = Array.from({ length: 9 }, (_, k) => ({ y: 40 + k * 26, x0: 40 + s.int(0, 40), x1: 200 + s.int(0, 240) }));
  for (let y = 0; y < h; y++) {
    const bar = bars.find((b) => y >= b.y && y < b.y + 9);
    for (let x = 0; x < w; x++) {
      const ink = !!bar && x >= bar.x0 && x < bar.x1 && (x >> 3) % 3 !== 0;
      const v = ink ? 40 + s.int(0, 30) : 235 - s.int(0, 12);
      const i = (y * w + x) * 4;
      data[i] = v; data[i + 1] = v - (ink ? 0 : 6); data[i + 2] = v - (ink ? 0 : 18); data[i + 3] = 255;
    }
  }
  return Buffer.from(jpeg.encode({ data, width: w, height: h }, 60).data);
}

// Encoding thousands of images in pure JS would take minutes: a few dozen rendered bases, each
// copy made distinct (its own sha, its own blob) by a metadata segment, as cameras and scanners
// write them. Every blob is still a complete image the app's sniff() accepts.
const BASES = 8;
const portraitBases = Array.from({ length: BASES }, (_, n) => portraitBase(n));
const scanBases = Array.from({ length: BASES }, (_, n) => scanBase(n));

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}
/** A base photo with a tEXt chunk after IHDR (8-byte signature + 25-byte IHDR chunk). */
function portrait(n: number): Buffer {
  const base = portraitBases[n % BASES]!;
  return Buffer.concat([base.subarray(0, 33), pngChunk('tEXt', Buffer.from(`Comment\0photo ${n}`, 'latin1')), base.subarray(33)]);
}
/** A base scan with a COM segment after SOI. */
function scan(n: number): Buffer {
  const base = scanBases[n % BASES]!;
  const text = Buffer.from(`scan ${n}`, 'latin1');
  const seg = Buffer.alloc(4);
  seg[0] = 0xff; seg[1] = 0xfe; seg.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([base.subarray(0, 2), seg, text, base.subarray(2)]);
}

/** A one-page PDF (certificate, pledge, publicity report) with a line of text. */
function pdf(n: number): Buffer {
  const text = `Bench document ${n} - ${crypto.randomBytes(6).toString('hex')}`;
  const stream = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

const third = Math.ceil(opt.blobs / 3);
for (let n = 0; n < third; n++) pool.portrait.push(storeBlob(portrait(n)));
for (let n = 0; n < third; n++) pool.scan.push(storeBlob(scan(n)));
for (let n = 0; n < opt.blobs - 2 * third || n < 1; n++) pool.pdf.push(storeBlob(pdf(n)));
lap(`${pool.portrait.length + pool.scan.length + pool.pdf.length} files on disk`);

let fileRows = 0;
function fileRow(userId: number, b: Blob, name: string, created: string): number {
  fileRows++;
  return Number(ins.file.run(userId, b.sha, b.size, b.mime, `${name}.${b.ext}`, b.width, b.height, created).lastInsertRowid);
}
const doc = () => (r.chance(0.6) ? r.pick(pool.scan) : r.pick(pool.pdf));

// ---------------------------------------------------------------------------------------
// Applicants with their archives

interface Applicant { id: number; phone: string; unit: Unit; person: Person }
const applicants: Applicant[] = [];
const usedIds = new Set<string>();
const ROW_SLOTS: Record<string, string> = { titles: 'certificate', educations: 'diploma', work: 'contract' };
let rowCount = 0;
const ctxRules = { today, dicts };
const declaredSet = new Set<number>();
for (let k = 0; k < opt.declarations; k++) declaredSet.add(Math.floor((k * opt.applicants) / opt.declarations));

const BATCH = 2000;
for (let start = 0; start < opt.applicants; start += BATCH) {
  raw.transaction(() => {
    for (let i = start; i < Math.min(opt.applicants, start + BATCH); i++) {
      const unit = units[i % units.length]!;
      const male = r.chance(0.5);
      const birthYear = r.int(1966, 1995);
      let idNo = '';
      do {
        const seq = String(r.int(0, 99) * 10 + (male ? 2 * r.int(0, 4) + 1 : 2 * r.int(0, 4))).padStart(3, '0');
        const first17 = `${r.pick(ID_REGIONS)}${birthYear}${String(r.int(1, 12)).padStart(2, '0')}${String(r.int(1, 28)).padStart(2, '0')}${seq}`;
        idNo = first17 + idCheckChar(first17);
      } while (usedIds.has(idNo));
      usedIds.add(idNo);
      const phone = phoneOf(i);
      const person: Person = { name: personName(r, male), male, birthYear, sector: unit.sector, unitName: unit.name, today };
      const created = iso(now.getTime() - r.int(30, 700) * DAY);
      const id = Number(ins.user.run({
        kind: 'applicant', username: null, name: person.name, ...idColumns(ctx.secrets, idNo), ...phoneColumns(ctx.secrets, phone),
        hash, org_id: null, roles: '', unit_org_id: unit.id, stamp, created,
      }).lastInsertRowid);
      applicants.push({ id, phone, unit, person });

      const pf = profileForm(i, person, vocab, r, unit.id);
      const p = validateFields(PROFILE_FIELDS, pf, ctxRules);
      Object.assign(p.errors, profileExtraErrors(p.values));
      if (Object.keys(p.errors).length) throw new Error(`profile of applicant ${i}: ${JSON.stringify(p.errors)}`);
      ins.profile.run(id, JSON.stringify(p.values), created);

      const declared = declaredSet.has(i);
      const counts = rowCounts(r);
      for (const def of SECTIONS) {
        const n = counts[def.key] ?? 0;
        for (let k = 0; k < n; k++) {
          const input = sectionRow(def.key, k, n, person, vocab, r);
          const { values, errors } = validateRow(def, input, ctxRules);
          if (Object.keys(errors).length) throw new Error(`${def.key} row of applicant ${i}: ${JSON.stringify(errors)} from ${JSON.stringify(input)}`);
          // As createRow stores it: the level of a 资格名称 is derived once.
          if (def.key === 'titles' && typeof values.title_name === 'string') values.title_level = dicts.titleLevel(values.title_name) ?? null;
          const rowId = Number(ins.row.run(id, def.key, k + 1, JSON.stringify(values), created, created).lastInsertRowid);
          rowCount++;
          const slot = ROW_SLOTS[def.key];
          if (slot && declared && r.chance(0.7)) ins.attach.run(id, 'row', rowId, slot, fileRow(id, doc(), sectionByKey(def.key)!.attachments[0]!.label, created), created);
        }
      }
      // Photo and ID scans: everyone who declares, and half of the others.
      if (declared || r.chance(0.5)) {
        ins.attach.run(id, 'profile', id, 'avatar', fileRow(id, r.pick(pool.portrait), '照片', created), created);
        ins.attach.run(id, 'profile', id, 'id_front', fileRow(id, r.pick(pool.scan), '身份证人像面', created), created);
        ins.attach.run(id, 'profile', id, 'id_back', fileRow(id, r.pick(pool.scan), '身份证国徽面', created), created);
      }
    }
  })();
}
lap(`${applicants.length} applicants, ${rowCount} section rows`);

// ---------------------------------------------------------------------------------------
// Declarations over the stages

type Target = 'draft' | 'unit' | 'supervisor' | 'hrb_county' | 'committee' | 'returned' | 'approved' | 'passed';
const SHARES: [Target, number][] = [['draft', 0.2], ['unit', 0.18], ['supervisor', 0.16], ['hrb_county', 0.1], ['committee', 0.18], ['returned', 0.08], ['approved', 0.05], ['passed', 0.05]];
const routes = new Map<string, RouteStage[]>();
const covers = new Map<string, string[]>();
const planRows = new Map<number, NonNullable<Awaited<ReturnType<typeof getPlan>>>>();
for (const p of plans.values()) planRows.set(p.id, (await getPlan(ctx, p.id))!);

async function routeOf(a: Applicant, planId: number): Promise<RouteStage[]> {
  const key = `${a.unit.id}:${planId}`;
  if (!routes.has(key)) {
    const res = await routeFor(ctx, a.id, planRows.get(planId)!);
    if (!res.ok) throw new Error(`route of ${a.unit.name}: ${res.error} ${res.detail}`);
    routes.set(key, res.stages);
  }
  return routes.get(key)!;
}
async function titlesFor(planId: number, level: string): Promise<string[]> {
  const key = `${planId}:${level}`;
  if (!covers.has(key)) covers.set(key, await titleOptions(ctx, planRows.get(planId)!, level));
  return covers.get(key)!;
}

const OPINION = (name: string) => JSON.stringify({
  evaluation: `${name}同志政治立场坚定，业务能力强，工作勤勉，年度考核均为合格以上，符合申报条件。`, method: '单位推荐', scope: '科室及院（校、公司）领导班子成员共25人',
  recommendation: '同意推荐', formation: '经单位职称推荐委员会集体研究，同意推荐。', publicity: '经公示5个工作日，无异议。',
});
const RETURN_SECTIONS = ['work', 'summaries', 'papers', 'assessments'];

interface Made { declId: number; applicant: Applicant; planId: number; status: string; stage: number; versions: number; route: RouteStage[]; created: number; cover: Cover; resubmitted: boolean }
const made: Made[] = [];
const tally: Record<string, number> = {};
const declaredApplicants = applicants.filter((_, i) => declaredSet.has(i));
for (const a of declaredApplicants) {
  const plan = plans.get(a.unit.sector)!;
  const route = await routeOf(a, plan.id);
  let target: Target = 'draft';
  for (let tries = 0; tries < 8; tries++) {
    let x = r.next();
    target = SHARES.find(([, s]) => (x -= s) < 0)?.[0] ?? 'passed';
    if (!['supervisor', 'hrb_county'].includes(target) || route.some((s) => s.kind === target)) break;
  }
  const level = r.chance(0.8) ? 'senior_vice' : 'senior_full';
  const titles = await titlesFor(plan.id, level);
  const spec = r.pick(vocab.specialties[a.unit.sector]).split(' - ').pop()!;
  const cover: Cover = {
    year: thisYear, plan_id: plan.id, committee: plan.committee, plan_name: plan.name, specialty: spec.slice(0, 50), level, level_name: LEVEL_NAMES[level]!,
    title: r.pick(titles), category: 'normal', category_name: '正常评审',
  };
  const stageIdx = target === 'draft' || target === 'unit' ? 0
    : target === 'returned' ? r.int(0, route.length - 1)
    : target === 'approved' || target === 'passed' ? route.length - 1
    : route.findIndex((s) => s.kind === target);
  const status = target === 'draft' ? 'draft' : target === 'returned' ? 'returned' : target === 'approved' ? 'approved' : target === 'passed' ? 'passed' : 'reviewing';
  tally[target] = (tally[target] ?? 0) + 1;
  // Some declarations under review came back once and were resubmitted: two versions, a diff.
  const resubmitted = status === 'reviewing' && r.chance(0.15);
  made.push({ declId: 0, applicant: a, planId: plan.id, status, stage: stageIdx, versions: status === 'draft' ? 0 : resubmitted ? 2 : 1, route, created: now.getTime() - r.int(3, 18) * DAY - r.int(0, 86_000) * 1000, cover, resubmitted });
}

raw.transaction(() => {
  for (const m of made) {
    const a = m.applicant;
    const userId = a.id;
    let t = m.created;
    // Each step of the timeline a quarter hour to ten hours after the previous one, never in the future.
    const step = () => {
      t += r.int(1, 40) * 900_000;
      return Math.min(t, now.getTime() - 60_000);
    };
    const events: [number | null, number | null, number | null, string, string | null, string | null, string | null, string | null, number][] = [];
    events.push([userId, null, null, 'save_cover', null, null, 'draft', null, t]);
    const submitted = m.status !== 'draft';
    let submittedAt: number | null = null;
    const actor = (k: number) => staffOf.get(m.route[k]!.orgId)?.[0] ?? null;
    if (submitted) {
      submittedAt = step();
      events.push([userId, null, 0, 'submit', null, 'draft', 'reviewing', null, submittedAt]);
      const passedTo = m.status === 'approved' || m.status === 'passed' ? m.route.length : m.stage;
      for (let k = 0; k < passedTo; k++) {
        if (k === 0) events.push([actor(0), m.route[0]!.orgId, 0, 'verify', null, 'reviewing', 'reviewing', null, step()]);
        const last = k === m.route.length - 1;
        events.push([actor(k), m.route[k]!.orgId, k, 'approve', null, 'reviewing', last ? 'approved' : 'reviewing', null, step()]);
      }
      if (m.status === 'returned' || m.resubmitted) {
        events.push([actor(m.stage), m.route[m.stage]!.orgId, m.stage, 'return', '请补充近三年的工作总结和考核材料', 'reviewing', 'returned', JSON.stringify({ sections: [r.pick(RETURN_SECTIONS)] }), step()]);
      }
      if (m.resubmitted) events.push([userId, null, m.stage, 'resubmit', null, 'returned', 'reviewing', null, step()]);
      if (m.status === 'passed') events.push([null, m.route[m.route.length - 1]!.orgId, m.stage, 'evaluate', null, 'approved', 'passed', null, step()]);
    }
    const pastUnit = submitted && (m.stage > 0 || m.status === 'approved' || m.status === 'passed');
    const atUnit = submitted && m.stage === 0 && !pastUnit;
    const decl = {
      user_id: userId, plan_id: m.planId, year: thisYear, status: m.status, cover: JSON.stringify(m.cover), ...coverColumns(m.cover), route: JSON.stringify(m.route), stage: m.stage,
      returns_count: m.status === 'returned' || m.resubmitted ? 1 : 0, submit_token: submitted ? crypto.randomBytes(18).toString('base64url') : null,
      submitted_at: submittedAt ? iso(submittedAt) : null, unit_opinion: pastUnit || (atUnit && r.chance(0.5)) ? OPINION(a.person.name) : null,
      unit_verified_at: pastUnit ? iso(m.created + DAY) : null, publicity_state: pastUnit ? 'no_objection' : null,
      created_at: iso(m.created), updated_at: iso(events[events.length - 1]![8]),
    };
    m.declId = Number(ins.decl.run(decl).lastInsertRowid);
    if (submitted) m.route.forEach((s, k) => ins.stage.run(m.declId, k, s.orgId, s.kind));
    for (const e of events) {
      ins.event.run(m.declId, e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7], iso(e[8]));
      if (e[3] !== 'save_cover') ins.message.run(userId, '审核消息', `您的“${m.cover.title}”申报（${m.cover.committee}）：${e[3] === 'submit' ? '已提交' : e[3] === 'approve' ? '已通过' + m.route[e[2] ?? 0]!.label : e[3] === 'return' ? '被返回修改，请根据审核意见修改后重新提交' : '状态已更新'}。`, e === events[events.length - 1] ? null : iso(e[8] + 3_600_000), iso(e[8]));
    }
    // The plan's required attachments of the declaration (ready to submit, like a real draft).
    for (const s of requiredSlots(planRows.get(m.planId)!)) if (s.required) ins.attach.run(userId, 'declaration', m.declId, s.key, fileRow(userId, doc(), s.label, iso(m.created)), iso(m.created));
  }
})();
lap(`${made.length} declarations (${Object.entries(tally).map(([k, v]) => `${k} ${v}`).join(', ')})`);

// Versions: the frozen snapshot the reviewers read, built by the app's own buildSnapshot.
const submittedDecls = made.filter((m) => m.versions > 0);
const snaps: { m: Made; json: string; first?: string }[] = [];
for (const m of submittedDecls) {
  const d = (await ctx.db.selectFrom('declarations').selectAll().where('id', '=', m.declId).executeTakeFirstOrThrow()) as unknown as Declaration;
  const snap = await buildSnapshot(ctx, m.applicant.id, d, planRows.get(m.planId)!);
  snap.takenAt = d.submitted_at!;
  const json = JSON.stringify(snap);
  let first: string | undefined;
  if (m.versions === 2) {
    // The first version before the applicant's change: one summary shorter.
    const old = structuredClone(snap);
    const row = old.sections.summaries?.[0];
    if (row) row.data = { ...row.data, content: String(row.data.content).slice(0, Math.max(20, String(row.data.content).length - 60)) };
    first = JSON.stringify(old);
  }
  snaps.push({ m, json, first });
}
raw.transaction(() => {
  for (const { m, json, first } of snaps) {
    const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
    let no = 1;
    if (first) ins.version.run(m.declId, no++, first, sha(first), iso(m.created + DAY));
    const v = Number(ins.version.run(m.declId, no, json, sha(json), iso(m.created + 2 * DAY)).lastInsertRowid);
    ins.setVersion.run(v, m.declId);
  }
})();
lap(`${snaps.length} submitted declarations with ${snaps.reduce((n, s) => n + (s.first ? 2 : 1), 0)} versions`);

// ---------------------------------------------------------------------------------------
// Accounts for the load bench, then size report

const byStatus = (st: string) => made.filter((m) => m.status === st).map((m) => m.applicant.phone);
const todo = new Map<number, number>();
for (const m of made) if (m.status === 'reviewing') todo.set(m.route[m.stage]!.orgId, (todo.get(m.route[m.stage]!.orgId) ?? 0) + 1);
const manifest = {
  note: 'Synthetic bench accounts (bench/gen.ts); every account has the same password.',
  generatedAt: stamp, seed: opt.seed, password: BENCH_PASSWORD,
  counts: { applicants: applicants.length, declarations: made.length, sectionRows: rowCount, files: fileRows, blobs: pool.portrait.length + pool.scan.length + pool.pdf.length, staff: staffSeq },
  applicants: {
    draft: byStatus('draft'),
    reviewing: byStatus('reviewing').slice(0, 3000),
    plain: applicants.filter((_, i) => !declaredSet.has(i)).slice(0, 3000).map((a) => a.phone),
  },
  // Reviewers beyond the unit stage (their 通过 goes through /org/reviews/:id/act), with their queue.
  reviewers: staffAccounts.filter((s) => ['supervisor', 'hrb', 'committee'].includes(s.orgKind) && (todo.get(s.orgId) ?? 0) > 0).map((s) => ({ ...s, todo: todo.get(s.orgId)! })),
  units: staffAccounts.filter((s) => s.orgKind === 'unit').slice(0, 200),
  // Valid rows the virtual users post as section edits (the registry's rules accept each).
  editRows: Object.fromEntries(SECTIONS.map((def) => {
    const list: Record<string, string>[] = [];
    for (let k = 0; k < 12; k++) {
      const a = applicants[(k * 97) % applicants.length]!;
      const input = sectionRow(def.key, 0, 1, a.person, vocab, r);
      if (!Object.keys(validateRow(def, input, ctxRules).errors).length) list.push(input);
    }
    return [def.key, list];
  })),
};
fs.writeFileSync(path.join(dataDir, 'bench-accounts.json'), JSON.stringify(manifest, null, 1));

raw.pragma('wal_checkpoint(TRUNCATE)');
raw.close();
await app.close();

function du(p: string): number {
  let n = 0;
  for (const e of fs.readdirSync(p, { withFileTypes: true })) n += e.isDirectory() ? du(path.join(p, e.name)) : fs.statSync(path.join(p, e.name)).size;
  return n;
}
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
const secs = (performance.now() - t0) / 1000;
console.log(`done in ${secs.toFixed(1)} s: DB ${mb(fs.statSync(config.dbFile).size)}, uploads ${mb(du(config.uploadDir))} (${manifest.counts.blobs} blobs, ${fileRows} file rows), ${rowCount} section rows, ${made.length} declarations, ${staffSeq} staff`);
console.log(JSON.stringify({ genSeconds: Number(secs.toFixed(1)), dbBytes: fs.statSync(config.dbFile).size, uploadBytes: du(config.uploadDir), ...manifest.counts }));

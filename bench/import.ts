/**
 * bench/import — 导入历史证书 of N generated rows (default 10 000) through the app's own service:
 * the dry run (read, classify against the database, keep the file in the blob store) and the
 * confirmation (re-check and insert in one write transaction), each timed. 1 000 of the holders
 * have an account already, so the confirmation also fills their 现有职称. Runs on the embedded
 * SQLite of a temp data dir, or on PostgreSQL when DATABASE_URL is set (an empty database).
 * Not a test: it asserts nothing (issue #17 target: under a minute for 10 000 rows).
 *
 * Usage: node --import tsx bench/import.ts [rows=10000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { idCheckChar } from '../src/domain/idcard.js';
import { idColumns } from '../src/lib/pii.js';
import { dryRun, confirm } from '../src/features/exchange/certImport.js';
import { CERT_COLUMNS } from '../src/domain/legacyCert.js';

const N = Number(process.argv[2] ?? 10_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-import-'));
const env: Record<string, string> = { NODE_ENV: 'production', DATA_DIR: dir, LOG_LEVEL: 'warn' };
if (process.env.DATABASE_URL) env.DATABASE_URL = process.env.DATABASE_URL;
else env.DB_FILE = path.join(dir, 'bench.db');
const { app, ctx } = await buildApp(loadConfig(env, { rateLimit: false }), { setupLink: false });

const ids = Array.from({ length: N }, (_, i) => {
  // 14 digits of region + birth date, then a 3-digit sequence: unique per i within a birth year.
  const year = 1960 + Math.floor(i / 1000);
  const first17 = `530102${year}0101${String(i % 1000).padStart(3, '0')}`;
  return first17 + idCheckChar(first17);
});
const levels = ['中级', '副高级', '正高级', '助理级'];
const lines = [CERT_COLUMNS.join(',')];
for (let i = 0; i < N; i++) lines.push(`${ids[i]},人员${i},主治(主管)医师,${levels[i % 4]},心血管内科,${2000 + (i % 25)}-06-30,BENCH-${String(i).padStart(6, '0')},云南省卫生系列中级评委会,申报评审`);
const buf = Buffer.from(lines.join('\r\n'), 'utf8');
const file = path.join(dir, 'certs.csv');
fs.writeFileSync(file, buf);

// A thousand holders registered already.
const stamp = new Date().toISOString();
const platform = await ctx.db.selectFrom('orgs').select('id').where('kind', '=', 'platform').executeTakeFirstOrThrow();
const adminRow = await ctx.db.insertInto('users').values({ kind: 'staff', username: 'bench-admin', name: '李娜', org_id: platform.id, roles: 'admin', password_hash: 'x', created_at: stamp, updated_at: stamp }).returning('id').executeTakeFirstOrThrow();
for (let i = 0; i < Math.min(1000, N); i += 100) {
  await ctx.db.insertInto('users').values(ids.slice(i, i + 100).map((x, j) => ({ kind: 'applicant' as const, name: `人员${i + j}`, ...idColumns(ctx.secrets, x), password_hash: 'x', created_at: stamp, updated_at: stamp }))).execute();
}
const req = { user: { id: adminRow.id, kind: 'staff', name: '李娜', username: 'bench-admin', roles: ['admin'], orgId: platform.id }, ip: '127.0.0.1' } as unknown as FastifyRequest;
const upload = { filename: 'certs.csv', path: file, size: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };

const t0 = performance.now();
const dry = await dryRun(ctx, req, upload, buf);
const t1 = performance.now();
if (!dry.ok) throw new Error(dry.error);
const done = await confirm(ctx, req, dry.batchId);
const t2 = performance.now();
if (!done.ok) throw new Error(done.error);

console.log(`导入历史证书 ${N} 行（${(buf.length / 1024 / 1024).toFixed(1)} MB CSV, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite'}）`);
console.log(`  dry run:      ${((t1 - t0) / 1000).toFixed(2)} s`);
console.log(`  confirmation: ${((t2 - t1) / 1000).toFixed(2)} s  (${done.imported} imported, ${done.linked} into 现有职称)`);
console.log(`  total:        ${((t2 - t0) / 1000).toFixed(2)} s`);
await app.close();
fs.rmSync(dir, { recursive: true, force: true });

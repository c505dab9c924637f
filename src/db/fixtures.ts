import fs from 'node:fs';
import path from 'node:path';
import type { DB } from './index.js';
import { writeTx } from './index.js';

/**
 * Loads the dictionaries of fixtures/ (see fixtures/README.md) into an empty database. Runs at
 * start; does nothing once the series table has rows, so admin edits are never overwritten.
 */
export async function loadFixtures(db: DB, dir: string, now: Date): Promise<boolean> {
  const has = await db.selectFrom('series').select('code').limit(1).executeTakeFirst();
  if (has) return false;
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const stamp = now.toISOString();
  const series = read('series.json');
  const committees = read('committees.json').committees as any[];
  const regions = read('regions.json').regions as any[];
  const hrbs = read('hrbs.json').hrbs as any[];
  const enums = read('enums.json') as Record<string, any[]>;
  const holidays = read('holidays.json');
  const trees: [string, string][] = [['major', 'majors.json'], ['specialty', 'specialties.json']];

  // Checked again under the write lock: two processes starting together load them once.
  return writeTx(db, async (trx) => {
    if (await trx.selectFrom('series').select('code').limit(1).executeTakeFirst()) return false;
    const chunks = async <T>(rows: T[], fn: (part: T[]) => Promise<unknown>) => {
      for (let i = 0; i < rows.length; i += 200) await fn(rows.slice(i, i + 200));
    };
    await chunks(series.series as any[], (p) => trx.insertInto('series').values(p.map((s) => ({ code: s.code, name: s.name, sort: s.sort ?? 0 }))).execute());
    await chunks(series.titles as any[], (p) =>
      trx.insertInto('titles').values(p.map((t) => ({ series_code: t.series_code, track: t.track ?? null, level: t.level, name: t.name, sort: t.sort ?? 0 }))).execute(),
    );
    await chunks(regions, (p) =>
      trx.insertInto('regions').values(p.map((r) => ({ code: r.code, name: r.name, parent_code: r.parent_code ?? null, level: r.level, zone: r.zone ? 1 : 0 }))).execute(),
    );
    const org = (o: Record<string, unknown>) => ({
      code: null, hrb_level: null, committee_level: null, region_code: null, scope: null, organizer: null, phone: null,
      address: null, plan_months: null, series_code: null, created_at: stamp, updated_at: stamp, ...o,
    });
    await trx.insertInto('orgs').values(org({ kind: 'platform', name: '平台运营中心', code: 'PLATFORM' }) as any).execute();
    await chunks(committees, (p) =>
      trx.insertInto('orgs').values(p.map((c) => org({
        kind: 'committee', name: c.name, code: c.code, committee_level: c.level, scope: c.scope ?? null, organizer: c.organizer ?? null,
        phone: c.phone ?? null, plan_months: c.plan_months ?? null, series_code: c.series_code ?? null, region_code: '530100',
        committee_tier: c.tier ?? 'city', // the seed's committees are Kunming's (city level)
      })) as any).execute(),
    );
    await chunks(hrbs, (p) =>
      trx.insertInto('orgs').values(p.map((h, i) => org({
        kind: 'hrb', name: h.name, code: `HRB-${h.region_code}-${i}`, hrb_level: h.level, region_code: h.region_code,
        scope: h.scope ?? null, address: h.address ?? null, phone: h.phone ?? null,
      })) as any).execute(),
    );
    const items: any[] = [];
    for (const [dict, list] of Object.entries(enums)) {
      list.forEach((e, i) => {
        const { code, name, ...extra } = e;
        items.push({ dict, code: String(code), name, parent_code: null, sort: i, extra: Object.keys(extra).length ? JSON.stringify(extra) : null });
      });
    }
    for (const [dict, file] of trees) {
      if (!fs.existsSync(path.join(dir, file))) continue;
      (read(file).nodes as any[]).forEach((n, i) => {
        const { code, name, parent_code, ...extra } = n;
        items.push({ dict, code: String(code), name, parent_code: parent_code ?? null, sort: i, extra: Object.keys(extra).length ? JSON.stringify(extra) : null });
      });
    }
    await chunks(items, (p) => trx.insertInto('dict_items').values(p).execute());
    await chunks(holidays.days as any[], (p) => trx.insertInto('holidays').values(p.map((d) => ({ date: d.date, kind: d.kind, name: d.name }))).execute());
    await trx.insertInto('holiday_years').values((holidays.years as number[]).map((y) => ({ year: y, source: holidays.source ?? null }))).execute();
    return true;
  });
}

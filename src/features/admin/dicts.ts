import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { pageParams, makePage } from '../../lib/paging.js';
import { containsPattern, regionOptions } from './orgs.js';
import { audit } from '../audit/service.js';

/** Chinese names of the dictionaries (keys of fixtures/enums.json plus the two trees). */
export const DICT_NAMES: Record<string, string> = {
  unit_nature: '单位性质',
  unit_level: '单位等级',
  education: '学历',
  degree: '学位',
  study_form: '学习形式',
  political_status: '政治面貌',
  ethnic: '民族',
  gender: '性别',
  title_acquisition: '职称取得方式',
  assessment_grade: '年度考核结果',
  award_type: '奖励类型',
  award_grade: '奖励等级',
  award_level: '奖励级别',
  book_type: '著作类型',
  book_level: '出版社级别',
  paper_type: '论文类型',
  paper_level: '论文级别',
  ip_category: '知识产权类别',
  project_level: '项目级别',
  project_role: '本人角色',
  category: '参评类别',
  employed: '是否在职',
  staff_type: '人员身份',
  post_origin: '原岗位类别',
  major: '所学专业',
  specialty: '从事专业',
};
const TREES = new Set(['major', 'specialty']);

export const LEVELS = [
  { code: 'senior_full', name: '正高级' },
  { code: 'senior_vice', name: '副高级' },
  { code: 'intermediate', name: '中级' },
  { code: 'assistant', name: '助理级' },
  { code: 'junior', name: '员级' },
];
const REGION_LEVEL: Record<string, string> = { province: '省', city: '市', county: '县区' };
const COMMITTEE_LEVEL: Record<string, string> = { senior: '高级', intermediate: '中级' };

function extraText(extra: string | null): string {
  if (!extra) return '';
  try {
    return Object.entries(JSON.parse(extra) as Record<string, unknown>).map(([k, v]) => `${k}: ${String(v)}`).join('；');
  } catch {
    return extra;
  }
}

/**
 * 数据字典: browse every dictionary; add, rename, disable/enable items (the specialty trees
 * included). Stored archive rows keep the names they were saved with.
 */
export default async function dictsRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const crumbs = (...more: { label: string; href?: string }[]) => [{ label: '平台管理', href: '/admin' }, { label: '数据字典', href: '/admin/dicts' }, ...more];
  const count = async (t: 'series' | 'titles' | 'regions') =>
    Number((await ctx.db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  app.get('/admin/dicts', async (_req, reply) => {
    const rows = await ctx.db.selectFrom('dict_items').select(['dict', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('dict').execute();
    const order = Object.keys(DICT_NAMES);
    const dicts = rows
      .map((r) => ({ dict: r.dict, name: DICT_NAMES[r.dict] ?? r.dict, count: Number(r.n), tree: TREES.has(r.dict) }))
      .sort((a, b) => (order.indexOf(a.dict) >>> 0) - (order.indexOf(b.dict) >>> 0) || a.dict.localeCompare(b.dict));
    const { n: committees } = await ctx.db.selectFrom('orgs').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', 'committee').executeTakeFirstOrThrow();
    return reply.page('admin/dicts.njk', {
      dicts,
      series: await count('series'), titles: await count('titles'), regions: await count('regions'), committees: Number(committees),
    });
  });

  // 系列与职称: titles of each series by level, one row per track.
  app.get('/admin/dicts/series', async (_req, reply) => {
    const series = await ctx.db.selectFrom('series').selectAll().orderBy('sort').orderBy('code').execute();
    const titles = await ctx.db.selectFrom('titles').selectAll().orderBy('series_code').orderBy('sort').orderBy('id').execute();
    const rows = series.map((s) => {
      const own = titles.filter((t) => t.series_code === s.code);
      const tracks = [...new Set(own.map((t) => t.track ?? ''))];
      return {
        ...s,
        tracks: tracks.map((track) => ({
          track,
          levels: LEVELS.map((l) => own.filter((t) => (t.track ?? '') === track && t.level === l.code).map((t) => t.name).join('、')),
        })),
      };
    });
    return reply.page('admin/dicts-series.njk', { rows, levels: LEVELS, titleCount: titles.length, breadcrumbs: crumbs({ label: '职称系列' }) });
  });

  app.get('/admin/dicts/regions', async (_req, reply) => {
    const rows = await ctx.db.selectFrom('regions').selectAll().orderBy('code').execute();
    const labels = new Map((await regionOptions(ctx.db, { all: true })).map((r) => [r.code, r.name]));
    return reply.page('admin/dicts-regions.njk', {
      rows: rows.map((r) => ({ ...r, levelLabel: REGION_LEVEL[r.level] ?? r.level, path: labels.get(r.code) ?? r.name })),
      breadcrumbs: crumbs({ label: '行政区域' }),
    });
  });

  app.get('/admin/dicts/committees', async (req, reply) => {
    const query = req.query as Record<string, string | undefined>;
    const q = (query.q ?? '').trim();
    const { page, size, offset } = pageParams(query, 20);
    let base = ctx.db.selectFrom('orgs').where('kind', '=', 'committee');
    if (q) {
      const like = containsPattern(q);
      base = base.where((eb) => eb.or([sql<boolean>`name like ${like} escape '\\'`, sql<boolean>`coalesce(scope, '') like ${like} escape '\\'`, sql<boolean>`coalesce(organizer, '') like ${like} escape '\\'`]));
    }
    const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .select(['id', 'code', 'name', 'committee_level', 'scope', 'organizer', 'phone', 'plan_months', 'disabled'])
      .orderBy('code')
      .orderBy('id')
      .limit(size)
      .offset(offset)
      .execute();
    const list = makePage(rows.map((r) => ({ ...r, levelLabel: COMMITTEE_LEVEL[r.committee_level ?? ''] ?? '' })), Number(n), page, size);
    return reply.page('admin/dicts-committees.njk', { list, q, breadcrumbs: crumbs({ label: '评委会' }) });
  });

  // One dictionary. Trees (所学专业, 从事专业) drill down with ?parent=code; ?q= searches every level.
  app.get('/admin/dicts/:dict', async (req, reply) => {
    const dict = (req.params as { dict: string }).dict;
    const query = req.query as Record<string, string | undefined>;
    const all = await ctx.db.selectFrom('dict_items').selectAll().where('dict', '=', dict).orderBy('sort').orderBy('id').execute();
    if (!all.length && !DICT_NAMES[dict]) return reply.callNotFound();
    const name = DICT_NAMES[dict] ?? dict;
    const tree = TREES.has(dict) || all.some((i) => i.parent_code);
    const base = `/admin/dicts/${encodeURIComponent(dict)}`;
    const data: Record<string, unknown> = { dict, name, tree, base, breadcrumbs: crumbs({ label: name }) };
    if (!tree) return reply.page('admin/dicts-items.njk', { ...data, items: all.map((i) => ({ ...i, extraText: extraText(i.extra) })) });

    const byCode = new Map(all.map((i) => [i.code, i]));
    const children = new Map<string, number>();
    for (const i of all) if (i.parent_code) children.set(i.parent_code, (children.get(i.parent_code) ?? 0) + 1);
    const pathOf = (code: string) => {
      const parts: { code: string; name: string }[] = [];
      let cur = byCode.get(code);
      for (let guard = 0; cur && guard < 20; guard++) {
        parts.unshift({ code: cur.code, name: cur.name });
        cur = cur.parent_code ? byCode.get(cur.parent_code) : undefined;
      }
      return parts;
    };
    const q = (query.q ?? '').trim();
    if (q) {
      const { page, size, offset } = pageParams(query, 20);
      const like = containsPattern(q);
      const hits = ctx.db.selectFrom('dict_items').where('dict', '=', dict).where(sql<boolean>`name like ${like} escape '\\'`);
      const { n } = await hits.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await hits.select(['code', 'name', 'disabled']).orderBy('code').limit(size).offset(offset).execute();
      const list = makePage(rows.map((r) => ({ ...r, path: pathOf(r.code).map((p) => p.name).join(' - '), children: children.get(r.code) ?? 0 })), Number(n), page, size);
      return reply.page('admin/dicts-items.njk', { ...data, q, list });
    }
    const parentCode = (query.parent ?? '').trim();
    const parent = parentCode ? byCode.get(parentCode) : undefined;
    if (parentCode && !parent) return reply.callNotFound();
    const items = all
      .filter((i) => (parent ? i.parent_code === parent.code : !i.parent_code))
      .map((i) => ({ ...i, children: children.get(i.code) ?? 0, extraText: extraText(i.extra) }));
    return reply.page('admin/dicts-items.njk', { ...data, q: '', parent: parent ?? null, trail: parent ? pathOf(parent.code) : [], items });
  });

  // ---- editing: add an item (under the current parent for trees), rename, disable/enable ----
  const CODE_RE = /^[A-Za-z0-9_-]{1,20}$/;
  const backTo = (dict: string, parent?: string | null) => `/admin/dicts/${encodeURIComponent(dict)}${parent ? `?parent=${encodeURIComponent(parent)}` : ''}`;

  app.post('/admin/dicts/:dict/items', async (req, reply) => {
    const dict = (req.params as { dict: string }).dict;
    if (!DICT_NAMES[dict]) return reply.callNotFound();
    const b = (req.body ?? {}) as Record<string, string>;
    const code = (b.code ?? '').trim();
    const name = (b.name ?? '').trim();
    const parent = (b.parent ?? '').trim() || null;
    const back = backTo(dict, parent);
    if (!CODE_RE.test(code)) return reply.flashRedirect(back, '代码为1–20位字母、数字、下划线或短横线', 'error');
    if (!name || [...name].length > 50) return reply.flashRedirect(back, '请填写名称（不超过50个字）', 'error');
    if (TREES.has(dict) && parent) {
      const p = await ctx.db.selectFrom('dict_items').select(['code', 'parent_code']).where('dict', '=', dict).where('code', '=', parent).executeTakeFirst();
      if (!p) return reply.callNotFound();
      const grand = p.parent_code ? await ctx.db.selectFrom('dict_items').select('parent_code').where('dict', '=', dict).where('code', '=', p.parent_code).executeTakeFirst() : undefined;
      if (grand && grand.parent_code === null && p.parent_code) {
        // parent is level 2: the new item is level 3, the deepest level.
      } else if (grand?.parent_code) return reply.flashRedirect(back, '专业字典最多三级', 'error');
    } else if (parent) return reply.callNotFound();
    const exists = await ctx.db.selectFrom('dict_items').select('id').where('dict', '=', dict).where('code', '=', code).executeTakeFirst();
    if (exists) return reply.flashRedirect(back, `代码 ${code} 已存在`, 'error');
    const max = await ctx.db.selectFrom('dict_items').select((eb) => eb.fn.max<number>('sort').as('m')).where('dict', '=', dict).executeTakeFirst();
    await ctx.db.insertInto('dict_items').values({ dict, code, name, parent_code: parent, sort: Number(max?.m ?? 0) + 1, extra: null }).execute();
    await ctx.dicts.changed();
    await audit(ctx, req, { action: 'config_change', objectType: `dict:${dict}`, objectId: code, detail: `新增：${name}` });
    return reply.flashRedirect(back, `已新增：${name}`);
  });

  app.post('/admin/dicts/:dict/items/:code', async (req, reply) => {
    const { dict, code } = req.params as { dict: string; code: string };
    const item = await ctx.db.selectFrom('dict_items').selectAll().where('dict', '=', dict).where('code', '=', code).executeTakeFirst();
    if (!item) return reply.callNotFound();
    const b = (req.body ?? {}) as Record<string, string>;
    const back = backTo(dict, item.parent_code);
    if (b.toggle) {
      await ctx.db.updateTable('dict_items').set({ disabled: item.disabled ? 0 : 1 }).where('id', '=', item.id).execute();
      await ctx.dicts.changed();
      await audit(ctx, req, { action: 'config_change', objectType: `dict:${dict}`, objectId: code, detail: item.disabled ? '启用' : '停用' });
      return reply.flashRedirect(back, item.disabled ? `已启用：${item.name}` : `已停用：${item.name}（已填写的信息不受影响）`);
    }
    const name = (b.name ?? '').trim();
    if (!name || [...name].length > 50) return reply.flashRedirect(back, '请填写名称（不超过50个字）', 'error');
    await ctx.db.updateTable('dict_items').set({ name }).where('id', '=', item.id).execute();
    await ctx.dicts.changed();
    await audit(ctx, req, { action: 'config_change', objectType: `dict:${dict}`, objectId: code, detail: `改名：${item.name} → ${name}` });
    return reply.flashRedirect(back, `已改名：${item.name} → ${name}（已填写的信息保留原名称）`);
  });

  // 职称系列 and 行政区域: rename, disable/enable (0020: never deleted, rows already filled keep their text).
  for (const table of ['series', 'regions'] as const) {
    const label = table === 'series' ? '职称系列' : '行政区域';
    app.post(`/admin/dicts/${table}/:code`, async (req, reply) => {
      const code = (req.params as { code: string }).code;
      const item = await ctx.db.selectFrom(table).select(['code', 'name', 'disabled']).where('code', '=', code).executeTakeFirst();
      if (!item) return reply.callNotFound();
      const back = `/admin/dicts/${table}`;
      const b = (req.body ?? {}) as Record<string, string>;
      if (b.toggle) {
        await ctx.db.updateTable(table).set({ disabled: item.disabled ? 0 : 1 }).where('code', '=', code).execute();
        await ctx.dicts.changed();
        await audit(ctx, req, { action: 'config_change', objectType: `dict:${table}`, objectId: code, detail: item.disabled ? '启用' : '停用' });
        return reply.flashRedirect(back, item.disabled ? `已启用${label}：${item.name}` : `已停用${label}：${item.name}（已填写的信息不受影响）`);
      }
      const name = (b.name ?? '').trim();
      if (!name || [...name].length > 50) return reply.flashRedirect(back, '请填写名称（不超过50个字）', 'error');
      await ctx.db.updateTable(table).set({ name }).where('code', '=', code).execute();
      await ctx.dicts.changed();
      await audit(ctx, req, { action: 'config_change', objectType: `dict:${table}`, objectId: code, detail: `改名：${item.name} → ${name}` });
      return reply.flashRedirect(back, `已改名：${item.name} → ${name}（已填写的信息保留原名称）`);
    });
  }
}

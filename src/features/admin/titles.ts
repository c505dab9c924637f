import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { writeTx } from '../../db/index.js';
import { charCount } from '../../lib/forms.js';
import { audit } from '../audit/service.js';
import { LEVELS } from './dicts.js';

const LEVEL_NAME = Object.fromEntries(LEVELS.map((l) => [l.code, l.name]));
type Body = Record<string, string | undefined>;

/**
 * 职称（资格）名称 of one series, maintained by the system admin (behind the admin hook of
 * admin/routes.ts): add, rename, disable/enable. Never deleted: rows that already name a title keep
 * their text; a disabled title is no longer offered (src/features/dicts/service.ts).
 */
export default async function titlesRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const crumbs = (series: { name: string }) => [{ label: '平台管理', href: '/admin' }, { label: '数据字典', href: '/admin/dicts' }, { label: '职称系列', href: '/admin/dicts/series' }, { label: series.name }];
  const seriesOf = (code: string) => ctx.db.selectFrom('series').selectAll().where('code', '=', code).executeTakeFirst();
  const base = (code: string) => `/admin/dicts/series/${encodeURIComponent(code)}/titles`;

  const page = async (reply: FastifyReply, series: { code: string; name: string; disabled: number }, values: Body = {}, errors: Record<string, string> = {}) => {
    const titles = await ctx.db.selectFrom('titles').selectAll().where('series_code', '=', series.code).orderBy('sort').orderBy('id').execute();
    const order = new Map(LEVELS.map((l, i) => [l.code, i]));
    titles.sort((a, b) => (order.get(a.level) ?? 9) - (order.get(b.level) ?? 9) || a.sort - b.sort || a.id - b.id);
    return reply.page('admin/dicts-titles.njk', {
      title: `${series.name}：职称名称`, series, titles: titles.map((t) => ({ ...t, levelName: LEVEL_NAME[t.level] ?? t.level })), levels: LEVELS,
      base: base(series.code), values: { level: '', track: '', name: '', ...values }, errors, breadcrumbs: crumbs(series),
    }, Object.keys(errors).length ? 422 : 200);
  };

  /** The same series, level, track and name already there (another row than `exceptId`). */
  const taken = (seriesCode: string, level: string, track: string | null, name: string, exceptId?: number) => {
    let q = ctx.db.selectFrom('titles').select('id').where('series_code', '=', seriesCode).where('level', '=', level).where('name', '=', name);
    q = track === null ? q.where('track', 'is', null) : q.where('track', '=', track);
    if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
    return q.executeTakeFirst();
  };

  app.get('/admin/dicts/series/:code/titles', async (req, reply) => {
    const series = await seriesOf((req.params as { code: string }).code);
    if (!series) return reply.callNotFound();
    return page(reply, series);
  });

  app.post('/admin/dicts/series/:code/titles', async (req, reply) => {
    const series = await seriesOf((req.params as { code: string }).code);
    if (!series) return reply.callNotFound();
    const b = (req.body ?? {}) as Body;
    const values = { level: (b.level ?? '').trim(), track: (b.track ?? '').trim(), name: (b.name ?? '').trim() };
    const errors: Record<string, string> = {};
    if (!LEVEL_NAME[values.level]) errors.level = '请选择级别';
    if (!values.name) errors.name = '请填写职称名称';
    else if (charCount(values.name) > 50) errors.name = '职称名称不能超过50个字';
    if (charCount(values.track) > 20) errors.track = '类别不能超过20个字';
    const track = values.track || null;
    if (!Object.keys(errors).length && (await taken(series.code, values.level, track, values.name))) errors.name = `${series.name}${LEVEL_NAME[values.level]}已有“${values.name}”`;
    if (Object.keys(errors).length) return page(reply, series, values, errors);
    await writeTx(ctx.db, async (trx) => {
      const max = await trx.selectFrom('titles').select((eb) => eb.fn.max<number>('sort').as('m')).where('series_code', '=', series.code).executeTakeFirst();
      const row = await trx.insertInto('titles').values({ series_code: series.code, level: values.level, track, name: values.name, sort: Number(max?.m ?? 0) + 1 }).returning('id').executeTakeFirstOrThrow();
      await audit(ctx, req, { action: 'config_change', objectType: 'dict:titles', objectId: row.id, detail: `新增职称：${series.name} ${LEVEL_NAME[values.level]} ${values.name}` }, trx);
    });
    await ctx.dicts.changed();
    return reply.flashRedirect(base(series.code), `已新增职称：${values.name}`);
  });

  app.post('/admin/dicts/titles/:id', async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const t = Number.isSafeInteger(id) ? await ctx.db.selectFrom('titles').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
    if (!t) return reply.callNotFound();
    const back = base(t.series_code);
    const b = (req.body ?? {}) as Body;
    if (b.toggle) {
      await writeTx(ctx.db, async (trx) => {
        await trx.updateTable('titles').set({ disabled: t.disabled ? 0 : 1 }).where('id', '=', t.id).execute();
        await audit(ctx, req, { action: 'config_change', objectType: 'dict:titles', objectId: t.id, detail: `${t.disabled ? '启用' : '停用'}职称：${t.name}` }, trx);
      });
      await ctx.dicts.changed();
      return reply.flashRedirect(back, t.disabled ? `已启用：${t.name}` : `已停用：${t.name}（不再供选择，已填写的信息不受影响）`);
    }
    const name = (b.name ?? '').trim();
    if (!name || charCount(name) > 50) return reply.flashRedirect(back, '请填写职称名称（不超过50个字）', 'error');
    if (name === t.name) return reply.flashRedirect(back, '名称未改变');
    if (await taken(t.series_code, t.level, t.track, name, t.id)) return reply.flashRedirect(back, `同一级别已有“${name}”`, 'error');
    await writeTx(ctx.db, async (trx) => {
      await trx.updateTable('titles').set({ name }).where('id', '=', t.id).execute();
      await audit(ctx, req, { action: 'config_change', objectType: 'dict:titles', objectId: t.id, detail: `职称改名：${t.name} → ${name}` }, trx);
    });
    await ctx.dicts.changed();
    return reply.flashRedirect(back, `已改名：${t.name} → ${name}（已填写的信息保留原名称）`);
  });
}

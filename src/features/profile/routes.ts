import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireApplicant } from '../../plugins/auth.js';
import { PROFILE_GROUPS, PROFILE_FIELDS, EMPLOYER_KEY } from '../../domain/profile.js';
import { formView } from '../sections/form.js';
import { listAttachments, profileSlots } from '../files/service.js';
import { loadProfile, identityOf, searchUnits, saveProfile, tenureNow } from './service.js';
import { RESTORED_TEXT } from '../../plugins/pending.js';

type Body = Record<string, unknown>;

/** The values as typed (a 搜索 button's re-render, a form kept when the session ended). */
function typedValues(body: Body): Body {
  const values: Body = {};
  for (const f of PROFILE_FIELDS) values[f.key] = body[f.key] === '__other__' ? body[`${f.key}_other`] : body[f.key];
  return values;
}

export default async function profileRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const opts = { preHandler: requireApplicant };

  async function render(req: FastifyRequest, reply: FastifyReply, o: { values: Body; errors?: Record<string, string>; raw?: Body; search?: { field: string; q: string }; restored?: boolean }) {
    const uid = req.user!.id;
    const dicts = await ctx.dicts.ready();
    const fields = formView(PROFILE_FIELDS, o.values, o.errors ?? {}, dicts, o.search, o.raw);
    const byKey = Object.fromEntries(fields.map((f) => [f.def.key, f]));
    const groups = PROFILE_GROUPS.map((g) => ({ ...g, views: g.fields.map((f) => byKey[f.key]) }));
    const ident = await identityOf(ctx, uid);
    const unitQ = o.raw && typeof o.raw.unit_q === 'string' ? o.raw.unit_q : '';
    const unitMatches = unitQ ? await searchUnits(ctx, unitQ) : [];
    const chosen = o.raw ? String(o.raw.unit_org_id ?? '') : ident.unitOrgId ? String(ident.unitOrgId) : '';
    const unitOptions = [...unitMatches];
    if (chosen && !unitOptions.some((u) => String(u.id) === chosen)) {
      const cur = await ctx.db.selectFrom('orgs').select(['id', 'name', 'kind']).where('id', '=', Number(chosen)).where('kind', 'in', ['unit', 'agency']).executeTakeFirst();
      if (cur) unitOptions.unshift(cur);
    }
    // 用工单位 (派遣人员): the same search-and-pick as 工作单位, employers only.
    const employerQ = o.raw && typeof o.raw.employer_q === 'string' ? o.raw.employer_q : '';
    const employerOptions = (employerQ ? await searchUnits(ctx, employerQ) : []).filter((u) => u.kind === 'unit');
    const employerChosen = o.raw ? String(o.raw[EMPLOYER_KEY] ?? '') : String(o.values[EMPLOYER_KEY] ?? '');
    if (employerChosen && !employerOptions.some((u) => String(u.id) === employerChosen)) {
      const cur = await ctx.db.selectFrom('orgs').select(['id', 'name', 'kind']).where('id', '=', Number(employerChosen) || -1).where('kind', '=', 'unit').executeTakeFirst();
      if (cur) employerOptions.unshift(cur);
    }
    const files = (await listAttachments(ctx, uid, 'profile', [uid])).get(uid) ?? [];
    return reply.page('profile/profile.njk', {
      groups, ident, name: o.raw && typeof o.raw.name === 'string' ? o.raw.name : ident.name,
      unitQ, unitOptions, unitChosen: chosen, unitSearched: !!unitQ, errors: o.errors ?? {},
      employerQ, employerOptions, employerChosen, employerSearched: !!employerQ,
      slots: profileSlots(ctx), files, tenure: await tenureNow(ctx, uid), title: '基本信息', breadcrumbs: [{ label: '基本信息' }],
      flash: o.restored ? { kind: 'ok', text: RESTORED_TEXT } : undefined,
    }, o.errors && Object.keys(o.errors).length ? 422 : 200);
  }

  app.get('/me/profile', opts, async (req, reply) => {
    // A form posted after the session ended comes back here after the next login (src/plugins/pending.ts).
    const kept = await app.pendingForms.take(req, reply);
    if (kept) return render(req, reply, { values: typedValues(kept), raw: kept, restored: true });
    return render(req, reply, { values: await loadProfile(ctx, req.user!.id) });
  });

  app.post('/me/profile', { ...opts, config: { pendingForm: () => '/me/profile' } }, async (req, reply) => {
    const body = (req.body ?? {}) as Body;
    // 搜索 buttons (unit, 所学专业, 现从事专业) post the whole form: re-render with everything kept.
    const field = typeof body._search === 'string' ? body._search : '';
    if (field) {
      return render(req, reply, { values: typedValues(body), raw: body, search: field === 'unit' || field === 'employer' ? undefined : { field, q: String(body[`${field}_q`] ?? '') } });
    }
    const r = await saveProfile(ctx, req.user!.id, body);
    if (!r.ok) return render(req, reply, { values: r.values, errors: r.errors, raw: body });
    return reply.flashRedirect('/me/profile', '基本信息已保存');
  });
}

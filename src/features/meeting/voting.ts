import type { AppContext } from '../../context.js';
import type { DB } from '../../db/index.js';
import { writeTx } from '../../db/index.js';
import { isValidDate } from '../../domain/workdays.js';
import { ballotRefusal, CHOICES, decide, ruleOf, type Choice, type Decision } from '../../domain/meeting.js';
import { hashPassword } from '../../lib/passwords.js';
import type { CurrentUser } from '../../plugins/auth.js';
import { audit } from '../audit/service.js';
import { generatePassword } from '../admin/users.js';
import { USERNAME_MESSAGE, USERNAME_RE } from '../units/service.js';
import { parseCover } from '../declaration/service.js';
import { getEvaluation, planInScope, type Staff } from '../results/service.js';

/**
 * 评委在线表决 (issue #16). Secret ballot: a vote is two writes in one transaction, a round_voted
 * row (member, declaration: that they voted, refusing a second vote by its key) and +1 on the
 * round's anonymous tally (declaration: counters only). Nothing joins a member to a choice. The
 * office sees the tallies only once the round is closed (while it is open, counts that move after
 * a member's vote would tell), and the result is computed by src/domain/meeting.ts decide().
 */

export const MEMBER_ROLE = 'member';
export const isMember = (u: Pick<CurrentUser, 'roles'>) => u.roles.includes(MEMBER_ROLE);

const int = (s: unknown) => (typeof s === 'string' && /^\d{1,9}$/.test(s.trim()) ? Number(s.trim()) : NaN);
const now = (ctx: AppContext) => ctx.config.now().toISOString();

export async function createOnlineMeeting(ctx: AppContext, u: Staff, b: { plan_id?: string; meeting_date?: string }): Promise<{ ok: true; id: number } | { ok: false; errors: Record<string, string> }> {
  const errors: Record<string, string> = {};
  const plan = await planInScope(ctx, u, int(b.plan_id));
  if (!plan) errors.plan_id = '请选择评审计划';
  const date = (b.meeting_date ?? '').trim();
  if (!isValidDate(date)) errors.meeting_date = '请填写评审时间（年-月-日）';
  if (Object.keys(errors).length) return { ok: false, errors };
  const row = await ctx.db
    .insertInto('evaluations')
    .values({ plan_id: plan!.id, meeting_date: date, members_expected: 0, members_present: 0, mode: 'online', created_by: u.id, created_at: now(ctx) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await audit(ctx, null, { action: 'evaluation_create', objectType: 'evaluation', objectId: row.id, detail: `在线表决会议，评审计划 ${plan!.id}`, actor: u });
  return { ok: true, id: row.id };
}

export const membersOf = (db: DB, evaluationId: number) =>
  db
    .selectFrom('evaluation_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .innerJoin('eval_groups as g', 'g.id', 'm.group_id')
    .select(['m.id', 'm.user_id', 'm.group_id', 'u.name', 'u.username', 'u.totp_enabled', 'g.name as group_name'])
    .where('m.evaluation_id', '=', evaluationId)
    .orderBy('m.group_id')
    .orderBy('m.id')
    .execute();

/**
 * 登记评委: an existing 评委 account of the committee (by 用户名), or a new one (用户名 + 姓名; an
 * initial password shown once, changed at first sign-in; 2FA enrolment is then required).
 */
export async function registerMember(
  ctx: AppContext, u: Staff, evaluationId: number, b: { username?: string; name?: string; group_id?: string },
): Promise<{ ok: true; password: string | null; name: string } | { ok: false; errors: Record<string, string>; notFound?: boolean }> {
  const x = await getEvaluation(ctx, u, evaluationId);
  if (!x || x.e.mode !== 'online') return { ok: false, errors: {}, notFound: true };
  const errors: Record<string, string> = {};
  if (x.e.confirmed_at) errors.username = '评审结果已确认，不能再登记评委';
  const username = (b.username ?? '').trim();
  const name = (b.name ?? '').trim();
  const group = await ctx.db.selectFrom('eval_groups').select(['id', 'name']).where('id', '=', int(b.group_id)).where('plan_id', '=', x.plan.id).executeTakeFirst();
  if (!group) errors.group_id = '请选择所在学科组';
  let existing: { id: number; name: string; roles: string | null; org_id: number | null } | undefined;
  if (!username) errors.username = '请填写用户名';
  else if (!USERNAME_RE.test(username)) errors.username = USERNAME_MESSAGE;
  else {
    existing = await ctx.db.selectFrom('users').select(['id', 'name', 'roles', 'org_id']).where('username', '=', username).executeTakeFirst();
    if (existing && (existing.org_id !== x.plan.committee_org_id || !(existing.roles ?? '').split(',').includes(MEMBER_ROLE))) errors.username = '该用户名已被使用，且不是本评委会的评委账号';
    else if (existing && (await ctx.db.selectFrom('evaluation_members').select('id').where('evaluation_id', '=', evaluationId).where('user_id', '=', existing.id).executeTakeFirst())) errors.username = '该评委已登记参加本次会议';
  }
  if (!existing && !name) errors.name = '请填写评委姓名';
  else if ([...name].length > 50) errors.name = '姓名不能超过50个字';
  if (Object.keys(errors).length) return { ok: false, errors };
  const stamp = now(ctx);
  const password = existing ? null : generatePassword();
  const hash = password ? await hashPassword(password) : null;
  return writeTx(ctx.db, async (trx) => {
    let userId = existing?.id;
    if (!userId) {
      const row = await trx
        .insertInto('users')
        .values({ kind: 'staff', username, name, org_id: x.plan.committee_org_id, roles: MEMBER_ROLE, password_hash: hash!, must_change_password: 1, created_at: stamp, updated_at: stamp })
        .returning('id')
        .executeTakeFirstOrThrow();
      userId = row.id;
      await audit(ctx, null, { action: 'user_create', objectType: 'user', objectId: userId, detail: `评委会办公室新增评委账号，用户名 ${username}`, actor: u }, trx);
    }
    await trx.insertInto('evaluation_members').values({ evaluation_id: evaluationId, user_id: userId, group_id: group!.id, created_at: stamp }).execute();
    const n = (await trx.selectFrom('evaluation_members').select((eb) => eb.fn.countAll<number>().as('n')).where('evaluation_id', '=', evaluationId).executeTakeFirstOrThrow()).n;
    await trx.updateTable('evaluations').set({ members_expected: Number(n) }).where('id', '=', evaluationId).execute();
    await audit(ctx, null, { action: 'meeting_member', objectType: 'evaluation', objectId: evaluationId, detail: `登记评委 ${existing?.name ?? name}（${group!.name}）`, actor: u }, trx);
    return { ok: true as const, password, name: existing?.name ?? name };
  });
}

export const roundsOf = (db: DB, evaluationId: number) => db.selectFrom('evaluation_rounds').selectAll().where('evaluation_id', '=', evaluationId).orderBy('no').execute();

/**
 * Opens round 1 (every declaration placed in a group that has members) or a 复议 round for the
 * named declarations (each voted in an earlier round and not yet confirmed).
 */
export async function openRound(ctx: AppContext, u: Staff, evaluationId: number, declIds: number[] | null): Promise<{ ok: true; no: number; count: number } | { ok: false; error: string; notFound?: boolean }> {
  const x = await getEvaluation(ctx, u, evaluationId);
  if (!x || x.e.mode !== 'online') return { ok: false, error: '评审会议不存在', notFound: true };
  if (x.e.confirmed_at) return { ok: false, error: '评审结果已确认，不能再开始表决' };
  return writeTx(ctx.db, async (trx) => {
    const rounds = await roundsOf(trx, evaluationId);
    if (rounds.some((r) => !r.closed_at)) return { ok: false as const, error: '上一轮表决尚未结束' };
    let ids: number[];
    if (!rounds.length) {
      const rows = await trx
        .selectFrom('eval_group_decls as a')
        .innerJoin('declarations as d', 'd.id', 'a.declaration_id')
        .select('d.id')
        .where('d.plan_id', '=', x.plan.id)
        .where('d.status', '=', 'approved')
        .where('a.group_id', 'in', trx.selectFrom('evaluation_members').select('group_id').where('evaluation_id', '=', evaluationId))
        .orderBy('d.id')
        .execute();
      ids = rows.map((r) => r.id);
      if (!ids.length) return { ok: false as const, error: '没有可表决的申报：请先分组并为学科组登记评委' };
    } else {
      const wanted = [...new Set((declIds ?? []).filter((n) => Number.isSafeInteger(n)))];
      if (!wanted.length) return { ok: false as const, error: '请选择需要复议的申报' };
      const voted = await trx
        .selectFrom('round_tallies as t')
        .innerJoin('evaluation_rounds as r', 'r.id', 't.round_id')
        .innerJoin('declarations as d', 'd.id', 't.declaration_id')
        .select('t.declaration_id')
        .distinct()
        .where('r.evaluation_id', '=', evaluationId)
        .where('d.status', '=', 'approved')
        .where('t.declaration_id', 'in', wanted)
        .execute();
      if (voted.length !== wanted.length) return { ok: false as const, error: '只能对本次会议已表决、尚未确认结果的申报进行复议' };
      ids = wanted.sort((a, b) => a - b);
    }
    const no = rounds.length + 1;
    const round = await trx
      .insertInto('evaluation_rounds')
      .values({ evaluation_id: evaluationId, no, kind: no === 1 ? 'first' : 'reconsider', opened_by: u.id, opened_at: now(ctx) })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.insertInto('round_tallies').values(ids.map((id) => ({ round_id: round.id, declaration_id: id }))).execute();
    await audit(ctx, null, { action: 'meeting_round_open', objectType: 'evaluation', objectId: evaluationId, detail: `第${no}轮${no === 1 ? '表决' : '复议'}开始：${ids.length}份申报${no > 1 ? `（${ids.join('、')}）` : ''}`, actor: u }, trx);
    return { ok: true as const, no, count: ids.length };
  });
}

export interface TallyRow {
  declaration_id: number;
  agree: number;
  disagree: number;
  abstain: number;
  decision: Decision;
  reason: string;
}

async function talliesOf(db: DB, roundId: number, rule: ReturnType<typeof ruleOf>): Promise<TallyRow[]> {
  const rows = await db.selectFrom('round_tallies').select(['declaration_id', 'agree', 'disagree', 'abstain']).where('round_id', '=', roundId).orderBy('declaration_id').execute();
  return rows.map((r) => ({ ...r, ...(({ result, reason }) => ({ decision: result, reason }))(decide(r, rule)) }));
}

const planRule = async (db: DB, planId: number) => ruleOf(await db.selectFrom('plans').select(['pass_ratio', 'reject_ratio', 'min_members']).where('id', '=', planId).executeTakeFirstOrThrow());

/**
 * 结束本轮: the round closes; each declaration's decision is computed from its tally. Passed and
 * failed become the meeting's evaluation_votes rows (the latest round decides, so a 复议 replaces
 * the earlier result); invalid or undecided ones have none until a 复议 decides them.
 */
export async function closeRound(ctx: AppContext, u: Staff, evaluationId: number): Promise<{ ok: true; no: number; rows: TallyRow[] } | { ok: false; error: string; notFound?: boolean }> {
  const x = await getEvaluation(ctx, u, evaluationId);
  if (!x || x.e.mode !== 'online') return { ok: false, error: '评审会议不存在', notFound: true };
  const rule = await planRule(ctx.db, x.plan.id);
  return writeTx(ctx.db, async (trx) => {
    const round = (await roundsOf(trx, evaluationId)).find((r) => !r.closed_at);
    if (!round) return { ok: false as const, error: '当前没有进行中的表决' };
    await trx.updateTable('evaluation_rounds').set({ closed_at: now(ctx) }).where('id', '=', round.id).execute();
    const rows = await talliesOf(trx, round.id, rule);
    for (const r of rows) {
      if (r.decision === 'passed' || r.decision === 'failed') {
        const values = { agree: r.agree, disagree: r.disagree, abstain: r.abstain, result: r.decision };
        await trx
          .insertInto('evaluation_votes')
          .values({ evaluation_id: evaluationId, declaration_id: r.declaration_id, ...values })
          .onConflict((oc) => oc.columns(['evaluation_id', 'declaration_id']).doUpdateSet(values))
          .execute();
      } else {
        await trx.deleteFrom('evaluation_votes').where('evaluation_id', '=', evaluationId).where('declaration_id', '=', r.declaration_id).execute();
      }
    }
    // 实到: the members who voted in any round of this meeting.
    const present = await trx
      .selectFrom('round_voted as v')
      .innerJoin('evaluation_rounds as r', 'r.id', 'v.round_id')
      .select((eb) => eb.fn.count<number>('v.member_id').distinct().as('n'))
      .where('r.evaluation_id', '=', evaluationId)
      .executeTakeFirstOrThrow();
    await trx.updateTable('evaluations').set({ members_present: Number(present.n) }).where('id', '=', evaluationId).execute();
    const summary = rows.map((r) => `${r.declaration_id}:${r.decision}`).join('，');
    await audit(ctx, null, { action: 'meeting_round_close', objectType: 'evaluation', objectId: evaluationId, detail: `第${round.no}轮结束：${summary}`, actor: u }, trx);
    return { ok: true as const, no: round.no, rows };
  });
}

/** The office's view of an online meeting: members (and how many they voted on, never how), rounds, closed tallies. */
export async function officeView(ctx: AppContext, evaluationId: number, planId: number) {
  const rule = await planRule(ctx.db, planId);
  const members = await membersOf(ctx.db, evaluationId);
  const rounds = await roundsOf(ctx.db, evaluationId);
  const names = new Map(
    (
      await ctx.db
        .selectFrom('declarations as d')
        .innerJoin('users as u', 'u.id', 'd.user_id')
        .leftJoin('orgs as o', 'o.id', 'u.unit_org_id')
        .leftJoin('eval_group_decls as a', 'a.declaration_id', 'd.id')
        .leftJoin('eval_groups as g', 'g.id', 'a.group_id')
        .select(['d.id', 'd.status', 'd.cover', 'u.name', 'o.name as unit_name', 'g.name as group_name', 'a.recommendation'])
        .where('d.plan_id', '=', planId)
        .execute()
    ).map((r) => [r.id, { ...r, cover: parseCover(r) }]),
  );
  const out = [];
  for (const r of rounds) {
    const voted = await ctx.db.selectFrom('round_voted').select(['member_id']).select((eb) => eb.fn.countAll<number>().as('n')).where('round_id', '=', r.id).groupBy('member_id').execute();
    const byMember = new Map(voted.map((v) => [v.member_id, Number(v.n)]));
    const items = r.closed_at
      ? (await talliesOf(ctx.db, r.id, rule)).map((t) => ({ ...t, d: names.get(t.declaration_id) }))
      : (await ctx.db.selectFrom('round_tallies').select('declaration_id').where('round_id', '=', r.id).orderBy('declaration_id').execute()).map((t) => ({ declaration_id: t.declaration_id, d: names.get(t.declaration_id) }));
    out.push({ ...r, items, voters: members.map((m) => ({ name: m.name, group_name: m.group_name, n: byMember.get(m.id) ?? 0 })) });
  }
  return { rule, members, rounds: out, open: out.find((r) => !r.closed_at) ?? null };
}

// ---------------------------------------------------------------------------------------
// The member's side

/** The meetings a member is registered for, newest first, with the open round if any. */
export async function memberMeetings(db: DB, userId: number) {
  return db
    .selectFrom('evaluation_members as m')
    .innerJoin('evaluations as e', 'e.id', 'm.evaluation_id')
    .innerJoin('plans as p', 'p.id', 'e.plan_id')
    .innerJoin('eval_groups as g', 'g.id', 'm.group_id')
    .select(['e.id', 'e.meeting_date', 'e.confirmed_at', 'p.name as plan_name', 'g.name as group_name'])
    .select((eb) => eb.selectFrom('evaluation_rounds as r').whereRef('r.evaluation_id', '=', 'e.id').where('r.closed_at', 'is', null).select('r.no').limit(1).as('open_no'))
    .where('m.user_id', '=', userId)
    .orderBy('e.id', 'desc')
    .execute();
}

/** The member's ballot page: their group's declarations of the open round, marked voted or not. */
export async function ballot(ctx: AppContext, userId: number, evaluationId: number) {
  if (!Number.isSafeInteger(evaluationId)) return undefined;
  const m = await ctx.db
    .selectFrom('evaluation_members as m')
    .innerJoin('evaluations as e', 'e.id', 'm.evaluation_id')
    .innerJoin('plans as p', 'p.id', 'e.plan_id')
    .innerJoin('eval_groups as g', 'g.id', 'm.group_id')
    .select(['m.id', 'm.group_id', 'e.id as evaluation_id', 'e.plan_id', 'e.meeting_date', 'p.name as plan_name', 'g.name as group_name'])
    .where('m.user_id', '=', userId)
    .where('m.evaluation_id', '=', evaluationId)
    .executeTakeFirst();
  if (!m) return undefined;
  const round = await ctx.db.selectFrom('evaluation_rounds').selectAll().where('evaluation_id', '=', evaluationId).where('closed_at', 'is', null).executeTakeFirst();
  const rows = round
    ? await ctx.db
        .selectFrom('round_tallies as t')
        .innerJoin('eval_group_decls as a', 'a.declaration_id', 't.declaration_id')
        .innerJoin('declarations as d', 'd.id', 't.declaration_id')
        .innerJoin('users as u', 'u.id', 'd.user_id')
        .leftJoin('orgs as o', 'o.id', 'u.unit_org_id')
        .leftJoin('round_voted as v', (j) => j.onRef('v.declaration_id', '=', 't.declaration_id').on('v.round_id', '=', round.id).on('v.member_id', '=', m.id))
        .select(['d.id', 'd.cover', 'u.name', 'o.name as unit_name', 'a.recommendation', 'v.member_id as voted'])
        .where('t.round_id', '=', round.id)
        .where('a.group_id', '=', m.group_id)
        .orderBy('d.id')
        .execute()
    : [];
  return { m, round, rows: rows.map((r) => ({ ...r, cover: parseCover(r), voted: r.voted !== null })) };
}

/** Whether the member may read this declaration (it is in their group for this meeting). */
export async function memberMayRead(db: DB, userId: number, evaluationId: number, declId: number): Promise<boolean> {
  if (!Number.isSafeInteger(evaluationId) || !Number.isSafeInteger(declId)) return false;
  const row = await db
    .selectFrom('evaluation_members as m')
    .innerJoin('evaluations as e', 'e.id', 'm.evaluation_id')
    .innerJoin('eval_group_decls as a', 'a.group_id', 'm.group_id')
    .innerJoin('declarations as d', (j) => j.onRef('d.id', '=', 'a.declaration_id').onRef('d.plan_id', '=', 'e.plan_id'))
    .select('d.id')
    .where('m.user_id', '=', userId)
    .where('m.evaluation_id', '=', evaluationId)
    .where('d.id', '=', declId)
    .executeTakeFirst();
  return !!row;
}

/**
 * Casts the member's ballots (fields choice_<declarationId> = agree|disagree|abstain; rows left
 * blank are skipped). Every ballot is checked first; nothing is saved when one is refused.
 */
export async function castBallots(ctx: AppContext, user: CurrentUser, evaluationId: number, body: Record<string, unknown>, ip?: string): Promise<{ ok: true; cast: number } | { ok: false; error: string; notFound?: boolean }> {
  const b = await ballot(ctx, user.id, evaluationId);
  if (!b) return { ok: false, error: '评审会议不存在', notFound: true };
  const choices: { id: number; choice: string }[] = [];
  for (const [k, v] of Object.entries(body)) {
    const m = /^choice_(\d{1,9})$/.exec(k);
    const s = Array.isArray(v) ? v[v.length - 1] : v;
    if (m && typeof s === 'string' && s !== '') choices.push({ id: Number(m[1]), choice: s });
  }
  if (!choices.length) return { ok: false, error: '请至少对一份申报选择同意、不同意或弃权' };
  return writeTx(ctx.db, async (trx) => {
    // Re-read inside the transaction: the round may have closed, or the member voted in another tab.
    const round = await trx.selectFrom('evaluation_rounds').select(['id', 'no']).where('evaluation_id', '=', evaluationId).where('closed_at', 'is', null).executeTakeFirst();
    const inRound = round ? new Set((await trx.selectFrom('round_tallies').select('declaration_id').where('round_id', '=', round.id).execute()).map((r) => r.declaration_id)) : new Set<number>();
    const inGroup = new Set((await trx.selectFrom('eval_group_decls').select('declaration_id').where('group_id', '=', b.m.group_id).execute()).map((r) => r.declaration_id));
    const voted = round ? new Set((await trx.selectFrom('round_voted').select('declaration_id').where('round_id', '=', round.id).where('member_id', '=', b.m.id).execute()).map((r) => r.declaration_id)) : new Set<number>();
    for (const c of choices) {
      const refusal = ballotRefusal({ roundOpen: !!round, inRound: inRound.has(c.id), inGroup: inGroup.has(c.id), alreadyVoted: voted.has(c.id), choice: c.choice });
      if (refusal) {
        await audit(ctx, null, { action: 'meeting_vote', objectType: 'evaluation', objectId: evaluationId, result: 'fail', detail: `评委投票被拒绝：${refusal}（申报 ${c.id}）`, actor: user, ip }, trx);
        return { ok: false as const, error: refusal };
      }
    }
    for (const c of choices) {
      const col = c.choice as Choice;
      await trx.insertInto('round_voted').values({ round_id: round!.id, member_id: b.m.id, declaration_id: c.id }).execute();
      await trx
        .updateTable('round_tallies')
        .set((eb) => ({ [col]: eb(col, '+', 1) }) as never)
        .where('round_id', '=', round!.id)
        .where('declaration_id', '=', c.id)
        .execute();
    }
    // The audit proves that this member voted (once, on these declarations), never how.
    await audit(ctx, null, { action: 'meeting_vote', objectType: 'evaluation', objectId: evaluationId, detail: `评委在第${round!.no}轮投票：申报 ${choices.map((c) => c.id).sort((a, b) => a - b).join('、')}`, actor: user, ip }, trx);
    return { ok: true as const, cast: choices.length };
  });
}

export { CHOICES };

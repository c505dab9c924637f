import type { AppContext } from '../../context.js';
import { DECIDER_LABELS, REC_LEVEL_NAMES, proposeLevel, type DeciderKind } from '../../domain/recognition.js';
import { chinaDate } from '../../domain/plans.js';
import { identityOf } from '../profile/service.js';
import { displayVerifyCode } from '../results/service.js';
import type { RecognitionFormModel } from '../../print/recognitionForm.js';
import { factsOf, kindOf, STATUS_TEXT, valuesOf, type RecRow } from './service.js';

/** The 初定表/认定表 view model of a recognition (src/print/recognitionForm.ts). */
export async function formModel(ctx: AppContext, r: RecRow): Promise<RecognitionFormModel> {
  const ident = await identityOf(ctx, r.user_id);
  const rows = await ctx.db.selectFrom('section_rows').select('data').where('user_id', '=', r.user_id).where('section', '=', 'educations').execute();
  const edu = rows.map((x) => JSON.parse(x.data) as Record<string, string>).find((d) => d.education === r.education) ?? {};
  const kind = kindOf(r);
  const asOf = r.submitted_at ? r.submitted_at.slice(0, 10) : r.updated_at.slice(0, 10);
  return {
    heading: `专业技术资格${kind}表`, kind, name: r.name, gender: ident.gender, birth: ident.birth, idNumber: r.id_masked ?? '',
    unit: r.unit_name, education: r.education ?? '', degree: r.degree ?? '', school: edu.school ?? '', major: edu.major ?? '', hiredOn: r.hired_on,
    levelName: REC_LEVEL_NAMES[r.level], titleName: r.title_name, specialty: r.specialty, office: r.office_name,
    officeKind: DECIDER_LABELS[r.decider_kind as DeciderKind] ?? '', lines: proposeLevel(factsOf(r, valuesOf(r)), asOf).lines,
    operator: r.operator_name ? `${r.operator_name}（${r.operator_phone ?? ''}）` : '', status: STATUS_TEXT[r.status] ?? r.status,
    certNumber: r.cert_number ?? '', decidedAt: r.status === 'approved' && r.decided_at ? chinaDate(new Date(r.decided_at)) : '',
    preview: r.status !== 'approved', codeDisplay: displayVerifyCode(r.verify_code), verifyUrl: `${ctx.config.publicUrl}/verify-cert/${r.verify_code}`,
  };
}
